#!/usr/bin/env bash
# What do raw sys_enter/sys_exit programs that do nothing cost nginx under wrk? The floor under
# bench/probe-overhead.py's syscalls family. Alternates PAIRS pairs of wrk -t1 -c50 -d4s without and
# with the empty programs attached, and prints each pair's ratio.
#   bench/syscall-tracepoint-floor.sh [PAIRS=3]      (as root; `make bench` installs wrk and nginx)
set -euo pipefail
export PATH="$PATH:/opt/swift/usr/bin:/usr/sbin"  # clang from the Swift toolchain, nginx
cd "$(dirname "$0")"
pairs=${1:-3}
work=$(mktemp -d)
trap 'nginx -s quit -c "$PWD/nginx.conf" -p /tmp 2>/dev/null || true; rm -rf "$work"' EXIT
clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -idirafter /usr/include -c floor/empty.bpf.c -o "$work/empty.o"
cc -O2 floor/attach.c -o "$work/attach" -lbpf
nginx -c "$PWD/nginx.conf" -p /tmp &
sleep 0.7
rps() { taskset -c 1 wrk -t1 -c50 -d4s http://127.0.0.1:18080/ | sed -n 's/Requests\/sec: *//p'; }
for i in $(seq "$pairs"); do
	without=$(rps)
	"$work/attach" "$work/empty.o" 6 >/dev/null &
	holder=$!
	sleep 0.5
	with=$(rps)
	wait "$holder"
	echo "pair $i: without $without req/s, with empty syscall programs $with req/s, ratio $(awk -v a="$with" -v b="$without" 'BEGIN { printf "%.3f", a / b }')"
done

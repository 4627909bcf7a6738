#!/bin/sh
# The main job on the embedded default, until `archbench run` lands: each reference backend
# (archbench serve) under archbench load, watched by archbench probe, one after the other.
#   usage: scripts/demo.sh [ARCHBENCH] [SECONDS]
set -eu
archbench=${1:-.build/release/archbench}
seconds=${2:-5}
stop() { [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; }
trap stop EXIT INT TERM

for architecture in monolith microservices; do
	port=$((18090 + $(printf %s "$architecture" | wc -c)))
	echo "== $architecture on 127.0.0.1:$port =="
	if [ "$architecture" = microservices ]; then
		"$archbench" serve microservices --port "$port" --ws-port $((port + 1)) &
	else
		"$archbench" serve monolith --port "$port" &
	fi
	server=$!
	for _ in $(seq 100); do
		"$archbench" load "http://127.0.0.1:$port/health" -t1 -c1 --requests 1 >/dev/null 2>&1 && break
		sleep 0.1
	done
	"$archbench" probe --syscalls --port "$architecture=$port" --duration $((seconds + 2)) >"/tmp/archbench-demo-probe-$architecture.txt" &
	probe=$!
	sleep 1
	"$archbench" load "http://127.0.0.1:$port/api/users" -t2 -c20 -d"${seconds}s" \
		--endpoint "4 GET /api/users" --endpoint "2 GET /api/items?limit=20" \
		--endpoint '1 POST /api/orders {"user_id":1,"item_id":2,"quantity":1}' -H "Content-Type: application/json"
	wait "$probe"
	head -40 "/tmp/archbench-demo-probe-$architecture.txt"
	stop
	server=
	echo
done

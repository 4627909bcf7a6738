#!/usr/bin/env bash
# Throughput of the reference backends (archbench serve) under archbench load and under wrk,
# alternately, one architecture at a time:
#   scripts/bench-backends.sh [DURATION_S] [CONNECTIONS]
# Builds nothing: run `swift build -c release` first. Uses ports 28390-28392 on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-5}
connections=${2:-50}
bin=.build/release/archbench
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 3; }

run() { # NAME PORT SERVE-ARGS...
	local name=$1 port=$2
	shift 2
	"$bin" serve "$@" 2>"/tmp/bench-backends-$name.err" &
	local pid=$!
	for _ in $(seq 100); do grep -q "$name listening on" "/tmp/bench-backends-$name.err" 2>/dev/null && break; sleep 0.1; done
	for path in /health /api/users /api/users/7 "/api/items?limit=20"; do
		printf '%-14s %-22s ' "$name" "$path"
		"$bin" load -t1 -c"$connections" -d"${duration}s" --json "http://127.0.0.1:$port$path" \
			| python3 -c 'import json,sys; r=json.load(sys.stdin); print("archbench %10.0f req/s  p50 %8.1f us  errors %d" % (r["requests_per_s"], r["latency_us"]["p50"], sum(r["errors"].values())), end="  |  ")'
		wrk -t1 -c"$connections" -d"${duration}s" "http://127.0.0.1:$port$path" \
			| awk '/Requests\/sec/ {rps=$2} /^    Latency/ {lat=$2} /Non-2xx/ {bad=$NF} END {printf "wrk %10s req/s  avg latency %s  non-2xx %s\n", rps, lat, bad+0}'
	done
	kill -TERM "$pid"
	wait "$pid"
}

echo "archbench load and wrk, -t1 -c$connections -d${duration}s, $(nproc) cores, $(uname -r)"
run monolith 28390 monolith --port 28390
run microservices 28391 microservices --port 28391 --ws-port 28392

#!/bin/bash
# Runs `make test` N times in a row (default 10) on one fresh clone of this repository, while a
# spinner keeps one CPU busy: the check that the tests' timing bounds hold on a loaded machine.
# Prints one line per run (exit status, seconds, the test totals) and the first failures; each
# run's log is kept in the scratch directory. Bounded: the spinner ends with the script or after
# the longest the runs may take.
#   scripts/loaded-test-runs.sh [N] [SCRATCH_DIR]
# LOAD='COMMAND' makes the load a command of one's own (run by sh, pinned to CPU 1, its output in
# SCRATCH_DIR/load.log), the spinner taking over when it ends: e.g. long fuzzing runs.
set -u
runs=${1:-10}
scratch=${2:-/tmp/archbench-loaded-runs}
source_repo=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$scratch" && mkdir -p "$scratch" || exit 1
git clone -q "$source_repo" "$scratch/clone" || exit 1
cd "$scratch/clone" || exit 1
echo "commit $(git log --oneline -1)"
echo "load on CPU 1: ${LOAD:-a shell spinning}"
# A process group of its own (setsid), so that the whole load ends with the script.
setsid timeout $((runs * 3600)) taskset -c 1 sh -c "${LOAD:-:}; while :; do :; done" > "$scratch/load.log" 2>&1 &
spinner=$!
trap 'kill -- -$spinner 2>/dev/null; kill $spinner 2>/dev/null' EXIT
failed=0
for run in $(seq 1 "$runs"); do
	start=$(date +%s)
	make test > "$scratch/run-$run.log" 2>&1
	status=$?
	echo "run $run: exit $status, $(( $(date +%s) - start )) s, $(grep -E 'Executed [0-9]+ tests' "$scratch/run-$run.log" | tail -1 | sed 's/^[[:space:]]*//')"
	grep -E "error: " "$scratch/run-$run.log" | sort -u | head -5
	[ "$status" -eq 0 ] || failed=$((failed + 1))
done
echo "$failed of $runs runs failed"
[ "$failed" -eq 0 ]

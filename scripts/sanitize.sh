#!/bin/sh
# Builds the package and its tests with AddressSanitizer (Swift and C) and UndefinedBehaviorSanitizer
# (C only: swiftc has no -sanitize=undefined on Linux) into .build-asan/, then runs the load
# generator's tests there: LoadTests drive CLoadGen (epoll workers, the HTTP and WebSocket parsers,
# histograms, windows) against ab-testserver, itself built with both sanitizers.
#
#   scripts/sanitize.sh [FILTER]      (make sanitize; FILTER as for swift test --filter, default LoadTests)
#
# Exit 0 when the tests pass with no AddressSanitizer or UBSan report (undefined behaviour aborts:
# -fno-sanitize-recover) and no leak whose allocation runs through archbench's own code (CSources/,
# Sources/). At exit LeakSanitizer also lists what XCTest, Foundation and the test fixtures
# (Tests/TestSupport: Process, Pipe and their handlers) still hold; those are counted, not failed.
# Exit 1 otherwise, naming the log; 3 when the build fails.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCRATCH="$ROOT/.build-asan"
FILTER=${1:-LoadTests}
PATH="$PATH:/opt/swift/usr/bin"
SWIFT=${SWIFT:-swift}

set -- --sanitize=address -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined --scratch-path "$SCRATCH"
cd "$ROOT"
echo "== $SWIFT build --build-tests $*"
if ! "$SWIFT" build --build-tests "$@"; then
	echo "sanitize.sh: the sanitized build failed" >&2
	exit 3
fi

log="$SCRATCH/sanitize-tests.log"
echo "== $SWIFT test --skip-build $* --disable-swift-testing --filter $FILTER  (log: $log)"
rc=0
# The Swift runtime's crash backtracer reads memory AddressSanitizer reports as a wild access.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 SWIFT_BACKTRACE=enable=no \
	"$SWIFT" test --skip-build "$@" --disable-swift-testing --filter "$FILTER" >"$log" 2>&1 || rc=$?

grep -E "^Test Suite 'Selected tests' (passed|failed)|^	 Executed [0-9]+ tests" "$log" | tail -n 2 || true
failed=""
grep -q "^Test Suite 'Selected tests' passed" "$log" || failed="$failed tests-did-not-pass(exit-$rc)"
grep -q "ERROR: AddressSanitizer" "$log" && failed="$failed AddressSanitizer"
grep -q "runtime error:" "$log" && failed="$failed UndefinedBehaviorSanitizer"

# A leak report is its header line and the allocation stack below it; ours if a frame is in
# archbench's sources rather than in Tests/ or a library.
leaks=$(grep -cE "^(Direct|Indirect) leak of" "$log" || true)
ours=$(awk -v root="$ROOT" '
	/^(Direct|Indirect) leak of/ { if (inside && mine) n++; inside = 1; mine = 0; next }
	inside && /^ *#[0-9]+ / && (index($0, root "/CSources/") || index($0, root "/Sources/")) { mine = 1 }
	inside && !/^ *#[0-9]+ / && !/^$/ { if (mine) n++; inside = 0; mine = 0 }
	END { if (inside && mine) n++; print n + 0 }' "$log")
echo "== leaks at exit: $leaks reports, $ours through archbench's code"
[ "$ours" -eq 0 ] || failed="$failed leaks-in-archbench-code"

if [ -n "$failed" ]; then
	grep -B2 -A20 -E "ERROR: AddressSanitizer|runtime error:|error: |failed \(" "$log" | head -n 80 || true
	echo "== sanitize: FAILED:$failed; log $log"
	exit 1
fi
echo "== sanitize: clean ($FILTER)"

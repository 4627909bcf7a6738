#!/usr/bin/env bash
# How long does the suite's analysis take over a large recording? Builds ab-analysis-bench in release,
# which generates EVENTS kernel events (default 10 million: 90% off-CPU intervals, 10% RSS points,
# 20 rounds of 30 s of two architectures, 300 planted stop-the-world pauses, a leak, 3000 slow
# requests a round), times each phase of the analysis SuiteRunner runs on it (pauses, root causes
# and correlations, GC impact, leaks, significance), and checks the answers it finds are the planted
# ones. Exit 0 under 10 s with every check passed; 1 over 10 s, or a check failed.
#   bench/analysis-speed.sh [EVENTS=10000000] [SEED=1]      (no root needed)
# Builds into .build like the other bench scripts (`swift build -c release`); SCRATCH=DIR builds elsewhere.
set -euo pipefail
export PATH="$PATH:/opt/swift/usr/bin"
cd "$(dirname "$0")/.."
events=${1:-10000000}
seed=${2:-1}
scratch=${SCRATCH:-.build}
swift build -c release --scratch-path "$scratch" --product ab-analysis-bench >/dev/null
"$scratch/release/ab-analysis-bench" --events "$events" --seed "$seed"

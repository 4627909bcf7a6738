# The README's two commands: `make run` and `make test`. Each installs what is missing, then builds.
export PATH := $(PATH):/opt/swift/usr/bin:/usr/sbin:/sbin

SWIFT ?= swift
RELEASE_BIN := .build/release

.PHONY: run test setup build build-release bench fuzz sanitize clean

# The main job on the embedded default. Exit 1 is a finished run whose gate failed (the embedded
# microservices may well be slower than the monolith: a finding, not a failure); other codes fail.
run: build-release
	@$(RELEASE_BIN)/archbench run; status=$$?; [ $$status -le 1 ] || exit $$status

# The tests, then every fuzz target for TEST_FUZZ_SECONDS each (its committed corpus replayed first)
# and the sanitizer build's run of the C targets' tests: CI runs all three (docs/testing.md).
TEST_FUZZ_SECONDS ?= 15
test:
	@ARCHBENCH_TEST=1 sh scripts/setup.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing
	sh scripts/fuzz.sh $(TEST_FUZZ_SECONDS)
	sh scripts/sanitize.sh $(SANITIZE_FILTER)

setup:
	@sh scripts/setup.sh

build: setup
	$(SWIFT) build

build-release: setup
	$(SWIFT) build -c release

# The benchmarks against the reference tools (wrk, nginx): slow, not part of `make test`.
bench:
	@ARCHBENCH_BENCH=1 sh scripts/setup.sh
	$(SWIFT) build -c release
	python3 bench/load-vs-wrk.py 3

# libFuzzer on the load generator's parsers and the config reader, FUZZ_SECONDS per target (default
# 60): scripts/fuzz.sh, docs/testing.md. Exit 1 on a crash, naming its input.
fuzz:
	sh scripts/fuzz.sh $(FUZZ_SECONDS)

# The package and tests built with AddressSanitizer and UBSan in .build-asan, then LoadTests there
# (SANITIZE_FILTER to run others): scripts/sanitize.sh, docs/testing.md.
sanitize: setup
	sh scripts/sanitize.sh $(SANITIZE_FILTER)

clean:
	rm -rf .build

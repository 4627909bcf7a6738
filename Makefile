# The README's two commands: `make run` and `make test`. Each installs what is missing, then builds.
export PATH := $(PATH):/opt/swift/usr/bin:/usr/sbin:/sbin

SWIFT ?= swift
RELEASE_BIN := .build/release

.PHONY: run test setup build build-release bench clean

# The main job on the embedded default. Exit 1 is a finished run whose gate failed (the embedded
# microservices may well be slower than the monolith: a finding, not a failure); other codes fail.
run: build-release
	@$(RELEASE_BIN)/archbench run; status=$$?; [ $$status -le 1 ] || exit $$status

test:
	@ARCHBENCH_TEST=1 sh scripts/setup.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing

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

clean:
	rm -rf .build

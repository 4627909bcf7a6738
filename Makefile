# The README's two commands: `make run` and `make test`. Each installs what is missing, then builds.
export PATH := $(PATH):/opt/swift/usr/bin:/usr/sbin:/sbin

SWIFT ?= swift
RELEASE_BIN := .build/release

.PHONY: run test setup build build-release bench clean

run: build-release
	@# The embedded default until `archbench run` lands: each reference backend under load, probed.
	sh scripts/demo.sh $(RELEASE_BIN)/archbench 5

test: setup
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

#!/bin/sh
# Prints the path of the JUnit XML schema the tests validate archbench's junit_*.xml against: the
# Jenkins xunit-plugin's junit-10.xsd, as pytest's source distribution on PyPI carries it (pytest's
# own tests validate its --junitxml output with it). Downloaded once into $ARCHBENCH_CACHE (default
# /tmp/archbench-cache), checked by its SHA-256; no package installs the file itself.
set -eu
version=9.2.0
sha256=a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6
cache=${ARCHBENCH_CACHE:-/tmp/archbench-cache}
schema="$cache/junit-10-pytest-$version.xsd"
if [ ! -f "$schema" ] || ! echo "$sha256  $schema" | sha256sum -c --quiet >/dev/null 2>&1; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	python3 -m pip download --quiet --no-deps --no-binary :all: "pytest==$version" -d "$work" >&2
	tar -xzf "$work/pytest-$version.tar.gz" -C "$work" --strip-components=3 "pytest-$version/testing/example_scripts/junit-10.xsd"
	echo "$sha256  $work/junit-10.xsd" | sha256sum -c --quiet >&2
	mkdir -p "$cache"
	mv "$work/junit-10.xsd" "$schema"
fi
echo "$schema"

#!/bin/sh
# Installs the Debian packages archbench needs to build, test and benchmark, if any is missing.
# Needs root (apt-get); prints what is missing and exits 3 otherwise. Everything else (Swift
# packages, the BPF objects) is built by `swift build` itself.
set -eu
# libbpf-dev libelf-dev zlib1g-dev: the loader links libbpf; its headers also serve the BPF compile.
# libhttp-parser-dev libmd-dev: HTTP response parsing and SHA-1 for the load generator.
# bpftool: the tests check with it that no link is left behind. util-linux: setpriv, for the tests.
# libsqlite3-dev: the run history (GRDB links the system SQLite); sqlite3: the tests read it independently;
# libxml2-utils: xmllint, which the tests validate the JUnit XML with.
# libjs-chart.js: Chart.js, embedded in the HTML reports at build time; libcairo2-dev and
# fonts-dejavu-core: the latency heatmap PNG is drawn and lettered by cairo.
needed="libbpf-dev libelf-dev zlib1g-dev bpftool util-linux libhttp-parser-dev libmd-dev libsqlite3-dev sqlite3 libxml2-utils"
needed="$needed libjs-chart.js libcairo2-dev fonts-dejavu-core"
if [ "${ARCHBENCH_TEST:-0}" = 1 ]; then
	# The tests open the HTML reports in headless Chromium (driven by a python3 script) and decode
	# the PNG with ImageMagick.
	needed="$needed chromium imagemagick python3"
	# The fuzz target of the WebSocket handshake checks the accept value against OpenSSL's SHA-1.
	needed="$needed libssl-dev"
fi
if [ "${ARCHBENCH_BENCH:-0}" = 1 ]; then
	# The reference tools the bench/ scripts compare against.
	needed="$needed wrk nginx-light"
fi
missing=""
for package in $needed; do
	if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $package"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "archbench setup: missing Debian packages:$missing; install them as root (apt-get install$missing)" >&2
	exit 3
fi
echo "archbench setup: installing$missing" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null

#!/bin/sh
# Builds the libFuzzer targets in fuzz/ and runs each for a bounded time, one after the other.
#
#   scripts/fuzz.sh [SECONDS] [TARGET ...]      (make fuzz; FUZZ_SECONDS=N make fuzz)
#
# SECONDS per target (default 60); TARGET: http_response ws_frame ws_handshake config (default all).
# Everything goes under .build-fuzz/ (ignored by git): the binaries, and per target a fresh copy of
# fuzz/corpus/TARGET that libFuzzer grows, its log and any crash input. The committed corpus is
# never written. One libFuzzer process at a time, in-process (no -jobs/-workers).
#
# Prints the executions per target (libFuzzer's stat::number_of_executed_units). Exit 0 when no
# target crashed; 1 when one did, with the path of the input that crashed it (replay it with
# `.build-fuzz/bin/TARGET PATH`); 2 for a bad argument; 3 when a target cannot be built (no clang
# with libFuzzer, a missing Debian package, a compile error).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCRATCH="$ROOT/.build-fuzz"
SECONDS_PER_TARGET=${1:-60}
ALL_TARGETS="http_response ws_frame ws_handshake config"
[ $# -gt 0 ] && shift
TARGETS=${*:-$ALL_TARGETS}

case $SECONDS_PER_TARGET in
''|*[!0-9]*|0) echo "fuzz.sh: SECONDS must be a whole number > 0, got '$SECONDS_PER_TARGET'" >&2; exit 2 ;;
esac
for target in $TARGETS; do
	case " $ALL_TARGETS " in
	*" $target "*) ;;
	*) echo "fuzz.sh: unknown target '$target' (known: $ALL_TARGETS)" >&2; exit 2 ;;
	esac
done

# The Swift toolchain's clang has libFuzzer and the sanitizers' runtimes; Debian's clang may not.
PATH="$PATH:/opt/swift/usr/bin"
CLANG=${CLANG:-$(command -v /opt/swift/usr/bin/clang || command -v clang || true)}
SWIFTC=${SWIFTC:-$(command -v /opt/swift/usr/bin/swiftc || command -v swiftc || true)}
# lld, when there: the default gold linker warns about every ASan symbol it cannot export.
LLD=
[ -n "$CLANG" ] && [ -x "$(dirname "$CLANG")/ld.lld" ] && LLD=lld

CFLAGS="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1 -Wall -Wextra"
CLOADGEN="$ROOT/CSources/CLoadGen"

mkdir -p "$SCRATCH/bin"
if [ -z "$CLANG" ] || ! printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' |
	"$CLANG" ${LLD:+-fuse-ld=$LLD} -fsanitize=fuzzer -x c - -o "$SCRATCH/bin/probe" 2>"$SCRATCH/probe.log"; then
	echo "fuzz.sh: no clang that builds libFuzzer targets (tried ${CLANG:-none}); see $SCRATCH/probe.log" >&2
	exit 3
fi

# Debian packages the C targets build against: http-parser and libmd as the load generator does,
# and OpenSSL for ws_handshake's second SHA-1 (make's setup does not install it: only fuzzing needs it).
for header in http_parser.h sha1.h openssl/sha.h; do
	if [ ! -f "/usr/include/$header" ]; then
		echo "fuzz.sh: /usr/include/$header is missing: apt-get install libhttp-parser-dev libmd-dev libssl-dev" >&2
		exit 3
	fi
done

build_c() {	# target, then its sources and libraries
	target=$1
	shift
	(cd "$ROOT" && "$CLANG" ${LLD:+-fuse-ld=$LLD} $CFLAGS -I"$CLOADGEN" -I"$CLOADGEN/include" "$@" \
		-o "$SCRATCH/bin/$target")
}

# The config reader is Swift, in module Suite, whose dependencies reach libbpf, cairo and SQLite;
# SwiftPM builds a module with a fuzzer entry point only as a product of Package.swift. So swiftc
# builds here the modules the reader's two files import (ArchbenchCore, Recording, Analysis, Load
# and the C under them), each as it is in the package, and compiles those two files with the
# target (fuzz/config/FuzzConfig.swift) into one executable: the reader's internals, real.
CONFIG_MODULES="CCommon CProcess CLoadGen"
SWIFT_MODULES="ArchbenchCore Recording Analysis Load"
build_config() {
	if [ -z "$SWIFTC" ]; then
		echo "fuzz.sh: swiftc not found (PATH, /opt/swift/usr/bin)" >&2
		return 3
	fi
	out="$SCRATCH/config"
	rm -rf "$out"
	mkdir -p "$out/modules" "$out/objects"
	maps=""
	for module in $CONFIG_MODULES; do
		# The module map SwiftPM generates for a C target with an include directory.
		mkdir -p "$out/modules/$module"
		printf 'module %s {\n    umbrella "%s"\n    export *\n}\n' $module "$ROOT/CSources/$module/include" \
			>"$out/modules/$module/module.modulemap"
		maps="$maps -Xcc -fmodule-map-file=$out/modules/$module/module.modulemap -Xcc -I$ROOT/CSources/$module/include"
		for source in "$ROOT/CSources/$module/"*.c; do
			"$CLANG" -c -g -O1 -fsanitize=fuzzer-no-link,address -I"$ROOT/CSources/$module/include" \
				-I"$ROOT/CSources/CCommon/include" "$source" \
				-o "$out/objects/$module-$(basename "$source" .c).o" || return 1
		done
	done
	for module in $SWIFT_MODULES; do
		"$SWIFTC" -swift-version 6 -parse-as-library -sanitize=fuzzer,address -g -O -wmo -module-name $module \
			-I "$out/modules" $maps -emit-module -emit-module-path "$out/modules/$module.swiftmodule" \
			-c $(find "$ROOT/Sources/$module" -name '*.swift' | sort) -o "$out/objects/$module.o" || return 1
	done
	"$SWIFTC" -swift-version 6 -parse-as-library -sanitize=fuzzer,address ${LLD:+-use-ld=$LLD} -g -O \
		-module-name ConfigFuzz -I "$out/modules" $maps \
		"$ROOT/fuzz/config/FuzzConfig.swift" "$ROOT/Sources/Suite/RunConfig.swift" \
		"$ROOT/Sources/Suite/RunConfig+Validation.swift" "$out/objects/"*.o \
		-lhttp_parser -lmd -lpthread -lm -o "$SCRATCH/bin/config"
}

# What each target is built from: it is rebuilt when one of these is newer than its binary.
inputs() {
	case $1 in
	config)
		echo fuzz/config Sources/Suite/RunConfig.swift Sources/Suite/RunConfig+Validation.swift \
			$(for m in $SWIFT_MODULES; do echo Sources/$m; done) $(for m in $CONFIG_MODULES; do echo CSources/$m; done) ;;
	*)
		echo fuzz/$1.c fuzz/harness.h CSources/CLoadGen ;;
	esac
	echo scripts/fuzz.sh
}

up_to_date() {
	[ -x "$SCRATCH/bin/$1" ] && [ -z "$(cd "$ROOT" && find $(inputs $1) -newer "$SCRATCH/bin/$1" | head -n 1)" ]
}

build() {
	case $1 in
	http_response)
		build_c http_response fuzz/http_response.c CSources/CLoadGen/http_response.c -lhttp_parser ;;
	ws_frame)
		build_c ws_frame fuzz/ws_frame.c CSources/CLoadGen/ws_frame.c CSources/CLoadGen/ws_session.c \
			CSources/CLoadGen/ws_handshake.c CSources/CLoadGen/buffer.c -lmd ;;
	ws_handshake)
		build_c ws_handshake fuzz/ws_handshake.c CSources/CLoadGen/http_response.c CSources/CLoadGen/ws_frame.c \
			CSources/CLoadGen/ws_session.c CSources/CLoadGen/ws_handshake.c CSources/CLoadGen/buffer.c \
			-lhttp_parser -lmd -lcrypto ;;
	config)
		build_config ;;
	esac
}

dictionary() {
	case $1 in
	http_response|ws_handshake) echo "$ROOT/fuzz/http.dict" ;;
	config) echo "$ROOT/fuzz/config.dict" ;;
	*) echo "" ;;
	esac
}

status=0
summary=""
for target in $TARGETS; do
	if up_to_date $target; then
		echo "== $target: up to date ($SCRATCH/bin/$target)"
	elif echo "== $target: building" && ! build $target; then
		echo "fuzz.sh: building $target failed" >&2
		exit 3
	fi
	work="$SCRATCH/work/$target"
	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/artifacts"
	cp "$ROOT/fuzz/corpus/$target/"* "$work/corpus/"
	dict=$(dictionary $target)
	set -- "$SCRATCH/bin/$target" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/" ${dict:+-dict="$dict"} "$work/corpus"
	echo "== $target: $*"
	rc=0
	# Swift's crash backtracer (config) reads memory AddressSanitizer then reports as a wild access.
	SWIFT_BACKTRACE=enable=no "$@" >"$work/log" 2>&1 || rc=$?
	executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
	crashes=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$work/log")
	if [ $rc -ne 0 ]; then
		status=1
		tail -n 40 "$work/log"
		echo "== $target: FAILED (exit $rc) after ${executions:-?} executions; log $work/log"
		for crash in $crashes; do
			echo "== $target: crash input: $crash (replay: $SCRATCH/bin/$target $crash)"
		done
		summary="$summary$target: ${executions:-?} executions, CRASHED: ${crashes:-see $work/log}
"
	else
		echo "== $target: ${executions:-?} executions in ${SECONDS_PER_TARGET} s, no crash"
		summary="$summary$target: ${executions:-?} executions in ${SECONDS_PER_TARGET} s, no crash
"
	fi
done
echo "== summary"
printf '%s' "$summary"
exit $status

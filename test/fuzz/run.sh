#!/bin/sh
#-------------------------------------------------------------------------
#
# run.sh
#	  Builds the segment/bitmap fuzz harnesses with libFuzzer, ASan and
#	  UBSan into test/fuzz/build, generates the seed corpora (checking the
#	  format's round trips on the way), and runs each harness for the given
#	  number of seconds (default 30).  Exits non-zero on any crash, leak,
#	  sanitizer report or failed round trip.
#
#	  Usage: test/fuzz/run.sh [seconds] [harness ...]
#	  Harnesses: fuzz_column fuzz_dict fuzz_datum fuzz_roaring
#	  Environment: CC (default clang), FUZZ_JOBS (parallel harnesses,
#	  default 1).  Crash inputs are left in test/fuzz/build/artifacts.
#
# IDENTIFICATION
#	  test/fuzz/run.sh
#
#-------------------------------------------------------------------------
set -eu

SECONDS_EACH=${1:-30}
[ $# -gt 0 ] && shift
HARNESSES=${*:-"fuzz_column fuzz_dict fuzz_datum fuzz_roaring"}

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BUILD="$HERE/build"
CC=${CC:-clang}
JOBS=${FUZZ_JOBS:-1}

mkdir -p "$BUILD/artifacts"

CFLAGS="-g -O1 -std=gnu99 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers -Werror -fno-omit-frame-pointer -I$TOP/src/segment -I$TOP/src/bitmap -I$HERE"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
SRCS="$TOP/src/segment/segment_format.c $TOP/src/bitmap/roaring_check.c"
LIBS="-lzstd -lroaring"

echo "building seed generator"
$CC $CFLAGS $SAN -o "$BUILD/gen_seeds" "$HERE/gen_seeds.c" $SRCS $LIBS
rm -rf "$BUILD/seeds"
ASAN_OPTIONS=detect_leaks=0 "$BUILD/gen_seeds" "$BUILD/seeds"

for h in $HARNESSES; do
	echo "building $h"
	$CC $CFLAGS $SAN -fsanitize=fuzzer -o "$BUILD/$h" "$HERE/$h.c" $SRCS $LIBS
done

status=0
run_one()
{
	h=$1
	case $h in
		fuzz_column) seeds=column ;;
		fuzz_dict) seeds=dict ;;
		fuzz_datum) seeds=datum ;;
		fuzz_roaring) seeds=roaring ;;
		*) echo "unknown harness $h"; return 1 ;;
	esac
	corpus="$BUILD/corpus/$h"
	mkdir -p "$corpus"
	echo "running $h for ${SECONDS_EACH}s"
	# rss limit: decoders may allocate up to a block (bounded by the frame)
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"$BUILD/$h" -max_total_time="$SECONDS_EACH" -rss_limit_mb=4096 \
		-max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$BUILD/artifacts/$h-" \
		"$corpus" "$BUILD/seeds/$seeds" > "$BUILD/$h.log" 2>&1
	rc=$?
	grep -E "^stat::number_of_executed_units|^Done [0-9]+ runs" "$BUILD/$h.log" | sed "s/^/$h: /" || true
	if [ $rc -ne 0 ]; then
		echo "$h FAILED (exit $rc); see $BUILD/$h.log"
		tail -40 "$BUILD/$h.log"
	fi
	return $rc
}

set +e
if [ "$JOBS" -gt 1 ]; then
	# batches of JOBS harnesses at once
	pids=""
	n=0
	for h in $HARNESSES; do
		run_one "$h" > "$BUILD/$h.summary" 2>&1 &
		pids="$pids $!"
		n=$((n + 1))
		if [ $n -ge "$JOBS" ]; then
			for p in $pids; do wait "$p" || status=1; done
			pids=""
			n=0
		fi
	done
	for p in $pids; do wait "$p" || status=1; done
	for h in $HARNESSES; do cat "$BUILD/$h.summary"; done
else
	for h in $HARNESSES; do run_one "$h" || status=1; done
fi

if [ $status -eq 0 ]; then
	echo "fuzz: all harnesses ran clean"
else
	echo "fuzz: FAILURES"
fi
exit $status

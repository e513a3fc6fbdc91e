#!/usr/bin/env bash
#
# test.sh
#	  The single test command ("make test"; .ci/run calls it): installs the
#	  Debian packages that are missing, builds with warnings as errors,
#	  installs, and runs every suite against temporary clusters:
#	  pg_regress (sql/*.sql), isolation (test/isolation/specs/*.spec), TAP
#	  (test/t/*.pl) and, when test/fuzz/run.sh exists, a short fuzz run.
#
# NOTES
#	  initdb and postgres refuse to run as root, so when started as root the
#	  suites run as the OS user LEDGER_TEST_USER (default "postgres") in a
#	  copy of the tree under a temporary directory that user owns.  The
#	  regression diffs, server logs and TAP logs of whatever fails are
#	  printed.  The last line is "N passed, M failed", counting each
#	  regression test, isolation spec, TAP file and step (build, fuzz); the
#	  exit status is non-zero when anything failed.  A test without an
#	  expected file fails alone (its output is shown) instead of stopping
#	  pg_regress; when a server crash fails the tests that ran after it,
#	  those run again on a fresh instance so that they count on their own.
#
#	  Environment:
#	    PG_CONFIG            pg_config to build against (default: PostgreSQL 15's)
#	    LEDGER_TEST_USER     OS user that runs the servers when root (postgres)
#	    LEDGER_FUZZ_SECONDS  seconds per fuzz harness, 0 skips fuzzing (10)
#	    LEDGER_KEEP_TMP      1 keeps the temporary directory
#	    LEDGER_SKIP_BUILD    1 skips the clean build and install
#	    LEDGER_SUITES        which suites to run (default "regress isolation tap fuzz")
#
# IDENTIFICATION
#	  scripts/test.sh
#
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

START=$(date +%s)
PASSED=0
FAILED=0
FAILURES=()
WORK=""
TEST_USER=${LEDGER_TEST_USER:-postgres}
FUZZ_SECONDS=${LEDGER_FUZZ_SECONDS:-10}
SUITES=${LEDGER_SUITES:-regress isolation tap fuzz}

# counts one passed item
pass()
{
	PASSED=$((PASSED + 1))
}

# counts one failed item named $1
fail()
{
	FAILED=$((FAILED + 1))
	FAILURES+=("$1")
}

# prints a section banner
banner()
{
	echo
	echo "=== $* ($(($(date +%s) - START)) s)"
}

# stops every server left running under the work directory
stop_servers()
{
	local pidfile datadir
	[ -n "$WORK" ] && [ -d "$WORK" ] || return 0
	while IFS= read -r pidfile; do
		datadir=$(dirname "$pidfile")
		as_user "$BINDIR/pg_ctl" -D "$datadir" -m immediate -w stop >/dev/null 2>&1 || true
	done < <(find "$WORK" -name postmaster.pid 2>/dev/null)
}

# stops leftover servers and removes the work directory
cleanup()
{
	stop_servers
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		if [ "${LEDGER_KEEP_TMP:-0}" = 1 ]; then
			echo "test.sh: kept $WORK"
		else
			rm -rf "$WORK"
		fi
	fi
}

# prints the summary and exits with the right status
finish()
{
	local f
	banner "summary"
	for f in "${FAILURES[@]}"; do
		echo "FAILED: $f"
	done
	echo "total time $(($(date +%s) - START)) s"
	cleanup
	trap - EXIT
	echo "$PASSED passed, $FAILED failed"
	if [ "$FAILED" -ne 0 ] || [ "$PASSED" -eq 0 ]; then
		exit 1
	fi
	exit 0
}

trap 'fail "interrupted"; finish' INT TERM
trap 'cleanup' EXIT

# runs a command as the test user, with the server binaries first on PATH
as_user()
{
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$TEST_USER" -- env HOME="$WORK" PATH="$BINDIR:$PATH" "$@"
	else
		env HOME="${WORK:-$HOME}" PATH="$BINDIR:$PATH" "$@"
	fi
}

# counts the "... ok" / "... FAILED" lines of a pg_regress log ($1) under
# suite name $2; a non-zero status ($3) without a failed test counts once
count_regress()
{
	local log=$1 suite=$2 rc=$3 ok bad name
	ok=$(grep -cE '\.\.\. ok( |$)' "$log")
	bad=0
	while IFS= read -r name; do
		fail "$suite: $name"
		bad=$((bad + 1))
	done < <(grep -E '\.\.\. (FAILED|failed)' "$log" | sed -E 's/^(test|  *)? *([^ ]+) +\.\.\..*/\2/')
	PASSED=$((PASSED + ok))
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		fail "$suite (exit status $rc)"
	fi
}

# prints the diffs, outputs without an expected file, and the server log of
# a failed pg_regress run (output dir $1, expected dir $2)
show_regress_failure()
{
	local outdir=$1 expected=$2 out diffs log
	diffs="$outdir/regression.diffs"
	log="$outdir/log/postmaster.log"
	for out in "$outdir"/results/*.out; do
		[ -f "$out" ] || continue
		if [ ! -f "$expected/$(basename "$out")" ]; then
			banner "no $expected/$(basename "$out"); the output was"
			cat "$out"
		fi
	done
	if [ -s "$diffs" ]; then
		banner "$diffs"
		cat "$diffs"
	fi
	if [ -f "$log" ]; then
		banner "server messages of $log (errors and crashes)"
		grep -E 'PANIC|FATAL|TRAP|terminated by signal|DETAIL:  Failed process' "$log" | head -n 60
	fi
}

# --- dependencies ---------------------------------------------------------

banner "dependencies"
if ! "$ROOT/scripts/deps.sh"; then
	fail "deps.sh"
	finish
fi

if [ -z "${PG_CONFIG:-}" ]; then
	if [ -x /usr/lib/postgresql/15/bin/pg_config ]; then
		PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
	else
		PG_CONFIG=pg_config
	fi
fi
BINDIR=$("$PG_CONFIG" --bindir)
PGXS_DIR=$(dirname "$(dirname "$(dirname "$("$PG_CONFIG" --pgxs)")")")
PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress"
export PG_CONFIG

# --- build ------------------------------------------------------------------

if [ "${LEDGER_SKIP_BUILD:-0}" != 1 ]; then
	banner "build (make LEDGER_WERROR=1) and install"
	# a clean build, so that no object built without -Werror hides a warning
	if make -s PG_CONFIG="$PG_CONFIG" clean >/dev/null &&
		make -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG" LEDGER_WERROR=1 &&
		make -s PG_CONFIG="$PG_CONFIG" install; then
		pass
	else
		fail "build and install"
		finish
	fi
fi

# --- work directory ---------------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ledger-test.XXXXXX")
chmod 755 "$WORK"
mkdir "$WORK/src"
tar -C "$ROOT" --exclude=./.git --exclude='*.o' --exclude='*.bc' \
	--exclude=./results --exclude=./output_iso --exclude=./tmp_check \
	--exclude=./log --exclude=./test/fuzz/build -cf - . | tar -C "$WORK/src" -xf -
if [ "$(id -u)" -eq 0 ]; then
	chown -R "$TEST_USER": "$WORK"
fi
SRC="$WORK/src"
TEMP_CONFIG_FILE="$SRC/test/regress.conf"

# a test without an expected file would stop pg_regress before the other
# tests: give it an empty one (in the copy), so that it fails on its own
# and its whole output is shown
for f in "$SRC"/sql/*.sql "$SRC"/test/isolation/specs/*.spec; do
	[ -f "$f" ] || continue
	case "$f" in
		*.sql) out="$SRC/expected/$(basename "$f" .sql).out" ;;
		*) out="$SRC/test/isolation/expected/$(basename "$f" .spec).out" ;;
	esac
	if [ ! -f "$out" ]; then
		echo "test.sh: no expected output for $f"
		as_user mkdir -p "$(dirname "$out")"
		as_user touch "$out"
	fi
done
LOCALE_OPTS="--encoding=UTF8 --no-locale"

# runs "make installcheck" in the copy as the test user, with the Makefile's
# test settings and a time limit of $1 seconds
make_installcheck()
{
	local limit=$1
	shift
	as_user timeout "$limit" make -s -C "$SRC" PG_CONFIG="$PG_CONFIG" installcheck "$@"
}

# --- pg_regress -------------------------------------------------------------

# names of the tests of a pg_regress log ($1) that failed because their
# server connection died, except the first (the one that crashed it)
crash_victims()
{
	grep -E '\.\.\. FAILED \(test process exited with exit code 2\)' "$1" |
		sed -E 's/^(test|  *)? *([^ ]+) +\.\.\..*/\2/' | tail -n +2
}

if [[ " $SUITES " == *" regress "* ]] && compgen -G "$SRC/sql/*.sql" >/dev/null; then
	banner "pg_regress (sql/)"
	make_installcheck 1200 ISOLATION= TAP_TESTS= \
		EXTRA_REGRESS_OPTS="--temp-instance=$WORK/tmp_regress --temp-config=$TEMP_CONFIG_FILE $LOCALE_OPTS --outputdir=$SRC" \
		2>&1 | tee "$WORK/regress.log"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ]; then
		show_regress_failure "$SRC" "$SRC/expected"
	fi
	stop_servers
	# a server crash fails every test that runs while it restarts: run
	# those again on a fresh instance so that their own results count
	mapfile -t victims < <(crash_victims "$WORK/regress.log")
	if [ "${#victims[@]}" -gt 0 ] &&
		grep -q 'terminated by signal' "$SRC/log/postmaster.log" 2>/dev/null; then
		banner "the server crashed; running ${victims[*]} again on a fresh instance"
		as_user mkdir -p "$WORK/rerun"
		make_installcheck 1200 ISOLATION= TAP_TESTS= REGRESS="${victims[*]}" \
			EXTRA_REGRESS_OPTS="--temp-instance=$WORK/tmp_regress2 --temp-config=$TEMP_CONFIG_FILE $LOCALE_OPTS --outputdir=$WORK/rerun" \
			2>&1 | tee "$WORK/regress_rerun.log"
		rc2=${PIPESTATUS[0]}
		if [ "$rc2" -ne 0 ]; then
			show_regress_failure "$WORK/rerun" "$SRC/expected"
		fi
		stop_servers
		# the first run counts without the tests that ran again
		grep -v -E "^(test|  *)? *($(IFS='|'; echo "${victims[*]}")) +\.\.\. " \
			"$WORK/regress.log" > "$WORK/regress_first.log"
		count_regress "$WORK/regress_first.log" regress 1
		count_regress "$WORK/regress_rerun.log" regress "$rc2"
	else
		count_regress "$WORK/regress.log" regress "$rc"
	fi
fi

# --- isolation --------------------------------------------------------------

if [[ " $SUITES " == *" isolation "* ]] && compgen -G "$SRC/test/isolation/specs/*.spec" >/dev/null; then
	banner "isolation (test/isolation/specs)"
	make_installcheck 900 REGRESS= TAP_TESTS= \
		EXTRA_REGRESS_OPTS="--temp-instance=$WORK/tmp_isolation --temp-config=$TEMP_CONFIG_FILE $LOCALE_OPTS" \
		2>&1 | tee "$WORK/isolation.log"
	rc=${PIPESTATUS[0]}
	count_regress "$WORK/isolation.log" isolation "$rc"
	if [ "$rc" -ne 0 ]; then
		show_regress_failure "$SRC/output_iso" "$SRC/test/isolation/expected"
	fi
	stop_servers
fi

# --- TAP --------------------------------------------------------------------

if [[ " $SUITES " == *" tap "* ]] && compgen -G "$SRC/test/t/*.pl" >/dev/null; then
	banner "TAP (test/t)"
	for t in "$SRC"/test/t/*.pl; do
		name=$(basename "$t" .pl)
		tapdir="$WORK/tap/$name"
		as_user mkdir -p "$tapdir/tmp_check"
		(cd "$SRC/test" &&
			as_user timeout 900 env TESTDIR="$tapdir" PG_REGRESS="$PG_REGRESS" \
				TEMP_CONFIG="$TEMP_CONFIG_FILE" \
				prove -I "$PGXS_DIR/src/test/perl" -I . "t/$name.pl")
		rc=$?
		if [ "$rc" -eq 0 ]; then
			pass
		else
			fail "tap: $name"
			for log in "$tapdir"/tmp_check/log/regress_log_* "$tapdir"/tmp_check/log/*.log; do
				[ -f "$log" ] || continue
				banner "tail of $log"
				tail -n 80 "$log"
			done
		fi
		stop_servers
	done
fi

# --- fuzz -------------------------------------------------------------------

# (in the copy, so that its build and corpus stay out of the source tree)
if [[ " $SUITES " == *" fuzz "* ]] && [ -f "$SRC/test/fuzz/run.sh" ] && [ "$FUZZ_SECONDS" != 0 ]; then
	banner "fuzz (test/fuzz/run.sh, $FUZZ_SECONDS s per harness)"
	if (cd "$SRC" && PG_CONFIG="$PG_CONFIG" \
		timeout 900 bash test/fuzz/run.sh "$FUZZ_SECONDS"); then
		pass
	else
		fail "fuzz"
	fi
fi

finish

#!/usr/bin/env bash
#
# test/bench/run.sh [N] - ledger vs PostgreSQL heap, measured in the same run
#
#   N                  events to generate (default 10000000)
#
# Environment:
#   PGHOST / PGPORT    use that running server (and PGUSER, PGDATABASE) instead
#                      of creating a throwaway cluster; the extension must be
#                      installable there (make install is still run locally)
#   BENCH_SEED         generator seed (default 42)
#   BENCH_PORT         port of the throwaway cluster (default 54329)
#   BENCH_TMPDIR       where the temp dir is created (default /tmp)
#   BENCH_KEEP=1       keep the cluster running and the temp dir at the end
#   BENCH_REPEAT       runs per timed query, the median is reported (default 3)
#   BENCH_PRELOAD=1    shared_preload_libraries = 'ledger' (compaction worker)
#   BENCH_NO_INSTALL=1 skip "make install"
#   BENCH_OUT=file     also write the results table to file
#   BENCH_SHAPE=0      skip the data shape (rollup ratio) queries
#   BENCH_EXPR_STATS=0 no extended statistics on date_trunc('day', ts)
#
# Exit status: 0 all measured (targets may still be missed: see the table),
# 1 error or wrong answer, 3 ledger unavailable (heap numbers only).
#
# Adding a benchmark: write a section function below (see section_raw_load,
# section_raw_scan), use psql_q / time_query / compare_query / add_result, and
# list it in SECTIONS.

set -eEuo pipefail
trap 'log "failed (status $?) at line $LINENO: $BASH_COMMAND"' ERR
# days and hours are UTC whatever the server's TimeZone
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning -c timezone=UTC"

N=${1:-10000000}
SEED=${BENCH_SEED:-42}
REPEAT=${BENCH_REPEAT:-3}
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
PG_BINDIR=$(pg_config --bindir)

SECTIONS=(section_raw_load section_data_shape section_raw_scan)

log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- setup ---

WORK=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/ledger-bench.XXXXXX")
chmod 755 "$WORK"
OWN_CLUSTER=0
if [[ -z "${PGHOST:-}" && -z "${PGPORT:-}" ]]; then
	OWN_CLUSTER=1
fi
PGDATA_DIR="$WORK/pgdata"
RESULTS="$WORK/results.tsv"
: >"$RESULTS"

PRINTED=0
cleanup() {
	local rc=$?
	trap - ERR
	if [[ $rc != 0 && $PRINTED == 0 && -s "$RESULTS" ]]; then
		log "partial results:"
		print_results || true
	fi
	if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
		log "BENCH_KEEP=1: keeping $WORK"
		if [[ $OWN_CLUSTER == 1 ]]; then
			log "cluster still running: psql -h $WORK -p ${PGPORT:-} -U postgres -d bench"
			log "stop it with: runuser -u postgres -- $PG_BINDIR/pg_ctl -D $PGDATA_DIR stop -m fast"
		fi
		exit $rc
	fi
	if [[ $OWN_CLUSTER == 1 && -f "$PGDATA_DIR/postmaster.pid" ]]; then
		# a server stuck in crash recovery ignores a fast shutdown
		as_postgres "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null 2>&1 ||
			as_postgres "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -m immediate -w stop >/dev/null 2>&1 || true
	elif [[ $OWN_CLUSTER == 0 ]]; then
		psql_q "DROP TABLE IF EXISTS events_heap, events_ledger, merchants" >/dev/null 2>&1 || true
	fi
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

as_postgres() {
	if [[ $(id -u) == 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# psql_q SQL...: run statements, fail on error, print tuples only
psql_q() {
	local args=() stmt
	for stmt in "$@"; do args+=(-c "$stmt"); done
	psql -X -q -v ON_ERROR_STOP=1 -At "${args[@]}"
}

start_cluster() {
	export PGHOST="$WORK" PGPORT="${BENCH_PORT:-54329}" PGUSER=postgres PGDATABASE=bench
	if [[ $(id -u) == 0 ]]; then
		chown postgres: "$WORK"
	fi
	log "initdb in $PGDATA_DIR (port $PGPORT)"
	as_postgres "$PG_BINDIR/initdb" -D "$PGDATA_DIR" -A trust -U postgres \
		-E UTF8 --locale=C >"$WORK/initdb.log" 2>&1 || {
		cat "$WORK/initdb.log" >&2
		die "initdb failed"
	}
	# Sized for a 2-core, 24 GiB machine.  Durability stays at its defaults
	# (fsync, synchronous_commit, full_page_writes); only checkpoints are
	# spaced out so that a load is not dominated by checkpoint full-page
	# writes.
	cat >>"$PGDATA_DIR/postgresql.conf" <<-EOF

		# ledger benchmark
		listen_addresses = ''
		port = $PGPORT
		unix_socket_directories = '$WORK'
		shared_buffers = 2GB
		max_wal_size = 8GB
		checkpoint_timeout = 30min
		maintenance_work_mem = 1GB
		work_mem = 256MB
		max_parallel_workers_per_gather = 2
		timezone = 'UTC'
		log_min_messages = warning
	EOF
	if [[ "${BENCH_PRELOAD:-0}" == 1 ]]; then
		echo "shared_preload_libraries = 'ledger'" >>"$PGDATA_DIR/postgresql.conf"
	fi
	as_postgres "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/server.log" -w -t 120 start >/dev/null || {
		tail -n 30 "$WORK/server.log" >&2 || true
		die "server did not start (is port $PGPORT free? set BENCH_PORT)"
	}
	psql -X -q -d postgres -c "CREATE DATABASE bench" >/dev/null
}

# -------------------------------------------------------------- helpers ---

# time_sql OUTFILE SQL: run SQL once, result (unaligned) into OUTFILE,
# print elapsed milliseconds as measured by psql's \timing
time_sql() {
	local out=$1 sql=$2 t
	t=$(psql -X -q -v ON_ERROR_STOP=1 -A -t -o "$out" \
		-c '\timing on' -c "$sql" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1)
	[[ -n "$t" ]] || die "no timing for: $sql"
	echo "$t"
}

median() { tr ' ' '\n' | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# time_query LABEL SQL: run REPEAT times; print the median ms; the result of
# the last run is kept in $WORK/out/LABEL.txt
time_query() {
	local label=$1 sql=$2 times=() i
	mkdir -p "$WORK/out"
	for ((i = 0; i < REPEAT; i++)); do
		times+=("$(time_sql "$WORK/out/$label.txt" "$sql")")
	done
	log "  $label: ${times[*]} ms"
	echo "${times[*]}" | median
}

# add_result METRIC HEAP LEDGER UNIT TARGET_MIN [TARGET_TEXT]
# ratio = heap / ledger (> 1 means the ledger wins); TARGET_MIN is the ratio
# the design asks for (empty for none)
add_result() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "${6:-}" >>"$RESULTS"
}

# compare_query LABEL TARGET_MIN TARGET_TEXT SQL: SQL contains {T}, replaced
# by events_heap and events_ledger; times both, requires identical results
compare_query() {
	local label=$1 tmin=$2 ttext=$3 sql=$4 th tl="n/a"
	th=$(time_query "$label.heap" "${sql//\{T\}/events_heap}")
	if [[ $LEDGER == 1 ]]; then
		tl=$(time_query "$label.ledger" "${sql//\{T\}/events_ledger}")
		if ! diff -q "$WORK/out/$label.heap.txt" "$WORK/out/$label.ledger.txt" >/dev/null; then
			diff "$WORK/out/$label.heap.txt" "$WORK/out/$label.ledger.txt" | head -n 20 >&2
			add_result "$label (ms)" "$th" "$tl" ms "$tmin" "$ttext"
			print_results
			die "WRONG ANSWER: $label differs between heap and ledger"
		fi
		log "  $label: results identical ($(wc -l <"$WORK/out/$label.heap.txt") rows)"
	fi
	add_result "$label (ms, median of $REPEAT)" "$th" "$tl" ms "$tmin" "$ttext"
}

human_bytes() {
	awk -v b="$1" 'BEGIN {
		if (b !~ /^[0-9.]+$/) { print b; exit }
		split("B KiB MiB GiB TiB", u, " "); i = 1
		while (b >= 1024 && i < 5) { b /= 1024; i++ }
		printf (i == 1 ? "%d %s" : "%.1f %s"), b, u[i] }'
}

print_results() {
	local f="$WORK/table.txt"
	{
		echo
		echo "ledger benchmark: N=$N seed=$SEED, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, PostgreSQL ${PGVER:-?}"
		if [[ -s "$WORK/shape.tsv" ]]; then
			echo
			echo "data shape (rows / groups; design: 1h w/o merchant ~25x, 1d by merchant ~3.7x):"
			awk -F'\t' '{ printf "  %-58s %10d groups  %7.2fx\n", $1, $2, $3 }' "$WORK/shape.tsv"
		fi
		echo
		echo "ratio = heap / ledger (> 1: ledger wins)"
		echo
		awk -F'\t' '
			function fmt(v, unit) {
				if (v !~ /^[0-9.]+$/ || unit == "") return v
				if (unit == "bytes") {
					split("B KiB MiB GiB TiB", u, " "); i = 1
					while (v >= 1024 && i < 5) { v /= 1024; i++ }
					return sprintf(i == 1 ? "%d %s" : "%.1f %s", v, u[i])
				}
				if (unit == "ms") return sprintf("%.1f ms", v)
				return v " " unit
			}
			BEGIN { printf "%-44s | %12s | %12s | %8s | %-22s | %s\n", "metric", "heap", "ledger", "ratio", "target", "";
			        printf "%s\n", "---------------------------------------------+--------------+--------------+----------+------------------------+-----" }
			{
				ratio = "n/a"; verdict = ""
				if ($2 ~ /^[0-9.]+$/ && $3 ~ /^[0-9.]+$/ && $3 > 0) {
					r = $2 / $3; ratio = sprintf("%.2f", r)
					if ($5 != "") verdict = (r >= $5) ? "ok" : "MISS"
				}
				printf "%-44s | %12s | %12s | %8s | %-22s | %s\n", $1, fmt($2, $4), fmt($3, $4), ratio, $6, verdict
			}' "$RESULTS"
		echo
	} >"$f"
	cat "$f"
	PRINTED=1
	if [[ -n "${BENCH_OUT:-}" ]]; then cp "$f" "$BENCH_OUT"; fi
}

# ------------------------------------------------------------- sections ---

EVENT_COLUMNS="ts timestamptz NOT NULL, merchant_id int, method text,
	status text, currency text, card_issuer text, channel text, attrs jsonb,
	amount bigint, fee bigint, event_id text, version bigint"

# copy_into TABLE: COPY the data file, print ms
copy_into() {
	local t=$1
	psql_q "CHECKPOINT" >/dev/null
	if [[ $OWN_CLUSTER == 1 ]]; then
		time_sql /dev/null "COPY $t FROM '$DATA'"
	else
		time_sql /dev/null "\\copy $t FROM '$DATA'"
	fi
}

section_raw_load() {
	log "raw load: COPY $N events"
	psql_q "DROP TABLE IF EXISTS events_heap, events_ledger" \
		"CREATE TABLE events_heap ($EVENT_COLUMNS) USING heap" >/dev/null
	local th tl="n/a" sh sl="n/a"
	th=$(copy_into events_heap)
	log "  COPY events_heap: $th ms"
	if [[ $LEDGER == 1 ]]; then
		psql_q "CREATE TABLE events_ledger ($EVENT_COLUMNS) USING ledger" >/dev/null
		tl=$(copy_into events_ledger) || die "COPY into events_ledger failed"
		log "  COPY events_ledger: $tl ms"
	fi
	# Settle both the way an operator would after a bulk load (untimed):
	# hint bits, visibility map, statistics.  Both get the same extended
	# statistics on the day expression: without them PostgreSQL guesses one
	# group per row for date_trunc('day', ts) and picks a serial sort, which
	# would handicap the heap (~2x) rather than measure it.
	if [[ "${BENCH_EXPR_STATS:-1}" == 1 ]]; then
		psql_q "CREATE STATISTICS events_heap_day ON (date_trunc('day', ts)) FROM events_heap" >/dev/null
		if [[ $LEDGER == 1 ]]; then
			psql_q "CREATE STATISTICS events_ledger_day ON (date_trunc('day', ts)) FROM events_ledger" >/dev/null 2>&1 ||
				log "  WARNING: CREATE STATISTICS on events_ledger failed"
		fi
	fi
	psql_q "VACUUM (ANALYZE) events_heap" >/dev/null
	if [[ $LEDGER == 1 ]]; then
		psql_q "VACUUM (ANALYZE) events_ledger" >/dev/null 2>"$WORK/vacuum_ledger.err" ||
			log "  WARNING: VACUUM ANALYZE events_ledger failed: $(head -n 1 "$WORK/vacuum_ledger.err")"
	fi
	psql_q "CHECKPOINT" >/dev/null

	local rows_h rows_l
	rows_h=$(psql_q "SELECT count(*) FROM events_heap")
	[[ "$rows_h" == "$N" ]] || die "events_heap has $rows_h rows, expected $N"
	if [[ $LEDGER == 1 ]]; then
		rows_l=$(psql_q "SELECT count(*) FROM events_ledger")
		[[ "$rows_l" == "$N" ]] || die "WRONG ANSWER: events_ledger has $rows_l rows, expected $N"
	fi

	sh=$(psql_q "SELECT pg_total_relation_size('events_heap')")
	if [[ $LEDGER == 1 ]]; then
		if [[ $(psql_q "SELECT to_regprocedure('ledger.table_size(regclass)') IS NOT NULL") == t ]]; then
			sl=$(psql_q "SELECT ledger.table_size('events_ledger')")
		fi
	fi
	add_result "rows" "$rows_h" "${rows_l:-n/a}" "" ""
	add_result "COPY $N rows (ms)" "$th" "$tl" ms 1 "not slower (>= 1)"
	add_result "total size" "$sh" "$sl" bytes 5 ">= 5x smaller"
}

# how far the data rolls up (rows / groups), on the heap: the shape the
# design's rollup targets assume (README.md)
section_data_shape() {
	[[ "${BENCH_SHAPE:-1}" == 1 ]] || return 0
	log "data shape: rollup ratios on events_heap"
	local label grouping groups
	while IFS='|' read -r label grouping; do
		groups=$(psql_q "SET max_parallel_workers_per_gather = 2" \
			"SELECT count(*) FROM (SELECT 1 FROM events_heap GROUP BY $grouping) g")
		printf '%s\t%s\t%s\n' "$label" "$groups" \
			"$(awk -v n="$N" -v g="$groups" 'BEGIN { printf "%.2f", n / g }')" >>"$WORK/shape.tsv"
		log "  $label: $groups groups"
	done <<-'EOF'
		1 hour by (method, status, currency, card_issuer, channel)|date_trunc('hour', ts), method, status, currency, card_issuer, channel
		1 day by (merchant_id, method, status)|date_trunc('day', ts), merchant_id, method, status
		1 hour by (merchant_id, method, status, currency, attrs)|date_trunc('hour', ts), merchant_id, method, status, currency, attrs
		1 hour by all dimensions|date_trunc('hour', ts), merchant_id, method, status, currency, card_issuer, channel, attrs
	EOF
}

section_raw_scan() {
	log "raw scan: full-scan aggregate"
	compare_query "totals by day" 10 ">= 10x faster" \
		"SELECT date_trunc('day', ts) AS day, count(*), sum(amount), sum(fee) FROM {T} GROUP BY 1 ORDER BY 1"
}

# ----------------------------------------------------------------- main ---

log "ledger benchmark, N=$N seed=$SEED, work dir $WORK"

LEDGER=1
if [[ "${BENCH_NO_INSTALL:-0}" != 1 ]]; then
	log "make -C $REPO install"
	if ! make -s -C "$REPO" install >"$WORK/make.log" 2>&1; then
		tail -n 15 "$WORK/make.log" >&2
		log "WARNING: make install failed; continuing with the heap only"
		LEDGER=0
	fi
fi

log "compiling and running the generator"
cc -O2 -ffp-contract=off -o "$WORK/gen_events" "$BENCH_DIR/gen_events.c" -lm
DATA="$WORK/events.tsv"
"$WORK/gen_events" -n "$N" -s "$SEED" >"$DATA"
"$WORK/gen_events" -s "$SEED" -M >"$WORK/merchants.tsv"
log "  $(human_bytes "$(stat -c %s "$DATA")"), md5 $(md5sum <"$DATA" | cut -c1-32)"

if [[ $OWN_CLUSTER == 1 ]]; then
	if [[ $(id -u) == 0 ]]; then chown -R postgres: "$WORK"; fi
	start_cluster
else
	log "using the running server at ${PGHOST:-(default)}:${PGPORT:-5432}"
fi
PGVER=$(psql_q "SHOW server_version" | cut -d' ' -f1)

if [[ $LEDGER == 1 ]]; then
	if ! psql_q "CREATE EXTENSION IF NOT EXISTS ledger" >/dev/null 2>"$WORK/ext.err"; then
		log "WARNING: CREATE EXTENSION ledger failed: $(head -n 1 "$WORK/ext.err"); heap only"
		LEDGER=0
	fi
fi

psql_q "DROP TABLE IF EXISTS merchants" \
	"CREATE TABLE merchants (merchant_id int PRIMARY KEY, name text, country text,
	   currency text, category text, created date)" >/dev/null
if [[ $OWN_CLUSTER == 1 ]]; then
	psql_q "COPY merchants FROM '$WORK/merchants.tsv'" "ANALYZE merchants" >/dev/null
else
	psql_q "\\copy merchants FROM '$WORK/merchants.tsv'" "ANALYZE merchants" >/dev/null
fi

for s in "${SECTIONS[@]}"; do
	"$s"
done

print_results
if [[ $LEDGER == 0 ]]; then
	log "ledger was not available: heap numbers only"
	exit 3
fi

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
#   BENCH_COMPACTION=0 with BENCH_PRELOAD=1: ledger.enable_compaction = off
#   BENCH_NO_INSTALL=1 skip "make install"
#   BENCH_OUT=file     also write the results table to file
#   BENCH_SHAPE=0      skip the data shape (rollup ratio) queries
#   BENCH_EXPR_STATS=0 no extended statistics on date_trunc('day'/'hour', ts)
#   BENCH_ROLLUP=0     skip the rollup sections (events_1h, events_1d; the
#                      heap with indexes too if BENCH_SELECTIVE=0)
#   BENCH_ROLLUP_CHECK=0 skip the untimed check of every rolled-up row against
#                      events_heap rolled up by SQL (saves ~1 min at 10M)
#   BENCH_SELECTIVE=0  skip the selective and 7-day queries (raw ledger vs
#                      the indexed heap)
#
# Exit status: 0 all measured (targets may still be missed: see the table),
# 1 error or wrong answer, 3 ledger unavailable (heap numbers only).
#
# Adding a benchmark: write a section function below (see section_raw_load,
# section_raw_scan, section_rollup_1h), use psql_q / time_query /
# compare_query / compare_pair / add_result / add_heading, and list it in
# SECTIONS.

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

SECTIONS=(section_raw_load section_data_shape section_raw_scan
	section_heap_indexed_load section_rollup_1h section_rollup_1d
	section_selective)

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
		psql_q "DROP TABLE IF EXISTS events_heap, events_ledger, events_heap_idx, events_1h, events_1d, merchants" >/dev/null 2>&1 || true
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
		if [[ "${BENCH_COMPACTION:-1}" == 0 ]]; then
			echo "ledger.enable_compaction = off" >>"$PGDATA_DIR/postgresql.conf"
		fi
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

# time_query_warm LABEL SQL: in ONE session, run SQL once untimed (warm:
# shared buffers, and a ledger's backend-local segment cache,
# ledger.cache_size), then REPEAT timed runs; print the median ms; the result
# of the last run is kept in $WORK/out/LABEL.txt
time_query_warm() {
	local label=$1 sql=$2 args=() times i
	mkdir -p "$WORK/out"
	args=(-c '\o /dev/null' -c "$sql" -c '\timing on')
	for ((i = 1; i < REPEAT; i++)); do args+=(-c "$sql"); done
	args+=(-c "\o $WORK/out/$label.txt" -c "$sql")
	times=$(psql -X -q -v ON_ERROR_STOP=1 -A -t "${args[@]}" |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | paste -sd' ' -)
	[[ $(wc -w <<<"$times") == "$REPEAT" ]] || die "expected $REPEAT timings, got '$times' for: $sql"
	log "  $label: warm, then ${times}ms"
	echo "$times" | median
}

# add_result METRIC HEAP LEDGER UNIT TARGET_MIN [TARGET_TEXT]
# ratio = heap / ledger (> 1 means the ledger wins); TARGET_MIN is the ratio
# the design asks for (empty for none)
add_result() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "${6:-}" >>"$RESULTS"
}

# add_heading TEXT: a line of text between the rows of the table
add_heading() {
	printf '# %s\n' "$1" >>"$RESULTS"
}

# compare_pair METRIC TARGET_MIN TARGET_TEXT HEAP_SQL LEDGER_SQL: times the
# heap query and the ledger query (median of REPEAT), requires identical
# results, adds the row METRIC; outputs in $WORK/out/<METRIC>.{heap,ledger}.txt
# (METRIC with every character but [A-Za-z0-9._-] replaced by _)
compare_pair() {
	local label=$1 tmin=$2 ttext=$3 sqlh=$4 sqll=$5 th tl="n/a" f
	f=${label//[^A-Za-z0-9._-]/_}
	th=$(time_query "$f.heap" "$sqlh")
	if [[ $LEDGER == 1 ]]; then
		tl=$(time_query "$f.ledger" "$sqll")
		if ! diff -q "$WORK/out/$f.heap.txt" "$WORK/out/$f.ledger.txt" >/dev/null; then
			diff "$WORK/out/$f.heap.txt" "$WORK/out/$f.ledger.txt" | head -n 20 >&2 || true
			log "heap SQL:   $sqlh"
			log "ledger SQL: $sqll"
			add_result "$label" "$th" "$tl" ms "$tmin" "$ttext"
			print_results
			die "WRONG ANSWER: $label differs between heap and ledger"
		fi
		log "  $label: results identical ($(wc -l <"$WORK/out/$f.heap.txt") rows)"
	fi
	add_result "$label" "$th" "$tl" ms "$tmin" "$ttext"
}

# compare_query LABEL TARGET_MIN TARGET_TEXT SQL: SQL contains {T}, replaced
# by events_heap and events_ledger; times both, requires identical results
compare_query() {
	local label=$1 tmin=$2 ttext=$3 sql=$4
	compare_pair "$label (ms, median of $REPEAT)" "$tmin" "$ttext" \
		"${sql//\{T\}/events_heap}" "${sql//\{T\}/events_ledger}"
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
			/^#/ { sub(/^# ?/, "", $1); printf "%s\n", $1; next }
			{
				ratio = "n/a"; verdict = ""
				if ($2 ~ /^[0-9.]+$/ && $3 ~ /^[0-9.]+$/ && $3 > 0) {
					r = $2 / $3; ratio = sprintf("%.2f", r)
					if ($5 != "") verdict = (r >= $5) ? "ok" : "MISS"
				}
				printf "%-44s | %12s | %12s | %8s | %-22s | %s\n", $1, fmt($2, $4), fmt($3, $4), ratio, $6, verdict
			}' "$RESULTS"
		echo
		if [[ -s "$WORK/explain.txt" ]]; then
			cat "$WORK/explain.txt"
			echo
		fi
	} >"$f"
	cat "$f"
	PRINTED=1
	if [[ -n "${BENCH_OUT:-}" ]]; then cp "$f" "$BENCH_OUT"; fi
}

# ------------------------------------------------------------- sections ---

EVENT_COLUMNS="ts timestamptz NOT NULL, merchant_id int, method text,
	status text, currency text, card_issuer text, channel text, attrs jsonb,
	amount bigint, fee bigint, event_id text, version bigint"

# copy_into TABLE [FILE]: COPY FILE (default: the data file) into TABLE
# (which may carry a column list), after a CHECKPOINT; print ms
copy_into() {
	local t=$1 file=${2:-$DATA}
	psql_q "CHECKPOINT" >/dev/null
	if [[ $OWN_CLUSTER == 1 ]]; then
		time_sql /dev/null "COPY $t FROM '$file'"
	else
		time_sql /dev/null "\\copy $t FROM '$file'"
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

# --------------------------------------------------------------- rollup ---
#
# DESIGN.md §5, rollup rows: rollup ledgers against "heap raw with its
# indexes", the same events in a heap table with the btree indexes a heap
# deployment would create for these dashboards.  The indexes exist before the
# COPY, so its time includes index maintenance.  Dashboard questions are
# asked of that heap table and of the rollup ledger; the answers must match.

HEAP_INDEXES=("(ts)" "(merchant_id, ts)" "(card_issuer, ts)" "(status, ts)")
METRICS_JSON='{"amount":"sum","fee":"sum","events":"count"}'
# Days and weeks of the generated month (2026-10-01 .. 2026-10-31 UTC) used by
# the dashboard queries; bounds on bucket boundaries, so a filter on the raw
# ts and on the rolled-up ts selects the same events.
ONE_DAY="ts >= '2026-10-16 00:00+00' AND ts < '2026-10-17 00:00+00'"  # a Friday
LAST_7_DAYS="ts >= '2026-10-24 00:00+00' AND ts < '2026-10-31 00:00+00'"
ALL_30_DAYS="ts >= '2026-10-01 00:00+00' AND ts < '2026-10-31 00:00+00'"

rollup_enabled() { [[ "${BENCH_ROLLUP:-1}" == 1 ]]; }
selective_enabled() { [[ "${BENCH_SELECTIVE:-1}" == 1 ]]; }

# settle TABLE EXPR...: the untimed after-load routine of section_raw_load:
# extended statistics on each expression (unless BENCH_EXPR_STATS=0),
# VACUUM (ANALYZE), CHECKPOINT.  On a ledger, failures are warnings.
settle() {
	local t=$1 e i=0
	shift
	if [[ "${BENCH_EXPR_STATS:-1}" == 1 ]]; then
		for e in "$@"; do
			i=$((i + 1))
			psql_q "CREATE STATISTICS ${t}_expr$i ON ($e) FROM $t" >/dev/null 2>"$WORK/settle.err" ||
				log "  WARNING: CREATE STATISTICS on $t failed: $(head -n 1 "$WORK/settle.err")"
		done
	fi
	psql_q "VACUUM (ANALYZE) $t" >/dev/null 2>"$WORK/settle.err" ||
		log "  WARNING: VACUUM ANALYZE $t failed: $(head -n 1 "$WORK/settle.err")"
	psql_q "CHECKPOINT" >/dev/null
}

HEAP_IDX_COPY=n/a
HEAP_IDX_SIZE=n/a

section_heap_indexed_load() {
	rollup_enabled || selective_enabled || return 0
	local ix create=() rows
	log "heap with its indexes: COPY $N events into events_heap_idx (indexes: ${HEAP_INDEXES[*]})"
	create=("DROP TABLE IF EXISTS events_heap_idx"
		"CREATE TABLE events_heap_idx ($EVENT_COLUMNS) USING heap")
	for ix in "${HEAP_INDEXES[@]}"; do
		create+=("CREATE INDEX ON events_heap_idx $ix")
	done
	psql_q "${create[@]}" >/dev/null
	HEAP_IDX_COPY=$(copy_into events_heap_idx)
	log "  COPY events_heap_idx: $HEAP_IDX_COPY ms"
	settle events_heap_idx "date_trunc('day', ts)" "date_trunc('hour', ts)"
	rows=$(psql_q "SELECT count(*) FROM events_heap_idx")
	[[ "$rows" == "$N" ]] || die "events_heap_idx has $rows rows, expected $N"
	HEAP_IDX_SIZE=$(psql_q "SELECT pg_total_relation_size('events_heap_idx')")
	log "  events_heap_idx: $(human_bytes "$HEAP_IDX_SIZE") (heap $(human_bytes "$(psql_q "SELECT pg_relation_size('events_heap_idx')")"), indexes $(human_bytes "$(psql_q "SELECT pg_indexes_size('events_heap_idx')")"))"

	add_heading ""
	add_heading "rollup ledgers: heap = events_heap_idx, the heap table plus btree indexes"
	add_heading "$(IFS=,; echo "${HEAP_INDEXES[*]}" | sed 's/),(/), (/g') created before its COPY; query times: median of $REPEAT"
	add_heading ""
	add_result "heap + ${#HEAP_INDEXES[@]} btree indexes: COPY (ms)" "$HEAP_IDX_COPY" "-" ms "" ""
	add_result "heap + ${#HEAP_INDEXES[@]} btree indexes: total size" "$HEAP_IDX_SIZE" "-" bytes "" ""
}

# rollup_load SHORT NAME GRANULARITY CUT_FIELDS COLUMNS COPY_COLUMNS BUCKET
#             DIMENSIONS SIZE_TARGET_MIN SIZE_TARGET_TEXT DESIGN_RATIO
# Creates the rollup ledger NAME (COLUMNS, set_rollup on ts at GRANULARITY
# with METRICS_JSON), COPYs the fields CUT_FIELDS of the data file into
# COPY_COLUMNS (the file is cut beforehand, untimed: a producer would send
# only these columns), checks it against events_heap rolled up by SQL
# (GROUP BY BUCKET, DIMENSIONS) and adds the load rows.
rollup_load() {
	local short=$1 name=$2 gran=$3 fields=$4 cols=$5 copycols=$6 bucket=$7 dims=$8
	local size_tmin=$9 size_text=${10} design=${11}
	local file="$WORK/$name.tsv" t size stats ingested stored segments logical events
	local hsum lsum
	log "rollup $short: $name ($gran by $dims)"
	cut -f"$fields" "$DATA" >"$file"
	psql_q "DROP TABLE IF EXISTS $name" \
		"CREATE TABLE $name ($cols) USING ledger" \
		"SELECT ledger.set_rollup('$name', time_column => 'ts', granularity => '$gran', metrics => '$METRICS_JSON')" >/dev/null
	t=$(copy_into "$name ($copycols)" "$file") || die "COPY into $name failed"
	rm -f "$file"
	log "  COPY $name: $t ms"
	settle "$name" "date_trunc('day', ts)"

	stats=$(psql_q "SELECT rows_ingested, rows_stored, segments FROM ledger.stats('$name')")
	IFS='|' read -r ingested stored segments <<<"$stats"
	logical=$(psql_q "SELECT count(*) FROM $name")
	events=$(psql_q "SELECT sum(events) FROM $name")
	size=$(psql_q "SELECT ledger.table_size('$name')")
	log "  $name: ingested $ingested, stored $stored in $segments segments, logical $logical, sum(events) $events, $(human_bytes "$size")"
	[[ "$ingested" == "$N" ]] || die "WRONG ANSWER: ledger.stats('$name').rows_ingested = $ingested, expected $N"
	[[ "$events" == "$N" ]] || die "WRONG ANSWER: sum(events) of $name = $events, expected $N"

	# every rolled-up row against events_heap rolled up by SQL: count and an
	# order-independent checksum of the rows' text (untimed)
	if [[ "${BENCH_ROLLUP_CHECK:-1}" == 1 ]]; then
		local rowexpr="ROW(ts, $dims, amount, fee, events)::text"
		# work_mem: the heap side hashes up to a few million groups
		hsum=$(psql_q "SET work_mem = '1GB'" "SELECT count(*) || ' ' || sum(hashtextextended($rowexpr, 0)::numeric)
			FROM (SELECT $bucket AS ts, $dims, sum(amount) AS amount, sum(fee) AS fee,
			             count(*) AS events
			      FROM events_heap GROUP BY $bucket, $dims) g")
		lsum=$(psql_q "SELECT count(*) || ' ' || sum(hashtextextended($rowexpr, 0)::numeric) FROM $name")
		if [[ "$hsum" != "$lsum" ]]; then
			log "heap rolled up by SQL: $hsum (rows, checksum); $name: $lsum"
			log "reproduce: SELECT $bucket AS ts, $dims, sum(amount), sum(fee), count(*) FROM events_heap GROUP BY 1, $dims EXCEPT SELECT ts, $dims, amount, fee, events FROM $name"
			die "WRONG ANSWER: the rows of $name differ from events_heap rolled up by SQL"
		fi
		log "  $name: all $logical rows equal events_heap rolled up by SQL"
	fi

	add_result "$short rollup: COPY (ms)" "$HEAP_IDX_COPY" "$t" ms 3 ">= 3x faster"
	add_result "$short rollup: total size" "$HEAP_IDX_SIZE" "$size" bytes "$size_tmin" "$size_text"
	add_result "$short rollup: rows stored (physical)" "$N" "$stored" "" "" "in $segments segment(s)"
	add_result "$short rollup: rows logical = rollup ratio" "$N" "$logical" "" "" "design: $design at 10M"
}

section_rollup_1h() {
	rollup_enabled || return 0
	local dims="method, status, currency, card_issuer, channel"
	if [[ $LEDGER == 1 ]]; then
		rollup_load 1h events_1h "1 hour" 1,3,4,5,6,7,9,10 \
			"ts timestamptz NOT NULL, method text, status text, currency text,
			 card_issuer text, channel text, amount bigint, fee bigint, events bigint" \
			"ts, $dims, amount, fee" "date_trunc('hour', ts)" "$dims" \
			100 ">= 100x smaller" "~25x"
	fi
	log "rollup 1h: dashboard queries, events_heap_idx vs events_1h"
	compare_pair "1h: approved by day,method, 7 days (ms)" 100 ">= 100x faster" \
		"SELECT date_trunc('day', ts) AS day, method, count(*) AS events, sum(amount) AS amount
		 FROM events_heap_idx WHERE status = 'approved' AND $LAST_7_DAYS
		 GROUP BY 1, 2 ORDER BY 1, 2" \
		"SELECT date_trunc('day', ts) AS day, method, sum(events) AS events, sum(amount) AS amount
		 FROM events_1h WHERE status = 'approved' AND $LAST_7_DAYS
		 GROUP BY 1, 2 ORDER BY 1, 2"
	compare_pair "1h: declined % by issuer,hour, 1 day (ms)" 100 ">= 100x faster" \
		"SELECT date_trunc('hour', ts) AS hour, card_issuer, count(*) AS events,
		        count(*) FILTER (WHERE status = 'declined') AS declined,
		        round(100.0 * count(*) FILTER (WHERE status = 'declined') / count(*), 3) AS declined_pct
		 FROM events_heap_idx WHERE $ONE_DAY
		 GROUP BY 1, 2 ORDER BY 1, 2" \
		"SELECT ts AS hour, card_issuer, sum(events) AS events,
		        coalesce(sum(events) FILTER (WHERE status = 'declined'), 0) AS declined,
		        round(100.0 * coalesce(sum(events) FILTER (WHERE status = 'declined'), 0) / sum(events), 3) AS declined_pct
		 FROM events_1h WHERE $ONE_DAY
		 GROUP BY 1, 2 ORDER BY 1, 2"
	compare_pair "1h: by currency,channel, 30 days (ms)" 100 ">= 100x faster" \
		"SELECT currency, channel, count(*) AS events, sum(amount) AS amount, sum(fee) AS fee
		 FROM events_heap_idx WHERE $ALL_30_DAYS
		 GROUP BY 1, 2 ORDER BY 1, 2" \
		"SELECT currency, channel, sum(events) AS events, sum(amount) AS amount, sum(fee) AS fee
		 FROM events_1h WHERE $ALL_30_DAYS
		 GROUP BY 1, 2 ORDER BY 1, 2"
}

section_rollup_1d() {
	rollup_enabled || return 0
	local dims="merchant_id, method, status" label merchant
	if [[ $LEDGER == 1 ]]; then
		rollup_load 1d events_1d "1 day" 1,2,3,4,9,10 \
			"ts timestamptz NOT NULL, merchant_id int, method text, status text,
			 amount bigint, fee bigint, events bigint" \
			"ts, $dims, amount, fee" "date_trunc('day', ts)" "$dims" \
			"" "(no target)" "~3.7x"
	fi
	log "rollup 1d: dashboard queries, events_heap_idx vs events_1d"
	label="1d: top 10 merchants by amount, 1 day (ms)"
	compare_pair "$label" 1 ">= 1 (as heap btree)" \
		"SELECT merchant_id, sum(amount) AS amount, count(*) AS events
		 FROM events_heap_idx WHERE $ONE_DAY
		 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10" \
		"SELECT merchant_id, sum(amount) AS amount, sum(events) AS events
		 FROM events_1d WHERE $ONE_DAY
		 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10"
	# the merchant: the 10th of that day's top 10 (a big one, not the giant)
	merchant=$(tail -n 1 "$WORK/out/${label//[^A-Za-z0-9._-]/_}.heap.txt" | cut -d'|' -f1)
	[[ "$merchant" =~ ^[0-9]+$ ]] || die "no merchant for the one-merchant query"
	log "  one merchant: merchant_id $merchant"
	compare_pair "1d: one merchant by day, 30 days (ms)" 1 ">= 1 (as heap btree)" \
		"SELECT date_trunc('day', ts) AS day, count(*) AS events, sum(amount) AS amount, sum(fee) AS fee
		 FROM events_heap_idx WHERE merchant_id = $merchant AND $ALL_30_DAYS
		 GROUP BY 1 ORDER BY 1" \
		"SELECT ts AS day, sum(events) AS events, sum(amount) AS amount, sum(fee) AS fee
		 FROM events_1d WHERE merchant_id = $merchant AND $ALL_30_DAYS
		 GROUP BY 1 ORDER BY 1"
}

# ------------------------------------------------ selective and 7-day ---
#
# DESIGN.md §5 / issue 4: the RAW ledger events_ledger (LedgerScan: column
# projection, WHERE pushdown to zone maps and bitmaps) against the heap WITH
# its btree indexes, events_heap_idx, on the same events.  Every query runs
# once untimed and then REPEAT times in the same session (warm), on both
# tables; answers diffed.  The ledger's plan is printed once with EXPLAIN
# ANALYZE (untimed, serial so that the LedgerScan counters cover the whole
# scan; in a parallel plan they are the leader's only).

# selective_pair LABEL TARGET_MIN TARGET_TEXT SQL: SQL with {T}
selective_pair() {
	local label=$1 tmin=$2 ttext=$3 sql=$4 th tl="n/a" f sqlh sqll
	f=${label//[^A-Za-z0-9._-]/_}
	sqlh=${sql//\{T\}/events_heap_idx}
	sqll=${sql//\{T\}/events_ledger}
	th=$(time_query_warm "$f.heap" "$sqlh")
	if [[ $LEDGER == 1 ]]; then
		tl=$(time_query_warm "$f.ledger" "$sqll")
		if ! diff -q "$WORK/out/$f.heap.txt" "$WORK/out/$f.ledger.txt" >/dev/null; then
			diff "$WORK/out/$f.heap.txt" "$WORK/out/$f.ledger.txt" | head -n 20 >&2 || true
			log "SQL: $sql"
			add_result "$label" "$th" "$tl" ms "$tmin" "$ttext"
			print_results
			die "WRONG ANSWER: $label differs between events_heap_idx and events_ledger"
		fi
		log "  $label: results identical ($(wc -l <"$WORK/out/$f.heap.txt") rows)"
		{
			echo "$label"
			echo "  SQL: $(tr -s ' \t\n' ' ' <<<"$sqll")"
			echo "  heap plan (timed):    $(psql_q "EXPLAIN (COSTS OFF) $sqlh" |
				grep -Eo '(Parallel )?(Index Only Scan|Index Scan|Bitmap Index Scan|Bitmap Heap Scan|Seq Scan)( using [a-z0-9_]+)?' |
				sort -u | paste -sd, - | sed 's/,/, /g')"
			echo "  ledger plan (timed):  $(psql_q "EXPLAIN (COSTS OFF) $sqll" |
				grep -Eo 'Gather|Custom Scan \((LedgerScan|LedgerAgg)\)|Seq Scan' | sort -u | paste -sd, - | sed 's/,/, /g' || true)"
			echo "  ledger EXPLAIN (ANALYZE), serial, untimed:"
			psql_q "SET max_parallel_workers_per_gather = 0" \
				"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) $sqll" |
				grep -E 'LedgerScan|LedgerAgg|Ledger Filter|Columns:|Segments|Rows Selected|Rows Aggregated|Groups:|Blocks Decompressed' |
				sed 's/^ */    /'
		} >>"$WORK/explain.txt"
	fi
	add_result "$label" "$th" "$tl" ms "$tmin" "$ttext"
}

section_selective() {
	selective_enabled || return 0
	local since merchant issuer
	# "the last 7 days": max(ts) - 7 days, computed once, a constant
	since=$(psql_q "SELECT max(ts) - interval '7 days' FROM events_heap_idx")
	# a busy merchant but not the giant: the 10th by events in those 7 days;
	# a mid-size issuer: the 5th by events on the day
	merchant=$(psql_q "SELECT merchant_id FROM events_heap_idx WHERE ts >= '$since'
		GROUP BY 1 ORDER BY count(*) DESC, 1 OFFSET 9 LIMIT 1")
	issuer=$(psql_q "SELECT card_issuer FROM events_heap_idx WHERE $ONE_DAY AND card_issuer IS NOT NULL
		GROUP BY 1 ORDER BY count(*) DESC, 1 OFFSET 4 LIMIT 1")
	[[ "$merchant" =~ ^[0-9]+$ && -n "$issuer" ]] || die "no merchant or issuer for the selective queries"
	issuer=${issuer//\'/\'\'}
	log "selective and 7-day: events_heap_idx vs events_ledger (since '$since', merchant $merchant, issuer '$issuer')"
	add_heading ""
	add_heading "selective and 7-day queries: heap = events_heap_idx (btree indexes as above), ledger = events_ledger (raw);"
	add_heading "each query run once untimed (warm), then median of $REPEAT in the same session; last 7 days = ts >= '$since'"
	add_heading ""
	selective_pair "merchant $merchant by day, 7 days (ms)" 1 ">= 1 (as heap btree)" \
		"SELECT date_trunc('day', ts) AS day, count(*) AS events, sum(amount) AS amount, sum(fee) AS fee
		 FROM {T} WHERE merchant_id = $merchant AND ts >= '$since'
		 GROUP BY 1 ORDER BY 1"
	selective_pair "issuer by status, 1 day (ms)" 1 ">= 1 (as heap btree)" \
		"SELECT status, count(*) AS events, sum(amount) AS amount
		 FROM {T} WHERE card_issuer = '$issuer' AND $ONE_DAY
		 GROUP BY 1 ORDER BY 1"
	selective_pair "not approved by day,status, 7 days (ms)" 5 ">= 5x faster" \
		"SELECT date_trunc('day', ts) AS day, status, count(*) AS events, sum(amount) AS amount
		 FROM {T} WHERE status <> 'approved' AND ts >= '$since'
		 GROUP BY 1, 2 ORDER BY 1, 2"
	selective_pair "attrs->>'country' by day, 7 days (ms)" 5 ">= 5x faster" \
		"SELECT date_trunc('day', ts) AS day, attrs->>'country' AS country, count(*) AS events
		 FROM {T} WHERE ts >= '$since'
		 GROUP BY 1, 2 ORDER BY 1, 2"
	selective_pair "full scan: by day,method, all rows (ms)" 3 ">= 3x faster" \
		"SELECT date_trunc('day', ts) AS day, method, count(*) AS events, sum(amount) AS amount, sum(fee) AS fee
		 FROM {T} GROUP BY 1, 2 ORDER BY 1, 2"
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

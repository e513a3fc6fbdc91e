#!/usr/bin/env bash
#
# test/bench/upsert.sh [N] - keyed ingestion (idempotent upserts) against
# PostgreSQL heap, measured in the same run on a throwaway cluster
#
#   N                  events (default 1000000, or BENCH_N)
#
# Environment:
#   BENCH_N            events, when no argument is given (default 1000000)
#   BENCH_BATCH        events per ledger.upsert_batch call (default 1000)
#   BENCH_SEED         generator seed (default 42)
#   BENCH_PORT         port of the throwaway cluster (default 54330)
#   BENCH_TMPDIR       where the temp dir is created (default /tmp)
#   BENCH_KEEP=1       keep the cluster running and the temp dir at the end
#   BENCH_PRELOAD=1    shared_preload_libraries = 'ledger' (compaction worker)
#   BENCH_COMPACTION=0 with BENCH_PRELOAD=1: ledger.enable_compaction = off
#   BENCH_NO_INSTALL=1 skip "make install"
#   BENCH_OUT=file     also write the results table to file
#   PG_CONFIG          pg_config of the server to use (default: PostgreSQL 15's)
#
# Sections (README.md, "Keyed ingestion"):
#   (a) ledger.upsert_batch, BENCH_BATCH events per call and per transaction,
#       one client (psql -f of a generated SQL file): new keys, then a full
#       replay (all unchanged), into a keyed rollup ledger and a keyed raw
#       ledger; the same arrays into a heap table with a primary key through
#       INSERT ... SELECT FROM unnest(...) ON CONFLICT (event_id) DO UPDATE
#       ... WHERE version < excluded.version; and the floor: the same
#       statements with SELECT cardinality(...) (send and parse only);
#   (b) COPY of the N events into heap (no index), heap with the primary key,
#       an unkeyed and a keyed raw ledger, an unkeyed and a keyed rollup
#       ledger: seconds and the keyed / unkeyed ratio;
#   (c) COPY of the same file again into the keyed ledgers (all unchanged),
#       and the heap's bulk equivalent (INSERT ... SELECT ... ON CONFLICT).
#
# Exit status: 0 measured (a missed target is a MISS in the table), 1 error or
# wrong answer (a ledger's rows, keys or outcome counts are not what the
# events say).

set -eEuo pipefail
trap 'log "failed (status $?) at line $LINENO: $BASH_COMMAND"' ERR
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning -c timezone=UTC"

N=${1:-${BENCH_N:-1000000}}
BATCH=${BENCH_BATCH:-1000}
SEED=${BENCH_SEED:-42}
TARGET_EPS=100000    # DESIGN.md §5: idempotent upserts, one client, batches of 1,000
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
if [[ -z "${PG_CONFIG:-}" ]]; then
	if [[ -x /usr/lib/postgresql/15/bin/pg_config ]]; then
		PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
	else
		PG_CONFIG=pg_config
	fi
fi
PG_BINDIR=$("$PG_CONFIG" --bindir)
# psql of the same major version as the server, whatever comes first on PATH
export PATH="$PG_BINDIR:$PATH"

[[ "$N" =~ ^[0-9]+$ && "$N" -gt 0 ]] || { echo "N must be a positive integer" >&2; exit 1; }
[[ "$BATCH" =~ ^[0-9]+$ && "$BATCH" -gt 0 ]] || { echo "BENCH_BATCH must be a positive integer" >&2; exit 1; }

log() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- setup ---

WORK=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/ledger-upsert.XXXXXX")
chmod 755 "$WORK"
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
		log "cluster still running: psql -h $WORK -p ${PGPORT:-} -U postgres -d bench"
		log "stop it with: runuser -u postgres -- $PG_BINDIR/pg_ctl -D $PGDATA_DIR stop -m fast"
		exit $rc
	fi
	if [[ -f "$PGDATA_DIR/postmaster.pid" ]]; then
		as_postgres "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null 2>&1 ||
			as_postgres "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -m immediate -w stop >/dev/null 2>&1 || true
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

# the cluster of run.sh (same settings), on its own port
start_cluster() {
	export PGHOST="$WORK" PGPORT="${BENCH_PORT:-54330}" PGUSER=postgres PGDATABASE=bench
	if [[ $(id -u) == 0 ]]; then
		chown -R postgres: "$WORK"
	fi
	log "initdb in $PGDATA_DIR (port $PGPORT)"
	as_postgres "$PG_BINDIR/initdb" -D "$PGDATA_DIR" -A trust -U postgres \
		-E UTF8 --locale=C >"$WORK/initdb.log" 2>&1 || {
		cat "$WORK/initdb.log" >&2
		die "initdb failed"
	}
	cat >>"$PGDATA_DIR/postgresql.conf" <<-EOF

		# ledger upsert benchmark
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

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
eps() { awk -v n="$N" -v s="$1" 'BEGIN { printf "%.0f", (s > 0) ? n / s : 0 }'; }

# add_row METRIC SECONDS RATIO_TEXT [TARGET_TEXT VERDICT]
add_row() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$(eps "$2")" "$3" "${4:-}" "${5:-}" >>"$RESULTS"
}

add_heading() { printf '# %s\n' "$1" >>"$RESULTS"; }

# verdict EVENTS_PER_S: ok or MISS against TARGET_EPS
verdict() { awk -v e="$1" -v t="$TARGET_EPS" 'BEGIN { print (e >= t) ? "ok" : "MISS" }'; }

print_results() {
	local f="$WORK/table.txt"
	{
		echo
		echo "ledger upsert benchmark: N=$N batch=$BATCH seed=$SEED, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, PostgreSQL ${PGVER:-?}"
		echo
		awk -F'\t' '
			BEGIN { printf "%-50s | %9s | %11s | %-40s | %-14s | %s\n", "metric", "seconds", "events/s", "ratio", "target", "";
			        print "---------------------------------------------------+-----------+-------------+------------------------------------------+----------------+-----" }
			/^#/ { sub(/^# ?/, "", $0); print; next }
			function grouped(n,   s) {
				s = sprintf("%d", n)
				while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9](,|$)/, ",&", s)
				return s
			}
			{ printf "%-50s | %9.2f | %11s | %-40s | %-14s | %s\n", $1, $2, grouped($3), $4, $5, $6 }' "$RESULTS"
		if [[ -s "$WORK/notes.txt" ]]; then
			echo
			cat "$WORK/notes.txt"
		fi
		echo
	} >"$f"
	cat "$f"
	PRINTED=1
	if [[ -n "${BENCH_OUT:-}" ]]; then cp "$f" "$BENCH_OUT"; fi
}

note() { echo "$*" >>"$WORK/notes.txt"; log "  $*"; }

# ----------------------------------------------------------- the tables ---
#
# One row shape everywhere: the hourly rollup of run.sh's events_1h plus the
# event key and version (fields 1,3,4,5,6,7,9,10,11,12 of the data file;
# "events" is not in the file: a NULL counts 1).

COLUMNS="ts timestamptz NOT NULL, method text, status text, currency text,
	card_issuer text, channel text, amount bigint, fee bigint, events bigint,
	event_id text, version bigint"
FILE_COLUMNS="ts, method, status, currency, card_issuer, channel, amount, fee, event_id, version"
# an unkeyed rollup ledger has no key and version columns (they would be
# dimensions, one group per event): it loads the file without those fields
COLUMNS_NOKEY="ts timestamptz NOT NULL, method text, status text, currency text,
	card_issuer text, channel text, amount bigint, fee bigint, events bigint"
FILE_COLUMNS_NOKEY="ts, method, status, currency, card_issuer, channel, amount, fee"
ROLLUP="time_column => 'ts', granularity => '1 hour',
	metrics => '{\"amount\":\"sum\",\"fee\":\"sum\",\"events\":\"count\"}'"
UPDATE_SET="ts = excluded.ts, method = excluded.method, status = excluded.status,
	currency = excluded.currency, card_issuer = excluded.card_issuer,
	channel = excluded.channel, amount = excluded.amount, fee = excluded.fee,
	events = excluded.events, version = excluded.version"

# create_table NAME KIND: heap, heap_pk, raw, raw_keyed, rollup, rollup_keyed
create_table() {
	local t=$1 kind=$2
	case $kind in
		heap) psql_q "CREATE TABLE $t ($COLUMNS)" ;;
		heap_pk) psql_q "CREATE TABLE $t ($COLUMNS, PRIMARY KEY (event_id))" ;;
		raw) psql_q "CREATE TABLE $t ($COLUMNS) USING ledger" ;;
		raw_keyed) psql_q "CREATE TABLE $t ($COLUMNS) USING ledger" \
			"SELECT ledger.set_key('$t', 'event_id', 'version')" ;;
		rollup) psql_q "CREATE TABLE $t ($COLUMNS_NOKEY) USING ledger" \
			"SELECT ledger.set_rollup('$t', $ROLLUP)" ;;
		rollup_keyed) psql_q "CREATE TABLE $t ($COLUMNS) USING ledger" \
			"SELECT ledger.set_rollup('$t', $ROLLUP, key_column => 'event_id', version_column => 'version')" ;;
		*) die "unknown table kind $kind" ;;
	esac >/dev/null
}

# rollup checksum of a relation with the table's columns: rows, events and
# an order-independent hash of every (hour, dimensions, sums) row
rollup_sum() {
	psql_q "SELECT count(*) || ' groups, ' || sum(e) || ' events, ' || sum(a) || ' amount, '
		|| sum(hashtextextended(ROW(h, method, status, currency, card_issuer, channel, a, f, e)::text, 0))
		FROM (SELECT date_trunc('hour', ts) AS h, method, status, currency, card_issuer, channel,
			  sum(amount) AS a, sum(fee) AS f, sum(coalesce(events, 1)) AS e
			  FROM $1 GROUP BY 1, 2, 3, 4, 5, 6) g"
}

# keys of a keyed ledger in ledger.keys
keys_of() {
	psql_q "SELECT coalesce((SELECT keys FROM ledger.keys WHERE ledger = '$1'::regclass), 0)"
}

# expect WHAT GOT WANT: dies with WRONG ANSWER when they differ
expect() {
	[[ "$2" == "$3" ]] || die "WRONG ANSWER: $1: got '$2', expected '$3'"
}

# run_batches TABLE PRE POST: runs the batch file with :pre and :post around
# each array (one statement per batch, autocommit), prints seconds; the
# session's ledger.ingest_counts(TABLE) (ledger tables) go to
# $WORK/counts.txt as inserted|replaced|unchanged|stale|unkeyed
run_batches() {
	local t=$1 pre=$2 post=$3 t0 t1 after=()
	: >"$WORK/counts.txt"
	if [[ $t != heap:* ]]; then
		after=(-c "\\o $WORK/counts.txt" -c "SELECT * FROM ledger.ingest_counts('$t')")
	fi
	psql_q "CHECKPOINT" >/dev/null
	t0=$(now)
	psql -X -q -v ON_ERROR_STOP=1 -At -o /dev/null -v "pre=$pre" -v "post=$post" \
		-f "$WORK/batches.sql" "${after[@]}"
	t1=$(now)
	elapsed "$t0" "$t1"
}

# copy_into TABLE [COUNTS]: COPY the events into TABLE after a CHECKPOINT
# (the file without key and version into c_1h), in one session that then
# prints ledger.ingest_counts (COUNTS=1: keyed ledgers) to $WORK/counts.txt;
# prints seconds as measured by psql's \timing
copy_into() {
	local t=$1 counts=${2:-0} ms args=() cols=$FILE_COLUMNS file=$KEYED
	if [[ $t == c_1h ]]; then
		cols=$FILE_COLUMNS_NOKEY
		file=$NOKEY
	fi
	: >"$WORK/counts.txt"
	args=(-c '\timing on' -c "COPY $t ($cols) FROM '$file'" -c '\timing off')
	if [[ $counts == 1 ]]; then
		args+=(-c "\\o $WORK/counts.txt" -c "SELECT * FROM ledger.ingest_counts('$t')")
	fi
	psql_q "CHECKPOINT" >/dev/null
	ms=$(psql -X -q -v ON_ERROR_STOP=1 -At "${args[@]}" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | head -n 1)
	[[ -n "$ms" ]] || die "no timing for COPY into $t"
	awk -v ms="$ms" 'BEGIN { printf "%.3f", ms / 1000 }'
}

# ------------------------------------------------------------- sections ---

# (a) ledger.upsert_batch from one client against heap INSERT ... ON CONFLICT
section_upsert_batch() {
	log "(a) upsert_batch, $BATCH events per call, one client"
	create_table a_1h rollup_keyed
	create_table a_raw raw_keyed
	create_table a_heap heap_pk
	local heap_pre heap_post s_1h s_1h_re s_raw s_raw_re s_heap s_heap_re c r
	heap_pre="INSERT INTO a_heap SELECT * FROM unnest("
	heap_post=") ON CONFLICT (event_id) DO UPDATE SET ${UPDATE_SET//[$'\n\t']/ } WHERE a_heap.version < excluded.version"

	local ks0 ks1 ks2 s_floor
	# the floor: sending and parsing the arrays, doing nothing with them
	s_floor=$(run_batches heap:none "SELECT cardinality(" ")")
	log "  arrays sent and parsed only: $s_floor s"
	s_heap=$(run_batches heap:a_heap "$heap_pre" "$heap_post")
	log "  heap PK, new keys: $s_heap s"
	ks0=$(psql_q "SELECT pg_total_relation_size('ledger.key_store')")
	s_1h=$(run_batches a_1h "SELECT ledger.upsert_batch('a_1h', " ")")
	c=$(cat "$WORK/counts.txt")
	log "  rollup keyed, new keys: $s_1h s ($c)"
	expect "a_1h outcomes, new keys" "$c" "$N|0|0|0|0"
	ks1=$(psql_q "SELECT pg_total_relation_size('ledger.key_store')")
	s_raw=$(run_batches a_raw "SELECT ledger.upsert_batch('a_raw', " ")")
	c=$(cat "$WORK/counts.txt")
	log "  raw keyed, new keys: $s_raw s ($c)"
	expect "a_raw outcomes, new keys" "$c" "$N|0|0|0|0"
	ks2=$(psql_q "SELECT pg_total_relation_size('ledger.key_store')")

	s_heap_re=$(run_batches heap:a_heap "$heap_pre" "$heap_post")
	log "  heap PK, replay: $s_heap_re s"
	s_1h_re=$(run_batches a_1h "SELECT ledger.upsert_batch('a_1h', " ")")
	c=$(cat "$WORK/counts.txt")
	log "  rollup keyed, replay: $s_1h_re s ($c)"
	expect "a_1h outcomes, replay" "$c" "0|0|$N|0|0"
	s_raw_re=$(run_batches a_raw "SELECT ledger.upsert_batch('a_raw', " ")")
	c=$(cat "$WORK/counts.txt")
	log "  raw keyed, replay: $s_raw_re s ($c)"
	expect "a_raw outcomes, replay" "$c" "0|0|$N|0|0"

	# answers (untimed)
	expect "a_heap rows" "$(psql_q 'SELECT count(*) FROM a_heap')" "$N"
	expect "a_raw rows" "$(psql_q 'SELECT count(*) FROM a_raw')" "$N"
	expect "a_1h keys" "$(keys_of a_1h)" "$N"
	expect "a_raw keys" "$(keys_of a_raw)" "$N"
	r=$(rollup_sum stage)
	expect "a_1h rolled up" "$(rollup_sum a_1h)" "$r"
	expect "a_raw rolled up" "$(rollup_sum a_raw)" "$r"
	expect "a_heap rolled up" "$(rollup_sum a_heap)" "$r"
	log "  answers checked: $r"

	add_heading ""
	add_heading "(a) ledger.upsert_batch, $BATCH events per call and per transaction, one client (psql -f);"
	add_heading "    heap PK: INSERT INTO t SELECT * FROM unnest(<same array>) ON CONFLICT (event_id) DO UPDATE ... WHERE t.version < excluded.version"
	add_heading "    ratio = ledger events/s / heap PK events/s (> 1: the ledger is faster)"
	add_heading ""
	add_row "floor: send + parse the arrays (cardinality)" "$s_floor" ""
	add_row "heap PK ON CONFLICT: new keys" "$s_heap" ""
	add_row "heap PK ON CONFLICT: replay (no row changes)" "$s_heap_re" ""
	add_row "rollup 1h keyed: new keys" "$s_1h" "$(div "$s_heap" "$s_1h") x heap PK" ">= 100,000/s" "$(verdict "$(eps "$s_1h")")"
	add_row "rollup 1h keyed: replay (all unchanged)" "$s_1h_re" "$(div "$s_heap_re" "$s_1h_re") x heap PK" ">= 100,000/s" "$(verdict "$(eps "$s_1h_re")")"
	add_row "raw keyed: new keys" "$s_raw" "$(div "$s_heap" "$s_raw") x heap PK" ">= 100,000/s" "$(verdict "$(eps "$s_raw")")"
	add_row "raw keyed: replay (all unchanged)" "$s_raw_re" "$(div "$s_heap_re" "$s_raw_re") x heap PK" ">= 100,000/s" "$(verdict "$(eps "$s_raw_re")")"
	note "key store (ledger.key_store with its indexes) grew by $(awk -v a="$ks0" -v b="$ks1" -v n="$N" 'BEGIN { printf "%.0f", (b - a) / n }') bytes per key of the rollup ledger (which keeps each key's contribution), $(awk -v a="$ks1" -v b="$ks2" -v n="$N" 'BEGIN { printf "%.0f", (b - a) / n }') per key of the raw ledger"
	note "heap PK table after (a): $(psql_q "SELECT pg_size_pretty(pg_total_relation_size('a_heap')) || ', '
		|| round(pg_total_relation_size('a_heap')::numeric / $N) || ' bytes per row'")"
	psql_q "DROP TABLE a_1h, a_raw, a_heap" >/dev/null
}

# (b) COPY into keyed and unkeyed ledgers; (c) COPY replay into the keyed ones
section_copy() {
	log "(b) COPY of $N events"
	local t kind s_heap s_pk s_raw s_kraw s_1h s_k1h s_kraw_re s_k1h_re s_pk_re c r
	for t in c_heap:heap c_pk:heap_pk c_raw:raw c_kraw:raw_keyed c_1h:rollup c_k1h:rollup_keyed; do
		create_table "${t%%:*}" "${t#*:}"
	done
	s_heap=$(copy_into c_heap)
	log "  heap: $s_heap s"
	s_pk=$(copy_into c_pk)
	log "  heap PK: $s_pk s"
	s_raw=$(copy_into c_raw)
	log "  raw unkeyed: $s_raw s"
	s_kraw=$(copy_into c_kraw 1)
	c=$(cat "$WORK/counts.txt")
	log "  raw keyed: $s_kraw s ($c)"
	expect "c_kraw outcomes" "$c" "$N|0|0|0|0"
	s_1h=$(copy_into c_1h)
	log "  rollup unkeyed: $s_1h s"
	s_k1h=$(copy_into c_k1h 1)
	c=$(cat "$WORK/counts.txt")
	log "  rollup keyed: $s_k1h s ($c)"
	expect "c_k1h outcomes" "$c" "$N|0|0|0|0"

	log "(c) COPY replay of the same file"
	s_kraw_re=$(copy_into c_kraw 1)
	c=$(cat "$WORK/counts.txt")
	log "  raw keyed replay: $s_kraw_re s ($c)"
	expect "c_kraw replay outcomes" "$c" "0|0|$N|0|0"
	s_k1h_re=$(copy_into c_k1h 1)
	c=$(cat "$WORK/counts.txt")
	log "  rollup keyed replay: $s_k1h_re s ($c)"
	expect "c_k1h replay outcomes" "$c" "0|0|$N|0|0"
	# the heap's bulk replay: the same rows again through the primary key
	psql_q "CHECKPOINT" >/dev/null
	s_pk_re=$(psql -X -q -v ON_ERROR_STOP=1 -At -c '\timing on' \
		-c "INSERT INTO c_pk SELECT * FROM stage_rows ON CONFLICT (event_id) DO UPDATE SET $UPDATE_SET
			WHERE c_pk.version < excluded.version" |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | awk '{ printf "%.3f", $1 / 1000 }')
	log "  heap PK bulk replay: $s_pk_re s"

	# answers (untimed)
	for t in c_heap c_pk c_raw c_kraw; do
		expect "$t rows" "$(psql_q "SELECT count(*) FROM $t")" "$N"
	done
	expect "c_kraw keys" "$(keys_of c_kraw)" "$N"
	expect "c_k1h keys" "$(keys_of c_k1h)" "$N"
	r=$(rollup_sum c_heap)
	for t in c_pk c_raw c_kraw c_1h c_k1h; do
		expect "$t rolled up" "$(rollup_sum $t)" "$r"
	done
	expect "c_k1h rows = c_1h rows" "$(psql_q 'SELECT count(*) FROM c_k1h')" "$(psql_q 'SELECT count(*) FROM c_1h')"
	expect "c_1h groups < N" "$(psql_q "SELECT count(*) < $N FROM c_1h")" "t"
	log "  answers checked: $r"

	add_heading ""
	add_heading "(b) COPY of the $N events (server-side COPY FROM file, one transaction, after a CHECKPOINT);"
	add_heading "    ratio = seconds / seconds of the table named (> 1: slower)"
	add_heading ""
	add_row "heap, no index" "$s_heap" ""
	add_row "heap, PRIMARY KEY (event_id)" "$s_pk" "$(div "$s_pk" "$s_heap") x heap"
	add_row "raw ledger, unkeyed" "$s_raw" "$(div "$s_raw" "$s_heap") x heap"
	add_row "raw ledger, keyed" "$s_kraw" "$(div "$s_kraw" "$s_raw") x raw unkeyed; $(div "$s_kraw" "$s_pk") x heap PK"
	add_row "rollup 1h ledger, unkeyed (no key/version cols)" "$s_1h" "$(div "$s_1h" "$s_heap") x heap"
	add_row "rollup 1h ledger, keyed" "$s_k1h" "$(div "$s_k1h" "$s_1h") x rollup unkeyed; $(div "$s_k1h" "$s_pk") x heap PK"
	add_heading ""
	add_heading "(c) COPY of the same file again (every event unchanged)"
	add_heading ""
	add_row "raw ledger, keyed: replay" "$s_kraw_re" "$(div "$s_kraw_re" "$s_kraw") x its first load"
	add_row "rollup 1h ledger, keyed: replay" "$s_k1h_re" "$(div "$s_k1h_re" "$s_k1h") x its first load"
	add_row "heap PK: INSERT..SELECT ON CONFLICT, replay" "$s_pk_re" "$(div "$s_pk_re" "$s_pk") x its COPY"
	note "sizes after (b)+(c): $(psql_q "SELECT string_agg(t || ' ' || pg_size_pretty(s), ', ') FROM (VALUES
		('heap', pg_total_relation_size('c_heap')), ('heap PK', pg_total_relation_size('c_pk')),
		('raw', ledger.table_size('c_raw')), ('raw keyed', ledger.table_size('c_kraw')),
		('rollup', ledger.table_size('c_1h')), ('rollup keyed', ledger.table_size('c_k1h'))) v(t, s)") (ledger.table_size: without the key store)"
}

# ----------------------------------------------------------------- main ---

log "ledger upsert benchmark, N=$N batch=$BATCH seed=$SEED, work dir $WORK"

if [[ "${BENCH_NO_INSTALL:-0}" != 1 ]]; then
	log "make -C $REPO install"
	make -s -C "$REPO" PG_CONFIG="$PG_CONFIG" install >"$WORK/make.log" 2>&1 || {
		tail -n 15 "$WORK/make.log" >&2
		die "make install failed"
	}
fi

log "compiling and running the generator"
cc -O2 -ffp-contract=off -o "$WORK/gen_events" "$BENCH_DIR/gen_events.c" -lm
KEYED="$WORK/keyed.tsv"
"$WORK/gen_events" -n "$N" -s "$SEED" | cut -f 1,3,4,5,6,7,9,10,11,12 >"$KEYED"
NOKEY="$WORK/nokey.tsv"
cut -f 1-8 "$KEYED" >"$NOKEY"
log "  $(wc -c <"$KEYED") bytes, md5 $(md5sum <"$KEYED" | cut -c1-32)"

start_cluster
PGVER=$(psql_q "SHOW server_version" | cut -d' ' -f1)
psql_q "CREATE EXTENSION ledger" >/dev/null

# the events in file order in a heap table (untimed), and the batch file:
# one line per BATCH events, ":pre <array literal>::up_row[] :post;"
log "writing the batch file ($BATCH events per statement)"
psql_q "CREATE TYPE up_row AS ($(sed 's/ NOT NULL//' <<<"$COLUMNS"))" \
	"CREATE TABLE stage ($COLUMNS, line bigint GENERATED ALWAYS AS IDENTITY)" \
	"COPY stage ($FILE_COLUMNS) FROM '$KEYED'" \
	"CREATE VIEW stage_rows AS SELECT ts, method, status, currency, card_issuer, channel,
		amount, fee, events, event_id, version FROM stage" >/dev/null
psql_q "SELECT ':pre ' || quote_literal(array_agg(ROW(ts, method, status, currency, card_issuer,
		channel, amount, fee, events, event_id, version)::up_row ORDER BY line)::text) || '::up_row[] :post;'
	FROM stage GROUP BY (line - 1) / $BATCH ORDER BY (line - 1) / $BATCH" >"$WORK/batches.sql"
log "  $(wc -l <"$WORK/batches.sql") statements, $(wc -c <"$WORK/batches.sql") bytes"
expect "keys in the file" "$(psql_q 'SELECT count(DISTINCT event_id) FROM stage')" "$N"

section_upsert_batch
section_copy
print_results

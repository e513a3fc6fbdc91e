#!/usr/bin/env bash
#
# demo.sh
#	  "make demo": installs what is missing, builds and installs ledger,
#	  starts a throwaway cluster, loads sample payment events into a ledger,
#	  runs a few queries, prints the results, and removes the cluster.
#
# NOTES
#	  The server runs as the OS user LEDGER_DEMO_USER (default "postgres",
#	  since postgres refuses to run as root) in a temporary directory, on
#	  port LEDGER_DEMO_PORT (default 55432) of a Unix socket in that
#	  directory only (no TCP), so it cannot collide with another server.
#	  The trap stops the server and removes the directory however the
#	  script ends.
#
# IDENTIFICATION
#	  scripts/demo.sh
#
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DEMO_USER=${LEDGER_DEMO_USER:-postgres}
PORT=${LEDGER_DEMO_PORT:-55432}
ROWS=${LEDGER_DEMO_ROWS:-20000}
DIR=""

"$ROOT/scripts/deps.sh"

if [ -z "${PG_CONFIG:-}" ]; then
	if [ -x /usr/lib/postgresql/15/bin/pg_config ]; then
		PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
	else
		PG_CONFIG=pg_config
	fi
fi
BINDIR=$("$PG_CONFIG" --bindir)

echo "== building and installing ledger"
make -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG"
make -s PG_CONFIG="$PG_CONFIG" install

# runs a command as the demo user (directly when not root)
as_user()
{
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$DEMO_USER" -- env HOME="$DIR" PATH="$BINDIR:$PATH" "$@"
	else
		env HOME="$DIR" PATH="$BINDIR:$PATH" "$@"
	fi
}

# stops the server and removes the cluster
cleanup()
{
	if [ -n "$DIR" ] && [ -d "$DIR" ]; then
		if [ -f "$DIR/data/postmaster.pid" ]; then
			as_user pg_ctl -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
		fi
		rm -rf "$DIR"
	fi
}
trap cleanup EXIT INT TERM

DIR=$(mktemp -d "${TMPDIR:-/tmp}/ledger-demo.XXXXXX")
chmod 755 "$DIR"
if [ "$(id -u)" -eq 0 ]; then
	chown "$DEMO_USER": "$DIR"
fi

echo "== starting a throwaway cluster in $DIR (port $PORT, Unix socket only)"
as_user initdb -D "$DIR/data" -A trust -E UTF8 --no-locale -U postgres >/dev/null
cat >>"$DIR/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$DIR'
port = $PORT
shared_preload_libraries = 'ledger'
EOF
as_user pg_ctl -D "$DIR/data" -l "$DIR/server.log" -w start >/dev/null

# psql against the demo database, stopping at the first error
psql_demo()
{
	as_user psql -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -U postgres -d postgres "$@"
}

psql_demo -v rows="$ROWS" <<'SQL'
\pset footer off
CREATE EXTENSION ledger;

\echo
\echo == a heap table of merchants and a ledger of payment events
CREATE TABLE merchants (
	merchant_id int PRIMARY KEY,
	name        text NOT NULL,
	country     text NOT NULL
);
INSERT INTO merchants
SELECT i, 'merchant ' || i, (ARRAY['DE', 'FR', 'NL', 'US', 'GB'])[1 + i % 5]
FROM generate_series(1, 40) AS i;

CREATE TABLE payments (
	ts          timestamptz NOT NULL,
	event_id    uuid NOT NULL,
	merchant_id int NOT NULL,
	method      text,
	status      text,
	currency    text,
	amount      bigint,
	fee         bigint,
	attrs       jsonb
) USING ledger;

-- deterministic sample events spread over 7 days: events first..last of total
CREATE FUNCTION sample_events(first int, last int, total int) RETURNS SETOF payments
LANGUAGE sql AS $$
SELECT timestamptz '2024-03-01 00:00:00+00'
		   + ((i - 1)::float8 / total * 7 * 86400) * interval '1 second',
	   md5('event ' || i)::uuid,
	   1 + (i * 7919) % 40,
	   (ARRAY['card', 'card', 'card', 'sepa', 'paypal', 'apple_pay'])[1 + (i * 31) % 6],
	   CASE WHEN i % 23 = 0 THEN 'failed'
			WHEN i % 41 = 0 THEN 'refunded' ELSE 'captured' END,
	   (ARRAY['EUR', 'EUR', 'USD', 'GBP'])[1 + (i * 13) % 4],
	   100 + (i * 104729) % 20000,
	   10 + (i * 7) % 90,
	   jsonb_build_object('issuer', (ARRAY['visa', 'mastercard', 'amex'])[1 + i % 3],
						  'channel', CASE WHEN i % 3 = 0 THEN 'app' ELSE 'web' END)
FROM generate_series(first, last) AS i
$$;

-- two thirds with INSERT ... SELECT, in two transactions (each commit
-- writes a segment)
SELECT (:rows / 3) AS a, (2 * :rows / 3) AS b \gset
INSERT INTO payments SELECT * FROM sample_events(1, :a, :rows);
INSERT INTO payments SELECT * FROM sample_events(:a + 1, :b, :rows);
SQL

echo "== loading the last third with COPY"
psql_demo -c "COPY (SELECT * FROM sample_events($((2 * ROWS / 3 + 1)), $ROWS, $ROWS)) TO STDOUT" |
	psql_demo -c "COPY payments FROM STDIN"

psql_demo <<'SQL'
\pset footer off
CREATE TABLE payments_heap AS SELECT * FROM payments;
ANALYZE payments;
ANALYZE payments_heap;

\echo
\echo == rows loaded
SELECT count(*) AS events, min(ts) AS first_event, max(ts) AS last_event FROM payments;

\echo
\echo == totals by day
SELECT (ts AT TIME ZONE 'UTC')::date AS day,
	   count(*) AS events,
	   sum(amount) AS amount,
	   sum(fee) AS fees
FROM payments
GROUP BY 1
ORDER BY 1;

\echo
\echo == by method and status
SELECT method, status, count(*) AS events, sum(amount) AS amount,
	   round(avg(amount), 2) AS avg_amount
FROM payments
GROUP BY method, status
ORDER BY method, status;

\echo
\echo == top merchants (join with the heap table merchants)
SELECT m.name, m.country, count(*) AS events, sum(p.amount) AS amount
FROM payments p
JOIN merchants m USING (merchant_id)
WHERE p.status = 'captured'
GROUP BY m.name, m.country
ORDER BY amount DESC, m.name
LIMIT 10;

\echo
\echo == card issuers from the jsonb attributes, by currency
SELECT attrs ->> 'issuer' AS issuer, currency, count(*) AS events, sum(amount) AS amount
FROM payments
WHERE method = 'card'
GROUP BY 1, 2
ORDER BY 1, 2;

\echo
\echo == the same totals from the heap copy agree
SELECT (SELECT sum(amount) FROM payments) = (SELECT sum(amount) FROM payments_heap) AS sums_equal,
	   (SELECT count(*) FROM (SELECT * FROM payments EXCEPT ALL SELECT * FROM payments_heap) d) = 0
	   AND (SELECT count(*) FROM (SELECT * FROM payments_heap EXCEPT ALL SELECT * FROM payments) d) = 0
		   AS same_rows;

\echo
\echo == SELECT * FROM ledger.segments
SELECT * FROM ledger.segments ORDER BY ledger::text, segment_id;

\echo
\echo == idempotent ingestion: an hourly rollup keyed by event_id
CREATE TABLE payments_1h (LIKE payments) USING ledger;
ALTER TABLE payments_1h ADD COLUMN version bigint, ADD COLUMN events bigint;
SELECT ledger.set_rollup('payments_1h', time_column => 'ts', granularity => '1 hour',
	metrics => '{"amount":"sum","fee":"sum","events":"count"}',
	key_column => 'event_id', version_column => 'version');
BEGIN;
INSERT INTO payments_1h SELECT *, 1, NULL FROM payments;
SELECT ledger.commit_offset('demo:payments', 0, (SELECT count(*) FROM payments));
COMMIT;
\echo -- the same events replayed (a consumer restarted without its offsets)
INSERT INTO payments_1h SELECT *, 1, NULL FROM payments;
\echo -- a correction: a newer version of one event, in another hour
SELECT ledger.upsert('payments_1h', ROW(ts + interval '2 hours', event_id, merchant_id,
	method, status, currency, amount + 1000, fee, attrs, 2, NULL)::payments_1h)
FROM payments ORDER BY ts LIMIT 1;
SELECT * FROM ledger.ingest_counts('payments_1h');
SELECT (SELECT sum(events) FROM payments_1h) AS events,
	   (SELECT sum(amount) FROM payments_1h) - (SELECT sum(amount) FROM payments) AS amount_change,
	   (SELECT count(*) FROM payments_1h) AS rows_stored;
SELECT * FROM ledger.offsets;

\echo
\echo == storage: ledger vs heap
SELECT pg_size_pretty(ledger.table_size('payments')) AS ledger_size,
	   pg_size_pretty(pg_total_relation_size('payments_heap')) AS heap_size,
	   round(pg_total_relation_size('payments_heap')::numeric
			 / nullif(ledger.table_size('payments'), 0), 1) AS heap_to_ledger_ratio;
SQL

echo
echo "== done; stopping the cluster"

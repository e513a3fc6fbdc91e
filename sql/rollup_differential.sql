-- differential check: a rollup ledger equals heap GROUP BY over the same rows
-- (dimensions of several types with NULLs, numeric values that differ only
-- in scale, text under a non-C collation, 1-day buckets in America/New_York
-- across the March 2026 DST change, keys spread over many segments and the
-- write buffer, savepoint rollbacks)
SET ledger.segment_rows = 1000;
CREATE TABLE dsrc AS
SELECT '2026-03-04 00:00:00+00'::timestamptz
		 + ((hashint4(g) % 1000000 + 1000000) % 1000000) * interval '1 second' AS ts,
	   (CASE WHEN g % 17 = 0 THEN NULL ELSE (hashint4(g + 1) % 20 + 20) % 20 END)::int AS m,
	   (ARRAY['card', 'sepa', 'ideal', NULL, 'Éclair', 'éclair', 'eclair'])[(g % 7) + 1] AS method,
	   (CASE g % 3 WHEN 0 THEN 1.0 WHEN 1 THEN 1.00 ELSE 2.5 END)::numeric AS nk,
	   (g % 4 = 0) AS flag,
	   (hashint4(g + 2) % 1000)::bigint AS amount,
	   CASE WHEN g % 11 = 0 THEN NULL ELSE (g % 7)::numeric / 3 END AS fee,
	   CASE WHEN g % 5 = 0 THEN 2 END::bigint AS cnt,
	   g AS v,
	   'k' || g AS event_id
FROM generate_series(1, 40000) g;

CREATE TABLE dl (ts timestamptz NOT NULL, m int, method text COLLATE "en-x-icu",
				 nk numeric, flag bool, amount bigint, fee numeric, cnt bigint,
				 v int, event_id text) USING ledger;
SELECT ledger.set_rollup('dl', 'ts', '1 day',
	'{"amount":"sum","fee":"sum","cnt":"count","v":"max"}',
	time_zone => 'America/New_York', key_column => 'event_id');

-- load in pieces: committed, rolled back to a savepoint, buffered
INSERT INTO dl SELECT * FROM dsrc WHERE v % 4 = 0;
BEGIN;
INSERT INTO dl SELECT * FROM dsrc WHERE v % 4 = 1;
SAVEPOINT s1;
INSERT INTO dl SELECT * FROM dsrc WHERE v % 4 = 2;
INSERT INTO dl SELECT * FROM dsrc WHERE v % 4 = 2;
ROLLBACK TO s1;
INSERT INTO dl SELECT * FROM dsrc WHERE v % 4 = 2;
INSERT INTO dl SELECT * FROM dsrc WHERE v % 4 = 3;

CREATE TEMP VIEW dexpect AS
SELECT date_trunc('day', ts, 'America/New_York') AS ts, m,
	   method COLLATE "en-x-icu" AS method, nk, flag,
	   sum(amount) AS amount, sum(fee) AS fee, sum(coalesce(cnt, 1)) AS cnt,
	   max(v) AS v, NULL::text AS event_id
FROM dsrc GROUP BY 1, 2, 3, 4, 5;

-- inside the transaction (buffered rows included) ...
SELECT (SELECT count(*) FROM dl) AS ledger_rows, (SELECT count(*) FROM dexpect) AS expected_rows;
SELECT count(*) AS missing FROM (SELECT * FROM dexpect EXCEPT ALL SELECT * FROM dl) x;
SELECT count(*) AS extra FROM (SELECT * FROM dl EXCEPT ALL SELECT * FROM dexpect) x;
COMMIT;

-- ... and after commit, spread over many segments
SELECT count(*) > 10 AS many_segments FROM ledger.segments WHERE ledger = 'dl'::regclass;
SELECT count(*) AS missing FROM (SELECT * FROM dexpect EXCEPT ALL SELECT * FROM dl) x;
SELECT count(*) AS extra FROM (SELECT * FROM dl EXCEPT ALL SELECT * FROM dexpect) x;
SELECT rows_ingested = (SELECT sum(coalesce(cnt, 1)) FROM dsrc) AS all_events_counted
  FROM ledger.stats('dl');

-- day buckets start at local midnight, before and after the DST change
SELECT DISTINCT ts AT TIME ZONE 'America/New_York' AS local_midnight,
	   extract(hour FROM ts AT TIME ZONE 'UTC') AS utc_hour
  FROM dl WHERE ts BETWEEN '2026-03-07' AND '2026-03-10' ORDER BY 1;

-- aggregates agree with the raw rows
SELECT (SELECT sum(amount) FROM dl) = (SELECT sum(amount) FROM dsrc) AS amount_ok,
	   (SELECT sum(fee) FROM dl) = (SELECT sum(fee) FROM dsrc) AS fee_ok,
	   (SELECT sum(cnt) FROM dl) = (SELECT sum(coalesce(cnt, 1)) FROM dsrc) AS count_ok,
	   (SELECT count(DISTINCT method) FROM dl) = (SELECT count(DISTINCT method COLLATE "en-x-icu") FROM dsrc) AS methods_ok;

-- a second ledger re-loaded from the first reads the same
CREATE TABLE dl2 (LIKE dl) USING ledger;
SELECT ledger.set_rollup('dl2', 'ts', '1 day',
	'{"amount":"sum","fee":"sum","cnt":"count","v":"max"}',
	time_zone => 'America/New_York', key_column => 'event_id');
COPY dl TO '/tmp/ledger_rollup_diff.copy';
COPY dl2 FROM '/tmp/ledger_rollup_diff.copy';
SELECT count(*) AS differences FROM
	((SELECT * FROM dl EXCEPT ALL SELECT * FROM dl2) UNION ALL
	 (SELECT * FROM dl2 EXCEPT ALL SELECT * FROM dl)) x;

DROP VIEW dexpect;
DROP TABLE dl, dl2, dsrc;
RESET ledger.segment_rows;

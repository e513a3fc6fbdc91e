-- ledger.compact(): merging, re-rollup, policies, errors.  Query results
-- must be identical before and after every compaction.
SET TimeZone = 'UTC';

-- a rollup ledger written by many small transactions -----------------------
CREATE TABLE cp (ts timestamptz NOT NULL, merchant int, status text,
                 amount bigint, events bigint) USING ledger;
SELECT ledger.set_rollup('cp', time_column => 'ts', granularity => '1 hour',
                         metrics => '{"amount":"sum","events":"count"}');
INSERT INTO cp SELECT '2020-03-01'::timestamptz + (i % 50) * interval '23 minutes',
                      i % 5, CASE WHEN i % 3 = 0 THEN 'ok' ELSE 'failed' END, i, NULL
  FROM generate_series(1, 500) i;
INSERT INTO cp SELECT '2020-03-01'::timestamptz + (i % 50) * interval '23 minutes',
                      i % 5, CASE WHEN i % 3 = 0 THEN 'ok' ELSE 'failed' END, -i, NULL
  FROM generate_series(1, 100) i;
INSERT INTO cp VALUES ('2020-03-01 02:10', 1, 'ok', 7, NULL);
INSERT INTO cp VALUES ('2020-03-01 02:20', 1, 'ok', 8, NULL);
INSERT INTO cp VALUES ('2020-03-01 02:30', 9, 'ok', 8, NULL);
INSERT INTO cp VALUES ('2020-03-01 02:40', 9, 'ok', -8, -1);  -- cancels the row above
SELECT count(*) AS segments FROM ledger.segments WHERE ledger = 'cp'::regclass;
CREATE TEMP TABLE cp_before AS SELECT * FROM cp;
SELECT segments_in, segments_out, segments_dropped, rows_in, rows_out,
       bytes_in > 0 AS has_bytes_in, bytes_out > 0 AS has_bytes_out
  FROM ledger.compact('cp');
SELECT count(*) AS segments, sum(rows) AS rows FROM ledger.segments WHERE ledger = 'cp'::regclass;
-- identical logical rows, and nothing left to merge on read
SELECT count(*) AS differences FROM
  ((SELECT * FROM cp EXCEPT ALL SELECT * FROM cp_before)
   UNION ALL (SELECT * FROM cp_before EXCEPT ALL SELECT * FROM cp)) d;
SELECT rows_ingested, rows_stored, segments FROM ledger.stats('cp');
-- a second run finds nothing to do
SELECT segments_in, segments_out FROM ledger.compact('cp');
-- full rewrites even a single segment, with the same result
SELECT segments_in, segments_out, rows_in = rows_out AS same_rows
  FROM ledger.compact('cp', full => true);
SELECT count(*) AS differences FROM
  ((SELECT * FROM cp EXCEPT ALL SELECT * FROM cp_before)
   UNION ALL (SELECT * FROM cp_before EXCEPT ALL SELECT * FROM cp)) d;

-- a raw ledger: small segments merged, rows kept as they are ---------------
CREATE TABLE cr (ts timestamptz, k int, note text) USING ledger;
INSERT INTO cr VALUES ('2021-01-01', 1, 'a');
INSERT INTO cr VALUES ('2021-01-02', 2, NULL);
INSERT INTO cr VALUES ('2021-01-01', 1, 'a');
INSERT INTO cr SELECT '2021-02-01'::timestamptz + i * interval '1 minute', i, 'n' || i
  FROM generate_series(1, 2500) i;
SELECT count(*) AS segments FROM ledger.segments WHERE ledger = 'cr'::regclass;
CREATE TEMP TABLE cr_before AS SELECT * FROM cr;
-- all four are below min_segment_rows (65536 by default): one segment
SELECT segments_in, segments_out, rows_in, rows_out FROM ledger.compact('cr');
SELECT rows FROM ledger.segments WHERE ledger = 'cr'::regclass ORDER BY segment_id;
-- with target segments of 1000 rows, a full run splits it
SELECT ledger.set_compaction('cr', target_segment_rows => 1000, min_segment_rows => 1000);
SELECT segments_in, segments_out, rows_in, rows_out FROM ledger.compact('cr', full => true);
SELECT rows FROM ledger.segments WHERE ledger = 'cr'::regclass ORDER BY segment_id;
SELECT count(*) AS differences FROM
  ((SELECT * FROM cr EXCEPT ALL SELECT * FROM cr_before)
   UNION ALL (SELECT * FROM cr_before EXCEPT ALL SELECT * FROM cr)) d;
-- one small segment alone is left as it is
SELECT segments_in, segments_out FROM ledger.compact('cr');

-- inside a transaction: rolled back, nothing changed -------------------------
BEGIN;
INSERT INTO cr VALUES ('2021-03-01', 3, 'x');
SELECT segments_in > 0 AS compacted FROM ledger.compact('cr', true);
SELECT count(*) FROM cr;
ROLLBACK;
SELECT count(*) FROM cr;
SELECT count(*) AS segments FROM ledger.segments WHERE ledger = 'cr'::regclass;

-- granularity policy: old rows re-rolled to days, recent rows stay hourly --
CREATE TABLE cg (ts timestamptz NOT NULL, merchant int, amount bigint) USING ledger;
SELECT ledger.set_rollup('cg', time_column => 'ts', granularity => '1 hour',
                         metrics => '{"amount":"sum"}');
INSERT INTO cg SELECT '2020-05-01'::timestamptz + i * interval '37 minutes', i % 3, i
  FROM generate_series(1, 300) i;
INSERT INTO cg SELECT date_trunc('hour', now()) - i * interval '1 hour', 1, 10
  FROM generate_series(0, 3) i;
CREATE TEMP TABLE cg_before AS SELECT * FROM cg;
SELECT ledger.add_granularity_policy('cg', older_than => '30 days', granularity => '1 day');
SELECT * FROM ledger.compaction_policies WHERE ledger = 'cg'::regclass;
SELECT segments_in, segments_out, rows_in FROM ledger.compact('cg');
-- per day the totals are unchanged ...
SELECT count(*) AS differences FROM
  ((SELECT date_trunc('day', ts), merchant, sum(amount) FROM cg GROUP BY 1, 2
    EXCEPT ALL SELECT date_trunc('day', ts), merchant, sum(amount) FROM cg_before GROUP BY 1, 2)
   UNION ALL
   (SELECT date_trunc('day', ts), merchant, sum(amount) FROM cg_before GROUP BY 1, 2
    EXCEPT ALL SELECT date_trunc('day', ts), merchant, sum(amount) FROM cg GROUP BY 1, 2)) d;
-- ... old rows are daily, recent rows hourly
SELECT count(*) AS old_rows, count(*) FILTER (WHERE ts <> date_trunc('day', ts)) AS not_daily
  FROM cg WHERE ts < '2021-01-01';
SELECT count(*) AS recent_hourly_rows FROM cg WHERE ts > now() - interval '1 day';
-- a late-arriving old row is kept and lands in its own (hourly) bucket ...
INSERT INTO cg VALUES ('2020-05-02 13:45', 1, 1000);
SELECT ts, amount FROM cg WHERE ts >= '2020-05-02' AND ts < '2020-05-03' AND merchant = 1 ORDER BY ts;
-- ... until the next compaction re-rolls it into the day
SELECT segments_in, segments_out FROM ledger.compact('cg');
SELECT ts, amount FROM cg WHERE ts >= '2020-05-02' AND ts < '2020-05-03' AND merchant = 1 ORDER BY ts;

-- retention: segments entirely older than the horizon are dropped ----------
SELECT ledger.set_retention('cg', '365 days');
SELECT segments_dropped > 0 AS dropped FROM ledger.compact('cg');
SELECT count(*) AS rows_left, min(ts) > now() - interval '2 days' AS only_recent FROM cg;
SELECT ledger.set_retention('cg', NULL);

-- the job history -------------------------------------------------------------
SELECT ledger, trigger, count(*) AS runs, bool_and(error IS NULL) AS ok
  FROM ledger.jobs WHERE ledger IN ('cp'::regclass, 'cr'::regclass, 'cg'::regclass)
   AND trigger = 'manual'
 GROUP BY 1, 2 ORDER BY ledger::text;

-- errors ------------------------------------------------------------------------
\set VERBOSITY terse
CREATE TABLE heap_t (ts timestamptz);
SELECT ledger.compact('heap_t');
\echo :LAST_ERROR_SQLSTATE
SELECT ledger.set_compaction('cr', target_segment_rows => 10);
\echo :LAST_ERROR_SQLSTATE
SELECT ledger.set_compaction('cr', target_segment_rows => 5000, min_segment_rows => 6000);
\echo :LAST_ERROR_SQLSTATE
SELECT ledger.set_retention('cr', '-1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT ledger.add_granularity_policy('cr', '7 days', '1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT ledger.add_granularity_policy('cg', '7 days', '1 minute');
\echo :LAST_ERROR_SQLSTATE
SELECT ledger.add_granularity_policy('cg', '7 days', '1 hour');
\echo :LAST_ERROR_SQLSTATE
SELECT ledger.add_granularity_policy('cg', '7 days', '7 hours');
\echo :LAST_ERROR_SQLSTATE
SELECT ledger.add_granularity_policy('cg', '0 days', '1 day');
\echo :LAST_ERROR_SQLSTATE
-- older data must get a coarser grain than newer data
SELECT ledger.add_granularity_policy('cg', '400 days', '6 hours');
\echo :LAST_ERROR_SQLSTATE
SELECT ledger.add_granularity_policy('cg', '400 days', '1 month');
SELECT ledger.add_granularity_policy('cg', '10 days', '1 week');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT ledger.add_granularity_policy('cg', '10 days', '1 week');
SELECT ledger.set_compaction('cr', target_segment_rows => 10);
SELECT ledger.add_granularity_policy('cr', '7 days', '1 day');
-- only the owner may compact or set policies
CREATE ROLE compaction_other;
GRANT SELECT ON cr TO compaction_other;
SET ROLE compaction_other;
\set VERBOSITY terse
SELECT ledger.compact('cr');
\echo :LAST_ERROR_SQLSTATE
SELECT ledger.set_retention('cr', '1 day');
\echo :LAST_ERROR_SQLSTATE
-- but sees the ledger's jobs and policies
SELECT count(*) > 0 AS sees_jobs FROM ledger.jobs WHERE ledger = 'cr'::regclass;
SELECT count(*) AS sees_other_jobs FROM ledger.jobs WHERE ledger <> 'cr'::regclass;
SELECT count(*) > 0 AS sees_policy FROM ledger.compaction_policies WHERE ledger = 'cr'::regclass;
SELECT count(*) FROM ledger.job;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
\set VERBOSITY default
REVOKE ALL ON cr FROM compaction_other;
DROP ROLE compaction_other;

-- DROP removes policies and job history ---------------------------------------
SELECT ledger.remove_granularity_policy('cg', '400 days');
SELECT count(*) AS policies FROM ledger.compaction_policies WHERE ledger = 'cg'::regclass;
DROP TABLE cg, cr;
SELECT count(*) AS policies_left FROM ledger.compaction_policy;
SELECT count(*) AS granularity_policies_left FROM ledger.granularity_policy;
SELECT count(*) AS jobs_left FROM ledger.job WHERE ledger_name IN ('cg', 'cr');
DROP TABLE cp, heap_t;

--
-- LedgerAgg: aggregates computed inside the scan must equal PostgreSQL's
-- own aggregates over the same rows (ledger.enable_aggregate_pushdown off),
-- for every supported aggregate, group key, filter and kind of ledger;
-- what it cannot compute is left to PostgreSQL.
--
SET timezone = 'America/New_York';
SET extra_float_digits = 3;

-- runs q with the pushdown and without it; says whether LedgerAgg ran and
-- how many rows differ
CREATE FUNCTION agg_check(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r record;
	used boolean := false;
	n bigint;
	m bigint;
BEGIN
	PERFORM set_config('ledger.enable_aggregate_pushdown', 'on', true);
	FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		IF r."QUERY PLAN" LIKE '%LedgerAgg%' THEN used := true; END IF;
	END LOOP;
	EXECUTE 'CREATE TEMP TABLE agg_on AS SELECT s::text AS r FROM (' || q || ') s';
	PERFORM set_config('ledger.enable_aggregate_pushdown', 'off', true);
	EXECUTE 'CREATE TEMP TABLE agg_off AS SELECT s::text AS r FROM (' || q || ') s';
	PERFORM set_config('ledger.enable_aggregate_pushdown', 'on', true);
	SELECT count(*) INTO n FROM ((TABLE agg_on EXCEPT ALL TABLE agg_off)
		UNION ALL (TABLE agg_off EXCEPT ALL TABLE agg_on)) d;
	SELECT count(*) INTO m FROM agg_on;
	DROP TABLE agg_on;
	DROP TABLE agg_off;
	RETURN CASE WHEN used THEN 'pushed' ELSE 'not pushed' END
		|| ', ' || m || ' rows, ' || n || ' differ';
END $$;

CREATE TABLE ev (
	ts timestamptz, lts timestamp, d date, m int, method text, status text,
	i2 smallint, i4 int, i8 bigint, f4 real, f8 float8, num numeric,
	attrs jsonb, flag bool
) USING ledger;
INSERT INTO ev
SELECT '2026-03-07 00:00-05'::timestamptz + g * interval '37 min',
	   '2026-03-07 00:00'::timestamp + g * interval '37 min',
	   '2026-03-01'::date + g / 50,
	   CASE WHEN g % 11 = 0 THEN NULL ELSE g % 7 END,
	   (ARRAY['card', 'Card', 'bank', NULL, 'wallet'])[1 + g % 5],
	   (ARRAY['approved', 'declined', 'refunded'])[1 + g % 3],
	   (g % 300 - 150)::smallint,
	   CASE WHEN g % 13 = 0 THEN NULL ELSE g * 7919 % 100000 - 50000 END,
	   CASE WHEN g % 17 = 0 THEN NULL ELSE (g::bigint * 104729) % 9223372036854 * 1000000 END,
	   (g % 97) / 8.0,
	   CASE WHEN g % 19 = 0 THEN NULL ELSE (g % 1000) / 16.0 END,
	   CASE WHEN g % 23 = 0 THEN NULL ELSE round((g % 777) / 3.0, g % 4) END,
	   jsonb_build_object('k', 'v' || g % 4, 'n', g % 9),
	   g % 2 = 0
FROM generate_series(1, 6000) g;
ANALYZE ev;

-- the plan
EXPLAIN (COSTS OFF)
SELECT date_trunc('day', ts), count(*), sum(i8) FROM ev GROUP BY 1 ORDER BY 1;
EXPLAIN (COSTS OFF)
SELECT method, sum(i4) FILTER (WHERE flag) FROM ev GROUP BY 1;

-- every aggregate, every kind of key
SELECT q, agg_check(q) FROM (VALUES
	('SELECT count(*), count(m), count(method), sum(i2), sum(i4), sum(i8), sum(f4), sum(f8), sum(num) FROM ev'),
	('SELECT avg(i2), avg(i4), avg(i8), min(ts), max(ts), min(method), max(method), min(num), max(f8), min(d), max(lts) FROM ev'),
	('SELECT m, count(*), sum(i8), avg(i4), min(f4), max(num) FROM ev GROUP BY m'),
	('SELECT method, status, count(*), sum(f8), min(lts) FROM ev GROUP BY method, status'),
	('SELECT status, method COLLATE "C", min(method COLLATE "C"), max(method) FROM ev GROUP BY 1, 2'),
	('SELECT date_trunc(''day'', ts), count(*), sum(i4) FROM ev GROUP BY 1'),
	('SELECT date_trunc(''hour'', ts), count(*), sum(i8) FROM ev GROUP BY 1'),
	('SELECT date_trunc(''week'', ts), date_trunc(''month'', ts), count(*) FROM ev GROUP BY 1, 2'),
	('SELECT date_trunc(''day'', lts), date_trunc(''year'', lts), count(*), sum(f4) FROM ev GROUP BY 1, 2'),
	('SELECT date_trunc(''minute'', ts), count(*) FROM ev GROUP BY 1'),
	('SELECT date_trunc(''quarter'', ts), date_trunc(''decade'', ts), max(i2) FROM ev GROUP BY 1, 2'),
	('SELECT d, count(*) FROM ev GROUP BY d'),
	('SELECT attrs->>''k'', count(*), sum(i4) FROM ev GROUP BY 1'),
	('SELECT lower(method), flag, count(*) FROM ev GROUP BY 1, 2'),
	('SELECT m % 3, i2 / 100, count(*) FROM ev GROUP BY 1, 2'),
	('SELECT status, sum(i8) / count(*), max(i4) - min(i4), count(*) + 1 FROM ev GROUP BY status'),
	('SELECT count(*) FROM ev GROUP BY method'),
	('SELECT method FROM ev GROUP BY method')
) v(q);

-- FILTER (WHERE ...) per aggregate: true rows only (NULL is not true)
SELECT q, agg_check(q) FROM (VALUES
	('SELECT method, sum(i4) FILTER (WHERE flag), count(*) FILTER (WHERE status = ''declined''), count(*) FROM ev GROUP BY 1'),
	('SELECT count(*) FILTER (WHERE m IS NULL), sum(i8) FILTER (WHERE m > 3), avg(i4) FILTER (WHERE i4 > 0), min(method) FILTER (WHERE NOT flag), max(num) FILTER (WHERE i2 < 0) FROM ev'),
	('SELECT date_trunc(''day'', ts), count(*) FILTER (WHERE i4 % 2 = 0), sum(f8) FILTER (WHERE attrs->>''k'' = ''v1'') FROM ev WHERE ts < ''2026-03-20'' GROUP BY 1'),
	('SELECT status, count(m) FILTER (WHERE method = ''card''), count(m) FILTER (WHERE method = ''bank'') FROM ev GROUP BY 1')
) v(q);

-- HAVING, per group
SELECT q, agg_check(q) FROM (VALUES
	('SELECT method, count(*) FROM ev GROUP BY 1 HAVING count(*) > 1000'),
	('SELECT status, sum(i4) FROM ev GROUP BY 1 HAVING max(i8) > 0 AND min(f8) < 5 OR status IS NULL'),
	('SELECT date_trunc(''day'', ts), count(*) FROM ev GROUP BY 1 HAVING sum(i2) FILTER (WHERE flag) > 0'),
	('SELECT count(*), sum(i4) FROM ev HAVING count(*) > 0'),
	('SELECT count(*), sum(i4) FROM ev HAVING count(*) < 0'),
	('SELECT method, count(*) FROM ev GROUP BY 1 HAVING count(*) > (SELECT 1000)'),
	('SELECT m, avg(i4) FROM ev WHERE ts > ''2026-03-10'' GROUP BY m HAVING avg(i4) > 0 AND m IS NOT NULL')
) v(q);
EXPLAIN (COSTS OFF)
SELECT method, count(*) FROM ev WHERE m > 2 GROUP BY 1 HAVING sum(i4) > 0;

-- filters: pushed to the reader, residual, parameters, stable expressions
SELECT q, agg_check(q) FROM (VALUES
	('SELECT status, count(*), sum(i8) FROM ev WHERE ts >= ''2026-03-08'' AND ts < ''2026-03-12'' GROUP BY 1'),
	('SELECT method, count(*) FROM ev WHERE method IN (''card'', ''bank'') OR status = ''refunded'' GROUP BY 1'),
	('SELECT method, count(*) FROM ev WHERE method IS NULL GROUP BY 1'),
	('SELECT m, sum(i4) FROM ev WHERE i4 % 2 = 0 AND flag GROUP BY 1'),
	('SELECT m, sum(i4) FROM ev WHERE ts > now() - interval ''100 years'' GROUP BY 1'),
	('SELECT count(*), sum(i8) FROM ev WHERE false'),
	('SELECT m, count(*) FROM ev WHERE ts < ''2000-01-01'' GROUP BY 1')
) v(q);
PREPARE p(text, int) AS SELECT status, count(*), sum(i4) FROM ev WHERE method = $1 AND m > $2 GROUP BY 1 ORDER BY 1;
SET ledger.enable_aggregate_pushdown = off;
EXECUTE p('card', 2);
RESET ledger.enable_aggregate_pushdown;
EXECUTE p('card', 2);
EXECUTE p('bank', 0);

-- left to PostgreSQL
SELECT q, agg_check(q) FROM (VALUES
	('SELECT method, count(*) FROM ev GROUP BY 1 HAVING count(*) > (SELECT count(*) FROM ev e2 WHERE e2.method = ev.method) / 2'),
	('SELECT method, count(*) FILTER (WHERE random() > 2) FROM ev GROUP BY 1'),
	('SELECT method, count(*) FILTER (WHERE m IN (SELECT 1)) FROM ev GROUP BY 1'),
	('SELECT method, count(DISTINCT status) FROM ev GROUP BY 1'),
	('SELECT method, string_agg(status, '','' ORDER BY status) FROM ev GROUP BY 1'),
	('SELECT method, stddev(f8) FROM ev GROUP BY 1'),
	('SELECT method, count(*) FROM ev GROUP BY ROLLUP (method)'),
	('SELECT method, count(*) FROM ev WHERE m IN (SELECT 1) GROUP BY 1'),
	('SELECT method, count(*) FROM ev GROUP BY 1, random() > 2'),
	('SELECT e.method, count(*) FROM ev e JOIN (VALUES (1)) v(x) ON e.m = v.x GROUP BY 1')
) v(q);

-- overflow: sums of bigint beyond 64 bits are exact, float overflow is an error
CREATE TABLE big (g int, i8 bigint, f8 float8) USING ledger;
INSERT INTO big SELECT g % 2, 9223372036854775807 - g, 1e308 FROM generate_series(1, 100) g;
SELECT q, agg_check(q) FROM (VALUES
	('SELECT g, sum(i8), avg(i8), count(*) FROM big GROUP BY g'),
	('SELECT sum(i8), avg(i8) FROM big')) v(q);
SELECT g, sum(i8) FROM big GROUP BY g ORDER BY g;
SELECT sum(f8) FROM big;

-- many groups whose keys recur while the hash table grows
-- (in 200 segments of 1,000 rows, as 200 transactions write them)
CREATE TABLE cyc (ts timestamptz, a text, b text, c text, k int, v bigint) USING ledger;
SELECT format('INSERT INTO cyc SELECT ''2026-01-01''::timestamptz + g * interval ''1 s'',
	(ARRAY[''p'',''q'',''r''])[1 + g %% 3], (ARRAY[''x'',''y''])[1 + g %% 2], ''c'' || g %% 7,
	g %% 3000, g FROM generate_series(%s, %s) g', b * 1000 + 1, b * 1000 + 1000)
FROM generate_series(0, 199) b \gexec
SELECT q, agg_check(q) FROM (VALUES
	('SELECT date_trunc(''hour'', ts), a, b, c, count(*), sum(v) FROM cyc GROUP BY 1, 2, 3, 4'),
	('SELECT k, count(*), sum(v), min(a) FROM cyc GROUP BY k'),
	('SELECT c, k % 7, count(*), max(v) FROM cyc GROUP BY 1, 2')) v(q);

-- key expressions of one column stored as dictionary codes are evaluated
-- once per entry of each segment's dictionary (and once for NULL); three
-- segments: two with different dictionaries, one without (all distinct)
CREATE TABLE dj (seg int, attrs jsonb, t text) USING ledger;
INSERT INTO dj SELECT 1, CASE WHEN g % 7 = 0 THEN NULL ELSE
	jsonb_build_object('c', (ARRAY['FR', 'DE', NULL])[1 + g % 3], 'r', g % 5) END,
	'x' || g % 4 FROM generate_series(1, 3000) g;
INSERT INTO dj SELECT 2, jsonb_build_object('c', (ARRAY['NL', 'FR'])[1 + g % 2], 'r', g % 11),
	NULL FROM generate_series(1, 2000) g;
INSERT INTO dj SELECT 3, jsonb_build_object('c', 'c' || g % 600, 'r', g), 'y' || g
FROM generate_series(1, 1000) g;
SELECT q, agg_check(q) FROM (VALUES
	('SELECT attrs->>''c'', count(*) FROM dj GROUP BY 1'),
	('SELECT seg, attrs->>''c'', (attrs->>''r'')::int % 3, count(*) FROM dj GROUP BY 1, 2, 3'),
	('SELECT attrs->''r'', attrs IS NULL, count(*) FROM dj GROUP BY 1, 2'),
	('SELECT coalesce(attrs->>''c'', ''none''), count(*) FROM dj WHERE seg <> 2 GROUP BY 1'),
	('SELECT length(t), upper(t), count(*) FROM dj GROUP BY 1, 2'),
	('SELECT t || ''!'', attrs->>''c'', count(*) FROM dj WHERE seg >= 2 GROUP BY 1, 2')) v(q);
-- 15 + 22 distinct objects in the first two segments, one NULL
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT attrs->>'c', count(*) FROM dj WHERE seg < 3 GROUP BY 1;
-- rows of this transaction are not dictionary codes
BEGIN;
INSERT INTO dj SELECT 4, jsonb_build_object('c', 'FR', 'r', g % 2), 'x1' FROM generate_series(1, 50) g;
SELECT agg_check('SELECT attrs->>''c'', upper(t), count(*) FROM dj GROUP BY 1, 2');
ROLLBACK;

-- rows read a block at a time: a segment of three blocks (65,536 rows
-- each), bitmap-selected rows across blocks, a column added later (its
-- default), the transaction's own rows after the segments
CREATE TABLE bb (g int, c text, v bigint) USING ledger;
INSERT INTO bb SELECT g, 'c' || g % 7, g FROM generate_series(1, 150000) g;
ALTER TABLE bb ADD COLUMN d int DEFAULT 5;
INSERT INTO bb SELECT g, 'c' || g % 5, -g, g % 3 FROM generate_series(1, 1000) g;
SELECT q, agg_check(q) FROM (VALUES
	('SELECT c, d, count(*), sum(v), min(g), max(g) FROM bb GROUP BY 1, 2'),
	('SELECT d, count(*), sum(v) FROM bb WHERE c = ''c3'' GROUP BY 1'),
	('SELECT g / 65536, upper(c), count(*), sum(v) FROM bb WHERE c IN (''c1'', ''c4'') AND g % 2 = 0 GROUP BY 1, 2'),
	('SELECT count(*), sum(v) FROM bb WHERE g > 65000 AND g < 131100'),
	('SELECT c, d, count(*), count(d), sum(g), avg(v), sum(d::smallint) FROM bb WHERE c IN (''c1'', ''c2'') GROUP BY 1, 2')) v(q);
BEGIN;
INSERT INTO bb VALUES (1, 'c3', 10, 7), (2, 'c9', 1, NULL);
SELECT agg_check('SELECT c, d, count(*), sum(v) FROM bb WHERE c = ''c3'' OR d IS NULL GROUP BY 1, 2');
ROLLBACK;

-- an empty ledger: a plain aggregate still returns its one row
CREATE TABLE empty (a int, b text) USING ledger;
SELECT count(*), sum(a), min(b) FROM empty;
SELECT b, count(*) FROM empty GROUP BY b;

-- rows of this transaction, rollup ledgers, keyed ledgers
BEGIN;
INSERT INTO ev (ts, m, method, i4) SELECT '2026-03-20', g % 3, 'card', g FROM generate_series(1, 100) g;
SELECT agg_check('SELECT m, method, count(*), sum(i4) FROM ev GROUP BY 1, 2');
ROLLBACK;

CREATE TABLE r1h (ts timestamptz NOT NULL, method text, amount bigint, lo int, n bigint) USING ledger;
SELECT ledger.set_rollup('r1h', 'ts', '1 hour', '{"amount":"sum","lo":"min","n":"count"}');
INSERT INTO r1h SELECT ts, method, i4, i2, NULL FROM ev WHERE i4 IS NOT NULL;
INSERT INTO r1h SELECT ts, method, -i4, i2, -1 FROM ev WHERE i4 % 5 = 0;
SELECT q, agg_check(q) FROM (VALUES
	('SELECT method, count(*), sum(amount), sum(n), min(lo) FROM r1h GROUP BY 1'),
	('SELECT date_trunc(''day'', ts), sum(n) FILTER (WHERE method = ''card''), sum(amount) FILTER (WHERE lo < 0) FROM r1h GROUP BY 1'),
	('SELECT date_trunc(''day'', ts), count(*), sum(n) FROM r1h GROUP BY 1')) v(q);

CREATE TABLE kr (id text, v int, amount int) USING ledger;
SELECT ledger.set_key('kr', 'id', 'v');
INSERT INTO kr SELECT 'k' || g % 50, g / 50, g FROM generate_series(1, 500) g;
SELECT agg_check('SELECT count(*), sum(amount), min(v), max(v) FROM kr');
-- a keyed raw ledger reads row by row (its key filter hides replaced rows):
-- key expressions still remembered per dictionary entry of the key column
SELECT agg_check('SELECT upper(id), count(*), sum(amount) FROM kr GROUP BY 1');
SELECT agg_check('SELECT v % 3, length(id), count(*), sum(amount) FROM kr GROUP BY 1, 2');
SELECT count(*), sum(amount), min(v), max(v) FROM kr;

-- switched off: PostgreSQL aggregates
SET ledger.enable_aggregate_pushdown = off;
EXPLAIN (COSTS OFF)
SELECT date_trunc('day', ts), count(*) FROM ev GROUP BY 1;
RESET ledger.enable_aggregate_pushdown;

DROP TABLE ev, big, cyc, dj, bb, empty, r1h, kr;
DROP FUNCTION agg_check(text);

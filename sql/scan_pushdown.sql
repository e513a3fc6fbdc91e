-- LedgerScan: projection, pushdown to zone maps and bitmaps, EXPLAIN
-- (aggregates stay in PostgreSQL here, so the plans show LedgerScan itself;
-- LedgerAgg has its own test, scan_aggregate)
SET ledger.enable_aggregate_pushdown = off;
SET ledger.segment_rows = 1000;
CREATE TABLE sp (ts timestamptz, merchant int, method text, amount bigint,
				 note text) USING ledger;
-- four segments of one day each; methods and merchants repeat (dictionaries)
INSERT INTO sp SELECT '2026-01-01'::timestamptz + (g % 1000) * interval '1 minute',
	g % 50, (ARRAY['card','sepa','ideal'])[1 + g % 3], g, md5(g::text)
	FROM generate_series(0, 999) g;
INSERT INTO sp SELECT '2026-01-02'::timestamptz + (g % 1000) * interval '1 minute',
	g % 50, (ARRAY['card','sepa','ideal'])[1 + g % 3], g, md5(g::text)
	FROM generate_series(0, 999) g;
INSERT INTO sp SELECT '2026-01-03'::timestamptz + (g % 1000) * interval '1 minute',
	100 + g % 50, 'card', g, md5(g::text)
	FROM generate_series(0, 999) g;
INSERT INTO sp SELECT '2026-01-04'::timestamptz + (g % 1000) * interval '1 minute',
	NULL, NULL, g, NULL
	FROM generate_series(0, 999) g;
-- merchants 0 and 20 only: 7 lies within the range, but not in the dictionary
INSERT INTO sp SELECT '2026-01-05'::timestamptz + (g % 1000) * interval '1 minute',
	(g % 2) * 20, 'card', g, NULL
	FROM generate_series(0, 999) g;
CREATE TABLE sph AS SELECT * FROM sp;
ANALYZE sp;

-- the custom scan is chosen, reads only the columns needed, prunes by range
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT sum(amount) FROM sp WHERE ts >= '2026-01-03' AND ts < '2026-01-04';
-- ... and by dictionary: merchant 7 exists only in the first two days; the
-- last segment's range covers 7 but its dictionary does not
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM sp WHERE merchant = 7;
-- IN, <>, IS NULL, OR and NOT trees
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM sp WHERE method IN ('sepa', 'ideal') OR merchant IS NULL;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM sp WHERE NOT (method = 'card') AND merchant BETWEEN 10 AND 12;
-- conditions it cannot push stay as a filter
EXPLAIN (COSTS OFF) SELECT count(*) FROM sp WHERE amount % 7 = 0 AND merchant = 3;

-- results equal the heap's, with the custom scan on and off
CREATE FUNCTION sp_check(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE l text; h text; o text;
BEGIN
	EXECUTE format('SELECT md5(string_agg(x::text, %L ORDER BY x::text)) FROM (%s) x', ',', q) INTO l;
	EXECUTE format('SELECT md5(string_agg(x::text, %L ORDER BY x::text)) FROM (%s) x', ',', replace(q, ' sp ', ' sph ')) INTO h;
	SET LOCAL ledger.enable_custom_scan = off;
	EXECUTE format('SELECT md5(string_agg(x::text, %L ORDER BY x::text)) FROM (%s) x', ',', q) INTO o;
	RETURN CASE WHEN l IS NOT DISTINCT FROM h AND o IS NOT DISTINCT FROM h THEN 'same' ELSE 'DIFFERENT' END;
END $$;
SELECT sp_check('SELECT * FROM sp WHERE merchant = 7');
SELECT sp_check('SELECT * FROM sp WHERE merchant <> 7');
SELECT sp_check('SELECT * FROM sp WHERE merchant = ANY(''{}''::int[])');
SELECT sp_check('SELECT * FROM sp WHERE merchant = ANY(''{1,NULL,149}''::int[])');
SELECT sp_check('SELECT * FROM sp WHERE merchant = NULL');
SELECT sp_check('SELECT * FROM sp WHERE merchant IS NULL OR method = ''sepa''');
SELECT sp_check('SELECT * FROM sp WHERE NOT (merchant > 20 OR method < ''d'')');
SELECT sp_check('SELECT * FROM sp WHERE ts BETWEEN ''2026-01-02 16:39'' AND ''2026-01-03 00:00''');
SELECT sp_check('SELECT * FROM sp WHERE merchant::bigint >= 149::bigint');
SELECT sp_check('SELECT * FROM sp WHERE merchant >= 149::bigint');
SELECT sp_check('SELECT * FROM sp WHERE ts > now() - interval ''100 years''');
SELECT sp_check('SELECT * FROM sp WHERE note = md5(''5'')');

-- prepared statements with generic plans evaluate parameters at scan start
SET plan_cache_mode = force_generic_plan;
PREPARE q(int, text) AS SELECT count(*), sum(amount) FROM sp WHERE merchant = $1 AND method = $2;
EXECUTE q(7, 'sepa');
EXECUTE q(107, 'card');
EXECUTE q(NULL, 'card');
SELECT count(*), sum(amount) FROM sph WHERE merchant = 7 AND method = 'sepa';
SELECT count(*), sum(amount) FROM sph WHERE merchant = 107 AND method = 'card';
DEALLOCATE q;
RESET plan_cache_mode;

-- nested loops re-evaluate outer references on every rescan
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SELECT m, (SELECT count(*) FROM sp WHERE sp.merchant = m) AS n
FROM generate_series(5, 8) m ORDER BY m;
SELECT m, (SELECT count(*) FROM sph WHERE sph.merchant = m) AS n
FROM generate_series(5, 8) m ORDER BY m;
RESET enable_hashjoin;
RESET enable_mergejoin;

-- buffered rows of the own transaction are seen and filtered
BEGIN;
INSERT INTO sp VALUES ('2026-01-01 00:00', 7, 'sepa', 1000000, 'x');
SELECT count(*), max(amount) FROM sp WHERE merchant = 7 AND method = 'sepa';
ROLLBACK;

-- a rollup ledger: dimension and time conditions are pushed below the merge
CREATE TABLE spr (ts timestamptz NOT NULL, merchant int, method text, amount bigint) USING ledger;
SELECT ledger.set_rollup('spr', 'ts', '1 day', '{"amount":"sum"}', time_zone => 'PST8PDT');
INSERT INTO spr SELECT ts, merchant, method, amount FROM sph;
INSERT INTO spr SELECT ts, merchant, method, amount FROM sph WHERE merchant < 10;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT * FROM spr WHERE ts = '2026-01-02' AND merchant = 7;
SELECT * FROM spr WHERE ts = '2026-01-02' AND merchant = 7 ORDER BY method;
CREATE VIEW sprh AS
SELECT date_trunc('day', ts) AS ts, merchant, method, sum(amount) AS amount
FROM (SELECT * FROM sph UNION ALL SELECT * FROM sph WHERE merchant < 10) x
GROUP BY 1, 2, 3;
SELECT * FROM sprh WHERE ts = '2026-01-02' AND merchant = 7 ORDER BY method;
-- a filter on the time column compares buckets, as the rows read
SELECT (SELECT count(*) FROM spr WHERE ts > '2026-01-02 12:00') AS ledger,
	   (SELECT count(*) FROM sprh WHERE ts > '2026-01-02 12:00') AS heap;
SELECT (SELECT count(*) FROM spr WHERE ts >= '2026-01-02' AND ts < '2026-01-04' AND method <> 'card') AS ledger,
	   (SELECT count(*) FROM sprh WHERE ts >= '2026-01-02' AND ts < '2026-01-04' AND method <> 'card') AS heap;
-- metric conditions are checked after the merge only
SELECT (SELECT count(*) FROM spr WHERE amount > 10000) AS ledger,
	   (SELECT count(*) FROM sprh WHERE amount > 10000) AS heap;
DROP VIEW sprh;

DROP FUNCTION sp_check(text);
DROP TABLE sp, sph, spr;
RESET ledger.segment_rows;

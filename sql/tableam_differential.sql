--
-- tableam_differential: the same rows in a heap table and in a ledger give
-- the same answers
--
-- 300,000 deterministic pseudo-random rows with NULLs, non-ASCII text,
-- numerics of different scales, loaded into both tables the same way
-- (INSERT ... SELECT in several transactions, COPY, a savepoint rolled
-- back), with a small segment size so that the ledger holds many segments.
--
SET TimeZone = 'UTC';
SET extra_float_digits = 1;

-- pseudo-random value in [0, m) for row i and stream s
CREATE FUNCTION diff_rand(i bigint, s int, m int) RETURNS int
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT (((i * 2654435761 + s * 40503) % 4294967291 + 4294967291) % 4294967291 % m)::int
$$;

CREATE TABLE diff_src (
	id        bigint,
	ts        timestamptz,
	day       date,
	merchant  int,
	method    text,
	status    text,
	city      text,
	amount    numeric,
	fee       numeric(12, 4),
	rate      double precision,
	small     smallint,
	flag      bool,
	note      text,
	attrs     jsonb,
	tags      text[]
);
INSERT INTO diff_src
SELECT i,
	   timestamptz '2024-01-01 00:00:00+00' + diff_rand(i, 1, 30 * 86400) * interval '1 second',
	   date '2024-01-01' + diff_rand(i, 2, 30),
	   CASE WHEN diff_rand(i, 3, 50) = 0 THEN NULL
			ELSE (diff_rand(i, 4, 1000) * diff_rand(i, 5, 1000)) / 1000 END,
	   (ARRAY['card', 'sepa', 'paypal', 'apple_pay', NULL])[1 + diff_rand(i, 6, 5)],
	   (ARRAY['captured', 'failed', 'refunded', 'pending'])[1 + diff_rand(i, 7, 4)],
	   (ARRAY['Zürich', 'São Paulo', '東京', 'Москва', 'Paris', '', 'Kraków 🚀'])[1 + diff_rand(i, 8, 7)],
	   CASE diff_rand(i, 9, 5)
		   WHEN 0 THEN NULL
		   WHEN 1 THEN diff_rand(i, 10, 100000)::numeric
		   WHEN 2 THEN round(diff_rand(i, 10, 100000) / 100.0, 2)
		   WHEN 3 THEN round(diff_rand(i, 10, 100000) / 7.0, 6)
		   ELSE (diff_rand(i, 10, 100000) || '.' || repeat('0', diff_rand(i, 11, 4)))::numeric
	   END,
	   diff_rand(i, 12, 100000) / 10000.0,
	   CASE WHEN diff_rand(i, 13, 20) = 0 THEN NULL
			ELSE diff_rand(i, 14, 1000000) / 997.0 END,
	   (diff_rand(i, 15, 65536) - 32768)::smallint,
	   CASE diff_rand(i, 16, 3) WHEN 0 THEN NULL WHEN 1 THEN true ELSE false END,
	   CASE WHEN diff_rand(i, 17, 10) = 0 THEN NULL
			ELSE 'note ' || diff_rand(i, 18, 5000) || ' ' || repeat('ä', diff_rand(i, 19, 5)) END,
	   CASE WHEN diff_rand(i, 20, 4) = 0 THEN NULL
			ELSE jsonb_build_object('issuer', (ARRAY['visa', 'mc', 'amex'])[1 + diff_rand(i, 21, 3)],
									'score', diff_rand(i, 22, 100)) END,
	   CASE WHEN diff_rand(i, 23, 6) = 0 THEN NULL
			ELSE ARRAY['t' || diff_rand(i, 24, 4), 't' || diff_rand(i, 25, 4)] END
FROM generate_series(1, 300000) AS i;

CREATE TABLE diff_heap (LIKE diff_src) USING heap;
CREATE TABLE diff_ledger (LIKE diff_src) USING ledger;

SET ledger.segment_rows = 50000;
-- two thirds with INSERT ... SELECT in three transactions
INSERT INTO diff_heap SELECT * FROM diff_src WHERE id <= 100000;
INSERT INTO diff_ledger SELECT * FROM diff_src WHERE id <= 100000;
INSERT INTO diff_heap SELECT * FROM diff_src WHERE id > 100000 AND id <= 150000;
INSERT INTO diff_ledger SELECT * FROM diff_src WHERE id > 100000 AND id <= 150000;
BEGIN;
INSERT INTO diff_heap SELECT * FROM diff_src WHERE id > 150000 AND id <= 200000;
INSERT INTO diff_ledger SELECT * FROM diff_src WHERE id > 150000 AND id <= 200000;
SAVEPOINT sp;
INSERT INTO diff_heap SELECT * FROM diff_src WHERE id > 200000 AND id <= 260000;
INSERT INTO diff_ledger SELECT * FROM diff_src WHERE id > 200000 AND id <= 260000;
ROLLBACK TO SAVEPOINT sp;
COMMIT;
-- the last third with COPY
SELECT current_setting('data_directory') || '/ledger_regress_diff.data' AS copy_file \gset
COPY (SELECT * FROM diff_src WHERE id > 200000) TO :'copy_file';
COPY diff_heap FROM :'copy_file';
COPY diff_ledger FROM :'copy_file';
RESET ledger.segment_rows;
DROP TABLE diff_src;

SELECT count(*) > 4 AS many_segments FROM ledger.segments
WHERE ledger = 'diff_ledger'::regclass;

-- counts and the full ordered dump
SELECT (SELECT count(*) FROM diff_heap) AS heap_rows,
	   (SELECT count(*) FROM diff_ledger) AS ledger_rows;
SELECT (SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM diff_heap t) =
	   (SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM diff_ledger t)
	   AS same_dump;
SELECT (SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM diff_heap t) =
	   (SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM diff_ledger t)
	   AS same_dump_by_id;

-- a query's result is the same on both tables (as multisets of rows)
CREATE FUNCTION diff_same(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	heap_only bigint;
	ledger_only bigint;
	nrows bigint;
BEGIN
	EXECUTE format('SELECT count(*) FROM (%s) q', replace(query, '$t', 'diff_heap'))
		INTO nrows;
	EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL (%s)) d',
				   replace(query, '$t', 'diff_heap'), replace(query, '$t', 'diff_ledger'))
		INTO heap_only;
	EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL (%s)) d',
				   replace(query, '$t', 'diff_ledger'), replace(query, '$t', 'diff_heap'))
		INTO ledger_only;
	IF heap_only = 0 AND ledger_only = 0 THEN
		RETURN 'same ' || nrows || ' rows';
	END IF;
	RETURN format('DIFFERENT: %s rows only in heap, %s only in ledger', heap_only, ledger_only);
END $$;

-- whole-table aggregates
SELECT diff_same($q$
	SELECT count(*), count(merchant), count(method), count(amount), count(note),
		   count(attrs), count(tags), count(flag), count(rate),
		   sum(amount), sum(fee), sum(merchant), sum(small), round(sum(rate)::numeric, 2),
		   min(amount), max(amount), min(fee), max(fee), min(ts), max(ts),
		   min(day), max(day), min(city), max(city), min(note), max(note),
		   min(small), max(small), min(rate), max(rate),
		   avg(amount), avg(fee), avg(merchant), avg(small),
		   count(DISTINCT merchant), count(DISTINCT amount), count(DISTINCT city),
		   count(DISTINCT note), count(DISTINCT attrs), count(DISTINCT tags),
		   bool_and(flag), bool_or(flag), every(amount IS NOT NULL)
	FROM $t
$q$) AS totals;

-- GROUP BY one and several columns, with NULL groups
SELECT diff_same($q$
	SELECT day, count(*), sum(amount), sum(fee), min(ts), max(ts) FROM $t GROUP BY day
$q$) AS by_day;
SELECT diff_same($q$
	SELECT method, status, count(*), sum(amount), avg(amount), count(DISTINCT merchant)
	FROM $t GROUP BY method, status
$q$) AS by_method_status;
SELECT diff_same($q$
	SELECT date_trunc('hour', ts) AS hour, city, flag, count(*), sum(fee), max(note)
	FROM $t GROUP BY 1, 2, 3
$q$) AS by_hour_city_flag;
SELECT diff_same($q$
	SELECT merchant, count(*), sum(amount), min(small), max(small)
	FROM $t GROUP BY merchant HAVING count(*) > 3
$q$) AS by_merchant;
SELECT diff_same($q$
	SELECT attrs ->> 'issuer' AS issuer, tags[1] AS tag, count(*), sum((attrs ->> 'score')::int)
	FROM $t GROUP BY 1, 2
$q$) AS by_json_array;
SELECT diff_same($q$
	SELECT status, city, count(*) FROM $t GROUP BY GROUPING SETS ((status), (city), ())
$q$) AS grouping_sets;

-- filters, including on NULLs and non-ASCII text
SELECT diff_same($q$
	SELECT * FROM $t WHERE city = '東京' AND amount > 50000
$q$) AS filter_text;
SELECT diff_same($q$
	SELECT id, amount FROM $t WHERE amount IS NULL OR method IS NULL
$q$) AS filter_nulls;
SELECT diff_same($q$
	SELECT id, ts FROM $t WHERE ts >= '2024-01-10' AND ts < '2024-01-11' AND status = 'failed'
$q$) AS filter_range;
SELECT diff_same($q$
	SELECT id FROM $t WHERE amount = 1234 OR amount = 1234.5 OR note LIKE '%ää%'
$q$) AS filter_numeric_like;

-- ordering with LIMIT, DISTINCT, window functions, a self-join
SELECT diff_same($q$
	SELECT id, amount FROM $t ORDER BY amount DESC NULLS LAST, id LIMIT 100
$q$) AS top_100;
SELECT diff_same($q$
	SELECT DISTINCT city, method FROM $t
$q$) AS distinct_pairs;
SELECT diff_same($q$
	SELECT id, rank() OVER (PARTITION BY day ORDER BY amount DESC NULLS LAST, id) AS r
	FROM $t WHERE merchant = 42
$q$) AS window_rank;
SELECT diff_same($q$
	SELECT a.city, count(*), sum(b.amount) FROM $t a JOIN $t b ON a.id = b.id * 3
	WHERE a.city = b.city GROUP BY a.city
$q$) AS self_join;

-- a parallel plan reads the same rows
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SELECT diff_same($q$
	SELECT status, count(*), sum(amount) FROM $t GROUP BY status
$q$) AS parallel_by_status;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

-- the same after VACUUM FULL and a rewrite of the ledger
VACUUM FULL diff_ledger;
ALTER TABLE diff_heap ALTER COLUMN small TYPE int;
ALTER TABLE diff_ledger ALTER COLUMN small TYPE int;
SELECT (SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM diff_heap t) =
	   (SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM diff_ledger t)
	   AS same_dump_after_rewrite;

RESET TimeZone;
RESET extra_float_digits;
DROP FUNCTION diff_same(text), diff_rand(bigint, int, int);
DROP TABLE diff_heap, diff_ledger;

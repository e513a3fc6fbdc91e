--
-- tableam_insert: every way rows get into a ledger, and COPY out of it
--
CREATE TABLE ins (id int, name text, amount numeric) USING ledger;

-- the table uses the access method
SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
WHERE c.oid = 'ins'::regclass;

-- single-row and multi-row INSERT
INSERT INTO ins VALUES (1, 'one', 1.5);
INSERT INTO ins VALUES (2, 'two', 2.50), (3, 'three', NULL), (4, NULL, -4);
INSERT INTO ins (id) VALUES (5);
INSERT INTO ins DEFAULT VALUES;
SELECT * FROM ins ORDER BY id;

-- RETURNING
INSERT INTO ins VALUES (6, 'six', 6) RETURNING *;
INSERT INTO ins VALUES (7, 'seven', 7), (8, 'eight', 8) RETURNING id, name;

-- INSERT ... SELECT, from a function, from VALUES, from another ledger
INSERT INTO ins SELECT i, 'n' || i, i / 10.0 FROM generate_series(9, 100) AS i;
INSERT INTO ins SELECT * FROM (VALUES (101, 'v101', 101.0), (102, 'v102', 102.0)) v;
CREATE TABLE ins2 (id int, name text, amount numeric) USING ledger;
INSERT INTO ins2 SELECT * FROM ins WHERE id <= 50;
SELECT count(*), sum(id), sum(amount), count(name), count(amount) FROM ins;
SELECT count(*), sum(id), sum(amount) FROM ins2;

-- CREATE TABLE ... USING ledger AS SELECT, and WITH NO DATA
CREATE TABLE ins_ctas USING ledger AS SELECT * FROM ins WHERE id > 50;
SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
WHERE c.oid = 'ins_ctas'::regclass;
SELECT count(*), sum(id), min(name), max(name) FROM ins_ctas;
CREATE TABLE ins_empty USING ledger AS SELECT * FROM ins WITH NO DATA;
SELECT count(*) FROM ins_empty;
INSERT INTO ins_empty SELECT * FROM ins_ctas;
SELECT count(*) FROM ins_empty;

-- default_table_access_method, SELECT INTO and CREATE TABLE AS use it
SET default_table_access_method = ledger;
CREATE TABLE ins_default (a int);
SELECT * INTO ins_into FROM ins WHERE id < 5;
SELECT c.relname, a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
WHERE c.relname IN ('ins_default', 'ins_into') ORDER BY 1;
SELECT * FROM ins_into ORDER BY id;
RESET default_table_access_method;
DROP TABLE ins_default, ins_into, ins_empty, ins_ctas, ins2;

-- identity, generated and default columns
CREATE TABLE ins_gen (
	id      bigint GENERATED ALWAYS AS IDENTITY,
	a       int NOT NULL,
	b       int GENERATED ALWAYS AS (a * 2) STORED,
	c       text DEFAULT 'dflt',
	CHECK (a > 0)
) USING ledger;
INSERT INTO ins_gen (a) VALUES (1), (2);
INSERT INTO ins_gen (a, c) VALUES (3, 'three');
SELECT * FROM ins_gen ORDER BY id;
-- constraints are checked; the failed rows leave nothing behind
INSERT INTO ins_gen (a) VALUES (4), (NULL);
INSERT INTO ins_gen (a) VALUES (5), (-5);
SELECT count(*) FROM ins_gen;
DROP TABLE ins_gen;

-- COPY FROM STDIN, text and CSV
TRUNCATE ins;
COPY ins FROM STDIN;
1	one	1.5
2	\N	2
3	tab\there	\N
4	new\nline	-0.001
\.
COPY ins FROM STDIN (FORMAT csv, HEADER true);
id,name,amount
5,"quoted, comma",5.5
6,,6
7,"multi
line",7
\.
SELECT id, name, amount FROM ins ORDER BY id;
-- COPY with a bad line loads nothing
COPY ins FROM STDIN;
8	eight	8
9	nine	not a number
\.
SELECT count(*) FROM ins;

-- COPY TO STDOUT reads the table itself (not through a query)
CREATE TABLE ins_one (id int, name text, amount numeric) USING ledger;
INSERT INTO ins_one VALUES (1, 'one', 1.5), (2, NULL, 2), (3, 'three', NULL);
COPY ins_one TO STDOUT;
COPY ins_one (name, id) TO STDOUT (FORMAT csv, HEADER true);
COPY (SELECT * FROM ins ORDER BY id) TO STDOUT;
DROP TABLE ins_one;

-- more than 65,536 rows (two blocks) in one statement
CREATE TABLE ins_big (id int, grp int, label text) USING ledger;
INSERT INTO ins_big
SELECT i, i % 10, 'label ' || (i % 1000) FROM generate_series(1, 100000) AS i;
SELECT count(*), sum(id), count(DISTINCT grp), count(DISTINCT label),
	   min(id), max(id) FROM ins_big;
SELECT count(*) AS segments, sum(rows) AS rows
FROM ledger.segments WHERE ledger = 'ins_big'::regclass;

-- a smaller segment size makes one statement write several segments
SET ledger.segment_rows = 20000;
SHOW ledger.segment_rows;
INSERT INTO ins_big
SELECT i, i % 10, 'label ' || (i % 1000) FROM generate_series(100001, 170000) AS i;
SELECT count(*), sum(id), min(id), max(id) FROM ins_big;
SELECT array_agg(rows ORDER BY segment_id) AS segment_rows, sum(rows) AS rows
FROM ledger.segments WHERE ledger = 'ins_big'::regclass;
-- the segment size has a lower bound
SET ledger.segment_rows = 999;
RESET ledger.segment_rows;

-- COPY TO a file and back: a large COPY out and a large COPY in, compared
-- with a heap table loaded from the same file
SELECT current_setting('data_directory') || '/ledger_regress_ins_big.data' AS copy_file \gset
COPY ins_big TO :'copy_file';
CREATE TABLE ins_big_heap (id int, grp int, label text) USING heap;
COPY ins_big_heap FROM :'copy_file';
CREATE TABLE ins_big_copy (id int, grp int, label text) USING ledger;
COPY ins_big_copy FROM :'copy_file';
SELECT (SELECT count(*) FROM ins_big_heap) AS heap_rows,
	   (SELECT count(*) FROM ins_big_copy) AS ledger_rows;
SELECT (SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM ins_big t) =
	   (SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM ins_big_heap t)
	   AS copy_out_complete,
	   (SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM ins_big_copy t) =
	   (SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM ins_big_heap t)
	   AS copy_in_complete;
SELECT count(*) AS rows FROM (SELECT id FROM ins_big_copy GROUP BY id HAVING count(*) > 1) d;
DROP TABLE ins_big, ins_big_heap, ins_big_copy;

-- ledger.segments: rows, the range of the first timestamp or date column
-- (NULLs ignored), compressed bytes per column
CREATE TABLE ins_meta (id int, ts timestamptz, d date, v text) USING ledger;
INSERT INTO ins_meta
SELECT i, CASE WHEN i % 10 = 0 THEN NULL
			   ELSE '2024-01-01 00:00:00+00'::timestamptz + i * interval '1 hour' END,
	   '2020-01-01'::date + i, 'v' || i
FROM generate_series(1, 1000) AS i;
INSERT INTO ins_meta VALUES (1001, NULL, '2030-01-01', 'no time');
SELECT rows, time_min, time_max, bytes > 0 AS has_bytes,
	   (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(column_bytes) AS k) AS columns
FROM ledger.segments WHERE ledger = 'ins_meta'::regclass ORDER BY segment_id;
SELECT min(ts), max(ts) FROM ins_meta;
ALTER TABLE ins_meta DROP COLUMN v;
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(column_bytes) AS k) AS columns
FROM ledger.segments WHERE ledger = 'ins_meta'::regclass ORDER BY segment_id;
DROP TABLE ins_meta;

-- triggers and foreign keys see the inserted rows
CREATE TABLE ins_merchants (merchant_id int PRIMARY KEY, name text);
INSERT INTO ins_merchants VALUES (1, 'one'), (2, 'two');
CREATE TABLE ins_payments (
	merchant_id int REFERENCES ins_merchants,
	amount      bigint
) USING ledger;
CREATE TABLE ins_audit (merchant_id int, amount bigint, phase text);
CREATE FUNCTION ins_audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO ins_audit VALUES (NEW.merchant_id, NEW.amount, TG_WHEN);
	RETURN NEW;
END $$;
CREATE TRIGGER ins_before BEFORE INSERT ON ins_payments
	FOR EACH ROW EXECUTE FUNCTION ins_audit_row();
CREATE TRIGGER ins_after AFTER INSERT ON ins_payments
	FOR EACH ROW EXECUTE FUNCTION ins_audit_row();
INSERT INTO ins_payments VALUES (1, 100), (2, 200);
INSERT INTO ins_payments VALUES (3, 300);
SELECT * FROM ins_payments ORDER BY merchant_id;
SELECT * FROM ins_audit ORDER BY merchant_id, phase;
DROP TABLE ins_payments, ins_audit, ins_merchants;
DROP FUNCTION ins_audit_row();

DROP TABLE ins;
-- nothing left behind
SELECT count(*) FROM ledger.segment s
WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relfilenode = s.storage);

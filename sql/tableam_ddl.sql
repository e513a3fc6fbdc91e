--
-- tableam_ddl: TRUNCATE, DROP, ALTER TABLE, VACUUM, ANALYZE, planner
-- estimates, DROP EXTENSION
--
-- segment catalog rows whose ledger no longer exists (must stay 0)
CREATE FUNCTION ddl_orphans() RETURNS bigint LANGUAGE sql AS $$
	SELECT count(*) FROM ledger.segment s
	WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relfilenode = s.storage)
$$;
CREATE FUNCTION ddl_orphan_columns() RETURNS bigint LANGUAGE sql AS $$
	SELECT count(*) FROM ledger.segment_column sc
	WHERE NOT EXISTS (SELECT 1 FROM ledger.segment s
					  WHERE s.storage = sc.storage AND s.segment_id = sc.segment_id)
$$;
-- the planner's row estimate for a query
CREATE FUNCTION ddl_plan_rows(query text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
	RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::float8;
END $$;
-- true when the estimate is within 10 % of the real count
CREATE FUNCTION ddl_estimate_ok(tab regclass) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
	actual bigint;
	estimate float8;
BEGIN
	EXECUTE format('SELECT count(*) FROM %s', tab) INTO actual;
	estimate := ddl_plan_rows(format('SELECT * FROM %s', tab));
	IF abs(estimate - actual) > 0.1 * actual THEN
		RAISE NOTICE 'estimate % for % rows', estimate, actual;
		RETURN false;
	END IF;
	RETURN true;
END $$;

CREATE TABLE d (id int, v text) USING ledger;
INSERT INTO d SELECT i, 'v' || i FROM generate_series(1, 100) AS i;

-- TRUNCATE
TRUNCATE d;
SELECT count(*) FROM d;
SELECT count(*) FROM ledger.segments WHERE ledger = 'd'::regclass;
SELECT ddl_orphans(), ddl_orphan_columns();
INSERT INTO d SELECT i, 'v' || i FROM generate_series(1, 100) AS i;

-- TRUNCATE rolled back restores the rows
BEGIN;
TRUNCATE d;
SELECT count(*) FROM d;
INSERT INTO d VALUES (-1, 'after truncate, rolled back');
ROLLBACK;
SELECT count(*), sum(id) FROM d;

-- TRUNCATE in the transaction that wrote unflushed rows drops them
BEGIN;
INSERT INTO d VALUES (1000, 'before truncate');
TRUNCATE d;
INSERT INTO d VALUES (1001, 'after truncate');
SELECT * FROM d ORDER BY id;
COMMIT;
SELECT * FROM d ORDER BY id;
SELECT ddl_orphans(), ddl_orphan_columns();

-- TRUNCATE inside a savepoint rolled back
INSERT INTO d SELECT i, 'v' || i FROM generate_series(1, 99) AS i;
BEGIN;
SAVEPOINT sp;
TRUNCATE d;
INSERT INTO d VALUES (-2, 'rolled back');
ROLLBACK TO SAVEPOINT sp;
SELECT count(*), sum(id) FROM d;
COMMIT;

-- DROP TABLE, committed and rolled back
CREATE TABLE d_drop (id int) USING ledger;
INSERT INTO d_drop SELECT generate_series(1, 1000);
BEGIN;
DROP TABLE d_drop;
ROLLBACK;
SELECT count(*) FROM d_drop;
DROP TABLE d_drop;
SELECT ddl_orphans(), ddl_orphan_columns();

-- DROP in the transaction that created and filled the table
BEGIN;
CREATE TABLE d_drop (id int) USING ledger;
INSERT INTO d_drop SELECT generate_series(1, 1000);
SELECT count(*) FROM d_drop;
DROP TABLE d_drop;
COMMIT;
SELECT ddl_orphans(), ddl_orphan_columns();

-- DROP SCHEMA ... CASCADE and DROP OWNED
CREATE SCHEMA d_schema;
CREATE TABLE d_schema.a (id int) USING ledger;
CREATE TABLE d_schema.b (id int) USING ledger;
INSERT INTO d_schema.a SELECT generate_series(1, 10);
INSERT INTO d_schema.b SELECT generate_series(1, 10);
DROP SCHEMA d_schema CASCADE;
SELECT ddl_orphans(), ddl_orphan_columns();
CREATE ROLE ledger_ddl_owner;
GRANT CREATE ON SCHEMA public TO ledger_ddl_owner;
SET ROLE ledger_ddl_owner;
CREATE TABLE d_owned (id int) USING ledger;
INSERT INTO d_owned SELECT generate_series(1, 10);
RESET ROLE;
DROP OWNED BY ledger_ddl_owner;
DROP ROLE ledger_ddl_owner;
SELECT ddl_orphans(), ddl_orphan_columns();

-- ALTER TABLE ADD COLUMN without and with a default: old rows read NULL
-- and the default
TRUNCATE d;
INSERT INTO d SELECT i, 'v' || i FROM generate_series(1, 5) AS i;
ALTER TABLE d ADD COLUMN c int;
ALTER TABLE d ADD COLUMN e int DEFAULT 7;
ALTER TABLE d ADD COLUMN f text NOT NULL DEFAULT 'fff';
SELECT * FROM d ORDER BY id;
INSERT INTO d VALUES (6, 'v6', 66, 67, 'six');
INSERT INTO d (id) VALUES (7);
SELECT * FROM d ORDER BY id;
-- a volatile default rewrites the table
CREATE SEQUENCE d_seq;
ALTER TABLE d ADD COLUMN g bigint DEFAULT nextval('d_seq');
SELECT count(*), count(DISTINCT g), min(g), max(g) FROM d;
SELECT id, v, c, e, f FROM d ORDER BY id;

-- DROP COLUMN, then rows with and without it
ALTER TABLE d DROP COLUMN v;
SELECT id, c, e, f, g IS NOT NULL AS has_g FROM d ORDER BY id;
INSERT INTO d (id, c, e, f, g) VALUES (8, 88, 89, 'eight', 0);
ALTER TABLE d DROP COLUMN g;
SELECT * FROM d ORDER BY id;

-- RENAME COLUMN and RENAME TABLE
ALTER TABLE d RENAME COLUMN c TO c_renamed;
ALTER TABLE d RENAME TO d_renamed;
SELECT id, c_renamed FROM d_renamed ORDER BY id;
ALTER TABLE d_renamed RENAME TO d;

-- ALTER COLUMN TYPE rewrites the table
ALTER TABLE d ALTER COLUMN id TYPE bigint;
ALTER TABLE d ALTER COLUMN e TYPE text USING 'e=' || e;
SELECT pg_typeof(id), pg_typeof(e) FROM d LIMIT 1;
SELECT * FROM d ORDER BY id;
SELECT ddl_orphans(), ddl_orphan_columns();
-- and a rewrite rolled back keeps the old rows
BEGIN;
ALTER TABLE d ALTER COLUMN c_renamed TYPE numeric;
ROLLBACK;
SELECT pg_typeof(c_renamed), sum(c_renamed) FROM d GROUP BY 1;
SELECT ddl_orphans(), ddl_orphan_columns();
DROP SEQUENCE d_seq;

-- SET ACCESS METHOD converts heap to ledger and back
CREATE TABLE d_conv (id int, v text);
INSERT INTO d_conv SELECT i, 'v' || i FROM generate_series(1, 1000) AS i;
ALTER TABLE d_conv SET ACCESS METHOD ledger;
SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
WHERE c.oid = 'd_conv'::regclass;
SELECT count(*), sum(id), md5(string_agg(v, ',' ORDER BY id)) FROM d_conv;
SELECT count(*) AS segments FROM ledger.segments WHERE ledger = 'd_conv'::regclass;
ALTER TABLE d_conv SET ACCESS METHOD heap;
SELECT count(*), sum(id), md5(string_agg(v, ',' ORDER BY id)) FROM d_conv;
DROP TABLE d_conv;
SELECT ddl_orphans(), ddl_orphan_columns();

-- VACUUM, VACUUM FULL, ANALYZE keep the rows
CREATE TABLE d_vac (id int, grp int, v text) USING ledger;
INSERT INTO d_vac SELECT i, i % 10, 'v' || i FROM generate_series(1, 50000) AS i;
INSERT INTO d_vac SELECT i, i % 10, 'v' || i FROM generate_series(50001, 60000) AS i;
SELECT count(*), sum(id), md5(string_agg(v, ',' ORDER BY id)) FROM d_vac;
VACUUM d_vac;
SELECT count(*), sum(id), md5(string_agg(v, ',' ORDER BY id)) FROM d_vac;
VACUUM (VERBOSE false, ANALYZE true) d_vac;
SELECT relfilenode AS old_filenode FROM pg_class WHERE oid = 'd_vac'::regclass \gset
VACUUM FULL d_vac;
SELECT relfilenode <> :old_filenode AS rewritten FROM pg_class WHERE oid = 'd_vac'::regclass;
SELECT count(*), sum(id), md5(string_agg(v, ',' ORDER BY id)) FROM d_vac;
SELECT sum(rows) AS rows_in_segments FROM ledger.segments WHERE ledger = 'd_vac'::regclass;
SELECT ddl_orphans(), ddl_orphan_columns();
-- VACUUM keeps relfrozenxid moving
SELECT relfrozenxid::text <> '0' AS has_frozenxid
FROM pg_class WHERE oid = 'd_vac'::regclass;
VACUUM FREEZE d_vac;
SELECT age(relfrozenxid) < 100 AS frozen FROM pg_class WHERE oid = 'd_vac'::regclass;
-- a vacuum of everything includes ledgers and the segment catalogs
VACUUM;
SELECT count(*) FROM d_vac;

-- ANALYZE: reltuples and column statistics
ANALYZE d_vac;
SELECT reltuples BETWEEN 54000 AND 66000 AS reltuples_ok FROM pg_class
WHERE oid = 'd_vac'::regclass;
SELECT attname, null_frac, n_distinct FROM pg_stats
WHERE tablename = 'd_vac' AND attname IN ('grp') ORDER BY attname;
SELECT count(*) AS stats_columns FROM pg_stats WHERE tablename = 'd_vac';

-- the planner's row estimate follows the segment metadata: without
-- ANALYZE, after ANALYZE, and after more rows arrive
CREATE TABLE d_est (id int, v text) USING ledger;
SELECT ddl_plan_rows('SELECT * FROM d_est') < 10000 AS small_estimate_when_empty;
INSERT INTO d_est SELECT i, 'v' || i FROM generate_series(1, 40000) AS i;
SELECT ddl_estimate_ok('d_est') AS estimate_before_analyze;
ANALYZE d_est;
SELECT ddl_estimate_ok('d_est') AS estimate_after_analyze;
INSERT INTO d_est SELECT i, 'v' || i FROM generate_series(40001, 100000) AS i;
SELECT ddl_estimate_ok('d_est') AS estimate_after_more_rows;
ANALYZE d_est;
SELECT reltuples BETWEEN 90000 AND 110000 AS reltuples_ok FROM pg_class
WHERE oid = 'd_est'::regclass;
TRUNCATE d_est;
INSERT INTO d_est SELECT i, 'v' || i FROM generate_series(1, 20000) AS i;
SELECT ddl_estimate_ok('d_est') AS estimate_after_truncate;
-- selectivity estimates use the column statistics
ANALYZE d_est;
SELECT ddl_plan_rows('SELECT * FROM d_est WHERE id <= 2000') BETWEEN 1000 AND 4000
	AS range_estimate_ok;
DROP TABLE d_est, d_vac;

-- ledger.table_size counts the bytes a ledger owns
CREATE TABLE d_size (id int, v text) USING ledger;
SELECT ledger.table_size('d_size') AS empty_size \gset
INSERT INTO d_size SELECT i, md5(i::text) FROM generate_series(1, 50000) AS i;
SELECT ledger.table_size('d_size') > :empty_size AS grows,
	   ledger.table_size('d_size') >= (SELECT sum(bytes) FROM ledger.segments
									   WHERE ledger = 'd_size'::regclass) AS covers_segments;
-- TOAST bytes count: a ledger's size does not depend on other ledgers
CREATE TABLE d_size2 (id int, v text) USING ledger;
INSERT INTO d_size2 SELECT i, md5(i::text) FROM generate_series(1, 5) AS i;
SELECT ledger.table_size('d_size2') < ledger.table_size('d_size') AS per_ledger;
SELECT ledger.table_size('pg_class');
DROP TABLE d_size, d_size2;

-- DROP EXTENSION removes the ledgers (CASCADE) and leaves nothing; a
-- rolled-back DROP EXTENSION keeps the data
DROP TABLE d;
CREATE TABLE d_ext (id int) USING ledger;
INSERT INTO d_ext SELECT generate_series(1, 100);
DROP EXTENSION ledger;
BEGIN;
DROP EXTENSION ledger CASCADE;
ROLLBACK;
SELECT count(*) FROM d_ext;
DROP FUNCTION ddl_orphans(), ddl_orphan_columns();
DROP EXTENSION ledger CASCADE;
SELECT count(*) FROM pg_class WHERE relname = 'd_ext';
SELECT count(*) FROM pg_class WHERE relnamespace::regnamespace::text = 'ledger';
SELECT count(*) FROM pg_am WHERE amname = 'ledger';
-- and it can be created again, empty
CREATE EXTENSION ledger;
SELECT count(*) FROM ledger.segment;
CREATE TABLE d_ext (id int) USING ledger;
INSERT INTO d_ext SELECT generate_series(1, 100);
SELECT count(*), sum(id) FROM d_ext;
DROP TABLE d_ext;
SELECT count(*) FROM ledger.segment;
DROP FUNCTION ddl_plan_rows(text), ddl_estimate_ok(regclass);

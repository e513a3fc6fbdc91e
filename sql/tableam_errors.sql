--
-- tableam_errors: operations a raw ledger does not support yet raise an
-- ERROR with a hint, and leave the rows as they were
--
\set VERBOSITY default
CREATE TABLE err (id int, v text) USING ledger;
INSERT INTO err SELECT i, 'v' || i FROM generate_series(1, 1000) AS i;
CREATE FUNCTION err_state() RETURNS text LANGUAGE sql AS $$
	SELECT count(*) || ' rows, ' || md5(string_agg(t::text, '|' ORDER BY id)) FROM err t
$$;
SELECT err_state() AS before \gset

-- UPDATE and DELETE
UPDATE err SET v = 'changed' WHERE id = 1;
UPDATE err SET v = 'changed';
DELETE FROM err WHERE id = 1;
DELETE FROM err;
-- the same through MERGE
MERGE INTO err USING (VALUES (1)) AS s(id) ON err.id = s.id
	WHEN MATCHED THEN UPDATE SET v = 'merged';
MERGE INTO err USING (VALUES (1)) AS s(id) ON err.id = s.id
	WHEN MATCHED THEN DELETE;

-- row locks
SELECT * FROM err WHERE id = 1 FOR UPDATE;
SELECT * FROM err WHERE id = 1 FOR NO KEY UPDATE;
SELECT * FROM err WHERE id = 1 FOR SHARE;
SELECT * FROM err WHERE id = 1 FOR KEY SHARE;
SELECT * FROM (SELECT * FROM err WHERE id = 1) s FOR UPDATE;

-- indexes, in every form
CREATE INDEX err_id ON err (id);
CREATE UNIQUE INDEX err_id_u ON err (id);
ALTER TABLE err ADD PRIMARY KEY (id);
ALTER TABLE err ADD CONSTRAINT err_u UNIQUE (id);
CREATE TABLE err_pk (id int PRIMARY KEY) USING ledger;
CREATE TABLE err_uq (id int UNIQUE) USING ledger;
CREATE TABLE err_excl (r int4range, EXCLUDE USING gist (r WITH &&)) USING ledger;

-- INSERT ... ON CONFLICT
INSERT INTO err VALUES (1, 'conflict') ON CONFLICT DO NOTHING;
INSERT INTO err VALUES (1, 'conflict') ON CONFLICT (id) DO NOTHING;
INSERT INTO err VALUES (1, 'conflict') ON CONFLICT (id) DO UPDATE SET v = 'x';

-- temporary and unlogged ledgers
CREATE TEMP TABLE err_temp (id int) USING ledger;
CREATE TEMPORARY TABLE err_temp (id int) USING ledger;
CREATE UNLOGGED TABLE err_unlogged (id int) USING ledger;
CREATE TEMP TABLE err_temp USING ledger AS SELECT 1 AS id;
CREATE UNLOGGED TABLE err_unlogged USING ledger AS SELECT 1 AS id;
ALTER TABLE err SET UNLOGGED;
SET default_table_access_method = ledger;
CREATE TEMP TABLE err_temp (id int);
RESET default_table_access_method;

-- every statement above failed and changed nothing
SELECT err_state() = :'before' AS unchanged;
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'err'::regclass;
SELECT count(*) AS leftovers FROM pg_class
WHERE relname IN ('err_pk', 'err_uq', 'err_excl', 'err_temp', 'err_unlogged');
SELECT relpersistence FROM pg_class WHERE oid = 'err'::regclass;

-- the same in a transaction: the error aborts it, its rows go with it
BEGIN;
INSERT INTO err VALUES (1001, 'in transaction');
DELETE FROM err WHERE id = 1001;
COMMIT;
SELECT err_state() = :'before' AS unchanged;

-- and after ROLLBACK TO SAVEPOINT the transaction goes on
BEGIN;
INSERT INTO err VALUES (1001, 'kept');
SAVEPOINT sp;
UPDATE err SET v = 'no' WHERE id = 1;
ROLLBACK TO SAVEPOINT sp;
INSERT INTO err VALUES (1002, 'kept too');
COMMIT;
SELECT id, v FROM err WHERE id > 1000 ORDER BY id;

-- reading works everywhere a heap table is read: joins, subqueries,
-- CTEs, set operations, sampling, cursors that scroll
SELECT count(*) FROM err a JOIN err b USING (id);
SELECT count(*) FROM err WHERE id IN (SELECT id FROM err WHERE id % 2 = 0);
WITH w AS (SELECT * FROM err WHERE id <= 3) SELECT * FROM w ORDER BY id;
SELECT count(*) FROM (SELECT id FROM err UNION SELECT id FROM err) u;
SELECT count(*) FROM err TABLESAMPLE SYSTEM (100);
SELECT count(*) FROM err TABLESAMPLE BERNOULLI (100);
BEGIN;
DECLARE c SCROLL CURSOR FOR SELECT id FROM err ORDER BY id;
FETCH LAST FROM c;
FETCH PRIOR FROM c;
FETCH FIRST FROM c;
CLOSE c;
COMMIT;
-- a scroll cursor over a plain scan reads the same rows backward
CREATE FUNCTION err_backward() RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
	c refcursor;
	r record;
	fwd int[] := '{}';
	bwd int[] := '{}';
BEGIN
	OPEN c SCROLL FOR SELECT id FROM err;
	LOOP
		FETCH NEXT FROM c INTO r;
		EXIT WHEN NOT FOUND;
		fwd := fwd || r.id;
	END LOOP;
	LOOP
		FETCH PRIOR FROM c INTO r;
		EXIT WHEN NOT FOUND;
		bwd := r.id || bwd;
	END LOOP;
	CLOSE c;
	RETURN cardinality(fwd) = 1002 AND fwd = bwd;
END $$;
SELECT err_backward();
DROP FUNCTION err_backward();
-- a row fetched by its ctid
SELECT count(*) FROM err WHERE ctid = (SELECT ctid FROM err WHERE id = 500);
SELECT id FROM err WHERE ctid = (SELECT ctid FROM err WHERE id = 500);
SELECT count(*) FROM err WHERE ctid = '(0,0)';
SELECT count(*) FROM err WHERE ctid = '(4294967295,65535)';

DROP TABLE err;
DROP FUNCTION err_state();

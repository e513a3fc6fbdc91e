--
-- tableam_transactions: visibility of a transaction's own rows, rollback,
-- savepoints, statements reading the table they write, two-phase commit
--
CREATE TABLE tx (id int, note text) USING ledger;
INSERT INTO tx VALUES (0, 'committed before');

-- a transaction sees its own uncommitted rows, statement by statement
BEGIN;
INSERT INTO tx VALUES (1, 'a');
SELECT * FROM tx ORDER BY id;
INSERT INTO tx VALUES (2, 'b'), (3, 'c');
SELECT count(*), sum(id) FROM tx;
SELECT * FROM tx WHERE id >= 2 ORDER BY id;
COMMIT;
SELECT * FROM tx ORDER BY id;

-- ROLLBACK discards the rows
BEGIN;
INSERT INTO tx SELECT i, 'rolled back' FROM generate_series(10, 19) AS i;
SELECT count(*) FROM tx;
ROLLBACK;
SELECT count(*), sum(id) FROM tx;

-- a failed statement in autocommit mode leaves nothing behind
INSERT INTO tx SELECT i, 'fails' FROM generate_series(20, 30) AS i WHERE 1 / (i - 25) <> 7;
SELECT count(*), sum(id) FROM tx;

-- savepoints: ROLLBACK TO discards exactly the rows written after the
-- savepoint; RELEASE keeps them
BEGIN;
INSERT INTO tx VALUES (100, 'top');
SAVEPOINT s1;
INSERT INTO tx VALUES (101, 's1');
SAVEPOINT s2;
INSERT INTO tx VALUES (102, 's2, rolled back');
SELECT id FROM tx WHERE id >= 100 ORDER BY id;
ROLLBACK TO SAVEPOINT s2;
SELECT id FROM tx WHERE id >= 100 ORDER BY id;
INSERT INTO tx VALUES (103, 's1 after s2');
RELEASE SAVEPOINT s1;
SAVEPOINT s3;
INSERT INTO tx VALUES (104, 's3, rolled back');
SAVEPOINT s4;
INSERT INTO tx VALUES (105, 's4, rolled back with s3');
RELEASE SAVEPOINT s4;
ROLLBACK TO SAVEPOINT s3;
INSERT INTO tx VALUES (106, 'after s3');
SAVEPOINT s5;
INSERT INTO tx VALUES (107, 's5, rolled back twice');
ROLLBACK TO SAVEPOINT s5;
INSERT INTO tx VALUES (108, 's5, rolled back too');
ROLLBACK TO SAVEPOINT s5;
SELECT id, note FROM tx WHERE id >= 100 ORDER BY id;
COMMIT;
SELECT id, note FROM tx WHERE id >= 100 ORDER BY id;

-- a failing statement inside a savepoint
BEGIN;
INSERT INTO tx VALUES (200, 'kept');
SAVEPOINT before_error;
INSERT INTO tx SELECT i, 'fails' FROM generate_series(201, 210) AS i WHERE 1 / (i - 205) <> 7;
ROLLBACK TO SAVEPOINT before_error;
INSERT INTO tx VALUES (211, 'kept too');
COMMIT;
SELECT id, note FROM tx WHERE id >= 200 ORDER BY id;

-- the same, with buffers large enough to be flushed as segments inside
-- the subtransaction (the smallest segment size is 1000 rows)
TRUNCATE tx;
SET ledger.segment_rows = 1000;
BEGIN;
INSERT INTO tx SELECT i, 'top' FROM generate_series(1, 500) AS i;
SAVEPOINT big;
INSERT INTO tx SELECT i, 'sub, rolled back' FROM generate_series(501, 3500) AS i;
SELECT count(*), sum(id) FROM tx;
ROLLBACK TO SAVEPOINT big;
SELECT count(*), sum(id) FROM tx;
INSERT INTO tx SELECT i, 'top again' FROM generate_series(3501, 4700) AS i;
SAVEPOINT big2;
INSERT INTO tx SELECT i, 'sub, kept' FROM generate_series(4701, 7000) AS i;
RELEASE SAVEPOINT big2;
SAVEPOINT big3;
INSERT INTO tx SELECT i, 'fails after flushing' FROM generate_series(7001, 10000) AS i
WHERE 1 / (i - 9500) <> 7;
ROLLBACK TO SAVEPOINT big3;
SELECT note, count(*), min(id), max(id) FROM tx GROUP BY note ORDER BY min(id);
COMMIT;
SELECT note, count(*), min(id), max(id) FROM tx GROUP BY note ORDER BY min(id);
SELECT sum(rows) AS rows_in_segments FROM ledger.segments WHERE ledger = 'tx'::regclass;

-- a failed statement that flushed segments before failing leaves nothing
INSERT INTO tx SELECT i, 'fails after flushing' FROM generate_series(20001, 25000) AS i
WHERE 1 / (i - 24000) <> 7;
SELECT count(*) FROM tx;
SELECT sum(rows) AS rows_in_segments FROM ledger.segments WHERE ledger = 'tx'::regclass;

-- INSERT ... SELECT from the same table reads only the rows that existed
-- when the statement started (no Halloween problem), also when the
-- statement flushes segments while it runs and when the transaction has
-- unflushed rows of its own
TRUNCATE tx;
INSERT INTO tx SELECT i, 'base' FROM generate_series(1, 3000) AS i;
INSERT INTO tx SELECT id + 3000, 'copy' FROM tx;
SELECT note, count(*), min(id), max(id) FROM tx GROUP BY note ORDER BY note;
BEGIN;
INSERT INTO tx VALUES (10000, 'uncommitted');
INSERT INTO tx SELECT id + 20000, 'copy in transaction' FROM tx;
SELECT note, count(*), min(id), max(id) FROM tx GROUP BY note ORDER BY note;
COMMIT;
SELECT count(*) FROM tx;
RESET ledger.segment_rows;

-- a cursor keeps reading the rows of its own snapshot while the
-- transaction inserts more
TRUNCATE tx;
INSERT INTO tx SELECT i, 'c' FROM generate_series(1, 5) AS i;
BEGIN;
DECLARE cur CURSOR FOR SELECT id FROM tx ORDER BY id;
FETCH 2 FROM cur;
INSERT INTO tx SELECT i, 'after cursor' FROM generate_series(6, 10) AS i;
FETCH ALL FROM cur;
CLOSE cur;
SELECT count(*) FROM tx;
COMMIT;

-- a function in the same statement sees rows inserted by earlier statements
CREATE FUNCTION tx_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM tx';
BEGIN;
INSERT INTO tx VALUES (11, 'fn');
SELECT tx_count();
INSERT INTO tx SELECT 12, 'count ' || tx_count();
SELECT id, note FROM tx WHERE id >= 11 ORDER BY id;
ROLLBACK;
DROP FUNCTION tx_count();

-- two ledgers and a heap table in one transaction, one of them rolled
-- back to a savepoint
CREATE TABLE tx2 (id int) USING ledger;
CREATE TABLE tx_heap (id int);
BEGIN;
INSERT INTO tx2 VALUES (1);
INSERT INTO tx_heap VALUES (1);
SAVEPOINT sp;
INSERT INTO tx VALUES (100, 'sp');
INSERT INTO tx2 VALUES (2);
INSERT INTO tx_heap VALUES (2);
ROLLBACK TO SAVEPOINT sp;
INSERT INTO tx2 VALUES (3);
COMMIT;
SELECT (SELECT array_agg(id ORDER BY id) FROM tx2) AS tx2,
	   (SELECT array_agg(id ORDER BY id) FROM tx_heap) AS tx_heap,
	   (SELECT count(*) FROM tx WHERE id = 100) AS tx_100;
DROP TABLE tx2, tx_heap;

-- a table created in the transaction and rolled back
BEGIN;
CREATE TABLE tx_new (id int) USING ledger;
INSERT INTO tx_new SELECT generate_series(1, 10);
SELECT count(*) FROM tx_new;
ROLLBACK;
SELECT count(*) FROM pg_class WHERE relname = 'tx_new';

-- parallel workers see the transaction's own rows
BEGIN;
INSERT INTO tx SELECT i, 'parallel' FROM generate_series(1001, 1100) AS i;
SET LOCAL force_parallel_mode = on;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SELECT count(*) FROM tx WHERE note = 'parallel';
COMMIT;
SELECT count(*) FROM tx WHERE note = 'parallel';

-- PREPARE TRANSACTION: the rows are invisible until COMMIT PREPARED and
-- gone after ROLLBACK PREPARED
TRUNCATE tx;
BEGIN;
INSERT INTO tx VALUES (1, 'prepared, committed');
SAVEPOINT p;
INSERT INTO tx VALUES (2, 'rolled back to savepoint');
ROLLBACK TO SAVEPOINT p;
PREPARE TRANSACTION 'ledger_tx_commit';
SELECT count(*) FROM tx;
COMMIT PREPARED 'ledger_tx_commit';
SELECT * FROM tx ORDER BY id;
BEGIN;
INSERT INTO tx SELECT i, 'prepared, rolled back' FROM generate_series(10, 20) AS i;
PREPARE TRANSACTION 'ledger_tx_rollback';
ROLLBACK PREPARED 'ledger_tx_rollback';
SELECT * FROM tx ORDER BY id;
SELECT count(*) FROM pg_prepared_xacts;

DROP TABLE tx;
-- nothing left behind
SELECT count(*) FROM ledger.segment s
WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relfilenode = s.storage);

--
-- Keyed raw ledgers (ledger.set_key): a row per key, replaced by a newer
-- version like a primary-key table, hidden when retracted.  Checked
-- against a heap table with a primary key fed the same events.
--
SET timezone = 'UTC';

CREATE TABLE orders (id text, ts timestamptz, customer int, total numeric, note text, version int) USING ledger;
-- errors first
SELECT ledger.set_key('orders', 'nope');
SELECT ledger.set_key('orders', 'id', 'nope');
SELECT ledger.set_key('orders', 'id', 'id');
SELECT ledger.set_key('orders', 'id', 'note');
SELECT ledger.set_key('orders', NULL, 'version');
SELECT ledger.set_key('orders', 'id', 'version');
SELECT ledger, rollup, key_column FROM ledger.tables WHERE ledger = 'orders'::regclass;

INSERT INTO orders VALUES ('o1', '2026-01-01 10:00', 1, 10.00, 'new', 1),
						  ('o2', '2026-01-01 10:01', 2, 20.00, 'new', 1);
SELECT * FROM orders ORDER BY id;
-- replay, correction, stale
INSERT INTO orders VALUES ('o1', '2026-01-01 10:00', 1, 10.00, 'new', 1);
INSERT INTO orders VALUES ('o1', '2026-01-01 10:05', 1, 12.50, 'corrected', 2);
INSERT INTO orders VALUES ('o2', '2026-01-01 09:00', 2, 1.00, 'old', 0);
SELECT * FROM orders ORDER BY id;
SELECT count(*) FROM orders;
-- the same version with another payload is an error
INSERT INTO orders VALUES ('o2', '2026-01-01 10:01', 2, 21.00, 'new', 1);
-- a set key cannot change once rows exist
SELECT ledger.set_key('orders', 'note');
-- retraction hides the row; a replay stays hidden; a newer version shows again
SELECT ledger.retract('orders', 'o2');
SELECT * FROM orders ORDER BY id;
INSERT INTO orders VALUES ('o2', '2026-01-01 10:01', 2, 20.00, 'new', 1);
SELECT * FROM orders ORDER BY id;
SELECT ledger.upsert('orders', ROW('o2', '2026-01-01 11:00', 2, 25.00, 'reopened', 2)::orders);
SELECT * FROM orders ORDER BY id;
-- in one transaction: replace twice, then roll back part of it
BEGIN;
INSERT INTO orders VALUES ('o3', '2026-01-01 12:00', 3, 1, 'a', 1);
INSERT INTO orders VALUES ('o3', '2026-01-01 12:00', 3, 2, 'b', 2);
SAVEPOINT s;
INSERT INTO orders VALUES ('o3', '2026-01-01 12:00', 3, 3, 'c', 3);
SELECT * FROM orders WHERE id = 'o3';
ROLLBACK TO s;
SELECT * FROM orders WHERE id = 'o3';
COMMIT;
SELECT * FROM orders ORDER BY id;
-- a filtered scan (custom scan with pushed-down quals) hides replaced rows too
SELECT id, total FROM orders WHERE customer = 1;
SELECT id, total FROM orders WHERE note = 'new';
SET ledger.enable_custom_scan = off;
SELECT id, total FROM orders WHERE note = 'new';
RESET ledger.enable_custom_scan;

-- an integer key and a timestamp version
CREATE TABLE readings (sensor bigint, at timestamptz, value float8) USING ledger;
SELECT ledger.set_key('readings', 'sensor', 'at');
INSERT INTO readings VALUES (1, '2026-01-01 10:00', 1.5), (2, '2026-01-01 10:00', 2.5),
	(1, '2026-01-01 11:00', 1.75), (1, '2026-01-01 09:00', 0.5);
SELECT * FROM readings ORDER BY sensor;

-- differential: thousands of events with replays and corrections
CREATE TABLE orders_ref (LIKE orders);
ALTER TABLE orders_ref ADD PRIMARY KEY (id);
TRUNCATE orders;
SELECT count(*) FROM ledger.key_store k WHERE k.relid = 'orders'::regclass;
CREATE TABLE feed AS
SELECT g AS seq, 'o' || (g * 7 % 900) AS id,
	   '2026-01-01'::timestamptz + (g * 7 % 900) * interval '1 minute' AS ts,
	   (g * 7 % 900) % 13 AS customer,
	   ((g * 7 % 900) * 10 + g % 4)::numeric AS total,
	   'v' || g % 4 AS note,
	   g % 4 AS version
FROM generate_series(1, 3000) g;
-- the payload of a version is fixed per (id, version)
UPDATE feed f SET total = (SELECT min(total) FROM feed x WHERE x.id = f.id AND x.version = f.version);
INSERT INTO orders SELECT id, ts, customer, total, note, version FROM feed ORDER BY seq;
SELECT '/tmp/ledger_upsert_raw_' || pg_backend_pid() || '.tsv' AS feedfile \gset
COPY (SELECT id, ts, customer, total, note, version FROM feed ORDER BY seq DESC) TO :'feedfile';
COPY orders FROM :'feedfile';
INSERT INTO orders_ref SELECT DISTINCT ON (id) id, ts, customer, total, note, version
	FROM feed ORDER BY id, version DESC;
SELECT count(*) FROM orders;
(SELECT * FROM orders EXCEPT ALL SELECT * FROM orders_ref)
UNION ALL (SELECT * FROM orders_ref EXCEPT ALL SELECT * FROM orders);
SELECT customer, sum(total), count(*) FROM orders GROUP BY 1
EXCEPT SELECT customer, sum(total), count(*) FROM orders_ref GROUP BY 1;
-- compaction drops the replaced rows and changes no result
SELECT rows_out FROM ledger.compact('orders', true);
(SELECT * FROM orders EXCEPT ALL SELECT * FROM orders_ref)
UNION ALL (SELECT * FROM orders_ref EXCEPT ALL SELECT * FROM orders);

-- TRUNCATE forgets the keys (and a rollback brings them back)
BEGIN;
TRUNCATE orders;
INSERT INTO orders VALUES ('o1', '2026-01-01 10:00', 1, 10.00, 'new', 1);
SELECT count(*) FROM orders;
ROLLBACK;
SELECT count(*) FROM orders;
INSERT INTO orders VALUES ('o1', '2026-01-01 10:00', 1, 10.00, 'new', 1);
SELECT count(*) FROM orders;

-- DDL: the key column follows a rename; type changes are refused
ALTER TABLE orders RENAME COLUMN id TO order_id;
SELECT key_column, version_column FROM ledger.key_config WHERE relid = 'orders'::regclass;
INSERT INTO orders VALUES ('o1', '2026-01-01 10:00', 1, 10.00, 'new', 9);
SELECT count(*) FROM orders WHERE order_id = 'o1';
ALTER TABLE orders ALTER COLUMN customer TYPE bigint;
ALTER TABLE orders DROP COLUMN version;
ALTER TABLE orders ADD COLUMN extra int DEFAULT 7;
INSERT INTO orders VALUES ('o1', '2026-01-01 10:00', 1, 10.00, 'newer', 10, 8);
SELECT order_id, note, version, extra FROM orders WHERE order_id = 'o1';

-- DROP leaves no key behind
DROP TABLE orders;
SELECT count(*) FROM ledger.key_store k LEFT JOIN pg_class c ON c.oid = k.relid WHERE c.oid IS NULL;
SELECT count(*) FROM ledger.key_config k LEFT JOIN pg_class c ON c.oid = k.relid WHERE c.oid IS NULL;

DROP TABLE orders_ref, feed, readings;

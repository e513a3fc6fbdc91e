--
-- tableam_privileges: a ledger's data is readable only with SELECT on it,
-- writable only with INSERT on it, by every route
--
CREATE ROLE ledger_priv_owner;
CREATE ROLE ledger_priv_nobody;
CREATE ROLE ledger_priv_reader;
CREATE ROLE ledger_priv_writer;
CREATE ROLE ledger_priv_column;
GRANT CREATE ON SCHEMA public TO ledger_priv_owner;

-- an ordinary (non-superuser) role creates, fills and reads a ledger
SET ROLE ledger_priv_owner;
CREATE TABLE priv (id int, secret text) USING ledger;
INSERT INTO priv SELECT i, 'secret ' || i FROM generate_series(1, 100) AS i;
COPY priv FROM STDIN;
101	secret 101
\.
SELECT count(*), max(secret) FROM priv;
SELECT count(*) > 0 AS sees_own_segments, sum(rows) AS rows
FROM ledger.segments WHERE ledger = 'priv'::regclass;
SELECT ledger.table_size('priv') > 0 AS has_size;
GRANT SELECT ON priv TO ledger_priv_reader;
GRANT INSERT ON priv TO ledger_priv_writer;
GRANT SELECT (id) ON priv TO ledger_priv_column;
RESET ROLE;

-- no privileges: no data by any route
SET ROLE ledger_priv_nobody;
SELECT * FROM priv;
SELECT count(*) FROM priv;
COPY priv TO STDOUT;
SELECT * FROM ledger.segment;
SELECT * FROM ledger.segment_column;
SELECT data FROM ledger.segment_column LIMIT 1;
SELECT count(*) AS visible_segments FROM ledger.segments WHERE ledger = 'priv'::regclass;
SELECT count(*) AS visible_segments FROM ledger.segments;
INSERT INTO priv VALUES (0, 'intruder');
\copy priv FROM PROGRAM 'true'
TRUNCATE priv;
-- the catalogs cannot be written directly either
INSERT INTO ledger.segment VALUES (1, 1, 0, 1, NULL, NULL, 0, 1);
UPDATE ledger.segment SET row_count = 0;
DELETE FROM ledger.segment;
TRUNCATE ledger.segment;
INSERT INTO ledger.segment_column VALUES (1, 1, 1, 0, NULL, NULL, 0, NULL, '\x00');
DELETE FROM ledger.segment_column;
SELECT nextval('ledger.segment_id_seq');
RESET ROLE;

-- SELECT: reads the ledger and sees its segments, still not the catalogs,
-- and cannot write
SET ROLE ledger_priv_reader;
SELECT count(*), max(secret) FROM priv;
SELECT count(*) > 0 AS sees_segments, sum(rows) AS rows
FROM ledger.segments WHERE ledger = 'priv'::regclass;
SELECT * FROM ledger.segment;
SELECT * FROM ledger.segment_column;
INSERT INTO priv VALUES (0, 'reader');
\copy priv FROM PROGRAM 'true'
INSERT INTO ledger.segment VALUES (1, 1, 0, 1, NULL, NULL, 0, 1);
RESET ROLE;

-- SELECT on one column only: that column, and no segments
SET ROLE ledger_priv_column;
SELECT count(id) FROM priv;
SELECT secret FROM priv LIMIT 1;
SELECT count(*) AS visible_segments FROM ledger.segments WHERE ledger = 'priv'::regclass;
RESET ROLE;

-- INSERT only: can insert and COPY in, cannot read back
SET ROLE ledger_priv_writer;
INSERT INTO priv VALUES (102, 'from writer');
COPY priv FROM STDIN;
103	copied by writer
\.
SELECT count(*) FROM priv;
INSERT INTO priv VALUES (104, 'returning') RETURNING *;
SELECT count(*) AS visible_segments FROM ledger.segments WHERE ledger = 'priv'::regclass;
SELECT * FROM ledger.segment;
RESET ROLE;

SELECT id, secret FROM priv WHERE id > 100 ORDER BY id;

-- row-level security applies to ledgers like to any table
ALTER TABLE priv ENABLE ROW LEVEL SECURITY;
CREATE POLICY priv_small ON priv FOR SELECT TO ledger_priv_reader USING (id <= 3);
SET ROLE ledger_priv_reader;
SELECT * FROM priv ORDER BY id;
RESET ROLE;
DROP POLICY priv_small ON priv;
ALTER TABLE priv DISABLE ROW LEVEL SECURITY;

-- the owner drops the ledger: nothing is left in the catalogs
SET ROLE ledger_priv_owner;
DROP TABLE priv;
RESET ROLE;
SELECT count(*) FROM ledger.segment s
WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relfilenode = s.storage);

REVOKE CREATE ON SCHEMA public FROM ledger_priv_owner;
DROP ROLE ledger_priv_owner, ledger_priv_nobody, ledger_priv_reader,
	ledger_priv_writer, ledger_priv_column;

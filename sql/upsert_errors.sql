--
-- Keyed ingestion: argument errors, privileges, key retention and late
-- events, consumer offsets.
--
SET timezone = 'UTC';
CREATE TABLE k (ts timestamptz NOT NULL, m int, amount bigint, event_id text, version bigint) USING ledger;
SELECT ledger.set_rollup('k', 'ts', '1 day', '{"amount":"sum"}', key_column => 'event_id', version_column => 'version');
CREATE TABLE plain_heap (a int);
CREATE TABLE unkeyed (ts timestamptz, a int) USING ledger;

-- wrong arguments
SELECT ledger.upsert('plain_heap', ROW(1)::plain_heap);
SELECT ledger.upsert('k', 42);
SELECT ledger.upsert('k', ROW(1, 2)::plain_heap);
SELECT ledger.upsert('k', ROW('2026-01-01', 1, 'x', 'e', 1));
SELECT ledger.upsert_batch('k', ARRAY[1, 2]);
SELECT ledger.upsert_batch('k', ARRAY[NULL::k]);
SELECT ledger.upsert('k', ROW(NULL, 1, 5, 'e0', 1)::k);
SELECT ledger.retract('unkeyed', 'x');
SELECT ledger.set_key('k', 'm');
SELECT ledger.set_rollup('k', 'ts', '1 day', '{"amount":"sum"}', key_column => 'event_id', version_column => 'm2');
CREATE TABLE kt (ts timestamptz NOT NULL, m int, amount bigint, event_id text, version text) USING ledger;
SELECT ledger.set_rollup('kt', 'ts', '1 day', '{"amount":"sum"}', key_column => 'event_id', version_column => 'version');
ALTER TABLE k ALTER COLUMN amount TYPE numeric;
-- set_key only on an empty raw ledger; one way of naming a key
CREATE TABLE kr (ts timestamptz NOT NULL, m int, amount bigint, event_id text) USING ledger;
INSERT INTO kr VALUES ('2026-01-01', 1, 5, 'a');
SELECT ledger.set_key('kr', 'event_id');
TRUNCATE kr;
SELECT ledger.set_key('kr', 'event_id');
SELECT ledger.set_rollup('kr', 'ts', '1 day', '{"amount":"sum"}', key_column => 'event_id');
SELECT ledger.set_key('kr', NULL);
SELECT ledger.set_rollup('kr', 'ts', '1 day', '{"amount":"sum"}', key_column => 'event_id');
SELECT ledger.set_key('kr', 'event_id');
DROP TABLE kr;
-- a rollup ledger may get a key while it holds rows: those rows stay as
-- they are (a replay of them is not recognized), and a min/max recomputed
-- after a retraction still sees them
CREATE TABLE kr (ts timestamptz NOT NULL, m int, amount bigint, lo bigint, event_id text) USING ledger;
INSERT INTO kr VALUES ('2026-01-01', 1, 5, 5, 'a'), ('2026-01-01', 1, 7, 7, 'b');
SELECT ledger.set_rollup('kr', 'ts', '1 day', '{"amount":"sum","lo":"min"}', key_column => 'event_id');
INSERT INTO kr VALUES ('2026-01-01', 1, 3, 3, 'c'), ('2026-01-01', 1, 3, 3, 'c');
SELECT m, amount, lo FROM kr;
SELECT ledger.retract('kr', 'c');
SELECT m, amount, lo FROM kr;
DROP TABLE kr;
-- an unkeyed ledger takes upserts as inserts
SELECT ledger.upsert('unkeyed', ROW('2026-01-01', 1)::unkeyed);
SELECT * FROM ledger.upsert_batch('unkeyed', ARRAY[ROW('2026-01-01', 1)::unkeyed, ROW('2026-01-01', 1)::unkeyed]);
SELECT count(*) FROM unkeyed;
-- rows of another composite type with the same columns are accepted
CREATE TYPE k_row AS (ts timestamptz, m int, amount bigint, event_id text, version bigint);
SELECT ledger.upsert('k', ROW('2026-01-01', 1, 5, 'e1', 1)::k_row);
SELECT * FROM ledger.upsert_batch('k', ARRAY[ROW('2026-01-01', 1, 5, 'e1', 1)::k_row]);
-- a CHECK constraint is enforced
ALTER TABLE k ADD CONSTRAINT positive CHECK (amount >= 0);
SELECT ledger.upsert('k', ROW('2026-01-01', 1, -5, 'e2', 1)::k);

-- privileges: INSERT is required, SELECT is not
CREATE ROLE ledger_writer;
CREATE ROLE ledger_reader;
GRANT USAGE ON SCHEMA public TO ledger_writer, ledger_reader;
GRANT INSERT ON k TO ledger_writer;
GRANT SELECT ON k TO ledger_reader;
SET ROLE ledger_writer;
SELECT ledger.upsert('k', ROW('2026-01-02', 1, 5, 'e3', 1)::k);
SELECT ledger.retract('k', 'e3');
SELECT count(*) FROM ledger.key_store;
SELECT ledger.set_key_retention('k', '30 days');
RESET ROLE;
SET ROLE ledger_reader;
SELECT ledger.upsert('k', ROW('2026-01-02', 1, 5, 'e4', 1)::k);
SELECT ledger.retract('k', 'e1');
SELECT * FROM k ORDER BY ts;
RESET ROLE;

-- key retention: keys of old events are forgotten by compaction
SELECT ledger.set_key_retention('unkeyed', '1 day');
SELECT ledger.set_key_retention('k', '-1 day');
SELECT ledger.set_key_retention('k', '1 day', 'maybe');
SELECT ledger.set_key_retention('k', '1 day', 'reject');
-- an event older than the horizon is refused
SELECT ledger.upsert('k', ROW('2000-01-01', 1, 5, 'old1', 1)::k);
INSERT INTO k VALUES (now(), 1, 5, 'fresh1', 1);
SELECT ledger.set_key_retention('k', '1 day', 'accept');
-- ... or accepted without deduplication
SELECT ledger.upsert('k', ROW('2000-01-01', 1, 5, 'old1', 1)::k);
SELECT ledger.upsert('k', ROW('2000-01-01', 1, 5, 'old1', 1)::k);
SELECT sum(amount) FROM k WHERE ts < '2001-01-01';
SELECT count(*) FROM ledger.key_store WHERE relid = 'k'::regclass;
SELECT ledger.set_key_retention('k', '10000 days');
-- keys from 2026-01-01 are younger than 10000 days: kept
SELECT segments_in >= 0 FROM ledger.compact('k');
SELECT count(*) FROM ledger.key_store WHERE relid = 'k'::regclass;
SELECT ledger.set_key_retention('k', '1 day');
SELECT segments_in >= 0 FROM ledger.compact('k');
-- only the fresh key is left; the totals did not change
SELECT key FROM ledger.key_store WHERE relid = 'k'::regclass;
SELECT ts < '2001-01-01' AS old, sum(amount) FROM k GROUP BY 1 ORDER BY 1;
SELECT ledger.set_key_retention('k', NULL);
SELECT retention, late_events FROM ledger.key_config WHERE relid = 'k'::regclass;

-- consumer offsets
SELECT ledger.commit_offset('', 0, 1);
SELECT ledger.commit_offset('kafka:k', -1, 1);
BEGIN;
INSERT INTO k VALUES ('2026-02-01', 1, 5, 'c1', 1);
SELECT ledger.commit_offset('kafka:k', 0, 100);
ROLLBACK;
SELECT * FROM ledger.offsets;
BEGIN;
INSERT INTO k VALUES ('2026-02-01', 1, 5, 'c1', 1);
SELECT ledger.commit_offset('kafka:k', 0, 100);
SELECT ledger.commit_offset('kafka:k', 1, 7);
COMMIT;
SELECT source, partition, last_offset FROM ledger.offsets ORDER BY 1, 2;
SELECT ledger.commit_offset('kafka:k', 0, 100);
SELECT ledger.commit_offset('kafka:k', 0, 99);
SELECT ledger.commit_offset('kafka:k', 0, 150);
SELECT source, partition, last_offset FROM ledger.offsets ORDER BY 1, 2;
-- offsets belong to the role that committed them first
GRANT ledger_reader TO ledger_writer;
SET ROLE ledger_writer;
SELECT source, partition, last_offset FROM ledger.offsets ORDER BY 1, 2;
SELECT ledger.commit_offset('kafka:k', 0, 200);
SELECT ledger.commit_offset('kafka:w', 0, 1);
RESET ROLE;
SET ROLE ledger_reader;
SELECT source, partition, last_offset FROM ledger.offsets ORDER BY 1, 2;
SELECT ledger.commit_offset('kafka:w', 0, 2);
RESET ROLE;
SELECT source, partition, last_offset FROM ledger.offsets ORDER BY 1, 2;
SELECT count(*) FROM ledger.offset_store;

-- foreign keys (AFTER ROW triggers) see replays too
CREATE TABLE merchants (id int PRIMARY KEY);
INSERT INTO merchants VALUES (1);
CREATE TABLE kf (ts timestamptz NOT NULL, m int REFERENCES merchants, amount bigint, event_id text) USING ledger;
SELECT ledger.set_rollup('kf', 'ts', '1 day', '{"amount":"sum"}', key_column => 'event_id');
INSERT INTO kf VALUES ('2026-01-01', 1, 5, 'a');
INSERT INTO kf VALUES ('2026-01-01', 1, 5, 'a');
COPY kf FROM STDIN;
2026-01-01	1	5	a
2026-01-01	1	6	b
2026-01-01	1	6	b
\.
INSERT INTO kf VALUES ('2026-01-01', 2, 5, 'c');
SELECT * FROM kf;
DROP TABLE kf, merchants;

DROP TABLE k, kt, unkeyed, plain_heap;
DROP TYPE k_row;
REVOKE USAGE ON SCHEMA public FROM ledger_writer, ledger_reader;
DROP ROLE ledger_writer;
DROP ROLE ledger_reader;
DELETE FROM ledger.offset_store;

-- rollup configuration: ledger.set_rollup validation and ledger.tables
\set VERBOSITY default
CREATE TABLE rc (ts timestamptz NOT NULL, d date, merchant int, method text,
				 amount bigint, fee numeric, label text, events bigint,
				 j json, event_id text, version bigint) USING ledger;
CREATE TABLE rc_heap (ts timestamptz) ;

-- every mistake gets an error with a hint
SELECT ledger.set_rollup('rc_heap', 'ts', '1 hour', '{}');
SELECT ledger.set_rollup('rc', 'nope', '1 hour', '{}');
SELECT ledger.set_rollup('rc', 'merchant', '1 hour', '{}');
SELECT ledger.set_rollup('rc', 'ts', '1 hour', '{"label":"sum"}');
SELECT ledger.set_rollup('rc', 'ts', '1 hour', '{"amount":"avg"}');
SELECT ledger.set_rollup('rc', 'ts', '1 hour', '{"amount":1}');
SELECT ledger.set_rollup('rc', 'ts', '1 hour', '[1]');
SELECT ledger.set_rollup('rc', 'ts', '1 hour', '{"ts":"max"}');
SELECT ledger.set_rollup('rc', 'ts', '1 hour', '{"nope":"sum"}');
SELECT ledger.set_rollup('rc', 'ts', '1 hour', '{"label":"count"}');
SELECT ledger.set_rollup('rc', 'ts', '0 seconds', '{}');
SELECT ledger.set_rollup('rc', 'ts', '-1 hour', '{}');
SELECT ledger.set_rollup('rc', 'ts', '7 minutes', '{}');
SELECT ledger.set_rollup('rc', 'ts', '2 days', '{}');
SELECT ledger.set_rollup('rc', 'ts', '1 day 2 hours', '{}');
SELECT ledger.set_rollup('rc', 'ts', '2 months', '{}');
SELECT ledger.set_rollup('rc', 'd', '1 hour', '{}');
SELECT ledger.set_rollup('rc', 'ts', '1 hour', '{}', time_zone => 'Mars/Olympus');
SELECT ledger.set_rollup('rc', 'ts', NULL, '{}');
SELECT ledger.set_rollup('rc', 'ts', '1 hour', '{"amount":"sum"}', key_column => 'amount');
SELECT ledger.set_rollup('rc', 'ts', '1 hour', '{}', version_column => 'version');
SELECT ledger.set_rollup('rc', 'ts', '1 hour', '{}', key_column => 'event_id', version_column => 'event_id');
-- json has no equality, so it cannot be a dimension
SELECT ledger.set_rollup('rc', 'ts', '1 hour', '{"amount":"sum"}');
ALTER TABLE rc DROP COLUMN j;

-- a valid configuration
SELECT ledger.set_rollup('rc', 'ts', '1 hour',
	'{"amount":"sum","fee":"sum","label":"max","events":"count"}',
	key_column => 'event_id', version_column => 'version');
SELECT ledger, rollup, time_column, granularity, time_zone, metrics,
	   key_column, version_column, dimensions
  FROM ledger.tables WHERE ledger = 'rc'::regclass;

-- only the owner may configure
CREATE ROLE rc_other;
GRANT SELECT, INSERT ON rc TO rc_other;
SET ROLE rc_other;
SELECT ledger.set_rollup('rc', 'ts', '1 day', '{}');
RESET ROLE;

-- an empty ledger may change freely
SELECT ledger.set_rollup('rc', 'ts', '15 minutes', '{"amount":"sum","fee":"sum","events":"count"}');
INSERT INTO rc (ts, merchant, amount, fee) VALUES ('2026-01-01 10:20+00', 1, 5, 1);

-- a non-empty one only to a coarser granularity it divides evenly
SELECT ledger.set_rollup('rc', 'ts', '10 minutes', '{"amount":"sum","fee":"sum","events":"count"}');
SELECT ledger.set_rollup('rc', 'ts', '25 minutes', '{"amount":"sum","fee":"sum","events":"count"}');
SELECT ledger.set_rollup('rc', 'ts', '1 hour', '{"amount":"sum","events":"count"}');
SELECT ledger.set_rollup('rc', 'ts', '1 hour', '{"amount":"sum","fee":"sum","events":"count"}');
SELECT ts, merchant, amount, fee, events FROM rc;
SELECT ledger.set_rollup('rc', 'ts', '1 day', '{"amount":"sum","fee":"sum","events":"count"}');
SELECT ts, merchant, amount, fee, events FROM rc;
SELECT ledger.set_rollup('rc', 'ts', '1 week', '{"amount":"sum","fee":"sum","events":"count"}');
SELECT ledger.set_rollup('rc', 'ts', '1 month', '{"amount":"sum","fee":"sum","events":"count"}');
SELECT ts, merchant, amount, fee, events FROM rc;

-- configured columns cannot be dropped; renames follow
ALTER TABLE rc DROP COLUMN amount;
ALTER TABLE rc DROP COLUMN merchant;
ALTER TABLE rc ALTER COLUMN fee TYPE float8;
ALTER TABLE rc RENAME COLUMN amount TO total;
ALTER TABLE rc RENAME COLUMN ts TO at;
SELECT time_column, metrics FROM ledger.tables WHERE ledger = 'rc'::regclass;
SELECT at, merchant, total, fee, events FROM rc;

-- dropping the ledger removes its configuration
DROP TABLE rc;
SELECT count(*) FROM ledger.config;
DROP TABLE rc_heap;
REVOKE ALL ON SCHEMA public FROM rc_other;
DROP ROLE rc_other;

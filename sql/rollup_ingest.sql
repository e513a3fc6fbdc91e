-- rollup ingestion and perfect rollup on read
\set VERBOSITY default
CREATE TABLE ri (ts timestamptz NOT NULL, merchant int, method text,
				 amount bigint, small numeric(12,0), lo numeric, hi text, events bigint,
				 event_id text, version bigint) USING ledger;
SELECT ledger.set_rollup('ri', 'ts', '1 hour',
	'{"amount":"sum","small":"sum","lo":"min","hi":"max","events":"count"}',
	key_column => 'event_id', version_column => 'version');

-- rows of one key fold; NULL is a group value; key and version read as NULL
INSERT INTO ri VALUES
	('2026-01-01 10:05+00', 1, 'card', 100, 1, 5, 'b', NULL, 'e1', 1),
	('2026-01-01 10:55+00', 1, 'card', -40, 1, 2, 'a', NULL, 'e2', 1),
	('2026-01-01 10:10+00', NULL, NULL, 7, NULL, NULL, NULL, NULL, 'e3', 1),
	('2026-01-01 10:20+00', NULL, NULL, 3, 2, 9, 'z', 5, 'e4', 1),
	('2026-01-01 11:00+00', 1, 'card', 1, 1, 1, 'c', NULL, 'e5', 1);
SELECT * FROM ri ORDER BY ts, merchant NULLS LAST;

-- a payment and its refund that net to 0 amount stay visible
INSERT INTO ri VALUES ('2026-01-02 09:00+00', 2, 'sepa', 500, 0, 1, 'x', NULL, 'p', 1),
					  ('2026-01-02 09:30+00', 2, 'sepa', -500, 0, 1, 'x', NULL, 'r', 1);
SELECT ts, merchant, amount, events FROM ri WHERE merchant = 2;

-- parts of a key in several segments and in the buffer read as one row
INSERT INTO ri (ts, merchant, method, amount) VALUES ('2026-01-01 10:30+00', 1, 'card', 1000);
BEGIN;
INSERT INTO ri (ts, merchant, method, amount) VALUES ('2026-01-01 10:31+00', 1, 'card', 10000);
SELECT ts, merchant, amount, events FROM ri WHERE merchant = 1 ORDER BY ts;
SAVEPOINT s;
INSERT INTO ri (ts, merchant, method, amount) VALUES ('2026-01-01 10:32+00', 1, 'card', 100000);
SELECT ts, merchant, amount, events FROM ri WHERE merchant = 1 ORDER BY ts;
ROLLBACK TO s;
SELECT ts, merchant, amount, events FROM ri WHERE merchant = 1 ORDER BY ts;
COMMIT;
SELECT ts, merchant, amount, events FROM ri WHERE merchant = 1 ORDER BY ts;
SELECT rows_ingested, rows_stored, segments FROM ledger.stats('ri');

-- INSERT ... SELECT from the same rollup ledger reads its snapshot once
INSERT INTO ri SELECT * FROM ri WHERE merchant = 1;
SELECT ts, merchant, amount, events FROM ri WHERE merchant = 1 ORDER BY ts;

-- sum overflow is an error, never a wrap; nothing is stored
INSERT INTO ri (ts, merchant, amount) VALUES ('2026-01-03 00:00+00', 3, 9223372036854775807),
											 ('2026-01-03 00:10+00', 3, 1);
SELECT ts, merchant, amount FROM ri WHERE merchant = 3;
-- across statements, the read that would combine them fails instead
BEGIN;
INSERT INTO ri (ts, merchant, amount) VALUES ('2026-01-03 00:00+00', 4, 9223372036854775807);
INSERT INTO ri (ts, merchant, amount) VALUES ('2026-01-03 00:00+00', 4, 1);
SELECT ts, merchant, amount FROM ri WHERE merchant = 4;
ROLLBACK;
-- smallint and integer sums would overflow: they are refused
CREATE TABLE rsmall (ts timestamptz, n int) USING ledger;
SELECT ledger.set_rollup('rsmall', 'ts', '1 hour', '{"n":"sum"}');
DROP TABLE rsmall;

-- the time column may not be NULL
INSERT INTO ri (merchant, amount) VALUES (5, 1);

-- COPY folds the same way
COPY ri (ts, merchant, method, amount) FROM STDIN;
2026-01-05 00:01:00+00	9	card	1
2026-01-05 00:02:00+00	9	card	2
2026-01-05 00:03:00+00	9	sepa	4
\.
SELECT ts, merchant, method, amount, events FROM ri WHERE merchant = 9 ORDER BY method;

-- re-loading rolled-up rows is exact: count values count as that many
CREATE TABLE ri2 (LIKE ri) USING ledger;
SELECT ledger.set_rollup('ri2', 'ts', '1 hour',
	'{"amount":"sum","small":"sum","lo":"min","hi":"max","events":"count"}',
	key_column => 'event_id', version_column => 'version');
INSERT INTO ri2 SELECT * FROM ri;
INSERT INTO ri2 SELECT * FROM ri WHERE merchant = 9;
SELECT ts, merchant, method, amount, events FROM ri2 WHERE merchant = 9 ORDER BY method;
SELECT (SELECT sum(events) FROM ri) * 1 AS events_ri,
	   (SELECT sum(events) FROM ri2 WHERE merchant IS DISTINCT FROM 9) +
	   (SELECT sum(events) FROM ri2 WHERE merchant = 9) / 2 AS events_ri2;

-- results do not depend on the session's TimeZone
SET TimeZone = 'Asia/Kolkata';
SELECT ts AT TIME ZONE 'UTC' AS utc, merchant, amount FROM ri WHERE merchant = 9 ORDER BY method;
RESET TimeZone;

-- set_rollup on a raw ledger that holds rows: reads are rolled up from then on
CREATE TABLE rr (ts timestamp, k text, n bigint) USING ledger;
INSERT INTO rr VALUES ('2026-01-01 10:10', 'a', 1), ('2026-01-01 10:20', 'a', 2),
					  ('2026-01-01 11:20', 'a', 4), ('2026-01-01 10:40', 'b', 8);
SELECT count(*) FROM rr;
SELECT ledger.set_rollup('rr', 'ts', '1 hour', '{"n":"sum"}');
SELECT * FROM rr ORDER BY ts, k;
INSERT INTO rr VALUES ('2026-01-01 10:59', 'a', 16);
SELECT * FROM rr ORDER BY ts, k;
SELECT ledger.set_rollup('rr', 'ts', '1 day', '{"n":"sum"}');
SELECT * FROM rr ORDER BY ts, k;

-- date time columns
CREATE TABLE rd (d date, k int, n bigint) USING ledger;
SELECT ledger.set_rollup('rd', 'd', '1 month', '{"n":"sum"}');
INSERT INTO rd VALUES ('2026-01-31', 1, 1), ('2026-01-01', 1, 2), ('2026-02-01', 1, 4),
					  ('infinity', 1, 8), ('-infinity', 1, 16);
SELECT * FROM rd ORDER BY d;

-- TRUNCATE and DROP
TRUNCATE ri;
SELECT count(*) FROM ri;
DROP TABLE ri, ri2, rr, rd;
SELECT count(*) FROM ledger.config;
SELECT count(*) FROM ledger.segment s WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relfilenode = s.storage);

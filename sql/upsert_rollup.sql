--
-- Keyed rollup ledgers: every key applied once, newer versions replace
-- older ones (also across buckets and dimensions), lower versions are
-- ignored, retraction takes a contribution back; sum, count, min and max
-- stay exact.  Checked against a heap table holding the surviving events.
--
SET timezone = 'UTC';

CREATE TABLE pay (
	ts timestamptz NOT NULL, merchant int, status text,
	amount bigint, lo bigint, hi bigint, n bigint,
	event_id text, version bigint
) USING ledger;
SELECT ledger.set_rollup('pay', 'ts', '1 hour',
	'{"amount":"sum","lo":"min","hi":"max","n":"count"}',
	key_column => 'event_id', version_column => 'version');

-- the reference: one row per key, the newest version, as a primary-key table
CREATE TABLE pay_ref (LIKE pay);
ALTER TABLE pay_ref ADD PRIMARY KEY (event_id);
CREATE FUNCTION ref_apply(r pay) RETURNS void LANGUAGE sql AS $$
	INSERT INTO pay_ref VALUES (r.*)
	ON CONFLICT (event_id) DO UPDATE SET ts = excluded.ts, merchant = excluded.merchant,
		status = excluded.status, amount = excluded.amount, lo = excluded.lo,
		hi = excluded.hi, n = excluded.n, version = excluded.version
	WHERE pay_ref.version < excluded.version $$;
CREATE VIEW pay_expected AS
	SELECT date_trunc('hour', ts) AS ts, merchant, status, sum(amount) AS amount,
		   min(lo) AS lo, max(hi) AS hi, count(*) AS n
	FROM pay_ref GROUP BY 1, 2, 3;
CREATE VIEW pay_diff AS
	(SELECT ts, merchant, status, amount, lo, hi, n FROM pay
	 EXCEPT ALL SELECT * FROM pay_expected)
	UNION ALL
	(SELECT * FROM pay_expected
	 EXCEPT ALL SELECT ts, merchant, status, amount, lo, hi, n FROM pay);

INSERT INTO pay VALUES
	('2026-01-01 10:05', 1, 'ok', 100, 100, 100, NULL, 'e1', 1),
	('2026-01-01 10:06', 1, 'ok', 50, 50, 50, NULL, 'e2', 1),
	('2026-01-01 10:07', 2, 'ok', 7, 7, 7, NULL, 'e3', 1);
SELECT ts, merchant, status, amount, lo, hi, n, event_id, version FROM pay ORDER BY 1, 2, 3;

-- a replay is a no-op, in INSERT and in COPY
INSERT INTO pay VALUES ('2026-01-01 10:05', 1, 'ok', 100, 100, 100, NULL, 'e1', 1);
COPY pay FROM STDIN;
2026-01-01 10:06:00+00	1	ok	50	50	50	\N	e2	1
2026-01-01 10:07:00+00	2	ok	7	7	7	\N	e3	1
\.
SELECT ts, merchant, status, amount, lo, hi, n FROM pay ORDER BY 1, 2, 3;

-- a newer version moves the event to another bucket and status
INSERT INTO pay VALUES ('2026-01-01 11:30', 1, 'refunded', 60, 60, 60, NULL, 'e1', 2);
SELECT ts, merchant, status, amount, lo, hi, n FROM pay ORDER BY 1, 2, 3;

-- a lower version is ignored
INSERT INTO pay VALUES ('2026-01-01 10:05', 1, 'ok', 100, 100, 100, NULL, 'e1', 1);
SELECT ts, merchant, status, amount, lo, hi, n FROM pay ORDER BY 1, 2, 3;

-- the same key and version with another payload is an error naming the key
INSERT INTO pay VALUES ('2026-01-01 11:30', 1, 'refunded', 61, 60, 60, NULL, 'e1', 2);
-- ... and the failed statement changed nothing
SELECT ts, merchant, status, amount, lo, hi, n FROM pay ORDER BY 1, 2, 3;

-- within one statement: the newest version wins, replays count once
INSERT INTO pay VALUES
	('2026-01-01 12:00', 3, 'ok', 1, 1, 1, NULL, 'e4', 1),
	('2026-01-01 12:10', 3, 'ok', 2, 2, 2, NULL, 'e4', 2),
	('2026-01-01 12:00', 3, 'ok', 1, 1, 1, NULL, 'e4', 1),
	('2026-01-01 12:10', 3, 'ok', 2, 2, 2, NULL, 'e4', 2);
SELECT ts, merchant, status, amount, lo, hi, n FROM pay WHERE merchant = 3;

-- a NULL key is applied as it comes (rolled-up rows reload this way)
INSERT INTO pay VALUES ('2026-01-01 13:00', 4, 'ok', 5, 5, 5, 3, NULL, NULL),
					   ('2026-01-01 13:00', 4, 'ok', 5, 5, 5, 3, NULL, NULL);
SELECT ts, merchant, status, amount, lo, hi, n FROM pay WHERE merchant = 4;

-- outcomes of this session
SELECT * FROM ledger.ingest_counts('pay');

-- the functions
SELECT ledger.upsert('pay', ROW('2026-01-01 10:20', 2, 'ok', 9, 9, 9, NULL, 'e5', 1)::pay);
SELECT ledger.upsert('pay', ROW('2026-01-01 10:20', 2, 'ok', 9, 9, 9, NULL, 'e5', 1)::pay);
SELECT ledger.upsert('pay', ROW('2026-01-01 10:21', 2, 'ok', 3, 3, 3, NULL, 'e5', 2)::pay);
SELECT ledger.upsert('pay', ROW('2026-01-01 10:20', 2, 'ok', 9, 9, 9, NULL, 'e5', 1)::pay);
SELECT * FROM ledger.upsert_batch('pay', ARRAY[
	ROW('2026-01-01 10:30', 2, 'ok', 4, 4, 4, NULL, 'e6', 1)::pay,
	ROW('2026-01-01 10:30', 2, 'ok', 4, 4, 4, NULL, 'e6', 1)::pay,
	ROW('2026-01-01 10:31', 2, 'ok', 8, 8, 8, NULL, 'e6', 3)::pay,
	ROW('2026-01-01 10:32', 2, 'ok', 1, 1, 1, NULL, 'e6', 2)::pay,
	ROW('2026-01-01 10:07', 2, 'ok', 7, 7, 7, NULL, 'e3', 1)::pay]);
SELECT * FROM ledger.upsert_batch('pay', '{}'::pay[]);
SELECT ts, merchant, status, amount, lo, hi, n FROM pay WHERE merchant = 2 ORDER BY 1;

-- retraction: min and max are recomputed from what is left
SELECT ledger.retract('pay', 'e3');
SELECT ledger.retract('pay', 'e3');
SELECT ledger.retract('pay', 'nope');
SELECT ts, merchant, status, amount, lo, hi, n FROM pay WHERE merchant = 2 ORDER BY 1;
-- a replay of a retracted key and version stays a no-op
SELECT ledger.upsert('pay', ROW('2026-01-01 10:07', 2, 'ok', 7, 7, 7, NULL, 'e3', 1)::pay);
-- a newer version applies again
SELECT ledger.upsert('pay', ROW('2026-01-01 10:08', 2, 'ok', 2, 2, 2, NULL, 'e3', 2)::pay);
SELECT ts, merchant, status, amount, lo, hi, n FROM pay WHERE merchant = 2 ORDER BY 1;
-- the max of a group goes when its event is replaced by a smaller one
SELECT ledger.upsert('pay', ROW('2026-01-01 10:31', 2, 'ok', 0, 0, 0, NULL, 'e6', 4)::pay);
SELECT ts, merchant, status, amount, lo, hi, n FROM pay WHERE merchant = 2 ORDER BY 1;
-- a group whose every event was retracted disappears
SELECT ledger.retract('pay', 'e4');
SELECT count(*) FROM pay WHERE merchant = 3;

-- transactions: a rolled-back upsert leaves no key behind
BEGIN;
SELECT ledger.upsert('pay', ROW('2026-01-01 14:00', 5, 'ok', 10, 10, 10, NULL, 'e7', 1)::pay);
SAVEPOINT s;
SELECT ledger.upsert('pay', ROW('2026-01-01 14:00', 5, 'ok', 20, 20, 20, NULL, 'e7', 2)::pay);
SELECT ts, merchant, status, amount, lo, hi, n FROM pay WHERE merchant = 5;
ROLLBACK TO s;
SELECT ts, merchant, status, amount, lo, hi, n FROM pay WHERE merchant = 5;
SELECT ledger.upsert('pay', ROW('2026-01-01 14:00', 5, 'ok', 20, 20, 20, NULL, 'e7', 2)::pay);
SELECT ledger.upsert('pay', ROW('2026-01-01 14:00', 5, 'ok', 30, 30, 30, NULL, 'e7', 3)::pay);
SELECT ts, merchant, status, amount, lo, hi, n FROM pay WHERE merchant = 5;
ROLLBACK;
SELECT ledger.upsert('pay', ROW('2026-01-01 14:00', 5, 'ok', 10, 10, 10, NULL, 'e7', 1)::pay);
SELECT ts, merchant, status, amount, lo, hi, n FROM pay WHERE merchant = 5;

-- a retraction and an offset rolled back to a savepoint leave no trace
INSERT INTO pay VALUES ('2026-01-01 14:00', 5, 'ok', 4, 4, 4, NULL, 'e8', 1);
BEGIN;
SAVEPOINT s;
SELECT ledger.retract('pay', 'e7');
SELECT ledger.commit_offset('test:savepoint', 0, 5);
SELECT ts, merchant, status, amount, lo, hi, n FROM pay WHERE merchant = 5;
ROLLBACK TO s;
SELECT ts, merchant, status, amount, lo, hi, n FROM pay WHERE merchant = 5;
SELECT count(*) FROM ledger.offsets WHERE source = 'test:savepoint';
COMMIT;
SELECT ledger.retract('pay', 'e7');
SELECT ts, merchant, status, amount, lo, hi, n FROM pay WHERE merchant = 5;

-- differential: a few thousand events with replays, corrections, stale
-- versions and retractions, against the primary-key heap table
TRUNCATE pay;
SELECT count(*) FROM pay;
SELECT ledger.upsert('pay', ROW('2026-01-01 10:07', 2, 'ok', 7, 7, 7, NULL, 'e3', 1)::pay);
TRUNCATE pay;
CREATE TABLE gen AS
SELECT g AS i,
	   ('2026-01-01'::timestamptz + (g * 7919 % 2000) * interval '1 minute') AS ts,
	   g * 31 % 17 AS merchant,
	   (ARRAY['ok', 'declined', 'refunded'])[1 + g % 3] AS status,
	   (g * 7907 % 1000)::bigint AS amount,
	   'k' || (g * 13 % 1500) AS event_id,
	   (g * 17 % 5)::bigint AS version
FROM generate_series(1, 4000) g;
-- a key's payload is a function of (key, version), like a real correction
CREATE TABLE ev AS
SELECT DISTINCT ON (event_id, version) *
FROM gen ORDER BY event_id, version, i;
CREATE TABLE feed AS
SELECT row_number() OVER (ORDER BY g.i) AS seq,
	   e.ts, e.merchant, e.status, e.amount, e.event_id, e.version
FROM gen g JOIN ev e USING (event_id, version);
-- in batches, the way a consumer sends them, replaying every event twice
DO $$
DECLARE b int;
BEGIN
	FOR b IN 0..7 LOOP
		PERFORM ledger.upsert_batch('pay', array_agg(ROW(ts, merchant, status, amount, amount, amount, NULL, event_id, version)::pay ORDER BY seq))
		FROM feed WHERE seq % 8 = b;
		PERFORM ref_apply(ROW(ts, merchant, status, amount, amount, amount, NULL, event_id, version)::pay)
		FROM feed WHERE seq % 8 = b ORDER BY seq;
	END LOOP;
END $$;
SELECT '/tmp/ledger_upsert_feed_' || pg_backend_pid() || '.tsv' AS feedfile \gset
COPY (SELECT ts, merchant, status, amount, amount, amount, NULL, event_id, version FROM feed ORDER BY seq) TO :'feedfile';
COPY pay FROM :'feedfile';
INSERT INTO pay SELECT ts, merchant, status, amount, amount, amount, NULL, event_id, version FROM feed ORDER BY seq DESC;
SELECT count(*) AS groups, sum(n) AS events FROM pay;
SELECT count(*) AS keys FROM pay_ref;
SELECT * FROM pay_diff;
-- retract a tenth of the keys
SELECT count(*) FILTER (WHERE ledger.retract('pay', event_id)) FROM pay_ref WHERE event_id LIKE '%7';
DELETE FROM pay_ref WHERE event_id LIKE '%7';
SELECT * FROM pay_diff;
-- compaction changes nothing
SELECT segments_out > 0 AS compacted FROM ledger.compact('pay', true);
SELECT * FROM pay_diff;
-- corrections that stay in their group (same bucket and dimensions, new
-- amount): the retraction and the new version net to no events but change
-- the sum, also when compaction merges some segments only
SELECT * FROM ledger.upsert_batch('pay', (SELECT array_agg(ROW(ts, merchant, status, amount + 1, amount + 1, amount + 1, NULL, event_id, 10)::pay ORDER BY event_id) FROM pay_ref WHERE event_id LIKE '%1'));
SELECT count(*) FROM (SELECT ref_apply(ROW(ts, merchant, status, amount + 1, amount + 1, amount + 1, NULL, event_id, 10)::pay) FROM pay_ref WHERE event_id LIKE '%1') s;
SELECT * FROM pay_diff;
BEGIN;
SELECT * FROM ledger.upsert_batch('pay', (SELECT array_agg(ROW(ts, merchant, status, amount * 2, amount, amount, NULL, event_id, 11)::pay ORDER BY event_id) FROM pay_ref WHERE event_id LIKE '%3'));
SELECT count(*) FROM (SELECT ref_apply(ROW(ts, merchant, status, amount * 2, amount, amount, NULL, event_id, 11)::pay) FROM pay_ref WHERE event_id LIKE '%3') s;
SELECT * FROM pay_diff;
COMMIT;
SELECT segments_in >= 0 AS compacted FROM ledger.compact('pay');
SELECT * FROM pay_diff;
-- the custom scan and the plain scan agree
SET ledger.enable_custom_scan = off;
SELECT * FROM pay_diff;
RESET ledger.enable_custom_scan;
SELECT ledger, keys, retracted > 0 AS has_retracted FROM ledger.keys WHERE ledger = 'pay'::regclass;

DROP VIEW pay_diff, pay_expected;
DROP FUNCTION ref_apply(pay);
DROP TABLE pay, pay_ref, gen, ev, feed;

/* ledger--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION ledger" to load this file. \quit

-- The schema belongs to the extension, so DROP EXTENSION removes it and
-- pg_dump leaves it to CREATE EXTENSION.
CREATE SCHEMA ledger;
GRANT USAGE ON SCHEMA ledger TO PUBLIC;

-- The table access method ------------------------------------------------

CREATE FUNCTION ledger.ledger_tam_handler(internal)
RETURNS table_am_handler
AS 'MODULE_PATHNAME', 'ledger_tam_handler'
LANGUAGE C STRICT;

CREATE ACCESS METHOD ledger TYPE TABLE HANDLER ledger.ledger_tam_handler;
COMMENT ON ACCESS METHOD ledger IS 'columnar event ledger';

-- Segment catalogs --------------------------------------------------------
--
-- Shared by every ledger of this database and keyed by the ledger's
-- relfilenode ("storage"): TRUNCATE, VACUUM FULL and table rewrites give a
-- ledger a new relfilenode inside the transaction, so its segments follow
-- pg_class transactionally and a rollback brings the old ones back.  Nobody
-- but the extension reads these tables: PUBLIC has no privileges on them and
-- the C code accesses them directly; ledger.segments shows only metadata of
-- ledgers the caller may SELECT.

CREATE TABLE ledger.segment (
	storage     oid NOT NULL,          -- pg_class.relfilenode of the ledger
	segment_id  bigint NOT NULL,       -- from ledger.segment_id_seq, never reused
	first_row   bigint NOT NULL,       -- first reserved row number (TID space)
	row_count   integer NOT NULL,      -- rows stored in the segment
	time_min    timestamptz,           -- range of the ledger's time column
	time_max    timestamptz,
	data_bytes  bigint NOT NULL,       -- compressed bytes of all its columns
	format      smallint NOT NULL,     -- segment format version
	event_count bigint NOT NULL,       -- input rows the segment stands for
	rollup      interval,              -- granularity its rows are rolled up
	                                   -- and sorted by; NULL: raw rows
	PRIMARY KEY (storage, segment_id)
);

CREATE TABLE ledger.segment_column (
	storage     oid NOT NULL,
	segment_id  bigint NOT NULL,
	attnum      smallint NOT NULL,
	null_count  integer NOT NULL,
	min_value   bytea,                 -- zone map: serialized datum or NULL
	max_value   bytea,
	dict_count  integer NOT NULL,      -- dictionary entries, 0 when none
	dict        bytea,                 -- dictionary + roaring bitmaps
	                                   -- attnum 0: hidden per-row event count
	data        bytea NOT NULL,        -- encoded, zstd-compressed blocks
	PRIMARY KEY (storage, segment_id, attnum)
);
ALTER TABLE ledger.segment_column ALTER COLUMN dict SET STORAGE EXTERNAL;
ALTER TABLE ledger.segment_column ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE ledger.segment_column ALTER COLUMN min_value SET STORAGE EXTERNAL;
ALTER TABLE ledger.segment_column ALTER COLUMN max_value SET STORAGE EXTERNAL;

CREATE SEQUENCE ledger.segment_id_seq;

REVOKE ALL ON ledger.segment, ledger.segment_column, ledger.segment_id_seq FROM PUBLIC;

-- Loads the library before any DROP so that its object_access_hook sees the
-- drop of a ledger and removes the ledger's segments.
CREATE FUNCTION ledger.ledger_ddl_start()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'ledger_ddl_start'
LANGUAGE C;
REVOKE ALL ON FUNCTION ledger.ledger_ddl_start() FROM PUBLIC;

CREATE EVENT TRIGGER ledger_ddl_start ON ddl_command_start
	EXECUTE FUNCTION ledger.ledger_ddl_start();

-- Introspection -------------------------------------------------------------

-- One row per visible segment of every ledger the caller may SELECT.
CREATE VIEW ledger.segments WITH (security_barrier) AS
SELECT c.oid::regclass AS ledger,
	   s.segment_id,
	   s.row_count AS rows,
	   s.time_min,
	   s.time_max,
	   s.data_bytes AS bytes,
	   (SELECT pg_catalog.jsonb_object_agg(a.attname,
				coalesce(pg_catalog.pg_column_size(sc.dict), 0) +
				pg_catalog.pg_column_size(sc.data))
		  FROM ledger.segment_column sc
		  JOIN pg_catalog.pg_attribute a
			ON a.attrelid = c.oid AND a.attnum = sc.attnum AND NOT a.attisdropped
		 WHERE sc.storage = s.storage AND sc.segment_id = s.segment_id
	   ) AS column_bytes
FROM ledger.segment s
JOIN pg_catalog.pg_class c ON c.relfilenode = s.storage
JOIN pg_catalog.pg_am am ON am.oid = c.relam AND am.amname = 'ledger'
WHERE pg_catalog.has_table_privilege(c.oid, 'SELECT');
GRANT SELECT ON ledger.segments TO PUBLIC;

-- Bytes a ledger owns: its segment and column catalog rows, their TOAST,
-- and the ledger's own relation fork (the metapage).
CREATE FUNCTION ledger.table_size(ledger regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ledger_table_size'
LANGUAGE C STRICT STABLE;
GRANT EXECUTE ON FUNCTION ledger.table_size(regclass) TO PUBLIC;

-- Rollup configuration ---------------------------------------------------------
--
-- One row per rollup ledger.  Columns are named, the ledger is a regclass,
-- so pg_dump restores the configuration onto the new objects.  Written only
-- by ledger.set_rollup (which checks ownership); read by the C code.

CREATE TABLE ledger.config (
	relid          regclass PRIMARY KEY,
	time_column    name NOT NULL,
	granularity    interval NOT NULL,
	time_zone      text NOT NULL,
	metrics        jsonb NOT NULL,
	key_column     name,
	version_column name
);
REVOKE ALL ON ledger.config FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('ledger.config', '');

CREATE FUNCTION ledger.set_rollup(ledger regclass,
								  time_column name,
								  granularity interval,
								  metrics jsonb,
								  time_zone text DEFAULT 'UTC',
								  key_column name DEFAULT NULL,
								  version_column name DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'ledger_set_rollup'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
GRANT EXECUTE ON FUNCTION ledger.set_rollup(regclass, name, interval, jsonb, text, name, name) TO PUBLIC;



-- Rows ingested and stored, rollup ratio, segments and bytes of a ledger.
CREATE FUNCTION ledger.stats(ledger regclass,
							 OUT rows_ingested bigint,
							 OUT rows_stored bigint,
							 OUT rollup_ratio double precision,
							 OUT segments bigint,
							 OUT bytes bigint)
AS 'MODULE_PATHNAME', 'ledger_stats'
LANGUAGE C STRICT STABLE;
GRANT EXECUTE ON FUNCTION ledger.stats(regclass) TO PUBLIC;

-- Compaction ------------------------------------------------------------------
--
-- Policies are configuration (dumped with pg_dump, keyed by regclass);
-- ledger.job is history written by every compaction run.  PUBLIC has no
-- privileges on the tables: the set_* functions check ownership of the
-- ledger, and the views show only ledgers the caller may SELECT.

CREATE TABLE ledger.compaction_policy (
	relid               regclass PRIMARY KEY,
	target_segment_rows integer,        -- NULL: ledger.segment_rows
	min_segment_rows    integer,        -- NULL: 65536; smaller ones are merged
	retention           interval        -- NULL: keep everything
);
REVOKE ALL ON ledger.compaction_policy FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('ledger.compaction_policy', '');

CREATE TABLE ledger.granularity_policy (
	relid       regclass NOT NULL,
	older_than  interval NOT NULL,      -- rows whose bucket is older than this
	granularity interval NOT NULL,      -- are re-rolled to this granularity
	PRIMARY KEY (relid, older_than)
);
REVOKE ALL ON ledger.granularity_policy FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('ledger.granularity_policy', '');

CREATE TABLE ledger.job (
	job_id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	relid            oid NOT NULL,
	ledger_name      text NOT NULL,
	started          timestamptz NOT NULL,
	finished         timestamptz NOT NULL,
	trigger          text NOT NULL,     -- 'worker' or 'manual'
	segments_in      integer NOT NULL DEFAULT 0,
	segments_out     integer NOT NULL DEFAULT 0,
	segments_dropped integer NOT NULL DEFAULT 0,
	rows_in          bigint NOT NULL DEFAULT 0,
	rows_out         bigint NOT NULL DEFAULT 0,
	bytes_in         bigint NOT NULL DEFAULT 0,
	bytes_out        bigint NOT NULL DEFAULT 0,
	error            text
);
CREATE INDEX job_relid_idx ON ledger.job (relid, job_id);
REVOKE ALL ON ledger.job FROM PUBLIC;

-- One row per compaction run of every ledger the caller may SELECT.
CREATE VIEW ledger.jobs WITH (security_barrier) AS
SELECT j.job_id,
	   j.relid::regclass AS ledger,
	   j.started AS start,
	   j.finished AS "end",
	   j.trigger,
	   j.segments_in,
	   j.segments_out,
	   j.segments_dropped,
	   j.rows_in,
	   j.rows_out,
	   j.bytes_in,
	   j.bytes_out,
	   j.error
FROM ledger.job j
WHERE pg_catalog.has_table_privilege(j.relid, 'SELECT');
GRANT SELECT ON ledger.jobs TO PUBLIC;

-- Compaction settings and granularity policies of ledgers the caller may SELECT.
CREATE VIEW ledger.compaction_policies WITH (security_barrier) AS
SELECT p.relid AS ledger,
	   'compaction'::text AS policy,
	   NULL::interval AS older_than,
	   NULL::interval AS granularity,
	   p.target_segment_rows,
	   p.min_segment_rows,
	   p.retention
FROM ledger.compaction_policy p
WHERE pg_catalog.has_table_privilege(p.relid, 'SELECT')
UNION ALL
SELECT g.relid, 'granularity', g.older_than, g.granularity, NULL, NULL, NULL
FROM ledger.granularity_policy g
WHERE pg_catalog.has_table_privilege(g.relid, 'SELECT');
GRANT SELECT ON ledger.compaction_policies TO PUBLIC;

-- Merges, re-rolls and expires a ledger's segments now (owner only).
CREATE FUNCTION ledger.compact(ledger regclass, "full" boolean DEFAULT false,
							   OUT segments_in integer,
							   OUT segments_out integer,
							   OUT segments_dropped integer,
							   OUT rows_in bigint,
							   OUT rows_out bigint,
							   OUT bytes_in bigint,
							   OUT bytes_out bigint)
AS 'MODULE_PATHNAME', 'ledger_compact'
LANGUAGE C STRICT VOLATILE;
GRANT EXECUTE ON FUNCTION ledger.compact(regclass, boolean) TO PUBLIC;

-- Segment sizes compaction aims at (owner only); NULL keeps the default.
CREATE FUNCTION ledger.set_compaction(ledger regclass,
									  target_segment_rows integer DEFAULT NULL,
									  min_segment_rows integer DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'ledger_set_compaction'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
GRANT EXECUTE ON FUNCTION ledger.set_compaction(regclass, integer, integer) TO PUBLIC;

-- Re-rolls rows older than older_than to a coarser granularity (owner only).
CREATE FUNCTION ledger.add_granularity_policy(ledger regclass,
											  older_than interval,
											  granularity interval)
RETURNS void
AS 'MODULE_PATHNAME', 'ledger_add_granularity_policy'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
GRANT EXECUTE ON FUNCTION ledger.add_granularity_policy(regclass, interval, interval) TO PUBLIC;

-- Removes the granularity policy for older_than (all when NULL); owner only.
CREATE FUNCTION ledger.remove_granularity_policy(ledger regclass,
												 older_than interval DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'ledger_remove_granularity_policy'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
GRANT EXECUTE ON FUNCTION ledger.remove_granularity_policy(regclass, interval) TO PUBLIC;

-- Drops segments entirely older than drop_after (NULL: keep all); owner only.
CREATE FUNCTION ledger.set_retention(ledger regclass, drop_after interval)
RETURNS void
AS 'MODULE_PATHNAME', 'ledger_set_retention'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
GRANT EXECUTE ON FUNCTION ledger.set_retention(regclass, interval) TO PUBLIC;

-- Idempotent ingestion -------------------------------------------------------
--
-- The key store holds one row per event key of every keyed ledger: the
-- version applied last, when the event happened, a hash of its payload and,
-- on rollup ledgers, its contribution (the rolled-up row it added), so a
-- newer version or ledger.retract can take exactly that contribution back.
-- Keyed by the ledger's oid, not its relfilenode: keys are logical and
-- survive rewrites; TRUNCATE and DROP remove them.  Written and read only by
-- the C code (src/upsert); PUBLIC has no privileges on it.

CREATE TABLE ledger.key_store (
	relid        oid NOT NULL,
	key          text COLLATE "C",     -- NULL: an unkeyed row kept for min/max
	version      bigint,               -- NULL: the ledger has no version column
	event_time   timestamptz,          -- the event's time, for key retention
	retracted    boolean NOT NULL,     -- ledger.retract took it back
	superseded   boolean NOT NULL,     -- an older version was replaced
	payload      bigint NOT NULL,      -- hash of the applied row's payload
	group_hash   integer,              -- rollup ledgers with min/max: hash of
	                                   -- the rollup key of the contribution
	contribution bytea                 -- rollup ledgers: the rolled-up row
);
CREATE UNIQUE INDEX key_store_key_idx ON ledger.key_store (relid, key);
CREATE INDEX key_store_group_idx ON ledger.key_store (relid, group_hash)
	WHERE group_hash IS NOT NULL;
CREATE INDEX key_store_superseded_idx ON ledger.key_store (relid)
	WHERE superseded OR retracted;
REVOKE ALL ON ledger.key_store FROM PUBLIC;

-- Groups of min/max rollup ledgers that lost a contribution: their min and
-- max are recomputed on read from the contributions the key store holds.
CREATE TABLE ledger.key_dirty_group (
	relid      oid NOT NULL,
	group_hash integer NOT NULL
);
CREATE INDEX key_dirty_group_idx ON ledger.key_dirty_group (relid, group_hash);
REVOKE ALL ON ledger.key_dirty_group FROM PUBLIC;

-- Keys of raw ledgers (rollup ledgers name theirs in ledger.config) and the
-- key retention of every keyed ledger.
CREATE TABLE ledger.key_config (
	relid          regclass PRIMARY KEY,
	key_column     name,               -- raw ledgers only
	version_column name,
	retention      interval,           -- NULL: keys are kept forever
	late_events    text NOT NULL DEFAULT 'accept'
		CHECK (late_events IN ('accept', 'reject'))
);
REVOKE ALL ON ledger.key_config FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('ledger.key_config', '');

-- A ledger getting a key registers the rows it already holds: a key
-- configuration restored after the ledger's rows (pg_restore -j), or
-- set_rollup adding a key to a ledger that holds rows.
CREATE FUNCTION ledger.key_config_restored()
RETURNS trigger
AS 'MODULE_PATHNAME', 'ledger_key_config_restored'
LANGUAGE C;
REVOKE ALL ON FUNCTION ledger.key_config_restored() FROM PUBLIC;
CREATE TRIGGER key_config_restored AFTER INSERT ON ledger.key_config
	FOR EACH ROW WHEN (NEW.key_column IS NOT NULL)
	EXECUTE FUNCTION ledger.key_config_restored();
CREATE TRIGGER config_key_added AFTER INSERT ON ledger.config
	FOR EACH ROW WHEN (NEW.key_column IS NOT NULL)
	EXECUTE FUNCTION ledger.key_config_restored();
CREATE TRIGGER config_key_changed AFTER UPDATE ON ledger.config
	FOR EACH ROW WHEN (NEW.key_column IS NOT NULL AND OLD.key_column IS NULL)
	EXECUTE FUNCTION ledger.key_config_restored();

-- Each ledger's configuration, for ledgers the caller may SELECT.
CREATE VIEW ledger.tables WITH (security_barrier) AS
SELECT c.oid::regclass AS ledger,
	   (cfg.relid IS NOT NULL) AS rollup,
	   cfg.time_column,
	   cfg.granularity,
	   cfg.time_zone,
	   cfg.metrics,
	   COALESCE(cfg.key_column, kc.key_column) AS key_column,
	   CASE WHEN cfg.relid IS NOT NULL THEN cfg.version_column
			ELSE kc.version_column END AS version_column,
	   kc.retention AS key_retention,
	   kc.late_events,
	   CASE WHEN cfg.relid IS NULL THEN NULL ELSE
	   (SELECT pg_catalog.array_agg(a.attname ORDER BY a.attnum)
		  FROM pg_catalog.pg_attribute a
		 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		   AND a.attname <> cfg.time_column
		   AND NOT cfg.metrics ? a.attname::text
		   AND a.attname IS DISTINCT FROM cfg.key_column
		   AND a.attname IS DISTINCT FROM cfg.version_column) END AS dimensions
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_am am ON am.oid = c.relam AND am.amname = 'ledger'
LEFT JOIN ledger.config cfg ON cfg.relid = c.oid
LEFT JOIN ledger.key_config kc ON kc.relid = c.oid
WHERE c.relkind = 'r' AND pg_catalog.has_table_privilege(c.oid, 'SELECT');
GRANT SELECT ON ledger.tables TO PUBLIC;

-- Consumer positions, committed in the same transaction as the data.
CREATE TABLE ledger.offset_store (
	source      text NOT NULL,
	partition   integer NOT NULL,
	last_offset bigint NOT NULL,
	committed   timestamptz NOT NULL,
	owner       oid NOT NULL,          -- role that committed it first
	PRIMARY KEY (source, partition)
);
REVOKE ALL ON ledger.offset_store FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('ledger.offset_store', '');

-- Makes key_column (and version_column) the idempotency key of a raw ledger.
CREATE FUNCTION ledger.set_key(ledger regclass, key_column name,
							   version_column name DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'ledger_set_key'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
GRANT EXECUTE ON FUNCTION ledger.set_key(regclass, name, name) TO PUBLIC;

-- Forgets keys of events older than retention; late_events says what
-- happens to an event that arrives older than that: 'accept' applies it
-- without deduplication, 'reject' raises an error.
CREATE FUNCTION ledger.set_key_retention(ledger regclass, retention interval,
										 late_events text DEFAULT 'accept')
RETURNS void
AS 'MODULE_PATHNAME', 'ledger_set_key_retention'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
GRANT EXECUTE ON FUNCTION ledger.set_key_retention(regclass, interval, text) TO PUBLIC;

-- Applies one event: 'inserted', 'replaced', 'unchanged' or 'stale'.
CREATE FUNCTION ledger.upsert(ledger regclass, "row" anyelement)
RETURNS text
AS 'MODULE_PATHNAME', 'ledger_upsert'
LANGUAGE C STRICT VOLATILE;
GRANT EXECUTE ON FUNCTION ledger.upsert(regclass, anyelement) TO PUBLIC;

-- Applies an array of events; returns how many had each outcome.
CREATE FUNCTION ledger.upsert_batch(ledger regclass, "rows" anyarray,
									OUT inserted bigint, OUT replaced bigint,
									OUT unchanged bigint, OUT stale bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'ledger_upsert_batch'
LANGUAGE C STRICT VOLATILE;
GRANT EXECUTE ON FUNCTION ledger.upsert_batch(regclass, anyarray) TO PUBLIC;

-- Takes an event's contribution back; false if the key is unknown or was
-- retracted already.  Replays of the key and version stay no-ops.
CREATE FUNCTION ledger.retract(ledger regclass, key text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'ledger_retract'
LANGUAGE C STRICT VOLATILE;
GRANT EXECUTE ON FUNCTION ledger.retract(regclass, text) TO PUBLIC;

-- Outcomes of keyed ingestion into a ledger by this session.
CREATE FUNCTION ledger.ingest_counts(ledger regclass,
									 OUT inserted bigint, OUT replaced bigint,
									 OUT unchanged bigint, OUT stale bigint,
									 OUT unkeyed bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'ledger_ingest_counts'
LANGUAGE C STRICT VOLATILE;
GRANT EXECUTE ON FUNCTION ledger.ingest_counts(regclass) TO PUBLIC;

-- Stores a consumer's position in the current transaction.
CREATE FUNCTION ledger.commit_offset(source text, "partition" integer,
									 last_offset bigint)
RETURNS void
AS 'MODULE_PATHNAME', 'ledger_commit_offset'
LANGUAGE C STRICT VOLATILE;
GRANT EXECUTE ON FUNCTION ledger.commit_offset(text, integer, bigint) TO PUBLIC;

-- Consumer positions committed by the caller's roles (superusers: all).
CREATE VIEW ledger.offsets WITH (security_barrier) AS
SELECT o.source, o.partition, o.last_offset, o.committed
FROM ledger.offset_store o
WHERE pg_catalog.pg_has_role(o.owner, 'USAGE');
GRANT SELECT ON ledger.offsets TO PUBLIC;

-- Keys stored and their state, per keyed ledger the caller may SELECT.
CREATE VIEW ledger.keys WITH (security_barrier) AS
SELECT k.relid::regclass AS ledger,
	   count(*) FILTER (WHERE k.key IS NOT NULL) AS keys,
	   count(*) FILTER (WHERE k.retracted) AS retracted,
	   count(*) FILTER (WHERE k.superseded) AS superseded,
	   min(k.event_time) AS oldest_event
FROM ledger.key_store k
WHERE pg_catalog.has_table_privilege(k.relid, 'SELECT')
GROUP BY k.relid;
GRANT SELECT ON ledger.keys TO PUBLIC;

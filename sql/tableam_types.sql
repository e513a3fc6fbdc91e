--
-- tableam_types: every common type makes a round trip through a ledger
--
-- The ledger and a heap table get the same rows; the ledger must return
-- exactly what the heap returns (compared as text, which also tells 1.0
-- from 1.00, -0 from 0 and NaN from NULL).  Large values are compared by
-- length and md5, never printed.
--
CREATE TYPE types_mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN types_posint AS int CHECK (VALUE > 0);

CREATE TABLE types_src (
	id              int,
	c_smallint      smallint,
	c_int           int,
	c_bigint        bigint,
	c_numeric       numeric,
	c_numeric_10_2  numeric(10, 2),
	c_real          real,
	c_double        double precision,
	c_text          text,
	c_varchar       varchar(10),
	c_char          char(5),
	c_bool          bool,
	c_date          date,
	c_time          time,
	c_timetz        timetz,
	c_timestamp     timestamp,
	c_timestamptz   timestamptz,
	c_interval      interval,
	c_uuid          uuid,
	c_jsonb         jsonb,
	c_json          json,
	c_bytea         bytea,
	c_intarr        int[],
	c_textarr       text[],
	c_enum          types_mood,
	c_domain        types_posint,
	c_name          name,
	c_char1         "char",
	c_inet          inet,
	c_macaddr       macaddr,
	c_point         point,
	c_range         int4range
);

-- the same columns, stored by a ledger and by heap
CREATE TABLE types_ledger (LIKE types_src) USING ledger;
CREATE TABLE types_heap (LIKE types_src) USING heap;

SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 1;
SET bytea_output = 'hex';

-- ordinary values
INSERT INTO types_src VALUES
(1, 1, 2, 3, 4.5, 6.78, 1.5, 2.25, 'hello', 'varchar', 'ab', true,
 '2024-02-29', '12:34:56.789', '01:02:03+05:30', '2024-01-02 03:04:05.678901',
 '2024-01-02 03:04:05.678901+02', '1 year 2 mons 3 days 04:05:06.789',
 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": 1, "b": [true, null, "x"]}',
 '{"a": 1,  "a" : 2}', '\x00ff10', '{1,2,3}', '{"a","b c",NULL,"d\"e"}',
 'happy', 42, 'a name', 'x', '192.168.0.1/24', '08:00:2b:01:02:03',
 '(1.5,-2)', '[1,10)'),
-- extremes and special values
(2, -32768, -2147483648, 9223372036854775807, 'NaN', -99999999.99, 'NaN',
 'Infinity', '', '', '', false, 'infinity', '00:00:00', '00:00:00-12',
 '-infinity', 'infinity', '-178000000 years', '00000000-0000-0000-0000-000000000000',
 '{}', '[]', '\x', '{}', '{}', 'sad', 1, '', E'\001', '::1', '00:00:00:00:00:00',
 '(0,0)', 'empty'),
(3, 32767, 2147483647, -9223372036854775808, '-0.000000000000000000001',
 0.00, '-Infinity', '-Infinity', ' leading and trailing ', 'ten chars!',
 'five!', NULL, '4713-01-01 BC', '24:00:00', '24:00:00+14',
 '4713-01-01 00:00:00 BC', '294276-12-31 23:59:59.999999+00',
 '-1 days -00:00:01', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
 '[1, "two", {"three": 3.0}]', '  {"spaces" :  true }  ', '\xdeadbeef',
 '{{1,2},{3,4}}', '{"multi","dim"}', 'ok', 2147483647,
 repeat('n', 63), 'z', '2001:db8::ff00:42:8329', 'ff:ff:ff:ff:ff:ff',
 '(1e+300,-1e-300)', '(,5]'),
(4, 0, 0, 0, 123456789012345678901234567890.123456789012345678901234567890,
 1.10, '-0', '-0', 'Grüße, 東京, emoji 🎉', 'ÄÖÜäöüß', 'é', true,
 '1970-01-01', '23:59:59.999999', '12:00:00+00', '1970-01-01 00:00:00',
 '1970-01-01 00:00:00+00', '0', '123e4567-e89b-12d3-a456-426614174000',
 '{"nested": {"deep": {"deeper": [1, 2, {"deepest": null}]}}, "num": 1.000}',
 '{"num": 1.000}', '\x5c', '{NULL,1,NULL}', '{""}', 'sad', 5,
 'Grüße', ' ', '10.0.0.0/8', '01:23:45:67:89:ab', '(-0,0)', '[-5,-5]'),
(5, 7, 8, 9, 1.000, 1.000, 3.4028235e38, 1.7976931348623157e308, 'tab	and
newline', 'a', 'a', false, '2000-01-01', '00:00:00.000001', '00:00:01-00:00:01',
 '2000-01-01 00:00:00.000001', '2000-01-01 00:00:00.000001+00',
 '1 mon -1 days', '6ba7b810-9dad-11d1-80b4-00c04fd430c8', '"a string"',
 'null', '\x00', '{-1}', '{NULL}', 'happy', 9, 'n', 'a', '0.0.0.0/0',
 '12:34:56:78:9a:bc', '(3,4)', '[,)'),
-- NULL in every column but id
(6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL),
-- NULL in every column
(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- values heap stores out of line (TOAST): compressible and incompressible
-- text, a 50 kB jsonb, a large json, bytea and arrays
INSERT INTO types_src (id, c_text, c_varchar, c_jsonb, c_json, c_bytea,
					   c_intarr, c_textarr)
SELECT 10,
	   repeat('x', 100000),
	   'big row',
	   (SELECT jsonb_object_agg('key' || i, md5(i::text))
		  FROM generate_series(1, 1200) AS i),
	   (SELECT json_agg(md5(i::text)) FROM generate_series(1, 2000) AS i),
	   decode(repeat('0123456789abcdef', 20000), 'hex'),
	   (SELECT array_agg(i) FROM generate_series(1, 30000) AS i),
	   (SELECT array_agg(md5(i::text)) FROM generate_series(1, 3000) AS i);
INSERT INTO types_src (id, c_text, c_bytea)
SELECT 11,
	   (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 4000) AS i),
	   (SELECT string_agg(decode(md5(i::text), 'hex'), ''::bytea)
		  FROM generate_series(1, 10000) AS i);

-- the large values really are stored out of line by heap
SELECT pg_relation_size(reltoastrelid) > 100000 AS heap_uses_toast
FROM pg_class WHERE oid = 'types_src'::regclass;

-- copy the rows from heap (large values arrive as TOAST pointers)
INSERT INTO types_ledger SELECT * FROM types_src;
INSERT INTO types_heap SELECT * FROM types_src;

-- the source's TOAST data goes away; the ledger must have its own copy
TRUNCATE types_src;

SELECT count(*) AS ledger_rows FROM types_ledger;

-- small rows as the ledger returns them
SELECT id, c_smallint, c_int, c_bigint, c_numeric, c_numeric_10_2, c_real,
	   c_double, c_text, c_varchar, c_char, c_bool
FROM types_ledger WHERE id < 10 OR id IS NULL ORDER BY id;
SELECT id, c_date, c_time, c_timetz, c_timestamp, c_timestamptz, c_interval
FROM types_ledger WHERE id < 10 OR id IS NULL ORDER BY id;
SELECT id, c_uuid, c_jsonb, c_json, c_bytea
FROM types_ledger WHERE id < 10 OR id IS NULL ORDER BY id;
SELECT id, c_intarr, c_textarr, c_enum, c_domain, c_name, c_char1, c_inet,
	   c_macaddr, c_point, c_range
FROM types_ledger WHERE id < 10 OR id IS NULL ORDER BY id;

-- large values: lengths and checksums equal to heap's
SELECT l.id,
	   length(l.c_text) AS text_len,
	   md5(l.c_text) = md5(h.c_text) AS text_eq,
	   length(l.c_jsonb::text) AS jsonb_len,
	   l.c_jsonb = h.c_jsonb AS jsonb_eq,
	   length(l.c_json::text) AS json_len,
	   l.c_json::text = h.c_json::text AS json_eq,
	   length(l.c_bytea) AS bytea_len,
	   md5(l.c_bytea) = md5(h.c_bytea) AS bytea_eq,
	   cardinality(l.c_intarr) AS intarr_len,
	   l.c_intarr = h.c_intarr AS intarr_eq,
	   cardinality(l.c_textarr) AS textarr_len,
	   l.c_textarr = h.c_textarr AS textarr_eq
FROM types_ledger l JOIN types_heap h USING (id)
WHERE l.id >= 10 ORDER BY l.id;

-- whole rows: the same multiset as heap, both ways
SELECT count(*) AS only_in_ledger
FROM (SELECT t::text FROM types_ledger t EXCEPT ALL SELECT t::text FROM types_heap t) d;
SELECT count(*) AS only_in_heap
FROM (SELECT t::text FROM types_heap t EXCEPT ALL SELECT t::text FROM types_ledger t) d;
SELECT (SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM types_ledger t) =
	   (SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM types_heap t)
	   AS same_dump;

-- per-type equality (the type's own "=", not its text form), column by column
SELECT count(*) FILTER (WHERE l.c_smallint IS DISTINCT FROM h.c_smallint) AS smallint_diff,
	   count(*) FILTER (WHERE l.c_int IS DISTINCT FROM h.c_int) AS int_diff,
	   count(*) FILTER (WHERE l.c_bigint IS DISTINCT FROM h.c_bigint) AS bigint_diff,
	   count(*) FILTER (WHERE l.c_numeric IS DISTINCT FROM h.c_numeric) AS numeric_diff,
	   count(*) FILTER (WHERE l.c_real IS DISTINCT FROM h.c_real) AS real_diff,
	   count(*) FILTER (WHERE l.c_double IS DISTINCT FROM h.c_double) AS double_diff,
	   count(*) FILTER (WHERE l.c_timestamptz IS DISTINCT FROM h.c_timestamptz) AS tstz_diff,
	   count(*) FILTER (WHERE l.c_interval IS DISTINCT FROM h.c_interval) AS interval_diff,
	   count(*) FILTER (WHERE l.c_uuid IS DISTINCT FROM h.c_uuid) AS uuid_diff,
	   count(*) FILTER (WHERE l.c_enum IS DISTINCT FROM h.c_enum) AS enum_diff,
	   count(*) FILTER (WHERE l.c_range IS DISTINCT FROM h.c_range) AS range_diff
FROM types_ledger l JOIN types_heap h USING (id);

-- the values keep their types' semantics after the round trip
SELECT id, c_numeric = 'NaN' AS numeric_nan, c_double = 'Infinity' AS double_inf,
	   c_enum > 'sad' AS enum_gt_sad, c_domain - 1 AS domain_minus_1,
	   c_jsonb -> 'a' AS jsonb_a, c_textarr[2] AS textarr_2,
	   c_range @> 3 AS range_has_3, c_inet << '192.168.0.0/16' AS inet_in
FROM types_ledger WHERE id < 10 ORDER BY id;

-- minimum and maximum of every orderable column equal heap's
SELECT (SELECT row(min(c_smallint), max(c_smallint), min(c_int), max(c_int),
				   min(c_bigint), max(c_bigint), min(c_numeric), max(c_numeric),
				   min(c_real), max(c_real), min(c_double), max(c_double),
				   min(c_text), max(c_text), min(c_date), max(c_date),
				   min(c_timestamptz), max(c_timestamptz), min(c_interval),
				   max(c_interval), min(c_enum), max(c_enum))::text
		FROM types_ledger) =
	   (SELECT row(min(c_smallint), max(c_smallint), min(c_int), max(c_int),
				   min(c_bigint), max(c_bigint), min(c_numeric), max(c_numeric),
				   min(c_real), max(c_real), min(c_double), max(c_double),
				   min(c_text), max(c_text), min(c_date), max(c_date),
				   min(c_timestamptz), max(c_timestamptz), min(c_interval),
				   max(c_interval), min(c_enum), max(c_enum))::text
		FROM types_heap) AS same_min_max;

-- many rows per type: few distinct values (dictionary candidates), many
-- distinct values, and NULLs, across more than one 65,536-row block
TRUNCATE types_ledger, types_heap;
INSERT INTO types_src (id, c_smallint, c_int, c_bigint, c_numeric, c_real,
					   c_double, c_text, c_varchar, c_char, c_bool, c_date,
					   c_time, c_timestamp, c_timestamptz, c_interval, c_uuid,
					   c_jsonb, c_bytea, c_intarr, c_textarr, c_enum,
					   c_domain, c_name, c_inet, c_point, c_range)
SELECT i,
	   CASE WHEN i % 11 = 0 THEN NULL ELSE (i % 7)::smallint END,
	   CASE WHEN i % 13 = 0 THEN NULL ELSE i END,
	   (i::bigint * 1000003) % 1000000007,
	   round(i / 7.0, i % 5),
	   (i % 1000) / 8.0,
	   CASE WHEN i % 17 = 0 THEN NULL ELSE i * 0.001 END,
	   CASE WHEN i % 19 = 0 THEN NULL ELSE 'text ' || (i % 300) END,
	   'v' || (i % 5),
	   chr(65 + i % 26),
	   CASE WHEN i % 3 = 0 THEN NULL ELSE i % 2 = 0 END,
	   date '2024-01-01' + (i % 400),
	   time '00:00' + (i % 86400) * interval '1 second',
	   timestamp '2024-01-01' + i * interval '1 minute',
	   timestamptz '2024-01-01 00:00:00+00' + i * interval '37 seconds',
	   (i % 50) * interval '1 hour',
	   md5(i::text)::uuid,
	   CASE WHEN i % 23 = 0 THEN NULL ELSE jsonb_build_object('k', i % 10) END,
	   decode(lpad(to_hex(i % 4096), 4, '0'), 'hex'),
	   ARRAY[i % 3, i % 5],
	   ARRAY['t' || (i % 4)],
	   (ARRAY['sad', 'ok', 'happy'])[1 + i % 3]::types_mood,
	   1 + i % 9,
	   'name' || (i % 6),
	   ('10.0.' || (i % 256) || '.1')::inet,
	   point(i % 10, i % 7),
	   int4range(i % 10, i % 10 + 5)
FROM generate_series(1, 140000) AS i;
INSERT INTO types_ledger SELECT * FROM types_src;
INSERT INTO types_heap SELECT * FROM types_src;
DROP TABLE types_src;

SELECT count(*) AS ledger_rows FROM types_ledger;
SELECT (SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM types_ledger t) =
	   (SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM types_heap t)
	   AS same_dump;
SELECT count(*) AS only_in_ledger
FROM (SELECT t::text FROM types_ledger t EXCEPT ALL SELECT t::text FROM types_heap t) d;

-- the ledger reads back in the same transaction it wrote
BEGIN;
INSERT INTO types_ledger SELECT * FROM types_heap WHERE id % 1000 = 0;
SELECT count(*) AS rows_in_transaction FROM types_ledger;
SELECT count(*) AS only_in_ledger
FROM (SELECT t::text FROM types_ledger t
	  EXCEPT ALL
	  (SELECT t::text FROM types_heap t
	   UNION ALL
	   SELECT t::text FROM types_heap t WHERE id % 1000 = 0)) d;
ROLLBACK;

RESET TimeZone;
RESET DateStyle;
RESET IntervalStyle;
RESET extra_float_digits;
RESET bytea_output;
DROP TABLE types_ledger, types_heap;
DROP DOMAIN types_posint;
DROP TYPE types_mood;

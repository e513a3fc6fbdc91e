-- randomized differential test of LedgerScan's filter pushdown: thousands of
-- seeded random predicate trees (AND/OR/NOT of depth <= 3 over =, <>, <,
-- <=, >, >=, BETWEEN, IN / = ANY (empty, with NULLs), IS [NOT] NULL, NULL
-- constants, type edge values, cross-type constants, collations, stable
-- expressions, parameters of generic plans, nested-loop parameters), each
-- run on a ledger and on a heap table holding the same rows: inside the
-- transaction that still buffers rows, then with everything in segments,
-- with ledger.enable_custom_scan off, with parallel plans; and on a rollup
-- ledger against heap GROUP BY.  Only aggregate outcomes are printed; a
-- mismatch is raised as a NOTICE with its query (SET sr.debug = on before
-- the setseed below also shows the queries that fail on the heap table).
-- (aggregates are computed by PostgreSQL over LedgerScan, except in the
-- last phases, which compute them inside the scan: LedgerAgg)
SET ledger.enable_aggregate_pushdown = off;
SET ledger.segment_rows = 1000;

-- the rows: every column has NULLs; batches get shifted ranges so that
-- segments differ; ad is added to the ledger after batch 3
CREATE TABLE sr_src AS
SELECT g AS id,
	   (g - 1) / 3000 + 1 AS batch,
	   CASE WHEN g % 13 = 0 AND (g - 1) / 3000 <> 2 THEN NULL
			WHEN g % 997 = 1 THEN -2147483648
			WHEN g % 997 = 2 THEN 2147483647
			ELSE (hashint4(g) % 51 + 50) % 101 - 50 + ((g - 1) / 3000) * 20 END::int AS i,
	   CASE WHEN g % 11 = 0 THEN NULL
			WHEN g % 1009 = 3 THEN -9223372036854775808
			WHEN g % 1009 = 4 THEN 9223372036854775807
			ELSE hashint8(g) END::bigint AS b,
	   CASE WHEN g % 7 = 0 THEN NULL ELSE (g % 5) + ((g - 1) / 3000) END::smallint AS lc,
	   CASE WHEN g % 17 = 0 THEN NULL
			ELSE (ARRAY['1.0', '1.00', '1', '2.5', '-0.5', '0', '0.000', 'NaN',
						'1e20', '-3', '2.50'])[(hashint4(g + 7) % 11 + 11) % 11 + 1] END::numeric AS n,
	   CASE WHEN g % 19 = 0 THEN NULL
			WHEN (g - 1) / 3000 = 1 THEN (hashint4(g) % 1000)::float8 / 7
			ELSE (ARRAY['NaN', '-0', '0', 'Infinity', '-Infinity', '1.5', '-2.25',
						'1e308', '5e-324', '3'])[(hashint4(g + 9) % 10 + 10) % 10 + 1]::float8 END AS f,
	   CASE WHEN (g - 1) / 3000 = 3 AND g % 2000 < 1200 THEN NULL
			WHEN g % 23 = 0 THEN NULL
			ELSE (ARRAY['card', 'Card', 'CARD', 'éclair', 'Éclair', 'eclair', 'ß', 'ss',
						'', 'zebra', 'Zürich', 'a b', '日本', 'apple', 'ｚ'])[(hashint4(g + 3) % 15 + 15) % 15 + 1] END AS tx,
	   CASE WHEN g % 29 = 0 THEN NULL
			ELSE (ARRAY['card', 'Card', 'CARD', 'éclair', 'Éclair', 'eclair', 'ß', 'ss',
						'', 'zebra', 'Zürich', 'a b', '日本', 'apple', 'ｚ'])[(hashint4(g + 5) % 15 + 15) % 15 + 1] END AS tc,
	   CASE WHEN g % 31 = 0 THEN NULL ELSE 'k' || md5(g::text) END AS th,
	   CASE g % 3 WHEN 0 THEN NULL WHEN 1 THEN true ELSE (g % 4 = 0) END AS bo,
	   CASE WHEN g % 37 = 0 THEN NULL
			WHEN g % 1013 = 5 THEN 'infinity'::date
			WHEN g % 1013 = 6 THEN '-infinity'::date
			ELSE '2025-01-01'::date + (g / 100) END AS d,
	   CASE WHEN g % 41 = 0 THEN NULL
			WHEN g % 1019 = 7 THEN 'infinity'::timestamptz
			WHEN g % 1019 = 8 THEN '-infinity'::timestamptz
			ELSE '2025-03-01 00:00:00+00'::timestamptz + (g / 10) * interval '1 hour'
				 + CASE g % 10 WHEN 1 THEN interval '1 microsecond'
							   WHEN 2 THEN interval '-1 microsecond'
							   WHEN 3 THEN interval '1 day' ELSE interval '0' END END AS ts,
	   CASE WHEN g <= 9000 THEN 7 WHEN g % 43 = 0 THEN NULL ELSE g % 9 END AS ad
FROM generate_series(1, 16500) g;

CREATE TABLE sr_h (id int, i int, b bigint, lc smallint, n numeric, f float8,
				   tx text COLLATE "en-x-icu", tc text COLLATE "C", th text,
				   bo bool, d date, ts timestamptz, ad int DEFAULT 7);
CREATE TABLE sr_l (id int, i int, b bigint, lc smallint, n numeric, f float8,
				   tx text COLLATE "en-x-icu", tc text COLLATE "C", th text,
				   bo bool, d date, ts timestamptz) USING ledger;

-- one INSERT per batch (several segments each), ad added after batch 3
INSERT INTO sr_l SELECT id, i, b, lc, n, f, tx, tc, th, bo, d, ts FROM sr_src WHERE batch = 1;
INSERT INTO sr_l SELECT id, i, b, lc, n, f, tx, tc, th, bo, d, ts FROM sr_src WHERE batch = 2 ORDER BY ts DESC;
INSERT INTO sr_l SELECT id, i, b, lc, n, f, tx, tc, th, bo, d, ts FROM sr_src WHERE batch = 3;
ALTER TABLE sr_l ADD COLUMN ad int DEFAULT 7;
INSERT INTO sr_l SELECT id, i, b, lc, n, f, tx, tc, th, bo, d, ts, ad FROM sr_src WHERE batch = 4;
INSERT INTO sr_l SELECT id, i, b, lc, n, f, tx, tc, th, bo, d, ts, ad FROM sr_src WHERE batch = 5 ORDER BY th;
INSERT INTO sr_h SELECT id, i, b, lc, n, f, tx, tc, th, bo, d, ts, ad FROM sr_src WHERE batch <= 5;
SELECT count(*) >= 15 AS many_segments FROM ledger.segments WHERE ledger = 'sr_l'::regclass;

-- a small table for nested loops
CREATE TABLE sr_k (v int, lc smallint, kt text COLLATE "en-x-icu", tsv timestamptz);
INSERT INTO sr_k SELECT v, (v % 7)::smallint,
	   (ARRAY['card', 'éclair', 'zebra', NULL, 'ß'])[v % 5 + 1],
	   '2025-03-01 00:00:00+00'::timestamptz + v * interval '37 hours'
FROM generate_series(-1, 3) v;

-- stable functions: an inlinable SQL one and an opaque plpgsql one
CREATE FUNCTION sr_hour(h int) RETURNS timestamptz STABLE LANGUAGE sql
AS $$ SELECT '2025-03-01 00:00:00+00'::timestamptz + h * interval '1 hour' $$;
CREATE FUNCTION sr_hour_pl(h int) RETURNS timestamptz STABLE LANGUAGE plpgsql
AS $$ BEGIN RETURN '2025-03-01 00:00:00+00'::timestamptz + h * interval '1 hour'; END $$;

-- the columns and the constants their leaves use (SQL expressions: typed
-- literals, edge values, cross-type constants, stable expressions, values
-- sampled from the data); elems: constants usable inside IN lists / ARRAY[]
CREATE TABLE sr_cols (tab text, col text, typ text, lits text[], elems text[]);
INSERT INTO sr_cols VALUES
('raw', 'id', 'int', '{1,100,12345,15000,16499,16500,0,-1,2147483647,(-2147483648),NULL::int,5000::bigint,7.0,17::smallint}',
	'{1,100,12345,15000,16499,16500,0,"NULL"}'),
('raw', 'i', 'int', '{0,-50,50,(-2147483648),2147483647,NULL::int,3::bigint,''-9223372036854775808''::bigint,9223372036854775807::bigint,2.5,3::smallint,1e10::float8,17,42,83,90,-7}',
	'{0,-50,50,(-2147483648),2147483647,"NULL",17,42,83,-7}'),
('raw', 'b', 'bigint', '{0,9223372036854775807,''-9223372036854775808''::bigint,42::int,(-1)::smallint,NULL::bigint,4611686018427387904,(-4611686018427387904)}',
	'{0,9223372036854775807,''-9223372036854775808''::bigint,42,"NULL"}'),
('raw', 'lc', 'smallint', '{0,1,4,5,(-32768)::smallint,32767::smallint,2::int,3::bigint,NULL::smallint,70000,(-70000)::bigint,6}',
	'{0,1,4,5,2,3,6,"NULL",70000}'),
('raw', 'n', 'numeric', '{1.0,1.00,1,1::int,2.5,2.50,0,-0.5,''NaN''::numeric,1e20,NULL::numeric,2::bigint,0.000,-3,1.000001,''-Infinity''::numeric,''Infinity''::numeric}',
	'{1.0,1.00,2.5,0,''NaN''::numeric,-3,"NULL",1e20}'),
('raw', 'f', 'float8', '{''NaN''::float8,''-0''::float8,0,''Infinity''::float8,''-Infinity''::float8,1.5,1.5::float4,(-2.25),1e308,NULL::float8,''5e-324''::float8,3,100,''NaN''::float4,50.142857142857146}',
	'{''NaN''::float8,''-0''::float8,0,''Infinity''::float8,1.5,3,"NULL",''-Infinity''::float8}'),
('raw', 'tx', 'text', $${'card','Card','CARD','éclair','Éclair','eclair','ß','ss','','zebra','Zürich','a b','日本','apple','ｚ','b','E','zz',NULL::text,'card' COLLATE \"C\",'éclair' COLLATE \"en-x-icu\",'Eclair'}$$,
	$${'card','Card','éclair','ß','','zebra','日本',"NULL",'E','b'}$$),
('raw', 'tc', 'text', $${'card','Card','CARD','éclair','Éclair','eclair','ß','ss','','zebra','Zürich','a b','日本','apple','ｚ','b','E','zz',NULL::text,'card' COLLATE \"en-x-icu\",'Eclair'}$$,
	$${'card','Card','éclair','ß','','zebra','日本',"NULL",'E','b'}$$),
('raw', 'th', 'text', $${'k','l','k8','kf','~',NULL::text,'k0','ka'}$$, $${'k','kf','k0',"NULL"}$$),
('raw', 'bo', 'bool', '{true,false,NULL::bool}', '{true,false,"NULL"}'),
('raw', 'd', 'date', $${'infinity'::date,'-infinity'::date,'2025-01-15'::date,'2025-03-01'::date,'2025-01-15 00:00+00'::timestamptz,'2025-02-10'::timestamp,current_date - (current_date - '2025-02-01'::date),NULL::date,'2025-01-01'::date,'2025-04-22'::date,'2025-02-10 12:00+00'::timestamptz}$$,
	$${'infinity'::date,'-infinity'::date,'2025-01-15'::date,'2025-03-01'::date,"NULL",'2025-04-26'::date}$$),
('raw', 'ts', 'timestamptz', $${'infinity'::timestamptz,'-infinity'::timestamptz,'2025-03-05'::date,'2025-03-05 12:00'::timestamp,now() - (now() - '2025-03-10 00:00:00+00'::timestamptz),sr_hour(100),sr_hour_pl(1500),sr_hour(1649),NULL::timestamptz,'2025-03-01 00:00:00+00','2025-04-15 00:00:00.000001+00','2025-04-15 23:59:59.999999+00','2025-03-20 10:00:00+00'::timestamptz + interval '1 day'}$$,
	$${'infinity'::timestamptz,'-infinity'::timestamptz,'2025-03-05 00:00+00'::timestamptz,"NULL",'2025-04-15 00:00:00.000001+00'::timestamptz,'2025-03-01 00:00:00+00'::timestamptz}$$),
('raw', 'ad', 'int', '{7,0,8,NULL::int,1::bigint,(-1)}', '{7,0,8,"NULL",1}');

-- add constants sampled from the data (they hit rows, equalities too)
UPDATE sr_cols c SET lits = lits || ARRAY(
	SELECT format('%L::%s', v, c.typ)
	FROM sr_src s,
		 LATERAL (SELECT CASE c.col WHEN 'i' THEN s.i::text WHEN 'b' THEN s.b::text
						 WHEN 'lc' THEN s.lc::text WHEN 'n' THEN s.n::text
						 WHEN 'f' THEN s.f::text WHEN 'tx' THEN s.tx WHEN 'tc' THEN s.tc
						 WHEN 'th' THEN s.th WHEN 'd' THEN s.d::text
						 WHEN 'ts' THEN s.ts::text WHEN 'ad' THEN s.ad::text
						 WHEN 'id' THEN s.id::text END AS v) x
	WHERE s.id % 1777 = 5 AND v IS NOT NULL ORDER BY s.id)
WHERE tab = 'raw' AND col NOT IN ('bo');

-- the rollup ledger: time (1-day buckets in America/New_York across the
-- DST change, rows at local midnight +/- 1 us) and dimensions of several
-- types; one raw segment written before set_rollup
CREATE TABLE sr_rsrc AS
SELECT g AS id, (g - 1) / 2000 AS batch,
	   '2025-03-05 05:00:00+00'::timestamptz + ((hashint4(g) % 200 + 200) % 200) * interval '1 hour'
		 + CASE g % 5 WHEN 0 THEN interval '1 microsecond' WHEN 1 THEN interval '-1 microsecond'
					  ELSE interval '0' END AS ts,
	   CASE WHEN g % 13 = 0 THEN NULL ELSE (hashint4(g + 1) % 3 + 3) % 3 END::int AS i,
	   (ARRAY['card', 'Card', NULL, 'éclair', 'Éclair', 'ß'])[(hashint4(g + 2) % 6 + 6) % 6 + 1] AS tx,
	   (ARRAY['1.0', '1.00', NULL, '2.5', 'NaN'])[(hashint4(g + 3) % 5 + 5) % 5 + 1]::numeric AS n,
	   CASE WHEN g % 7 = 0 THEN NULL ELSE (g % 2)::smallint END AS lc,
	   CASE g % 3 WHEN 0 THEN NULL ELSE g % 2 = 0 END AS bo,
	   (hashint4(g + 4) % 1000)::bigint AS amount,
	   CASE WHEN g % 5 = 0 THEN 3 END::bigint AS cnt,
	   g AS v,
	   'e' || g AS eid
FROM generate_series(1, 10000) g;
CREATE TABLE sr_rh (ts timestamptz NOT NULL, i int, tx text COLLATE "en-x-icu", n numeric,
					lc smallint, bo bool, amount bigint, cnt bigint, v int, eid text);
CREATE TABLE sr_rl (ts timestamptz NOT NULL, i int, tx text COLLATE "en-x-icu", n numeric,
					lc smallint, bo bool, amount bigint, cnt bigint, v int, eid text) USING ledger;
INSERT INTO sr_rl SELECT ts, i, tx, n, lc, bo, amount, cnt, v, eid FROM sr_rsrc WHERE batch = 0;
SELECT ledger.set_rollup('sr_rl', 'ts', '1 day',
	'{"amount":"sum","cnt":"count","v":"max"}',
	time_zone => 'America/New_York', key_column => 'eid');
INSERT INTO sr_rl SELECT ts, i, tx, n, lc, bo, amount, cnt, v, eid FROM sr_rsrc WHERE batch = 1;
INSERT INTO sr_rl SELECT ts, i, tx, n, lc, bo, amount, cnt, v, eid FROM sr_rsrc WHERE batch = 2;
INSERT INTO sr_rl SELECT ts, i, tx, n, lc, bo, amount, cnt, v, eid FROM sr_rsrc WHERE batch = 3;
INSERT INTO sr_rh SELECT ts, i, tx, n, lc, bo, amount, cnt, v, eid FROM sr_rsrc WHERE batch <= 3;
CREATE VIEW sr_rexp AS
SELECT date_trunc('day', ts, 'America/New_York') AS ts, i, tx, n, lc, bo,
	   sum(amount) AS amount, sum(coalesce(cnt, 1)) AS cnt, max(v) AS v, NULL::text AS eid
FROM sr_rh GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO sr_cols VALUES
('rollup', 'ts', 'timestamptz', $${'2025-03-09 05:00:00+00','2025-03-09 00:00:00-05','2025-03-10 04:00:00+00','2025-03-10 04:00:00.000001+00','2025-03-09 23:59:59.999999-05','2025-03-15 04:00:00+00','2025-03-05'::date,'2025-03-12 00:00'::timestamp,now() - (now() - '2025-03-12 04:00:00+00'::timestamptz),sr_hour(250),sr_hour_pl(400),'infinity'::timestamptz,'-infinity'::timestamptz,NULL::timestamptz,'2025-03-21 04:00:00+00','2025-03-22 04:00:00+00'}$$,
	$${'2025-03-09 05:00:00+00'::timestamptz,'2025-03-10 04:00:00+00'::timestamptz,'2025-03-15 04:00:00+00'::timestamptz,"NULL",'2025-03-11 04:00:00+00'::timestamptz}$$),
('rollup', 'i', 'int', '{0,1,3,5,6,-1,NULL::int,2::bigint,2147483647,(-2147483648),2.5}', '{0,1,3,5,"NULL",2147483647}'),
('rollup', 'tx', 'text', $${'card','Card','éclair','Éclair','eclair','ß','ss','d','F',NULL::text,'card' COLLATE \"C\"}$$,
	$${'card','Card','éclair','ß','ss',"NULL",'zz'}$$),
('rollup', 'n', 'numeric', '{1.0,1.00,1,2.5,2.50,''NaN''::numeric,0,NULL::numeric,3::bigint}', '{1.0,2.50,''NaN''::numeric,"NULL",7}'),
('rollup', 'lc', 'smallint', '{0,1,2,3,NULL::smallint,1::int,2::bigint}', '{0,1,2,"NULL",5}'),
('rollup', 'bo', 'bool', '{true,false,NULL::bool}', '{true,false,"NULL"}');

-- predicate generation (operator counts go to sr_used)
CREATE TEMP TABLE sr_used (kind text);
CREATE FUNCTION sr_pick(a text[]) RETURNS text LANGUAGE sql
AS $$ SELECT a[1 + floor(random() * cardinality(a))::int] $$;

-- a leaf on table kind tab; with params, constants become $n of *ptypes / *pvals
CREATE FUNCTION sr_leaf(tab text, params bool, INOUT ptypes text[], INOUT pvals text[],
						OUT leaf text)
LANGUAGE plpgsql AS $$
DECLARE
	c sr_cols;
	k int;
	op text;
	a text;
	b2 text;
	lst text;
	kind text;
	r float8 := random();
BEGIN
	SELECT * INTO c FROM sr_cols WHERE sr_cols.tab = sr_leaf.tab
		ORDER BY col OFFSET floor(random() * (SELECT count(*) FROM sr_cols x WHERE x.tab = sr_leaf.tab))::int LIMIT 1;
	a := sr_pick(c.lits);
	IF params AND random() < 0.7 THEN
		ptypes := ptypes || c.typ;
		pvals := pvals || format('(%s)::%s', a, c.typ);
		a := '$' || cardinality(ptypes);
	END IF;
	IF r < 0.40 THEN
		op := sr_pick('{=,<>,<,<=,>,>=}');
		IF random() < 0.2 THEN
			leaf := format('(%s) %s %I', a, op, c.col);
			kind := 'const ' || op || ' col';
		ELSE
			leaf := format('%I %s (%s)', c.col, op, a);
			kind := 'col ' || op;
		END IF;
	ELSIF r < 0.52 THEN
		b2 := sr_pick(c.lits);
		kind := sr_pick('{BETWEEN,BETWEEN,BETWEEN,"NOT BETWEEN","BETWEEN SYMMETRIC"}');
		leaf := format('%I %s (%s) AND (%s)', c.col, kind, a, b2);
	ELSIF r < 0.67 THEN
		k := floor(random() * 5)::int;
		lst := '';
		FOR j IN 1..k LOOP
			lst := lst || CASE WHEN j > 1 THEN ', ' ELSE '' END || sr_pick(c.elems);
		END LOOP;
		IF k = 0 THEN
			kind := sr_pick('{"= ANY(''{}'')","= ANY(NULL)"}');
			leaf := format('%I = ANY(%s::%s[])', c.col,
						   CASE WHEN kind LIKE '%NULL%' THEN 'NULL' ELSE '''{}''' END, c.typ);
		ELSIF random() < 0.5 THEN
			kind := 'IN';
			leaf := format('%I IN (%s)', c.col, lst);
		ELSIF random() < 0.7 THEN
			kind := '= ANY(ARRAY)';
			leaf := format('%I = ANY(ARRAY[%s])', c.col, lst);
		ELSE
			kind := 'NOT IN';
			leaf := format('%I NOT IN (%s)', c.col, lst);
		END IF;
		IF lst LIKE '%NULL%' THEN
			kind := kind || ' with NULL';
		END IF;
	ELSIF r < 0.80 THEN
		kind := sr_pick('{"IS NULL","IS NOT NULL"}');
		leaf := format('%I %s', c.col, kind);
	ELSIF r < 0.85 THEN
		kind := sr_pick('{"= NULL","< NULL","<> NULL"}');
		leaf := format('%I %s', c.col, replace(kind, 'NULL', 'NULL::' || c.typ));
	ELSE
		-- conditions that cannot be pushed: they stay residual
		kind := 'residual';
		leaf := sr_pick(ARRAY[
			format('%I IS DISTINCT FROM (%s)', c.col, a),
			format('coalesce(%I::text, ''x'') < ''5''', c.col),
			format('(%I::text) LIKE ''%%1%%''', c.col),
			format('%I::text = %I::text', c.col, c.col)]);
	END IF;
	INSERT INTO sr_used VALUES (kind);
END $$;

-- a random tree of depth <= maxdepth
CREATE FUNCTION sr_tree(tab text, depth int, params bool, INOUT ptypes text[], INOUT pvals text[],
						OUT pred text)
LANGUAGE plpgsql AS $$
DECLARE
	n int;
	sub text;
	op text;
BEGIN
	IF depth >= 3 OR random() < 0.3 THEN
		SELECT * INTO ptypes, pvals, pred FROM sr_leaf(tab, params, ptypes, pvals);
		RETURN;
	END IF;
	op := sr_pick('{AND,AND,OR,OR,NOT}');
	INSERT INTO sr_used VALUES (op);
	IF op = 'NOT' THEN
		SELECT * INTO ptypes, pvals, sub FROM sr_tree(tab, depth + 1, params, ptypes, pvals);
		pred := format('NOT (%s)', sub);
		RETURN;
	END IF;
	n := 2 + floor(random() * 2)::int;
	pred := '';
	FOR j IN 1..n LOOP
		SELECT * INTO ptypes, pvals, sub FROM sr_tree(tab, depth + 1, params, ptypes, pvals);
		pred := pred || CASE WHEN j > 1 THEN ' ' || op || ' ' ELSE '' END || '(' || sub || ')';
	END LOOP;
END $$;

-- outcome counters of one phase
CREATE TEMP TABLE sr_result (phase text, predicates int, mismatches int, errors int,
							 sampled_plans int, ledgerscan_plans int, pushed_plans int,
							 gather_plans int);

-- runs npred random predicates on the raw ledger vs heap.  mode:
-- 'plain' (literal constants), 'generic' (PREPARE + EXECUTE, generic plans),
-- 'nestloop' (LATERAL with a small outer table, nested-loop parameters)
CREATE FUNCTION sr_run_raw(phase text, npred int, mode text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	pred text;
	ptypes text[];
	pvals text[];
	projs text[] := ARRAY['t::text', '(t.id, t.i, t.tx)::text', 't.id::text', 't.id::text',
						  '(t.ts, t.d, t.f, t.n)::text', '(t.tc, t.th, t.bo, t.lc, t.b, t.ad)::text'];
	proj text;
	q text;
	q_l text;
	q_h text;
	c_l bigint; s_l numeric; c_h bigint; s_h numeric;
	mism int := 0; errs int := 0; sampled int := 0; ls int := 0; pushed int := 0; gathers int := 0;
	plan text;
	line text;
	l_err text;
BEGIN
	FOR n IN 1..npred LOOP
		ptypes := '{}'; pvals := '{}';
		SELECT * INTO ptypes, pvals, pred FROM sr_tree('raw', 0, mode = 'generic', ptypes, pvals);
		proj := sr_pick(projs);
		IF mode = 'nestloop' THEN
			q := format('SELECT count(*), coalesce(sum(x.c), 0) + coalesce(sum(x.s), 0) FROM sr_k k,
						 LATERAL (SELECT count(*) AS c, sum(hashtextextended(%s, k.v)) AS s
								  FROM @TAB@ t WHERE (t.lc = k.lc OR t.tx = k.kt OR t.ts < k.tsv OR t.i = k.v)
								  AND (%s)) x', proj, pred);
		ELSE
			q := format('SELECT count(*), coalesce(sum(hashtextextended(%s, 0)), 0) FROM @TAB@ t WHERE %s',
						proj, pred);
		END IF;
		q_l := replace(q, '@TAB@', 'sr_l');
		q_h := replace(q, '@TAB@', 'sr_h');
		l_err := NULL;
		BEGIN
			IF mode = 'generic' THEN
				EXECUTE format('PREPARE sr_ph%s AS %s',
							   CASE WHEN cardinality(ptypes) > 0 THEN '(' || array_to_string(ptypes, ',') || ')' ELSE '' END, q_h);
				EXECUTE format('EXECUTE sr_ph%s', CASE WHEN cardinality(pvals) > 0 THEN '(' || array_to_string(pvals, ',') || ')' ELSE '' END)
					INTO c_h, s_h;
			ELSE
				EXECUTE q_h INTO c_h, s_h;
			END IF;
		EXCEPTION WHEN OTHERS THEN
			errs := errs + 1;
			IF current_setting('sr.debug', true) = 'on' THEN
				RAISE NOTICE 'error [%] %: % %', phase, SQLERRM, q_h, array_to_string(pvals, ', ');
			END IF;
			IF mode = 'generic' THEN EXECUTE 'DEALLOCATE ALL'; END IF;
			CONTINUE;
		END;
		IF current_setting('sr.debug', true) = 'trace' THEN
			RAISE NOTICE 'run [%] % %', phase, q_l, array_to_string(pvals, ', ');
		END IF;
		BEGIN
			IF mode = 'generic' THEN
				EXECUTE format('PREPARE sr_pl%s AS %s',
							   CASE WHEN cardinality(ptypes) > 0 THEN '(' || array_to_string(ptypes, ',') || ')' ELSE '' END, q_l);
				EXECUTE format('EXECUTE sr_pl%s', CASE WHEN cardinality(pvals) > 0 THEN '(' || array_to_string(pvals, ',') || ')' ELSE '' END)
					INTO c_l, s_l;
			ELSE
				EXECUTE q_l INTO c_l, s_l;
			END IF;
		EXCEPTION WHEN OTHERS THEN
			l_err := SQLERRM;
		END;
		IF l_err IS NOT NULL OR c_l IS DISTINCT FROM c_h OR s_l IS DISTINCT FROM s_h THEN
			mism := mism + 1;
			IF mism <= 5 THEN
				RAISE NOTICE 'mismatch [%] ledger % % heap % %: %', phase, c_l, coalesce(l_err, ''), c_h,
					CASE WHEN mode = 'generic' THEN 'params ' || array_to_string(pvals, ', ') ELSE '' END,
					q_l;
			END IF;
		END IF;
		-- the plans of a sample of the ledger queries
		IF n % 5 = 0 THEN
			sampled := sampled + 1;
			plan := '';
			FOR line IN EXECUTE CASE WHEN mode = 'generic' THEN format('EXPLAIN (COSTS OFF) EXECUTE sr_pl%s',
							CASE WHEN cardinality(pvals) > 0 THEN '(' || array_to_string(pvals, ',') || ')' ELSE '' END)
						ELSE 'EXPLAIN (COSTS OFF) ' || q_l END LOOP
				plan := plan || line || E'\n';
			END LOOP;
			IF plan LIKE '%LedgerScan%' THEN ls := ls + 1; END IF;
			IF plan LIKE '%Ledger Filter%' THEN pushed := pushed + 1; END IF;
			IF plan LIKE '%Gather%' THEN gathers := gathers + 1; END IF;
		END IF;
		IF mode = 'generic' THEN EXECUTE 'DEALLOCATE ALL'; END IF;
	END LOOP;
	INSERT INTO sr_result VALUES (phase, npred, mism, errs, sampled, ls, pushed, gathers);
END $$;

-- the same on the rollup ledger vs heap GROUP BY (time and dimensions)
CREATE FUNCTION sr_run_rollup(phase text, npred int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	pred text;
	ptypes text[];
	pvals text[];
	q text;
	l_err text;
	c_l bigint; s_l numeric; c_h bigint; s_h numeric;
	mism int := 0; errs int := 0; sampled int := 0; ls int := 0; pushed int := 0; gathers int := 0;
	plan text;
	line text;
BEGIN
	FOR n IN 1..npred LOOP
		ptypes := '{}'; pvals := '{}';
		SELECT * INTO ptypes, pvals, pred FROM sr_tree('rollup', 0, false, ptypes, pvals);
		-- numeric dimensions compare by value (1.0 and 1.00 are one key)
		q := 'SELECT count(*), coalesce(sum(hashtextextended((t.ts, t.i, t.tx, trim_scale(t.n), t.lc, t.bo,
					t.amount, t.cnt, t.v, t.eid)::text, 0)), 0) FROM @TAB@ t WHERE ' || pred;
		BEGIN
			EXECUTE replace(q, '@TAB@', 'sr_rexp') INTO c_h, s_h;
		EXCEPTION WHEN OTHERS THEN
			errs := errs + 1;
			IF current_setting('sr.debug', true) = 'on' THEN
				RAISE NOTICE 'error [%] %: %', phase, SQLERRM, pred;
			END IF;
			CONTINUE;
		END;
		l_err := NULL;
		BEGIN
			EXECUTE replace(q, '@TAB@', 'sr_rl') INTO c_l, s_l;
		EXCEPTION WHEN OTHERS THEN
			l_err := SQLERRM;
		END;
		IF l_err IS NOT NULL OR c_l IS DISTINCT FROM c_h OR s_l IS DISTINCT FROM s_h THEN
			mism := mism + 1;
			IF mism <= 5 THEN
				RAISE NOTICE 'mismatch [%] ledger % % heap %: %', phase, c_l, coalesce(l_err, ''), c_h,
					replace(q, '@TAB@', 'sr_rl');
			END IF;
		END IF;
		IF n % 5 = 0 THEN
			sampled := sampled + 1;
			plan := '';
			FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) SELECT * FROM sr_rl WHERE ' || pred LOOP
				plan := plan || line || E'\n';
			END LOOP;
			IF plan LIKE '%LedgerScan%' THEN ls := ls + 1; END IF;
			IF plan LIKE '%Ledger Filter%' THEN pushed := pushed + 1; END IF;
			IF plan LIKE '%Gather%' THEN gathers := gathers + 1; END IF;
		END IF;
	END LOOP;
	INSERT INTO sr_result VALUES (phase, npred, mism, errs, sampled, ls, pushed, gathers);
END $$;

SELECT setseed(0.4242);

-- phase 1: inside a transaction whose last rows are still buffered (and
-- one segment it wrote itself)
BEGIN;
INSERT INTO sr_l SELECT id, i, b, lc, n, f, tx, tc, th, bo, d, ts, ad FROM sr_src WHERE batch = 6;
INSERT INTO sr_h SELECT id, i, b, lc, n, f, tx, tc, th, bo, d, ts, ad FROM sr_src WHERE batch = 6;
INSERT INTO sr_rl SELECT ts, i, tx, n, lc, bo, amount, cnt, v, eid FROM sr_rsrc WHERE batch = 4;
INSERT INTO sr_rh SELECT ts, i, tx, n, lc, bo, amount, cnt, v, eid FROM sr_rsrc WHERE batch = 4;
SELECT sr_run_raw('raw, buffered rows', 400, 'plain');
SELECT sr_run_rollup('rollup, buffered rows', 150);
COMMIT;

-- phase 2: everything in segments
SELECT sr_run_raw('raw', 700, 'plain');
SET ledger.enable_custom_scan = off;
SELECT sr_run_raw('raw, custom scan off', 150, 'plain');
RESET ledger.enable_custom_scan;
SET plan_cache_mode = force_generic_plan;
SELECT sr_run_raw('raw, generic plans', 250, 'generic');
RESET plan_cache_mode;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
SELECT sr_run_raw('raw, nested loop', 20, 'nestloop');
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT sr_run_raw('raw, parallel', 60, 'parallel');
SELECT sr_run_rollup('rollup, parallel', 60);
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SELECT sr_run_rollup('rollup', 300);

-- the same queries with their aggregates computed inside the scan
SET ledger.enable_aggregate_pushdown = on;
SELECT sr_run_raw('raw, aggregates in the scan', 400, 'plain');
SET plan_cache_mode = force_generic_plan;
SELECT sr_run_raw('raw, aggregates in the scan, generic', 150, 'generic');
RESET plan_cache_mode;
SELECT sr_run_rollup('rollup, aggregates in the scan', 150);
SET ledger.enable_aggregate_pushdown = off;

-- conditions on a rollup ledger's metrics and key cannot be answered by
-- stored rows (a merged metric is the sum of stored parts; the key reads as
-- NULL): they must not prune
CREATE FUNCTION sr_rollup_same(pred text, OUT expected_rows bigint, OUT same bool)
LANGUAGE plpgsql AS $$
DECLARE
	a bigint; b bigint;
BEGIN
	EXECUTE 'SELECT count(*) FROM sr_rexp WHERE ' || pred INTO expected_rows;
	EXECUTE format('SELECT count(*) FROM (SELECT * FROM sr_rexp WHERE %1$s
					EXCEPT ALL SELECT * FROM sr_rl WHERE %1$s) x', pred) INTO a;
	EXECUTE format('SELECT count(*) FROM (SELECT * FROM sr_rl WHERE %1$s
					EXCEPT ALL SELECT * FROM sr_rexp WHERE %1$s) x', pred) INTO b;
	same := a = 0 AND b = 0;
END $$;
SELECT p AS metric_condition, (sr_rollup_same(p)).*
FROM unnest(ARRAY['amount > 1500', 'amount BETWEEN 600 AND 900 AND i = 1', 'cnt = 2',
				  'cnt IN (4, 5) OR v > 9990', 'NOT (amount < 1200)', 'v = 9990',
				  'eid IS NULL', 'eid IS NOT NULL', 'cnt IS NULL',
				  'ts >= ''2025-03-10 04:00+00'' AND amount >= 1000']) p;

-- outcomes: no mismatch anywhere; LedgerScan was used and pushed conditions
SELECT phase, predicates, mismatches, errors FROM sr_result ORDER BY phase;
-- (of every 5th query's plan: LedgerScan with pushed conditions in most)
SELECT phase, sampled_plans > 0 AND pushed_plans >= sampled_plans * 0.4 AS ledgerscan_pushes_conditions
FROM sr_result WHERE phase NOT LIKE '%custom scan off%' AND phase NOT LIKE '%aggregates in the scan%' ORDER BY phase;
SELECT ledgerscan_plans = 0 AS no_ledgerscan_when_off FROM sr_result
WHERE phase LIKE '%custom scan off%';
SELECT phase, gather_plans > 0 AS parallel_plans_seen FROM sr_result
WHERE phase LIKE '%parallel' ORDER BY phase;
SELECT sum(predicates) AS predicates, sum(mismatches) AS mismatches FROM sr_result;
-- how often each kind of leaf and node was generated
SELECT kind, count(*) FROM sr_used GROUP BY kind ORDER BY kind COLLATE "C";

-- clean up
DROP VIEW sr_rexp;
DROP TABLE sr_src, sr_h, sr_l, sr_k, sr_cols, sr_rsrc, sr_rh, sr_rl;
DO $$
DECLARE f regprocedure;
BEGIN
	FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
			 WHERE p.proname LIKE 'sr\_%' AND p.pronamespace = 'public'::regnamespace
	LOOP
		EXECUTE 'DROP FUNCTION ' || f;
	END LOOP;
END $$;

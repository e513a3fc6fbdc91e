#
# 002_dump_restore.pl
#	  pg_dump of a database holding ledgers, restored into fresh databases
#	  (custom format with pg_restore, parallel restore, and plain SQL through
#	  psql), gives the same rows; the dump holds the ledgers' logical rows,
#	  never the contents of the extension's segment catalogs.
#
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init(extra => [ '--encoding=UTF8', '--no-locale' ]);
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql(
	'src', q{
	CREATE EXTENSION ledger;
	CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
	CREATE DOMAIN posint AS int CHECK (VALUE > 0);
	CREATE TABLE merchants (merchant_id int PRIMARY KEY, name text);
	INSERT INTO merchants SELECT i, 'merchant ' || i FROM generate_series(1, 50) i;
	CREATE TABLE payments (
		ts          timestamptz NOT NULL,
		merchant_id int,
		method      text,
		amount      numeric,
		attrs       jsonb,
		tags        text[],
		feeling     mood,
		n           posint,
		big         text,
		dropped     int
	) USING ledger;
	SET ledger.segment_rows = 10000;
	INSERT INTO payments
	SELECT '2024-01-01 00:00:00+00'::timestamptz + i * interval '17 s',
	       CASE WHEN i % 13 = 0 THEN NULL ELSE 1 + i % 50 END,
	       (ARRAY['card', 'sepa', 'Überweisung'])[1 + i % 3],
	       round(i / 7.0, i % 4),
	       CASE WHEN i % 5 = 0 THEN NULL ELSE jsonb_build_object('i', i, 'k', 'v' || i % 9) END,
	       ARRAY['t' || i % 3],
	       (ARRAY['sad', 'ok', 'happy'])[1 + i % 3]::mood,
	       1 + i % 100,
	       CASE WHEN i % 10000 = 0 THEN repeat(md5(i::text), 5000) ELSE NULL END,
	       i
	FROM generate_series(1, 50000) i;
	ALTER TABLE payments DROP COLUMN dropped;
	ALTER TABLE payments ADD COLUMN region text DEFAULT 'eu';
	INSERT INTO payments (ts, merchant_id, method, amount, region)
	VALUES ('2024-03-01', 1, 'card', 1.5, 'us');
	CREATE TABLE empty_ledger (id int, v text) USING ledger;
	CREATE TABLE "Mixed Case Ledger" ("Col" int) USING ledger;
	INSERT INTO "Mixed Case Ledger" SELECT generate_series(1, 10);
	-- keyed ledgers: a rollup with min/max and corrections, a raw one
	CREATE TABLE keyed_1h (ts timestamptz NOT NULL, merchant_id int, amount bigint,
		lo bigint, hi bigint, n bigint, event_id text, version bigint) USING ledger;
	SELECT ledger.set_rollup('keyed_1h', 'ts', '1 hour',
		'{"amount":"sum","lo":"min","hi":"max","n":"count"}',
		key_column => 'event_id', version_column => 'version');
	SELECT ledger.set_key_retention('keyed_1h', '100000 days', 'reject');
	INSERT INTO keyed_1h SELECT '2024-01-01'::timestamptz + i * interval '7 min', i % 5,
		i, i, i, NULL, 'e' || i % 700, i / 700 FROM generate_series(1, 2000) i;
	SELECT ledger.retract('keyed_1h', 'e' || i) FROM generate_series(1, 50) i;
	CREATE TABLE keyed_raw (id text, v int, note text) USING ledger;
	SELECT ledger.set_key('keyed_raw', 'id', 'v');
	INSERT INTO keyed_raw SELECT 'k' || i % 300, i / 300, 'n' || i FROM generate_series(1, 1000) i;
	SELECT ledger.commit_offset('kafka:payments', 0, 1000);
	SELECT ledger.commit_offset('kafka:payments', 1, 42);
	CREATE VIEW payments_by_method AS
	  SELECT method, count(*) AS n, sum(amount) AS amount FROM payments GROUP BY method;
});

# an ordered dump of every table and view of a database
sub dump_of
{
	my ($db) = @_;
	my $out = '';
	foreach my $q (
		'SELECT md5(string_agg(t::text, \'|\' ORDER BY t::text)) || \' \' || count(*) FROM payments t',
		'SELECT count(*) FROM empty_ledger',
		'SELECT md5(string_agg(t::text, \'|\' ORDER BY t::text)) FROM "Mixed Case Ledger" t',
		'SELECT md5(string_agg(t::text, \'|\' ORDER BY t::text)) FROM merchants t',
		'SELECT string_agg(t::text, \'|\' ORDER BY t::text) FROM payments_by_method t',
		'SELECT md5(string_agg(t::text, \'|\' ORDER BY t::text)) || \' \' || count(*) FROM keyed_1h t',
		'SELECT md5(string_agg(t::text, \'|\' ORDER BY t::text)) || \' \' || count(*) FROM keyed_raw t',
		'SELECT string_agg(source || partition || \'=\' || last_offset, \',\' ORDER BY source, partition) FROM ledger.offsets',
		q{SELECT string_agg(ledger || ':' || coalesce(key_column, '-') || ':' || coalesce(version_column, '-') || ':' || coalesce(key_retention::text, '-') || ':' || coalesce(late_events, '-'), ',' ORDER BY ledger::text) FROM ledger.tables},
		q{SELECT string_agg(c.relname || '=' || a.amname, ',' ORDER BY c.relname)
		  FROM pg_class c JOIN pg_am a ON a.oid = c.relam
		  WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'})
	{
		$out .= $node->safe_psql($db, $q) . "\n";
	}
	return $out;
}

my $expected = dump_of('src');
like($expected, qr/payments=ledger/, 'the source tables are ledgers');

my $tmp = PostgreSQL::Test::Utils::tempdir;

# custom format, pg_restore
$node->command_ok([ 'pg_dump', '-Fc', '-f', "$tmp/src.dump", 'src' ],
	'pg_dump -Fc');
my $list = `pg_restore -l $tmp/src.dump`;
unlike($list, qr/TABLE DATA ledger segment/,
	'the dump holds no contents of ledger.segment');
unlike($list, qr/TABLE DATA ledger segment_column/,
	'the dump holds no contents of ledger.segment_column');
like($list, qr/TABLE DATA public payments/, 'the dump holds the rows of the ledger');

$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '-d', 'dst', "$tmp/src.dump" ],
	'pg_restore');
is(dump_of('dst'), $expected, 'pg_restore gives the same rows');
is( $node->safe_psql(
		'dst',
		"SELECT sum(rows) FROM ledger.segments WHERE ledger = 'payments'::regclass"),
	'50001',
	'the restored ledger has segments holding every row');

# parallel restore in one go
$node->safe_psql('postgres', 'CREATE DATABASE dst_parallel');
$node->command_ok(
	[
		'pg_restore', '--exit-on-error', '-j', '2', '-d', 'dst_parallel',
		"$tmp/src.dump"
	],
	'pg_restore -j 2');
is(dump_of('dst_parallel'), $expected, 'parallel pg_restore gives the same rows');

# single transaction restore
$node->safe_psql('postgres', 'CREATE DATABASE dst_single');
$node->command_ok(
	[
		'pg_restore', '--exit-on-error', '--single-transaction', '-d',
		'dst_single', "$tmp/src.dump"
	],
	'pg_restore --single-transaction');
is(dump_of('dst_single'), $expected,
	'single-transaction pg_restore gives the same rows');

# plain SQL through psql
$node->command_ok([ 'pg_dump', '-f', "$tmp/src.sql", 'src' ], 'pg_dump plain');
$node->safe_psql('postgres', 'CREATE DATABASE dst_plain');
$node->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'dst_plain', '-f', "$tmp/src.sql" ],
	'psql restores the plain dump');
is(dump_of('dst_plain'), $expected, 'plain dump and psql give the same rows');

# the restored raw ledger's keys are applied again: a replay is a no-op
foreach my $db ('dst', 'dst_parallel', 'dst_single', 'dst_plain')
{
	$node->safe_psql($db,
		q{INSERT INTO keyed_raw SELECT 'k' || i % 300, i / 300, 'n' || i FROM generate_series(1, 1000) i});
	is($node->safe_psql($db, 'SELECT count(*) FROM keyed_raw'),
		'300', "$db: a replay into the restored keyed raw ledger is a no-op");
}

# dumping the restored database gives the same dump again
$node->command_ok([ 'pg_dump', '-f', "$tmp/dst.sql", 'dst_plain' ],
	'pg_dump of the restored database');
# (less the random keys of \restrict and \unrestrict)
sub dump_text
{
	my ($file) = @_;
	return join("\n", grep { !/^\\(un)?restrict / } split(/\n/, slurp_file($file)));
}
is(dump_text("$tmp/dst.sql"), dump_text("$tmp/src.sql"),
	'the restored database dumps identically');

# the restored ledger is a working ledger
$node->safe_psql('dst',
	"INSERT INTO payments (ts, merchant_id, method, amount) VALUES ('2024-04-01', 2, 'sepa', 2)"
);
is($node->safe_psql('dst', 'SELECT count(*) FROM payments'),
	'50002', 'the restored ledger takes new rows');

$node->stop;
done_testing();

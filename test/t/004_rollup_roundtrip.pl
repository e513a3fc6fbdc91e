#
# 004_rollup_roundtrip.pl
#	  A rollup ledger survives pg_dump + pg_restore into a fresh database, and
#	  COPY TO + COPY FROM into a new ledger with the same configuration: both
#	  give the same query results, and the restored ledger keeps its rollup
#	  configuration and counts every event exactly once.
#
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('rollup_roundtrip');
$node->init(extra => [ '--encoding=UTF8', '--no-locale' ]);
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql(
	'src', q{
	CREATE EXTENSION ledger;
	CREATE TABLE payments_1h (
		ts timestamptz NOT NULL, merchant_id int, method text, status text,
		amount bigint, fee numeric, events bigint, event_id text, version bigint
	) USING ledger;
	SELECT ledger.set_rollup('payments_1h', time_column => 'ts',
		granularity => '1 hour', time_zone => 'Europe/Amsterdam',
		metrics => '{"amount":"sum","fee":"sum","events":"count"}',
		key_column => 'event_id', version_column => 'version');
	SET ledger.segment_rows = 5000;
	INSERT INTO payments_1h
	SELECT '2026-03-28 00:00:00+00'::timestamptz + (i % 7200) * interval '37 s',
		   CASE WHEN i % 11 = 0 THEN NULL ELSE i % 40 END,
		   (ARRAY['card', 'sepa', 'ideal'])[1 + i % 3],
		   (ARRAY['approved', 'declined'])[1 + (i % 9 = 0)::int],
		   (i * 7919) % 100000 - 5000,
		   (i % 13) / 4.0,
		   NULL, 'e' || i, 1
	FROM generate_series(1, 60000) i;
	INSERT INTO payments_1h (ts, merchant_id, method, status, amount, fee, events)
	SELECT '2026-03-29 01:30:00+00', 1, 'card', 'approved', 10, 1, 3
	FROM generate_series(1, 3);
	-- the same rows in a heap table, rolled up by plain SQL
	CREATE TABLE raw AS
	SELECT '2026-03-28 00:00:00+00'::timestamptz + (i % 7200) * interval '37 s' AS ts,
		   CASE WHEN i % 11 = 0 THEN NULL ELSE i % 40 END AS merchant_id,
		   (ARRAY['card', 'sepa', 'ideal'])[1 + i % 3] AS method,
		   (ARRAY['approved', 'declined'])[1 + (i % 9 = 0)::int] AS status,
		   (i * 7919) % 100000 - 5000 AS amount, (i % 13) / 4.0 AS fee, 1 AS events
	FROM generate_series(1, 60000) i
	UNION ALL
	SELECT '2026-03-29 01:30:00+00', 1, 'card', 'approved', 10, 1, 3
	FROM generate_series(1, 3);
});

my $query = q{SELECT ts, merchant_id, method, status, amount, fee, events,
	event_id, version FROM payments_1h ORDER BY ts, merchant_id, method, status};
my $agg = q{SELECT count(*), sum(amount), sum(fee), sum(events) FROM payments_1h};
my $expected = $node->safe_psql('src', $query);
my $expected_agg = $node->safe_psql('src', $agg);
is( $expected_agg,
	$node->safe_psql(
		'src', q{SELECT count(*), sum(amount), sum(fee), sum(events) FROM
				 (SELECT date_trunc('hour', ts, 'Europe/Amsterdam'), merchant_id,
						 method, status, sum(amount) AS amount, sum(fee) AS fee,
						 sum(events) AS events
				  FROM raw GROUP BY 1, 2, 3, 4) g}),
	'source ledger equals heap GROUP BY');

# pg_dump + pg_restore into a fresh database
my $dump = $node->basedir . '/rollup.dump';
$node->command_ok(
	[ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('src') ],
	'pg_dump of the rollup ledger');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->command_ok(
	[ 'pg_restore', '-d', $node->connstr('dst'), $dump ],
	'pg_restore into a fresh database');
is($node->safe_psql('dst', $query), $expected, 'restored rows are identical');
is($node->safe_psql('dst', $agg), $expected_agg, 'restored totals are identical');
is( $node->safe_psql(
		'dst', q{SELECT time_column, granularity, time_zone, metrics::text,
				 key_column, version_column FROM ledger.tables
				 WHERE ledger = 'payments_1h'::regclass}),
	'ts|01:00:00|Europe/Amsterdam|{"fee": "sum", "amount": "sum", "events": "count"}|event_id|version',
	'restored rollup configuration');
is($node->safe_psql('dst', q{SELECT rows_ingested FROM ledger.stats('payments_1h')}),
	'60009', 'every event counted once after restore');

# further inserts into the restored ledger still roll up
$node->safe_psql('dst',
	q{INSERT INTO payments_1h (ts, merchant_id, method, status, amount, fee)
	  VALUES ('2026-03-29 01:45:00+00', 1, 'card', 'approved', 5, 0)});
is( $node->safe_psql(
		'dst', q{SELECT amount, events FROM payments_1h
				 WHERE ts = '2026-03-29 01:00:00+00' AND merchant_id = 1
				   AND method = 'card' AND status = 'approved'}),
	$node->safe_psql(
		'src', q{SELECT amount + 5, events + 1 FROM payments_1h
				 WHERE ts = '2026-03-29 01:00:00+00' AND merchant_id = 1
				   AND method = 'card' AND status = 'approved'}),
	'restored ledger keeps rolling up');

# COPY TO + COPY FROM into a new ledger with the same configuration
my $copyfile = $node->basedir . '/rollup.copy';
$node->safe_psql(
	'src', qq{
	COPY payments_1h TO '$copyfile';
	CREATE TABLE payments_copy (LIKE payments_1h) USING ledger;
	SELECT ledger.set_rollup('payments_copy', time_column => 'ts',
		granularity => '1 hour', time_zone => 'Europe/Amsterdam',
		metrics => '{"amount":"sum","fee":"sum","events":"count"}',
		key_column => 'event_id', version_column => 'version');
	COPY payments_copy FROM '$copyfile';
});
(my $copy_query = $query) =~ s/payments_1h/payments_copy/;
(my $copy_agg = $agg) =~ s/payments_1h/payments_copy/;
is($node->safe_psql('src', $copy_query), $expected, 'COPY round trip rows are identical');
is($node->safe_psql('src', $copy_agg), $expected_agg, 'COPY round trip totals are identical');
is($node->safe_psql('src', q{SELECT rows_ingested FROM ledger.stats('payments_copy')}),
	'60009', 'COPY round trip counts every event once');

$node->stop;
done_testing();

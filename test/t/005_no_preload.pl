#
# 005_no_preload.pl
#	  Without shared_preload_libraries everything but the background worker
#	  works: CREATE EXTENSION, ledgers, rollup, LedgerScan, ledger.compact().
#
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# TEMP_CONFIG of the suite preloads the library; this node must not
delete $ENV{TEMP_CONFIG};
my $node = PostgreSQL::Test::Cluster->new('no_preload');
$node->init;
$node->start;

is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'), '',
	'library not preloaded');
$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION ledger;
	CREATE TABLE t (ts timestamptz NOT NULL, k int, v bigint) USING ledger;
	SELECT ledger.set_rollup('t', 'ts', '1 hour', '{"v":"sum"}');
	INSERT INTO t SELECT '2026-01-01'::timestamptz + g * interval '1 minute', g % 3, 1
	FROM generate_series(1, 600) g;
	INSERT INTO t SELECT '2026-01-01'::timestamptz + g * interval '1 minute', g % 3, 1
	FROM generate_series(1, 600) g;
});
is($node->safe_psql('postgres', 'SELECT count(*), sum(v) FROM t WHERE k = 1'),
	'10|400', 'rollup ledger reads back, pushdown works');
is( $node->safe_psql(
		'postgres', 'SELECT segments_in > segments_out FROM ledger.compact(\'t\')'),
	't', 'ledger.compact() works without the worker');
is($node->safe_psql('postgres', 'SELECT count(*), sum(v) FROM t WHERE k = 1'),
	'10|400', 'same result after compaction');

# a fresh session that never touched a ledger drops one cleanly
$node->safe_psql('postgres', 'DROP TABLE t');
is( $node->safe_psql(
		'postgres', q{SELECT count(*) FROM ledger.segment s
			WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relfilenode = s.storage)}),
	'0', 'no orphaned segments after DROP in a fresh session');

$node->stop;
done_testing();

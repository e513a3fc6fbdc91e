#
# 003_replica.pl
#	  A streaming replica reads the same rows from a ledger as its primary:
#	  ledgers that existed when the base backup was taken, ledgers created
#	  and loaded afterwards, TRUNCATE, rewrites and DROP.
#
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1, extra => [ '--encoding=UTF8', '--no-locale' ]);
$primary->start;

$primary->safe_psql(
	'postgres', q{
	CREATE EXTENSION ledger;
	CREATE TABLE before_backup (id int, v text) USING ledger;
	INSERT INTO before_backup SELECT i, 'v' || i FROM generate_series(1, 1000) i;
	CREATE TABLE never_written (id int) USING ledger;
});

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# an ordered dump of a table
sub state_of
{
	my ($node, $table) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '-') FROM $table t"
	);
}

# the primary loads data after the backup
$primary->safe_psql(
	'postgres', q{
	INSERT INTO before_backup SELECT i, 'after backup ' || i FROM generate_series(1001, 2000) i;
	CREATE TABLE events (id bigint, ts timestamptz, amount numeric, attrs jsonb, note text)
	  USING ledger;
	SET ledger.segment_rows = 20000;
	INSERT INTO events
	SELECT i, '2024-01-01 00:00:00+00'::timestamptz + i * interval '1 min', i / 100.0,
	       jsonb_build_object('k', i % 7),
	       CASE WHEN i % 25000 = 0 THEN repeat(md5(i::text), 4000) ELSE 'n' || i % 100 END
	FROM generate_series(1, 100000) i;
	CREATE TABLE truncated (id int) USING ledger;
	INSERT INTO truncated SELECT generate_series(1, 100);
	TRUNCATE truncated;
	INSERT INTO truncated SELECT generate_series(1, 5);
	CREATE TABLE rewritten (id int, v int) USING ledger;
	INSERT INTO rewritten SELECT i, i FROM generate_series(1, 1000) i;
	ALTER TABLE rewritten ADD COLUMN w int DEFAULT 5;
	VACUUM FULL rewritten;
	VACUUM FULL before_backup;
	CREATE TABLE dropped (id int) USING ledger;
	INSERT INTO dropped SELECT generate_series(1, 100);
	DROP TABLE dropped;
	BEGIN;
	INSERT INTO events VALUES (-1, now(), 0, NULL, 'rolled back');
	ROLLBACK;
});
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));

foreach my $table ('before_backup', 'never_written', 'events', 'truncated',
	'rewritten')
{
	is(state_of($standby, $table), state_of($primary, $table),
		"the replica reads the same rows of $table");
}
like(state_of($standby, 'events'), qr/^100000 /, 'the replica reads 100000 events');
is( $standby->safe_psql(
		'postgres',
		"SELECT count(*) || ' ' || sum(rows) FROM ledger.segments WHERE ledger = 'events'::regclass"
	),
	$primary->safe_psql(
		'postgres',
		"SELECT count(*) || ' ' || sum(rows) FROM ledger.segments WHERE ledger = 'events'::regclass"
	),
	'the replica sees the same segments');
is( $standby->safe_psql(
		'postgres',
		"SELECT count(*) FROM ledger.segment s WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relfilenode = s.storage)"
	),
	'0',
	'no orphaned segments on the replica');
# the replica refuses writes to a ledger
my ($ret, $stdout, $stderr) =
  $standby->psql('postgres', 'INSERT INTO events VALUES (0, now(), 0, NULL, NULL)');
isnt($ret, 0, 'INSERT on the replica fails');
like($stderr, qr/read-only transaction/, 'as read-only');

# aggregates on the replica equal the primary's
my $agg = q{SELECT sum(amount), min(ts), max(ts), count(DISTINCT note), count(attrs) FROM events};
is($standby->safe_psql('postgres', $agg), $primary->safe_psql('postgres', $agg),
	'aggregates agree');

# promotion: the replica becomes a primary and writes to the ledger
$standby->promote;
$standby->safe_psql('postgres',
	"INSERT INTO events VALUES (100001, now(), 1, NULL, 'after promotion')");
like(state_of($standby, 'events'), qr/^100001 /,
	'the promoted replica writes to the ledger');
is( $standby->safe_psql(
		'postgres', q{
	SELECT count(*) FROM ledger.segment a
	JOIN ledger.segment b ON a.storage = b.storage AND a.segment_id < b.segment_id
	WHERE a.first_row < b.first_row + b.row_count
	  AND b.first_row < a.first_row + a.row_count}),
	'0',
	'row numbers after promotion do not overlap those before');

$standby->stop;
$primary->stop;
done_testing();

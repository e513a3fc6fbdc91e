#
# 001_crash_recovery.pl
#	  Kills the server with SIGKILL in the middle of a large COPY into a
#	  ledger, restarts it, and checks that every committed row is there and
#	  none of the uncommitted ones.
#
# NOTES
#	  The COPY runs with a small ledger.segment_rows so that its transaction
#	  has already written several segments (catalog rows and TOAST data)
#	  when the server dies.  The postmaster is killed with SIGKILL, and so
#	  are its children (as in a power loss): a surviving backend would keep
#	  the old shared memory attached and the restart would fail.
#
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $big_rows = 3_000_000;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init(extra => [ '--encoding=UTF8', '--no-locale' ]);
$node->append_conf('postgresql.conf', "max_wal_size = '1GB'\n");
$node->start;

# pids of the processes whose parent is $ppid (from /proc)
sub children_of
{
	my ($ppid) = @_;
	my @pids;
	opendir(my $dh, '/proc') or die "could not open /proc: $!";
	foreach my $pid (grep { /^\d+$/ } readdir($dh))
	{
		open(my $fh, '<', "/proc/$pid/stat") or next;
		my $stat = <$fh>;
		close($fh);
		# the command name may hold spaces: the fields after it follow ')'
		push @pids, $pid if $stat =~ /\)\s+\S+\s+(\d+)/ && $1 == $ppid;
	}
	closedir($dh);
	return @pids;
}

# the state letter of a process, or '' once it is gone
sub proc_state
{
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/stat") or return '';
	my $stat = <$fh>;
	close($fh);
	return (defined $stat && $stat =~ /\)\s+(\S)/) ? $1 : '';
}

# waits until none of the given processes runs any more; returns the pids
# still left as zombies after a while (an init that reaps slowly)
sub wait_gone
{
	my @pids = @_;
	my @zombies;
	foreach my $try (1 .. 300)
	{
		my @left = grep { -e "/proc/$_/stat" } @pids;
		# a process may exit between the two looks: read without dying
		@zombies = grep { proc_state($_) eq 'Z' } @left;
		@left = grep { proc_state($_) ne '' } @left;
		return () unless @left;
		return @zombies if @zombies == @left && $try > 50;
		select(undef, undef, undef, 0.1);
	}
	die "processes @pids did not exit";
}

# count and checksum of the ledger's rows
sub state_of
{
	my ($table) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) || ' ' || coalesce(md5(string_agg(id || ':' || coalesce(payload, '-'), ',' ORDER BY id)), '-') FROM $table"
	);
}

$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION ledger;
	CREATE TABLE ev (id bigint, ts timestamptz, payload text) USING ledger;
	CREATE TABLE ev_heap (id bigint, ts timestamptz, payload text);
	CREATE TABLE fresh (id bigint, ts timestamptz, payload text) USING ledger;
});

# committed rows: INSERT, COPY, a transaction that flushed several segments
# with a savepoint rolled back; the same rows go to a heap table
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $small_file = "$tmp/small.data";
my $big_file = "$tmp/big.data";
$node->safe_psql(
	'postgres', qq{
	INSERT INTO ev SELECT i, '2024-01-01'::timestamptz + i * interval '1 s', 'insert ' || i
	  FROM generate_series(1, 10000) i;
	COPY (SELECT i, '2024-01-01'::timestamptz + i * interval '1 s', 'copy ' || i
	        FROM generate_series(10001, 20000) i) TO '$small_file';
	COPY ev FROM '$small_file';
	BEGIN;
	SET LOCAL ledger.segment_rows = 1000;
	INSERT INTO ev SELECT i, now(), CASE WHEN i % 7 = 0 THEN NULL ELSE 'tx ' || i END
	  FROM generate_series(20001, 25000) i;
	SAVEPOINT s;
	INSERT INTO ev SELECT i, now(), 'rolled back' FROM generate_series(25001, 28000) i;
	ROLLBACK TO SAVEPOINT s;
	COMMIT;
	INSERT INTO ev_heap SELECT * FROM ev;
	COPY (SELECT i, '2024-02-01'::timestamptz + i * interval '1 ms', repeat('u', 20) || i
	        FROM generate_series(1000001, 1000000 + $big_rows) i) TO '$big_file';
});
chmod 0644, $big_file, $small_file;

my $committed = state_of('ev');
is($committed, state_of('ev_heap'), 'committed rows equal the heap copy');
like($committed, qr/^25000 /, '25000 committed rows before the crash');

my $catalog_bytes = $node->safe_psql('postgres',
	"SELECT pg_total_relation_size('ledger.segment_column')");

# the big COPY, in a background session, in one transaction
my ($in, $out, $err) = ('', '', '');
my $copy = IPC::Run::start(
	[
		'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c',
		"SET ledger.segment_rows = 100000; COPY ev FROM '$big_file'"
	],
	'<' => \$in,
	'>' => \$out,
	'2>' => \$err);

# and the very first rows of a ledger that never had any, in another
# background session
my ($in2, $out2, $err2) = ('', '', '');
my $copy_fresh = IPC::Run::start(
	[
		'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c',
		"SET ledger.segment_rows = 100000; COPY fresh FROM '$big_file'"
	],
	'<' => \$in2,
	'>' => \$out2,
	'2>' => \$err2);

# wait until the COPY has flushed a few segments
$node->poll_query_until('postgres',
	"SELECT count(*) = 2 AND min(tuples_processed) >= 450000 FROM pg_stat_progress_copy"
) or die "the big COPY did not make progress";

# meanwhile another session commits rows: they must survive
$node->safe_psql('postgres',
	"INSERT INTO ev SELECT i, now(), 'concurrent ' || i FROM generate_series(30001, 30100) i;"
	  . "INSERT INTO ev_heap SELECT i, now(), 'concurrent ' || i FROM generate_series(30001, 30100) i;"
);
$committed = state_of('ev_heap');
my $segments = $node->safe_psql('postgres',
	"SELECT count(*) || ' ' || sum(rows) FROM ledger.segments WHERE ledger = 'ev'::regclass"
);

# the COPY is still running: it has not committed
my $progress = $node->safe_psql('postgres',
	"SELECT count(*) || ' ' || coalesce(bool_and(tuples_processed < $big_rows), false) FROM pg_stat_progress_copy"
);
is($progress, '2 true', 'the big COPYs are still in progress when the server is killed');
cmp_ok(
	$node->safe_psql(
		'postgres', "SELECT pg_total_relation_size('ledger.segment_column')"),
	'>', $catalog_bytes + 100_000,
	'the killed transactions have already written segments');

# SIGKILL: the postmaster, then every process it started
my ($postmaster_pid) =
  split /\n/, slurp_file($node->data_dir . '/postmaster.pid');
my @children = children_of($postmaster_pid);
$node->kill9;
kill 'KILL', @children;
# a postmaster left as a zombie still "owns" its postmaster.pid; once it
# and its children are dead, remove the file as a reboot would
if (grep { $_ == $postmaster_pid } wait_gone($postmaster_pid, @children))
{
	note "postmaster $postmaster_pid is a zombie: removing postmaster.pid";
	unlink($node->data_dir . '/postmaster.pid');
}
$copy->kill_kill;
$copy->finish;
$copy_fresh->kill_kill;
$copy_fresh->finish;

$node->start;

is(state_of('ev'), $committed,
	'after the crash: every committed row, and none of the killed COPY');
is( $node->safe_psql('postgres', 'SELECT count(*) FROM ev WHERE id > 1000000'),
	'0', 'no row of the killed COPY is visible');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) || ' ' || sum(rows) FROM ledger.segments WHERE ledger = 'ev'::regclass"
	),
	$segments,
	'the segments of the killed transaction are invisible');
is( $node->safe_psql(
		'postgres', q{
	SELECT count(*) FROM ledger.segment s
	WHERE s.storage = (SELECT relfilenode FROM pg_class WHERE oid = 'ev'::regclass)
	  AND NOT EXISTS (SELECT 1 FROM ledger.segment_column sc
	                  WHERE sc.storage = s.storage AND sc.segment_id = s.segment_id)}),
	'0',
	'every visible segment has its columns');

# the ledger whose first COPY was killed is empty and usable
is($node->safe_psql('postgres', 'SELECT count(*) FROM fresh'),
	'0', 'the ledger whose first COPY was killed is empty');
$node->safe_psql('postgres',
	"INSERT INTO fresh SELECT i, now(), 'x' FROM generate_series(1, 10) i");
is($node->safe_psql('postgres', 'SELECT count(*), sum(id) FROM fresh'),
	'10|55', 'and takes new rows');

# the ledger keeps working: new rows, row numbers not reused, VACUUM of
# the catalogs removes what the killed transaction left
$node->safe_psql(
	'postgres', q{
	INSERT INTO ev SELECT i, now(), 'after ' || i FROM generate_series(40001, 50000) i;
	INSERT INTO ev_heap SELECT i, now(), 'after ' || i FROM generate_series(40001, 50000) i;
	VACUUM ledger.segment;
	VACUUM ledger.segment_column;
	VACUUM ev;
});
is(state_of('ev'), state_of('ev_heap'), 'rows written after the restart are there');
is( $node->safe_psql(
		'postgres', q{
	SELECT count(*) FROM ledger.segment a
	JOIN ledger.segment b ON a.storage = b.storage AND a.segment_id < b.segment_id
	WHERE a.storage = (SELECT relfilenode FROM pg_class WHERE oid = 'ev'::regclass)
	  AND a.first_row < b.first_row + b.row_count
	  AND b.first_row < a.first_row + a.row_count}),
	'0',
	'row number ranges of the segments do not overlap');

# a clean restart changes nothing
$node->restart;
is(state_of('ev'), state_of('ev_heap'), 'the same rows after a clean restart');

$node->stop;
done_testing();

#
# 010_compaction_worker.pl
#	  The background compaction worker: compacts by itself within a few
#	  naptimes, picks up a database created later, does not block DROP
#	  DATABASE, applies granularity and retention policies; and a SIGKILL
#	  of the server in the middle of a compaction loses nothing and leaves
#	  no orphaned catalog rows.
#
# NOTES
#	  The node preloads the library with a naptime of 1 s.  For the crash,
#	  the worker is switched off and a manual compaction is left open
#	  (new segments written, old ones deleted, not committed) when the
#	  postmaster and its children are killed with SIGKILL.
#
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('compaction');
$node->init(extra => [ '--encoding=UTF8', '--no-locale' ]);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'ledger'
ledger.enable_compaction = on
ledger.compaction_naptime = 1
max_worker_processes = 16
});
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
		push @pids, $pid if $stat =~ /\)\s+\S+\s+(\d+)/ && $1 == $ppid;
	}
	closedir($dh);
	return @pids;
}

# segments of a ledger
sub segments
{
	my ($db, $table) = @_;
	return $node->safe_psql($db,
		"SELECT count(*) FROM ledger.segments WHERE ledger = '$table'::regclass");
}

ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'ledger compaction launcher'"),
	'the launcher runs');

# --- the worker compacts small segments by itself ---------------------------
$node->safe_psql('postgres', q{
	CREATE EXTENSION ledger;
	CREATE TABLE w (ts timestamptz, k int, note text) USING ledger;
});
$node->safe_psql('postgres',
	join('', map { "INSERT INTO w VALUES ('2024-01-01'::timestamptz + interval '$_ minutes', $_, 'n$_');\n" } 1 .. 50));
my $before = $node->safe_psql('postgres', "SELECT count(*) || ' ' || sum(k) || ' ' || md5(string_agg(note, ',' ORDER BY k)) FROM w");
ok(segments('postgres', 'w') >= 40, 'single-row inserts wrote many segments');
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM ledger.segments WHERE ledger = 'w'::regclass"),
	'the worker merged them into one segment');
is($node->safe_psql('postgres', "SELECT count(*) || ' ' || sum(k) || ' ' || md5(string_agg(note, ',' ORDER BY k)) FROM w"),
	$before, 'same rows after the worker compacted');
ok($node->safe_psql('postgres',
		"SELECT count(*) > 0 FROM ledger.jobs WHERE ledger = 'w'::regclass AND trigger = 'worker' AND error IS NULL"),
	'the run is in ledger.jobs');

# --- a database created later is picked up; DROP DATABASE is not blocked ------
$node->safe_psql('postgres', 'CREATE DATABASE later');
$node->safe_psql('later', q{
	CREATE EXTENSION ledger;
	CREATE TABLE w2 (ts timestamptz, k int) USING ledger;
});
$node->safe_psql('later',
	join('', map { "INSERT INTO w2 VALUES (now(), $_);\n" } 1 .. 20));
ok($node->poll_query_until('later',
		"SELECT count(*) = 1 FROM ledger.segments WHERE ledger = 'w2'::regclass"),
	'a database created after start is compacted');
my ($ret, $stdout, $stderr) = $node->psql('postgres', 'DROP DATABASE later');
is($ret, 0, 'DROP DATABASE is not blocked by the worker') or diag($stderr);

# --- granularity and retention policies applied by the worker -----------------
$node->safe_psql('postgres', q{
	CREATE TABLE g (ts timestamptz NOT NULL, k int, amount bigint) USING ledger;
	SELECT ledger.set_rollup('g', time_column => 'ts', granularity => '1 hour',
							 metrics => '{"amount":"sum"}');
	SELECT ledger.set_compaction('g', min_segment_rows => 1);
	INSERT INTO g SELECT '2020-06-01'::timestamptz + i * interval '13 minutes', i % 3, i
	  FROM generate_series(1, 500) i;
	INSERT INTO g SELECT date_trunc('hour', now()) - i * interval '1 hour', 1, 1
	  FROM generate_series(0, 5) i;
	CREATE TABLE g_daily AS SELECT date_trunc('day', ts) AS day, k, sum(amount) AS amount FROM g GROUP BY 1, 2;
	CREATE TABLE rt (ts timestamptz, k int) USING ledger;
	INSERT INTO rt SELECT '2019-01-01'::timestamptz + i * interval '1 hour', i FROM generate_series(1, 100) i;
	INSERT INTO rt SELECT now(), i FROM generate_series(1, 3) i;
	SELECT ledger.set_retention('rt', '30 days');
	SELECT ledger.add_granularity_policy('g', older_than => '30 days', granularity => '1 day');
});
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM g WHERE ts < '2021-01-01' AND ts <> date_trunc('day', ts)"),
	'the worker re-rolled old rows to days');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM ((SELECT date_trunc('day', ts), k, sum(amount) FROM g GROUP BY 1, 2
	                       EXCEPT SELECT * FROM g_daily)
	                      UNION ALL (SELECT * FROM g_daily
	                       EXCEPT SELECT date_trunc('day', ts), k, sum(amount) FROM g GROUP BY 1, 2)) d}),
	'0', 'daily totals unchanged');
is($node->safe_psql('postgres', "SELECT count(*) FROM g WHERE ts > now() - interval '1 day'"),
	'6', 'recent rows stay hourly');
ok($node->poll_query_until('postgres', "SELECT count(*) = 3 FROM rt"),
	'the worker dropped expired segments');

# --- a failing ledger does not stop the others and is backed off ---------------
# (a ledger whose owner's compaction errors: simulated with a sum overflow
# that only merging reveals)
$node->safe_psql('postgres', q{
	CREATE TABLE bad (ts timestamptz NOT NULL, amount bigint) USING ledger;
	SELECT ledger.set_rollup('bad', time_column => 'ts', granularity => '1 hour',
							 metrics => '{"amount":"sum"}');
	INSERT INTO bad VALUES ('2024-01-01', 9223372036854775807);
	INSERT INTO bad VALUES ('2024-01-01', 1);
	CREATE TABLE after_bad (ts timestamptz, k int) USING ledger;
	INSERT INTO after_bad VALUES (now(), 1);
	INSERT INTO after_bad VALUES (now(), 2);
});
ok($node->poll_query_until('postgres',
		"SELECT count(*) >= 1 FROM ledger.jobs WHERE ledger = 'bad'::regclass AND error IS NOT NULL"),
	'a failure is recorded in ledger.jobs');
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM ledger.segments WHERE ledger = 'after_bad'::regclass"),
	'other ledgers are still compacted');
sleep(3);
cmp_ok($node->safe_psql('postgres',
		"SELECT count(*) FROM ledger.jobs WHERE ledger = 'bad'::regclass AND error IS NOT NULL"),
	'<=', 3, 'the failing ledger is retried with backoff');
$node->safe_psql('postgres', 'DROP TABLE bad');

# --- SIGKILL in the middle of a compaction ------------------------------------
$node->safe_psql('postgres', q{
	ALTER SYSTEM SET ledger.enable_compaction = off;
	SELECT pg_reload_conf();
	CREATE TABLE big (ts timestamptz NOT NULL, k int, amount bigint) USING ledger;
	SELECT ledger.set_rollup('big', time_column => 'ts', granularity => '1 minute',
							 metrics => '{"amount":"sum"}');
});
sleep(2);
foreach my $i (1 .. 20)
{
	$node->safe_psql('postgres',
		"INSERT INTO big SELECT '2024-01-01'::timestamptz + (i % 10000) * interval '1 minute', i % 17, i FROM generate_series(1, 20000) i");
}
my $state_sql = "SELECT count(*) || ' ' || sum(amount) || ' ' || md5(string_agg(ts::text || ':' || k || ':' || amount, ',' ORDER BY ts, k)) FROM big";
my $state = $node->safe_psql('postgres', $state_sql);
my $segs = segments('postgres', 'big');
is($segs, '20', '20 segments before the compaction');

my ($in, $out, $err) = ('', '', '');
my $compact = IPC::Run::start(
	[
		'psql', '-XAtq', '-d', $node->connstr('postgres'), '-c',
		"BEGIN; SELECT segments_out FROM ledger.compact('big', true); SELECT pg_sleep(60); COMMIT;"
	],
	'<' => \$in, '>' => \$out, '2>' => \$err);
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE '%ledger.compact(%' AND wait_event = 'PgSleep'"),
	'the compaction has written its segments and waits before commit');

my $pmpid = (split /\n/, slurp_file($node->data_dir . '/postmaster.pid'))[0];
my @children = children_of($pmpid);
$node->kill9;
kill 'KILL', @children;
# wait until they are gone (zombies an init reaps slowly count as gone);
# then remove what a reboot would: the pid file and the socket lock
foreach my $try (1 .. 100)
{
	my @left = grep { -e "/proc/$_/stat" } ($pmpid, @children);
	last unless @left;
	last if $try > 50 && !grep { slurp_file("/proc/$_/stat") !~ /\)\s+Z/ } @left;
	select(undef, undef, undef, 0.1);
}
$compact->kill_kill;
$compact->finish;
unlink($node->data_dir . '/postmaster.pid');
unlink($node->host . '/.s.PGSQL.' . $node->port . '.lock');
$node->start;

is($node->safe_psql('postgres', $state_sql), $state, 'identical rows after the crash');
is(segments('postgres', 'big'), $segs, 'the old segments are back, the new ones gone');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM ledger.segment_column c
	 WHERE NOT EXISTS (SELECT 1 FROM ledger.segment s
	                    WHERE s.storage = c.storage AND s.segment_id = c.segment_id)}),
	'0', 'no orphaned column rows');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM ledger.segment s
	 WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relfilenode = s.storage)}),
	'0', 'no orphaned segment rows');

# the compaction then runs to completion
is($node->safe_psql('postgres', "SELECT segments_in FROM ledger.compact('big')"), '20',
	'a compaction after the restart merges everything');
is($node->safe_psql('postgres', $state_sql), $state, 'identical rows after it');

$node->stop;
done_testing();

#
# 011_upsert_replay.pl
#	  Exactly-once keyed ingestion at scale: a file of 1,000,000 payment
#	  events (with exact duplicates, higher-version corrections, late
#	  corrections and out-of-order versions inside it) is loaded once into
#	  a keyed rollup ledger (COPY) and once into a second one
#	  (ledger.upsert_batch, 1,000 events per transaction), and replayed
#	  three times by three concurrent sessions into a third one.  All must
#	  equal the newest version of every key rolled up by plain SQL on a
#	  heap table; compaction, a
#	  restart and an immediate stop (crash recovery) change nothing; a
#	  fourth replay is a no-op.  Consumer offsets: a batch and its
#	  ledger.commit_offset in one transaction are stored together or not at
#	  all (the session is killed before its commit).
#
# NOTES
#	  The file has 10 batches of 100,000 lines.  Each replay session sends
#	  one batch per transaction (BEGIN; COPY; COMMIT) in its own order: the
#	  first from batch 0 on, the second from batch 5 on (wrapping), the third
#	  from batch 9 down to 0, so the sessions insert different batches at
#	  the same time, meet on the same keys, and see corrections before and
#	  after the versions they replace.  Corrections reach back up to 250,000
#	  lines, across batches, so sessions in different batches can wait for
#	  each other in both directions: a deadlock is possible (as with INSERT
#	  ... ON CONFLICT), and a session retries a batch that failed with one,
#	  like a real consumer.  The sessions are driven from this script over
#	  pipes (IPC::Run), each a psql process with one connection; every
#	  committed batch writes a row (session, batch, attempt, start, end) in
#	  the same transaction, which proves it committed and when.
#
#	  The upsert_batch load commits after every call of 1,000 events (a
#	  procedure), so a correction's retraction meets new events of the old
#	  group in one write buffer while the corrected event sits in an earlier
#	  segment.  The whole test takes about 80 s on 2 cores.
#
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time usleep);

my $events = 1_000_000;
my $batch = 100_000;
my $nbatches = $events / $batch;
my $started = time;

my $node = PostgreSQL::Test::Cluster->new('upsert_replay');
$node->init(extra => [ '--encoding=UTF8', '--no-locale' ]);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'ledger'
ledger.enable_compaction = off
shared_buffers = 256MB
max_wal_size = 4GB
checkpoint_timeout = 30min
timezone = 'UTC'
});
$node->start;

# --- the events file ----------------------------------------------------------
#
# Line i (1-based) is, by i mod 20:
#   7   an exact duplicate of line i - 999
#   13  a correction (version 2) of the event of line i - 5001
#   1   the line i - 8 again (the correction above, sent twice)
#   17  version 3 of the event of line i - 3 ...
#   19  ... and its version 2 after it (stale)
#   11  a late correction (version 2) of the event of line i - 150011
#   3   a late exact duplicate of line i - 250003 (stale once corrected)
#   otherwise a new event "ev<i>" at version 1
# A reference before line 1 makes the line a new event.  Events arrive
# roughly in time order (1,000,000 over 7 days, up to 5 minutes early or
# late), as a stream does.  Version 2 of an event is a refund (status
# 'refunded', another amount and fee), version 3 moves it an hour later: a
# correction must take the event's old contribution back from its group.

my @methods = qw(card sepa ideal);
my @statuses = qw(approved declined pending);
my $t0 = 1774000800;    # 2026-03-20 10:00:00 UTC

# the event j at version v, as a line
sub payload
{
	my ($j, $v) = @_;
	my $h = ($j * 2654435761) % 4294967296;
	my $t = $t0 + int($j * 7 * 86400 / $events) + ($h % 601) - 300;
	my $merchant = ($h % 23 == 0) ? '\N' : ($h >> 5) % 40;
	my $method = $methods[ ($h >> 11) % 3 ];
	my $status = $statuses[ ($h >> 13) % 3 ];
	my $amount = ($j * 7919) % 100000 - 5000;
	my $fee = $j % 97;
	if ($v == 2)
	{
		$status = 'refunded';
		$amount = -$amount - 2;
		$fee += 2;
	}
	elsif ($v == 3)
	{
		$t += 3600;
		$amount = $amount * 2 + 3;
		$fee += 3;
	}
	my @t = gmtime($t);
	my $ts = sprintf('%04d-%02d-%02d %02d:%02d:%02d+00',
		$t[5] + 1900, $t[4] + 1, $t[3], $t[2], $t[1], $t[0]);
	return join("\t", $ts, $merchant, $method, $status, $amount, $fee, '\N',
		"ev$j", $v) . "\n";
}

my %linecache;

sub line_of
{
	my ($i) = @_;
	return $linecache{$i} if exists $linecache{$i};
	my $m = $i % 20;
	my $l;
	if ($m == 7 && $i > 999) { $l = line_of($i - 999) }
	elsif ($m == 13 && $i > 5001) { $l = payload($i - 5001, 2) }
	elsif ($m == 1 && $i > 8) { $l = line_of($i - 8) }
	elsif ($m == 17 && $i > 3) { $l = payload($i - 3, 3) }
	elsif ($m == 19 && $i > 5) { $l = payload($i - 5, 2) }
	elsif ($m == 11 && $i > 150011) { $l = payload($i - 150011, 2) }
	elsif ($m == 3 && $i > 250003) { $l = payload($i - 250003, 1) }
	else { $l = payload($i, 1) }
	# only lines i - 8 are looked up again
	$linecache{$i} = $l if $m == 13;
	delete $linecache{ $i - 16 };
	return $l;
}

my $dir = $node->basedir;
my $file = "$dir/events.tsv";
my @batchfiles = map { sprintf('%s/batch_%02d.tsv', $dir, $_) } 0 .. $nbatches - 1;
{
	open(my $all, '>', $file) or die "could not write $file: $!";
	my $bf;
	for my $i (1 .. $events)
	{
		if (($i - 1) % $batch == 0)
		{
			close($bf) if $bf;
			my $name = $batchfiles[ ($i - 1) / $batch ];
			open($bf, '>', $name) or die "could not write $name: $!";
		}
		my $l = line_of($i);
		print $all $l;
		print $bf $l;
	}
	close($bf);
	close($all);
}
note sprintf('generated %d events in %.1f s', $events, time - $started);

# --- reference: heap table and a single-session load ----------------------------

my $rollup_args = q{'ts', '1 hour', '{"amount":"sum","fee":"sum","n":"count"}',
	time_zone => 'UTC', key_column => 'event_id', version_column => 'version'};

# creates a keyed rollup ledger
sub create_ledger
{
	my ($name) = @_;
	$node->safe_psql('postgres', qq{
		CREATE TABLE $name (ts timestamptz NOT NULL, merchant int, method text,
			status text, amount bigint, fee bigint, n bigint, event_id text,
			version bigint) USING ledger;
		SELECT ledger.set_rollup('$name', $rollup_args);
	});
}

$node->safe_psql('postgres', qq{
	CREATE EXTENSION ledger;
	CREATE TABLE events_heap (ts timestamptz NOT NULL, merchant int, method text,
		status text, amount bigint, fee bigint, n bigint, event_id text,
		version bigint, line bigint GENERATED ALWAYS AS IDENTITY);
	COPY events_heap (ts, merchant, method, status, amount, fee, n, event_id, version)
		FROM '$file';
	-- the newest version of every key among the first upto lines, rolled up
	-- by hour and dimensions: what a table with a primary key on event_id
	-- that keeps the highest version would hold, grouped
	CREATE FUNCTION expected_upto(upto bigint)
	RETURNS TABLE (ts timestamptz, merchant int, method text, status text,
				   amount bigint, fee bigint, n bigint)
	LANGUAGE sql STABLE AS \$\$
		SELECT date_trunc('hour', l.ts), l.merchant, l.method, l.status,
			   sum(l.amount)::bigint, sum(l.fee)::bigint, count(*)
		FROM (SELECT DISTINCT ON (event_id) * FROM events_heap
			  WHERE line <= upto ORDER BY event_id, version DESC) l
		GROUP BY 1, 2, 3, 4
	\$\$;
	CREATE TABLE expected AS SELECT * FROM expected_upto($events);
	CREATE TABLE replay_log (session int, batch int, attempt int,
		started timestamptz, finished timestamptz);
});

# the file is not trivially unique, and never has two payloads for one
# key and version (so the newest version of a key is well defined)
my ($nlines, $distinct, $multi, $ambiguous) = split /\|/, $node->safe_psql('postgres', q{
	SELECT (SELECT count(*) FROM events_heap),
		   (SELECT count(DISTINCT event_id) FROM events_heap),
		   (SELECT count(*) FROM (SELECT event_id FROM events_heap
			 GROUP BY 1 HAVING count(DISTINCT version) > 1) m),
		   (SELECT count(*) FROM (SELECT event_id, version FROM events_heap GROUP BY 1, 2
			 HAVING count(DISTINCT (ts, merchant, method, status, amount, fee)) > 1) a)});
is($nlines, $events, "the file has $events events");
ok($distinct < $events * 0.8 && $multi > $events / 10,
	"with repeated keys: $distinct distinct keys, $multi of them with several versions");
is($ambiguous, 0, 'no key has two payloads at one version');

# totals of a rollup relation: rows, events, sums and a checksum of every row
sub totals
{
	my ($rel) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT count(*) || ' rows, ' || sum(n) || ' events, amount ' || sum(amount)
			|| ', fee ' || sum(fee) || ', md5 '
			|| md5(string_agg(ROW(ts, merchant, method, status, amount, fee, n)::text,
							  ',' ORDER BY ts, merchant, method, status))
		FROM $rel});
}

my $expected = totals('expected');
note "expected: $expected";

# checks a ledger's totals against $want (default: the whole file); shows
# the first differing rows when they differ
sub check_totals
{
	my ($rel, $label, $want, $want_rel) = @_;
	$want //= $expected;
	$want_rel //= 'expected';
	my $got = totals($rel);
	return 1 if is($got, $want, "$label: totals by hour, merchant, method, status");
	diag $node->safe_psql('postgres', qq{
		(SELECT 'ledger' AS side, * FROM (SELECT ts, merchant, method, status, amount, fee, n FROM $rel
			EXCEPT ALL SELECT * FROM $want_rel) a
		 UNION ALL
		 SELECT 'expected', * FROM (SELECT * FROM $want_rel
			EXCEPT ALL SELECT ts, merchant, method, status, amount, fee, n FROM $rel) b)
		ORDER BY ts, merchant, method, status, side LIMIT 20});
	return 0;
}

# keys stored, retracted and superseded of a ledger; events counted
sub keys_of
{
	my ($rel) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT coalesce((SELECT keys FROM ledger.keys WHERE ledger = '$rel'::regclass), 0)
			|| ' keys, ' || coalesce((SELECT retracted FROM ledger.keys
				WHERE ledger = '$rel'::regclass), 0)
			|| ' retracted, ' || (SELECT rows_ingested FROM ledger.stats('$rel'))
			|| ' ingested'});
}

my $want_keys = "$distinct keys, 0 retracted, $distinct ingested";

create_ledger('pay_ref');
my $t = time;
$node->safe_psql('postgres', "COPY pay_ref FROM '$file'");
note sprintf('single-session COPY of %d events: %.1f s', $events, time - $t);
check_totals('pay_ref', 'single-session load');
is(keys_of('pay_ref'), $want_keys, 'single-session load: one key per distinct event');
is($node->safe_psql('postgres',
		q{SELECT superseded FROM ledger.keys WHERE ledger = 'pay_ref'::regclass}),
	$multi, 'single-session load: every key with several versions was superseded');

# the same events through ledger.upsert_batch, 1,000 per call and per
# transaction, in file order: a correction's retraction and the events of
# its old group arrive in different batches
create_ledger('pay_ub');
$node->safe_psql('postgres', q{
	CREATE INDEX ON events_heap (line);
	CREATE PROCEDURE upsert_file(INOUT ins bigint, INOUT rep bigint,
								 INOUT unch bigint, INOUT st bigint)
	LANGUAGE plpgsql AS $$
	DECLARE
		r record;
	BEGIN
		ins := 0; rep := 0; unch := 0; st := 0;
		FOR b IN 0 .. (SELECT max(line) FROM events_heap) / 1000 LOOP
			SELECT * INTO r FROM ledger.upsert_batch('pay_ub', ARRAY(
				SELECT ROW(ts, merchant, method, status, amount, fee, n, event_id, version)::pay_ub
				FROM events_heap WHERE line > b * 1000 AND line <= (b + 1) * 1000 ORDER BY line));
			ins := ins + r.inserted; rep := rep + r.replaced;
			unch := unch + r.unchanged; st := st + r.stale;
			COMMIT;
		END LOOP;
	END $$;
});
$t = time;
my $ub = $node->safe_psql('postgres', 'CALL upsert_file(NULL, NULL, NULL, NULL)');
note sprintf('upsert_batch of %d events in batches of 1,000: %.1f s', $events, time - $t);
my ($ub_ins, $ub_rep, $ub_unch, $ub_stale) = split /\|/, $ub;
is("$ub_ins|$ub_rep|" . ($ub_unch + $ub_stale), "$distinct|$multi|" . ($events - $distinct - $multi),
	'upsert_batch: each key inserted once, replaced once per newer version, the rest unchanged or stale');
check_totals('pay_ub', 'upsert_batch in batches of 1,000');
is(keys_of('pay_ub'), $want_keys, 'upsert_batch in batches of 1,000: one key per distinct event');

# --- three concurrent replays ---------------------------------------------------

create_ledger('pay');

my @orders = (
	[ 0 .. $nbatches - 1 ],
	[ map { ($_ + $nbatches / 2) % $nbatches } 0 .. $nbatches - 1 ],
	[ reverse 0 .. $nbatches - 1 ]);
my @sessions;
for my $s (0 .. 2)
{
	my %sess = (id => $s, in => '', out => '', err => '', pos => 0,
		attempt => 1, retries => 0, done => 0, order => $orders[$s]);
	$sess{h} = IPC::Run::start(
		[
			$node->installed_command('psql'), '-XAtq', '-v', 'ON_ERROR_STOP=0', '-d',
			$node->connstr('postgres') . " application_name=replay$s"
		],
		'<', \$sess{in}, '>', \$sess{out}, '2>', \$sess{err},
		IPC::Run::timeout(900));
	$sess{in} .= "SELECT 'ready';\n";
	push @sessions, \%sess;
}

# reads the complete lines a session printed so far
sub session_lines
{
	my ($sess) = @_;
	$sess->{h}->pump_nb if $sess->{h}->pumpable;
	my @lines;
	while ($sess->{out} =~ s/^([^\n]*)\n//)
	{
		push @lines, $1;
	}
	return @lines;
}

# sends a session its next batch, or the request for its outcome counts
sub send_next
{
	my ($sess) = @_;
	my $s = $sess->{id};
	if ($sess->{pos} >= $nbatches)
	{
		$sess->{in} .= "SELECT 'counts', * FROM ledger.ingest_counts('pay');\n\\q\n";
		return;
	}
	my $b = $sess->{order}[ $sess->{pos} ];
	my $a = $sess->{attempt};
	$sess->{errpos} = length($sess->{err});
	$sess->{in} .= qq{BEGIN;
COPY pay FROM '$batchfiles[$b]';
INSERT INTO replay_log VALUES ($s, $b, $a, now(), clock_timestamp());
COMMIT;
SELECT 'batch', $b, $a, count(*) FROM replay_log WHERE session = $s AND batch = $b AND attempt = $a;
};
}

# barrier: every session is connected before the first batch is sent
my $deadline = time + 60;
my %ready;
while (keys %ready < 3 && time < $deadline)
{
	for my $sess (@sessions)
	{
		$ready{ $sess->{id} } = 1 if grep { $_ eq 'ready' } session_lines($sess);
	}
	usleep(20_000);
}
is(scalar(keys %ready), 3, 'three replay sessions connected');

# handles a line a replay session printed
my ($failed, %counts) = (0);

sub handle_line
{
	my ($sess, $l) = @_;
	if ($l =~ /^batch\|(\d+)\|(\d+)\|(\d+)$/)
	{
		my ($b, $a, $committed) = ($1, $2, $3);
		if ($committed == 1)
		{
			$sess->{pos}++;
			$sess->{attempt} = 1;
		}
		else
		{
			# give stderr a moment to arrive, then see why
			for (1 .. 100)
			{
				$sess->{h}->pump_nb if $sess->{h}->pumpable;
				last if length($sess->{err}) > $sess->{errpos};
				usleep(10_000);
			}
			my $err = substr($sess->{err}, $sess->{errpos});
			if ($err =~ /deadlock detected/)
			{
				$sess->{retries}++;
				$sess->{attempt}++;
			}
			else
			{
				fail("replay session $sess->{id}, batch $b attempt $a did not commit: $err");
				$failed = 1;
				$sess->{pos} = $nbatches;
			}
		}
		send_next($sess);
	}
	elsif ($l =~ /^counts\|(\d+)\|(\d+)\|(\d+)\|(\d+)\|(\d+)$/)
	{
		$counts{ $sess->{id} } = [ $1, $2, $3, $4, $5 ];
	}
}

$t = time;
send_next($_) for @sessions;
my ($max_waiting, $polls, $last_poll) = (0, 0, 0);
$deadline = time + 600;
while (grep { !$_->{done} } @sessions)
{
	if (time > $deadline)
	{
		fail('replays finished within 10 minutes');
		$failed = 1;
		$_->{h}->kill_kill for grep { !$_->{done} } @sessions;
		last;
	}
	for my $sess (grep { !$_->{done} } @sessions)
	{
		handle_line($sess, $_) for session_lines($sess);
		if (!$sess->{h}->pumpable)
		{
			$sess->{exited_ok} = $sess->{h}->finish;
			handle_line($sess, $_) for session_lines($sess);
			$sess->{done} = 1;
		}
	}
	if (time - $last_poll > 0.2)
	{
		$last_poll = time;
		my $w = $node->safe_psql('postgres', q{
			SELECT count(*) FROM pg_stat_activity
			WHERE application_name LIKE 'replay%' AND wait_event_type = 'Lock'});
		$max_waiting = $w if $w > $max_waiting;
		$polls++;
	}
	usleep(20_000);
}
my $replay_secs = time - $t;
note sprintf('three concurrent replays of %d events: %.1f s', $events, $replay_secs);
is($failed, 0, 'every replay batch committed (deadlocks retried)');
for my $sess (@sessions)
{
	note "session $sess->{id}: order @{$sess->{order}}, $sess->{retries} deadlock retries, "
	  . 'outcomes inserted/replaced/unchanged/stale/unkeyed '
	  . join('/', @{ $counts{ $sess->{id} } // [] });
	ok($sess->{exited_ok}, "replay session $sess->{id} exited cleanly")
	  or diag $sess->{err};
}
note "lock waits seen: up to $max_waiting replay sessions waiting at once ($polls looks)";

# every session committed every batch once, and the sessions overlapped
is( $node->safe_psql('postgres',
		'SELECT count(*), count(DISTINCT (session, batch)) FROM replay_log'),
	($nbatches * 3) . '|' . ($nbatches * 3),
	'each session committed each batch once');
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM (SELECT DISTINCT a.session, b.session FROM replay_log a
			JOIN replay_log b ON a.session < b.session
			 AND a.started < b.finished AND b.started < a.finished) p}),
	3, 'every pair of sessions had transactions running at the same time');
note $node->safe_psql('postgres', q{
	SELECT string_agg(format('s%s b%s a%s %s..%s', session, batch, attempt,
		to_char(started, 'MI:SS.MS'), to_char(finished, 'MI:SS.MS')), E'\n' ORDER BY started)
	FROM replay_log});

# outcome counters (not transactional: an aborted attempt counts too)
my $retries = 0;
$retries += $_->{retries} for @sessions;
my ($sum_inserted, $sum_replaced, $all_counted) = (0, 0, 1);
for my $s (0 .. 2)
{
	my $c = $counts{$s} or do { $all_counted = 0; next };
	$sum_inserted += $c->[0];
	$sum_replaced += $c->[1];
	is($c->[4], 0, "session $s: no unkeyed rows");
}
ok($all_counted, 'every session reported its outcome counts');
if ($retries == 0)
{
	is($sum_inserted, $distinct, 'the sessions inserted every key exactly once between them');
	for my $s (0 .. 2)
	{
		my $c = $counts{$s} or next;
		is($c->[0] + $c->[1] + $c->[2] + $c->[3], $events,
			"session $s: one outcome per event");
	}
}
else
{
	ok($sum_inserted >= $distinct, 'the sessions inserted every key (aborted attempts counted too)');
}
ok($counts{0} && $counts{1} && $counts{2}
	  && (grep { $counts{$_}[0] > 0 } 0 .. 2) >= 2,
	'at least two sessions inserted keys (the sessions worked at the same time)');

check_totals('pay', 'three concurrent replays');
is(keys_of('pay'), $want_keys, 'three concurrent replays: one key per distinct event');
is(totals('pay'), totals('pay_ref'), 'replayed ledger equals the single-session load');

# --- compaction -------------------------------------------------------------------

my ($seg_in, $seg_out) = split /\|/,
  $node->safe_psql('postgres', q{SELECT segments_in, segments_out FROM ledger.compact('pay')});
note "compaction of pay: $seg_in segments into $seg_out";
ok($seg_out < $seg_in, 'compaction merged segments');
check_totals('pay', 'after compaction');
is(keys_of('pay'), $want_keys, 'after compaction: keys unchanged');

# --- restart ------------------------------------------------------------------------

$node->restart;
check_totals('pay', 'after a restart');
check_totals('pay_ref', 'reference after a restart');
is(keys_of('pay'), $want_keys, 'after a restart: keys unchanged');

# --- consumer offsets: a batch and its offset commit together or not at all ------

create_ledger('pay_off');
my $want1 = totals('expected_upto(100000)');
my $want2 = totals('expected_upto(200000)');
my $keys1 = $node->safe_psql('postgres',
	'SELECT count(DISTINCT event_id) FROM events_heap WHERE line <= 100000');
my $keys2 = $node->safe_psql('postgres',
	'SELECT count(DISTINCT event_id) FROM events_heap WHERE line <= 200000');

sub offset_of
{
	return $node->safe_psql('postgres', q{
		SELECT coalesce((SELECT last_offset::text FROM ledger.offsets
						 WHERE source = 'events' AND partition = 0), 'none')});
}

# starts a transaction that loads batch $b and commits offset $off, and
# leaves it open; returns the session and its backend pid
sub open_batch
{
	my ($b, $off) = @_;
	my $s = $node->background_psql('postgres');
	my $pid = $s->query_safe('SELECT pg_backend_pid()');
	$s->query_safe('BEGIN');
	$s->query_safe("COPY pay_off FROM '$batchfiles[$b]'");
	$s->query_safe("SELECT ledger.commit_offset('events', 0, $off)");
	return ($s, $pid);
}

# kills a backend and waits until it is gone
sub kill_backend
{
	my ($s, $pid) = @_;
	ok($node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)") eq 't',
		"backend $pid terminated before its commit");
	ok($node->poll_query_until('postgres',
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid"),
		"backend $pid is gone");
	$s->quit;
}

# batch 0 with offset 100000, left open; a second consumer sends the same
# batch and waits for the first one's keys
my ($s1, $pid1) = open_batch(0, 100000);
is($node->safe_psql('postgres', 'SELECT count(*) FROM pay_off'), '0',
	'an open batch is not visible to others');
is(offset_of(), 'none', 'an open batch offset is not visible to others');
my ($retry_out, $retry_err) = ('', '');
my $retry = IPC::Run::start(
	[
		$node->installed_command('psql'), '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d',
		$node->connstr('postgres') . ' application_name=offset_retry',
		'-c', 'BEGIN', '-c', "COPY pay_off FROM '$batchfiles[0]'",
		'-c', "SELECT ledger.commit_offset('events', 0, 100000)", '-c', 'COMMIT'
	],
	'<', '/dev/null', '>', \$retry_out, '2>', \$retry_err, IPC::Run::timeout(300));
ok($node->poll_query_until('postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity
		WHERE application_name = 'offset_retry' AND wait_event_type = 'Lock'}),
	'a second consumer of the same batch waits for the open one');
kill_backend($s1, $pid1);
ok($retry->finish, 'the waiting consumer committed after the first was killed')
  or diag $retry_err;
check_totals('pay_off', 'committed batch 0', $want1, 'expected_upto(100000)');
is(offset_of(), '100000', 'committed batch 0: its offset');
is(keys_of('pay_off'), "$keys1 keys, 0 retracted, $keys1 ingested", 'committed batch 0: its keys');

# batch 1 with offset 200000, killed before its commit: neither is stored
my ($s2, $pid2) = open_batch(1, 200000);
kill_backend($s2, $pid2);
check_totals('pay_off', 'killed batch 1 left nothing', $want1, 'expected_upto(100000)');
is(offset_of(), '100000', 'killed batch 1: the offset stays at batch 0');
is(keys_of('pay_off'), "$keys1 keys, 0 retracted, $keys1 ingested", 'killed batch 1: no keys of it');

# sent again and committed: both
$node->safe_psql('postgres', qq{
	BEGIN;
	COPY pay_off FROM '$batchfiles[1]';
	SELECT ledger.commit_offset('events', 0, 200000);
	COMMIT;
});
check_totals('pay_off', 'committed batch 1', $want2, 'expected_upto(200000)');
is(offset_of(), '200000', 'committed batch 1: its offset');
is(keys_of('pay_off'), "$keys2 keys, 0 retracted, $keys2 ingested", 'committed batch 1: its keys');

# --- immediate stop (crash recovery) ------------------------------------------------

$node->stop('immediate');
$node->start;
check_totals('pay', 'after an immediate stop');
check_totals('pay_ref', 'reference after an immediate stop');
is(keys_of('pay'), $want_keys, 'after an immediate stop: keys unchanged');
check_totals('pay_off', 'offsets ledger after an immediate stop', $want2, 'expected_upto(200000)');
is(offset_of(), '200000', 'after an immediate stop: the offset');

# --- a fourth replay is a no-op -----------------------------------------------------

$t = time;
my $fourth = $node->safe_psql('postgres', qq{
	COPY pay FROM '$file';
	SELECT inserted, replaced, unchanged + stale, unkeyed FROM ledger.ingest_counts('pay');
});
note sprintf('fourth replay (one COPY): %.1f s', time - $t);
is($fourth, "0|0|$events|0", 'fourth replay: every event unchanged or stale');
check_totals('pay', 'after a fourth replay');
is(keys_of('pay'), $want_keys, 'after a fourth replay: keys unchanged');

note sprintf('total %.1f s', time - $started);
$node->stop;
done_testing();

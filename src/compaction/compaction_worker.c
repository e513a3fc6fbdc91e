/*-------------------------------------------------------------------------
 *
 * compaction_worker.c
 *	  The background compaction launcher and its per-database workers.
 *
 * NOTES
 *	  With shared_preload_libraries = 'ledger' the postmaster starts one
 *	  launcher.  It connects to no database (it reads only the shared
 *	  catalog pg_database) and, every ledger.compaction_naptime, starts a
 *	  dynamic worker for each database that accepts connections and is not
 *	  a template, at most ledger.max_compaction_workers at a time.  A
 *	  worker connects to its database, exits at once if the extension is
 *	  not installed there, otherwise runs one cycle over every ledger and
 *	  exits.  Workers therefore hold a database connection only while they
 *	  work: DROP DATABASE (which waits up to 5 s for other sessions, or
 *	  terminates them WITH (FORCE)) and CREATE DATABASE from a template
 *	  are not blocked by an idle worker, and databases created later are
 *	  picked up at the next cycle without a restart.
 *
 *	  Each ledger is compacted in its own transaction, as its owner, with
 *	  a conditional ShareUpdateExclusiveLock (a ledger being compacted by
 *	  someone else, vacuumed or altered is skipped).  An ERROR is caught,
 *	  the transaction aborted, and the failure recorded in ledger.job in a
 *	  new transaction; a ledger whose last n runs failed is skipped until
 *	  naptime * 2^min(n, 6) after the last failure.  The other ledgers go
 *	  on.  Workers are never restarted by the postmaster; the launcher
 *	  restarts after 10 s if it fails.
 *
 * IDENTIFICATION
 *	  src/compaction/compaction_worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "ledger/compaction.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

/* the launcher's view of one database */
typedef struct DbEntry
{
	Oid			dboid;
	bool		seen;			/* still exists at the last listing */
	TimestampTz next_run;
	BackgroundWorkerHandle *handle; /* running worker, or NULL */
} DbEntry;

extern void LedgerCompactionRegisterLauncher(void);

/* registers the launcher; called from _PG_init while preloading */
void
LedgerCompactionRegisterLauncher(void)
{
	BackgroundWorker bgw;

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = 10;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "ledger");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "ledger_compaction_launcher_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "ledger compaction launcher");
	snprintf(bgw.bgw_type, BGW_MAXLEN, "ledger compaction launcher");
	RegisterBackgroundWorker(&bgw);
}

/* lists the databases a worker may connect to, in the launcher */
static void
list_databases(DbEntry **dbs, int *ndbs, int *cap)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	TimestampTz now = GetCurrentTimestamp();

	for (int i = 0; i < *ndbs; i++)
		(*dbs)[i].seen = false;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);
		int			i;

		if (!db->datallowconn || db->datistemplate)
			continue;
		for (i = 0; i < *ndbs; i++)
			if ((*dbs)[i].dboid == db->oid)
				break;
		if (i == *ndbs)
		{
			if (*ndbs == *cap)
			{
				*cap *= 2;
				*dbs = repalloc(*dbs, sizeof(DbEntry) * *cap);
			}
			(*dbs)[i].dboid = db->oid;
			(*dbs)[i].handle = NULL;
			/* first cycle one naptime after the database is seen */
			(*dbs)[i].next_run = TimestampTzPlusMilliseconds(now,
															 (int64) ledger_compaction_naptime * 1000);
			(*ndbs)++;
		}
		(*dbs)[i].seen = true;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
}

/* starts a worker for one database; false if no slot is free */
static bool
start_worker(DbEntry *db)
{
	BackgroundWorker bgw;

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "ledger");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "ledger_compaction_worker_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "ledger compaction worker for database %u",
			 db->dboid);
	snprintf(bgw.bgw_type, BGW_MAXLEN, "ledger compaction worker");
	bgw.bgw_main_arg = ObjectIdGetDatum(db->dboid);
	bgw.bgw_notify_pid = MyProcPid;
	return RegisterDynamicBackgroundWorker(&bgw, &db->handle);
}

/* the launcher: starts workers per database every naptime */
void
ledger_compaction_launcher_main(Datum arg)
{
	DbEntry    *dbs;
	int			ndbs = 0,
				cap = 16;
	bool		warned_slots = false;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("ledger compaction launcher");

	dbs = MemoryContextAlloc(TopMemoryContext, sizeof(DbEntry) * cap);

	for (;;)
	{
		TimestampTz now;
		long		wait_ms = (long) ledger_compaction_naptime * 1000L;
		int			running = 0;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		/* reap workers that ended: the next cycle is one naptime later */
		now = GetCurrentTimestamp();
		for (int i = 0; i < ndbs; i++)
		{
			pid_t		pid;

			if (dbs[i].handle == NULL)
				continue;
			if (GetBackgroundWorkerPid(dbs[i].handle, &pid) == BGWH_STOPPED)
			{
				pfree(dbs[i].handle);
				dbs[i].handle = NULL;
				dbs[i].next_run = TimestampTzPlusMilliseconds(now,
															  (int64) ledger_compaction_naptime * 1000);
			}
			else
				running++;
		}

		if (ledger_enable_compaction)
		{
			list_databases(&dbs, &ndbs, &cap);
			/* forget dropped databases that have no worker */
			for (int i = 0; i < ndbs;)
			{
				if (!dbs[i].seen && dbs[i].handle == NULL)
					dbs[i] = dbs[--ndbs];
				else
					i++;
			}
			now = GetCurrentTimestamp();
			for (int i = 0; i < ndbs; i++)
			{
				long		secs;
				int			usecs;

				if (dbs[i].handle != NULL || !dbs[i].seen)
					continue;
				if (dbs[i].next_run <= now &&
					running < ledger_max_compaction_workers)
				{
					if (start_worker(&dbs[i]))
					{
						running++;
						warned_slots = false;
						continue;
					}
					dbs[i].handle = NULL;
					if (!warned_slots)
						ereport(LOG,
								(errmsg("ledger compaction launcher could not start a worker"),
								 errhint("Increase max_worker_processes.")));
					warned_slots = true;
					dbs[i].next_run = TimestampTzPlusMilliseconds(now,
																  (int64) ledger_compaction_naptime * 1000);
				}
				if (dbs[i].next_run > now)
				{
					TimestampDifference(now, dbs[i].next_run, &secs, &usecs);
					wait_ms = Min(wait_ms, secs * 1000L + usecs / 1000 + 1);
				}
			}
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(wait_ms, 100L), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* true if relid's last runs failed and its backoff has not run out */
static bool
in_backoff(Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(relid)};
	bool		result = false;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT count(*), max(finished) FROM ledger.job "
							  "WHERE relid = $1 AND error IS NOT NULL AND job_id > "
							  "coalesce((SELECT max(job_id) FROM ledger.job "
							  "WHERE relid = $1 AND error IS NULL), 0)",
							  1, argtypes, args, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		bool		isnull;
		int64		failures = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
														   SPI_tuptable->tupdesc,
														   1, &isnull));
		Datum		last = SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 2, &isnull);

		if (failures > 0 && !isnull)
		{
			int64		ms = (int64) ledger_compaction_naptime * 1000 *
				((int64) 1 << Min(failures, 6));

			result = GetCurrentTimestamp() <
				TimestampTzPlusMilliseconds(DatumGetTimestampTz(last), ms);
		}
	}
	SPI_finish();
	return result;
}

/* the ledgers of this database, oldest first */
static List *
list_ledgers(void)
{
	List	   *result = NIL;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT c.oid FROM pg_catalog.pg_class c "
					"JOIN pg_catalog.pg_am am ON am.oid = c.relam "
					"WHERE am.amname = 'ledger' AND c.relkind = 'r' "
					"AND c.relpersistence = 'p' ORDER BY c.oid",
					true, 0) == SPI_OK_SELECT)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool		isnull;

			result = lappend_oid(result,
								 DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
																SPI_tuptable->tupdesc,
																1, &isnull)));
		}
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	return result;
}

/*
 * Compacts one ledger in a transaction of its own; returns the error it
 * raised (copied into cxt, the transaction aborted) or NULL.
 */
static ErrorData *
compact_one(Oid relid, const char *relname, TimestampTz started,
			MemoryContext cxt)
{
	ErrorData  *volatile edata = NULL;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	PG_TRY();
	{
		if (!in_backoff(relid))
		{
			LedgerCompactionResult r;

			pgstat_report_activity(STATE_RUNNING, "ledger compaction");
			LedgerCompact(relid, false, true, &r);
			if (!r.skipped && (r.segments_in > 0 || r.segments_out > 0))
				LedgerCompactionRecordJob(relid, relname, started, "worker",
										  &r, NULL);
		}
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);
	return edata;
}

/* one worker cycle: compacts every ledger of the database once */
void
ledger_compaction_worker_main(Datum arg)
{
	Oid			dboid = DatumGetObjectId(arg);
	List	   *ledgers;
	ListCell   *lc;
	MemoryContext cyclecxt;
	bool		installed;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("ledger compaction worker");

	cyclecxt = AllocSetContextCreate(TopMemoryContext, "ledger compaction cycle",
									 ALLOCSET_DEFAULT_SIZES);

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	installed = OidIsValid(get_extension_oid("ledger", true));
	ledgers = installed ? list_ledgers() : NIL;
	if (installed)
	{
		/* job history is kept for a week */
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		SPI_execute("DELETE FROM ledger.job WHERE finished < pg_catalog.now() - interval '7 days'",
					false, 0);
		SPI_finish();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();

	foreach(lc, ledgers)
	{
		Oid			relid = lfirst_oid(lc);
		TimestampTz started = GetCurrentTimestamp();
		char	   *relname;
		ErrorData  *edata;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (!ledger_enable_compaction)
			break;

		MemoryContextReset(cyclecxt);
		StartTransactionCommand();
		relname = get_rel_name(relid);
		if (relname != NULL)
			relname = MemoryContextStrdup(cyclecxt, relname);
		CommitTransactionCommand();
		if (relname == NULL)
			continue;			/* dropped meanwhile */

		edata = compact_one(relid, relname, started, cyclecxt);
		if (edata != NULL)
		{
			LedgerCompactionResult r;

			/* the failure is recorded in a transaction of its own */
			ereport(LOG,
					(errmsg("ledger compaction of \"%s\" failed: %s",
							relname, edata->message)));
			memset(&r, 0, sizeof(r));
			StartTransactionCommand();
			PushActiveSnapshot(GetTransactionSnapshot());
			if (get_rel_name(relid) != NULL)
				LedgerCompactionRecordJob(relid, relname, started, "worker", &r,
										  edata->message);
			PopActiveSnapshot();
			CommitTransactionCommand();
		}
	}
	proc_exit(0);
}

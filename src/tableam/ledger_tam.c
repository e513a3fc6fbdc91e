/*-------------------------------------------------------------------------
 *
 * ledger_tam.c
 *	  The TableAmRoutine of the ledger access method.
 *
 * NOTES
 *	  Callbacks are grouped and ordered as in heapam_handler.c.  Rows live
 *	  in immutable columnar segments (store/, segment/) and, until written,
 *	  in the transaction's write buffer (write/).  TIDs are derived from
 *	  row numbers (LedgerRowNumberToTid); buffered rows get pseudo TIDs.
 *
 *	  What a ledger does not support (UPDATE, DELETE, row locks, indexes,
 *	  speculative insertion) raises an error with a hint here; the planner
 *	  hook (planner/) reports the same statements before they run.
 *
 * IDENTIFICATION
 *	  src/tableam/ledger_tam.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/heaptoast.h"
#include "access/multixact.h"
#include "access/tableam.h"
#include "access/tsmapi.h"
#include "access/xact.h"
#include "catalog/heap.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "catalog/storage.h"
#include "commands/defrem.h"
#include "commands/vacuum.h"
#include "pgstat.h"
#include "executor/tuptable.h"
#include "ledger/ledger.h"
#include "ledger/scan.h"
#include "ledger/store.h"
#include "ledger/tableam.h"
#include "ledger/upsert.h"
#include "ledger/write.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/procarray.h"
#include "storage/smgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "access/htup_details.h"
#include "catalog/pg_class.h"

/* a scan of a ledger */
typedef struct LedgerScanDescData
{
	TableScanDescData base;
	LedgerReader *reader;
	bool		started;		/* the first row was asked for */
	bool		registered;		/* we registered base.rs_snapshot */
	/* TABLESAMPLE state */
	BlockNumber sample_next;	/* next block of a sequential sample */
	BlockNumber sample_block;	/* block being sampled */
	BlockNumber sample_nblocks;
} LedgerScanDescData;

typedef LedgerScanDescData *LedgerScanDesc;

PG_FUNCTION_INFO_V1(ledger_tam_handler);

/* ------------------------------------------------------------------------
 * errors for what a ledger does not support
 * ------------------------------------------------------------------------
 */

/* raises the error for an unsupported row operation on rel */
static void pg_attribute_noreturn()
unsupported(Relation rel, const char *what, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s is not supported on ledger table \"%s\"", what,
					RelationGetRelationName(rel)),
			 errhint("%s", hint)));
}

/* ------------------------------------------------------------------------
 * slot and scan callbacks
 * ------------------------------------------------------------------------
 */

static const TupleTableSlotOps *
ledger_tam_slot_callbacks(Relation rel)
{
	return &TTSOpsVirtual;
}

/* starts a scan: registers a snapshot if given none (ANALYZE) */
static TableScanDesc
ledger_tam_scan_begin(Relation rel, Snapshot snapshot, int nkeys,
					  ScanKey key, ParallelTableScanDesc pscan, uint32 flags)
{
	LedgerScanDesc scan = palloc0(sizeof(LedgerScanDescData));

	scan->base.rs_rd = rel;
	scan->base.rs_nkeys = nkeys;
	scan->base.rs_key = key;
	scan->base.rs_flags = flags;
	scan->base.rs_parallel = pscan;

	if (snapshot == NULL)
	{
		snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : GetLatestSnapshot();
		snapshot = RegisterSnapshot(snapshot);
		scan->registered = true;
	}
	scan->base.rs_snapshot = snapshot;

	/* non-MVCC snapshots (SnapshotAny …) see the same committed segments */
	scan->reader = LedgerReaderBegin(rel, snapshot, NULL,
									 (flags & SO_TYPE_ANALYZE) == 0);
	if (pscan != NULL)
		LedgerReaderSetParallel(scan->reader,
								&((LedgerParallelScanData *) pscan)->next_segment);
	return (TableScanDesc) scan;
}

/* ends a scan */
static void
ledger_tam_scan_end(TableScanDesc sscan)
{
	LedgerScanDesc scan = (LedgerScanDesc) sscan;

	LedgerReaderEnd(scan->reader);
	if (scan->registered)
		UnregisterSnapshot(scan->base.rs_snapshot);
	else if (scan->base.rs_flags & SO_TEMP_SNAPSHOT)
		UnregisterSnapshot(scan->base.rs_snapshot);
	pfree(scan);
}

/* restarts a scan */
static void
ledger_tam_scan_rescan(TableScanDesc sscan, ScanKey key, bool set_params,
					   bool allow_strat, bool allow_sync, bool allow_pagemode)
{
	LedgerScanDesc scan = (LedgerScanDesc) sscan;

	LedgerReaderRescan(scan->reader);
	scan->sample_next = 0;
	scan->sample_nblocks = 0;
}

/* returns the next row */
static bool
ledger_tam_scan_getnextslot(TableScanDesc sscan, ScanDirection direction,
							TupleTableSlot *slot)
{
	LedgerScanDesc scan = (LedgerScanDesc) sscan;

	if (direction == BackwardScanDirection)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("backward scans are not supported on ledger tables"),
				 errhint("Declare the cursor without SCROLL, or use SCROLL with a materialized query.")));
	if (!scan->started)
	{
		/* ALTER TABLE rewrites hand us slots of the old row layout */
		LedgerReaderSetDescriptor(scan->reader, slot->tts_tupleDescriptor);
		scan->started = true;
	}
	if (LedgerReaderNext(scan->reader, slot))
	{
		pgstat_count_heap_getnext(sscan->rs_rd);
		return true;
	}
	return false;
}

/* restricts a TID range scan */
static void
ledger_tam_scan_set_tidrange(TableScanDesc sscan, ItemPointer mintid,
							 ItemPointer maxtid)
{
	LedgerScanDesc scan = (LedgerScanDesc) sscan;
	int64		from = LedgerTidToRowNumber(mintid);
	int64		to = LedgerTidToRowNumber(maxtid) + 1;

	LedgerReaderRescan(scan->reader);
	LedgerReaderSetRange(scan->reader, from, Max(from, to));
}

/* next row of a TID range scan */
static bool
ledger_tam_scan_getnextslot_tidrange(TableScanDesc sscan,
									 ScanDirection direction,
									 TupleTableSlot *slot)
{
	return ledger_tam_scan_getnextslot(sscan, direction, slot);
}

/* ------------------------------------------------------------------------
 * parallel scans: processes claim whole segments
 * ------------------------------------------------------------------------
 */

static Size
ledger_tam_parallelscan_estimate(Relation rel)
{
	return sizeof(LedgerParallelScanData);
}

static Size
ledger_tam_parallelscan_initialize(Relation rel, ParallelTableScanDesc pscan)
{
	LedgerParallelScanData *lpscan = (LedgerParallelScanData *) pscan;

	lpscan->base.phs_relid = RelationGetRelid(rel);
	lpscan->base.phs_syncscan = false;
	pg_atomic_init_u64(&lpscan->next_segment, 0);
	return sizeof(LedgerParallelScanData);
}

static void
ledger_tam_parallelscan_reinitialize(Relation rel, ParallelTableScanDesc pscan)
{
	LedgerParallelScanData *lpscan = (LedgerParallelScanData *) pscan;

	pg_atomic_write_u64(&lpscan->next_segment, 0);
}

/* ------------------------------------------------------------------------
 * index fetches: ledgers have no indexes
 * ------------------------------------------------------------------------
 */

static IndexFetchTableData *
ledger_tam_index_fetch_begin(Relation rel)
{
	unsupported(rel, "index access",
				"Ledger tables cannot have indexes; filters use the ledger's zone maps and bitmaps.");
}

static void
ledger_tam_index_fetch_reset(IndexFetchTableData *scan)
{
}

static void
ledger_tam_index_fetch_end(IndexFetchTableData *scan)
{
}

static bool
ledger_tam_index_fetch_tuple(struct IndexFetchTableData *scan,
							 ItemPointer tid, Snapshot snapshot,
							 TupleTableSlot *slot, bool *call_again,
							 bool *all_dead)
{
	unsupported(scan->rel, "index access",
				"Ledger tables cannot have indexes; filters use the ledger's zone maps and bitmaps.");
}

/* ------------------------------------------------------------------------
 * non-modifying operations on individual rows
 * ------------------------------------------------------------------------
 */

/* fetches the row with TID tid as seen by snapshot */
static bool
ledger_tam_tuple_fetch_row_version(Relation rel, ItemPointer tid,
								   Snapshot snapshot, TupleTableSlot *slot)
{
	return LedgerFetchRow(rel, snapshot, tid, slot);
}

/* true if tid could be a row of the ledger */
static bool
ledger_tam_tuple_tid_valid(TableScanDesc scan, ItemPointer tid)
{
	if (!ItemPointerIsValid(tid))
		return false;
	if (ItemPointerGetBlockNumber(tid) >= LEDGER_PSEUDO_BLOCK_BASE)
		return true;
	return LedgerTidToRowNumber(tid) < LedgerStoreNextRow(scan->rs_rd);
}

/* rows are never updated, so the latest version is the row itself */
static void
ledger_tam_tuple_get_latest_tid(TableScanDesc scan, ItemPointer tid)
{
}

/* true if the row in slot is visible to snapshot */
static bool
ledger_tam_tuple_satisfies_snapshot(Relation rel, TupleTableSlot *slot,
									Snapshot snapshot)
{
	TupleTableSlot *tmp = MakeSingleTupleTableSlot(RelationGetDescr(rel),
												   &TTSOpsVirtual);
	bool		found = LedgerFetchRow(rel, snapshot, &slot->tts_tid, tmp);

	ExecDropSingleTupleTableSlot(tmp);
	return found;
}

static TransactionId
ledger_tam_index_delete_tuples(Relation rel, TM_IndexDeleteOp *delstate)
{
	unsupported(rel, "index access",
				"Ledger tables cannot have indexes; filters use the ledger's zone maps and bitmaps.");
}

/* ------------------------------------------------------------------------
 * manipulations of rows
 * ------------------------------------------------------------------------
 */

/* buffers one row */
static void
ledger_tam_tuple_insert(Relation rel, TupleTableSlot *slot, CommandId cid,
						int options, BulkInsertState bistate)
{
	LedgerWriteInsert(rel, &slot, 1, cid);
}

static void
ledger_tam_tuple_insert_speculative(Relation rel, TupleTableSlot *slot,
									CommandId cid, int options,
									BulkInsertState bistate, uint32 specToken)
{
	unsupported(rel, "INSERT ... ON CONFLICT",
				"Remove the ON CONFLICT clause; ledger tables have no unique indexes to conflict with.");
}

static void
ledger_tam_tuple_complete_speculative(Relation rel, TupleTableSlot *slot,
									  uint32 specToken, bool succeeded)
{
	unsupported(rel, "INSERT ... ON CONFLICT",
				"Remove the ON CONFLICT clause; ledger tables have no unique indexes to conflict with.");
}

/* buffers a batch of rows (COPY) */
static void
ledger_tam_multi_insert(Relation rel, TupleTableSlot **slots, int ntuples,
						CommandId cid, int options, BulkInsertState bistate)
{
	LedgerWriteInsert(rel, slots, ntuples, cid);
}

static TM_Result
ledger_tam_tuple_delete(Relation rel, ItemPointer tid, CommandId cid,
						Snapshot snapshot, Snapshot crosscheck, bool wait,
						TM_FailureData *tmfd, bool changingPart)
{
	unsupported(rel, "DELETE",
				"Correct a ledger by inserting reversing entries, or use TRUNCATE to remove all rows.");
}

static TM_Result
ledger_tam_tuple_update(Relation rel, ItemPointer otid, TupleTableSlot *slot,
						CommandId cid, Snapshot snapshot, Snapshot crosscheck,
						bool wait, TM_FailureData *tmfd,
						LockTupleMode *lockmode, bool *update_indexes)
{
	unsupported(rel, "UPDATE",
				"Correct a ledger by inserting reversing entries instead of updating rows.");
}

static TM_Result
ledger_tam_tuple_lock(Relation rel, ItemPointer tid, Snapshot snapshot,
					  TupleTableSlot *slot, CommandId cid, LockTupleMode mode,
					  LockWaitPolicy wait_policy, uint8 flags,
					  TM_FailureData *tmfd)
{
	unsupported(rel, "locking rows",
				"Remove FOR UPDATE/FOR SHARE; ledger rows are never updated in place.");
}

/* writes what COPY, CREATE TABLE AS or a rewrite buffered */
static void
ledger_tam_finish_bulk_insert(Relation rel, int options)
{
	LedgerWriteFlush(rel);
}

/* ------------------------------------------------------------------------
 * DDL related callbacks
 * ------------------------------------------------------------------------
 */

/* gives rel a new, empty relfilenode; the old one's segments go with it */
static void
ledger_tam_relation_set_new_filenode(Relation rel, const RelFileNode *newrnode,
									 char persistence,
									 TransactionId *freezeXid,
									 MultiXactId *minmulti)
{
	SMgrRelation srel;

	if (persistence != RELPERSISTENCE_PERMANENT)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ledger tables cannot be %s",
						persistence == RELPERSISTENCE_TEMP ? "temporary" : "unlogged"),
				 errhint("Create the table without TEMPORARY or UNLOGGED, or use the heap access method.")));

	/* a TRUNCATE: the old relfilenode's segments disappear at commit */
	if (OidIsValid(rel->rd_node.relNode) &&
		rel->rd_node.relNode != newrnode->relNode)
	{
		LedgerStoreDropStorage(rel->rd_node.relNode);
		LedgerKeyStoreClear(RelationGetRelid(rel));
	}

	*freezeXid = RecentXmin;
	*minmulti = GetOldestMultiXactId();

	srel = RelationCreateStorage(*newrnode, persistence, true);
	smgrclose(srel);
}

/* empties rel's relfilenode, created in this subtransaction */
static void
ledger_tam_relation_nontransactional_truncate(Relation rel)
{
	LedgerWriteForget(RelationGetRelid(rel));
	LedgerStoreDropStorage(rel->rd_node.relNode);
	LedgerKeyStoreClear(RelationGetRelid(rel));
}

/* moves rel to a new relfilenode (ALTER TABLE SET TABLESPACE) */
static void
ledger_tam_relation_copy_data(Relation rel, const RelFileNode *newrnode)
{
	SMgrRelation dstrel;
	Snapshot	snapshot;

	dstrel = smgropen(*newrnode, rel->rd_backend);
	RelationCreateStorage(*newrnode, rel->rd_rel->relpersistence, true);
	FlushRelationBuffers(rel);
	RelationCopyStorage(RelationGetSmgr(rel), dstrel, MAIN_FORKNUM,
						rel->rd_rel->relpersistence);
	smgrclose(dstrel);

	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	LedgerStoreCopyStorage(rel, snapshot, newrnode->relNode);
	UnregisterSnapshot(snapshot);
	LedgerStoreDropStorage(rel->rd_node.relNode);
	LedgerWriteRetarget(rel, newrnode->relNode);
}

/* VACUUM FULL / CLUSTER: copies every segment to the new relfilenode */
static void
ledger_tam_relation_copy_for_cluster(Relation OldTable, Relation NewTable,
									 Relation OldIndex, bool use_sort,
									 TransactionId OldestXmin,
									 TransactionId *xid_cutoff,
									 MultiXactId *multi_cutoff,
									 double *num_tuples,
									 double *tups_vacuumed,
									 double *tups_recently_dead)
{
	Snapshot	snapshot;
	int64		rows,
				nsegments,
				bytes,
				next_row;

	if (OldIndex != NULL)
		unsupported(OldTable, "CLUSTER",
					"Ledger tables have no indexes to cluster on; use VACUUM FULL.");

	LedgerWriteFlush(OldTable);
	CommandCounterIncrement();

	snapshot = RegisterSnapshot(GetLatestSnapshot());
	LedgerStoreCopyStorage(OldTable, snapshot, NewTable->rd_node.relNode);
	LedgerStoreTotals(OldTable, snapshot, &rows, &nsegments, &bytes);
	UnregisterSnapshot(snapshot);

	/* the copies keep their row numbers: continue the counter */
	next_row = LedgerStoreNextRow(OldTable);
	if (next_row > 0)
		(void) LedgerStoreReserveRows(NewTable, next_row);

	*num_tuples = rows;
	*tups_vacuumed = 0;
	*tups_recently_dead = 0;
}

/* VACUUM: nothing to reclaim in the relation itself; updates statistics */
static void
ledger_tam_relation_vacuum(Relation rel, VacuumParams *params,
						   BufferAccessStrategy bstrategy)
{
	int64		rows,
				nsegments,
				bytes;
	bool		frozenxid_updated,
				minmulti_updated;
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());

	LedgerStoreTotals(rel, snapshot, &rows, &nsegments, &bytes);
	UnregisterSnapshot(snapshot);

	/*
	 * The relation holds no tuples with transaction ids (its rows live in
	 * the segment catalogs, which VACUUM visits on their own), so its
	 * relfrozenxid can advance to the oldest xid still of interest.
	 */
	vac_update_relstats(rel, (BlockNumber) Max(1, bytes / BLCKSZ),
						(double) rows, 0, false,
						GetOldestNonRemovableTransactionId(rel),
						GetOldestMultiXactId(),
						&frozenxid_updated, &minmulti_updated, false);
}

/* ANALYZE: the sampled block's 291 row numbers */
static bool
ledger_tam_scan_analyze_next_block(TableScanDesc sscan, BlockNumber blockno,
								   BufferAccessStrategy bstrategy)
{
	LedgerScanDesc scan = (LedgerScanDesc) sscan;
	int64		from = (int64) blockno * MaxHeapTuplesPerPage;

	LedgerReaderSetRange(scan->reader, from, from + MaxHeapTuplesPerPage);
	return true;
}

/* ANALYZE: the next row of the sampled block */
static bool
ledger_tam_scan_analyze_next_tuple(TableScanDesc sscan,
								   TransactionId OldestXmin,
								   double *liverows, double *deadrows,
								   TupleTableSlot *slot)
{
	LedgerScanDesc scan = (LedgerScanDesc) sscan;

	if (LedgerReaderNext(scan->reader, slot))
	{
		*liverows += 1;
		return true;
	}
	return false;
}

static double
ledger_tam_index_build_range_scan(Relation table_rel, Relation index_rel,
								  struct IndexInfo *index_info,
								  bool allow_sync, bool anyvisible,
								  bool progress, BlockNumber start_blockno,
								  BlockNumber numblocks,
								  IndexBuildCallback callback,
								  void *callback_state,
								  TableScanDesc scan)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot create index \"%s\" on ledger table \"%s\"",
					RelationGetRelationName(index_rel),
					RelationGetRelationName(table_rel)),
			 errdetail("Ledger tables keep zone maps and a bitmap index on every dimension column instead."),
			 errhint("Remove the index, PRIMARY KEY or UNIQUE constraint.")));
	return 0;
}

static void
ledger_tam_index_validate_scan(Relation table_rel, Relation index_rel,
							   struct IndexInfo *index_info,
							   Snapshot snapshot,
							   struct ValidateIndexState *state)
{
	unsupported(table_rel, "CREATE INDEX CONCURRENTLY",
				"Remove the index; ledger tables cannot have indexes.");
}

/* ------------------------------------------------------------------------
 * planner related callbacks
 * ------------------------------------------------------------------------
 */

/*
 * The main fork holds only the metapage; report the virtual size of the
 * TID space so ANALYZE samples every row number.
 */
static uint64
ledger_tam_relation_size(Relation rel, ForkNumber forkNumber)
{
	uint64		nblocks;

	if (forkNumber != MAIN_FORKNUM && forkNumber != InvalidForkNumber)
	{
		if (smgrexists(RelationGetSmgr(rel), forkNumber))
			return (uint64) smgrnblocks(RelationGetSmgr(rel), forkNumber) * BLCKSZ;
		return 0;
	}
	nblocks = (LedgerStoreNextRow(rel) + MaxHeapTuplesPerPage - 1) /
		MaxHeapTuplesPerPage;
	return nblocks * BLCKSZ;
}

static bool
ledger_tam_relation_needs_toast_table(Relation rel)
{
	return false;
}

static Oid
ledger_tam_relation_toast_am(Relation rel)
{
	return HEAP_TABLE_AM_OID;
}

/* row count from segment metadata; pages from compressed bytes */
static void
ledger_tam_relation_estimate_size(Relation rel, int32 *attr_widths,
								  BlockNumber *pages, double *tuples,
								  double *allvisfrac)
{
	int64		rows,
				nsegments,
				bytes;
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());

	LedgerStoreTotals(rel, snapshot, &rows, &nsegments, &bytes);
	UnregisterSnapshot(snapshot);

	*tuples = (double) rows;
	*pages = (BlockNumber) Max(rows > 0 ? 1 : 0, bytes / BLCKSZ);
	*allvisfrac = 0;
}

/* ------------------------------------------------------------------------
 * TABLESAMPLE over the virtual blocks of the TID space
 * ------------------------------------------------------------------------
 */

static bool
ledger_tam_scan_sample_next_block(TableScanDesc sscan,
								  struct SampleScanState *scanstate)
{
	LedgerScanDesc scan = (LedgerScanDesc) sscan;
	TsmRoutine *tsm = scanstate->tsmroutine;
	BlockNumber blockno;

	if (scan->sample_nblocks == 0)
		scan->sample_nblocks = (LedgerStoreNextRow(sscan->rs_rd) +
								MaxHeapTuplesPerPage - 1) / MaxHeapTuplesPerPage;
	if (tsm->NextSampleBlock)
	{
		blockno = tsm->NextSampleBlock(scanstate, scan->sample_nblocks);
		if (!BlockNumberIsValid(blockno))
			return false;
	}
	else
	{
		if (scan->sample_next >= scan->sample_nblocks)
			return false;
		blockno = scan->sample_next++;
	}
	scan->sample_block = blockno;
	return true;
}

static bool
ledger_tam_scan_sample_next_tuple(TableScanDesc sscan,
								  struct SampleScanState *scanstate,
								  TupleTableSlot *slot)
{
	LedgerScanDesc scan = (LedgerScanDesc) sscan;
	TsmRoutine *tsm = scanstate->tsmroutine;
	BlockNumber blockno = scan->sample_block;

	for (;;)
	{
		OffsetNumber off = tsm->NextSampleTuple(scanstate, blockno,
												MaxHeapTuplesPerPage);
		int64		rownum;

		if (!OffsetNumberIsValid(off))
			return false;
		rownum = (int64) blockno * MaxHeapTuplesPerPage + off - 1;
		LedgerReaderSetRange(scan->reader, rownum, rownum + 1);
		if (LedgerReaderNext(scan->reader, slot))
			return true;
	}
}

/* ------------------------------------------------------------------------
 * the routine
 * ------------------------------------------------------------------------
 */

static const TableAmRoutine ledger_tam_methods = {
	.type = T_TableAmRoutine,

	.slot_callbacks = ledger_tam_slot_callbacks,

	.scan_begin = ledger_tam_scan_begin,
	.scan_end = ledger_tam_scan_end,
	.scan_rescan = ledger_tam_scan_rescan,
	.scan_getnextslot = ledger_tam_scan_getnextslot,

	.scan_set_tidrange = ledger_tam_scan_set_tidrange,
	.scan_getnextslot_tidrange = ledger_tam_scan_getnextslot_tidrange,

	.parallelscan_estimate = ledger_tam_parallelscan_estimate,
	.parallelscan_initialize = ledger_tam_parallelscan_initialize,
	.parallelscan_reinitialize = ledger_tam_parallelscan_reinitialize,

	.index_fetch_begin = ledger_tam_index_fetch_begin,
	.index_fetch_reset = ledger_tam_index_fetch_reset,
	.index_fetch_end = ledger_tam_index_fetch_end,
	.index_fetch_tuple = ledger_tam_index_fetch_tuple,

	.tuple_fetch_row_version = ledger_tam_tuple_fetch_row_version,
	.tuple_tid_valid = ledger_tam_tuple_tid_valid,
	.tuple_get_latest_tid = ledger_tam_tuple_get_latest_tid,
	.tuple_satisfies_snapshot = ledger_tam_tuple_satisfies_snapshot,
	.index_delete_tuples = ledger_tam_index_delete_tuples,

	.tuple_insert = ledger_tam_tuple_insert,
	.tuple_insert_speculative = ledger_tam_tuple_insert_speculative,
	.tuple_complete_speculative = ledger_tam_tuple_complete_speculative,
	.multi_insert = ledger_tam_multi_insert,
	.tuple_delete = ledger_tam_tuple_delete,
	.tuple_update = ledger_tam_tuple_update,
	.tuple_lock = ledger_tam_tuple_lock,
	.finish_bulk_insert = ledger_tam_finish_bulk_insert,

	.relation_set_new_filenode = ledger_tam_relation_set_new_filenode,
	.relation_nontransactional_truncate = ledger_tam_relation_nontransactional_truncate,
	.relation_copy_data = ledger_tam_relation_copy_data,
	.relation_copy_for_cluster = ledger_tam_relation_copy_for_cluster,
	.relation_vacuum = ledger_tam_relation_vacuum,
	.scan_analyze_next_block = ledger_tam_scan_analyze_next_block,
	.scan_analyze_next_tuple = ledger_tam_scan_analyze_next_tuple,
	.index_build_range_scan = ledger_tam_index_build_range_scan,
	.index_validate_scan = ledger_tam_index_validate_scan,

	.relation_size = ledger_tam_relation_size,
	.relation_needs_toast_table = ledger_tam_relation_needs_toast_table,
	.relation_toast_am = ledger_tam_relation_toast_am,
	.relation_fetch_toast_slice = heap_fetch_toast_slice,

	.relation_estimate_size = ledger_tam_relation_estimate_size,

	.scan_bitmap_next_block = NULL,
	.scan_bitmap_next_tuple = NULL,
	.scan_sample_next_block = ledger_tam_scan_sample_next_block,
	.scan_sample_next_tuple = ledger_tam_scan_sample_next_tuple
};

/* the handler function named in CREATE ACCESS METHOD */
Datum
ledger_tam_handler(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(&ledger_tam_methods);
}

/* oid of the ledger access method, InvalidOid if not installed */
Oid
LedgerAmOid(void)
{
	return get_am_oid(LEDGER_AM_NAME, true);
}

/* true if rel is a table using the ledger access method */
bool
LedgerIsLedger(Relation rel)
{
	return rel->rd_tableam == &ledger_tam_methods;
}

/* true if relid is a table using the ledger access method */
bool
LedgerIsLedgerRelid(Oid relid)
{
	HeapTuple	tup;
	bool		result = false;

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tup);

		result = form->relkind == RELKIND_RELATION &&
			OidIsValid(form->relam) && form->relam == LedgerAmOid();
		ReleaseSysCache(tup);
	}
	return result;
}

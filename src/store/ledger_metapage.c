/*-------------------------------------------------------------------------
 *
 * ledger_metapage.c
 *	  The row-number counter kept on block 0 of a ledger's main fork.
 *
 * NOTES
 *	  Every segment reserves a contiguous range of row numbers, from which
 *	  its TIDs are derived (see LedgerRowNumberToTid).  Row numbers must
 *	  never be reused, also not after a rollback, so the counter is not an
 *	  MVCC row: it lives on a page of the ledger's own relation fork and is
 *	  changed with generic WAL, which gives crash safety and replication.
 *	  A new relfilenode (TRUNCATE, rewrite) starts with a fresh counter,
 *	  which is fine because it starts without segments.
 *
 *	  The buffer content lock serializes reservations; the relation
 *	  extension lock serializes the creation of the page.
 *
 * IDENTIFICATION
 *	  src/store/ledger_metapage.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "access/htup_details.h"
#include "ledger/store.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/smgr.h"
#include "utils/rel.h"

#define LEDGER_META_MAGIC	0x4C454447	/* "LEDG" */
#define LEDGER_META_VERSION 1

typedef struct LedgerMetaPageData
{
	uint32		magic;
	uint32		version;
	int64		next_row;
} LedgerMetaPageData;

#define LedgerPageGetMeta(page) ((LedgerMetaPageData *) PageGetContents(page))

/* largest row number whose TID is representable */
#define LEDGER_MAX_ROW_NUMBER ((int64) LEDGER_PSEUDO_BLOCK_BASE * MaxHeapTuplesPerPage)

/* checks the metapage's magic; raises ERRCODE_DATA_CORRUPTED if wrong */
static LedgerMetaPageData *
checked_meta(Relation rel, Page page)
{
	LedgerMetaPageData *meta = LedgerPageGetMeta(page);

	if (PageIsNew(page) || meta->magic != LEDGER_META_MAGIC ||
		meta->version != LEDGER_META_VERSION || meta->next_row < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ledger metapage of \"%s\" is corrupted",
						RelationGetRelationName(rel))));
	return meta;
}

/* creates block 0 if the fork is empty; caller holds no buffer locks */
static void
ensure_metapage(Relation rel)
{
	Buffer		buf;
	GenericXLogState *state;
	Page		page;
	LedgerMetaPageData *meta;

	if (smgrnblocks(RelationGetSmgr(rel), MAIN_FORKNUM) > 0)
		return;

	LockRelationForExtension(rel, ExclusiveLock);
	if (smgrnblocks(RelationGetSmgr(rel), MAIN_FORKNUM) == 0)
	{
		buf = ReadBufferExtended(rel, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		Assert(BufferGetBlockNumber(buf) == 0);

		state = GenericXLogStart(rel);
		page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
		PageInit(page, BLCKSZ, 0);
		meta = LedgerPageGetMeta(page);
		meta->magic = LEDGER_META_MAGIC;
		meta->version = LEDGER_META_VERSION;
		meta->next_row = 0;
		((PageHeader) page)->pd_lower =
			((char *) meta + sizeof(LedgerMetaPageData)) - (char *) page;
		GenericXLogFinish(state);
		UnlockReleaseBuffer(buf);
	}
	UnlockRelationForExtension(rel, ExclusiveLock);
}

/* reserves nrows contiguous row numbers of rel and returns the first */
int64
LedgerStoreReserveRows(Relation rel, int64 nrows)
{
	Buffer		buf;
	GenericXLogState *state;
	Page		page;
	LedgerMetaPageData *meta;
	int64		first;

	Assert(nrows > 0);
	ensure_metapage(rel);

	buf = ReadBuffer(rel, 0);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(rel);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	meta = checked_meta(rel, page);
	first = meta->next_row;
	if (first > LEDGER_MAX_ROW_NUMBER - nrows)
	{
		GenericXLogAbort(state);
		UnlockReleaseBuffer(buf);
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("ledger \"%s\" has used up its row number space",
						RelationGetRelationName(rel)),
				 errhint("Rewrite the table with VACUUM FULL to start a new row number space.")));
	}
	meta->next_row = first + nrows;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);

	return first;
}

/* the next row number rel would reserve; 0 for a ledger never written */
int64
LedgerStoreNextRow(Relation rel)
{
	Buffer		buf;
	int64		next;

	if (smgrnblocks(RelationGetSmgr(rel), MAIN_FORKNUM) == 0)
		return 0;

	buf = ReadBuffer(rel, 0);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	next = checked_meta(rel, BufferGetPage(buf))->next_row;
	UnlockReleaseBuffer(buf);
	return next;
}

/* maps a row number to its TID: 291 rows per virtual block */
void
LedgerRowNumberToTid(int64 rownum, ItemPointer tid)
{
	ItemPointerSet(tid, (BlockNumber) (rownum / MaxHeapTuplesPerPage),
				   (OffsetNumber) (rownum % MaxHeapTuplesPerPage + 1));
}

/* maps a TID back to its row number */
int64
LedgerTidToRowNumber(ItemPointer tid)
{
	return (int64) ItemPointerGetBlockNumber(tid) * MaxHeapTuplesPerPage +
		(ItemPointerGetOffsetNumber(tid) - 1);
}

/*-------------------------------------------------------------------------
 *
 * write.h
 *	  Interface of the write component: the per-transaction write buffer.
 *
 * NOTES
 *	  Inserted rows are buffered per relation and per subtransaction and
 *	  written as a segment when the buffer is full, at finish_bulk_insert
 *	  (COPY, CREATE TABLE AS, rewrites), and at pre-commit / pre-prepare.
 *	  A subtransaction abort discards exactly its rows.  Scans of the same
 *	  transaction read buffered rows directly (LedgerWriteBeginRead), so no
 *	  flush is needed to see them.  See src/write/README.md.
 *
 * IDENTIFICATION
 *	  src/include/ledger/write.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_WRITE_H
#define LEDGER_WRITE_H

#include "postgres.h"

#include "executor/tuptable.h"
#include "nodes/pg_list.h"
#include "storage/itemptr.h"
#include "utils/rel.h"

/* a run of buffered rows visible to a reader (column-major arrays) */
typedef struct LedgerBufferedRows
{
	int			natts;			/* attributes in the arrays (may be < rel's) */
	int			nrows;			/* rows visible to the reader */
	Datum	  **values;			/* values[att][row] */
	bool	  **isnull;
	int64		pseudo_base;	/* pseudo row number of row 0 */
	int64	   *events;			/* rollup groups: events per row; else NULL */
	void	   *level;			/* private: the pinned buffer level */
} LedgerBufferedRows;

/* installs the transaction callbacks; called once from _PG_init */
extern void LedgerWriteInit(void);

/* buffers nslots rows for rel, inserted by command cid; sets their TIDs */
extern void LedgerWriteInsert(Relation rel, TupleTableSlot **slots,
							  int nslots, CommandId cid);

/* writes rel's rows buffered by the current subtransaction as segments */
extern void LedgerWriteFlush(Relation rel);

/* forgets every buffered row of relid (the relation is being dropped) */
extern void LedgerWriteForget(Oid relid);

/* buffered rows now belong to storage newstorage (SET TABLESPACE) */
extern void LedgerWriteRetarget(Relation rel, Oid newstorage);

/* true if this transaction has buffered rows for relid */
extern bool LedgerWriteHasRows(Oid relid);

/*
 * Pins and returns (as a List of LedgerBufferedRows *) rel's buffered rows
 * that a snapshot with command id curcid may see; release with
 * LedgerWriteEndRead.
 */
extern List *LedgerWriteBeginRead(Relation rel, CommandId curcid);
extern void LedgerWriteEndRead(List *runs);

/*
 * Finds the buffered row with pseudo TID tid: returns false if none, else
 * sets *run and *rowidx, or, if the row has meanwhile been written to a
 * segment, sets *rownum to its real row number and *run to NULL.
 */
extern bool LedgerWriteFindPseudo(Relation rel, ItemPointer tid,
								  LedgerBufferedRows *run, int *rowidx,
								  int64 *rownum);

/* the ledger's time column for segment time ranges, or 0 */
extern AttrNumber LedgerTimeColumn(Relation rel);

#endif							/* LEDGER_WRITE_H */

/*-------------------------------------------------------------------------
 *
 * write_internal.h
 *	  Structures shared by the files of the write component.
 *
 * IDENTIFICATION
 *	  src/write/write_internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_WRITE_INTERNAL_H
#define LEDGER_WRITE_INTERNAL_H

#include "postgres.h"

#include "ledger/rollup.h"
#include "utils/rel.h"

/* a block of a level's arena */
typedef struct ArenaBlock
{
	char	   *data;
	Size		size;
} ArenaBlock;

/* buffered rows of one relation from one (subtransaction, relfilenode) */
typedef struct WriteLevel
{
	struct WriteLevel *next;	/* older level of the same relation */
	SubTransactionId subid;
	Oid			storage;		/* relfilenode the rows were inserted into */
	MemoryContext cxt;
	int			natts;
	int			nrows;
	int			capacity;
	Datum	  **values;
	bool	  **isnull;
	CommandId  *cids;
	int64		pseudo_base;
	Size		bytes;
	int			pins;
	char	   *arena;			/* current arena block */
	Size		arena_free;
	Size		arena_block;	/* size of the newest arena block */
	List	   *blocks;			/* ArenaBlock *, kept for reuse */
	int			block_next;		/* next kept block to take */
	List	   *large;			/* values too large for the arena */
	/* rollup ledgers: rows are groups folded under one command id */
	LedgerGroupTable *groups;	/* NULL for a raw level */
	CommandId	cid;
	uint64		generation;		/* of the rollup spec the rows were folded by */
} WriteLevel;

/* the buffer of one relation */
typedef struct WriteState
{
	Oid			relid;			/* hash key */
	WriteLevel *levels;			/* newest first */
	int64		next_pseudo;	/* next unused pseudo row number */
	WriteLevel *ghosts;			/* rows a keyed ledger skipped, kept only
								 * for AFTER ROW triggers; never written */
} WriteState;

/* pseudo row numbers of ghost rows start here */
#define GHOST_PSEUDO_BASE	(((int64) 0x08000000) * MaxHeapTuplesPerPage)

extern MemoryContext WriteContext;

extern WriteLevel *write_new_level(Relation rel, WriteState *state);
extern void write_release_level(WriteLevel *level);
extern void write_grow_level(WriteLevel *level, int need);
extern void write_widen_level(WriteLevel *level, TupleDesc tupdesc);
extern int64 write_segment(Relation rel, int natts, Datum **values,
						   bool **isnull, int64 *events, LedgerRollup *rollup,
						   int from, int n, CommandId cid);

/* rollup ledgers (ledger_write_rollup.c) */
extern void write_rollup_insert(Relation rel, WriteState *state,
								LedgerRollup *rollup, TupleTableSlot **slots,
								int nslots, CommandId cid);
extern void write_rollup_add_prepared(Relation rel, WriteState *state,
									  LedgerRollup *rollup, Datum *values,
									  bool *isnull, int64 events,
									  CommandId cid);
extern void write_rollup_flush(Relation rel, LedgerRollup *rollup,
							   List *levels, CommandId stamp);

#endif							/* LEDGER_WRITE_INTERNAL_H */

/*-------------------------------------------------------------------------
 *
 * ledger_write.c
 *	  The per-transaction write buffer of ledger relations.
 *
 * NOTES
 *	  Rows are kept column-major per relation in "levels": one level per
 *	  (subtransaction, relfilenode) pair that inserted rows, newest first.
 *	  A level remembers the command id of each row (nondecreasing), and a
 *	  pseudo row number range so every buffered row has a stable TID above
 *	  LEDGER_PSEUDO_BLOCK_BASE.
 *
 *	  - sub-commit relabels the levels to the parent subtransaction;
 *	  - sub-abort throws its levels away;
 *	  - pre-commit and pre-prepare write every level whose relfilenode is
 *	    still the relation's (rows of a truncated or rewritten relfilenode
 *	    are dropped: the rewrite has copied them, TRUNCATE removed them);
 *	  - a full level is written at once, stamped so that commands which
 *	    could see its rows still do (see flush_levels).
 *
 *	  A scan pins the levels it reads.  A pinned level that is written or
 *	  discarded is moved to a graveyard freed at transaction end, so the
 *	  scan's arrays stay valid.  All memory hangs below WriteContext, which
 *	  is reset at the end of every transaction.
 *
 * IDENTIFICATION
 *	  src/write/ledger_write.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "ledger/ledger.h"
#include "ledger/segment.h"
#include "ledger/store.h"
#include "ledger/upsert.h"
#include "ledger/write.h"
#include "ledger/rollup.h"
#include "write_internal.h"
#include "miscadmin.h"
#include "access/relation.h"
#include "utils/date.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#define ARENA_BLOCK_MIN		(8 * 1024)
#define ARENA_BLOCK_MAX		(1024 * 1024)
#define ARENA_LARGE_VALUE	(64 * 1024)

/* a level written to a segment: where its pseudo row numbers went */
typedef struct FlushedRange
{
	Oid			relid;
	int64		pseudo_base;
	int			nrows;
	int64		first_row;
} FlushedRange;

MemoryContext WriteContext = NULL;
static HTAB *WriteStates = NULL;
static List *Graveyard = NIL;	/* pinned levels no longer in use */
static List *FlushedRanges = NIL;

/* creates the per-transaction structures on first use */
static void
ensure_write_context(void)
{
	HASHCTL		ctl;

	if (WriteStates != NULL)
		return;
	if (WriteContext == NULL)
		WriteContext = AllocSetContextCreate(TopMemoryContext,
											 "ledger write buffers",
											 ALLOCSET_DEFAULT_SIZES);
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(WriteState);
	ctl.hcxt = WriteContext;
	WriteStates = hash_create("ledger write states", 16, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* frees every buffer; called at transaction end */
static void
reset_write_state(void)
{
	WriteStates = NULL;
	Graveyard = NIL;
	FlushedRanges = NIL;
	if (WriteContext != NULL)
		MemoryContextReset(WriteContext);
}

/* frees a level, or parks it in the graveyard while a scan pins it */
void
write_release_level(WriteLevel *level)
{
	if (level->pins > 0)
	{
		MemoryContext old = MemoryContextSwitchTo(WriteContext);

		Graveyard = lappend(Graveyard, level);
		MemoryContextSwitchTo(old);
	}
	else
		MemoryContextDelete(level->cxt);
}

/* a new, empty level for rel in the current subtransaction */
WriteLevel *
write_new_level(Relation rel, WriteState *state)
{
	MemoryContext cxt;
	WriteLevel *level;
	int			natts = RelationGetDescr(rel)->natts;

	cxt = AllocSetContextCreate(WriteContext, "ledger write level",
								ALLOCSET_DEFAULT_SIZES);
	level = MemoryContextAllocZero(cxt, sizeof(WriteLevel));
	level->cxt = cxt;
	level->subid = GetCurrentSubTransactionId();
	level->storage = rel->rd_node.relNode;
	level->natts = natts;
	level->capacity = 0;
	level->values = MemoryContextAllocZero(cxt, sizeof(Datum *) * Max(natts, 1));
	level->isnull = MemoryContextAllocZero(cxt, sizeof(bool *) * Max(natts, 1));
	level->pseudo_base = state->next_pseudo;
	return level;
}

/* grows a level's arrays to hold at least need rows */
void
write_grow_level(WriteLevel *level, int need)
{
	int			newcap = Max(level->capacity * 2, 16);

	while (newcap < need)
		newcap *= 2;
	newcap = Min(newcap, LEDGER_SEGMENT_MAX_ROWS);
	Assert(newcap >= need);
	for (int i = 0; i < level->natts; i++)
	{
		if (level->capacity == 0)
		{
			level->values[i] = MemoryContextAllocHuge(level->cxt, sizeof(Datum) * newcap);
			level->isnull[i] = MemoryContextAllocHuge(level->cxt, sizeof(bool) * newcap);
		}
		else
		{
			level->values[i] = repalloc_huge(level->values[i], sizeof(Datum) * newcap);
			level->isnull[i] = repalloc_huge(level->isnull[i], sizeof(bool) * newcap);
		}
	}
	if (level->capacity == 0)
		level->cids = MemoryContextAllocHuge(level->cxt, sizeof(CommandId) * newcap);
	else
		level->cids = repalloc_huge(level->cids, sizeof(CommandId) * newcap);
	level->capacity = newcap;
}

/* adds columns added by ALTER TABLE since the level was made */
void
write_widen_level(WriteLevel *level, TupleDesc tupdesc)
{
	int			natts = tupdesc->natts;

	if (natts <= level->natts)
		return;
	level->values = repalloc(level->values, sizeof(Datum *) * natts);
	level->isnull = repalloc(level->isnull, sizeof(bool *) * natts);
	for (int i = level->natts; i < natts; i++)
	{
		bool		missing_null;
		Datum		missing = getmissingattr(tupdesc, i + 1, &missing_null);

		level->values[i] = MemoryContextAllocHuge(level->cxt,
												  sizeof(Datum) * Max(level->capacity, 1));
		level->isnull[i] = MemoryContextAllocHuge(level->cxt,
												  sizeof(bool) * Max(level->capacity, 1));
		/* missing values live in the relcache entry: copy them */
		if (!missing_null && !TupleDescAttr(tupdesc, i)->attbyval)
		{
			MemoryContext old = MemoryContextSwitchTo(level->cxt);

			missing = datumCopy(missing, false, TupleDescAttr(tupdesc, i)->attlen);
			MemoryContextSwitchTo(old);
		}
		for (int r = 0; r < level->nrows; r++)
		{
			level->values[i][r] = missing;
			level->isnull[i][r] = missing_null;
		}
	}
	level->natts = natts;
	if (level->groups)
	{
		level->groups->values = level->values;
		level->groups->isnull = level->isnull;
		level->groups->natts = natts;
	}
}

/* copies size bytes into the level's arena, aligned for any type */
static char *
arena_copy(WriteLevel *level, const void *src, Size size)
{
	char	   *dst;
	Size		need = MAXALIGN(size);

	if (size >= ARENA_LARGE_VALUE)
	{
		MemoryContext old = MemoryContextSwitchTo(level->cxt);

		dst = palloc_extended(size, MCXT_ALLOC_HUGE);
		level->large = lappend(level->large, dst);
		MemoryContextSwitchTo(old);
	}
	else
	{
		while (level->arena == NULL || level->arena_free < need)
		{
			ArenaBlock *b;

			/* the next kept block, when the level is being reused */
			if (level->block_next < list_length(level->blocks))
			{
				b = list_nth(level->blocks, level->block_next++);
				level->arena = b->data;
				level->arena_free = b->size;
				continue;
			}
			/* arena blocks grow, so a one-row transaction stays small */
			level->arena_block = level->arena_block == 0 ? ARENA_BLOCK_MIN :
				Min(level->arena_block * 2, ARENA_BLOCK_MAX);
			while (level->arena_block < need)
				level->arena_block *= 2;
			b = MemoryContextAlloc(level->cxt, sizeof(ArenaBlock));
			b->size = level->arena_block;
			b->data = MemoryContextAlloc(level->cxt, b->size);
			{
				MemoryContext old = MemoryContextSwitchTo(level->cxt);

				level->blocks = lappend(level->blocks, b);
				MemoryContextSwitchTo(old);
			}
			level->block_next = list_length(level->blocks);
			level->arena = b->data;
			level->arena_free = b->size;
		}
		dst = level->arena;
		level->arena += need;
		level->arena_free -= need;
	}
	memcpy(dst, src, size);
	level->bytes += need;
	return dst;
}

/*
 * Empties a written, unpinned level for the next rows, keeping its arrays
 * and arena blocks: a long COPY reuses the same memory for every segment
 * instead of faulting fresh pages in.
 */
static void
reuse_level(WriteState *state, WriteLevel *level)
{
	ListCell   *lc;

	foreach(lc, level->large)
		pfree(lfirst(lc));
	list_free(level->large);
	level->large = NIL;
	level->nrows = 0;
	level->bytes = 0;
	level->arena = NULL;
	level->arena_free = 0;
	level->block_next = 0;
	level->pseudo_base = state->next_pseudo;
}

/* copies one value of attribute att into the level, detoasted */
static Datum
copy_value(WriteLevel *level, Form_pg_attribute att, Datum value)
{
	if (att->attbyval)
		return value;
	if (att->attlen > 0)
		return PointerGetDatum(arena_copy(level, DatumGetPointer(value),
										  att->attlen));
	if (att->attlen == -1)
	{
		struct varlena *v = (struct varlena *) DatumGetPointer(value);
		struct varlena *detoasted = NULL;
		Datum		result;

		if (VARATT_IS_EXTENDED(v) && !VARATT_IS_SHORT(v))
			v = detoasted = detoast_attr(v);

		if (!VARATT_IS_SHORT(v) && VARATT_CAN_MAKE_SHORT(v))
		{
			/* store small values with a 1-byte header, as heap does */
			Size		len = VARATT_CONVERTED_SHORT_SIZE(v);
			char	   *dst;

			dst = arena_copy(level, VARDATA(v) - VARHDRSZ_SHORT, len);
			SET_VARSIZE_SHORT(dst, len);
			result = PointerGetDatum(dst);
		}
		else
			result = PointerGetDatum(arena_copy(level, v, VARSIZE_ANY(v)));
		if (detoasted)
			pfree(detoasted);
		return result;
	}
	/* cstring */
	return PointerGetDatum(arena_copy(level, DatumGetPointer(value),
									  strlen(DatumGetCString(value)) + 1));
}

/* the buffer state of rel, created on first use */
static WriteState *
get_state(Oid relid, bool create)
{
	bool		found;
	WriteState *state;

	if (!create && WriteStates == NULL)
		return NULL;
	ensure_write_context();
	state = hash_search(WriteStates, &relid, create ? HASH_ENTER : HASH_FIND,
						&found);
	if (state && !found)
	{
		state->levels = NULL;
		state->next_pseudo = 0;
		state->ghosts = NULL;
	}
	return state;
}

/* records that a level's pseudo rows [from, from+n) now are real rows */
static void
remember_flushed(Oid relid, WriteLevel *level, int from, int n, int64 first_row)
{
	MemoryContext old = MemoryContextSwitchTo(WriteContext);
	FlushedRange *fr = palloc(sizeof(FlushedRange));

	fr->relid = relid;
	fr->pseudo_base = level->pseudo_base + from;
	fr->nrows = n;
	fr->first_row = first_row;
	FlushedRanges = lappend(FlushedRanges, fr);
	MemoryContextSwitchTo(old);
}

/*
 * Writes the rows of one level as segments.  Rows of earlier commands are
 * stamped with the newest of their command ids, rows of the current
 * command with the current one, so that every command that may see a row
 * sees its segment and no command sees rows it must not.
 */
static void
flush_level(Relation rel, WriteLevel *level)
{
	CommandId	curcid = GetCurrentCommandId(true);
	int			start = 0;

	while (start < level->nrows)
	{
		int			end = start;
		CommandId	stamp;

		/* rows of earlier commands first, then those of this command */
		if (level->cids[start] < curcid)
		{
			while (end < level->nrows && level->cids[end] < curcid)
				end++;
			stamp = level->cids[end - 1];
		}
		else
		{
			end = level->nrows;
			stamp = curcid;
		}
		while (start < end)
		{
			int			n = Min(end - start, ledger_segment_rows);
			int64		first_row;

			/*
			 * Reserve and write; the pseudo rows map to the real ones for
			 * AFTER triggers that fetch them later.
			 */
			first_row = write_segment(rel, level->natts, level->values,
									  level->isnull, NULL, NULL, start, n,
									  stamp);
			remember_flushed(RelationGetRelid(rel), level, start, n, first_row);
			start += n;
		}
	}
}

/* writes and removes rel's levels selected by subid (or all if Invalid) */
static void
flush_state(Relation rel, WriteState *state, SubTransactionId subid)
{
	WriteLevel **prev = &state->levels;
	WriteLevel *level;
	List	   *order = NIL;
	List	   *rollup_levels = NIL;
	ListCell   *lc;

	/* collect oldest first so segments follow insertion order */
	for (level = state->levels; level != NULL; level = level->next)
		if (subid == InvalidSubTransactionId || level->subid == subid)
			order = lcons(level, order);

	foreach(lc, order)
	{
		level = lfirst(lc);
		if (level->storage != rel->rd_node.relNode || level->nrows == 0)
			continue;
		if (level->groups != NULL)
			rollup_levels = lappend(rollup_levels, level);
		else
			flush_level(rel, level);
	}
	if (rollup_levels != NIL)
	{
		LedgerRollup *rollup = LedgerRollupGet(rel);

		if (rollup == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("rollup configuration of \"%s\" disappeared while rows were buffered",
							RelationGetRelationName(rel)),
					 errhint("Retry the transaction.")));
		write_rollup_flush(rel, rollup, rollup_levels, GetCurrentCommandId(true));
	}

	/* unlink and free them */
	while ((level = *prev) != NULL)
	{
		if (subid == InvalidSubTransactionId || level->subid == subid)
		{
			*prev = level->next;
			write_release_level(level);
		}
		else
			prev = &level->next;
	}
	list_free(order);
}

/* copies slot's row to the end of a raw level; returns its index */
static int
append_row(WriteLevel *level, TupleDesc tupdesc, TupleTableSlot *slot,
		   CommandId cid)
{
	MemoryContext old;
	int			r;

	write_widen_level(level, tupdesc);
	if (level->nrows >= level->capacity)
		write_grow_level(level, level->nrows + 1);
	slot_getallattrs(slot);
	old = MemoryContextSwitchTo(level->cxt);
	r = level->nrows;
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (att->attisdropped || slot->tts_isnull[i])
		{
			level->values[i][r] = (Datum) 0;
			level->isnull[i][r] = true;
		}
		else
		{
			level->values[i][r] = copy_value(level, att, slot->tts_values[i]);
			level->isnull[i][r] = false;
		}
	}
	MemoryContextSwitchTo(old);
	level->cids[r] = cid;
	level->nrows++;
	level->bytes += tupdesc->natts * (sizeof(Datum) + sizeof(bool));
	return r;
}

/*
 * Gives a row a keyed ledger did not store a TID.  With AFTER ROW
 * triggers (foreign keys) the row is kept as a ghost, so the trigger can
 * fetch it; otherwise the TID fetches nothing.
 */
static void
skip_row(Relation rel, WriteState *state, TupleTableSlot *slot, CommandId cid)
{
	int64		pseudo = LEDGER_PSEUDO_NONE;

	if (rel->trigdesc && rel->trigdesc->trig_insert_after_row)
	{
		if (state->ghosts == NULL)
		{
			state->ghosts = write_new_level(rel, state);
			state->ghosts->pseudo_base = GHOST_PSEUDO_BASE;
		}
		pseudo = GHOST_PSEUDO_BASE +
			append_row(state->ghosts, RelationGetDescr(rel), slot, cid);
	}
	slot->tts_tableOid = RelationGetRelid(rel);
	LedgerRowNumberToTid((int64) LEDGER_PSEUDO_BLOCK_BASE * MaxHeapTuplesPerPage +
						 pseudo, &slot->tts_tid);
}

/* buffers nslots rows for rel, inserted by command cid; sets their TIDs */
void
LedgerWriteInsert(Relation rel, TupleTableSlot **slots, int nslots,
				  CommandId cid)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	WriteState *state = get_state(RelationGetRelid(rel), true);
	SubTransactionId subid = GetCurrentSubTransactionId();
	Size		limit = (Size) ledger_write_buffer_size * 1024;
	WriteLevel *level;
	LedgerRollup *rollup;
	LedgerKeySpec *keyspec;

	if (rel->rd_rel->relpersistence != RELPERSISTENCE_PERMANENT)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ledger tables must be permanent")));

	rollup = LedgerRollupGet(rel);

	/* a keyed ledger: apply each key at most once */
	keyspec = LedgerKeyGet(rel);
	if (keyspec != NULL)
	{
		bool	   *apply = palloc(sizeof(bool) * Max(nslots, 1));
		List	   *retractions = NIL;
		TupleTableSlot **keep = palloc(sizeof(TupleTableSlot *) * Max(nslots, 1));
		int			nkeep = 0;
		ListCell   *lc;

		LedgerKeyApply(rel, keyspec, slots, nslots, apply, &retractions);
		foreach(lc, retractions)
		{
			LedgerRetraction *r = lfirst(lc);

			write_rollup_add_prepared(rel, state, rollup, r->values, r->isnull,
									  r->events, cid);
		}
		for (int s = 0; s < nslots; s++)
		{
			if (apply[s])
				keep[nkeep++] = slots[s];
			else
				skip_row(rel, state, slots[s], cid);
		}
		slots = keep;
		nslots = nkeep;
	}

	if (rollup != NULL)
	{
		write_rollup_insert(rel, state, rollup, slots, nslots, cid);
		return;
	}

	for (int s = 0; s < nslots; s++)
	{
		TupleTableSlot *slot = slots[s];
		int			r;

		level = state->levels;
		if (level == NULL || level->subid != subid ||
			level->storage != rel->rd_node.relNode)
		{
			level = write_new_level(rel, state);
			level->next = state->levels;
			state->levels = level;
		}
		r = append_row(level, tupdesc, slot, cid);
		state->next_pseudo = Max(state->next_pseudo, level->pseudo_base + r + 1);

		slot->tts_tableOid = RelationGetRelid(rel);
		LedgerRowNumberToTid((int64) LEDGER_PSEUDO_BLOCK_BASE * MaxHeapTuplesPerPage +
							 level->pseudo_base + r, &slot->tts_tid);

		/* a full level becomes a segment now */
		if (level->nrows >= ledger_segment_rows || level->bytes >= limit)
		{
			flush_level(rel, level);
			if (level->pins == 0)
				reuse_level(state, level);
			else
			{
				state->levels = level->next;
				write_release_level(level);
			}
		}
	}
}

/*
 * Takes back a contribution of a rollup ledger: folds the negated,
 * prepared row (see LedgerRollupNegate) standing for "events" (< 0) events
 * into rel's buffer as command cid.
 */
void
LedgerWriteRetract(Relation rel, Datum *values, bool *isnull, int64 events,
				   CommandId cid)
{
	LedgerRollup *rollup = LedgerRollupGet(rel);

	if (rollup == NULL)
		elog(ERROR, "retracting a contribution from a raw ledger");
	write_rollup_add_prepared(rel, get_state(RelationGetRelid(rel), true),
							  rollup, values, isnull, events, cid);
}

/* writes rel's rows buffered by the current subtransaction as segments */
void
LedgerWriteFlush(Relation rel)
{
	WriteState *state = get_state(RelationGetRelid(rel), false);

	if (state == NULL)
		return;
	flush_state(rel, state, GetCurrentSubTransactionId());
}

/* forgets every buffered row of relid (the relation is being dropped) */
void
LedgerWriteForget(Oid relid)
{
	WriteState *state = get_state(relid, false);
	WriteLevel *level;

	if (state == NULL)
		return;
	while ((level = state->levels) != NULL)
	{
		state->levels = level->next;
		write_release_level(level);
	}
	hash_search(WriteStates, &relid, HASH_REMOVE, NULL);
}

/* buffered rows now belong to storage newstorage (SET TABLESPACE) */
void
LedgerWriteRetarget(Relation rel, Oid newstorage)
{
	WriteState *state = get_state(RelationGetRelid(rel), false);

	if (state == NULL)
		return;
	for (WriteLevel *level = state->levels; level; level = level->next)
		if (level->storage == rel->rd_node.relNode)
			level->storage = newstorage;
}

/* true if this transaction has buffered rows for relid */
bool
LedgerWriteHasRows(Oid relid)
{
	WriteState *state = get_state(relid, false);

	if (state == NULL)
		return false;
	for (WriteLevel *level = state->levels; level; level = level->next)
		if (level->nrows > 0)
			return true;
	return false;
}

/* pins and returns rel's buffered rows visible at command id curcid */
List *
LedgerWriteBeginRead(Relation rel, CommandId curcid)
{
	WriteState *state = get_state(RelationGetRelid(rel), false);
	List	   *runs = NIL;

	if (state == NULL)
		return NIL;
	for (WriteLevel *level = state->levels; level; level = level->next)
	{
		LedgerBufferedRows *run;
		int			n = level->nrows;

		if (level->storage != rel->rd_node.relNode)
			continue;
		while (n > 0 && level->cids[n - 1] >= curcid)
			n--;
		if (n == 0)
			continue;
		run = palloc(sizeof(LedgerBufferedRows));
		run->natts = level->natts;
		run->nrows = n;
		run->values = level->values;
		run->isnull = level->isnull;
		run->pseudo_base = level->pseudo_base;
		run->events = level->groups ? level->groups->events : NULL;
		run->level = level;
		level->pins++;
		runs = lcons(run, runs);	/* oldest first */
	}
	return runs;
}

/* unpins what LedgerWriteBeginRead pinned */
void
LedgerWriteEndRead(List *runs)
{
	ListCell   *lc;

	/* after transaction end everything was freed already */
	if (WriteStates == NULL)
		return;
	foreach(lc, runs)
	{
		LedgerBufferedRows *run = lfirst(lc);
		WriteLevel *level = run->level;

		level->pins--;
		if (level->pins == 0 && list_member_ptr(Graveyard, level))
		{
			Graveyard = list_delete_ptr(Graveyard, level);
			MemoryContextDelete(level->cxt);
		}
	}
}

/* finds the buffered (or since written) row with pseudo TID tid */
bool
LedgerWriteFindPseudo(Relation rel, ItemPointer tid, LedgerBufferedRows *run,
					  int *rowidx, int64 *rownum)
{
	int64		pseudo = LedgerTidToRowNumber(tid) -
		(int64) LEDGER_PSEUDO_BLOCK_BASE * MaxHeapTuplesPerPage;
	WriteState *state = get_state(RelationGetRelid(rel), false);
	ListCell   *lc;

	if (state == NULL || pseudo < 0)
		return false;
	for (WriteLevel *level = pseudo >= GHOST_PSEUDO_BASE ? state->ghosts : state->levels;
		 level; level = level->next)
	{
		if (level->storage != rel->rd_node.relNode)
			continue;
		if (pseudo >= level->pseudo_base &&
			pseudo < level->pseudo_base + level->nrows)
		{
			run->natts = level->natts;
			run->nrows = level->nrows;
			run->values = level->values;
			run->isnull = level->isnull;
			run->pseudo_base = level->pseudo_base;
			run->events = level->groups ? level->groups->events : NULL;
			run->level = level;
			*rowidx = (int) (pseudo - level->pseudo_base);
			return true;
		}
	}
	foreach(lc, FlushedRanges)
	{
		FlushedRange *fr = lfirst(lc);

		if (fr->relid == RelationGetRelid(rel) &&
			pseudo >= fr->pseudo_base && pseudo < fr->pseudo_base + fr->nrows)
		{
			run->level = NULL;
			*rownum = fr->first_row + (pseudo - fr->pseudo_base);
			return true;
		}
	}
	return false;
}

/* writes every buffered row at pre-commit / pre-prepare */
static void
flush_all(void)
{
	HASH_SEQ_STATUS status;
	WriteState *state;
	List	   *relids = NIL;
	ListCell   *lc;

	if (WriteStates == NULL)
		return;
	hash_seq_init(&status, WriteStates);
	while ((state = hash_seq_search(&status)) != NULL)
		relids = lappend_oid(relids, state->relid);

	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);
		Relation	rel;

		state = get_state(relid, false);
		if (state == NULL || state->levels == NULL)
			continue;
		rel = try_relation_open(relid, RowExclusiveLock);
		if (rel == NULL)
			continue;			/* dropped meanwhile */
		flush_state(rel, state, InvalidSubTransactionId);
		relation_close(rel, NoLock);
	}
	list_free(relids);
}

/* transaction callback: flush at pre-commit, free at end */
static void
write_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			flush_all();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			reset_write_state();
			LedgerBlobCacheAtXactEnd();
			break;
		default:
			break;
	}
}

/* subtransaction callback: relabel on commit, discard on abort */
static void
write_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	HASH_SEQ_STATUS status;
	WriteState *state;

	if (WriteStates == NULL)
		return;
	if (event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB)
		return;

	hash_seq_init(&status, WriteStates);
	while ((state = hash_seq_search(&status)) != NULL)
	{
		WriteLevel **prev = &state->levels;
		WriteLevel *level;

		while ((level = *prev) != NULL)
		{
			if (level->subid != mySubid)
			{
				prev = &level->next;
				continue;
			}
			if (event == SUBXACT_EVENT_COMMIT_SUB)
			{
				level->subid = parentSubid;
				prev = &level->next;
			}
			else
			{
				*prev = level->next;
				write_release_level(level);
			}
		}
	}
}

/* installs the transaction callbacks; called once from _PG_init */
void
LedgerWriteInit(void)
{
	RegisterXactCallback(write_xact_callback, NULL);
	RegisterSubXactCallback(write_subxact_callback, NULL);
}

/*-------------------------------------------------------------------------
 *
 * ledger_write_segment.c
 *	  Writing buffered rows as one segment: encoding the columns, the time
 *	  range and, for rollup ledgers, the hidden event counts.
 *
 * IDENTIFICATION
 *	  src/write/ledger_write_segment.c
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

/* the ledger's time column for segment time ranges, or 0 */
AttrNumber
LedgerTimeColumn(Relation rel)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	LedgerRollup *rollup = LedgerRollupGet(rel);

	if (rollup != NULL)
		return rollup->time_attnum;

	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (att->attisdropped)
			continue;
		if (getBaseType(att->atttypid) == TIMESTAMPTZOID ||
			getBaseType(att->atttypid) == TIMESTAMPOID ||
			getBaseType(att->atttypid) == DATEOID)
			return att->attnum;
	}
	return InvalidAttrNumber;
}

/* a time column value as a timestamp for segment time ranges */
TimestampTz
LedgerTimeValue(Oid typid, Datum d)
{
	if (typid == DATEOID)
	{
		DateADT		date = DatumGetDateADT(d);

		if (DATE_IS_NOBEGIN(date))
			return DT_NOBEGIN;
		if (DATE_IS_NOEND(date))
			return DT_NOEND;
		return (TimestampTz) date * USECS_PER_DAY;
	}
	return DatumGetTimestampTz(d);
}

/*
 * Writes rows [from, from + n) of the column arrays as one segment.  With a
 * rollup spec the rows are sorted groups and events[] their event counts.
 */
int64
write_segment(Relation rel, int natts, Datum **values, bool **isnull,
			  int64 *events, LedgerRollup *rollup, int from, int n,
			  CommandId cid)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	LedgerEncodedColumn *cols;
	LedgerSegmentInfo info;
	AttrNumber	timecol = LedgerTimeColumn(rel);
	MemoryContext cxt,
				old;
	int64		first_row;
	Datum	   *nullvals = NULL;
	bool	   *allnull = NULL;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "ledger segment build",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	memset(&info, 0, sizeof(info));
	cols = palloc0(sizeof(LedgerEncodedColumn) * Max(tupdesc->natts, 1));
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (att->attisdropped)
			continue;
		if (i >= natts)
		{
			/* a column added after these rows were buffered: all NULL */
			if (allnull == NULL)
			{
				nullvals = palloc0(sizeof(Datum) * n);
				allnull = palloc(sizeof(bool) * n);
				memset(allnull, true, sizeof(bool) * n);
			}
			LedgerSegmentEncodeColumn(att, n, nullvals, allnull, &cols[i]);
			continue;
		}
		LedgerSegmentEncodeColumn(att, n, values[i] + from, isnull[i] + from,
								  &cols[i]);
		if (att->attnum == timecol)
		{
			for (int r = from; r < from + n; r++)
			{
				TimestampTz t;

				if (isnull[i][r])
					continue;
				t = LedgerTimeValue(getBaseType(att->atttypid), values[i][r]);
				if (!info.time_valid || t < info.time_min)
					info.time_min = t;
				if (!info.time_valid || t > info.time_max)
					info.time_max = t;
				info.time_valid = true;
			}
		}
	}

	if (rollup != NULL)
	{
		Datum	   *ev = palloc(sizeof(Datum) * n);
		bool	   *evnull = palloc0(sizeof(bool) * n);

		for (int r = 0; r < n; r++)
		{
			ev[r] = Int64GetDatum(events[from + r]);
			info.event_count += events[from + r];
		}
		info.events = palloc0(sizeof(LedgerEncodedColumn));
		LedgerSegmentEncodeColumn(LedgerEventsAttribute(), n, ev, evnull, info.events);
		info.rolled_up = true;
		info.rollup = rollup->granularity;
	}
	else
		info.event_count = n;

	(void) LedgerStoreWriteSegment(rel, n, cols, &info, cid, &first_row);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return first_row;
}

/*-------------------------------------------------------------------------
 *
 * store.h
 *	  Interface of the store component: where segments live and how they
 *	  are found.
 *
 * NOTES
 *	  Segments are rows of the extension's heap catalogs ledger.segment and
 *	  ledger.segment_column, keyed by the ledger's relfilenode ("storage").
 *	  They are MVCC-visible like any heap row: a segment written by an
 *	  aborted (sub)transaction vanishes with it, and readers see exactly the
 *	  segments of their snapshot.  Row numbers (the TID space) are reserved
 *	  from a counter on block 0 of the ledger's own main fork, WAL-logged
 *	  with generic WAL and never reused.  See src/store/README.md.
 *
 * IDENTIFICATION
 *	  src/include/ledger/store.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_STORE_H
#define LEDGER_STORE_H

#include "postgres.h"

#include "ledger/segment.h"
#include "storage/itemptr.h"
#include "utils/rel.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

/* metadata of one segment, as read from ledger.segment */
typedef struct LedgerSegmentMeta
{
	int64		segment_id;
	int64		first_row;		/* first row number; rows are contiguous */
	int32		row_count;
	bool		has_time;
	TimestampTz time_min;
	TimestampTz time_max;
	int64		data_bytes;
	int64		event_count;	/* input rows the segment stands for */
	bool		rolled_up;		/* rows sorted and unique by rollup key */
	Interval	rollup;			/* ... at this granularity */
} LedgerSegmentMeta;

/* one stored column of one segment (blobs detoasted when fetched) */
typedef struct LedgerStoredColumn
{
	bool		present;		/* false: the segment has no such column */
	int32		null_count;
	int32		dict_count;
	bytea	   *min_value;
	bytea	   *max_value;
	bytea	   *dict;			/* NULL unless requested and present */
	bytea	   *data;			/* NULL unless requested */
} LedgerStoredColumn;

/* what LedgerStoreWriteSegment records besides the columns */
typedef struct LedgerSegmentInfo
{
	bool		time_valid;		/* time_min/time_max are set */
	TimestampTz time_min;
	TimestampTz time_max;
	int64		event_count;
	bool		rolled_up;
	Interval	rollup;
	LedgerEncodedColumn *events;	/* hidden per-row event counts, or NULL */
} LedgerSegmentInfo;

/* attnum under which the hidden per-row event count is stored */
#define LEDGER_EVENTS_ATTNUM	0

/* the attribute (bigint) the hidden event count is encoded as */
extern Form_pg_attribute LedgerEventsAttribute(void);

/* segments of rel visible to snapshot, sorted by segment_id (palloc'd) */
extern LedgerSegmentMeta *LedgerStoreListSegments(Relation rel,
												  Snapshot snapshot,
												  int *nsegments);

/*
 * Fetches the columns "wanted" (indexed by attnum - 1, natts entries) of
 * one segment into out[attnum - 1].  Blobs are detoasted into
 * CurrentMemoryContext; with fetch_dict the dictionaries too.  If events is
 * not NULL, the hidden event-count column goes there (present = false when
 * the segment has none: every row stands for one event).
 */
extern void LedgerStoreFetchColumns(Relation rel, Snapshot snapshot,
									int64 segment_id, int natts,
									const bool *wanted,
									bool fetch_data, bool fetch_dict,
									LedgerStoredColumn *out,
									LedgerStoredColumn *events);

/*
 * Writes one segment of nrows rows: reserves its row numbers and inserts
 * its catalog rows stamped with command id "cid".  cols has one entry per
 * attribute of rel; entries of dropped attributes are ignored.  Returns the
 * new segment's id.
 */
extern int64 LedgerStoreWriteSegment(Relation rel, int nrows,
									 LedgerEncodedColumn *cols,
									 LedgerSegmentInfo *info,
									 CommandId cid, int64 *first_row);

/* removes every segment stored under "storage" (transactional) */
extern void LedgerStoreDropStorage(Oid storage);

/* copies every segment of rel visible to snapshot to storage "to" */
extern void LedgerStoreCopyStorage(Relation rel, Snapshot snapshot, Oid to);

/* reserves nrows contiguous row numbers of rel and returns the first */
extern int64 LedgerStoreReserveRows(Relation rel, int64 nrows);

/* the next row number rel would reserve (bounds its TID space) */
extern int64 LedgerStoreNextRow(Relation rel);

/* rows, segments and compressed bytes of rel visible to snapshot */
extern void LedgerStoreTotals(Relation rel, Snapshot snapshot, int64 *rows,
							  int64 *nsegments, int64 *bytes);

/* bytes of the segment catalogs (heap + TOAST + indexes) owned by rel */
extern int64 LedgerStoreTableSize(Relation rel);

/*
 * TIDs from this block number up are never real rows: the write buffer
 * hands them out for rows not yet flushed to a segment.
 */
#define LEDGER_PSEUDO_BLOCK_BASE	((BlockNumber) 0xF0000000)

/* pseudo row number of rows a keyed ledger did not store (replays) */
#define LEDGER_PSEUDO_NONE			(((int64) 0x0FFFFFFE) * MaxHeapTuplesPerPage)

/* row number <-> TID, offsets 1..MaxHeapTuplesPerPage */
extern void LedgerRowNumberToTid(int64 rownum, ItemPointer tid);
extern int64 LedgerTidToRowNumber(ItemPointer tid);

/* the blob cache (ledger_blobcache.c); which: 0 data, 1 dictionary */
extern bytea *LedgerBlobCacheGet(Oid storage, int64 segment_id, int attnum,
								 int which);
extern bytea *LedgerBlobCachePut(Oid storage, int64 segment_id, int attnum,
								 int which, bytea *blob);
extern LedgerDictionary *LedgerBlobCacheDictionary(Oid storage,
												   int64 segment_id, int attnum,
												   Form_pg_attribute attr,
												   int nrows, bytea *blob,
												   MemoryContext cxt);
extern void LedgerBlobCacheReaderBegin(void);
extern void LedgerBlobCacheReaderEnd(void);
extern void LedgerBlobCacheAtXactEnd(void);

/* oid of ledger.segment etc.; InvalidOid when missing (extension dropping) */
extern Oid	LedgerCatalogRelid(const char *relname, bool missing_ok);

/* --- compaction (src/compaction) --- */

/*
 * Deletes one segment of rel (catalog rows visible to snapshot) in the
 * current transaction; a concurrent change raises a serialization failure.
 */
extern void LedgerStoreDeleteSegment(Relation rel, Snapshot snapshot,
									 int64 segment_id);

#endif							/* LEDGER_STORE_H */

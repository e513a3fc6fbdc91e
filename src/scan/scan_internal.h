/*-------------------------------------------------------------------------
 *
 * scan_internal.h
 *	  Structures shared by the files of the scan component.
 *
 * IDENTIFICATION
 *	  src/scan/scan_internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_SCAN_INTERNAL_H
#define LEDGER_SCAN_INTERNAL_H

#include "postgres.h"

#include "ledger/rollup.h"
#include "ledger/scan.h"
#include "ledger/segment.h"
#include "ledger/store.h"
#include "ledger/write.h"

typedef struct LedgerRollupScan LedgerRollupScan;

/* last_events of a row without a stored event count */
#define EVENTS_NONE		PG_INT64_MIN

struct LedgerReader
{
	Relation	rel;
	Snapshot	snapshot;
	TupleDesc	tupdesc;		/* decode with it (see LedgerReaderSetDescriptor) */
	bool		physical;		/* no merge on read (table rewrites) */
	int			natts;
	bool	   *wanted;			/* columns to decode */
	bool		read_buffered;
	MemoryContext cxt;			/* the reader's own memory */
	MemoryContext segcxt;		/* reset per segment */

	/* segments */
	LedgerSegmentMeta *segments;
	int			nsegments;
	int			next_segment;	/* serial scans */
	pg_atomic_uint64 *parallel_next;	/* parallel scans */

	/* row-number range, when restricted */
	bool		ranged;
	int64		range_from;
	int64		range_to;
	int		   *order;			/* segment indexes sorted by first_row */
	int			order_pos;		/* next position in order to look at */

	/* the current segment */
	LedgerSegmentMeta *seg;		/* NULL if none */
	LedgerColumnReader **readers;	/* per attribute, NULL if not stored */
	bool	   *constnull;		/* true: unwanted column, reads as NULL */
	int		   *active;			/* columns with data in the segment */
	int			nactive;
	TupleTableSlot *filled_slot;	/* holds the segment's NULL and missing */
	LedgerSegmentMeta *filled_seg;	/* columns already (see scan_next_physical) */
	bool		no_tids;		/* callers need no TIDs */
	Oid			epoch;			/* ledger.segment_id_seq (decoded-block cache) */
	int			row;			/* next row index in the segment */
	int			row_end;		/* end of the rows to return */
	int			block;			/* block decoded into values/isnull, or -1 */
	Datum	  **values;			/* values[att][row in block] */
	bool	  **isnull;
	int			arrays_rows;	/* rows values/isnull have room for */

	/* dictionary codes the caller asked for (LedgerReaderWantCodes) */
	bool	   *want_codes;		/* per attribute, or NULL: none */
	int32	  **codes;			/* codes[att][row in block], when decoded */
	bool	   *has_codes;		/* the segment stores the column as codes */
	uint64		seg_gen;		/* counts opened segments */
	int			last_idx;		/* row in block of the row last returned from
								 * a segment, or -1 */

	/* buffered rows */
	bool		buffered_started;
	List	   *runs;			/* LedgerBufferedRows *, oldest first */
	ListCell   *run_cell;
	int			run_row;

	int64		returned;

	/* hidden event counts of rolled-up segments */
	bool		read_events;
	LedgerColumnReader *events_reader;	/* NULL: segment has none */
	int64	   *events;			/* events of the decoded block */
	int64		last_events;	/* of the row last returned, or EVENTS_NONE;
								 * negative: a retraction */

	/* reads some segments only (compaction): keep groups that net to no
	 * events but still change metrics */
	bool		partial;

	/* logical rows of a rollup ledger (ledger_scan_rollup.c) */
	LedgerRollupScan *rollup_scan;
	bool		rollup_checked; /* LedgerRollupGet was asked */

	/* pushed-down conditions (ledger_filter.c) */
	LedgerQual *filter;
	LedgerScanStats *stats;
	bool	   *filter_cols;	/* columns the filter reads */
	LedgerRollup *filter_rollup;	/* compare bucketed times (rollup) */
	uint32	   *cand;			/* candidate rows of the segment, or NULL */
	bool		seg_exact;		/* the segment's rows to read (all, or cand)
								 * are exactly those satisfying the filter */
	int			ncand;
	int			cand_pos;

	/* raw keyed ledgers: rows whose key was replaced or retracted */
	struct LedgerKeyFilter *keyfilter;	/* NULL if none */
	AttrNumber	key_att;
	AttrNumber	version_att;
};

/* ledger_scan.c: the segment at hand */
extern int	scan_claim_segment(LedgerReader *r);
extern bool scan_open_segment(LedgerReader *r, LedgerSegmentMeta *seg);
extern void scan_close_segment(LedgerReader *r);
extern void scan_load_block(LedgerReader *r);

/* three-valued answer of zone maps */
typedef enum ZoneMatch
{
	ZONE_NONE,
	ZONE_SOME,
	ZONE_ALL
} ZoneMatch;

/* what the filter knows of one column of one segment */
typedef struct FilterColumn
{
	bool		has_min;
	bool		has_max;
	Datum		min;
	Datum		max;
	int32		null_count;
	bytea	   *dict_blob;
	LedgerDictionary *dict;
} FilterColumn;

/* what the filter knows of one segment */
typedef struct FilterSegment
{
	Relation	rel;
	TupleDesc	tupdesc;
	int64		segment_id;
	int			nrows;
	FilterColumn *cols;			/* per attribute */
	LedgerRollup *rollup;		/* bucket the time column, or NULL */
	MemoryContext cxt;
} FilterSegment;

extern ZoneMatch filter_zone(LedgerQual *q, FilterSegment *fs);
extern struct roaring_bitmap_s *filter_bitmap(LedgerQual *q, FilterSegment *fs,
											  bool *exact);
extern LedgerDictionary *filter_dictionary(FilterSegment *fs, AttrNumber attnum);
extern bool filter_segment(LedgerReader *r, LedgerSegmentMeta *seg);

/* a reader of the physical rows of some segments only */
extern LedgerReader *scan_begin_segments(Relation rel, Snapshot snapshot,
										 LedgerSegmentMeta *segments,
										 int nsegments, bool read_events);

/* the next physical row (segments, then buffered rows) */
extern bool scan_next_physical(LedgerReader *r, TupleTableSlot *slot);

/* logical rows of a rollup ledger */
extern LedgerRollupScan *scan_rollup_begin(LedgerReader *r,
												  LedgerRollup *rollup);
extern bool scan_rollup_next(LedgerRollupScan *rs, TupleTableSlot *slot);
extern void scan_rollup_end(LedgerRollupScan *rs);

/* decoded blocks of pass-by-value columns (ledger_blockcache.c) */
extern int	scan_blockcache_get(Oid epoch, Oid storage, int64 segment_id,
								int attnum, Oid typid, int block,
								Datum *values, bool *isnull);
extern void scan_blockcache_put(Oid epoch, Oid storage, int64 segment_id,
								int attnum, Oid typid, int block,
								Datum *values, bool *isnull, int n);

#endif							/* LEDGER_SCAN_INTERNAL_H */

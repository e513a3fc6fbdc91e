/*-------------------------------------------------------------------------
 *
 * ledger.c
 *	  Entry point of the ledger extension: GUCs, hooks and callbacks.
 *
 * NOTES
 *	  Nothing else lives here.  GUCs are kept in alphabetical order and
 *	  the "ledger" prefix is reserved.
 *
 * IDENTIFICATION
 *	  src/ledger.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "ledger/compaction.h"
#include "ledger/ledger.h"
#include "ledger/planner.h"
#include "ledger/rollup.h"
#include "ledger/segment.h"
#include "ledger/tableam.h"
#include "ledger/write.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

bool		ledger_enable_compaction = true;
int			ledger_compaction_naptime = 60;
int			ledger_cache_size = 256 * 1024;
int			ledger_compression_level = 1;
int			ledger_max_compaction_workers = 2;
bool		ledger_enable_custom_scan = true;
bool		ledger_enable_aggregate_pushdown = true;
int			ledger_segment_rows = LEDGER_SEGMENT_MAX_ROWS;
int			ledger_write_buffer_size = 256 * 1024;

void		_PG_init(void);

/* registers GUCs and installs hooks and transaction callbacks */
void
_PG_init(void)
{
	DefineCustomIntVariable("ledger.compaction_naptime",
							"Time between compaction cycles of each database.",
							NULL,
							&ledger_compaction_naptime,
							60, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ledger.cache_size",
							"Memory each backend may use to keep decompressed-ready segment data between queries.",
							NULL,
							&ledger_cache_size,
							256 * 1024, 0, 16 * 1024 * 1024,
							PGC_USERSET, GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ledger.compression_level",
							"zstd compression level of new segments.",
							NULL,
							&ledger_compression_level,
							1, 1, 19,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("ledger.enable_custom_scan",
							 "Lets the planner read ledgers with LedgerScan (column projection, zone maps, bitmaps).",
							 NULL,
							 &ledger_enable_custom_scan,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("ledger.enable_aggregate_pushdown",
							 "Lets the planner compute aggregates inside the scan of a ledger (LedgerAgg).",
							 NULL,
							 &ledger_enable_aggregate_pushdown,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("ledger.enable_compaction",
							 "Runs the background compaction worker.",
							 NULL,
							 &ledger_enable_compaction,
							 true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	/* only the postmaster may define it: it sizes the worker launcher */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("ledger.max_compaction_workers",
								"Compaction workers that may run at the same time.",
								NULL,
								&ledger_max_compaction_workers,
								2, 1, 64,
								PGC_POSTMASTER, 0,
								NULL, NULL, NULL);

	DefineCustomIntVariable("ledger.segment_rows",
							"Rows in a segment before the write buffer writes it.",
							NULL,
							&ledger_segment_rows,
							LEDGER_SEGMENT_MAX_ROWS, 1000, LEDGER_SEGMENT_MAX_ROWS,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ledger.write_buffer_size",
							"Memory a write buffer may use before it writes a segment.",
							NULL,
							&ledger_write_buffer_size,
							256 * 1024, 1024, 1024 * 1024,
							PGC_USERSET, GUC_UNIT_KB,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("ledger");

	LedgerRollupInit();
	LedgerWriteInit();
	LedgerTableAmInit();
	LedgerPlannerInit();
	LedgerCompactionInit();
}

/*-------------------------------------------------------------------------
 *
 * ledger.h
 *	  Settings shared by every component of the ledger extension.
 *
 * NOTES
 *	  GUC variables are defined in src/ledger.c and registered by _PG_init;
 *	  components read them through these declarations only.
 *
 * IDENTIFICATION
 *	  src/include/ledger/ledger.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_LEDGER_H
#define LEDGER_LEDGER_H

/* blob cache size in kB (ledger.cache_size) */
extern int	ledger_cache_size;

/* zstd level used for new segments (ledger.compression_level) */
extern int	ledger_compression_level;

/* let the planner use LedgerScan (ledger.enable_custom_scan) */
extern bool ledger_enable_custom_scan;

/* let the planner use LedgerAgg (ledger.enable_aggregate_pushdown) */
extern bool ledger_enable_aggregate_pushdown;

/* rows in a segment before the write buffer flushes (ledger.segment_rows) */
extern int	ledger_segment_rows;

/* write buffer memory, in kB, before it flushes (ledger.write_buffer_size) */
extern int	ledger_write_buffer_size;

/* name of the extension's schema and access method */
#define LEDGER_SCHEMA_NAME		"ledger"
#define LEDGER_AM_NAME			"ledger"

#endif							/* LEDGER_LEDGER_H */

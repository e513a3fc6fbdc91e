/*-------------------------------------------------------------------------
 *
 * roaring_check.h
 *	  Private interface of the bitmap component: a strict validator of the
 *	  Roaring portable serialization, free of any server dependency.
 *
 * NOTES
 *	  CRoaring 0.2.66's roaring_bitmap_portable_deserialize_safe checks only
 *	  that its reads stay inside the buffer: it accepts unsorted keys and
 *	  arrays, overlapping or overflowing runs and bitsets whose cardinality
 *	  is wrong, any of which later makes CRoaring itself write out of bounds,
 *	  and it prints to stderr.  Every buffer is therefore checked here first.
 *	  roaring_check.c is linked, unchanged, into the fuzz harnesses.
 *
 * IDENTIFICATION
 *	  src/bitmap/roaring_check.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEDGER_ROARING_CHECK_H
#define LEDGER_ROARING_CHECK_H

#include <stddef.h>
#include <stdint.h>

/*
 * Checks that buf holds exactly one well-formed portable Roaring bitmap of
 * exactly len bytes whose members are all below limit.  Returns 0 when it
 * does, else -1 with a full sentence in detail (detaillen bytes).
 * *cardinality receives the number of members.
 */
extern int	LedgerRoaringCheck(const char *buf, size_t len, uint32_t limit,
							   uint64_t *cardinality, char *detail,
							   size_t detaillen);

#endif							/* LEDGER_ROARING_CHECK_H */

/* Failed authentications counted per key (a source address, an AOR) in
 * fixed windows: past LIMIT failures a key is blocked until its window
 * ends.  Guessing passwords (svcrack) then costs a window per LIMIT
 * guesses. */
#ifndef LOCUS_LIMITER_H
#define LOCUS_LIMITER_H

#include <stdbool.h>
#include <stdint.h>

struct limiter;

int  limiter_alloc(struct limiter **lp, uint32_t limit, uint32_t window,
		   uint32_t max_keys);

/* New limits (a reload): counts and windows under way keep going, judged
 * by the new LIMIT; new windows last the new WINDOW. */
void limiter_set(struct limiter *l, uint32_t limit, uint32_t window);

/* Is KEY blocked at NOW (seconds)?  *FIRST is set when this is the first
 * refusal of KEY in its window (log it once). */
bool limiter_blocked(struct limiter *l, const char *key, uint64_t now,
		     bool *first);

/* Counts a failure of KEY at NOW. */
void limiter_fail(struct limiter *l, const char *key, uint64_t now);

/* Takes back one failure of KEY (counted ahead of an outcome that turned
 * out not to be one); a key left with none is forgotten. */
void limiter_forgive(struct limiter *l, const char *key, uint64_t now);

#endif

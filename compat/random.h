/* libre's random numbers from a pool of kernel randomness; see random.c. */
#ifndef LOCUS_COMPAT_RANDOM_H
#define LOCUS_COMPAT_RANDOM_H

#include <stddef.h>

/*
 * Proves that libre's own calls of rand_u16(), rand_u32(), rand_u64() and
 * rand_bytes() draw from the pool (it takes libre's place through the
 * executable's dynamic symbol table): 0, or an error with the reason in
 * ERRBUF.  Call once at start-up.
 */
int compat_random_check(char *errbuf, size_t errsz);

#endif

/* Repairs of libre 1.1.0's SIP message decoding; see sip_decode.c. */
#ifndef LOCUS_COMPAT_SIP_DECODE_H
#define LOCUS_COMPAT_SIP_DECODE_H

#include <stddef.h>

/*
 * Proves that libre's own calls reach the repaired decoders (they take
 * libre's place through the executable's dynamic symbol table): 0, or an
 * error with the reason in ERRBUF.  Call once at start-up.
 */
int compat_decode_check(char *errbuf, size_t errsz);

#endif

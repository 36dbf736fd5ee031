/* compat/: what replaces or repairs libre 1.1.0.  Each file takes the
 * place of some of libre's own functions (the executable exports them,
 * CMakeLists.txt's locus_link_runtime()), opens with the measured reason,
 * the upstream fix if there is one and how to drop it, and has a start-up
 * check (daemon/main.c) that refuses to run if libre does not reach it.
 *
 * This header: repairs of libre's SIP message decoding; see sip_decode.c. */
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

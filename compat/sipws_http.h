/* libre's http_reply() with the SIP WebSocket subprotocol; see
 * sipws_http.c. */
#ifndef LOCUS_COMPAT_SIPWS_HTTP_H
#define LOCUS_COMPAT_SIPWS_HTTP_H

#include <stddef.h>

/*
 * Proves that libre's websock_accept() answers a handshake through this
 * http_reply() (it takes libre's place through the executable's dynamic
 * symbol table) with the 101 it knows how to complete: 0, or an error
 * with the reason in ERRBUF.  Call once at start-up.
 */
int compat_http_check(char *errbuf, size_t errsz);

#endif

/* base64url without padding (RFC 4648 §5, §3.2): bytes as characters
 * of [A-Za-z0-9_-], which may stand in a SIP URI user part as they are.
 * libre 1.1.0's base64 speaks only the standard alphabet with '='
 * padding, neither of which belongs there. */
#ifndef LOCUS_BASE64URL_H
#define LOCUS_BASE64URL_H

#include <stddef.h>
#include <stdint.h>

/* Characters that N bytes encode to (without a NUL). */
size_t base64url_encoded_len(size_t n);

/* Writes base64url_encoded_len(N) characters and a NUL to OUT. */
void base64url_encode(char *out, const uint8_t *in, size_t n);

/*
 * Decodes exactly N bytes from the base64url_encoded_len(N) characters at
 * IN.  Every character must be in the alphabet and the unused low bits of
 * the last one must be zero, so that each byte string has exactly one
 * accepted spelling; otherwise EBADMSG (OUT then holds garbage).
 */
int base64url_decode(uint8_t *out, size_t n, const char *in);

#endif

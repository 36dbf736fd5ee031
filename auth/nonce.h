/* Stateless digest nonces (RFC 7616 §3.3 leaves their form to us):
 * issue time + random + HMAC over both and the realm, with a key every
 * node derives from the shared key file.  Any node can check any node's
 * nonce; nothing is stored until a nonce is used (see nonce_count). */
#ifndef LOCUS_NONCE_H
#define LOCUS_NONCE_H

#include <stdint.h>
#include <re.h>

enum {
	NONCE_LEN = 64,          /* hex characters */
};

enum nonce_state {
	NONCE_VALID,
	NONCE_STALE,             /* ours, but older than the lifetime */
	NONCE_INVALID,           /* not ours, tampered, or for another realm */
};

/* Writes a fresh nonce for REALM issued at NOW (seconds), NUL-terminated. */
int nonce_make(char out[NONCE_LEN + 1], const uint8_t key[32],
	       const struct pl *realm, uint64_t now);

/* Checks NONCE for REALM; *ISSUED gets its issue time when not invalid. */
enum nonce_state nonce_check(const struct pl *nonce, const uint8_t key[32],
			     const struct pl *realm, uint64_t now,
			     uint32_t lifetime, uint64_t *issued);

/* The first second at which nonce_check() calls a nonce issued at ISSUED
 * stale: until then its nonce counts must be remembered. */
uint64_t nonce_expires(uint64_t issued, uint32_t lifetime);

#endif

/* HTTP Digest as SIP uses it (RFC 3261 §22.4, RFC 7616, RFC 8760):
 * decoding an Authorization or Proxy-Authorization value and checking
 * its response against a stored HA1.  Only qop=auth. */
#ifndef LOCUS_DIGEST_H
#define LOCUS_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <re.h>

enum digest_alg {
	DIGEST_MD5,
	DIGEST_SHA256,
	DIGEST_ALG_COUNT,
};

enum {
	DIGEST_HEX_MAX = 64,     /* SHA-256 in hex */
};

/* The fields of a credentials value; slices of the header. */
struct digest_creds {
	struct pl username;
	struct pl realm;
	struct pl nonce;
	struct pl uri;
	struct pl response;
	struct pl algorithm;     /* empty: MD5 (RFC 7616 §3.4) */
	struct pl cnonce;
	struct pl qop;
	struct pl nc;
	struct pl opaque;
	enum digest_alg alg;
	uint32_t nc_value;
};

/* "MD5" or "SHA-256": the name of ALG in a challenge. */
const char *digest_alg_name(enum digest_alg alg);
/* Length of ALG's hash in hex digits: 32 or 64. */
size_t digest_hex_len(enum digest_alg alg);

/*
 * Decodes VALUE ("Digest username=..., ...").  Returns 0, or EPROTO with
 * *PROBLEM naming what is wrong (for a 400 reason phrase): not Digest,
 * a missing or malformed field, an unknown algorithm, a qop other than
 * auth.
 */
int digest_creds_decode(struct digest_creds *c, const struct pl *value,
			const char **problem);

/* Writes H(S) of ALG in lower-case hex (digest_hex_len(ALG) + 1 bytes). */
int digest_hex(char *out, enum digest_alg alg, const char *s, size_t len);

/* Is C's response the one HA1 (hex) gives for METHOD?  Constant time in
 * the comparison. */
bool digest_response_ok(const struct digest_creds *c, const char *ha1,
			const struct pl *method);

/*
 * Is C's uri the Request-URI (RAW as received, RURI decoded)?  RFC 3261
 * §22.4 and RFC 7616 §3.4.6 bind credentials to it; they are compared
 * as URIs (RFC 3261 §19.1.4): scheme, user, password, port, parameters
 * and headers by its rules, the host in any case and with or without a
 * trailing dot.  A URI other than SIP or SIPS must be the same text.
 */
bool digest_uri_matches(const struct digest_creds *c, const struct pl *raw,
			const struct uri *ruri);

#endif

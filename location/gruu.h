/* GRUU construction and the temporary-GRUU token (RFC 5627 §5.4).
 *
 * A temp-gruu is sip:tgruu.<token>@<domain>;gr where <token> is an
 * authenticated encryption (AES-256-GCM, random 96-bit nonce) of
 * (AOR, instance, generation) under a key shared by every locus node.
 * Nothing about the AOR can be read from a token, two tokens cannot be
 * linked, a tampered token fails to decode, and no database row per token
 * is needed to route by it. */
#ifndef LOCUS_GRUU_H
#define LOCUS_GRUU_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <re.h>

#define GRUU_TEMP_PREFIX "tgruu."

/* True when USER, a URI's user part, is a temp-gruu's: the prefix and a
 * token after it (which only gruu_token_decode() can tell valid). */
static inline bool gruu_is_temp_user(const struct pl *user)
{
	size_t n = strlen(GRUU_TEMP_PREFIX);

	return user && user->l > n && 0 == memcmp(user->p, GRUU_TEMP_PREFIX, n);
}

struct gruu_key;

/*
 * Loads the 256-bit key from PATH: a file holding 64 hex digits (and an
 * optional trailing newline).  If PATH does not exist, a new random key is
 * written there with mode 0600.  A file that exists but is unreadable,
 * malformed, or readable by group/others is an error; errbuf then receives
 * one line saying what is wrong and what to do.
 */
int gruu_key_load(struct gruu_key **keyp, const char *path,
		  char *errbuf, size_t errsz);

/* A 256-bit key for another purpose (LABEL names it), derived from the
 * shared key: what every node holding the key file can compute alike. */
int gruu_key_derive(const struct gruu_key *key, const char *label,
		    uint8_t out[32]);

/* A key from 32 raw bytes (tests, and nodes sharing a key by other means). */
int gruu_key_from_bytes(struct gruu_key **keyp, const uint8_t raw[32]);

/*
 * Encodes a token for (aor, instance, generation).  AOR is the canonical
 * "user@host" string, INSTANCE the URN without angle brackets.  *tokenp
 * is a mem_alloc'd NUL-terminated string of characters valid in a SIP URI
 * user part ([A-Za-z0-9_-]).  Every call yields a different token.
 */
int gruu_token_encode(char **tokenp, const struct gruu_key *key,
		      const char *aor, const char *instance,
		      uint64_t generation);

/*
 * Decodes TOKEN (without the "tgruu." prefix).  Returns 0 and sets
 * *aorp and *instancep (mem_alloc'd strings) and *generationp, or EBADMSG
 * for anything that is not an unmodified token made with this key.
 */
int gruu_token_decode(const struct gruu_key *key, const struct pl *token,
		      char **aorp, char **instancep, uint64_t *generationp);

#endif

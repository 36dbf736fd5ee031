/* The temporary-GRUU token (RFC 5627 §5.4).
 *
 * A temp-gruu is sip:tgruu.<token>@<domain>;gr where <token> is an
 * authenticated encryption (AES-256-GCM, random 96-bit IV) of
 * (AOR, instance, generation) under a key that every locus node derives
 * alike from the node key (keys/nodekey.h).
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
struct node_key;

/* The key of temp-GRUU tokens, derived from NODE_KEY.  It is ready for
 * use (AES key schedule computed) and holds no reference to NODE_KEY. */
int gruu_key_alloc(struct gruu_key **keyp, const struct node_key *node_key);

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

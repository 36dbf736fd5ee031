#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <re.h>
#include "location/gruu.h"
#include "proxy/stamp.h"

/* Every proxied request and response is stamped or checked, so each key
 * lives in a MAC context keyed once: OpenSSL 3's one-shot HMAC() looks
 * the algorithm up and sets the key on every call, which profiling showed
 * as a tenth of the proxy's CPU. */
struct stamp {
	EVP_MAC_CTX *via;
	EVP_MAC_CTX *dialog;
};


static void stamp_destructor(void *arg)
{
	struct stamp *s = arg;

	EVP_MAC_CTX_free(s->via);
	EVP_MAC_CTX_free(s->dialog);
}


/* An HMAC-SHA256 context keyed with the key derived for PURPOSE. */
static EVP_MAC_CTX *keyed_mac(const struct gruu_key *key,
			      const char *purpose)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	uint8_t derived[32];
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;

	EVP_MAC_free(hmac);   /* the context holds its own reference */
	if (ctx && (gruu_key_derive(key, purpose, derived) ||
		    !EVP_MAC_init(ctx, derived, sizeof(derived), params))) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	OPENSSL_cleanse(derived, sizeof(derived));
	return ctx;
}


int stamp_alloc(struct stamp **sp, const struct gruu_key *key)
{
	struct stamp *s = mem_zalloc(sizeof(*s), stamp_destructor);

	if (!s)
		return ENOMEM;
	s->via = keyed_mac(key, "locus via stamp");
	s->dialog = keyed_mac(key, "locus dialog stamp");
	if (!s->via || !s->dialog) {
		mem_deref(s);
		return EIO;
	}
	*sp = s;
	return 0;
}


/* EVP_MAC_init() without a key starts over with the one already set. */
static void make(char out[STAMP_LEN + 1], EVP_MAC_CTX *ctx,
		 const struct pl *msg)
{
	uint8_t md[32];
	size_t len = 0;

	if (!EVP_MAC_init(ctx, NULL, 0, NULL) ||
	    !EVP_MAC_update(ctx, (const uint8_t *)msg->p, msg->l) ||
	    !EVP_MAC_final(ctx, md, &len, sizeof(md)))
		memset(md, 0, sizeof(md));
	(void)re_snprintf(out, STAMP_LEN + 1, "%w", md, STAMP_LEN / 2);
}


static bool check(EVP_MAC_CTX *ctx, const struct pl *msg,
		  const struct pl *tag)
{
	char want[STAMP_LEN + 1];

	if (!tag || tag->l != STAMP_LEN)
		return false;
	make(want, ctx, msg);
	return 0 == CRYPTO_memcmp(want, tag->p, STAMP_LEN);
}


void stamp_via(char out[STAMP_LEN + 1], const struct stamp *s,
	       const struct pl *branch)
{
	make(out, s->via, branch);
}


bool stamp_via_check(const struct stamp *s, const struct pl *branch,
		     const struct pl *tag)
{
	return check(s->via, branch, tag);
}


void stamp_dialog(char out[STAMP_LEN + 1], const struct stamp *s,
		  const struct pl *callid)
{
	make(out, s->dialog, callid);
}


bool stamp_dialog_check(const struct stamp *s, const struct pl *callid,
			const struct pl *tag)
{
	return check(s->dialog, callid, tag);
}

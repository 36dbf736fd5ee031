#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <re.h>
#include "location/gruu.h"
#include "proxy/stamp.h"

struct stamp {
	uint8_t via_key[32];
	uint8_t dialog_key[32];
};


static void stamp_destructor(void *arg)
{
	struct stamp *s = arg;

	OPENSSL_cleanse(s, sizeof(*s));
}


int stamp_alloc(struct stamp **sp, const struct gruu_key *key)
{
	struct stamp *s = mem_zalloc(sizeof(*s), stamp_destructor);
	int err;

	if (!s)
		return ENOMEM;
	err = gruu_key_derive(key, "locus via stamp", s->via_key);
	if (!err)
		err = gruu_key_derive(key, "locus dialog stamp", s->dialog_key);
	if (err)
		mem_deref(s);
	else
		*sp = s;
	return err;
}


static void make(char out[STAMP_LEN + 1], const uint8_t key[32],
		 const struct pl *msg)
{
	uint8_t md[32];
	unsigned int len = sizeof(md);

	if (!HMAC(EVP_sha256(), key, 32, (const uint8_t *)msg->p, msg->l, md,
		  &len))
		memset(md, 0, sizeof(md));
	(void)re_snprintf(out, STAMP_LEN + 1, "%w", md, STAMP_LEN / 2);
}


static bool check(const uint8_t key[32], const struct pl *msg,
		  const struct pl *tag)
{
	char want[STAMP_LEN + 1];

	if (!tag || tag->l != STAMP_LEN)
		return false;
	make(want, key, msg);
	return 0 == CRYPTO_memcmp(want, tag->p, STAMP_LEN);
}


void stamp_via(char out[STAMP_LEN + 1], const struct stamp *s,
	       const struct pl *branch)
{
	make(out, s->via_key, branch);
}


bool stamp_via_check(const struct stamp *s, const struct pl *branch,
		     const struct pl *tag)
{
	return check(s->via_key, branch, tag);
}


void stamp_dialog(char out[STAMP_LEN + 1], const struct stamp *s,
		  const struct pl *callid)
{
	make(out, s->dialog_key, callid);
}


bool stamp_dialog_check(const struct stamp *s, const struct pl *callid,
			const struct pl *tag)
{
	return check(s->dialog_key, callid, tag);
}

#include <string.h>
#include <re.h>
#include "location/gruu.h"
#include "location/location.h"
#include "registrar/reply.h"


/* RFC 5627 §5.2: pub-gruu is the AOR with gr=<instance>; temp-gruu is a
 * fresh token each time, so every 200 OK carries a new one. */
static int gruus_print(struct re_printf *pf, const struct reg_listing *l,
		       const struct binding *b, const char *domain)
{
	const struct instance_state *is;
	char *token = NULL;
	int err;

	is = aor_instance_find(l->aor, b->instance);
	err = gruu_token_encode(&token, l->key, l->aor->key, b->instance,
				is ? is->generation : 1);
	if (err)
		return err;

	err = re_hprintf(pf, ";pub-gruu=\"sip:%s;gr=%s\""
			 ";temp-gruu=\"sip:" GRUU_TEMP_PREFIX "%s@%s;gr\"",
			 l->aor->key, b->instance, token, domain);
	mem_deref(token);
	return err;
}


/* q * 1000 -> "1", "0.5", "0.25", "0.125" (RFC 3261 §25.1 qvalue). */
static int qvalue_print(struct re_printf *pf, int q)
{
	char frac[5];
	int n;

	if (q >= 1000 || q <= 0)
		return re_hprintf(pf, ";q=%d", q >= 1000 ? 1 : 0);
	n = re_snprintf(frac, sizeof(frac), "%03d", q);
	while (n > 1 && frac[n - 1] == '0')
		frac[--n] = '\0';
	return re_hprintf(pf, ";q=0.%s", frac);
}


static int binding_print(struct re_printf *pf, const struct reg_listing *l,
			 const struct binding *b)
{
	const char *at = strrchr(l->aor->key, '@');
	const char *domain = at ? at + 1 : l->aor->key;
	int err;

	/* delta-seconds is at most 2^32-1 (RFC 3261 §25.1); a static
	 * binding never expires */
	int64_t remaining = b->expires - l->now;

	err = re_hprintf(pf, "Contact: <%s>;expires=%lld", b->uri,
			 (long long)(remaining > UINT32_MAX ? UINT32_MAX
							    : remaining));
	if (b->q >= 0)
		err |= qvalue_print(pf, b->q);
	err |= re_hprintf(pf, "%s", b->params ? b->params : "");
	if (b->instance) {
		err |= re_hprintf(pf, ";+sip.instance=\"<%s>\"", b->instance);
		if (b->reg_id)
			err |= re_hprintf(pf, ";reg-id=%u", b->reg_id);
		if (l->gruu)
			err |= gruus_print(pf, l, b, domain);
	}
	err |= re_hprintf(pf, "\r\n");
	return err;
}


int reg_contacts_print(struct re_printf *pf, const struct reg_listing *l)
{
	int err = 0;

	if (!l->aor)
		return 0;

	for (struct le *le = l->aor->bindings.head; le && !err; le = le->next) {
		const struct binding *b = le->data;

		/* about to be swept: not a current binding any more */
		if (b->expires <= l->now)
			continue;
		err = binding_print(pf, l, b);
	}
	return err;
}

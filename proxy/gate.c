/*
 * Which requests are challenged: those that start something, claim to
 * come from one of our domains, and do not come from a trusted peer.  A
 * request within a dialog we record-routed is not (its dialog was
 * authorised when it began), but only when our stamp vouches for it: a
 * To tag alone is no dialog, anyone can write one.  Nor is a request
 * locus's own user agent sent, again only when our stamp says so.  ACK
 * and CANCEL never are (RFC 3261 §22.1: they cannot be resubmitted with
 * credentials).  A request from outside our domains is a call to our
 * users: nobody to authenticate.
 */
#include <string.h>
#include <re.h>
#include "auth/auth.h"
#include "common/log.h"
#include "config/config.h"
#include "db/db.h"
#include "sip/uri.h"
#include "location/gruu.h"
#include "proxy/gate.h"

enum {
	HELD_BUCKETS = 1u << 10,
};

struct gate {
	struct sip *sip;
	const struct locus_config *cfg;
	struct auth *auth;
	const struct gruu_key *gruu_key;
	gate_pass_h *passh;
	void *arg;
	struct hash *held;           /* struct held by Via branch */
};

/* A request waiting for its subscriber lookup.  Its retransmissions
 * meanwhile are absorbed here: no transaction exists yet. */
struct held {
	struct le he;
	struct gate *gate;
	const struct sip_msg *msg;
};


static void gate_destructor(void *arg)
{
	struct gate *gate = arg;

	/* each held request belongs to its pending lookup */
	hash_clear(gate->held);
	mem_deref(gate->held);
}


int gate_alloc(struct gate **gatep, struct sip *sip,
	       const struct locus_config *cfg, struct auth *auth,
	       const struct gruu_key *gruu_key, gate_pass_h *passh, void *arg)
{
	struct gate *gate = mem_zalloc(sizeof(*gate), gate_destructor);
	int err;

	if (!gate)
		return ENOMEM;
	gate->sip = sip;
	gate->cfg = cfg;
	gate->auth = auth;
	gate->gruu_key = gruu_key;
	gate->passh = passh;
	gate->arg = arg;
	err = hash_alloc(&gate->held, HELD_BUCKETS);
	if (err)
		mem_deref(gate);
	else
		*gatep = gate;
	return err;
}


static bool needs_credentials(const struct gate *gate,
			      const struct sip_msg *msg, bool vouched)
{
	if (!gate->auth || vouched ||
	    !pl_strcmp(&msg->met, "ACK") || !pl_strcmp(&msg->met, "CANCEL"))
		return false;
	if (!config_is_our_domain(gate->cfg, &msg->from.uri.host))
		return false;
	return !config_is_trusted(gate->cfg, &msg->src);
}


static bool held_cmp(struct le *le, void *arg)
{
	const struct held *h = le->data;
	const struct sip_msg *msg = arg;

	return 0 == pl_cmp(&h->msg->via.branch, &msg->via.branch) &&
		0 == pl_cmp(&h->msg->met, &msg->met) &&
		sa_cmp(&h->msg->src, &msg->src, SA_ALL);
}


static void held_destructor(void *arg)
{
	struct held *h = arg;

	hash_unlink(&h->he);
	mem_deref((void *)h->msg);
}


/* The From user must be the one whose credentials these are: otherwise
 * any subscriber could call as any other. */
static bool from_is_user(const struct sip_msg *msg, const struct pl *user)
{
	return 0 == pl_cmp(&msg->from.uri.user, user);
}


/* The AOR a GRUU of ours belongs to (mem_alloc'd), or NULL when URI is
 * no GRUU of ours. */
static char *gruu_owner(const struct gate *gate, const struct uri *uri)
{
	size_t n = strlen(GRUU_TEMP_PREFIX);
	char *aor = NULL, *instance = NULL;
	uint64_t generation;
	struct pl token;

	if (msg_param_exists(&uri->params, "gr", &token) ||
	    !config_is_our_domain(gate->cfg, &uri->host))
		return NULL;
	if (gruu_is_temp_user(&uri->user)) {
		token = uri->user;
		pl_advance(&token, n);
		if (gruu_token_decode(gate->gruu_key, &token, &aor, &instance,
				      &generation))
			return NULL;
		mem_deref(instance);
		return aor;
	}
	return sipuri_aor_key(&aor, uri) ? NULL : aor;
}


/* RFC 5627 §10.2: a UA puts its own GRUU in Contact; someone else's
 * would steer the dialog's requests to that user's device: the GRUU
 * must be one of the authenticated user's (user@realm). */
static bool contact_is_foreign_gruu(const struct gate *gate,
				    const struct sip_msg *msg,
				    const struct pl *user)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	const char *domain;
	struct sip_addr addr;
	char *owner;
	bool foreign;

	if (!hdr || sip_addr_decode(&addr, &hdr->val))
		return false;
	owner = gruu_owner(gate, &addr.uri);
	if (!owner)
		return false;
	/* the owner's AOR key has the domain as configured; so has the
	 * From's, in whatever spelling it came ("EXAMPLE.COM.") */
	domain = config_our_domain(gate->cfg, &msg->from.uri.host);
	foreign = !(domain && strlen(owner) > user->l &&
		    owner[user->l] == '@' &&
		    0 == memcmp(owner, user->p, user->l) &&
		    0 == strcmp(owner + user->l + 1, domain));
	mem_deref(owner);
	return foreign;
}


static void resolved(struct gate *gate, const struct sip_msg *msg,
		     const struct auth_result *res)
{
	struct auth_challenge ch = {gate->auth, AUTH_PROXY,
				    &msg->from.uri.host, res->stale};
	struct sip_strans *st = NULL;

	switch (res->verdict) {

	case AUTH_OK:
		if (!from_is_user(msg, &res->user)) {
			(void)sip_treplyf(&st, NULL, gate->sip, msg, false,
					  403, "Forbidden: From Does Not "
					  "Match Credentials", NULL);
			break;
		}
		if (contact_is_foreign_gruu(gate, msg, &res->user)) {
			(void)sip_treplyf(&st, NULL, gate->sip, msg, false,
					  403, "Forbidden: Contact Is Another "
					  "User's GRUU", NULL);
			break;
		}
		gate->passh(msg, gate->arg);
		break;
	case AUTH_CHALLENGE:
		/* a transaction of its own, which absorbs the ACK of a 407
		 * to an INVITE (RFC 3261 §17.2.1) */
		(void)sip_treplyf(&st, NULL, gate->sip, msg, false, 407,
				  "Proxy Authentication Required",
				  "%HContent-Length: 0\r\n\r\n",
				  auth_challenge_print, &ch);
		break;
	case AUTH_BAD:
		(void)sip_treplyf(&st, NULL, gate->sip, msg, false, 400,
				  res->reason, NULL);
		break;
	case AUTH_BLOCKED:
		(void)sip_treplyf(&st, NULL, gate->sip, msg, false, 403,
				  "Forbidden: Too Many Failed Authentications",
				  NULL);
		break;
	default:
		(void)sip_treplyf(&st, NULL, gate->sip, msg, false, 503,
				  "Database Unavailable",
				  DB_DOWN_RETRY_AFTER
				  "Content-Length: 0\r\n\r\n");
		break;
	}
}


static void held_done(const struct auth_result *res, void *arg)
{
	struct held *h = arg;

	hash_unlink(&h->he);
	resolved(h->gate, h->msg, res);
}


static uint32_t held_key(const struct sip_msg *msg)
{
	return hash_joaat_pl(&msg->via.branch);
}


bool gate_hold(struct gate *gate, const struct sip_msg *msg, bool vouched)
{
	struct auth_result res;
	struct held *h;

	if (!needs_credentials(gate, msg, vouched))
		return false;
	if (hash_lookup(gate->held, held_key(msg), held_cmp, (void *)msg))
		return true;   /* a retransmission: the first is answered */

	h = mem_zalloc(sizeof(*h), held_destructor);
	if (!h) {
		(void)sip_reply(gate->sip, msg, 500, "Server Internal Error");
		return true;
	}
	h->gate = gate;
	h->msg = mem_ref((void *)msg);
	auth_check(gate->auth, msg, AUTH_PROXY, &msg->from.uri.host, &res,
		   held_done, h);
	if (res.verdict == AUTH_PENDING)
		hash_append(gate->held, held_key(msg), &h->he, h);
	else
		resolved(gate, msg, &res);
	mem_deref(h);
	return true;
}

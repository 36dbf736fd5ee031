/*
 * Digest authentication of a request, asynchronously: the HA1 comes from
 * locus.subscriber through the writer's pipeline, so a password changed
 * with psql counts from the next request on.
 */
#include <string.h>
#include <time.h>
#include <libpq-fe.h>
#include <re.h>
#include "auth/auth.h"
#include "sip/digest.h"
#include "auth/lockout.h"
#include "auth/nonce.h"
#include "auth/nonce_count.h"
#include "common/log.h"
#include "common/metrics.h"
#include "config/config.h"
#include "db/db.h"
#include "keys/nodekey.h"

enum {
	/* nonces in use at once; beyond it the oldest is forgotten (its
	 * next use is then refused as a replay and re-challenged) */
	NONCE_COUNTS_MAX = 1u << 20,
	/* sources, AORs and pairs of them being counted at once */
	LOCKOUT_KEYS_MAX = 1u << 20,
};

struct auth {
	const struct locus_config *cfg;
	struct db *db;               /* not referenced: like the registrar's,
				        freed first at shutdown, failing what
				        is still pending while SIP is up */
	uint8_t nonce_key[32];
	struct nonce_counts *counts;
	struct lockout *lockout;     /* failed authentications */
};

/* A check waiting for its HA1. */
struct pending {
	struct auth *auth;
	const struct sip_msg *msg;
	const char *realm;           /* the domain of ours, as configured:
					in the configuration, which a reload
					may replace; NULL once waiting */
	char *aor;                   /* user@realm: the subscriber's key */
	struct digest_creds creds;
	uint64_t issued;
	auth_done_h *doneh;
	void *arg;
	char ha1[DIGEST_HEX_MAX + 1];
};

/* Compared against when the user does not exist: the same work as for a
 * wrong password, and never a match (not hex). */
static const char no_such_user[] =
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";


static void auth_destructor(void *arg)
{
	struct auth *auth = arg;

	mem_deref(auth->counts);
	mem_deref(auth->lockout);
}


int auth_alloc(struct auth **authp, const struct locus_config *cfg,
	       struct db *db, const struct node_key *key)
{
	struct auth *auth = mem_zalloc(sizeof(*auth), auth_destructor);
	int err;

	if (!auth)
		return ENOMEM;
	auth->cfg = cfg;
	auth->db = db;
	err = node_key_derive(key, "locus digest nonce", auth->nonce_key);
	if (!err)
		err = nonce_counts_alloc(&auth->counts, NONCE_COUNTS_MAX);
	if (!err)
		err = lockout_alloc(&auth->lockout, cfg->fail_limit,
				    cfg->fail_window, LOCKOUT_KEYS_MAX);
	if (err)
		mem_deref(auth);
	else
		*authp = auth;
	return err;
}


void auth_apply(struct auth *auth)
{
	lockout_set_limits(auth->lockout, auth->cfg->fail_limit,
			   auth->cfg->fail_window);
}


static bool alg_enabled(const struct auth *auth, enum digest_alg alg)
{
	for (size_t i = 0; i < auth->cfg->auth_algc; i++)
		if (auth->cfg->auth_algs[i] == alg)
			return true;
	return false;
}


struct creds_search {
	const struct locus_config *cfg;
	const char *realm;
	struct digest_creds *creds;
	const char *problem;
	bool found;
};


static bool creds_match(const struct sip_hdr *hdr, const struct sip_msg *msg,
			void *arg)
{
	struct creds_search *cs = arg;
	const char *problem = NULL;
	(void)msg;

	if (digest_creds_decode(cs->creds, &hdr->val, &problem)) {
		cs->problem = problem;
		return false;
	}
	/* credentials for another realm are another proxy's business; ours
	 * in any spelling of the domain are ours */
	if (config_our_domain(cs->cfg, &cs->creds->realm) != cs->realm)
		return false;
	cs->found = true;
	return true;
}


/* Refused by the lockout rules (auth/lockout.h)?  One log line per rule
 * and key and window. */
static bool blocked(struct auth *auth, const struct pending *p)
{
	const struct sa *src = &p->msg->src;
	bool first = false;
	enum lockout_rule rule = lockout_check(auth->lockout, p->aor, src,
					       (uint64_t)time(NULL), &first);
	uint32_t window = auth->cfg->fail_window;
	uint32_t limit = auth->cfg->fail_limit;

	if (rule != LOCKOUT_NONE)
		++metrics.auth_blocks[rule - LOCKOUT_PAIR];
	if (!first)
		return rule != LOCKOUT_NONE;
	switch (rule) {

	case LOCKOUT_PAIR:
		log_warn("auth: src:%j refused as %s for the rest of its %u s"
			 " window: %u failed authentications (auth.fail_limit)",
			 src, p->aor, window, limit);
		break;
	case LOCKOUT_SOURCE:
		log_warn("auth: src:%j refused for the rest of its %u s"
			 " window, but as AORs it authenticated as lately: %u"
			 " failed authentications (auth.fail_limit)", src,
			 window, limit);
		break;
	case LOCKOUT_AOR:
		log_warn("auth: aor:%s refused to addresses that have not"
			 " authenticated as it lately, for the rest of its %u s"
			 " window: %u x %u failed authentications from all"
			 " addresses (%u x auth.fail_limit)", p->aor, window,
			 LOCKOUT_AOR_FACTOR, limit, LOCKOUT_AOR_FACTOR);
		break;
	default:
		break;
	}
	return rule != LOCKOUT_NONE;
}


static void outcome(struct auth_result *res, enum auth_verdict v)
{
	memset(res, 0, sizeof(*res));
	res->verdict = v;
}


/* The checks that need no database.  True when RES is final. */
static bool creds_prepare(struct auth *auth, struct pending *p,
			  enum auth_kind kind, struct auth_result *res)
{
	const struct sip_msg *msg = p->msg;
	struct digest_creds *creds = &p->creds;
	struct creds_search cs = {auth->cfg, p->realm, creds, NULL, false};
	uint64_t now = (uint64_t)time(NULL);
	struct pl realm;

	(void)sip_msg_hdr_apply(msg, true, kind == AUTH_WWW ?
				SIP_HDR_AUTHORIZATION :
				SIP_HDR_PROXY_AUTHORIZATION, creds_match, &cs);
	if (!cs.found && cs.problem) {
		outcome(res, AUTH_BAD);
		res->reason = cs.problem;
		return true;
	}
	outcome(res, AUTH_CHALLENGE);
	if (!cs.found || !alg_enabled(auth, creds->alg))
		return true;
	/* RFC 3261 §22.4, RFC 7616 §3.4.6: credentials are for one
	 * Request-URI; computed for another, they must not pass here */
	if (!digest_uri_matches(creds, &msg->ruri, &msg->uri)) {
		outcome(res, AUTH_BAD);
		res->reason = "Digest URI Does Not Match Request-URI";
		return true;
	}
	if (re_sdprintf(&p->aor, "%r@%s", &creds->username, p->realm)) {
		outcome(res, AUTH_UNAVAILABLE);
		return true;
	}
	if (blocked(auth, p)) {
		outcome(res, AUTH_BLOCKED);
		return true;
	}

	pl_set_str(&realm, p->realm);
	switch (nonce_check(&creds->nonce, auth->nonce_key, &realm, now,
			    auth->cfg->nonce_lifetime, &p->issued)) {

	case NONCE_VALID:
		return false;
	case NONCE_STALE:
		res->stale = true;
		return true;
	default:
		return true;
	}
}


static void ha1_rows(const struct pg_result *pres, void *arg)
{
	struct pending *p = arg;
	const PGresult *r = (const PGresult *)pres;
	int col = p->creds.alg == DIGEST_SHA256 ? 1 : 0;

	if (PQntuples(r) == 1 && !PQgetisnull(r, 0, col))
		str_ncpy(p->ha1, PQgetvalue(r, 0, col), sizeof(p->ha1));
}


/* RES from the HA1 (or its absence) in P. */
static void verdict(struct pending *p, struct auth_result *res)
{
	struct auth *auth = p->auth;
	const struct sa *src = &p->msg->src;
	/* the stand-in has the length of a real HA1: the same hashing */
	const char *ha1 = p->ha1[0] ? p->ha1 : no_such_user +
		(sizeof(no_such_user) - 1 - digest_hex_len(p->creds.alg));
	uint64_t now = (uint64_t)time(NULL), expires;
	bool ok = digest_response_ok(&p->creds, ha1, &p->msg->met);

	/* auth_check counted the attempt as a failure: taken back below
	 * only if it is none */
	outcome(res, AUTH_CHALLENGE);
	if (!ok || !p->ha1[0]) {
		++metrics.auth_failures[p->ha1[0] ? METRICS_AUTH_WRONG_PASSWORD
					: METRICS_AUTH_NO_SUCH_USER];
		log_debug("auth: %s from %J: %s", p->aor, src, p->ha1[0] ?
			  "wrong password" : "no such subscriber");
		return;
	}
	expires = nonce_expires(p->issued, auth->cfg->nonce_lifetime);
	if (!nonce_count_use(auth->counts, &p->creds.nonce,
			     p->creds.nc_value, expires, now)) {
		++metrics.auth_failures[METRICS_AUTH_REPLAYED];
		log_info("auth: %s from %J: nonce count %r used before "
			 "(replayed request?)", p->aor, src, &p->creds.nc);
		return;
	}
	lockout_success(auth->lockout, p->aor, src, now);
	res->verdict = AUTH_OK;
	res->user = p->creds.username;
}


static void ha1_done(int err, const char *sqlstate, const char *errmsg,
		     void *arg)
{
	struct pending *p = arg;
	struct auth_result res;

	if (err) {
		log_warn("auth: subscriber lookup failed: %s",
			 errmsg ? errmsg : "database connection lost");
		lockout_forgive(p->auth->lockout, p->aor, &p->msg->src,
				(uint64_t)time(NULL));
		outcome(&res, AUTH_UNAVAILABLE);
	}
	else {
		verdict(p, &res);
	}
	p->doneh(&res, p->arg);
	mem_deref(p);
}


static void pending_destructor(void *arg)
{
	struct pending *p = arg;

	mem_deref((void *)p->msg);
	mem_deref(p->arg);
	mem_deref(p->aor);
}


static int lookup_start(struct pending *p)
{
	struct db_txn *tx = NULL;
	char user[256];
	const char *values[2] = {user, p->realm};
	int err;

	if (p->creds.username.l >= sizeof(user))
		return EOVERFLOW;
	pl_strcpy(&p->creds.username, user, sizeof(user));
	err = db_txn_alloc(&tx, ha1_done, p);
	if (!err)
		err = db_txn_add_query(tx, "subscriber_ha1", 2, values,
				       ha1_rows, p);
	if (!err)
		err = db_txn_submit(p->auth->db, tx);
	mem_deref(tx);
	return err;
}


void auth_check(struct auth *auth, const struct sip_msg *msg,
		enum auth_kind kind, const struct pl *realm,
		struct auth_result *res, auth_done_h *doneh, void *arg)
{
	/* the realm is the domain as configured, whatever its spelling in
	 * the request: the HA1s in locus.subscriber are computed with it */
	const char *domain = config_our_domain(auth->cfg, realm);
	struct pending *p;
	int err;

	if (!domain) {
		outcome(res, AUTH_CHALLENGE);   /* not ours: nothing to check */
		return;
	}
	p = mem_zalloc(sizeof(*p), pending_destructor);
	if (!p) {
		outcome(res, AUTH_UNAVAILABLE);
		return;
	}
	p->auth = auth;
	p->msg = mem_ref((void *)msg);
	p->realm = domain;
	if (creds_prepare(auth, p, kind, res)) {
		mem_deref(p);
		return;
	}
	p->doneh = doneh;
	p->arg = mem_ref(arg);

	/* a failure until the verdict says otherwise (auth/lockout.h) */
	lockout_attempt(auth->lockout, p->aor, &msg->src,
			(uint64_t)time(NULL));
	err = lookup_start(p);
	p->realm = NULL;   /* its values are copied: none of it is read again */
	if (err == EOVERFLOW) {
		outcome(res, AUTH_CHALLENGE);   /* no such user, surely */
		++metrics.auth_failures[METRICS_AUTH_NO_SUCH_USER];
		mem_deref(p);
		return;
	}
	if (err) {
		lockout_forgive(auth->lockout, p->aor, &msg->src,
				(uint64_t)time(NULL));
		outcome(res, AUTH_UNAVAILABLE);
		mem_deref(p);
		return;
	}
	outcome(res, AUTH_PENDING);
}


int auth_challenge_print(struct re_printf *pf,
			 const struct auth_challenge *ch)
{
	const struct locus_config *cfg = ch->auth->cfg;
	const char *ours = config_our_domain(cfg, ch->realm);
	char nonce[NONCE_LEN + 1];
	struct pl realm = *ch->realm;
	int err;

	/* the spelling the HA1s were computed with (see auth_check) */
	if (ours)
		pl_set_str(&realm, ours);
	err = nonce_make(nonce, ch->auth->nonce_key, &realm,
			 (uint64_t)time(NULL));
	for (size_t i = 0; !err && i < cfg->auth_algc; i++) {
		err = re_hprintf(pf, "%s: Digest realm=\"%r\", nonce=\"%s\","
				 " algorithm=%s, qop=\"auth\"%s\r\n",
				 ch->kind == AUTH_WWW ? "WWW-Authenticate" :
				 "Proxy-Authenticate", &realm, nonce,
				 digest_alg_name(cfg->auth_algs[i]),
				 ch->stale ? ", stale=true" : "");
	}
	return err;
}

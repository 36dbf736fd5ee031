/*
 * Intercom calls.
 *
 * The feature code is recognised only where the proxy's seam looks:
 * initial INVITEs to a user of one of our domains.  The dialled user part
 * is compared in its canonical form (RFC 3261 §19.1.4: "%2A6bob" is
 * "*6bob"), and the code must be followed by a user: "sip:*6bob@d"
 * becomes "sip:bob@d" with its parameters kept, so a GRUU stays a GRUU.
 *
 * Who calls is what the proxy vouches for (the authenticated user, or the
 * From user with auth off); who is called is the AOR the Request-URI
 * names, a temp-GRUU's owner included.  Authorisation comes before
 * routing, so a refused caller learns nothing of the callee (403 whether
 * or not the callee exists).
 *
 * The auto-answer signalling goes to each target in the dialect of its
 * phone (intercom.style); the caller's own was removed by the proxy
 * already (proxy/autoanswer.h), so a device sees locus's alone.
 */
#define _GNU_SOURCE   /* FNM_CASEFOLD */
#include <fnmatch.h>
#include <string.h>
#include <re.h>
#include "common/log.h"
#include "config/config.h"
#include "sip/uri.h"
#include "location/gruu.h"
#include "features/grants.h"
#include "features/intercom.h"

struct intercom {
	const struct locus_config *cfg;
	const struct gruu_key *gruu_key;
	struct grants *grants;
};

/* One authorised call, for its targets. */
struct intercom_call {
	const struct locus_config *cfg;
	char *domain;
};


/* ---- the signalling of each dialect --------------------------------- */

enum intercom_dialect intercom_dialect_of(const struct locus_config *cfg,
					  const char *user_agent)
{
	for (size_t i = 0; i < cfg->intercom_stylec; i++) {
		const struct intercom_style *st = &cfg->intercom_styles[i];

		if (0 == fnmatch(st->user_agent, user_agent ? user_agent : "",
				 FNM_CASEFOLD))
			return st->dialect;
	}
	return INTERCOM_DEFAULT;
}


/* ";intercom=true" into the URI *RURI, before its headers if it has
 * any. */
static int uri_param_add(char **ruri)
{
	struct uri uri;
	struct pl pl;
	size_t at;
	char *out;
	int err;

	pl_set_str(&pl, *ruri);
	if (uri_decode(&uri, &pl))
		return EINVAL;
	/* libre's headers slice starts at the '?' */
	at = pl_isset(&uri.headers) ? (size_t)(uri.headers.p - *ruri)
				    : strlen(*ruri);
	err = re_sdprintf(&out, "%b;intercom=true%s", *ruri, at, *ruri + at);
	if (err)
		return err;
	mem_deref(*ruri);
	*ruri = out;
	return 0;
}


int intercom_signal(char **ruri, char **headers, enum intercom_dialect d,
		    const char *domain)
{
	/* an IPv6 literal names a domain only in brackets */
	bool v6 = strchr(domain, ':') != NULL;

	switch (d) {

	case INTERCOM_RING_ANSWER:
		return str_dup(headers, "Alert-Info: Ring-Answer\r\n");
	case INTERCOM_URI_PARAM:
		return uri_param_add(ruri);
	case INTERCOM_ANSWER_MODE:
		/* RFC 5373 §4: without ";require", and with no Require:
		 * answermode, a phone that does not know it rings (no 420) */
		return str_dup(headers, "Answer-Mode: Auto\r\n");
	default:
		return re_sdprintf(headers, "Call-Info: <sip:%s%s%s>;"
				   "answer-after=0\r\n"
				   "Alert-Info: <http://127.0.0.1/intercom>;"
				   "info=alert-autoanswer;delay=0\r\n",
				   v6 ? "[" : "", domain, v6 ? "]" : "");
	}
}


/* proxy_target_h: the signalling of the target's phone. */
static int call_target(char **ruri, char **headers, const char *user_agent,
		       void *arg)
{
	const struct intercom_call *call = arg;
	enum intercom_dialect d = intercom_dialect_of(call->cfg, user_agent);

	log_debug("intercom: %s (User-Agent '%s') gets the %s dialect", *ruri,
		  user_agent ? user_agent : "",
		  config_intercom_dialect_name(d));
	return intercom_signal(ruri, headers, d, call->domain);
}


static void call_destructor(void *arg)
{
	struct intercom_call *call = arg;

	mem_deref(call->domain);
}


/* ---- recognising and authorising ------------------------------------ */

/* "scheme:USER" and what followed the dialled user part in RURI. */
static int ruri_rewrite(char **out, const struct proxy_invite *inv,
			const char *user, size_t userlen)
{
	const struct uri *u = inv->uri;
	const char *end = inv->ruri->p + inv->ruri->l;
	const char *tail = u->user.p + u->user.l;

	if (u->user.p < inv->ruri->p || tail > end)
		return EINVAL;
	return re_sdprintf(out, "%r:%b%b", &u->scheme, user, userlen, tail,
			   (size_t)(end - tail));
}


/* The AOR key of the callee: a temp-GRUU's owner, else USER@DOMAIN. */
static int callee_key(char **keyp, const struct intercom *ic,
		      const struct uri *uri, const char *user, size_t userlen,
		      const char *domain)
{
	struct pl token, gr;
	char *instance = NULL;
	uint64_t generation;

	token.p = user;
	token.l = userlen;
	if (0 == msg_param_exists(&uri->params, "gr", &gr) &&
	    gruu_is_temp_user(&token)) {
		pl_advance(&token, strlen(GRUU_TEMP_PREFIX));
		if (0 == gruu_token_decode(ic->gruu_key, &token, keyp,
					   &instance, &generation)) {
			mem_deref(instance);
			return 0;
		}
	}
	return re_sdprintf(keyp, "%b@%s", user, userlen, domain);
}


/* Everything the plan of one intercom call needs, worked out from the
 * dialled key "CODEuser@domain". */
static void plan_call(struct proxy_plan *plan, struct intercom *ic,
		      const struct proxy_invite *inv, const char *dialled)
{
	const char *domain = sipuri_aor_domain(dialled);
	size_t n = strlen(ic->cfg->intercom_prefix);
	const char *user = dialled + n;
	size_t userlen = (size_t)(domain - 1 - user);
	char *caller = NULL, *callee = NULL;
	struct intercom_call *call;
	int err;

	err = ruri_rewrite(&plan->ruri, inv, user, userlen);
	if (!err)
		err = callee_key(&callee, ic, inv->uri, user, userlen, domain);
	if (!err && inv->caller)
		err = sipuri_aor_key(&caller, inv->caller);
	if (err) {
		plan->scode = 500;
		plan->reason = "Server Internal Error";
		goto out;
	}
	if (!caller || !grants_allow(ic->grants, caller, callee)) {
		log_info("intercom refused: %s may not call %s (Call-ID %r): "
			 "403 Intercom Not Allowed", caller ? caller :
			 "a caller nobody vouches for", callee,
			 &inv->msg->callid);
		plan->scode = 403;
		plan->reason = "Intercom Not Allowed";
		goto out;
	}

	call = mem_zalloc(sizeof(*call), call_destructor);
	if (!call || str_dup(&call->domain, domain)) {
		mem_deref(call);
		plan->scode = 500;
		plan->reason = "Server Internal Error";
		goto out;
	}
	call->cfg = ic->cfg;
	plan->targeth = call_target;
	plan->arg = call;
	log_info("intercom call: %s -> %s (Call-ID %r)", caller, callee,
		 &inv->msg->callid);
 out:
	if (plan->scode)
		plan->ruri = mem_deref(plan->ruri);
	mem_deref(caller);
	mem_deref(callee);
}


void intercom_invite(struct proxy_plan *plan, const struct proxy_invite *inv,
		     void *arg)
{
	struct intercom *ic = arg;
	const char *prefix = ic->cfg->intercom_prefix;
	char *dialled = NULL;
	size_t n;

	if (!prefix || sipuri_aor_key(&dialled, inv->uri))
		return;
	n = strlen(prefix);
	/* the code, then at least one character of a user */
	if (0 == strncmp(dialled, prefix, n) &&
	    sipuri_aor_domain(dialled) > dialled + n + 1)
		plan_call(plan, ic, inv, dialled);
	mem_deref(dialled);
}


/* ---- set-up --------------------------------------------------------- */

static void intercom_destructor(void *arg)
{
	struct intercom *ic = arg;

	mem_deref(ic->grants);
}


int intercom_alloc(struct intercom **icp, const struct locus_config *cfg,
		   const struct gruu_key *gruu_key, const char *conninfo,
		   char *errbuf, size_t errsz)
{
	struct intercom *ic = mem_zalloc(sizeof(*ic), intercom_destructor);
	int err = 0;

	if (!ic)
		return ENOMEM;
	ic->cfg = cfg;
	ic->gruu_key = gruu_key;
	if (cfg->intercom_prefix)
		err = grants_alloc(&ic->grants, conninfo, errbuf, errsz);
	if (err)
		mem_deref(ic);
	else
		*icp = ic;
	return err;
}

#include <ctype.h>
#include <string.h>
#include <re.h>
#include "sip/sipmsg.h"
#include "sip/param.h"
#include "config/config.h"
#include "location/location.h"
#include "sip/uri.h"
#include "location/gruu.h"
#include "registrar/nat.h"
#include "registrar/regreq.h"

int reg_refuse(struct reg_error *rerr, uint16_t scode, const char *reason)
{
	rerr->scode = scode;
	str_ncpy(rerr->reason, reason, sizeof(rerr->reason));
	return EPROTO;
}


/* VAL, if set, must be text PostgreSQL stores and a header carries, of
 * at most MAX bytes. */
static int value_check(const char *val, size_t max, const char *what,
		       struct reg_error *rerr)
{
	char reason[64];

	if (!val)
		return 0;
	if (strlen(val) > max) {
		re_snprintf(reason, sizeof(reason), "%s Too Long", what);
		return reg_refuse(rerr, 400, reason);
	}
	if (!sipmsg_text_ok(val, strlen(val))) {
		re_snprintf(reason, sizeof(reason), "Malformed %s", what);
		return reg_refuse(rerr, 400, reason);
	}
	return 0;
}


static void contact_destructor(void *arg)
{
	struct reg_contact *rc = arg;

	list_unlink(&rc->le);
	mem_deref(rc->uri);
	mem_deref(rc->params);
	mem_deref(rc->instance);
}


static void regreq_destructor(void *arg)
{
	struct regreq *req = arg;

	list_flush(&req->contacts);
	mem_deref(req->aor);
	mem_deref(req->path);
	mem_deref(req->callid);
	mem_deref(req->user_agent);
}


/* Present at all, even if empty ("expires=" is present and malformed);
 * pl_isset() cannot tell that from absent. */
static bool pl_present(const struct pl *pl)
{
	return pl && pl->p != NULL;
}


static bool pl_is_delta_seconds(const struct pl *pl)
{
	if (!pl->l)
		return false;
	for (size_t i = 0; i < pl->l; i++) {
		if (!isdigit((unsigned char)pl->p[i]))
			return false;
	}
	return true;
}


int regreq_expires(uint32_t *expiresp, const struct pl *param,
		   const struct pl *header, const struct locus_config *cfg)
{
	const struct pl *src = pl_present(param) ? param :
		(pl_present(header) ? header : NULL);
	struct pl digits;
	uint64_t requested;

	if (!src) {
		*expiresp = cfg->default_expires;
		return 0;
	}
	if (!pl_is_delta_seconds(src))
		return EINVAL;

	digits = *src;
	while (digits.l > 1 && digits.p[0] == '0')
		pl_advance(&digits, 1);
	/* More than 19 digits would overflow; it is "forever" anyway. */
	requested = digits.l > 19 ? UINT64_MAX : pl_u64(&digits);
	if (requested > 0 && requested < cfg->min_expires)
		return ERANGE;

	*expiresp = requested > cfg->max_expires ? cfg->max_expires
						 : (uint32_t)requested;
	return 0;
}


int regreq_qvalue(int *qp, const struct pl *val)
{
	/* RFC 3261 §25.1: qvalue = ( "0" [ "." 0*3DIGIT ] )
	 *                        / ( "1" [ "." 0*3("0") ] ) */
	int q = 0, scale = 1000;
	size_t i;

	if (!val->l || (val->p[0] != '0' && val->p[0] != '1'))
		return EINVAL;
	q = (val->p[0] - '0') * 1000;
	if (val->l == 1) {
		*qp = q;
		return 0;
	}
	if (val->p[1] != '.' || val->l > 5)
		return EINVAL;
	for (i = 2; i < val->l; i++) {
		if (!isdigit((unsigned char)val->p[i]))
			return EINVAL;
		scale /= 10;
		q += (val->p[i] - '0') * scale;
	}
	if (q > 1000)
		return EINVAL;
	*qp = q;
	return 0;
}


/* Collected while walking one Contact's parameters. */
struct contact_scan {
	struct reg_contact *rc;
	struct mbuf *keep;       /* parameters stored and echoed as they are */
	struct pl expires;
	struct pl q;
	struct pl instance;
	struct pl reg_id;
};


static int contact_param_handler(const struct pl *name,
				 const struct pl *val, void *arg)
{
	struct contact_scan *cs = arg;

	if (0 == pl_strcasecmp(name, "expires"))
		cs->expires = *val;
	else if (0 == pl_strcasecmp(name, "q"))
		cs->q = *val;
	else if (0 == pl_strcasecmp(name, "+sip.instance"))
		cs->instance = *val;
	else if (0 == pl_strcasecmp(name, "reg-id"))
		cs->reg_id = *val;
	else if (0 == pl_strcasecmp(name, "pub-gruu") ||
		 0 == pl_strcasecmp(name, "temp-gruu"))
		;   /* RFC 5627 §5.1: a UA cannot suggest GRUUs */
	else if (pl_isset(val))
		return mbuf_printf(cs->keep, ";%r=%r", name, val);
	else
		return mbuf_printf(cs->keep, ";%r", name);
	return 0;
}


static bool is_our_gruu(const struct uri *u, const struct locus_config *cfg)
{
	struct pl gr;

	if (!config_is_our_domain(cfg, &u->host))
		return false;
	return 0 == msg_param_exists(&u->params, "gr", &gr) ||
		gruu_is_temp_user(&u->user);
}


/* RFC 5627 §5.1: a contact that routes back to us would loop.  The RFC
 * says so for contacts with an instance; a loop is a loop without one
 * too.  Other URI schemes are allowed by RFC 3261 §10.2.1, but not for a
 * device with an instance, which must be reachable by SIP. */
static int check_loop(const struct reg_contact *rc, const struct sip_msg *msg,
		      const struct locus_config *cfg, struct reg_error *rerr)
{
	const struct uri *u = &rc->parsed;

	if (!sipuri_is_sip(u))
		return rc->instance
			? reg_refuse(rerr, 403, "Contact Is Not a SIP URI")
			: 0;
	if (is_our_gruu(u, cfg))
		return reg_refuse(rerr, 403, "Contact Is a GRUU of This Domain");
	if (sipuri_equal(u, &msg->to.uri))
		return reg_refuse(rerr, 403, "Contact Equals the AOR");
	return 0;
}


static int contact_identity(struct reg_contact *rc, struct contact_scan *cs,
			    struct reg_error *rerr)
{
	struct pl inst;
	int err = 0;

	if (pl_present(&cs->q) && regreq_qvalue(&rc->q, &cs->q))
		return reg_refuse(rerr, 400, "Malformed Contact q Value");

	if (!pl_present(&cs->instance))
		return 0;
	sipuri_instance_unquote(&inst, &cs->instance);
	if (!inst.l)
		return reg_refuse(rerr, 400, "Empty +sip.instance");
	if (!sipuri_instance_wellformed(&inst))
		return reg_refuse(rerr, 400, "Malformed +sip.instance");
	err = pl_strdup(&rc->instance, &inst);
	if (err)
		return err;

	/* RFC 5626 §4.2: reg-id is 1..2^31-1 and only means something
	 * together with an instance. */
	if (pl_present(&cs->reg_id)) {
		uint64_t id = pl_is_delta_seconds(&cs->reg_id) &&
			cs->reg_id.l <= 10 ? pl_u64(&cs->reg_id) : 0;
		if (id < 1 || id > 0x7fffffff)
			return reg_refuse(rerr, 400, "Malformed reg-id");
		rc->reg_id = (uint32_t)id;
	}
	return 0;
}


static int expiry_of(struct reg_contact *rc, const struct pl *param,
		     const struct sip_msg *msg, const struct locus_config *cfg,
		     struct reg_error *rerr)
{
	switch (regreq_expires(&rc->expires, param, &msg->expires, cfg)) {

	case 0:
		return 0;

	case ERANGE:
		re_snprintf(rerr->headers, sizeof(rerr->headers),
			    "Min-Expires: %u\r\n", cfg->min_expires);
		return reg_refuse(rerr, 423, "Interval Too Brief");

	default:
		return reg_refuse(rerr, 400, "Malformed Expires Value");
	}
}


static int contact_decode(struct reg_contact **rcp, const struct pl *val,
			  const struct sip_msg *msg,
			  const struct locus_config *cfg,
			  struct reg_error *rerr)
{
	struct contact_scan cs = {0};
	struct reg_contact *rc;
	struct sip_addr addr;
	int err;

	if (sip_addr_decode(&addr, val))
		return reg_refuse(rerr, 400, "Malformed Contact");

	rc = mem_zalloc(sizeof(*rc), contact_destructor);
	cs.keep = mbuf_alloc(64);
	if (!rc || !cs.keep) {
		err = ENOMEM;
		goto out;
	}
	rc->q = -1;
	cs.rc = rc;

	err = pl_strdup(&rc->uri, &addr.auri);
	if (!err) {
		struct pl raw = {rc->uri, addr.auri.l};
		/* sip_addr_decode() parsed it already: the same slices, in
		 * our copy */
		rc->parsed = addr.uri;
		sipuri_rebase(&rc->parsed, addr.auri.p, rc->uri);
		if (!sipuri_wellformed(&raw, &rc->parsed))
			err = reg_refuse(rerr, 400, "Malformed Contact URI");
	}
	if (!err && sipparam_apply(&addr.params, contact_param_handler, &cs))
		err = reg_refuse(rerr, 400, "Malformed Contact Parameters");
	if (!err)
		err = contact_identity(rc, &cs, rerr);
	if (!err)
		err = check_loop(rc, msg, cfg, rerr);
	if (!err)
		err = expiry_of(rc, &cs.expires, msg, cfg, rerr);
	if (!err)
		rc->nat = reg_nat_detect(cfg->nat, msg, &rc->parsed);
	if (!err) {
		cs.keep->pos = 0;
		err = mbuf_strdup(cs.keep, &rc->params, cs.keep->end);
	}
	if (!err)
		err = value_check(rc->uri, CONTACT_URI_MAX, "Contact URI", rerr);
	if (!err)
		err = value_check(rc->params, CONTACT_PARAMS_MAX,
				  "Contact Parameters", rerr);

 out:
	mem_deref(cs.keep);
	if (err)
		mem_deref(rc);
	else
		*rcp = rc;
	return err;
}


static bool same_identity(const struct reg_contact *a,
			  const struct reg_contact *b)
{
	if (a->instance || b->instance)
		return a->instance && b->instance &&
			0 == strcmp(a->instance, b->instance) &&
			a->reg_id == b->reg_id;
	return sipuri_equal(&a->parsed, &b->parsed);
}


static int contact_add(struct regreq *req, struct reg_contact *rc,
		       struct reg_error *rerr)
{
	for (struct le *le = req->contacts.head; le; le = le->next) {
		if (same_identity(le->data, rc)) {
			mem_deref(rc);
			return reg_refuse(rerr, 400, "Duplicate Contact");
		}
	}
	list_append(&req->contacts, &rc->le, rc);
	return 0;
}


static bool is_wildcard(const struct pl *val)
{
	struct pl v = *val;

	while (v.l && isspace((unsigned char)v.p[v.l - 1]))
		--v.l;
	return v.l == 1 && v.p[0] == '*';
}


/* RFC 3261 §10.3 step 6: "*" only alone and only with Expires: 0. */
static int wildcard_check(const struct regreq *req, uint32_t contactc,
			  const struct sip_msg *msg, struct reg_error *rerr)
{
	if (contactc > 1)
		return reg_refuse(rerr, 400, "Wildcard Contact Must Be Alone");
	if (!pl_present(&msg->expires) ||
	    !pl_is_delta_seconds(&msg->expires) ||
	    pl_u64(&msg->expires) != 0)
		return reg_refuse(rerr, 400, "Wildcard Contact Requires Expires: 0");
	return 0;
}


static int contacts_decode(struct regreq *req, const struct sip_msg *msg,
			   const struct locus_config *cfg,
			   struct reg_error *rerr)
{
	uint32_t contactc = 0;
	int err = 0;

	if (pl_present(&msg->expires) && !pl_is_delta_seconds(&msg->expires))
		return reg_refuse(rerr, 400, "Malformed Expires Header");

	struct le *le = list_head(hash_list(msg->hdrht, SIP_HDR_CONTACT));
	for (; le && !err; le = le->next) {
		const struct sip_hdr *hdr = le->data;
		struct reg_contact *rc;

		if (hdr->id != SIP_HDR_CONTACT)
			continue;
		++contactc;
		if (is_wildcard(&hdr->val)) {
			req->wildcard = true;
			continue;
		}
		if (contactc > cfg->max_contacts) {
			char reason[64];
			re_snprintf(reason, sizeof(reason),
				    "Too Many Contacts (max %u)",
				    cfg->max_contacts);
			return reg_refuse(rerr, 403, reason);
		}
		err = contact_decode(&rc, &hdr->val, msg, cfg, rerr);
		if (!err)
			err = contact_add(req, rc, rerr);
	}
	if (!err && req->wildcard)
		err = wildcard_check(req, contactc, msg, rerr);
	return err;
}


struct path_fill {
	struct binding_path *path;
	size_t i;
};


/* Stops (true) when out of memory. */
static bool path_value_copy(const struct sip_hdr *hdr,
			    const struct sip_msg *msg, void *arg)
{
	struct path_fill *pf = arg;

	return pf->i >= pf->path->n ||
		0 != pl_strdup(&pf->path->v[pf->i++], &hdr->val);
}


/* The Path as one header value ("v1, v2") is at most PATH_MAX_LEN long,
 * and each value is text we can store and echo. */
static int path_check(const struct binding_path *path,
		      struct reg_error *rerr)
{
	size_t len = 0;

	for (size_t i = 0; i < path->n; i++)
		len += (i ? 2 : 0) + strlen(path->v[i]);
	if (len > PATH_MAX_LEN)
		return reg_refuse(rerr, 400, "Path Too Long");
	for (size_t i = 0; i < path->n; i++) {
		if (!sipmsg_text_ok(path->v[i], strlen(path->v[i])))
			return reg_refuse(rerr, 400, "Malformed Path");
	}
	return 0;
}


static int path_collect(struct regreq *req, const struct sip_msg *msg,
			struct reg_error *rerr)
{
	uint32_t n = sip_msg_hdr_count(msg, SIP_HDR_PATH);
	struct path_fill pf;
	int err;

	if (!n)
		return 0;

	/* RFC 3327 §5.3: the recommended policy when the UA did not say
	 * it supports Path is 420, so it learns a proxy added one. */
	if (!sipmsg_has_option(msg, SIP_HDR_SUPPORTED, "path")) {
		str_ncpy(rerr->headers, "Unsupported: path\r\n",
			 sizeof(rerr->headers));
		return reg_refuse(rerr, 420, "Bad Extension: Path Without "
			      "Supported: path");
	}

	/* libre splits a header with several values into one each */
	err = binding_path_alloc(&req->path, n);
	if (err)
		return err;
	pf = (struct path_fill){req->path, 0};
	if (sip_msg_hdr_apply(msg, true, SIP_HDR_PATH, path_value_copy, &pf))
		return ENOMEM;
	return path_check(req->path, rerr);
}


/* The first Path value is an edge proxy that keeps the flow: ";ob". */
static bool path_edge_outbound(const struct sip_msg *msg)
{
	const struct sip_hdr *path = sip_msg_hdr(msg, SIP_HDR_PATH);
	struct sip_addr addr;
	struct pl ob;

	return path && 0 == sip_addr_decode(&addr, &path->val) &&
		0 == msg_param_exists(&addr.uri.params, "ob", &ob);
}


/*
 * RFC 5626 §6.  Outbound applies to a Contact with +sip.instance and
 * reg-id when we are the UA's first hop (one Via) or its edge proxy
 * flagged the Path with ";ob"; otherwise the reg-id is ignored, or 439
 * when the UA asked for outbound.  One reg-id binding per REGISTER.
 */
static int outbound_check(struct regreq *req, const struct sip_msg *msg,
			  struct reg_error *rerr)
{
	uint32_t adding = 0;
	bool reg_id = false, adding_reg_id = false;

	for (struct le *le = req->contacts.head; le; le = le->next) {
		const struct reg_contact *rc = le->data;
		adding += rc->expires > 0;
		reg_id |= rc->reg_id != 0;
		adding_reg_id |= rc->reg_id && rc->expires > 0;
	}
	if (!reg_id)
		return 0;

	/* The SHOULD of §6 (400 for a reg-id among several bindings) is
	 * applied to UAs that claim outbound; to others a reg-id is only
	 * part of the binding's identity, as before RFC 5626. */
	bool supported = sipmsg_has_option(msg, SIP_HDR_SUPPORTED,
					   "outbound");
	if (supported && adding > 1 && adding_reg_id)
		return reg_refuse(rerr, 400, "reg-id With More Than One "
				  "Contact");
	if (sip_msg_hdr_count(msg, SIP_HDR_VIA) > 1 &&
	    !path_edge_outbound(msg)) {
		if (supported)
			return reg_refuse(rerr, 439, "First Hop Lacks "
					  "Outbound Support");
		for (struct le *le = req->contacts.head; le; le = le->next)
			((struct reg_contact *)le->data)->reg_id = 0;
		return 0;
	}
	req->outbound = supported;
	return 0;
}


/* "Unsupported: a, b\r\n" into RERR's headers; cut at a whole tag when
 * there are more than fit, so that the header block stays well-formed. */
static void unsupported_header(struct reg_error *rerr,
			       const struct sipmsg_options *opts)
{
	char tags[sizeof(rerr->headers) - 32];
	int n = re_snprintf(tags, sizeof(tags), "%H",
			    sipmsg_unknown_options_print, opts);

	if (n < 0 || (size_t)n >= sizeof(tags) - 1) {
		char *cut = strrchr(tags, ',');
		if (cut)
			*cut = '\0';
	}
	re_snprintf(rerr->headers, sizeof(rerr->headers),
		    "Unsupported: %s\r\n", tags);
}


/* RFC 3261 §10.3 steps 1-2 and 5: is this ours, and do we understand it? */
static int target_check(const struct sip_msg *msg,
			const struct locus_config *cfg,
			struct reg_error *rerr)
{
	struct sipmsg_options opts = {msg, SIP_HDR_REQUIRE, sipmsg_supported};

	if (!sipuri_is_sip(&msg->uri))
		return reg_refuse(rerr, 416, "Unsupported URI Scheme");
	if (!config_is_our_domain(cfg, &msg->uri.host))
		return reg_refuse(rerr, 404, "Domain Not Served Here");
	if (sipmsg_has_unknown_option(&opts)) {
		unsupported_header(rerr, &opts);
		return reg_refuse(rerr, 420, "Bad Extension");
	}
	if (!sipuri_is_sip(&msg->to.uri))
		return reg_refuse(rerr, 400, "To Is Not a SIP URI");
	if (!pl_isset(&msg->to.uri.user))
		return reg_refuse(rerr, 400, "To URI Has No User Part");
	if (!config_is_our_domain(cfg, &msg->to.uri.host))
		return reg_refuse(rerr, 404, "AOR Domain Not Served Here");
	return 0;
}


static int request_values_check(const struct regreq *req,
				struct reg_error *rerr)
{
	int err;

	err = value_check(req->aor, AOR_MAX, "AOR", rerr);
	if (!err)
		err = value_check(req->callid, CALLID_MAX, "Call-ID", rerr);
	if (!err)
		err = value_check(req->user_agent, USER_AGENT_MAX,
				  "User-Agent", rerr);
	return err;
}


static int copy_request_facts(struct regreq *req, const struct sip_msg *msg)
{
	const struct sip_hdr *ua = sip_msg_hdr(msg, SIP_HDR_USER_AGENT);
	int err;

	err = sipuri_aor_key(&req->aor, &msg->to.uri);
	err |= pl_strdup(&req->callid, &msg->callid);
	if (ua)
		err |= pl_strdup(&req->user_agent, &ua->val);
	req->cseq = msg->cseq.num;
	req->src = msg->src;
	req->tp = msg->tp;
	req->gruu = sipmsg_has_option(msg, SIP_HDR_SUPPORTED, "gruu");
	return err ? ENOMEM : 0;
}


int regreq_decode(struct regreq **reqp, const struct sip_msg *msg,
		  const struct locus_config *cfg, struct reg_error *rerr)
{
	struct regreq *req;
	int err;

	memset(rerr, 0, sizeof(*rerr));

	err = target_check(msg, cfg, rerr);
	if (err)
		return err;

	req = mem_zalloc(sizeof(*req), regreq_destructor);
	if (!req)
		return ENOMEM;

	err = copy_request_facts(req, msg);
	if (!err)
		err = request_values_check(req, rerr);
	if (!err)
		err = path_collect(req, msg, rerr);
	if (!err)
		err = contacts_decode(req, msg, cfg, rerr);
	if (!err)
		err = outbound_check(req, msg, rerr);

	if (err)
		mem_deref(req);
	else
		*reqp = req;
	return err;
}

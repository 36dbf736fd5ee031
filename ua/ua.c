/*
 * The user agent inside locus: its place among the owners of requests,
 * the way its requests go out (through locus's own proxy, with an
 * origin stamp), its Contact, and the legs it holds, by Call-ID.
 */
#include <string.h>
#include <re.h>
#include "common/log.h"
#include "config/config.h"
#include "location/location.h"
#include "proxy/gate.h"
#include "proxy/route.h"
#include "proxy/stamp.h"
#include "sip/sipmsg.h"
#include "ua/call.h"
#include "ua/core.h"
#include "ua/leg.h"
#include "ua/park.h"
#include "ua/store.h"
#include "ua/ua.h"

enum { LEG_BUCKETS = 1u << 10 };


/* ---- our requests --------------------------------------------------- */

int ua_route(char *out, size_t sz, const struct ua *ua, const char *method,
	     const char *ruri, const char *from, const char *to)
{
	struct stamp_origin_fields f;
	char tag[STAMP_ORIGIN_LEN + 1];
	int err;

	pl_set_str(&f.method, method);
	pl_set_str(&f.ruri, ruri);
	pl_set_str(&f.from_uri, from);
	pl_set_str(&f.to_uri, to);
	err = stamp_origin(tag, ua->stamp, &f, (uint32_t)location_now() +
			   STAMP_ORIGIN_LIFETIME);
	if (!err && re_snprintf(out, sz, "%s;lo=%s", ua->proxy, tag) < 0)
		err = ENOMEM;
	return err;
}


int ua_message(struct ua *ua, const char *from, const char *to,
	       const char *ctype, const char *text)
{
	char route[UA_URI_SIZE + 64];
	const char *routev[1] = {route};
	struct sip_dialog *dlg = NULL;
	int err;

	err = ua_route(route, sizeof(route), ua, "MESSAGE", to, from, to);
	err = err ? err : sip_dialog_alloc(&dlg, to, to, NULL, from, routev,
					   1);
	err = err ? err : sip_drequestf(NULL, ua->sip, true, "MESSAGE", dlg,
					0, NULL, NULL, NULL, NULL,
					"Content-Type: %s\r\n"
					"Content-Length: %zu\r\n\r\n%s",
					ctype, strlen(text), text);
	mem_deref(dlg);
	return err;
}


/* The listener our requests go to: UDP if there is one, else TCP, else
 * TLS (libre cannot connect to a WebSocket). */
static const struct listen_cfg *own_listener(const struct locus_config *cfg)
{
	static const enum sip_transp order[] = {
		SIP_TRANSP_UDP, SIP_TRANSP_TCP, SIP_TRANSP_TLS,
	};

	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		for (size_t j = 0; j < cfg->listenc; j++) {
			if (cfg->listen[j].tp == order[i])
				return &cfg->listen[j];
		}
	}
	return NULL;
}


static int addresses_set(struct ua *ua, char *errbuf, size_t errsz)
{
	const struct listen_cfg *l = own_listener(ua->cfg);
	const char *tp;

	if (!l) {
		re_snprintf(errbuf, errsz, "ua: no UDP, TCP or TLS listener for"
			    " the calls locus places itself; add one to"
			    " listen");
		return EINVAL;
	}
	/* ";transport=tcp", or nothing for UDP */
	tp = sip_transp_param(l->tp);
	if (re_snprintf(ua->proxy, sizeof(ua->proxy), "sip:%J%s", &l->addr,
			tp) < 0 ||
	    re_snprintf(ua->contact, sizeof(ua->contact),
			"sip:" UA_CONTACT_USER "@%J%s", &l->addr, tp) < 0 ||
	    re_snprintf(ua->node, sizeof(ua->node), "%J", &l->addr) < 0)
		return ENOMEM;
	return 0;
}


/* ---- the legs ------------------------------------------------------- */

static bool leg_cmp(struct le *le, void *arg)
{
	return leg_matches(le->data, arg);
}


static struct leg *leg_find(const struct ua *ua, const struct sip_msg *msg)
{
	return list_ledata(hash_lookup(ua->legs, hash_joaat_pl(&msg->callid),
				       leg_cmp, (void *)msg));
}


/* ---- requests ------------------------------------------------------- */

/* A request to our Contact (an in-dialog request, by its Request-URI). */
static bool to_our_contact(const struct ua *ua, const struct sip_msg *msg)
{
	return 0 == pl_strcmp(&msg->uri.user, UA_CONTACT_USER) &&
		route_uri_is_our_socket(ua->cfg, &msg->uri);
}


bool ua_claim(const struct sip_msg *msg, void *arg)
{
	const struct ua *ua = arg;

	if (pl_isset(&msg->to.tag))
		return leg_find(ua, msg) || to_our_contact(ua, msg);
	return ua->park && 0 == pl_strcmp(&msg->met, "INVITE") &&
		park_is_slot(ua->park, msg);
}


/* An INVITE that passed the gate, or that locus itself sent.  locus as
 * a UAS supports no extension (RFC 3261 §8.2.2.3). */
static void park_pass(const struct sip_msg *msg, void *arg)
{
	static const char *const none[] = {NULL};
	struct sipmsg_options opts = {msg, SIP_HDR_REQUIRE, none};
	struct ua *ua = arg;

	if (sipmsg_has_unknown_option(&opts)) {
		(void)sip_treplyf(NULL, NULL, ua->sip, msg, false, 420,
				  "Bad Extension", "Unsupported: %H\r\n"
				  "Content-Length: 0\r\n\r\n",
				  sipmsg_unknown_options_print, &opts);
		return;
	}
	park_invite(ua->park, msg);
}


static bool from_locus(const struct ua *ua, const struct sip_msg *msg)
{
	struct route_info ri;

	return 0 == route_preprocess(&ri, msg, ua->cfg) &&
		pl_isset(&ri.origin) &&
		stamp_origin_check(ua->stamp, &ri.origin, msg,
				   (uint32_t)location_now());
}


void ua_handle(const struct sip_msg *msg, void *arg)
{
	struct ua *ua = arg;
	struct leg *leg;

	if (pl_isset(&msg->to.tag)) {
		leg = leg_find(ua, msg);
		if (leg)
			leg_recv(leg, msg);
		else if (pl_strcmp(&msg->met, "ACK"))
			(void)sip_treply(NULL, ua->sip, msg, 481,
					 "Call/Transaction Does Not Exist");
		return;
	}
	if (!gate_hold(ua->gate, msg, from_locus(ua, msg)))
		park_pass(msg, ua);
}


/* ---- responses nobody claims ---------------------------------------- */

static bool via_count(const struct sip_hdr *hdr, const struct sip_msg *msg,
		      void *arg)
{
	unsigned *n = arg;

	(void)hdr;
	(void)msg;
	++*n;
	return false;
}


/* A 2xx to an INVITE of ours whose client transaction is gone (RFC 3261
 * §13.2.2.4): ours only with no Via but ours (one the proxy relayed to
 * us, not one on its way through the proxy). */
static bool stray_response(const struct sip_msg *msg, void *arg)
{
	struct ua *ua = arg;
	unsigned vias = 0;
	struct leg *leg;

	if (msg->scode < 200 || msg->scode >= 300 ||
	    pl_strcmp(&msg->cseq.met, "INVITE"))
		return false;
	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_VIA, via_count, &vias);
	if (vias != 1)
		return false;
	leg = leg_find(ua, msg);
	if (!leg)
		return false;
	leg_stray_2xx(leg, msg);
	return true;
}


/* ---- the user agent ------------------------------------------------- */

static void store_call(const struct call_row *row, void *arg)
{
	struct ua *ua = arg;

	calls_start(ua->calls, row);
}


static void store_hangup(uint64_t id, void *arg)
{
	struct ua *ua = arg;

	calls_hangup(ua->calls, id);
}


static void store_unpark(const char *id, void *arg)
{
	struct ua *ua = arg;

	if (ua->park)
		park_unpark(ua->park, id);
}


static const struct store_handlers store_handlers = {
	.call = store_call,
	.hangup = store_hangup,
	.unpark = store_unpark,
};


void ua_close(struct ua *ua)
{
	if (!ua)
		return;
	if (ua->calls)
		calls_close(ua->calls);
	if (ua->park)
		park_close(ua->park);
}


static void ua_destructor(void *arg)
{
	struct ua *ua = arg;

	ua_close(ua);
	mem_deref(ua->calls);
	mem_deref(ua->park);
	mem_deref(ua->store);
	mem_deref(ua->resp_lsnr);
	mem_deref(ua->gate);
	hash_clear(ua->legs);   /* the legs are their owners' */
	mem_deref(ua->legs);
	mem_deref(ua->stamp);
}


int ua_alloc(struct ua **uap, const struct ua_deps *deps,
	     char *errbuf, size_t errsz)
{
	struct ua *ua = mem_zalloc(sizeof(*ua), ua_destructor);
	int err;

	if (!ua)
		return ENOMEM;
	ua->sip = deps->sip;
	ua->cfg = deps->cfg;
	err = addresses_set(ua, errbuf, errsz);
	err = err ? err : stamp_alloc(&ua->stamp, deps->node_key);
	err = err ? err : hash_alloc(&ua->legs, LEG_BUCKETS);
	err = err ? err : gate_alloc(&ua->gate, deps->sip, deps->cfg,
				     deps->auth, deps->gruu_key, park_pass, ua);
	err = err ? err : sip_listen(&ua->resp_lsnr, deps->sip, false,
				     stray_response, ua);
	err = err ? err : calls_alloc(&ua->calls, ua);
	if (!err && deps->cfg->park.enabled)
		err = park_alloc(&ua->park, ua);
	if (err && !errbuf[0])
		re_snprintf(errbuf, errsz, "ua: start-up failed: %m", err);
	if (!err)
		err = store_alloc(&ua->store, deps->cfg->db_conninfo, ua->node,
				  &store_handlers, ua, errbuf, errsz);
	if (err)
		mem_deref(ua);
	else
		*uap = ua;
	return err;
}

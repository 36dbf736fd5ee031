#include <string.h>
#include <re.h>
#include "common/log.h"
#include "sip/sipmsg.h"
#include "config/config.h"
#include "location/location.h"
#include "proxy/dialog.h"
#include "proxy/fwd.h"
#include "proxy/gate.h"
#include "proxy/hook.h"
#include "proxy/proxy.h"
#include "proxy/reachlog.h"
#include "proxy/route.h"
#include "proxy/send.h"
#include "proxy/stamp.h"
#include "proxy/target.h"
#include "proxy/txn.h"
#include "transport/flows.h"

/* How long our 100 (Trying) to an INVITE waits for a response from
 * downstream to go up instead (RFC 3261 §17.2.1 allows up to 200 ms; half
 * that leaves the caller's T1 of 500 ms well clear). */
enum { TRYING_MS = 100 };

/* Option tags we honour in Proxy-Require: none yet. */
static const char *const proxy_options[] = {NULL};

struct proxy {
	struct proxy_deps deps;
	struct stamp *stamp;
	struct dialogs *dialogs;
	struct txn_env env;
	struct target_deps tdeps;
	struct sip_lsnr *resp_lsnr;
	struct gate *gate;
	struct hook hook;            /* the seam (proxy.h)               */
	struct reachlog *unreachable;
};


/* ---- loop detection (§16.3 step 4, §16.6 step 8) -------------------- */

/* Appends "|VALUE" (stops the walk when out of memory). */
static bool hdr_value_put(const struct sip_hdr *hdr, const struct sip_msg *msg,
			  void *arg)
{
	struct mbuf *mb = arg;

	(void)msg;
	return 0 != mbuf_write_u8(mb, '|') ||
		(hdr->val.l && 0 != mbuf_write_mem(mb, (const uint8_t *)hdr->val.p,
						   hdr->val.l));
}


/* PL, then SEP unless it is NUL. */
static void pl_put(struct mbuf *mb, const struct pl *pl, char sep)
{
	if (pl->l)
		(void)mbuf_write_mem(mb, (const uint8_t *)pl->p, pl->l);
	if (sep)
		(void)mbuf_write_u8(mb, (uint8_t)sep);
}


/* The hash of the fields that decide how a request is processed, and of
 * the Via it carried when it reached us: its sent-by and branch only, as
 * we add received and rport to it when we forward.  The bytes hashed are
 * "TO-TAG|FROM-TAG|CALL-ID|CSEQ|R-URI|SENT-BY|BRANCH", then "|VALUE" for
 * each Proxy-Require and Proxy-Authorization value: every node of a
 * cluster must hash the same, for a request that loops through several. */
static void loop_hash(char out[MD5_STR_SIZE], const struct sip_msg *msg,
		      const struct sip_via *via)
{
	static const char hex[] = "0123456789abcdef";
	struct mbuf *mb = mbuf_alloc(512);
	char num[10];
	uint8_t md[MD5_SIZE];
	uint32_t cseq = msg->cseq.num;
	size_t n = sizeof(num);

	out[0] = '\0';
	if (!mb)
		return;
	do {
		num[--n] = (char)('0' + cseq % 10);
		cseq /= 10;
	} while (cseq);
	pl_put(mb, &msg->to.tag, '|');
	pl_put(mb, &msg->from.tag, '|');
	pl_put(mb, &msg->callid, '|');
	pl_put(mb, &(struct pl){num + n, sizeof(num) - n}, '|');
	pl_put(mb, &msg->ruri, '|');
	pl_put(mb, &via->sentby, '|');
	pl_put(mb, &via->branch, '\0');
	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_PROXY_REQUIRE,
				hdr_value_put, mb);
	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_PROXY_AUTHORIZATION,
				hdr_value_put, mb);
	md5(mb->buf, mb->end, md);
	for (size_t i = 0; i < MD5_SIZE; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[2 * MD5_SIZE] = '\0';
	mem_deref(mb);
}


/* May the Via value VAL carry a parameter "lh"?  Not without those
 * letters (in any case) somewhere: then it needs no decoding to know it
 * is no Via of ours with a loop hash. */
static bool may_have_lh(const struct pl *val)
{
	for (size_t i = 0; i + 1 < val->l; i++) {
		if ((val->p[i] | 0x20) == 'l' && (val->p[i + 1] | 0x20) == 'h')
			return true;
	}
	return false;
}


/* A Via of ours whose loop hash equals the hash of this request as it
 * was then (same fields, same Via below ours) means the request came
 * back unchanged: a loop, not a spiral. */
static bool is_loop(const struct proxy *px, const struct sip_msg *msg)
{
	struct pl ours_lh = PL_INIT;

	for (struct le *le = msg->hdrl.head; le; le = le->next) {
		const struct sip_hdr *hdr = le->data;
		char hash[MD5_STR_SIZE];
		struct sip_via via;
		struct pl lh;

		if (hdr->id != SIP_HDR_VIA ||
		    (!pl_isset(&ours_lh) && !may_have_lh(&hdr->val)) ||
		    sip_via_decode(&via, &hdr->val))
			continue;
		if (pl_isset(&ours_lh)) {
			loop_hash(hash, msg, &via);
			if (0 == pl_strcmp(&ours_lh, hash))
				return true;
		}
		ours_lh = pl_null;
		if (sip_transp_isladdr(px->deps.sip, SIP_TRANSP_NONE,
				       &via.addr) &&
		    0 == msg_param_decode(&via.params, "lh", &lh))
			ours_lh = lh;
	}
	return false;
}


/* ---- answering ------------------------------------------------------ */

static void reply(struct proxy *px, const struct sip_msg *msg,
		  uint16_t scode, const char *reason)
{
	if (0 == pl_strcmp(&msg->met, "ACK"))
		return;
	(void)sip_treplyf(NULL, NULL, px->deps.sip, msg, false, scode, reason,
			  NULL);
}


/* RFC 3261 §11.2: what locus, registrar and proxy, implements. */
static void reply_options(struct proxy *px, const struct sip_msg *msg)
{
	(void)sip_treplyf(NULL, NULL, px->deps.sip, msg, false, 200, "OK",
			  "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER,"
			  " PRACK, UPDATE, REFER, SUBSCRIBE, NOTIFY, INFO,"
			  " MESSAGE\r\n"
			  "Supported: " SIPMSG_SUPPORTED "\r\n"
			  "Content-Length: 0\r\n\r\n");
}


/* RFC 3261 §16.3: may this request be forwarded at all? */
static bool request_refused(struct proxy *px, const struct sip_msg *msg)
{
	struct sipmsg_options opts = {msg, SIP_HDR_PROXY_REQUIRE,
				      proxy_options};

	if (pl_isset(&msg->maxfwd) && pl_u32(&msg->maxfwd) == 0) {
		if (0 == pl_strcmp(&msg->met, "OPTIONS") &&
		    !pl_isset(&msg->uri.user))
			reply_options(px, msg);
		else
			reply(px, msg, 483, "Too Many Hops");
		return true;
	}
	if (sipmsg_has_unknown_option(&opts)) {
		if (pl_strcmp(&msg->met, "ACK"))
			(void)sip_treplyf(NULL, NULL, px->deps.sip, msg, false,
					  420, "Bad Extension",
					  "Unsupported: %H\r\n"
					  "Content-Length: 0\r\n\r\n",
					  sipmsg_unknown_options_print, &opts);
		return true;
	}
	if (is_loop(px, msg)) {
		reply(px, msg, 482, "Loop Detected");
		return true;
	}
	return false;
}


/* ---- forwarding ----------------------------------------------------- */

static int ack_send(enum sip_transp tp, const struct sa *src,
		    const struct sa *dst, struct mbuf *mb, void *arg)
{
	const struct target *t = arg;

	return t->routes ? mbuf_printf(mb, "Route: %s\r\n", t->routes) : 0;
}


/* An ACK for a 2xx is a transaction of its own with no response: it is
 * routed like any in-dialog request and sent statelessly (§16.11); to a
 * host name, or over a transport of connections, libre resolves the name
 * and opens the connection. */
static void ack_forward(struct proxy *px, const struct sip_msg *msg,
			const struct route_info *ri, struct target_set *ts)
{
	struct fwd_request_opts opts = {ri->drop_routes, ri->drop_last_route};
	struct target *t = list_ledata(list_head(&ts->targets));
	const struct send_req r = {.msg = msg, .tgt = t};
	struct mbuf *mb;
	struct uri hop;
	struct pl pl;
	int err;

	if (!t)
		return;
	err = send_stateless(px->deps.sip, &r, &opts);
	if (err != EAGAIN) {
		if (err)
			log_info("proxy: ACK to %s not sent: %m", t->ruri, err);
		return;
	}
	mb = mbuf_alloc(msg->mb->end + 128);
	if (!mb)
		return;
	err = fwd_request_body(mb, msg, &opts);
	mb->pos = 0;
	pl_set_str(&pl, t->hop);
	if (!err)
		err = uri_decode(&hop, &pl);
	if (!err)
		err = sip_request(NULL, px->deps.sip, false, "ACK", 3, t->ruri,
				  -1, &hop, mb, 0, ack_send, NULL, t);
	if (err)
		log_info("proxy: ACK to %s not sent: %m", t->ruri, err);
	mem_deref(mb);
}


/* RFC 3261 §16.11: the requests of a dialog we record-routed that need
 * no state of ours: nothing of their responses is chosen, merged or
 * learnt but what the response itself says (a BYE's end, proxy/dialog.c),
 * and their retransmissions may go on as they come.  Target refreshes
 * stay stateful: the dialogs in memory learn their targets from the
 * request and its 2xx together. */
static bool stateless_method(const struct pl *met)
{
	return 0 == pl_strcmp(met, "BYE") || 0 == pl_strcmp(met, "INFO") ||
		0 == pl_strcmp(met, "PRACK") || 0 == pl_strcmp(met, "MESSAGE");
}


/* Forwards MSG statelessly when it is such a request, vouched for by our
 * stamp, to the one target of a dialog that can be reached so (send.h);
 * its responses come back to stray_response().  False when it is to go
 * statefully. */
static bool stateless_forward(struct proxy *px, const struct sip_msg *msg,
			      const struct route_info *ri,
			      const struct target_set *ts)
{
	struct fwd_request_opts opts = {ri->drop_routes, ri->drop_last_route};
	const struct target *t = list_ledata(list_head(&ts->targets));
	char hash[MD5_STR_SIZE];
	const struct send_req r = {
		.msg = msg, .tgt = t, .stamp = px->stamp, .loop_hash = hash,
	};
	int err;

	/* over a reliable transport the sender does not retransmit: a
	 * datagram lost on the way out would be lost for good (§17.1.2.1),
	 * so only a request that came over UDP goes without state */
	if (msg->tp != SIP_TRANSP_UDP)
		return false;
	if (!ri->in_dialog || !stateless_method(&msg->met) || !t ||
	    t->le.next || (ts->kind != TARGET_URI && ts->kind != TARGET_ROUTE))
		return false;
	loop_hash(hash, msg, &msg->via);
	err = send_stateless(px->deps.sip, &r, &opts);
	if (err == EAGAIN)
		return false;
	if (err) {
		/* as a transaction answers a branch it could not send */
		log_info("proxy: cannot send %r to %s: %m", &msg->met, t->ruri,
			 err);
		reply(px, msg, 500, "Downstream Service Unavailable");
	}
	return true;
}


static void local_request(struct proxy *px, const struct sip_msg *msg)
{
	if (0 == pl_strcmp(&msg->met, "OPTIONS"))
		reply_options(px, msg);
	else
		reply(px, msg, 404, "Not Found");
}


/* A request locus's own user agent sent through its own proxy (ua/): the
 * origin stamp on the Route value naming us proves it, and locus's own
 * requests need no credentials.  A request that only says it is locus's
 * has no such stamp. */
static bool from_locus(const struct proxy *px, const struct sip_msg *msg,
		       const struct route_info *ri)
{
	return pl_isset(&ri->origin) &&
		stamp_origin_check(px->stamp, &ri->origin, msg,
				   (uint32_t)location_now());
}


/* RFC 3261 §16.4 pre-processing, and whether the request belongs to a
 * dialog we record-routed.  False after answering a malformed Route. */
static bool route_prepare(struct proxy *px, struct route_info *ri,
			  const struct sip_msg *msg)
{
	if (route_preprocess(ri, msg, px->deps.cfg)) {
		reply(px, msg, 400, "Malformed Route");
		return false;
	}
	(void)dialog_vouch(px->dialogs, msg, ri);
	ri->from_locus = from_locus(px, msg, ri);
	return true;
}


/* A plan's refusal: stateful, so that the INVITE's retransmissions and
 * the ACK are absorbed (RFC 3261 §17.2.1). */
static void reply_planned(struct proxy *px, const struct sip_msg *msg,
			  const struct proxy_plan *plan)
{
	struct sip_strans *st = NULL;

	(void)sip_treplyf(&st, NULL, px->deps.sip, msg, false, plan->scode,
			  plan->reason, NULL);
}


/* Forwards MSG statefully to the targets of TS, after the seam's
 * service added to each what it wants (proxy.h). */
static void forward_planned(struct proxy *px, const struct sip_msg *msg,
			    const struct route_info *ri, struct target_set *ts,
			    const struct proxy_plan *plan)
{
	char hash[MD5_STR_SIZE];

	if (hook_targets(plan, ts, px->deps.cfg, msg, ri)) {
		reply(px, msg, 500, "Server Internal Error");
		return;
	}
	loop_hash(hash, msg, &msg->via);
	if (txn_start(&px->env, msg, ri, ts, hash))
		reply(px, msg, 500, "Server Internal Error");
}


/* RFC 3261 §16.5 onwards: where the request goes, and going there.
 * CALLER: who is calling, as struct proxy_invite says. */
static void proxy_forward(struct proxy *px, const struct sip_msg *msg,
			  const struct route_info *ri, const struct uri *caller)
{
	struct route_info planned;
	struct proxy_plan plan;
	struct target_set ts;
	int err;

	hook_plan(&plan, &planned, &px->hook, px->deps.cfg, msg, ri, caller);
	if (plan.scode) {
		reply_planned(px, msg, &plan);
		hook_plan_release(&plan);
		return;
	}
	err = target_resolve(&ts, &px->tdeps, msg, &planned);
	if (err)
		reply(px, msg, 500, "Server Internal Error");
	else if (ts.scode)
		reply(px, msg, ts.scode, ts.reason);
	else if (ts.kind == TARGET_LOCAL)
		local_request(px, msg);
	else if (0 == pl_strcmp(&msg->met, "ACK"))
		ack_forward(px, msg, ri, &ts);
	else if (!stateless_forward(px, msg, ri, &ts))
		forward_planned(px, msg, ri, &ts, &plan);
	target_set_flush(&ts);
	hook_plan_release(&plan);
}


/* RFC 5626 §5.1, RFC 3327 §5.2: as an edge proxy (proxy.edge_registrar)
 * locus forwards a REGISTER to the registrar behind it with a Path of its
 * own in front, whose user part is a token of the flow the REGISTER came
 * on: requests for the device come back with it in their Route and go
 * down that flow (target.c).  Authenticating is the registrar's job. */
static void edge_register(struct proxy *px, const struct sip_msg *msg,
			  const struct route_info *ri)
{
	struct stamp_flow flow = {.tp = msg->tp, .peer = msg->src};
	struct target_set ts = {.kind = TARGET_ROUTE};
	char hash[MD5_STR_SIZE], token[STAMP_FLOW_SIZE];
	struct target *t = NULL;
	int err;

	/* §5.2: a Path is only for a UA that said it supports it */
	if (!sipmsg_has_option(msg, SIP_HDR_SUPPORTED, "path")) {
		(void)sip_treplyf(NULL, NULL, px->deps.sip, msg, false, 421,
				  "Extension Required", "Require: path\r\n"
				  "Content-Length: 0\r\n\r\n");
		return;
	}
	list_init(&ts.targets);
	err = flows_watch(px->deps.flows, msg, &flow.id);
	if (!err)
		err = stamp_flow(token, px->stamp, &flow);
	if (!err)
		err = target_alloc(&t);
	if (!err) {
		list_append(&ts.targets, &t->le, t);
		t->path_ob = sip_msg_hdr_count(msg, SIP_HDR_VIA) == 1;
		err = str_dup(&t->path_token, token) |
			pl_strdup(&t->ruri, &ri->ruri) |
			str_dup(&t->hop, px->deps.cfg->edge_registrar);
	}
	if (!err) {
		loop_hash(hash, msg, &msg->via);
		err = txn_start(&px->env, msg, ri, &ts, hash);
	}
	if (err) {
		log_warn("proxy: REGISTER from %J not forwarded to %s: %m",
			 &msg->src, px->deps.cfg->edge_registrar, err);
		reply(px, msg, 500, "Server Internal Error");
	}
	target_set_flush(&ts);
}


/* The gate let MSG pass after authenticating it: its From user is the
 * one whose credentials it carries. */
static void proxy_authenticated(const struct sip_msg *msg, void *arg)
{
	struct proxy *px = arg;
	struct route_info ri;

	if (route_prepare(px, &ri, msg))
		proxy_forward(px, msg, &ri, &msg->from.uri);
}


void proxy_handle(struct proxy *px, const struct sip_msg *msg)
{
	struct route_info ri;
	bool vouched;

	if (request_refused(px, msg))
		return;

	/* libre matched every CANCEL of a live transaction already.  RFC
	 * 3261 §16.10 would forward an unmatched one statelessly, for a
	 * proxy that forwarded the INVITE statelessly; locus never does,
	 * and a CANCEL sent on would carry branches no UAS knows. */
	if (0 == pl_strcmp(&msg->met, "CANCEL")) {
		reply(px, msg, 481, "Call/Transaction Does Not Exist");
		return;
	}
	if (!route_prepare(px, &ri, msg))
		return;
	if (0 == pl_strcmp(&msg->met, "REGISTER")) {
		edge_register(px, msg, &ri);
		return;
	}
	/* a request that only claims a dialog (a To tag, no stamp of ours
	 * that vouches for it) is an initial request to the gate, unless
	 * locus's own user agent sent it.  One the gate lets through
	 * unchallenged has a known caller only with auth off, where the From
	 * user is taken at its word. */
	vouched = ri.in_dialog || ri.from_locus;
	if (!gate_hold(px->gate, msg, vouched))
		proxy_forward(px, msg, &ri,
			      px->deps.auth ? NULL : &msg->from.uri);
}


void proxy_invite_hook(struct proxy *px, proxy_invite_h *h, void *arg)
{
	void *old = px->hook.arg;

	/* the new one taken first: it may be the old one, held by us alone */
	px->hook.arg = mem_ref(arg);
	px->hook.h = h;
	mem_deref(old);
}


/* ---- responses no transaction claims -------------------------------- */

/* Is the top Via ours, with our stamp over its branch? */
static bool via_is_ours(const struct proxy *px, const struct sip_msg *msg)
{
	struct pl lt;

	return sip_transp_isladdr(px->deps.sip, SIP_TRANSP_NONE,
				  &msg->via.addr) &&
		0 == msg_param_decode(&msg->via.params, "lt", &lt) &&
		stamp_via_check(px->stamp, &msg->via.branch, &lt);
}


/* A response no transaction claims goes upstream by its Via (RFC 3261
 * §16.11) when it answers a request we forwarded statelessly (send.h), or
 * when it is a 2xx to an INVITE whose client transaction is gone (a
 * retransmitted 2xx, another fork's 2xx after the first: RFC 3261 §16.7,
 * RFC 6026 §7.1).  Only when our stamp proves we sent that branch: RFC
 * 6026 §3 names proxies that forward any such response as reflectors of
 * forged 2xx.  Other stray responses are dropped. */
static bool stray_response(const struct sip_msg *msg, void *arg)
{
	struct proxy *px = arg;
	struct dialog_edits ed;
	enum sip_transp tp;
	struct mbuf *mb;
	struct sa dst;

	if (!send_branch_stateless(&msg->via.branch) &&
	    (msg->scode < 200 || msg->scode >= 300 ||
	     pl_strcmp(&msg->cseq.met, "INVITE"))) {
		log_debug("proxy: dropping stray %u %r from %J", msg->scode,
			  &msg->reason, &msg->src);
		return true;
	}
	if (!via_is_ours(px, msg)) {
		log_debug("proxy: dropping %u %r from %J: not our Via",
			  msg->scode, &msg->reason, &msg->src);
		return true;
	}
	if (dialog_response(px->dialogs, &ed, msg, NULL, NULL, false, NULL) ||
	    fwd_next_via_addr(&dst, &tp, msg) ||
	    fwd_response(&mb, msg, NULL, ed.edit, ed.n))
		return true;
	(void)sip_send(px->deps.sip, NULL, tp, &dst, mb);
	mem_deref(mb);
	return true;
}


static void proxy_destructor(void *arg)
{
	struct proxy *px = arg;

	mem_deref(px->resp_lsnr);
	mem_deref(px->hook.arg);
	mem_deref(px->gate);
	mem_deref(px->dialogs);
	mem_deref(px->stamp);
	mem_deref(px->unreachable);
}


int proxy_alloc(struct proxy **pxp, const struct proxy_deps *deps)
{
	struct proxy *px = mem_zalloc(sizeof(*px), proxy_destructor);
	int err;

	if (!px)
		return ENOMEM;
	px->deps = *deps;
	err = stamp_alloc(&px->stamp, deps->node_key);
	if (!err)
		err = dialogs_alloc(&px->dialogs, px->stamp, deps->cfg);
	if (!err)
		err = reachlog_alloc(&px->unreachable);
	if (err) {
		mem_deref(px);
		return err;
	}
	px->env = (struct txn_env){
		.sip = deps->sip,
		.cfg = deps->cfg,
		.stamp = px->stamp,
		.dialogs = px->dialogs,
		.unreachable = px->unreachable,
		.trying_ms = TRYING_MS,
	};
	px->tdeps = (struct target_deps){
		.cfg = deps->cfg,
		.loc = deps->loc,
		.gruu_key = deps->gruu_key,
		.flows = deps->flows,
		.stamp = px->stamp,
	};

	err = gate_alloc(&px->gate, deps->sip, deps->cfg, deps->auth,
			 deps->gruu_key, proxy_authenticated, px);
	if (!err)
		err = sip_listen(&px->resp_lsnr, deps->sip, false,
				 stray_response, px);
	if (err)
		mem_deref(px);
	else
		*pxp = px;
	return err;
}

/*
 * A stateful proxy transaction.
 *
 * Targets are tried in groups: every binding of the best q in parallel,
 * then the next q (RFC 3261 §16.6, sequential search by q-value); a GRUU
 * has one target at a time, the next binding of the same instance only
 * after 408 or 430 (RFC 5627 §5.3).  Of an instance with several flows
 * (RFC 5626 §7) one is tried at a time, the next one when it fails (a
 * transport error, 408, 430) before anything goes upstream; a device
 * that none of its flows reach is unavailable (480), and its failure is
 * logged once per registration, not once per request.  Every provisional response except
 * 100 goes upstream at once, retransmissions included, so reliable
 * provisional responses (RFC 3262) pass untouched; every 2xx goes upstream
 * (RFC 6026); the other finals wait for the best one (§16.7 step 6).
 */
#include <string.h>
#include <re.h>
#include "common/log.h"
#include "common/metrics.h"
#include "sip/sipmsg.h"
#include "config/config.h"
#include "proxy/autoanswer.h"
#include "proxy/dialog.h"
#include "proxy/fwd.h"
#include "proxy/reachlog.h"
#include "proxy/route.h"
#include "proxy/send.h"
#include "proxy/stamp.h"
#include "proxy/target.h"
#include "proxy/txn.h"

struct txn {
	struct txn_env env;
	const struct sip_msg *msg;     /* the request as received        */
	struct sip_strans *st;         /* NULL once a final went up       */
	struct tmr trying;             /* our 100 (Trying), unless another
					  response went up before         */
	struct mbuf *fwd;              /* headers and body, every branch  */
	char *method;
	char loop_hash[40];
	bool invite;
	bool record_route;
	bool vouched;                  /* in a dialog we record-routed    */
	char rr_stamp[STAMP_DIALOG_LEN + 1];
	struct dialog_origin origin;   /* the caller's side, when it makes
					  a dialog                         */
	enum target_kind kind;
	struct list pending;           /* struct target, not yet tried    */
	struct list branches;          /* struct branch, live and done    */
	uint32_t active;               /* branches without a final        */
	struct branch *best;           /* best non-2xx final so far       */
	bool final_sent;
	bool got_6xx;
	bool canceled;
};

struct branch {
	struct le le;
	struct txn *tx;
	struct target *tgt;
	struct sip_request *req;
	struct tmr timer_c;
	const struct sip_msg *final;   /* its final response, if received */
	uint16_t scode;                /* 0 while pending                 */
	const char *reason;            /* for a final we made up          */
	bool got_provisional;
	int transport_err;             /* no connection, or it failed     */
};

static void txn_advance(struct txn *tx);


static void branch_destructor(void *arg)
{
	struct branch *br = arg;

	tmr_cancel(&br->timer_c);
	list_unlink(&br->le);
	/* libre cancels a request still pending when it is dereferenced */
	mem_deref(br->req);
	mem_deref((void *)br->final);
	mem_deref(br->tgt);
}


static void txn_destructor(void *arg)
{
	struct txn *tx = arg;

	--metrics.proxy_transactions;
	tmr_cancel(&tx->trying);
	list_flush(&tx->branches);
	list_flush(&tx->pending);
	mem_deref(tx->st);
	mem_deref(tx->fwd);
	mem_deref(tx->method);
	mem_deref((void *)tx->msg);
}


/* ---- upstream ------------------------------------------------------- */

static void upstream_send(struct txn *tx, uint16_t scode, struct mbuf *mb)
{
	struct sa dst;
	int err;

	tmr_cancel(&tx->trying);
	sipmsg_reply_addr(&dst, tx->msg);
	if (tx->st)
		err = sip_strans_reply(&tx->st, tx->env.sip, tx->msg, &dst,
				       scode, mb);
	else   /* a further 2xx after the first: statelessly (RFC 6026) */
		err = sip_send(tx->env.sip, tx->msg->sock, tx->msg->tp, &dst,
			       mb);
	if (err)
		log_warn("proxy: relaying %u upstream to %J failed: %m",
			 scode, &dst, err);
}


static void reply_local(struct txn *tx, uint16_t scode, const char *reason);


static void relay(struct txn *tx, const struct sip_msg *resp,
		  const char *extra)
{
	struct dialog_edits ed;
	struct mbuf *mb;

	/* our Record-Route stamp is made for downstream only: a response
	 * that cannot have it replaced does not go up with it */
	if (dialog_response(tx->env.dialogs, &ed, resp, tx->msg, &tx->origin,
			    tx->vouched,
			    tx->record_route ? tx->rr_stamp : NULL)) {
		log_warn("proxy: no dialog stamp for a %u: not relayed",
			 resp->scode);
		if (resp->scode >= 200)
			reply_local(tx, 500, "Server Internal Error");
		return;
	}
	if (fwd_response(&mb, resp, extra, ed.edit, ed.n)) {
		/* only our Via in it (§16.7 step 3): a final must still go
		 * up, or the caller retransmits and forks again */
		log_warn("proxy: %u from downstream has no Via for upstream",
			 resp->scode);
		if (resp->scode >= 200)
			reply_local(tx, 502, "Bad Gateway: Response Without Via");
		return;
	}
	upstream_send(tx, resp->scode, mb);
	mem_deref(mb);
}


static void reply_local(struct txn *tx, uint16_t scode, const char *reason)
{
	if (!tx->st)
		return;
	tmr_cancel(&tx->trying);
	(void)sip_treplyf(&tx->st, NULL, tx->env.sip, tx->msg, false, scode,
			  reason, NULL);
}


/* RFC 3261 §17.2.1: no response went up within trying_ms. */
static void trying_send(void *arg)
{
	reply_local(arg, 100, "Trying");
}


/* ---- choosing the response (§16.7 step 6) --------------------------- */

static bool is_preferred_4xx(uint16_t scode)
{
	return scode == 401 || scode == 407 || scode == 415 ||
		scode == 420 || scode == 484;
}


/* Lower is better.  A response we made up (timeout, transport error)
 * loses to a real one of the same class.  Of a fork, a device saying
 * the user is not there (404, 410) says less about the callee than one
 * saying it is busy or unavailable, so that one goes up. */
static int response_rank(uint16_t scode, bool made_up)
{
	if (scode >= 600)
		return 0;
	switch (scode / 100) {
	case 3:
		return 100;
	case 4:
		if (is_preferred_4xx(scode))
			return 200;
		if (made_up)
			return 230;
		return scode == 404 || scode == 410 ? 220 : 210;
	default:
		return made_up ? 320 : 300;
	}
}


static void consider(struct txn *tx, struct branch *br)
{
	const struct branch *best = tx->best;

	if (!best || response_rank(br->scode, !br->final) <
		     response_rank(best->scode, !best->final))
		tx->best = br;
}


/* §16.7 step 7: the challenges of every 401 and 407 go upstream. */
static int challenges_collect(struct mbuf *mb, const struct txn *tx)
{
	int err = 0;

	for (struct le *le = tx->branches.head; le && !err; le = le->next) {
		const struct branch *br = le->data;

		if (br == tx->best || !br->final ||
		    (br->scode != 401 && br->scode != 407))
			continue;
		for (struct le *h = br->final->hdrl.head; h && !err;
		     h = h->next) {
			const struct sip_hdr *hdr = h->data;
			if (hdr->id == SIP_HDR_WWW_AUTHENTICATE ||
			    hdr->id == SIP_HDR_PROXY_AUTHENTICATE)
				err = mbuf_printf(mb, "%r: %r\r\n", &hdr->name,
						  &hdr->val);
		}
	}
	return err;
}


static void send_best(struct txn *tx)
{
	const struct branch *best = tx->best;
	struct mbuf *extra;
	char *lines = NULL;

	if (tx->record_route)
		dialog_request_failed(tx->env.dialogs, tx->msg);
	if (!best) {
		reply_local(tx, tx->canceled ? 487 : 408, tx->canceled ?
			    "Request Terminated" : "Request Timeout");
		return;
	}
	/* §16.10: a cancelled request ends with 487, even when a branch
	 * timed out rather than answering the CANCEL */
	if (tx->canceled && !best->final && best->scode == 408) {
		reply_local(tx, 487, "Request Terminated");
		return;
	}
	/* §16.7 step 6: a 503 is not passed on as such. */
	if (!best->final || best->scode == 503) {
		reply_local(tx, best->scode == 503 ? 500 : best->scode,
			    best->scode == 503 ? "Downstream Service Unavailable"
					       : best->reason);
		return;
	}

	extra = mbuf_alloc(256);
	if (extra && (best->scode == 401 || best->scode == 407) &&
	    0 == challenges_collect(extra, tx)) {
		extra->pos = 0;
		(void)mbuf_strdup(extra, &lines, extra->end);
	}
	relay(tx, best->final, lines);
	mem_deref(lines);
	mem_deref(extra);
}


/* ---- branches ------------------------------------------------------- */

static void cancel_branches(struct txn *tx)
{
	for (struct le *le = tx->branches.head; le; le = le->next) {
		struct branch *br = le->data;
		if (!br->scode && br->req)
			sip_request_cancel(br->req);
	}
}


/* ---- flows (RFC 5626 §7) ------------------------------------------- */

static int branch_start(struct txn *tx, struct target *tgt);


/* RFC 5626 §7: a request to an instance "fails with a 430 (Flow Failed)
 * response or [with] a 408 (Request Timeout) ... or a transport error"
 * when its flow is dead; 430 is the edge proxy's word for it (§5.3.1). */
static bool flow_failed(const struct branch *br, uint16_t scode)
{
	return br->transport_err || scode == 408 || scode == 430;
}


/* §7: the failed flow's branch is replaced by one to the instance's next
 * flow, the others behind that one.  False when there is none (or the
 * request ended meanwhile). */
static bool next_flow_start(struct txn *tx, struct branch *br)
{
	struct target *next = list_ledata(list_head(&br->tgt->alts));
	struct le *le;

	if (!next || tx->canceled || tx->final_sent || tx->got_6xx)
		return false;
	log_debug("proxy: flow of %s at %s failed (%u, %m): trying %s",
		  br->tgt->ruri, br->tgt->hop, br->scode, br->transport_err,
		  next->hop);
	list_unlink(&next->le);
	while ((le = list_head(&br->tgt->alts))) {
		list_unlink(le);
		list_append(&next->alts, le, le->data);
	}
	(void)branch_start(tx, next);
	mem_deref(next);
	return true;
}


/* A registered device that none of its flows reached: to the caller it is
 * unavailable (480), as one with no live binding is; a 430 is the
 * downstream edge's word for a flow, not the callee's answer (§5.3.1). */
static void device_unreachable(struct branch *br)
{
	struct txn *tx = br->tx;

	if (br->transport_err &&
	    reachlog_first(tx->env.unreachable, br->tgt->binding))
		log_warn("proxy: cannot reach the device registered as %s "
			 "at %s (%m): answering 480 (logged once for this "
			 "registration)", br->tgt->ruri, br->tgt->hop,
			 br->transport_err);
	br->final = mem_deref((void *)br->final);
	br->scode = 480;
	br->reason = "Temporarily Unavailable";
}


static void branch_final(struct branch *br, uint16_t scode,
			 const struct sip_msg *resp, const char *reason)
{
	struct txn *tx = br->tx;

	tmr_cancel(&br->timer_c);
	br->scode = scode;
	br->reason = reason;
	--tx->active;

	if (scode < 300) {
		/* §16.7 step 5: after a final, only 2xx to an INVITE goes on */
		if (!tx->final_sent || tx->invite)
			relay(tx, resp, NULL);
		tx->final_sent = true;
		list_flush(&tx->pending);
		/* §16.7 step 10: the other branches of an answered INVITE
		 * are cancelled */
		if (tx->invite)
			cancel_branches(tx);
	}
	else {
		br->final = resp ? mem_ref((void *)resp) : NULL;
		if (br->tgt->binding && scode < 600 && flow_failed(br, scode)) {
			if (next_flow_start(tx, br)) {
				txn_advance(tx);
				return;
			}
			if (scode != 408)
				device_unreachable(br);
		}
		consider(tx, br);
		if (scode >= 600) {
			/* §16.7 step 5: a 6xx ends the search */
			tx->got_6xx = true;
			list_flush(&tx->pending);
			cancel_branches(tx);
		}
		else if (tx->kind == TARGET_GRUU && !flow_failed(br, scode)) {
			/* RFC 5627 §5.3: only a dead flow tries the next */
			list_flush(&tx->pending);
		}
	}
	txn_advance(tx);
}


static void timer_c_fired(void *arg)
{
	struct branch *br = arg;

	/* RFC 3261 §16.8: cancel a branch that rings too long; one that
	 * never answered at all is given up as a 408. */
	if (br->got_provisional) {
		sip_request_cancel(br->req);
		return;
	}
	br->req = mem_deref(br->req);
	branch_final(br, 408, NULL, "Request Timeout");
}


static void provisional(struct branch *br, const struct sip_msg *resp)
{
	struct txn *tx = br->tx;

	br->got_provisional = true;
	if (resp->scode == 100)
		return;    /* hop by hop: the caller had our own 100 */

	if (tx->invite)
		tmr_start(&br->timer_c, tx->env.cfg->timer_c * 1000, timer_c_fired, br);
	if (!tx->final_sent)
		relay(tx, resp, NULL);
}


static void branch_response(int err, const struct sip_msg *resp, void *arg)
{
	struct branch *br = arg;

	if (err || !resp) {
		/* §16.7 step 2 and §8.1.3.1: a timeout counts as 408, a
		 * transport error as 503 */
		bool timeout = err == ETIMEDOUT;
		if (!timeout)
			br->transport_err = err ? err : ECONNRESET;
		branch_final(br, timeout ? 408 : 503, NULL, timeout ?
			     "Request Timeout" : "Service Unavailable");
		return;
	}
	if (resp->scode < 200)
		provisional(br, resp);
	else
		branch_final(br, resp->scode, resp, NULL);
}


static int branch_send(enum sip_transp tp, const struct sa *src,
		       const struct sa *dst, struct mbuf *mb, void *arg)
{
	struct branch *br = arg;
	struct txn *tx = br->tx;
	const struct send_req r = {
		.msg = tx->msg,
		.tgt = br->tgt,
		.stamp = tx->env.stamp,
		.loop_hash = tx->loop_hash,
		.rr_stamp = tx->record_route ? tx->rr_stamp : NULL,
	};

	(void)dst;
	return send_branch_headers(mb, &r, tp, src);
}


static int branch_start(struct txn *tx, struct target *tgt)
{
	struct branch *br;
	struct uri hop;
	struct pl pl;
	int err;

	br = mem_zalloc(sizeof(*br), branch_destructor);
	if (!br)
		return ENOMEM;
	br->tx = tx;
	br->tgt = mem_ref(tgt);
	tmr_init(&br->timer_c);
	list_append(&tx->branches, &br->le, br);

	pl_set_str(&pl, tgt->hop);
	err = uri_decode(&hop, &pl);
	if (!err)
		err = sip_request(&br->req, tx->env.sip, true, tx->method, -1,
				  tgt->ruri, -1, &hop, tx->fwd, (size_t)tx,
				  branch_send, branch_response, br);
	if (err) {
		log_info("proxy: cannot send %s to %s: %m", tx->method,
			 tgt->ruri, err);
		br->scode = 503;
		br->reason = "Service Unavailable";
		br->transport_err = err;
		if (tgt->binding && next_flow_start(tx, br))
			return 0;
		if (tgt->binding)
			device_unreachable(br);
		consider(tx, br);
		return err;
	}

	++tx->active;
	if (tx->invite)
		tmr_start(&br->timer_c, tx->env.cfg->timer_c * 1000, timer_c_fired, br);
	return 0;
}


/* Starts the next group of targets: all of the best remaining q for an
 * AOR, the next binding for a GRUU, the one target otherwise. */
static void group_start(struct txn *tx)
{
	int q = target_top_q(&tx->pending);
	struct le *le = list_head(&tx->pending);

	while (le) {
		struct target *tgt = le->data;
		le = le->next;

		if (tx->kind == TARGET_AOR && tgt->q != q)
			continue;
		list_unlink(&tgt->le);
		(void)branch_start(tx, tgt);
		mem_deref(tgt);
		if (tx->kind != TARGET_AOR)
			break;
	}
}


/* Moves on once a group has no branch left: the next group, or the
 * best response upstream; the transaction ends with its last branch. */
static void txn_advance(struct txn *tx)
{
	if (tx->active)
		return;

	while (!tx->final_sent && !tx->canceled && !tx->got_6xx &&
	       tx->pending.head && !tx->active)
		group_start(tx);
	if (tx->active)
		return;

	if (!tx->final_sent)
		send_best(tx);
	mem_deref(tx);
}


static void upstream_cancel(void *arg)
{
	struct txn *tx = arg;

	/* RFC 3261 §16.10: libre answered the CANCEL with 200; cancel every
	 * pending branch and start no new one.  The best response (487
	 * from the branches) goes up when they are done. */
	tx->canceled = true;
	list_flush(&tx->pending);
	cancel_branches(tx);
}


static bool forms_dialog(const struct sip_msg *msg)
{
	if (pl_isset(&msg->to.tag))
		return false;
	return 0 == pl_strcmp(&msg->met, "INVITE") ||
		0 == pl_strcmp(&msg->met, "SUBSCRIBE") ||
		0 == pl_strcmp(&msg->met, "REFER");
}


static int txn_init(struct txn *tx, const struct sip_msg *msg,
		    const struct route_info *ri, const char *loop_hash)
{
	struct fwd_request_opts opts = {
		.drop_routes = ri->drop_routes,
		.drop_last_route = ri->drop_last_route,
		.strip_autoanswer = autoanswer_strip_wanted(tx->env.cfg, msg,
							    ri),
	};
	int err;

	tx->msg = mem_ref((void *)msg);
	tx->invite = 0 == pl_strcmp(&msg->met, "INVITE");
	tx->record_route = forms_dialog(msg);
	tx->vouched = ri->in_dialog;
	str_ncpy(tx->loop_hash, loop_hash, sizeof(tx->loop_hash));
	if (tx->record_route) {
		err = dialog_request_stamp(tx->rr_stamp, &tx->origin,
					   tx->env.dialogs, msg);
		if (err)
			return err;
	}

	err = pl_strdup(&tx->method, &msg->met);
	if (err)
		return err;
	tx->fwd = mbuf_alloc(msg->mb->end + 256);
	if (!tx->fwd)
		return ENOMEM;
	err = fwd_request_body(tx->fwd, msg, &opts);
	tx->fwd->pos = 0;
	if (err)
		return err;

	return sip_strans_alloc(&tx->st, tx->env.sip, msg,
				tx->invite ? upstream_cancel : NULL, tx);
}


int txn_start(const struct txn_env *env, const struct sip_msg *msg,
	      const struct route_info *ri, struct target_set *ts,
	      const char *loop_hash)
{
	struct txn *tx = mem_zalloc(sizeof(*tx), txn_destructor);
	int err;

	if (!tx)
		return ENOMEM;
	++metrics.proxy_transactions;   /* until txn_destructor() */
	tx->env = *env;
	tx->kind = ts->kind;
	tmr_init(&tx->trying);
	list_init(&tx->pending);

	err = txn_init(tx, msg, ri, loop_hash);
	if (err) {
		mem_deref(tx);
		return err;
	}

	/* The targets move over; the set is left empty. */
	tx->pending = ts->targets;
	for (struct le *le = tx->pending.head; le; le = le->next)
		le->list = &tx->pending;
	list_init(&ts->targets);
	if (tx->invite && tx->record_route)   /* an initial INVITE */
		metrics_observe(&metrics.forks, list_count(&tx->pending));

	if (tx->invite && env->trying_ms)
		tmr_start(&tx->trying, env->trying_ms, trying_send, tx);
	else if (tx->invite)
		trying_send(tx);
	txn_advance(tx);
	return 0;
}

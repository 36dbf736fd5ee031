/*
 * A dialog locus holds.  libre's sip_dialog keeps the route set, the tags
 * and the CSeqs; this file keeps the leg itself, the requests it sends
 * and their responses (leg_peer.c: the peer's requests).
 *
 * As UAC the leg keeps two dialogs: PROTO, as the INVITE made it, and DLG,
 * confirmed by the first 2xx (a fork of PROTO).  A later 2xx with another
 * To tag comes from another fork of the proxy's: it is made a dialog of
 * PROTO too, acknowledged and ended at once (RFC 3261 §13.2.2.4).
 */
#include <string.h>
#include <re.h>
#include "common/log.h"
#include "ua/core.h"
#include "ua/leg.h"
#include "ua/leg_impl.h"
#include "ua/sdp.h"

static void outreq_destructor(void *arg)
{
	struct outreq *o = arg;

	list_unlink(&o->le);
	if (o->leg && o->leg->invite == o)
		o->leg->invite = NULL;
	mem_deref(o->req);
	mem_deref(o->leg);
}


static void leg_destructor(void *arg)
{
	struct leg *leg = arg;

	hash_unlink(&leg->he);
	tmr_cancel(&leg->ok_tmr);
	list_flush(&leg->inreqs);
	mem_deref(leg->proto);
	mem_deref(leg->dlg);
	mem_deref(leg->callid);
	mem_deref(leg->peer);
	mem_deref(leg->offer);
	mem_deref(leg->ack_sdp);
	mem_deref(leg->ok);
	mem_deref((void *)leg->ok_req);
}


void leg_ended(struct leg *leg, uint16_t scode, const char *reason)
{
	const struct leg_events *ev = leg->ev;

	if (leg->state == LEG_ENDED)
		return;
	leg->state = LEG_ENDED;
	tmr_cancel(&leg->ok_tmr);
	log_debug("ua: leg %s ended: %u %s", leg->callid, scode, reason);
	if (ev && ev->ended)
		ev->ended(leg, scode, reason, leg->arg);
}


struct leg *leg_alloc_bare(struct ua *ua, const struct leg_events *ev,
			   void *arg)
{
	struct leg *leg = mem_zalloc(sizeof(*leg), leg_destructor);

	if (!leg)
		return NULL;
	leg->ua = ua;
	leg->ev = ev;
	leg->arg = arg;
	tmr_init(&leg->ok_tmr);
	return leg;
}


void leg_register(struct leg *leg)
{
	hash_append(leg->ua->legs, hash_joaat_str(leg->callid), &leg->he,
		    leg);
}


/* ---- what the leg is ------------------------------------------------ */

void leg_events_set(struct leg *leg, const struct leg_events *ev, void *arg)
{
	if (leg->closed)
		return;
	leg->ev = ev;
	leg->arg = arg;
}


void leg_events_reset(struct leg *leg, void *arg)
{
	if (leg->arg == arg) {
		leg->ev = NULL;
		leg->arg = NULL;
	}
}


bool leg_confirmed(const struct leg *leg)
{
	return leg && leg->state == LEG_CONFIRMED;
}


bool leg_is_offer_method(const struct pl *met)
{
	return 0 == pl_strcmp(met, "INVITE") || 0 == pl_strcmp(met, "UPDATE");
}


bool leg_busy(const struct leg *leg)
{
	for (struct le *le = leg->outreqs.head; le; le = le->next) {
		const struct outreq *o = le->data;
		if (o->offer)
			return true;
	}
	for (struct le *le = leg->inreqs.head; le; le = le->next) {
		const struct inreq *ir = le->data;
		if (leg_is_offer_method(&ir->msg->met))
			return true;
	}
	return leg->ack_due || leg->ok;
}


struct pl leg_ok_sdp(const struct leg *leg)
{
	struct pl pl = PL_INIT;

	if (leg->offer)
		pl_set_mbuf(&pl, leg->offer);
	return pl;
}


const char *leg_peer(const struct leg *leg)
{
	return leg->peer;
}


const char *leg_callid(const struct leg *leg)
{
	return leg->callid;
}


uint32_t leg_session_expires(const struct leg *leg)
{
	return leg->session_expires;
}


/* RFC 4028 §4: "Session-Expires: 1800;refresher=uac" (compact: x) in a
 * 2xx is the interval both ends agreed on; none, no session timer. */
void leg_session_note(struct leg *leg, const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_xhdr(msg, "Session-Expires");
	struct pl secs;

	if (!hdr)
		hdr = sip_msg_xhdr(msg, "x");
	leg->session_expires = 0;
	if (hdr && 0 == re_regex(hdr->val.p, hdr->val.l, "[0-9]+", &secs) &&
	    secs.p == hdr->val.p)
		leg->session_expires = pl_u32(&secs);
}


bool leg_matches(const struct leg *leg, const struct sip_msg *msg)
{
	return sip_dialog_cmp_half(leg->dlg ? leg->dlg : leg->proto, msg);
}


/* ---- requests we send ----------------------------------------------- */

static void out_resp(int err, const struct sip_msg *msg, void *arg);


int leg_body_print(struct re_printf *pf, const struct body *b)
{
	if (!b->pl || !pl_isset(b->pl))
		return re_hprintf(pf, "Content-Length: 0\r\n\r\n");
	return re_hprintf(pf, "Content-Type: %s\r\nContent-Length: %zu\r\n"
			  "\r\n%r", b->ctype ? b->ctype : SDP_CTYPE, b->pl->l,
			  b->pl);
}


static struct outreq *outreq_new(struct leg *leg, const char *method,
				 leg_resp_h *resph, void *arg)
{
	struct outreq *o = mem_zalloc(sizeof(*o), outreq_destructor);

	if (!o)
		return NULL;
	o->leg = mem_ref(leg);
	o->resph = resph;
	o->arg = arg;
	o->invite = 0 == strcmp(method, "INVITE");
	o->offer = o->invite || 0 == strcmp(method, "UPDATE");
	o->bye = 0 == strcmp(method, "BYE");
	list_append(&leg->outreqs, &o->le, o);
	return o;
}


int leg_send(struct leg *leg, const char *method,
			  const char *hdrs, const char *ctype,
			  const struct pl *body, leg_resp_h *resph, void *arg)
{
	struct body b = {ctype, body};
	struct outreq *o;
	int err;

	if (!leg->dlg)
		return ENOTCONN;
	o = outreq_new(leg, method, resph, arg);
	if (!o)
		return ENOMEM;
	o->cseq = sip_dialog_lseq(leg->dlg);
	err = sip_drequestf(&o->req, leg->ua->sip, true, method, leg->dlg, 0,
			    NULL, NULL, out_resp, o,
			    "%s%s%s%s%H",
			    o->invite ? "Contact: <" : "",
			    o->invite ? leg->ua->contact : "",
			    o->invite ? ">\r\n" : "",
			    hdrs ? hdrs : "", leg_body_print, &b);
	if (err)
		mem_deref(o);
	return err;
}


int leg_request(struct leg *leg, const char *method, const char *hdrs,
		const char *ctype, const struct pl *body, leg_resp_h *resph,
		void *arg)
{
	if (leg->state != LEG_CONFIRMED)
		return ENOTCONN;
	return leg_send(leg, method, hdrs, ctype, body, resph, arg);
}


void leg_bye_send(struct leg *leg)
{
	int err = leg_send(leg, "BYE", NULL, NULL, NULL, NULL, NULL);

	if (err)
		log_warn("ua: BYE on %s not sent: %m", leg->callid, err);
}


int leg_ack_send(struct leg *leg, uint32_t cseq, const struct pl *sdp,
		    struct sip_dialog *dlg)
{
	struct body b = {SDP_CTYPE, sdp};

	return sip_drequestf(NULL, leg->ua->sip, false, "ACK", dlg, cseq,
			     NULL, NULL, NULL, NULL, "%H", leg_body_print, &b);
}


int leg_ack(struct leg *leg, const struct pl *sdp)
{
	int err;

	if (!leg->ack_due)
		return EPROTO;
	leg->ack_due = false;
	leg->offer = mem_deref(leg->offer);
	leg->ack_sdp = mem_deref(leg->ack_sdp);
	if (sdp && pl_isset(sdp)) {
		leg->ack_sdp = mbuf_alloc(sdp->l);
		if (leg->ack_sdp)
			(void)mbuf_write_pl(leg->ack_sdp, sdp);
	}
	leg->acked = true;
	leg->acked_cseq = leg->ack_cseq;
	err = leg_ack_send(leg, leg->ack_cseq, sdp, leg->dlg);
	if (err)
		log_warn("ua: ACK on %s not sent: %m", leg->callid, err);
	return err;
}


/* A 2xx with an offer that we will not take up: the ACK must still carry
 * an answer (RFC 3261 §13.2.2.4), one in which no media flows. */
void leg_ack_decline(struct leg *leg, struct sip_dialog *dlg,
			uint32_t cseq, const struct pl *offer)
{
	struct mbuf *answer = NULL;
	struct pl pl = PL_INIT;

	if (offer && pl_isset(offer) &&
	    0 == sdp_inactive_answer(&answer, offer, 1))
		pl_set_mbuf(&pl, answer);
	(void)leg_ack_send(leg, cseq, &pl, dlg);
	mem_deref(answer);
}


static void invite_2xx(struct leg *leg, struct outreq *o,
		       const struct sip_msg *msg)
{
	leg->ack_due = true;
	leg->ack_cseq = o->cseq;
	leg->offer = mem_deref(leg->offer);
	if (sdp_in(msg)) {
		leg->offer = mbuf_alloc(mbuf_get_left(msg->mb));
		if (leg->offer)
			(void)mbuf_write_mem(leg->offer, mbuf_buf(msg->mb),
					     mbuf_get_left(msg->mb));
	}
	if (leg->offer)
		leg->offer->pos = 0;
	if (o == leg->invite) {
		if (!leg->dlg && sip_dialog_fork(&leg->dlg, leg->proto, msg)) {
			log_warn("ua: 2xx on %s without a usable Contact",
				 leg->callid);
		}
		leg->state = LEG_CONFIRMED;
	}
	else if (leg->dlg) {
		/* a re-INVITE's 2xx refreshes the target (§12.2.1.2) */
		(void)sip_dialog_update(leg->dlg, msg);
	}
}


static void out_resp(int err, const struct sip_msg *msg, void *arg)
{
	struct outreq *o = arg;
	struct leg *leg = o->leg;
	const struct leg_events *ev = leg->ev;
	bool final = err || msg->scode >= 200;
	bool initial = o == leg->invite;

	if (!err && o->invite && msg->scode >= 200 && msg->scode < 300)
		invite_2xx(leg, o, msg);
	if (!err && o->offer && msg->scode >= 200 && msg->scode < 300)
		leg_session_note(leg, msg);
	if (initial && !err && msg->scode >= 300)
		leg->state = LEG_ENDED;
	if (initial && err)
		leg->state = LEG_ENDED;

	if (leg->closed && leg->ack_due) {
		/* closed meanwhile: a 2xx that comes anyway is acknowledged,
		 * and the dialog it makes ended */
		struct pl offer = leg_ok_sdp(leg);
		leg->ack_due = false;
		leg_ack_decline(leg, leg->dlg, leg->ack_cseq, &offer);
		if (initial) {
			leg_bye_send(leg);
			leg->state = LEG_ENDED;
		}
	}
	if (initial && ev && ev->invite_resp) {
		ev->invite_resp(leg, err, msg, leg->arg);
	}
	else if (!initial && o->resph) {
		o->resph(leg, err, msg, o->arg);
	}

	/* RFC 3261 §12.2.1.2: a 481 or 408 to a request within the dialog
	 * ends it */
	if (!initial && !o->bye && (err == ETIMEDOUT ||
				    (msg && (msg->scode == 481 ||
					     msg->scode == 408))))
		leg_ended(leg, msg ? msg->scode : 408,
		      msg ? "Dialog Gone" : "Request Timeout");
	if (final)
		mem_deref(o);
}


/* ---- UAC ------------------------------------------------------------ */

int leg_invite(struct leg **legp, struct ua *ua, const struct leg_invite *p,
	       const struct leg_events *ev, void *arg)
{
	struct leg *leg = leg_alloc_bare(ua, ev, arg);
	struct body b = {SDP_CTYPE, p->sdp};
	char route[UA_URI_SIZE + 64];
	const char *routev[1] = {route};
	int err;

	if (!leg)
		return ENOMEM;
	leg->uac = true;
	err = ua_route(route, sizeof(route), ua, "INVITE", p->ruri, p->from,
		       p->to);
	err = err ? err : sip_dialog_alloc(&leg->proto, p->ruri, p->to, NULL,
					   p->from, routev, 1);
	err = err ? err : str_dup(&leg->callid, sip_dialog_callid(leg->proto));
	err = err ? err : str_dup(&leg->peer, p->to);
	if (err)
		goto out;
	leg_register(leg);
	leg->invite = outreq_new(leg, "INVITE", NULL, NULL);
	if (!leg->invite) {
		err = ENOMEM;
		goto out;
	}
	leg->invite_cseq = leg->invite->cseq = sip_dialog_lseq(leg->proto);
	err = sip_drequestf(&leg->invite->req, ua->sip, true, "INVITE",
			    leg->proto, 0, NULL, NULL, out_resp, leg->invite,
			    "Contact: <%s>\r\n"
			    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE,"
			    " INFO, REFER, NOTIFY, MESSAGE\r\n"
			    "%s%H", ua->contact, p->hdrs ? p->hdrs : "",
			    leg_body_print, &b);
	if (err)
		mem_deref(leg->invite);
 out:
	if (err)
		mem_deref(leg);
	else
		*legp = leg;
	return err;
}


void leg_stray_2xx(struct leg *leg, const struct sip_msg *msg)
{
	struct sip_dialog *fork = NULL;
	struct pl offer = PL_INIT;

	if (leg->dlg && sip_dialog_cmp(leg->dlg, msg)) {
		/* our ACK was lost: send it again */
		if (leg->acked && msg->cseq.num == leg->acked_cseq) {
			if (leg->ack_sdp)
				pl_set_mbuf(&offer, leg->ack_sdp);
			(void)leg_ack_send(leg, leg->acked_cseq, &offer, leg->dlg);
		}
		return;
	}
	if (msg->cseq.num != leg->invite_cseq || !leg->proto ||
	    sip_dialog_fork(&fork, leg->proto, msg))
		return;
	log_info("ua: %s: a second 2xx, from %r, acknowledged and ended",
		 leg->callid, &msg->to.tag);
	if (sdp_in(msg))
		pl_set_mbuf(&offer, msg->mb);
	leg_ack_decline(leg, fork, leg->invite_cseq, &offer);
	(void)sip_drequestf(NULL, leg->ua->sip, true, "BYE", fork, 0, NULL,
			    NULL, NULL, NULL, "Content-Length: 0\r\n\r\n");
	mem_deref(fork);
}


/* ---- ending --------------------------------------------------------- */

void leg_close(struct leg *leg, uint16_t scode, const char *reason)
{
	struct pl offer;

	if (!leg || leg->closed)
		return;
	leg->closed = true;
	leg->ev = NULL;
	leg->arg = NULL;
	/* what the peer asked and nobody will answer now */
	while (leg->inreqs.head) {
		struct inreq *ir = leg->inreqs.head->data;
		bool initial = ir == leg->initial;
		(void)sip_treply(&ir->st, leg->ua->sip, ir->msg,
				 initial ? scode : 487,
				 initial ? reason : "Request Terminated");
		mem_deref(ir);
	}
	if (leg->state == LEG_ENDED)
		return;
	if (leg->state == LEG_CALLING && leg->uac) {
		if (leg->invite)
			sip_request_cancel(leg->invite->req);
		/* a 2xx that crosses the CANCEL is ended in out_resp() */
		return;
	}
	if (leg->state == LEG_CALLING) {
		leg->state = LEG_ENDED;
		return;
	}
	if (leg->ack_due) {
		offer = leg_ok_sdp(leg);
		leg->ack_due = false;
		leg_ack_decline(leg, leg->dlg, leg->ack_cseq, &offer);
	}
	leg->ok = mem_deref(leg->ok);
	tmr_cancel(&leg->ok_tmr);
	leg->state = LEG_ENDED;
	leg_bye_send(leg);
}

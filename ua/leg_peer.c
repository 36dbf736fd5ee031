/*
 * The requests of a leg's peer, and answering them: the INVITE of a leg
 * we accepted, and every request within the dialog (leg.h says what the
 * owner hears of them).  Our 2xx to an INVITE is kept until its ACK
 * comes, and sent again at T1, 2*T1, ... up to T2 (RFC 3261 §13.3.1.4);
 * without an ACK after 64*T1 the dialog ends with BYE.
 */
#include <string.h>
#include <re.h>
#include "common/log.h"
#include "proxy/route.h"
#include "proxy/stamp.h"
#include "ua/core.h"
#include "ua/leg.h"
#include "ua/leg_impl.h"

static void inreq_destructor(void *arg)
{
	struct inreq *ir = arg;

	list_unlink(&ir->le);
	if (ir->leg && ir->leg->initial == ir)
		ir->leg->initial = NULL;
	mem_deref(ir->st);
	mem_deref((void *)ir->msg);
}



/* ---- UAS ------------------------------------------------------------ */

/* libre answered a CANCEL of the INVITE with 200 (RFC 3261 §9.2); the
 * INVITE gets 487. */
static void invite_cancelled(void *arg)
{
	struct leg *leg = arg;
	struct inreq *ir = leg->initial;

	if (!ir)
		return;
	(void)sip_treply(&ir->st, leg->ua->sip, ir->msg, 487,
			 "Request Terminated");
	mem_deref(ir);
	leg_ended(leg, 487, "Request Terminated");
}


struct inreq *leg_inreq_new(struct leg *leg, const struct sip_msg *msg,
			       sip_cancel_h *cancelh)
{
	struct inreq *ir = mem_zalloc(sizeof(*ir), inreq_destructor);

	if (!ir)
		return NULL;
	ir->leg = leg;
	ir->msg = mem_ref((void *)msg);
	if (sip_strans_alloc(&ir->st, leg->ua->sip, msg, cancelh, leg)) {
		mem_deref(ir);
		return NULL;
	}
	list_append(&leg->inreqs, &ir->le, ir);
	return ir;
}


/* INVITE as it would be had locus's proxy record-routed it on its way
 * here: our Record-Route on top, with the stamp the proxy would have put
 * there (proxy/dialog.c), for requests to the caller. */
static int invite_routed(struct sip_msg **outp, const struct ua *ua,
			 const struct sip_msg *invite)
{
	struct stamp_dialog_fields f = {.callid = invite->callid,
					.caller_tag = invite->from.tag};
	char stamp[STAMP_DIALOG_LEN + 1], hop[ROUTE_HOP_SIZE];
	char caller[STAMP_PARTY_SIZE], callee[STAMP_PARTY_SIZE];
	struct mbuf *mb = mbuf_alloc(1024 + mbuf_get_left(invite->mb));
	bool by_contact;
	int err;

	if (!mb)
		return ENOMEM;
	route_upstream_hop(hop, &by_contact, invite, ua->cfg);
	pl_set_str(&f.hop, hop);
	stamp_party(caller, &f.caller, &invite->from);
	stamp_party(callee, &f.callee, &invite->to);
	err = stamp_dialog(stamp, ua->stamp, STAMP_TO_CALLER, &f);
	err = err ? err : mbuf_printf(mb, "%r %r SIP/2.0\r\n"
				      "Record-Route: <%s;lr;ls=%s>\r\n",
				      &invite->met, &invite->ruri, ua->proxy,
				      stamp);
	for (struct le *le = invite->hdrl.head; !err && le; le = le->next) {
		const struct sip_hdr *hdr = le->data;
		err = mbuf_printf(mb, "%r: %r\r\n", &hdr->name, &hdr->val);
	}
	err = err ? err : mbuf_printf(mb, "\r\n");
	if (!err) {
		mb->pos = 0;
		err = sip_msg_decode(outp, mb);
	}
	if (!err)
		(*outp)->tag = invite->tag;   /* our To tag in the answers */
	mem_deref(mb);
	return err;
}


/* The dialog INVITE makes with us, with a route set through locus's own
 * proxy: our requests in it reach the caller as any in-dialog request
 * of a call through locus does (a GRUU or an outbound flow in her
 * Contact included), vouched for by the stamp. */
static int dialog_accept(struct sip_dialog **dlgp, const struct ua *ua,
			 const struct sip_msg *invite)
{
	struct sip_msg *routed = NULL;
	int err = invite_routed(&routed, ua, invite);

	if (!err)
		err = sip_dialog_accept(dlgp, routed);
	mem_deref(routed);
	return err;
}


int leg_accept(struct leg **legp, struct ua *ua, const struct sip_msg *invite,
	       const struct leg_events *ev, void *arg)
{
	struct leg *leg = leg_alloc_bare(ua, ev, arg);
	int err;

	if (!leg)
		return ENOMEM;
	err = dialog_accept(&leg->dlg, ua, invite);
	err = err ? err : pl_strdup(&leg->callid, &invite->callid);
	err = err ? err : pl_strdup(&leg->peer, &invite->from.auri);
	if (!err && !(leg->initial = leg_inreq_new(leg, invite, invite_cancelled)))
		err = ENOMEM;
	if (err) {
		mem_deref(leg);
		return err;
	}
	leg_register(leg);
	*legp = leg;
	return 0;
}


static void ok_again(void *arg)
{
	struct leg *leg = arg;
	uint32_t wait;

	if (tmr_jiffies() - leg->ok_since >= 64 * SIP_T1) {
		/* RFC 3261 §13.3.1.4: no ACK, the session ends */
		leg->ok = mem_deref(leg->ok);
		leg_bye_send(leg);
		leg_ended(leg, 408, "No ACK");
		return;
	}
	(void)sip_send(leg->ua->sip, leg->ok_req->sock, leg->ok_req->tp,
		       &leg->ok_dst, leg->ok);
	wait = MIN(SIP_T1 << ++leg->ok_sent, SIP_T2);
	tmr_start(&leg->ok_tmr, wait, ok_again, leg);
}


static struct inreq *inreq_find(const struct leg *leg,
				const struct sip_msg *req)
{
	for (struct le *le = leg->inreqs.head; le; le = le->next) {
		struct inreq *ir = le->data;
		if (ir->msg == req)
			return ir;
	}
	return NULL;
}


int leg_reply(struct leg *leg, const struct sip_msg *req, uint16_t scode,
	      const char *reason, const char *hdrs, const char *ctype,
	      const struct pl *body)
{
	struct inreq *ir = inreq_find(leg, req);
	bool invite = 0 == pl_strcmp(&req->met, "INVITE");
	bool ok = invite && scode >= 200 && scode < 300;
	bool initial = ir && ir == leg->initial;
	struct body b = {ctype, body};
	struct mbuf *mb = NULL;
	int err;

	if (!ir)
		return ENOENT;
	err = sip_treplyf(&ir->st, ok ? &mb : NULL, leg->ua->sip, req,
			  initial, scode, reason, "%s%s%s%s%H",
			  invite && scode < 300 ? "Contact: <" : "",
			  invite && scode < 300 ? leg->ua->contact : "",
			  invite && scode < 300 ? ">\r\n" : "",
			  hdrs ? hdrs : "", leg_body_print, &b);
	if (scode < 200)
		return err;
	if (ok && !err) {
		leg->state = LEG_CONFIRMED;
		mem_deref(leg->ok);
		mem_deref((void *)leg->ok_req);
		leg->ok = mem_ref(mb);
		leg->ok_req = mem_ref((void *)req);
		leg->ok_cseq = req->cseq.num;
		leg->ok_sent = 0;
		leg->ok_since = tmr_jiffies();
		sip_reply_addr(&leg->ok_dst, req, true);
		tmr_start(&leg->ok_tmr, SIP_T1, ok_again, leg);
	}
	else if (initial) {
		leg->state = LEG_ENDED;
	}
	mem_deref(mb);
	mem_deref(ir);
	return err;
}


/* ---- the peer's requests -------------------------------------------- */

static void recv_ack(struct leg *leg, const struct sip_msg *msg)
{
	const struct leg_events *ev = leg->ev;

	if (!leg->ok || msg->cseq.num != leg->ok_cseq)
		return;   /* a retransmission, or an ACK for nothing of ours */
	tmr_cancel(&leg->ok_tmr);
	leg->ok = mem_deref(leg->ok);
	leg->ok_req = mem_deref((void *)leg->ok_req);
	if (ev && ev->ack)
		ev->ack(leg, msg, leg->arg);
}


static void recv_bye(struct leg *leg, const struct sip_msg *msg)
{
	(void)sip_treply(NULL, leg->ua->sip, msg, 200, "OK");
	/* RFC 3261 §15.1.2: a BYE ends every transaction of the dialog;
	 * what the peer asked and we have not answered gets 487 */
	while (leg->inreqs.head) {
		struct inreq *ir = leg->inreqs.head->data;
		(void)sip_treply(&ir->st, leg->ua->sip, ir->msg, 487,
				 "Request Terminated");
		mem_deref(ir);
	}
	leg->ok = mem_deref(leg->ok);
	leg_ended(leg, 0, "BYE");
}


void leg_recv(struct leg *leg, const struct sip_msg *msg)
{
	const struct leg_events *ev = leg->ev;

	if (0 == pl_strcmp(&msg->met, "ACK")) {
		recv_ack(leg, msg);
		return;
	}
	if (!leg->dlg || leg->state == LEG_ENDED) {
		(void)sip_treply(NULL, leg->ua->sip, msg, 481,
				 "Call/Transaction Does Not Exist");
		return;
	}
	/* RFC 3261 §12.2.2: an old CSeq is out of order */
	if (!sip_dialog_rseq_valid(leg->dlg, msg)) {
		(void)sip_treply(NULL, leg->ua->sip, msg, 500,
				 "Server Internal Error: CSeq Out of Order");
		return;
	}
	if (0 == pl_strcmp(&msg->met, "BYE")) {
		recv_bye(leg, msg);
		return;
	}
	if (0 == pl_strcmp(&msg->met, "OPTIONS") || !ev || !ev->request) {
		(void)sip_treply(NULL, leg->ua->sip, msg, 200, "OK");
		return;
	}
	if (!leg_inreq_new(leg, msg, NULL)) {
		(void)sip_treply(NULL, leg->ua->sip, msg, 500,
				 "Server Internal Error");
		return;
	}
	if (leg_is_offer_method(&msg->met))
		(void)sip_dialog_update(leg->dlg, msg);
	ev->request(leg, msg, leg->arg);
}

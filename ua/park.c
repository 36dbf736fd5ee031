/*
 * The parked calls of this node, by slot.  Each runs the state machine
 * of ua/park_fsm.h: what its legs report becomes an event, and what the
 * machine says to do is done here.  Its row in locus.park follows every
 * change of what it shows, and is final once the slot is free again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "common/log.h"
#include "config/config.h"
#include "ua/bridge.h"
#include "ua/core.h"
#include "ua/leg.h"
#include "ua/park.h"
#include "ua/park_fsm.h"
#include "ua/park_impl.h"
#include "ua/sdp.h"
#include "ua/store.h"

static const struct leg_events parked_events, retriever_events,
	parker_events;


/* ---- the legs' events ----------------------------------------------- */

static void cause_gone(char *out, uint16_t scode, const char *reason,
		       const char *who)
{
	if (scode)
		(void)re_snprintf(out, CAUSE_SIZE, "%u %s (%s)", scode, reason,
				  who);
	else
		(void)re_snprintf(out, CAUSE_SIZE, "%s from the %s", reason,
				  who);
}


/* A request of the parked party's while it waits in its slot: a new
 * offer (a re-INVITE or UPDATE: hold, a session refresh) is answered
 * with an answer in which nothing flows; one without an offer cannot
 * be, and one while locus makes its own offer crosses it. */
static void parked_request(struct leg *leg, const struct sip_msg *msg,
			   void *arg)
{
	struct parked *pk = arg;
	bool offer_method = 0 == pl_strcmp(&msg->met, "INVITE") ||
		0 == pl_strcmp(&msg->met, "UPDATE");
	struct mbuf *answer = NULL;
	struct pl offer, pl;

	if (!offer_method) {
		(void)leg_reply(leg, msg, 200, "OK", NULL, NULL, NULL);
		return;
	}
	if (pk->state != PS_PARKED) {
		(void)leg_reply(leg, msg, 491, "Request Pending", NULL, NULL,
				NULL);
		return;
	}
	pl_set_mbuf(&offer, msg->mb);
	if (!sdp_in(msg) ||
	    sdp_inactive_answer(&answer, &offer, ++pk->sdp_version)) {
		(void)leg_reply(leg, msg, 488, "Not Acceptable Here: No SDP"
				" Offer", NULL, NULL, NULL);
		return;
	}
	pl_set_mbuf(&pl, answer);
	(void)leg_reply(leg, msg, 200, "OK", NULL, SDP_CTYPE, &pl);
	mem_deref(answer);
}


static void any_ended(struct leg *leg, uint16_t scode, const char *reason,
		      void *arg)
{
	struct parked *pk = arg;
	char cause[CAUSE_SIZE];

	if (leg == pk->parked) {
		cause_gone(cause, scode, reason, "parked party");
		park_event(pk, PE_PARKED_GONE, cause);
	}
	else if (leg == pk->parker_leg) {
		cause_gone(cause, scode, reason, "parker");
		park_event(pk, PE_PARKER_GONE, cause);
	}
	else if (leg == pk->retriever) {
		cause_gone(cause, scode, reason, "retriever");
		park_event(pk, PE_RETRIEVER_GONE, cause);
	}
}


/* Before they are bridged, the retriever and the parker get no new
 * offer through: locus is making one. */
static void early_request(struct leg *leg, const struct sip_msg *msg,
			  void *arg)
{
	bool offer_method = 0 == pl_strcmp(&msg->met, "INVITE") ||
		0 == pl_strcmp(&msg->met, "UPDATE");

	(void)arg;
	if (offer_method)
		(void)leg_reply(leg, msg, 491, "Request Pending", NULL, NULL,
				NULL);
	else
		(void)leg_reply(leg, msg, 200, "OK", NULL, NULL, NULL);
}


static void parker_invite_resp(struct leg *leg, int err,
			       const struct sip_msg *msg, void *arg)
{
	struct parked *pk = arg;
	char cause[CAUSE_SIZE];
	struct pl sdp;

	if (msg && msg->scode < 200)
		return;
	sdp = leg_ok_sdp(leg);
	if (msg && msg->scode < 300 && pl_isset(&sdp)) {
		park_event(pk, PE_PARKER_2XX, NULL);
		return;
	}
	if (msg && msg->scode < 300)
		str_ncpy(cause, "488 No SDP Offer in the 2xx (parker)",
			 sizeof(cause));
	else if (msg)
		(void)re_snprintf(cause, sizeof(cause), "%u %r (parker)",
				  msg->scode, &msg->reason);
	else
		(void)re_snprintf(cause, sizeof(cause), "408 Request Timeout"
				  " (parker): %m", err);
	park_event(pk, PE_PARKER_FAILED, cause);
}


static const struct leg_events parked_events = {
	.request = parked_request,
	.ended = any_ended,
};

static const struct leg_events retriever_events = {
	.request = early_request,
	.ended = any_ended,
};

static const struct leg_events parker_events = {
	.invite_resp = parker_invite_resp,
	.request = early_request,
	.ended = any_ended,
};


static void reinvite_resp(struct leg *leg, int err, const struct sip_msg *msg,
			  void *arg)
{
	struct parked *pk = arg;
	char cause[CAUSE_SIZE];
	struct pl sdp;

	if (msg && msg->scode < 200)
		return;
	if (!pk->finished) {
		sdp = leg_ok_sdp(leg);
		pk->fail_scode = msg ? msg->scode : 408;
		if (msg)
			(void)pl_strcpy(&msg->reason, pk->fail_reason,
					sizeof(pk->fail_reason));
		else
			str_ncpy(pk->fail_reason, "Request Timeout",
				 sizeof(pk->fail_reason));
		if (msg && msg->scode < 300 && pl_isset(&sdp)) {
			park_event(pk, PE_PARKED_2XX, NULL);
		}
		else {
			if (msg && msg->scode < 300) {
				pk->fail_scode = 488;
				str_ncpy(pk->fail_reason, "Not Acceptable Here",
					 sizeof(pk->fail_reason));
			}
			(void)re_snprintf(cause, sizeof(cause), "%u %s "
					  "(re-INVITE to the parked party)%s",
					  pk->fail_scode, pk->fail_reason,
					  err ? ": no answer" : "");
			park_event(pk, PE_PARKED_FAILED, cause);
		}
	}
	mem_deref(pk);
}


static void bridge_ended(struct leg *leg, uint16_t scode, const char *reason,
			 void *arg)
{
	any_ended(leg, scode, reason, arg);
}


/* ---- doing what the state machine says ------------------------------ */

static void reinvite_parked(struct parked *pk)
{
	struct pl offer = PL_INIT;
	int err;

	if (pk->state == PS_RETRIEVING && pk->retrieve_req &&
	    sdp_in(pk->retrieve_req))
		pl_set_mbuf(&offer, pk->retrieve_req->mb);
	else if (pk->state == PS_JOIN_PARKED)
		offer = leg_ok_sdp(pk->parker_leg);
	err = leg_request(pk->parked, "INVITE", NULL,
			  pl_isset(&offer) ? SDP_CTYPE : NULL, &offer,
			  reinvite_resp, mem_ref(pk));
	if (err) {
		mem_deref(pk);
		pk->fail_scode = 500;
		str_ncpy(pk->fail_reason, "Server Internal Error",
			 sizeof(pk->fail_reason));
		park_event(pk, PE_PARKED_FAILED, "500 re-INVITE to the parked"
			   " party not sent");
	}
}


static void invite_parker(struct parked *pk)
{
	struct leg_invite inv = {
		.ruri = pk->parker, .to = pk->parker, .from = pk->parked_uri,
	};

	if (leg_invite(&pk->parker_leg, pk->p->ua, &inv, &parker_events, pk))
		park_event(pk, PE_PARKER_FAILED, "500 INVITE to the parker not"
			   " sent");
}


static void ack_hold(struct parked *pk)
{
	struct pl offer = leg_ok_sdp(pk->parked), pl = PL_INIT;
	struct mbuf *answer = NULL;

	if (pl_isset(&offer) &&
	    0 == sdp_inactive_answer(&answer, &offer, ++pk->sdp_version))
		pl_set_mbuf(&pl, answer);
	(void)leg_ack(pk->parked, &pl);
	mem_deref(answer);
}


static void bridge(struct parked *pk, struct leg *other)
{
	if (bridge_alloc(&pk->br, pk->parked, other, bridge_ended, pk))
		park_event(pk, PE_UNPARK, "500 Calls Not Joined");
}


static void retriever_drop(struct parked *pk)
{
	leg_close(pk->retriever, 480, "Temporarily Unavailable");
	pk->retriever = mem_deref(pk->retriever);
	pk->retrieve_req = mem_deref((void *)pk->retrieve_req);
}


static void run(struct parked *pk, unsigned a)
{
	struct pl sdp;

	if (a & PA_REPLY_RETRIEVER) {
		sdp = leg_ok_sdp(pk->parked);
		(void)leg_reply(pk->retriever, pk->retrieve_req, 200, "OK",
				NULL, SDP_CTYPE, &sdp);
	}
	if (a & PA_REJECT_RETRIEVER) {
		(void)leg_reply(pk->retriever, pk->retrieve_req,
				pk->fail_scode, pk->fail_reason, NULL, NULL,
				NULL);
		retriever_drop(pk);
	}
	if (a & PA_ACK_PARKER) {
		sdp = leg_ok_sdp(pk->parked);
		(void)leg_ack(pk->parker_leg, &sdp);
	}
	if (a & PA_ACK_PARKED)
		(void)leg_ack(pk->parked, NULL);
	if (a & PA_ACK_PARKED_HOLD)
		ack_hold(pk);
	if (a & PA_REINVITE_PARKED)
		reinvite_parked(pk);
	if (a & PA_INVITE_PARKER)
		invite_parker(pk);
	if (a & PA_BRIDGE_RETRIEVER)
		bridge(pk, pk->retriever);
	if (a & PA_BRIDGE_PARKER)
		bridge(pk, pk->parker_leg);
	if (a & PA_CLOSE_PARKED)
		leg_close(pk->parked, 480, "Temporarily Unavailable");
	if (a & PA_CLOSE_PARKER)
		leg_close(pk->parker_leg, 480, "Temporarily Unavailable");
	if (a & PA_CLOSE_RETRIEVER)
		leg_close(pk->retriever, 480, "Temporarily Unavailable");
}


static void timer_parked(void *arg)
{
	struct parked *pk = arg;

	park_event(pk, PE_TIMEOUT, pk->parker ? NULL :
		   "408 Nobody Retrieved It, and No Parker to Call Back");
}


static void timer_parker(void *arg)
{
	park_event(arg, PE_PARKER_TIMEOUT, "408 Request Timeout (the parker"
		   " did not answer)");
}


static void timers_follow(struct parked *pk, enum park_state from,
			  enum park_state to)
{
	unsigned had = park_fsm_timers(from), has = park_fsm_timers(to);
	uint32_t ms = pk->p->cfg->timeout * 1000;

	if (!(has & PT_PARKED))
		tmr_cancel(&pk->t_parked);
	else if (!(had & PT_PARKED))
		tmr_start(&pk->t_parked, ms, timer_parked, pk);
	if (!(has & PT_PARKER))
		tmr_cancel(&pk->t_parker);
	else if (!(had & PT_PARKER))
		tmr_start(&pk->t_parker, ms, timer_parker, pk);
}


void parked_finish(struct parked *pk)
{
	pk->finished = true;
	tmr_cancel(&pk->t_parked);
	tmr_cancel(&pk->t_parker);
	park_slot_release(pk);
	pk->br = bridge_close(pk->br);
	leg_close(pk->parked, 480, "Temporarily Unavailable");
	leg_close(pk->parker_leg, 480, "Temporarily Unavailable");
	leg_close(pk->retriever, 480, "Temporarily Unavailable");
	list_unlink(&pk->le);
	mem_deref(pk);
}


static void step(struct parked *pk, enum park_event e, const char *cause)
{
	enum park_state from = pk->state, to;
	bool was_done = park_fsm_done(from);
	unsigned actions;

	to = park_fsm_step(from, e, pk->parker != NULL, &actions);
	if (to == from && !actions)
		return;
	if (to == PS_ENDED && cause && !pk->cause[0])
		str_ncpy(pk->cause, cause, sizeof(pk->cause));
	pk->state = to;
	timers_follow(pk, from, to);
	log_debug("ua: park %s (slot %s): %s -> %s", pk->id, pk->slot_str,
		  park_fsm_state_name(from), park_fsm_state_name(to));
	if (park_fsm_done(to))
		park_slot_release(pk);
	run(pk, actions);
	/* the row follows the park until it is over, not the bridged call
	 * after it */
	if (!was_done && strcmp(park_fsm_state_name(from),
				park_fsm_state_name(to)))
		store_park_state(pk->p->ua->store, pk->id,
				 park_fsm_state_name(to),
				 pk->cause[0] ? pk->cause : NULL,
				 park_fsm_done(to));
}


void park_event(struct parked *pk, enum park_event e, const char *cause)
{
	if (pk->finished)
		return;
	if (pk->stepping) {
		if (pk->queued < EVENTS_MAX) {
			pk->queue[pk->queued].e = e;
			str_ncpy(pk->queue[pk->queued].cause,
				 cause ? cause : "", CAUSE_SIZE);
			pk->queued++;
		}
		return;
	}
	pk->stepping = true;
	mem_ref(pk);
	step(pk, e, cause);
	for (unsigned i = 0; i < pk->queued && pk->state != PS_ENDED; i++)
		step(pk, pk->queue[i].e, pk->queue[i].cause[0] ?
		     pk->queue[i].cause : NULL);
	pk->queued = 0;
	pk->stepping = false;
	if (pk->state == PS_ENDED && !pk->finished) {
		log_info("ua: park %s (slot %s) over: %s", pk->id,
			 pk->slot_str, pk->cause);
		parked_finish(pk);
	}
	mem_deref(pk);
}


/* ---- starting ------------------------------------------------------- */

static void parked_destructor(void *arg)
{
	struct parked *pk = arg;

	tmr_cancel(&pk->t_parked);
	tmr_cancel(&pk->t_parker);
	list_unlink(&pk->le);
	bridge_close(pk->br);
	mem_deref(pk->parked);
	mem_deref(pk->parker_leg);
	mem_deref(pk->retriever);
	mem_deref((void *)pk->retrieve_req);
	mem_deref(pk->parked_uri);
	mem_deref(pk->parker);
}


/* The Referred-By of MSG (RFC 3892): who parked it, as the AOR of a
 * user of ours.  The parked caller wrote that header: locus will call it
 * back, as itself, past the gate, so anything but one of our users (a
 * gateway's number, a host elsewhere, a URI with parameters such as
 * ;intercom or maddr) is no parker at all. */
static char *parker_of(const struct ua *ua, const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_xhdr(msg, "Referred-By");
	struct sip_addr addr;
	char *uri = NULL;

	if (!hdr)
		hdr = sip_msg_xhdr(msg, "b");
	if (!hdr || sip_addr_decode(&addr, &hdr->val) ||
	    (pl_strcasecmp(&addr.uri.scheme, "sip") &&
	     pl_strcasecmp(&addr.uri.scheme, "sips")) ||
	    !pl_isset(&addr.uri.user) ||
	    !config_is_our_domain(ua->cfg, &addr.uri.host))
		return NULL;
	(void)re_sdprintf(&uri, "%r:%r@%r", &addr.uri.scheme, &addr.uri.user,
			  &addr.uri.host);
	return uri;
}


struct parked *parked_start(struct park *p, const struct sip_msg *msg,
			     uint32_t slot)
{
	struct parked *pk = mem_zalloc(sizeof(*pk), parked_destructor);
	struct mbuf *answer = NULL;
	struct pl offer, pl;
	int err = pk ? 0 : ENOMEM;

	pl_set_mbuf(&offer, msg->mb);
	if (!err && !sdp_in(msg)) {
		(void)sip_treply(NULL, p->ua->sip, msg, 488, "Not Acceptable"
				 " Here: Parking Needs an SDP Offer");
		mem_deref(pk);
		return NULL;
	}
	if (!err) {
		pk->p = p;
		pk->slot = slot;
		pk->state = PS_PARKED;
		tmr_init(&pk->t_parked);
		tmr_init(&pk->t_parker);
		/* libre's printf has no '*' width */
		(void)snprintf(pk->slot_str, sizeof(pk->slot_str), "%0*u",
			       (int)p->cfg->digits, slot);
		(void)re_snprintf(pk->id, sizeof(pk->id), "%016llx",
				  (unsigned long long)rand_u64());
		pk->parker = parker_of(p->ua, msg);
		err = pl_strdup(&pk->parked_uri, &msg->from.auri);
	}
	err = err ? err : sdp_inactive_answer(&answer, &offer,
					      ++pk->sdp_version);
	err = err ? err : leg_accept(&pk->parked, p->ua, msg, &parked_events,
				     pk);
	if (!err) {
		pl_set_mbuf(&pl, answer);
		err = leg_reply(pk->parked, msg, 200, "OK", NULL, SDP_CTYPE,
				&pl);
	}
	mem_deref(answer);
	if (err) {
		log_warn("ua: parking in %u failed: %m", slot, err);
		if (pk && pk->parked)
			leg_close(pk->parked, 500, "Server Internal Error");
		else if (err == EBADMSG)   /* no media line to answer */
			(void)sip_treply(NULL, p->ua->sip, msg, 488,
					 "Not Acceptable Here: No Media to"
					 " Answer in the SDP Offer");
		else
			(void)sip_treply(NULL, p->ua->sip, msg, 500,
					 "Server Internal Error");
		mem_deref(pk);
		return NULL;
	}
	list_append(&p->all, &pk->le, pk);
	timers_follow(pk, PS_ENDED, PS_PARKED);
	log_info("ua: %s parked in %s by %s", pk->parked_uri, pk->slot_str,
		 pk->parker ? pk->parker : "nobody known");
	store_park_new(p->ua->store, pk->id, pk->slot_str, pk->parked_uri,
		       pk->parker);
	return pk;
}


void parked_retrieve(struct parked *pk, const struct sip_msg *msg)
{
	/* a retriever that gave up (CANCEL) is still held: let it go before
	 * its place is taken, or each retrieve abandoned leaks a leg */
	pk->retriever = mem_deref(pk->retriever);
	pk->retrieve_req = mem_deref((void *)pk->retrieve_req);
	if (leg_accept(&pk->retriever, pk->p->ua, msg, &retriever_events,
		       pk)) {
		(void)sip_treply(NULL, pk->p->ua->sip, msg, 500,
				 "Server Internal Error");
		return;
	}
	pk->retrieve_req = mem_ref((void *)msg);
	log_info("ua: %r retrieves %s from %s", &msg->from.auri,
		 pk->parked_uri, pk->slot_str);
	park_event(pk, PE_RETRIEVE, NULL);
}

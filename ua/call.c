/*
 * One call of locus.originate(): what the legs report becomes an event
 * of the state machine (ua/call_fsm.h), and what it says to do is done
 * here.  The row in locus.call follows every change of what it shows.
 */
#include <string.h>
#include <re.h>
#include "common/log.h"
#include "features/intercom.h"
#include "sip/uri.h"
#include "ua/bridge.h"
#include "ua/call.h"
#include "ua/call_fsm.h"
#include "ua/core.h"
#include "ua/leg.h"
#include "ua/sdp.h"
#include "ua/store.h"

enum { CAUSE_SIZE = 160, EVENTS_MAX = 4 };

struct calls {
	struct ua *ua;
	struct list calls;
	uint64_t hungup[16];         /* hang-ups of calls not (yet) here  */
	unsigned hungup_next;
};

struct call {
	struct le le;
	struct calls *cs;
	uint64_t id;
	enum call_mode mode;
	enum call_state state;
	bool finished;
	char *caller;                /* the caller's AOR as a URI         */
	char *caller_ruri;           /* ... or the one device of hers     */
	char *callee;
	char *domain;                /* the caller's                      */
	bool auto_answer;
	uint32_t caller_timeout;     /* ms                                */
	uint32_t callee_timeout;
	struct leg *a;               /* the caller's leg                  */
	struct leg *b;               /* the callee's leg (bridge mode)    */
	struct bridge *br;
	struct tmr t_caller, t_callee, t_flow_i;
	uint32_t sdp_version;        /* of our inactive answers           */
	char cause[CAUSE_SIZE];

	/* events that came while one was being handled */
	bool stepping;
	unsigned queued;
	struct queued {
		enum call_event e;
		char cause[CAUSE_SIZE];
	} queue[EVENTS_MAX];
};

static void call_event(struct call *c, enum call_event e, const char *cause);
static const struct leg_events caller_events, callee_events;


/* ---- causes ---------------------------------------------------------- */

static void cause_resp(char *out, int err, const struct sip_msg *msg,
		       const char *who)
{
	if (msg)
		(void)re_snprintf(out, CAUSE_SIZE, "%u %r (%s)", msg->scode,
				  &msg->reason, who);
	else
		(void)re_snprintf(out, CAUSE_SIZE, "%s (%s): %m",
				  err == ETIMEDOUT ? "408 Request Timeout" :
				  "503 Service Unavailable", who, err);
}


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


/* ---- the legs' events ----------------------------------------------- */

static void caller_invite_resp(struct leg *leg, int err,
			       const struct sip_msg *msg, void *arg)
{
	struct call *c = arg;
	char cause[CAUSE_SIZE];
	struct pl sdp;

	if (msg && msg->scode < 200)
		return;
	if (msg && msg->scode < 300) {
		sdp = leg_ok_sdp(leg);
		call_event(c, pl_isset(&sdp) ? CE_CALLER_2XX :
			   CE_CALLER_2XX_NO_SDP, "488 No SDP Offer in the"
			   " 2xx (caller)");
		return;
	}
	cause_resp(cause, err, msg, "caller");
	call_event(c, CE_CALLER_FAILED, cause);
}


static void callee_invite_resp(struct leg *leg, int err,
			       const struct sip_msg *msg, void *arg)
{
	struct call *c = arg;
	char cause[CAUSE_SIZE];
	struct pl sdp;

	if (msg && msg->scode < 200)
		return;
	if (msg && msg->scode < 300) {
		sdp = leg_ok_sdp(leg);
		call_event(c, pl_isset(&sdp) ? CE_CALLEE_2XX :
			   CE_CALLEE_2XX_NO_SDP, "488 No SDP Answer in the"
			   " 2xx (callee)");
		return;
	}
	cause_resp(cause, err, msg, "callee");
	call_event(c, CE_CALLEE_FAILED, cause);
}


/* The status line a NOTIFY of a REFER carries (RFC 3515 §2.4.5): its
 * body is a message/sipfrag whose first line is "SIP/2.0 CODE REASON". */
static void notify_take(struct call *c, const struct sip_msg *msg)
{
	const struct sip_hdr *ss = sip_msg_hdr(msg, SIP_HDR_SUBSCRIPTION_STATE);
	struct pl code = PL_INIT, reason = PL_INIT;
	char cause[CAUSE_SIZE];
	uint32_t scode = 0;

	if (mbuf_get_left(msg->mb) &&
	    0 == re_regex((const char *)mbuf_buf(msg->mb),
			  mbuf_get_left(msg->mb), "SIP/2.0 [0-9]+ [^\r\n]*",
			  &code, &reason))
		scode = pl_u32(&code);
	(void)re_snprintf(cause, sizeof(cause), "%u %r (NOTIFY of the "
			  "REFER)", scode, &reason);
	if (scode >= 200 && scode < 300)
		call_event(c, CE_NOTIFY_SUCCESS, cause);
	else if (scode >= 300)
		call_event(c, CE_NOTIFY_FAILED, cause);
	else if (ss && 0 == re_regex(ss->val.p, ss->val.l, "terminated"))
		call_event(c, CE_NOTIFY_FAILED, "481 Subscription Ended"
			   " Without Success (NOTIFY of the REFER)");
}


/* A request of a party before the legs are bridged. */
static void early_request(struct leg *leg, const struct sip_msg *msg,
			  void *arg)
{
	struct call *c = arg;

	if (0 == pl_strcmp(&msg->met, "NOTIFY") && leg == c->a &&
	    c->mode == CALL_REFER) {
		(void)leg_reply(leg, msg, 200, "OK", NULL, NULL, NULL);
		notify_take(c, msg);
		return;
	}
	/* a new offer now would cross the ones locus is making */
	if (0 == pl_strcmp(&msg->met, "INVITE") ||
	    0 == pl_strcmp(&msg->met, "UPDATE")) {
		(void)leg_reply(leg, msg, 491, "Request Pending", NULL, NULL,
				NULL);
		return;
	}
	(void)leg_reply(leg, msg, 200, "OK", NULL, NULL, NULL);
}


static void leg_ended(struct leg *leg, uint16_t scode, const char *reason,
		      void *arg)
{
	struct call *c = arg;
	char cause[CAUSE_SIZE];
	bool caller = leg == c->a;

	cause_gone(cause, scode, reason, caller ? "caller" : "callee");
	call_event(c, caller ? CE_CALLER_GONE : CE_CALLEE_GONE, cause);
}


static const struct leg_events caller_events = {
	.invite_resp = caller_invite_resp,
	.request = early_request,
	.ended = leg_ended,
};

static const struct leg_events callee_events = {
	.invite_resp = callee_invite_resp,
	.request = early_request,
	.ended = leg_ended,
};


static void bridge_ended(struct leg *leg, uint16_t scode, const char *reason,
			 void *arg)
{
	leg_ended(leg, scode, reason, arg);
}


/* ---- responses to the requests locus makes --------------------------- */

static void join_resp(struct leg *leg, int err, const struct sip_msg *msg,
		      void *arg, bool caller)
{
	struct call *c = arg;
	char cause[CAUSE_SIZE];
	struct pl sdp;

	if (msg && msg->scode < 200)
		return;
	if (!c->finished) {
		sdp = leg_ok_sdp(leg);
		if (msg && msg->scode < 300 && pl_isset(&sdp)) {
			call_event(c, caller ? CE_JOIN_OFFER : CE_JOIN_ANSWER,
				   NULL);
		}
		else {
			if (msg && msg->scode < 300)
				(void)re_snprintf(cause, sizeof(cause), "488 No"
						  " SDP in the 2xx to the "
						  "re-INVITE (%s)",
						  caller ? "caller" : "callee");
			else
				cause_resp(cause, err, msg, caller ? "caller" :
					   "callee");
			call_event(c, CE_JOIN_FAILED, cause);
		}
	}
	mem_deref(c);
}


static void join_caller_resp(struct leg *leg, int err,
			     const struct sip_msg *msg, void *arg)
{
	join_resp(leg, err, msg, arg, true);
}


static void join_callee_resp(struct leg *leg, int err,
			     const struct sip_msg *msg, void *arg)
{
	join_resp(leg, err, msg, arg, false);
}


static void refer_resp(struct leg *leg, int err, const struct sip_msg *msg,
		       void *arg)
{
	struct call *c = arg;
	char cause[CAUSE_SIZE];

	(void)leg;
	if (msg && msg->scode < 200)
		return;
	if (!c->finished && (err || msg->scode >= 300)) {
		cause_resp(cause, err, msg, "REFER to the caller");
		call_event(c, CE_REFER_FAILED, cause);
	}
	mem_deref(c);
}


/* ---- doing what the state machine says ------------------------------ */

static void post_failure(struct call *c, enum call_event e, int err,
			 const char *what)
{
	char cause[CAUSE_SIZE];

	(void)re_snprintf(cause, sizeof(cause), "500 %s Not Sent (%m)", what,
			  err);
	call_event(c, e, cause);
}


static void invite_callee(struct call *c)
{
	struct pl offer = leg_ok_sdp(c->a);
	struct leg_invite inv = {
		.ruri = c->callee, .to = c->callee, .from = c->caller,
		.sdp = &offer,
	};
	int err = leg_invite(&c->b, c->cs->ua, &inv, &callee_events, c);

	if (err)
		post_failure(c, CE_CALLEE_FAILED, err, "INVITE to the callee");
}


/* Her 2xx with an answer in which nothing flows (RFC 3264 §5.1), until
 * the callee can be joined. */
static void ack_caller_hold(struct call *c)
{
	struct pl offer = leg_ok_sdp(c->a), pl = PL_INIT;
	struct mbuf *answer = NULL;

	if (pl_isset(&offer) &&
	    0 == sdp_inactive_answer(&answer, &offer, ++c->sdp_version))
		pl_set_mbuf(&pl, answer);
	(void)leg_ack(c->a, &pl);
	mem_deref(answer);
}


static void reinvite(struct call *c, bool caller)
{
	struct pl offer = leg_ok_sdp(c->a);
	int err;

	if (caller)
		err = leg_request(c->a, "INVITE", NULL, NULL, NULL,
				  join_caller_resp, mem_ref(c));
	else
		err = leg_request(c->b, "INVITE", NULL, SDP_CTYPE, &offer,
				  join_callee_resp, mem_ref(c));
	if (err) {
		post_failure(c, CE_JOIN_FAILED, err, "re-INVITE");
		mem_deref(c);
	}
}


/* RFC 3515 §2.1: Refer-To the callee; Referred-By (RFC 3892) the
 * identity locus called her as. */
static void refer_caller(struct call *c)
{
	char hdrs[2 * UA_URI_SIZE + 64];
	int err;

	(void)re_snprintf(hdrs, sizeof(hdrs), "Refer-To: <%s>\r\n"
			  "Referred-By: <%s>\r\n", c->callee, c->callee);
	err = leg_request(c->a, "REFER", hdrs, NULL, NULL, refer_resp,
			  mem_ref(c));
	if (err) {
		post_failure(c, CE_REFER_FAILED, err, "REFER");
		mem_deref(c);
	}
}


static void run(struct call *c, unsigned a)
{
	struct pl answer;

	if (a & CA_INVITE_CALLEE)
		invite_callee(c);
	if (a & CA_ACK_CALLER) {
		/* before the callee's ACK, which lets go of its SDP */
		answer = leg_ok_sdp(c->b);
		(void)leg_ack(c->a, &answer);
	}
	if (a & CA_ACK_CALLEE)
		(void)leg_ack(c->b, NULL);
	if (a & CA_ACK_CALLER_HOLD)
		ack_caller_hold(c);
	if (a & CA_REINVITE_CALLER)
		reinvite(c, true);
	if (a & CA_REINVITE_CALLEE)
		reinvite(c, false);
	if (a & CA_REFER_CALLER)
		refer_caller(c);
	if ((a & CA_BRIDGE) &&
	    bridge_alloc(&c->br, c->a, c->b, bridge_ended, c))
		call_event(c, CE_HANGUP, "500 Legs Not Joined");
	if (a & CA_CLOSE_CALLER)
		leg_close(c->a, 487, "Request Terminated");
	if (a & CA_CLOSE_CALLEE)
		leg_close(c->b, 487, "Request Terminated");
}


static void timer_caller(void *arg)
{
	call_event(arg, CE_CALLER_TIMEOUT, "408 Request Timeout (caller"
		   " did not answer within caller_timeout)");
}


static void timer_callee(void *arg)
{
	call_event(arg, CE_CALLEE_TIMEOUT, "408 Request Timeout (callee"
		   " did not answer within callee_timeout)");
}


static void timer_flow_i(void *arg)
{
	call_event(arg, CE_FLOW_I_TIMEOUT, NULL);
}


/* The timers of the new state: those it has and the old one had not
 * start, those it has not go. */
static void timers_follow(struct call *c, enum call_state from,
			  enum call_state to)
{
	unsigned had = call_fsm_timers(from), has = call_fsm_timers(to);
	const struct {
		unsigned bit;
		struct tmr *tmr;
		uint32_t ms;
		tmr_h *h;
	} t[] = {
		{CT_CALLER, &c->t_caller, c->caller_timeout, timer_caller},
		{CT_CALLEE, &c->t_callee, c->callee_timeout, timer_callee},
		{CT_FLOW_I, &c->t_flow_i, CALL_FLOW_I_MS, timer_flow_i},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		if (!(has & t[i].bit))
			tmr_cancel(t[i].tmr);
		else if (!(had & t[i].bit))
			tmr_start(t[i].tmr, t[i].ms, t[i].h, c);
	}
}


static void call_finish(struct call *c)
{
	c->finished = true;
	tmr_cancel(&c->t_caller);
	tmr_cancel(&c->t_callee);
	tmr_cancel(&c->t_flow_i);
	c->br = bridge_close(c->br);
	leg_close(c->a, 487, "Request Terminated");
	leg_close(c->b, 487, "Request Terminated");
	list_unlink(&c->le);
	mem_deref(c);
}


/* One event through the state machine; the actions it takes may post
 * more, handled in turn. */
static void step(struct call *c, enum call_event e, const char *cause)
{
	enum call_state from = c->state, to;
	unsigned actions;

	to = call_fsm_step(c->mode, from, e, &actions);
	if (to == from && !actions)
		return;
	if (call_fsm_final(to) && cause && !c->cause[0])
		str_ncpy(c->cause, cause, sizeof(c->cause));
	c->state = to;
	timers_follow(c, from, to);
	log_debug("ua: call %llu: %s -> %s", (unsigned long long)c->id,
		  call_fsm_state_name(from), call_fsm_state_name(to));
	run(c, actions);
	if (strcmp(call_fsm_state_name(from), call_fsm_state_name(to)) ||
	    call_fsm_final(to))
		store_call_state(c->cs->ua->store, c->id,
				 call_fsm_state_name(to),
				 c->cause[0] ? c->cause : NULL);
}


static void call_event(struct call *c, enum call_event e, const char *cause)
{
	if (c->finished)
		return;
	if (c->stepping) {
		if (c->queued < EVENTS_MAX) {
			c->queue[c->queued].e = e;
			str_ncpy(c->queue[c->queued].cause, cause ? cause : "",
				 CAUSE_SIZE);
			c->queued++;
		}
		return;
	}
	c->stepping = true;
	mem_ref(c);
	step(c, e, cause);
	for (unsigned i = 0; i < c->queued && !call_fsm_final(c->state); i++)
		step(c, c->queue[i].e, c->queue[i].cause[0] ?
		     c->queue[i].cause : NULL);
	c->queued = 0;
	c->stepping = false;
	if (call_fsm_final(c->state) && !c->finished) {
		log_info("ua: call %llu %s: %s", (unsigned long long)c->id,
			 call_fsm_state_name(c->state), c->cause);
		call_finish(c);
	}
	mem_deref(c);
}


/* ---- starting ------------------------------------------------------- */

static void call_destructor(void *arg)
{
	struct call *c = arg;

	tmr_cancel(&c->t_caller);
	tmr_cancel(&c->t_callee);
	tmr_cancel(&c->t_flow_i);
	list_unlink(&c->le);
	bridge_close(c->br);
	mem_deref(c->a);
	mem_deref(c->b);
	mem_deref(c->caller);
	mem_deref(c->caller_ruri);
	mem_deref(c->callee);
	mem_deref(c->domain);
}


/* "alice@example.com" or "sip:alice@example.com" as a SIP URI; its host
 * into *DOMAIN when DOMAIN is given.  EINVAL for anything else. */
static int sip_uri(char **out, char **domain, const char *in)
{
	bool bare = strncmp(in, "sip:", 4) && strncmp(in, "sips:", 5);
	struct uri u;
	struct pl pl;
	int err;

	err = bare ? re_sdprintf(out, "sip:%s", in) : str_dup(out, in);
	if (err)
		return err;
	pl_set_str(&pl, *out);
	if (uri_decode(&u, &pl) || !sipuri_wellformed(&pl, &u) ||
	    !sipuri_is_sip(&u) || !pl_isset(&u.host))
		return EINVAL;
	return domain ? pl_strdup(domain, &u.host) : 0;
}


static int call_fill(struct call *c, const struct call_row *row,
		     char *cause)
{
	if (sip_uri(&c->caller, &c->domain, row->caller)) {
		str_ncpy(cause, "400 Bad Caller URI", CAUSE_SIZE);
		return EINVAL;
	}
	if (sip_uri(&c->callee, NULL, row->callee)) {
		str_ncpy(cause, "400 Bad Callee URI", CAUSE_SIZE);
		return EINVAL;
	}
	if (row->caller_device ? sip_uri(&c->caller_ruri, NULL,
					 row->caller_device) :
	    str_dup(&c->caller_ruri, c->caller)) {
		str_ncpy(cause, "400 Bad Caller Device URI", CAUSE_SIZE);
		return EINVAL;
	}
	return 0;
}


static int call_dial(struct call *c)
{
	struct mbuf *hdrs = mbuf_alloc(256);
	struct leg_invite inv = {
		.ruri = c->caller_ruri, .to = c->caller, .from = c->callee,
	};
	char *aa = NULL;
	int err = hdrs ? 0 : ENOMEM;

	/* auto_answer: the intercom feature's default dialect, which most
	 * phones understand; the caller asked for this call herself */
	if (!err && c->auto_answer)
		err = intercom_signal(NULL, &aa, INTERCOM_DEFAULT, c->domain);
	if (!err && aa)
		err = mbuf_write_str(hdrs, aa);
	mem_deref(aa);
	err = err ? err : mbuf_write_u8(hdrs, 0);
	if (!err) {
		inv.hdrs = (const char *)hdrs->buf;
		err = leg_invite(&c->a, c->cs->ua, &inv, &caller_events, c);
	}
	mem_deref(hdrs);
	return err;
}


static bool hung_up_before(struct calls *cs, uint64_t id)
{
	for (size_t i = 0; i < ARRAY_SIZE(cs->hungup); i++) {
		if (cs->hungup[i] == id)
			return true;
	}
	return false;
}


void calls_start(struct calls *cs, const struct call_row *row)
{
	struct call *c = mem_zalloc(sizeof(*c), call_destructor);
	char cause[CAUSE_SIZE] = "500 Out of Memory";
	int err = c ? 0 : ENOMEM;

	if (c) {
		c->cs = cs;
		c->id = row->id;
		c->mode = row->refer ? CALL_REFER : CALL_BRIDGE;
		c->state = CS_CALLING_CALLER;
		c->auto_answer = row->auto_answer;
		c->caller_timeout = row->caller_timeout * 1000;
		c->callee_timeout = row->callee_timeout * 1000;
		tmr_init(&c->t_caller);
		tmr_init(&c->t_callee);
		tmr_init(&c->t_flow_i);
		err = call_fill(c, row, cause);
	}
	if (!err && hung_up_before(cs, row->id)) {
		str_ncpy(cause, "locus.hangup()", sizeof(cause));
		err = ECANCELED;
	}
	if (!err) {
		err = call_dial(c);
		if (err)
			(void)re_snprintf(cause, sizeof(cause), "500 INVITE"
					  " to the Caller Not Sent (%m)", err);
	}
	if (err) {
		log_info("ua: call %llu ended: %s",
			 (unsigned long long)row->id, cause);
		store_call_state(cs->ua->store, row->id, "ended", cause);
		mem_deref(c);
		return;
	}
	list_append(&cs->calls, &c->le, c);
	timers_follow(c, CS_ENDED, c->state);
}


void calls_hangup(struct calls *cs, uint64_t id)
{
	for (struct le *le = cs->calls.head; le; le = le->next) {
		struct call *c = le->data;
		if (c->id == id) {
			call_event(c, CE_HANGUP, "locus.hangup()");
			return;
		}
	}
	/* its row may still be on its way here (ua/store.c) */
	cs->hungup[cs->hungup_next++ % ARRAY_SIZE(cs->hungup)] = id;
}


static void calls_destructor(void *arg)
{
	struct calls *cs = arg;

	calls_close(cs);
}


void calls_close(struct calls *cs)
{
	struct le *le;

	while ((le = list_head(&cs->calls)))
		call_event(le->data, CE_HANGUP, "locus stopped");
}


int calls_alloc(struct calls **csp, struct ua *ua)
{
	struct calls *cs = mem_zalloc(sizeof(*cs), calls_destructor);

	if (!cs)
		return ENOMEM;
	cs->ua = ua;
	*csp = cs;
	return 0;
}

/* The state machine of one click-to-call (locus.originate()), apart from
 * the legs it drives: a state, an event, and what to do.  call.c runs it;
 * the unit tests walk every transition.
 *
 * bridge mode (RFC 3725): locus calls the caller without SDP, her device
 * makes the offer in its 2xx, locus calls the callee with that offer and
 * acknowledges her 2xx with the callee's answer: Flow I (§4.1), as long
 * as the callee answers at once.  §4.1 and §5 allow Flow I only for a
 * callee that answers at once: her 2xx must not stay unacknowledged, or
 * her device sends it again and gives up after 64*T1 (RFC 3261
 * §13.3.1.4).  When the callee has not answered within CALL_FLOW_I_MS,
 * locus acknowledges her 2xx with an answer in which no media flows
 * (inactive) and, once the callee answers, joins the two: a re-INVITE
 * without SDP to the caller brings her new offer, a re-INVITE to the
 * callee with it brings the answer that acknowledges hers: every 2xx is
 * acknowledged within moments, as Flow IV (§4.4) does, and the callee
 * still gets the caller's own offer.
 *
 * refer mode: locus calls the caller the same way, acknowledges her 2xx
 * with an inactive answer, and sends her a REFER to the callee (RFC
 * 3515); her NOTIFY of a 2xx ends locus's part with BYE. */
#ifndef LOCUS_UA_CALL_FSM_H
#define LOCUS_UA_CALL_FSM_H

#include <stdbool.h>

/* 4*T1: what "answers at once" means for Flow I; far below 64*T1. */
#define CALL_FLOW_I_MS 2000

enum call_mode { CALL_BRIDGE, CALL_REFER };

enum call_state {
	CS_CALLING_CALLER,  /* INVITE without SDP to the caller            */
	CS_CALLING_CALLEE,  /* her 2xx waits; INVITE with her offer sent   */
	CS_CALLEE_HELD,     /* her 2xx acknowledged inactive; callee rings */
	CS_JOIN_CALLER,     /* re-INVITE without SDP to the caller         */
	CS_JOIN_CALLEE,     /* re-INVITE with her new offer to the callee  */
	CS_CONNECTED,       /* both legs up, locus relays between them     */
	CS_REFERRING,       /* refer: REFER sent, waiting for its NOTIFY   */
	CS_TRANSFERRED,     /* refer: the caller called the callee; locus
			       has left the call                         */
	CS_ENDED,
	CS_COUNT
};

enum call_event {
	CE_CALLER_2XX,         /* her 2xx, with an offer                   */
	CE_CALLER_2XX_NO_SDP,  /* her 2xx without one                      */
	CE_CALLER_FAILED,      /* a final response other than 2xx, or none */
	CE_CALLEE_2XX,         /* the callee's 2xx, with an answer         */
	CE_CALLEE_2XX_NO_SDP,
	CE_CALLEE_FAILED,
	CE_CALLER_GONE,        /* her dialog ended: BYE, or a failure      */
	CE_CALLEE_GONE,
	CE_CALLER_TIMEOUT,     /* caller_timeout passed without her 2xx    */
	CE_CALLEE_TIMEOUT,     /* callee_timeout passed without success    */
	CE_FLOW_I_TIMEOUT,     /* CALL_FLOW_I_MS passed without the callee */
	CE_HANGUP,             /* locus.hangup()                           */
	CE_JOIN_OFFER,         /* 2xx to the re-INVITE to her, with SDP    */
	CE_JOIN_ANSWER,        /* 2xx to the re-INVITE to the callee       */
	CE_JOIN_FAILED,        /* either re-INVITE failed or had no SDP    */
	CE_REFER_FAILED,       /* a final response other than 2xx to REFER */
	CE_NOTIFY_SUCCESS,     /* her NOTIFY says the callee answered      */
	CE_NOTIFY_FAILED,      /* ... says the call failed, or the
				  subscription ended without success      */
	CE_COUNT
};

/* What to do, in this order. */
enum call_action {
	CA_INVITE_CALLEE    = 1 << 0,  /* with the caller's offer          */
	CA_ACK_CALLER       = 1 << 1,  /* with the callee's answer         */
	CA_ACK_CALLEE       = 1 << 2,  /* no body                          */
	CA_ACK_CALLER_HOLD  = 1 << 3,  /* with an inactive answer          */
	CA_REINVITE_CALLER  = 1 << 4,  /* without SDP                      */
	CA_REINVITE_CALLEE  = 1 << 5,  /* with the caller's new offer      */
	CA_REFER_CALLER     = 1 << 6,
	CA_BRIDGE           = 1 << 7,  /* relay between the legs           */
	CA_CLOSE_CALLER     = 1 << 8,  /* CANCEL, or ACK and BYE, or BYE   */
	CA_CLOSE_CALLEE     = 1 << 9,
};

/* The timers a state runs; a timer goes when a state without it is
 * entered, and starts when a state with it is entered from one without. */
enum call_timer {
	CT_CALLER = 1 << 0,   /* caller_timeout                            */
	CT_CALLEE = 1 << 1,   /* callee_timeout                            */
	CT_FLOW_I = 1 << 2,   /* CALL_FLOW_I_MS                            */
};

/* The state after event E in state S, and the actions to take (*ACTIONS,
 * enum call_action bits).  An event a state does not expect changes
 * nothing and does nothing. */
enum call_state call_fsm_step(enum call_mode mode, enum call_state s,
			      enum call_event e, unsigned *actions);

/* The timers state S runs (enum call_timer bits). */
unsigned call_fsm_timers(enum call_state s);

/* What locus.calls says of state S: "calling caller", "calling callee",
 * "connected" or "ended". */
const char *call_fsm_state_name(enum call_state s);

/* No event changes anything any more. */
bool call_fsm_final(enum call_state s);

#endif

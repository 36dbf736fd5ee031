/* The state machine of one parked call, apart from the legs it drives
 * (ua/park.c runs it; the unit tests walk every transition).
 *
 * A call is parked when its INVITE to a free slot is answered, by locus,
 * with an answer in which no media flows (ua/sdp.h).  A later INVITE to
 * the taken slot retrieves it: the parked party is re-INVITEd with the
 * retriever's offer (or without one, when the retriever made none), and
 * the retriever gets the parked party's answer (or offer); then the two
 * are bridged and the slot is free.  When nobody retrieves it within the
 * park timeout, locus calls the parker (the Referred-By of the INVITE)
 * without SDP, re-INVITEs the parked party with the parker's offer and
 * acknowledges the parker's 2xx with the answer: the parker's 2xx waits
 * only for a re-INVITE, which is answered at once (RFC 3725 §4.1).  With
 * no parker, or when that call fails, the parked call ends with BYE. */
#ifndef LOCUS_UA_PARK_FSM_H
#define LOCUS_UA_PARK_FSM_H

#include <stdbool.h>

enum park_state {
	PS_PARKED,          /* answered inactive, in its slot              */
	PS_RETRIEVING,      /* re-INVITE with the retriever's offer out    */
	PS_ABANDONED,       /* ... and the retriever gave up meanwhile     */
	PS_CALLING_PARKER,  /* timeout: INVITE without SDP to the parker   */
	PS_JOIN_PARKED,     /* re-INVITE with the parker's offer out       */
	PS_RETRIEVED,       /* bridged with the retriever; slot free       */
	PS_RETURNED,        /* bridged with the parker; slot free          */
	PS_ENDED,
	PS_COUNT
};

enum park_event {
	PE_RETRIEVE,            /* an INVITE to the taken slot             */
	PE_TIMEOUT,             /* nobody retrieved it within the timeout  */
	PE_UNPARK,              /* locus.unpark()                          */
	PE_PARKED_2XX,          /* 2xx to the re-INVITE, with SDP          */
	PE_PARKED_FAILED,       /* the re-INVITE failed, or had no SDP     */
	PE_PARKED_GONE,         /* the parked party's dialog ended         */
	PE_RETRIEVER_GONE,      /* the retriever cancelled, or hung up     */
	PE_PARKER_2XX,          /* the parker's 2xx, with an offer         */
	PE_PARKER_FAILED,       /* no 2xx with an offer from the parker    */
	PE_PARKER_GONE,         /* the parker's dialog ended               */
	PE_PARKER_TIMEOUT,      /* the parker did not answer in time       */
	PE_COUNT
};

/* What to do, in this order. */
enum park_action {
	PA_REPLY_RETRIEVER    = 1 << 0,  /* 200 with the parked party's SDP */
	PA_REJECT_RETRIEVER   = 1 << 1,  /* the re-INVITE's failure         */
	PA_ACK_PARKER         = 1 << 2,  /* with the parked party's answer  */
	PA_ACK_PARKED         = 1 << 3,  /* no body                         */
	PA_ACK_PARKED_HOLD    = 1 << 4,  /* an inactive answer, if offered  */
	PA_REINVITE_PARKED    = 1 << 5,  /* with the retriever's or parker's
					    offer                         */
	PA_INVITE_PARKER      = 1 << 6,  /* without SDP                     */
	PA_BRIDGE_RETRIEVER   = 1 << 7,
	PA_BRIDGE_PARKER      = 1 << 8,
	PA_CLOSE_PARKED       = 1 << 9,
	PA_CLOSE_PARKER       = 1 << 10,
	PA_CLOSE_RETRIEVER    = 1 << 11,
};

enum park_timer {
	PT_PARKED = 1 << 0,   /* the park timeout                          */
	PT_PARKER = 1 << 1,   /* how long the parker may ring              */
};

/* The state after E in S, and the actions.  PARKER: the parked call has
 * a parker to call back.  An event S does not expect changes nothing. */
enum park_state park_fsm_step(enum park_state s, enum park_event e,
			      bool parker, unsigned *actions);
unsigned park_fsm_timers(enum park_state s);
/* What locus.parked says of S: "parked", "calling parker", "retrieved",
 * "returned" or "ended". */
const char *park_fsm_state_name(enum park_state s);
/* The slot is taken: the call is parked, or being retrieved. */
bool park_fsm_holds_slot(enum park_state s);
/* S is over as a park (the row is final); the call may go on bridged. */
bool park_fsm_done(enum park_state s);

#endif

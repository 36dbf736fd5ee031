#include <stddef.h>
#include "ua/park_fsm.h"


static enum park_state parked(enum park_event e, bool parker, unsigned *a)
{
	switch (e) {

	case PE_RETRIEVE:
		*a = PA_REINVITE_PARKED;
		return PS_RETRIEVING;
	case PE_TIMEOUT:
		if (parker) {
			*a = PA_INVITE_PARKER;
			return PS_CALLING_PARKER;
		}
		*a = PA_CLOSE_PARKED;
		return PS_ENDED;
	case PE_UNPARK:
		*a = PA_CLOSE_PARKED;
		return PS_ENDED;
	case PE_PARKED_GONE:
		return PS_ENDED;
	default:
		return PS_COUNT;
	}
}


static enum park_state retrieving(enum park_event e, unsigned *a)
{
	switch (e) {

	case PE_PARKED_2XX:
		*a = PA_REPLY_RETRIEVER | PA_BRIDGE_RETRIEVER;
		return PS_RETRIEVED;
	case PE_PARKED_FAILED:
		/* the retriever hears why; the call stays parked */
		*a = PA_REJECT_RETRIEVER;
		return PS_PARKED;
	case PE_RETRIEVER_GONE:
		return PS_ABANDONED;
	case PE_PARKED_GONE:
		*a = PA_CLOSE_RETRIEVER;
		return PS_ENDED;
	case PE_UNPARK:
		*a = PA_CLOSE_PARKED | PA_CLOSE_RETRIEVER;
		return PS_ENDED;
	default:
		return PS_COUNT;
	}
}


static enum park_state abandoned(enum park_event e, unsigned *a)
{
	switch (e) {

	case PE_PARKED_2XX:
		/* back on hold: the parked party's 2xx is acknowledged with
		 * an answer in which nothing flows, when it has an offer */
		*a = PA_ACK_PARKED_HOLD;
		return PS_PARKED;
	case PE_PARKED_FAILED:
		return PS_PARKED;
	case PE_PARKED_GONE:
		return PS_ENDED;
	case PE_UNPARK:
		*a = PA_CLOSE_PARKED;
		return PS_ENDED;
	default:
		return PS_COUNT;
	}
}


static enum park_state calling_parker(enum park_event e, unsigned *a)
{
	switch (e) {

	case PE_PARKER_2XX:
		*a = PA_REINVITE_PARKED;
		return PS_JOIN_PARKED;
	case PE_PARKER_FAILED:
		*a = PA_CLOSE_PARKED | PA_CLOSE_PARKER;
		return PS_ENDED;
	case PE_PARKER_TIMEOUT:
	case PE_UNPARK:
		*a = PA_CLOSE_PARKED | PA_CLOSE_PARKER;
		return PS_ENDED;
	case PE_PARKED_GONE:
		*a = PA_CLOSE_PARKER;
		return PS_ENDED;
	case PE_PARKER_GONE:
		*a = PA_CLOSE_PARKED;
		return PS_ENDED;
	default:
		return PS_COUNT;
	}
}


static enum park_state join_parked(enum park_event e, unsigned *a)
{
	switch (e) {

	case PE_PARKED_2XX:
		*a = PA_ACK_PARKER | PA_ACK_PARKED | PA_BRIDGE_PARKER;
		return PS_RETURNED;
	case PE_PARKED_FAILED:
	case PE_UNPARK:
		*a = PA_CLOSE_PARKED | PA_CLOSE_PARKER;
		return PS_ENDED;
	case PE_PARKED_GONE:
		*a = PA_CLOSE_PARKER;
		return PS_ENDED;
	case PE_PARKER_GONE:
		*a = PA_CLOSE_PARKED;
		return PS_ENDED;
	default:
		return PS_COUNT;
	}
}


/* Bridged: when one party goes, the other is ended. */
static enum park_state bridged(enum park_state s, enum park_event e,
			       unsigned *a)
{
	switch (e) {

	case PE_PARKED_GONE:
		*a = s == PS_RETRIEVED ? PA_CLOSE_RETRIEVER : PA_CLOSE_PARKER;
		return PS_ENDED;
	case PE_RETRIEVER_GONE:
		if (s != PS_RETRIEVED)
			return PS_COUNT;
		*a = PA_CLOSE_PARKED;
		return PS_ENDED;
	case PE_PARKER_GONE:
		if (s != PS_RETURNED)
			return PS_COUNT;
		*a = PA_CLOSE_PARKED;
		return PS_ENDED;
	default:
		return PS_COUNT;
	}
}


enum park_state park_fsm_step(enum park_state s, enum park_event e,
			      bool parker, unsigned *actions)
{
	enum park_state next;

	*actions = 0;
	switch (s) {

	case PS_PARKED:         next = parked(e, parker, actions); break;
	case PS_RETRIEVING:     next = retrieving(e, actions); break;
	case PS_ABANDONED:      next = abandoned(e, actions); break;
	case PS_CALLING_PARKER: next = calling_parker(e, actions); break;
	case PS_JOIN_PARKED:    next = join_parked(e, actions); break;
	case PS_RETRIEVED:
	case PS_RETURNED:       next = bridged(s, e, actions); break;
	default:                next = PS_COUNT; break;
	}
	if (next == PS_COUNT) {
		*actions = 0;
		return s;
	}
	return next;
}


unsigned park_fsm_timers(enum park_state s)
{
	switch (s) {

	case PS_PARKED:         return PT_PARKED;
	case PS_CALLING_PARKER: return PT_PARKER;
	default:                return 0;
	}
}


const char *park_fsm_state_name(enum park_state s)
{
	switch (s) {

	case PS_PARKED:
	case PS_RETRIEVING:
	case PS_ABANDONED:
		return "parked";
	case PS_CALLING_PARKER:
	case PS_JOIN_PARKED:
		return "calling parker";
	case PS_RETRIEVED:
		return "retrieved";
	case PS_RETURNED:
		return "returned";
	default:
		return "ended";
	}
}


bool park_fsm_holds_slot(enum park_state s)
{
	return s == PS_PARKED || s == PS_RETRIEVING || s == PS_ABANDONED ||
		s == PS_CALLING_PARKER || s == PS_JOIN_PARKED;
}


bool park_fsm_done(enum park_state s)
{
	return !park_fsm_holds_slot(s);
}

#include <stddef.h>
#include "ua/call_fsm.h"

#define CLOSE_BOTH (CA_CLOSE_CALLER | CA_CLOSE_CALLEE)


/* What ends a call in every state where both legs may be up. */
static enum call_state ending(enum call_event e, unsigned *a)
{
	switch (e) {

	case CE_CALLER_GONE:
		*a = CA_CLOSE_CALLEE;
		return CS_ENDED;
	case CE_CALLEE_GONE:
		*a = CA_CLOSE_CALLER;
		return CS_ENDED;
	case CE_HANGUP:
	case CE_CALLEE_TIMEOUT:
	case CE_CALLEE_2XX_NO_SDP:
	case CE_JOIN_FAILED:
		*a = CLOSE_BOTH;
		return CS_ENDED;
	case CE_CALLEE_FAILED:
		/* the callee's leg is over already */
		*a = CA_CLOSE_CALLER;
		return CS_ENDED;
	default:
		return CS_COUNT;
	}
}


static enum call_state calling_caller(enum call_mode mode, enum call_event e,
				      unsigned *a)
{
	switch (e) {

	case CE_CALLER_2XX:
		if (mode == CALL_REFER) {
			*a = CA_ACK_CALLER_HOLD | CA_REFER_CALLER;
			return CS_REFERRING;
		}
		*a = CA_INVITE_CALLEE;
		return CS_CALLING_CALLEE;
	case CE_CALLER_2XX_NO_SDP:
		/* a REFER needs no SDP; a bridge has nothing to offer */
		if (mode == CALL_REFER) {
			*a = CA_ACK_CALLER_HOLD | CA_REFER_CALLER;
			return CS_REFERRING;
		}
		*a = CA_CLOSE_CALLER;
		return CS_ENDED;
	case CE_CALLER_FAILED:
		return CS_ENDED;
	case CE_CALLER_GONE:
	case CE_CALLER_TIMEOUT:
	case CE_HANGUP:
		*a = CA_CLOSE_CALLER;
		return CS_ENDED;
	default:
		return CS_COUNT;
	}
}


static enum call_state referring(enum call_event e, unsigned *a)
{
	switch (e) {

	case CE_NOTIFY_SUCCESS:
		*a = CA_CLOSE_CALLER;
		return CS_TRANSFERRED;
	case CE_NOTIFY_FAILED:
	case CE_REFER_FAILED:
	case CE_CALLEE_TIMEOUT:
	case CE_HANGUP:
		*a = CA_CLOSE_CALLER;
		return CS_ENDED;
	case CE_CALLER_GONE:
		return CS_ENDED;
	default:
		return CS_COUNT;
	}
}


static enum call_state bridging(enum call_state s, enum call_event e,
				unsigned *a)
{
	switch (s) {

	case CS_CALLING_CALLEE:
		if (e == CE_CALLEE_2XX) {
			*a = CA_ACK_CALLER | CA_ACK_CALLEE | CA_BRIDGE;
			return CS_CONNECTED;
		}
		if (e == CE_FLOW_I_TIMEOUT) {
			*a = CA_ACK_CALLER_HOLD;
			return CS_CALLEE_HELD;
		}
		break;
	case CS_CALLEE_HELD:
		if (e == CE_CALLEE_2XX) {
			*a = CA_ACK_CALLEE | CA_REINVITE_CALLER;
			return CS_JOIN_CALLER;
		}
		break;
	case CS_JOIN_CALLER:
		if (e == CE_JOIN_OFFER) {
			*a = CA_REINVITE_CALLEE;
			return CS_JOIN_CALLEE;
		}
		break;
	case CS_JOIN_CALLEE:
		if (e == CE_JOIN_ANSWER) {
			*a = CA_ACK_CALLER | CA_ACK_CALLEE | CA_BRIDGE;
			return CS_CONNECTED;
		}
		break;
	default:
		break;
	}
	return ending(e, a);
}


enum call_state call_fsm_step(enum call_mode mode, enum call_state s,
			      enum call_event e, unsigned *actions)
{
	enum call_state next;

	*actions = 0;
	switch (s) {

	case CS_CALLING_CALLER:
		next = calling_caller(mode, e, actions);
		break;
	/* each mode has states of its own: the other's never come */
	case CS_REFERRING:
		next = mode == CALL_REFER ? referring(e, actions) : CS_COUNT;
		break;
	case CS_CALLING_CALLEE:
	case CS_CALLEE_HELD:
	case CS_JOIN_CALLER:
	case CS_JOIN_CALLEE:
	case CS_CONNECTED:
		next = mode == CALL_BRIDGE ? bridging(s, e, actions) :
			CS_COUNT;
		break;
	default:
		next = CS_COUNT;
		break;
	}
	if (next == CS_COUNT) {
		*actions = 0;
		return s;
	}
	return next;
}


unsigned call_fsm_timers(enum call_state s)
{
	switch (s) {

	case CS_CALLING_CALLER:
		return CT_CALLER;
	case CS_CALLING_CALLEE:
		return CT_CALLEE | CT_FLOW_I;
	case CS_CALLEE_HELD:
	case CS_REFERRING:
		return CT_CALLEE;
	default:
		return 0;
	}
}


const char *call_fsm_state_name(enum call_state s)
{
	switch (s) {

	case CS_CALLING_CALLER:
		return "calling caller";
	case CS_CALLING_CALLEE:
	case CS_CALLEE_HELD:
	case CS_JOIN_CALLER:
	case CS_JOIN_CALLEE:
	case CS_REFERRING:
		return "calling callee";
	case CS_CONNECTED:
	case CS_TRANSFERRED:
		return "connected";
	default:
		return "ended";
	}
}


bool call_fsm_final(enum call_state s)
{
	return s == CS_ENDED || s == CS_TRANSFERRED;
}

/* Unit tests for ua/call_fsm.c, the state machine of a click-to-call:
 * every transition of both modes is listed below with the actions it
 * takes, and every other pair of a state and an event must change
 * nothing and do nothing; every state runs the timers listed, no other,
 * and what locus.calls shows of each state. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "ua/call_fsm.h"

#define B CALL_BRIDGE
#define R CALL_REFER
#define BOTH 2        /* a row for either mode */
#define CLOSE_BOTH (CA_CLOSE_CALLER | CA_CLOSE_CALLEE)

struct transition {
	int mode;
	enum call_state from;
	enum call_event e;
	enum call_state to;
	unsigned actions;
};

/* The machine, as RFC 3725 and the README describe it. */
static const struct transition table[] = {
	/* calling the caller, INVITE without SDP */
	{B, CS_CALLING_CALLER, CE_CALLER_2XX, CS_CALLING_CALLEE,
	 CA_INVITE_CALLEE},
	{R, CS_CALLING_CALLER, CE_CALLER_2XX, CS_REFERRING,
	 CA_ACK_CALLER_HOLD | CA_REFER_CALLER},
	{B, CS_CALLING_CALLER, CE_CALLER_2XX_NO_SDP, CS_ENDED,
	 CA_CLOSE_CALLER},
	{R, CS_CALLING_CALLER, CE_CALLER_2XX_NO_SDP, CS_REFERRING,
	 CA_ACK_CALLER_HOLD | CA_REFER_CALLER},
	{BOTH, CS_CALLING_CALLER, CE_CALLER_FAILED, CS_ENDED, 0},
	{BOTH, CS_CALLING_CALLER, CE_CALLER_GONE, CS_ENDED, CA_CLOSE_CALLER},
	{BOTH, CS_CALLING_CALLER, CE_CALLER_TIMEOUT, CS_ENDED,
	 CA_CLOSE_CALLER},
	{BOTH, CS_CALLING_CALLER, CE_HANGUP, CS_ENDED, CA_CLOSE_CALLER},

	/* her 2xx waits (Flow I) while the callee is called */
	{B, CS_CALLING_CALLEE, CE_CALLEE_2XX, CS_CONNECTED,
	 CA_ACK_CALLER | CA_ACK_CALLEE | CA_BRIDGE},
	{B, CS_CALLING_CALLEE, CE_FLOW_I_TIMEOUT, CS_CALLEE_HELD,
	 CA_ACK_CALLER_HOLD},
	{B, CS_CALLING_CALLEE, CE_CALLEE_2XX_NO_SDP, CS_ENDED, CLOSE_BOTH},
	{B, CS_CALLING_CALLEE, CE_CALLEE_FAILED, CS_ENDED, CA_CLOSE_CALLER},
	{B, CS_CALLING_CALLEE, CE_CALLEE_TIMEOUT, CS_ENDED, CLOSE_BOTH},
	{B, CS_CALLING_CALLEE, CE_HANGUP, CS_ENDED, CLOSE_BOTH},
	{B, CS_CALLING_CALLEE, CE_JOIN_FAILED, CS_ENDED, CLOSE_BOTH},
	{B, CS_CALLING_CALLEE, CE_CALLER_GONE, CS_ENDED, CA_CLOSE_CALLEE},
	{B, CS_CALLING_CALLEE, CE_CALLEE_GONE, CS_ENDED, CA_CLOSE_CALLER},

	/* her 2xx acknowledged inactive; the callee still rings */
	{B, CS_CALLEE_HELD, CE_CALLEE_2XX, CS_JOIN_CALLER,
	 CA_ACK_CALLEE | CA_REINVITE_CALLER},
	{B, CS_CALLEE_HELD, CE_CALLEE_2XX_NO_SDP, CS_ENDED, CLOSE_BOTH},
	{B, CS_CALLEE_HELD, CE_CALLEE_FAILED, CS_ENDED, CA_CLOSE_CALLER},
	{B, CS_CALLEE_HELD, CE_CALLEE_TIMEOUT, CS_ENDED, CLOSE_BOTH},
	{B, CS_CALLEE_HELD, CE_HANGUP, CS_ENDED, CLOSE_BOTH},
	{B, CS_CALLEE_HELD, CE_JOIN_FAILED, CS_ENDED, CLOSE_BOTH},
	{B, CS_CALLEE_HELD, CE_CALLER_GONE, CS_ENDED, CA_CLOSE_CALLEE},
	{B, CS_CALLEE_HELD, CE_CALLEE_GONE, CS_ENDED, CA_CLOSE_CALLER},

	/* the join: her new offer, then the callee's answer */
	{B, CS_JOIN_CALLER, CE_JOIN_OFFER, CS_JOIN_CALLEE,
	 CA_REINVITE_CALLEE},
	{B, CS_JOIN_CALLER, CE_JOIN_FAILED, CS_ENDED, CLOSE_BOTH},
	{B, CS_JOIN_CALLER, CE_HANGUP, CS_ENDED, CLOSE_BOTH},
	{B, CS_JOIN_CALLER, CE_CALLEE_TIMEOUT, CS_ENDED, CLOSE_BOTH},
	{B, CS_JOIN_CALLER, CE_CALLEE_2XX_NO_SDP, CS_ENDED, CLOSE_BOTH},
	{B, CS_JOIN_CALLER, CE_CALLEE_FAILED, CS_ENDED, CA_CLOSE_CALLER},
	{B, CS_JOIN_CALLER, CE_CALLER_GONE, CS_ENDED, CA_CLOSE_CALLEE},
	{B, CS_JOIN_CALLER, CE_CALLEE_GONE, CS_ENDED, CA_CLOSE_CALLER},
	{B, CS_JOIN_CALLEE, CE_JOIN_ANSWER, CS_CONNECTED,
	 CA_ACK_CALLER | CA_ACK_CALLEE | CA_BRIDGE},
	{B, CS_JOIN_CALLEE, CE_JOIN_FAILED, CS_ENDED, CLOSE_BOTH},
	{B, CS_JOIN_CALLEE, CE_HANGUP, CS_ENDED, CLOSE_BOTH},
	{B, CS_JOIN_CALLEE, CE_CALLEE_TIMEOUT, CS_ENDED, CLOSE_BOTH},
	{B, CS_JOIN_CALLEE, CE_CALLEE_2XX_NO_SDP, CS_ENDED, CLOSE_BOTH},
	{B, CS_JOIN_CALLEE, CE_CALLEE_FAILED, CS_ENDED, CA_CLOSE_CALLER},
	{B, CS_JOIN_CALLEE, CE_CALLER_GONE, CS_ENDED, CA_CLOSE_CALLEE},
	{B, CS_JOIN_CALLEE, CE_CALLEE_GONE, CS_ENDED, CA_CLOSE_CALLER},

	/* bridged */
	{B, CS_CONNECTED, CE_CALLER_GONE, CS_ENDED, CA_CLOSE_CALLEE},
	{B, CS_CONNECTED, CE_CALLEE_GONE, CS_ENDED, CA_CLOSE_CALLER},
	{B, CS_CONNECTED, CE_HANGUP, CS_ENDED, CLOSE_BOTH},
	{B, CS_CONNECTED, CE_CALLEE_TIMEOUT, CS_ENDED, CLOSE_BOTH},
	{B, CS_CONNECTED, CE_CALLEE_2XX_NO_SDP, CS_ENDED, CLOSE_BOTH},
	{B, CS_CONNECTED, CE_CALLEE_FAILED, CS_ENDED, CA_CLOSE_CALLER},
	{B, CS_CONNECTED, CE_JOIN_FAILED, CS_ENDED, CLOSE_BOTH},

	/* refer: REFER sent, waiting for the NOTIFY of success */
	{R, CS_REFERRING, CE_NOTIFY_SUCCESS, CS_TRANSFERRED, CA_CLOSE_CALLER},
	{R, CS_REFERRING, CE_NOTIFY_FAILED, CS_ENDED, CA_CLOSE_CALLER},
	{R, CS_REFERRING, CE_REFER_FAILED, CS_ENDED, CA_CLOSE_CALLER},
	{R, CS_REFERRING, CE_CALLEE_TIMEOUT, CS_ENDED, CA_CLOSE_CALLER},
	{R, CS_REFERRING, CE_HANGUP, CS_ENDED, CA_CLOSE_CALLER},
	{R, CS_REFERRING, CE_CALLER_GONE, CS_ENDED, 0},
};


/* The row for (MODE, S, E), or NULL: then nothing may happen. */
static const struct transition *expected(enum call_mode mode,
					 enum call_state s, enum call_event e)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct transition *t = &table[i];
		if ((t->mode == BOTH || t->mode == (int)mode) &&
		    t->from == s && t->e == e)
			return t;
	}
	return NULL;
}


static void test_every_transition(void **state)
{
	static const enum call_mode modes[] = {CALL_BRIDGE, CALL_REFER};
	unsigned checked = 0;

	(void)state;
	for (size_t m = 0; m < 2; m++) {
		for (int s = 0; s < CS_COUNT; s++) {
			for (int e = 0; e < CE_COUNT; e++) {
				const struct transition *t =
					expected(modes[m], s, e);
				unsigned actions = 0xffff;
				enum call_state to = call_fsm_step(modes[m], s,
								   e, &actions);

				if (t) {
					assert_int_equal(to, t->to);
					assert_int_equal(actions, t->actions);
					checked++;
				}
				else {
					/* unexpected here: nothing happens */
					assert_int_equal(to, s);
					assert_int_equal(actions, 0);
				}
			}
		}
	}
	/* every row of the table was reached (a row for both modes twice) */
	assert_true(checked >= sizeof(table) / sizeof(table[0]));
}


/* Final states take no event at all. */
static void test_final_states_are_final(void **state)
{
	(void)state;
	for (int e = 0; e < CE_COUNT; e++) {
		unsigned a;
		assert_int_equal(call_fsm_step(CALL_BRIDGE, CS_ENDED, e, &a),
				 CS_ENDED);
		assert_int_equal(a, 0);
		assert_int_equal(call_fsm_step(CALL_REFER, CS_TRANSFERRED, e,
					       &a), CS_TRANSFERRED);
		assert_int_equal(a, 0);
	}
	assert_true(call_fsm_final(CS_ENDED));
	assert_true(call_fsm_final(CS_TRANSFERRED));
	for (int s = 0; s < CS_COUNT; s++) {
		if (s != CS_ENDED && s != CS_TRANSFERRED)
			assert_false(call_fsm_final(s));
	}
}


/* Each timer runs in the states that wait for what it bounds: the
 * caller's answer, the callee's (and, in refer mode, the NOTIFY of
 * success), and the Flow I wait while her 2xx is unacknowledged. */
static void test_every_timer(void **state)
{
	static const unsigned timers[CS_COUNT] = {
		[CS_CALLING_CALLER] = CT_CALLER,
		[CS_CALLING_CALLEE] = CT_CALLEE | CT_FLOW_I,
		[CS_CALLEE_HELD] = CT_CALLEE,
		[CS_JOIN_CALLER] = 0,
		[CS_JOIN_CALLEE] = 0,
		[CS_CONNECTED] = 0,
		[CS_REFERRING] = CT_CALLEE,
		[CS_TRANSFERRED] = 0,
		[CS_ENDED] = 0,
	};

	(void)state;
	for (int s = 0; s < CS_COUNT; s++)
		assert_int_equal(call_fsm_timers(s), timers[s]);
	/* the wait for the callee bounds her unacknowledged 2xx far below
	 * 64*T1 = 32 s (RFC 3261 §13.3.1.4) */
	assert_true(CALL_FLOW_I_MS < 32000);
	/* where a timer runs, its expiry is a transition */
	for (int s = 0; s < CS_COUNT; s++) {
		unsigned a;
		if (timers[s] & CT_CALLER)
			assert_int_not_equal(call_fsm_step(CALL_BRIDGE, s,
							   CE_CALLER_TIMEOUT,
							   &a), s);
		if (timers[s] & CT_CALLEE)
			assert_int_not_equal(call_fsm_step(s == CS_REFERRING ?
							   CALL_REFER :
							   CALL_BRIDGE, s,
							   CE_CALLEE_TIMEOUT,
							   &a), s);
		if (timers[s] & CT_FLOW_I)
			assert_int_not_equal(call_fsm_step(CALL_BRIDGE, s,
							   CE_FLOW_I_TIMEOUT,
							   &a), s);
	}
}


static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(call_fsm_state_name(CS_CALLING_CALLER),
			    "calling caller");
	assert_string_equal(call_fsm_state_name(CS_CALLING_CALLEE),
			    "calling callee");
	assert_string_equal(call_fsm_state_name(CS_CALLEE_HELD),
			    "calling callee");
	assert_string_equal(call_fsm_state_name(CS_JOIN_CALLER),
			    "calling callee");
	assert_string_equal(call_fsm_state_name(CS_JOIN_CALLEE),
			    "calling callee");
	assert_string_equal(call_fsm_state_name(CS_REFERRING),
			    "calling callee");
	assert_string_equal(call_fsm_state_name(CS_CONNECTED), "connected");
	assert_string_equal(call_fsm_state_name(CS_TRANSFERRED), "connected");
	assert_string_equal(call_fsm_state_name(CS_ENDED), "ended");
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_transition),
		cmocka_unit_test(test_final_states_are_final),
		cmocka_unit_test(test_every_timer),
		cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for ua/park_fsm.c, the state machine of a parked call:
 * every transition is listed below with its actions, and every other
 * pair of a state and an event must change nothing and do nothing;
 * every state runs the timers listed, no other; which states hold the
 * slot, and what locus.parked shows of each. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "ua/park_fsm.h"

#define ANY 2          /* with or without a parker */

struct transition {
	enum park_state from;
	enum park_event e;
	int parker;
	enum park_state to;
	unsigned actions;
};

static const struct transition table[] = {
	/* in its slot */
	{PS_PARKED, PE_RETRIEVE, ANY, PS_RETRIEVING, PA_REINVITE_PARKED},
	{PS_PARKED, PE_TIMEOUT, 1, PS_CALLING_PARKER, PA_INVITE_PARKER},
	{PS_PARKED, PE_TIMEOUT, 0, PS_ENDED, PA_CLOSE_PARKED},
	{PS_PARKED, PE_UNPARK, ANY, PS_ENDED, PA_CLOSE_PARKED},
	{PS_PARKED, PE_PARKED_GONE, ANY, PS_ENDED, 0},

	/* re-INVITE with the retriever's offer out */
	{PS_RETRIEVING, PE_PARKED_2XX, ANY, PS_RETRIEVED,
	 PA_REPLY_RETRIEVER | PA_BRIDGE_RETRIEVER},
	{PS_RETRIEVING, PE_PARKED_FAILED, ANY, PS_PARKED, PA_REJECT_RETRIEVER},
	{PS_RETRIEVING, PE_RETRIEVER_GONE, ANY, PS_ABANDONED, 0},
	{PS_RETRIEVING, PE_PARKED_GONE, ANY, PS_ENDED, PA_CLOSE_RETRIEVER},
	{PS_RETRIEVING, PE_UNPARK, ANY, PS_ENDED,
	 PA_CLOSE_PARKED | PA_CLOSE_RETRIEVER},

	/* ... and the retriever gave up */
	{PS_ABANDONED, PE_PARKED_2XX, ANY, PS_PARKED, PA_ACK_PARKED_HOLD},
	{PS_ABANDONED, PE_PARKED_FAILED, ANY, PS_PARKED, 0},
	{PS_ABANDONED, PE_PARKED_GONE, ANY, PS_ENDED, 0},
	{PS_ABANDONED, PE_UNPARK, ANY, PS_ENDED, PA_CLOSE_PARKED},

	/* the timeout rings the parker */
	{PS_CALLING_PARKER, PE_PARKER_2XX, ANY, PS_JOIN_PARKED,
	 PA_REINVITE_PARKED},
	{PS_CALLING_PARKER, PE_PARKER_FAILED, ANY, PS_ENDED,
	 PA_CLOSE_PARKED | PA_CLOSE_PARKER},
	{PS_CALLING_PARKER, PE_PARKER_TIMEOUT, ANY, PS_ENDED,
	 PA_CLOSE_PARKED | PA_CLOSE_PARKER},
	{PS_CALLING_PARKER, PE_UNPARK, ANY, PS_ENDED,
	 PA_CLOSE_PARKED | PA_CLOSE_PARKER},
	{PS_CALLING_PARKER, PE_PARKED_GONE, ANY, PS_ENDED, PA_CLOSE_PARKER},
	{PS_CALLING_PARKER, PE_PARKER_GONE, ANY, PS_ENDED, PA_CLOSE_PARKED},

	/* re-INVITE with the parker's offer out */
	{PS_JOIN_PARKED, PE_PARKED_2XX, ANY, PS_RETURNED,
	 PA_ACK_PARKER | PA_ACK_PARKED | PA_BRIDGE_PARKER},
	{PS_JOIN_PARKED, PE_PARKED_FAILED, ANY, PS_ENDED,
	 PA_CLOSE_PARKED | PA_CLOSE_PARKER},
	{PS_JOIN_PARKED, PE_UNPARK, ANY, PS_ENDED,
	 PA_CLOSE_PARKED | PA_CLOSE_PARKER},
	{PS_JOIN_PARKED, PE_PARKED_GONE, ANY, PS_ENDED, PA_CLOSE_PARKER},
	{PS_JOIN_PARKED, PE_PARKER_GONE, ANY, PS_ENDED, PA_CLOSE_PARKED},

	/* bridged: one party goes, the other is ended */
	{PS_RETRIEVED, PE_PARKED_GONE, ANY, PS_ENDED, PA_CLOSE_RETRIEVER},
	{PS_RETRIEVED, PE_RETRIEVER_GONE, ANY, PS_ENDED, PA_CLOSE_PARKED},
	{PS_RETURNED, PE_PARKED_GONE, ANY, PS_ENDED, PA_CLOSE_PARKER},
	{PS_RETURNED, PE_PARKER_GONE, ANY, PS_ENDED, PA_CLOSE_PARKED},
};


static const struct transition *expected(enum park_state s, enum park_event e,
					 bool parker)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct transition *t = &table[i];
		if (t->from == s && t->e == e &&
		    (t->parker == ANY || t->parker == (int)parker))
			return t;
	}
	return NULL;
}


static void test_every_transition(void **state)
{
	(void)state;
	for (int parker = 0; parker < 2; parker++) {
		for (int s = 0; s < PS_COUNT; s++) {
			for (int e = 0; e < PE_COUNT; e++) {
				const struct transition *t =
					expected(s, e, parker);
				unsigned a = 0xffff;
				enum park_state to = park_fsm_step(s, e, parker,
								   &a);
				if (t) {
					assert_int_equal(to, t->to);
					assert_int_equal(a, t->actions);
				}
				else {
					assert_int_equal(to, s);
					assert_int_equal(a, 0);
				}
			}
		}
	}
}


static void test_every_timer(void **state)
{
	static const unsigned timers[PS_COUNT] = {
		[PS_PARKED] = PT_PARKED,
		[PS_CALLING_PARKER] = PT_PARKER,
	};

	(void)state;
	for (int s = 0; s < PS_COUNT; s++)
		assert_int_equal(park_fsm_timers(s), timers[s]);
	/* each timer's expiry is a transition where it runs */
	for (int parker = 0; parker < 2; parker++) {
		unsigned a;
		assert_int_not_equal(park_fsm_step(PS_PARKED, PE_TIMEOUT,
						   parker, &a), PS_PARKED);
		assert_int_not_equal(park_fsm_step(PS_CALLING_PARKER,
						   PE_PARKER_TIMEOUT, parker,
						   &a), PS_CALLING_PARKER);
	}
}


static void test_slot_and_names(void **state)
{
	static const struct {
		enum park_state s;
		bool holds;
		const char *name;
	} want[] = {
		{PS_PARKED, true, "parked"},
		{PS_RETRIEVING, true, "parked"},
		{PS_ABANDONED, true, "parked"},
		{PS_CALLING_PARKER, true, "calling parker"},
		{PS_JOIN_PARKED, true, "calling parker"},
		{PS_RETRIEVED, false, "retrieved"},
		{PS_RETURNED, false, "returned"},
		{PS_ENDED, false, "ended"},
	};

	(void)state;
	assert_int_equal(sizeof(want) / sizeof(want[0]), PS_COUNT);
	for (size_t i = 0; i < PS_COUNT; i++) {
		assert_int_equal(park_fsm_holds_slot(want[i].s),
				 want[i].holds);
		assert_int_equal(park_fsm_done(want[i].s), !want[i].holds);
		assert_string_equal(park_fsm_state_name(want[i].s),
				    want[i].name);
	}
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_transition),
		cmocka_unit_test(test_every_timer),
		cmocka_unit_test(test_slot_and_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

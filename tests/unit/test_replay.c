/* Unit tests for registrar/replay.c, the answers kept for retransmitted
 * REGISTERs: a retransmission is answered from the cache, one whose
 * answer was forgotten is processed afresh, forgotten answers hold no
 * memory, and what is kept is bounded in bytes (REPLAY_MAX_BYTES), the
 * oldest forgotten first.  No network: the answers go nowhere (no SIP
 * stack), only what the cache holds is observed, through replay_check(). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <re.h>
#include "registrar/replay.h"
#include "unit_support.h"

enum {
	ANSWER_BYTES = 4096,
	/* answers of ANSWER_BYTES that fill REPLAY_MAX_BYTES, keys and
	 * bookkeeping aside */
	FILL = (int)(REPLAY_MAX_BYTES / ANSWER_BYTES),
};


/* A REGISTER of its own transaction (branch) for each N. */
static struct sip_msg *request(unsigned n)
{
	char callid[32];
	char *text;
	struct sip_msg *msg;

	snprintf(callid, sizeof(callid), "replay-%u", n);
	text = ut_register_text("sip:" UT_DOMAIN, "sip:" UT_AOR_KEY, callid, 1,
				"Contact: <sip:a@192.0.2.10:5062>\r\n");
	msg = ut_msg_decode(text);
	mem_deref(text);
	return msg;
}


static struct mbuf *answer_of(size_t bytes)
{
	struct mbuf *mb = mbuf_alloc(bytes);

	assert_non_null(mb);
	assert_int_equal(0, mbuf_fill(mb, 'x', bytes));
	return mb;
}


/* N, answered with BYTES bytes; KEEP false: forgotten at once. */
static void answer(struct replay *rp, unsigned n, size_t bytes, bool keep)
{
	struct sip_msg *msg = request(n);
	struct replay_slot *slot = NULL;
	struct mbuf *mb = answer_of(bytes);

	if (replay_check(rp, msg, &slot))
		fail_msg("request %u is new, but taken for a retransmission",
			 n);
	assert_non_null(slot);
	(void)replay_answer(slot, msg, mb);   /* no SIP stack: not sent */
	if (!keep)
		replay_forget(slot);
	mem_deref(slot);
	mem_deref(mb);
	mem_deref(msg);
}


/* Whether a retransmission of N is answered from the cache.  When it is
 * not, it is a new request, now held (unanswered) in its turn. */
static bool answered_again(struct replay *rp, unsigned n)
{
	struct sip_msg *msg = request(n);
	struct replay_slot *slot = NULL;
	bool again = replay_check(rp, msg, &slot);

	assert_true(again == (slot == NULL));
	mem_deref(slot);
	mem_deref(msg);
	return again;
}


static struct replay *replay_new(void)
{
	struct replay *rp = NULL;

	assert_int_equal(0, replay_alloc(&rp, NULL));
	return rp;
}


static void test_retransmission_answered_again(void **state)
{
	struct replay *rp = replay_new();
	struct sip_msg *msg = request(1);
	struct replay_slot *slot = NULL, *again = NULL;
	struct mbuf *mb = answer_of(600);
	(void)state;

	assert_false(replay_check(rp, msg, &slot));
	assert_non_null(slot);
	/* while it is processed, a retransmission is absorbed */
	assert_true(replay_check(rp, msg, &again));
	assert_null(again);
	(void)replay_answer(slot, msg, mb);
	mem_deref(slot);
	mem_deref(mb);
	assert_true(answered_again(rp, 1));
	assert_false(answered_again(rp, 2));
	mem_deref(msg);
	mem_deref(rp);
}


static void test_forgotten_answer_given_afresh(void **state)
{
	struct replay *rp = replay_new();
	(void)state;

	answer(rp, 1, 600, false);
	answer(rp, 2, 600, true);
	assert_false(answered_again(rp, 1));
	assert_true(answered_again(rp, 2));
	mem_deref(rp);
}


/* A burst of answers that are not kept - challenges to REGISTERs without
 * credentials - four times the bound in all, pushes out nothing kept. */
static void test_forgotten_answers_hold_nothing(void **state)
{
	struct replay *rp = replay_new();
	(void)state;

	answer(rp, 0, ANSWER_BYTES, true);
	for (unsigned n = 1; n <= 4 * FILL; n++)
		answer(rp, n, ANSWER_BYTES, false);
	assert_true(answered_again(rp, 0));
	mem_deref(rp);
}


/* Kept answers: well below the byte bound all are held; beyond it the
 * oldest are forgotten first, the newest held.  Far fewer entries than
 * the cache's bound on entries: it is the bytes that count. */
static void test_kept_answers_bounded_in_bytes(void **state)
{
	struct replay *rp = replay_new();
	unsigned n = 0;
	(void)state;

	while (n < FILL * 7 / 8)
		answer(rp, n++, ANSWER_BYTES, true);
	assert_true(answered_again(rp, 0));
	assert_true(answered_again(rp, 1));

	while (n < FILL + FILL / 8)
		answer(rp, n++, ANSWER_BYTES, true);
	assert_false(answered_again(rp, 0));
	assert_true(answered_again(rp, n - 1));
	assert_true(answered_again(rp, n - FILL / 2));
	mem_deref(rp);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retransmission_answered_again),
		cmocka_unit_test(test_forgotten_answer_given_afresh),
		cmocka_unit_test(test_forgotten_answers_hold_nothing),
		cmocka_unit_test(test_kept_answers_bounded_in_bytes),
	};

	return cmocka_run_group_tests(tests, ut_group_setup, ut_group_teardown);
}

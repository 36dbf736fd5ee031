/* Unit tests for compat/timer_wheel.c, the timing wheel that takes the
 * place of libre's sorted timer list: linked in as in the daemon, its
 * tmr_start() and tmr_poll() are the ones called, libre's own calls
 * included.  Real time, in milliseconds. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <cmocka.h>
#include <re.h>

enum { MAX_WAIT_MS = 2000 };

static char fired[16];        /* names of the timers, in firing order */
static size_t firedc;

static void record(void *arg)
{
	if (firedc < sizeof(fired) - 1)
		fired[firedc++] = *(const char *)arg;
	fired[firedc] = '\0';
}

static void reset(void)
{
	firedc = 0;
	fired[0] = '\0';
}

static void sleep_ms(long ms)
{
	struct timespec ts = {0, ms * 1000000L};

	nanosleep(&ts, NULL);
}

/* Polls until N timers fired or MAX_WAIT_MS passed. */
static void poll_until(size_t n)
{
	for (int ms = 0; ms < MAX_WAIT_MS && firedc < n; ms++) {
		tmr_poll(NULL);
		sleep_ms(1);
	}
}


static void test_fire_in_expiry_order(void **state)
{
	static const char a = 'a', b = 'b', c = 'c', d = 'd';
	struct tmr ta, tb, tc, td;
	(void)state;

	reset();
	tmr_init(&ta); tmr_init(&tb); tmr_init(&tc); tmr_init(&td);
	tmr_start(&ta, 30, record, (void *)&a);
	tmr_start(&tb, 10, record, (void *)&b);
	tmr_start(&tc, 20, record, (void *)&c);
	tmr_start(&td, 0, record, (void *)&d);
	assert_true(tmr_isrunning(&ta));
	poll_until(4);
	assert_string_equal("dbca", fired);
	assert_false(tmr_isrunning(&ta));
	assert_int_equal(0, tmr_next_timeout(NULL));   /* none running */
}


static void test_cancel_and_restart(void **state)
{
	static const char a = 'a', b = 'b';
	struct tmr ta, tb;
	(void)state;

	reset();
	tmr_init(&ta); tmr_init(&tb);
	tmr_start(&ta, 5, record, (void *)&a);
	tmr_start(&tb, 5, record, (void *)&b);
	tmr_cancel(&ta);
	assert_false(tmr_isrunning(&ta));
	assert_int_equal(0, tmr_get_expire(&ta));
	/* restarting a running timer moves it, never doubles it */
	tmr_start(&tb, 15, record, (void *)&b);
	tmr_start(&tb, 10, record, (void *)&b);
	poll_until(1);
	sleep_ms(20);
	tmr_poll(NULL);
	assert_string_equal("b", fired);
	assert_int_equal(0, tmr_next_timeout(NULL));
}


static struct tmr sibling;

/* Cancels its sibling, due at the same millisecond, before it fires. */
static void cancel_sibling(void *arg)
{
	record(arg);
	tmr_cancel(&sibling);
}

static void test_handler_cancels_due_timer(void **state)
{
	static const char a = 'a', b = 'b';
	struct tmr ta;
	(void)state;

	reset();
	tmr_init(&ta); tmr_init(&sibling);
	tmr_start(&ta, 5, cancel_sibling, (void *)&a);
	tmr_start(&sibling, 5, record, (void *)&b);
	poll_until(1);
	sleep_ms(10);
	tmr_poll(NULL);
	assert_string_equal("a", fired);
	assert_false(tmr_isrunning(&sibling));
}


static struct tmr repeating;
static const char r = 'r';

/* Starts itself again with no delay, twice: each must fire on a later
 * poll, not be lost in a slot polling has passed. */
static void again(void *arg)
{
	record(arg);
	if (firedc < 3)
		tmr_start(&repeating, 0, again, arg);
}

static void test_restart_from_handler(void **state)
{
	(void)state;

	reset();
	tmr_init(&repeating);
	tmr_start(&repeating, 0, again, (void *)&r);
	poll_until(3);
	assert_string_equal("rrr", fired);
	assert_false(tmr_isrunning(&repeating));
}


/* A timer started with no delay fires at the next poll, within the same
 * millisecond: not a millisecond later, when the clock has moved on. */
static void test_no_delay_fires_at_next_poll(void **state)
{
	static const char z = 'z';
	struct tmr tz;
	(void)state;

	reset();
	tmr_poll(NULL);
	tmr_init(&tz);
	tmr_start(&tz, 0, record, (void *)&z);
	assert_int_equal(1, tmr_next_timeout(NULL));
	tmr_poll(NULL);
	assert_string_equal("z", fired);
	assert_false(tmr_isrunning(&tz));
}


/* A timer a lap (65,536 ms) later shares a slot with a near one: the
 * near one fires, the far one waits for its own lap. */
static void test_later_lap_waits(void **state)
{
	static const char n = 'n', f = 'f';
	struct tmr tn, tf;
	uint64_t left;
	(void)state;

	reset();
	tmr_init(&tn); tmr_init(&tf);
	tmr_start(&tf, 65536 + 5, record, (void *)&f);
	tmr_start(&tn, 5, record, (void *)&n);
	poll_until(1);
	sleep_ms(10);
	tmr_poll(NULL);
	assert_string_equal("n", fired);
	assert_true(tmr_isrunning(&tf));
	left = tmr_get_expire(&tf);
	assert_true(left > 65000 && left <= 65536);
	/* nothing due within the scan: the loop wakes in a second */
	assert_int_equal(1000, tmr_next_timeout(NULL));
	tmr_cancel(&tf);
	assert_int_equal(0, tmr_next_timeout(NULL));
}


static void test_next_timeout(void **state)
{
	static const char a = 'a';
	struct tmr ta;
	uint64_t to;
	(void)state;

	tmr_poll(NULL);
	tmr_init(&ta);
	tmr_start(&ta, 50, record, (void *)&a);
	to = tmr_next_timeout(NULL);
	assert_true(to >= 1 && to <= 50);
	tmr_cancel(&ta);
	assert_int_equal(0, tmr_next_timeout(NULL));
}


/* A timer libre starts itself (a STUN keepalive's, no socket) is on the
 * wheel, and libre's own cancel takes it off. */
static void test_libre_timers_run_here(void **state)
{
	struct stun_keepalive *ska = NULL;
	uint64_t to;
	(void)state;

	assert_int_equal(0, tmr_next_timeout(NULL));   /* none running */
	assert_int_equal(0, stun_keepalive_alloc(&ska, IPPROTO_TCP, NULL, 0,
						 NULL, NULL, NULL, NULL));
	stun_keepalive_enable(ska, 60);   /* first keepalive after 1 ms */
	to = tmr_next_timeout(NULL);
	assert_true(to >= 1 && to <= 2);
	mem_deref(ska);
	assert_int_equal(0, tmr_next_timeout(NULL));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fire_in_expiry_order),
		cmocka_unit_test(test_cancel_and_restart),
		cmocka_unit_test(test_handler_cancels_due_timer),
		cmocka_unit_test(test_restart_from_handler),
		cmocka_unit_test(test_no_delay_fires_at_next_poll),
		cmocka_unit_test(test_later_lap_waits),
		cmocka_unit_test(test_next_timeout),
		cmocka_unit_test(test_libre_timers_run_here),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

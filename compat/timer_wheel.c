/*
 * libre's timers, on a timing wheel.
 *
 * libre 1.1.0 keeps every running timer in one list sorted by expiry and
 * finds a new timer's place by walking that list from its tail: a timer
 * that expires before N others costs N steps.  A proxy holds tens of
 * thousands of long timers -- every UDP non-INVITE server transaction
 * waits 32 s in Timer J (RFC 3261 §17.2.2), every completed non-INVITE
 * client transaction 5 s in Timer K -- and starts short ones all the time
 * (Timer A and E, 500 ms, for each request it forwards).  At 1,000
 * calls/s locus spent 70% of its CPU in list_apply() under tmr_start()
 * (perf) and fell behind.
 *
 * These definitions in the executable take the place of libre's (libre
 * calls them through its PLT; the link exports them, CMakeLists.txt), so
 * libre's own timers -- transactions, connections, DNS -- and locus's run
 * here.  The wheel has one slot per millisecond; a timer is appended to
 * the slot of its expiry (modulo the wheel) and fires when polling reaches
 * that slot in its lap; timers of later laps wait in the same slot.  A
 * timer started with no delay fires at the very next poll, as with
 * libre's list, not at the next millisecond: locus's database batches
 * are sent by such a timer, and a millisecond lost per batch is latency
 * for every REGISTER in it.  Starting and cancelling are O(1); polling
 * visits the milliseconds that passed.  Timers due at the same
 * millisecond fire in the order they were started, as with libre's list.
 * One event loop thread, as locus has: no locks.  libre's own list
 * (tmrl_get()) stays empty.  compat_timer_check() proves at start-up that
 * libre's calls arrive here: were its loop to poll its own list, locus's
 * timers (the database flush among them) would never fire.
 *
 * Upstream: baresip/re still keeps one sorted list (v4.10, found by
 * list_apply() as in 1.1.0); there is no fix to take.  Drop this file
 * once libre's timers start in O(1): remove it, its symbols from
 * LOCUS_COMPAT_SYMBOLS in CMakeLists.txt, its check in daemon/main.c and
 * tests/unit/test_timer_wheel.c, and compare the proxy's highest clean
 * call rate (bench/run.sh, call_aor) before and after.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>
#include <re.h>
#include "compat/override.h"
#include "compat/timer_wheel.h"

enum {
	WHEEL_SLOTS  = 1u << 16,  /* 65.5 s: Timers J, K and B in one lap */
	/* How far tmr_next_timeout() looks for a running timer; beyond it
	 * the loop just wakes up after this long. */
	NEXT_SCAN_MS = 1000,
};

static struct {
	struct list slot[WHEEL_SLOTS];
	struct list now;          /* due already: fire at the next poll */
	uint64_t polled;          /* every slot up to this ms is polled */
	uint32_t count;           /* running timers                     */
	bool started;
	/* calls, for compat_timer_check() */
	uint64_t cancels, polls, next_asks;
} wheel;


static struct list *slot_of(uint64_t jfs)
{
	return &wheel.slot[jfs & (WHEEL_SLOTS - 1)];
}


static void wheel_start(void)
{
	if (!wheel.started) {
		wheel.polled = tmr_jiffies();
		wheel.started = true;
	}
}


void tmr_start(struct tmr *tmr, uint64_t delay, tmr_h *th, void *arg)
{
	if (!tmr)
		return;
	wheel_start();

	/* running means linked, here as in libre (tmr_isrunning()) */
	if (tmr->th) {
		list_unlink(&tmr->le);
		tmr->th = NULL;
		--wheel.count;
	}
	if (!th)
		return;

	tmr->th  = th;
	tmr->arg = arg;
	tmr->jfs = tmr_jiffies() + delay;

	/* what is due already fires at the next poll (its own slot is
	 * polled already) */
	list_append(tmr->jfs > wheel.polled ? slot_of(tmr->jfs) : &wheel.now,
		    &tmr->le, tmr);
	++wheel.count;
}


void tmr_cancel(struct tmr *tmr)
{
	++wheel.cancels;
	tmr_start(tmr, 0, NULL, NULL);
}


uint64_t tmr_get_expire(const struct tmr *tmr)
{
	uint64_t now;

	if (!tmr || !tmr->th)
		return 0;
	now = tmr_jiffies();
	return tmr->jfs > now ? tmr->jfs - now : 0;
}


/* Moves the timers of LIST that are due at NOW onto DUE, in order. */
static void due_collect(struct list *list, struct list *due, uint64_t now)
{
	struct le *le = list->head;

	while (le) {
		struct le *next = le->next;
		struct tmr *tmr = le->data;

		if (tmr->jfs <= now) {
			list_unlink(le);
			list_append(due, le, tmr);
		}
		le = next;
	}
}


/* Fires the timers on DUE one at a time.  A handler may cancel or start
 * any timer, those still on DUE included: each is taken off the list's
 * head only when it fires, and tmr_start() unlinks from whichever list a
 * timer is on. */
static void due_fire(struct list *due)
{
	struct le *le;

	while ((le = due->head)) {
		struct tmr *tmr = le->data;
		tmr_h *th = tmr->th;

		list_unlink(le);
		tmr->th = NULL;
		--wheel.count;
		th(tmr->arg);
	}
}


void tmr_poll(struct list *tmrl)
{
	const uint64_t now = tmr_jiffies();
	struct list due = LIST_INIT;

	(void)tmrl;
	wheel_start();
	++wheel.polls;

	/* those due already first (they are the earliest); the ones their
	 * handlers start with no delay wait for the next poll */
	due_collect(&wheel.now, &due, now);
	due_fire(&due);

	/* after a stall of more than a lap, every slot once is enough */
	if (now - wheel.polled > WHEEL_SLOTS)
		wheel.polled = now - WHEEL_SLOTS;

	while (wheel.polled < now) {
		++wheel.polled;
		due_collect(slot_of(wheel.polled), &due, now);
		due_fire(&due);
	}
}


/* Milliseconds until the loop should poll timers again, 0 for none
 * running.  A slot may hold only timers of a later lap: the loop then
 * wakes early, finds nothing due, and asks again. */
uint64_t tmr_next_timeout(struct list *tmrl)
{
	const uint64_t now = tmr_jiffies();

	(void)tmrl;
	++wheel.next_asks;
	if (!wheel.count)
		return 0;
	/* 1 is as soon as libre's loop can be asked for (0 is "never") */
	if (wheel.now.head || wheel.polled < now)
		return 1;

	for (uint64_t t = wheel.polled + 1; t <= now + NEXT_SCAN_MS; t++) {
		if (slot_of(t)->head)
			return t > now ? t - now : 1;
	}
	return NEXT_SCAN_MS;
}


int tmr_status(struct re_printf *pf, void *unused)
{
	(void)unused;
	return re_hprintf(pf, "Timers: %u running (timing wheel)\n",
			  wheel.count);
}


void tmr_debug(void)
{
	(void)re_fprintf(stderr, "%H", tmr_status, NULL);
}


/* ---- start-up check -------------------------------------------------------- */

static void loop_end(int flags, void *arg)
{
	(void)flags;
	(void)arg;
	re_cancel();
}


/* One round of libre's loop: it asks tmr_next_timeout(), waits, finds a
 * pipe readable at once (whose handler ends the loop) and calls
 * tmr_poll().  Bounded whichever tmr_*() libre calls. */
static int loop_once(void)
{
	int fds[2], err = 0;

	if (pipe(fds))
		return errno;
	if (write(fds[1], "", 1) != 1)
		err = errno;
	if (!err)
		err = fd_listen(fds[0], FD_READ, loop_end, NULL);
	if (!err)
		err = re_main(NULL);
	fd_close(fds[0]);
	(void)close(fds[0]);
	(void)close(fds[1]);
	return err;
}


static const char FILE_NAME[] = "compat/timer_wheel.c";

/* tmr_get_expire() is not checked: libre's own reads the same fields and
 * answers the same.  tmr_status() and tmr_debug() only print. */
int compat_timer_check(char *errbuf, size_t errsz)
{
	const uint32_t running = wheel.count;
	const uint64_t cancels = wheel.cancels;
	const uint64_t polls = wheel.polls, next_asks = wheel.next_asks;
	struct stun_keepalive *ska = NULL;
	bool started;
	int err;

	/* libre's own calls: stun_keepalive_enable() cancels and starts the
	 * keepalive's timer, its destructor cancels it.  No socket, no
	 * packet: the timer is gone before it could fire. */
	err = stun_keepalive_alloc(&ska, IPPROTO_TCP, NULL, 0, NULL, NULL,
				   NULL, NULL);
	if (err) {
		re_snprintf(errbuf, errsz, "timer check: %m", err);
		return err;
	}
	stun_keepalive_enable(ska, 60);
	started = wheel.count == running + 1;
	mem_deref(ska);
	if (!started)
		return compat_override_fail(errbuf, errsz, FILE_NAME,
			"tmr_start", (void *)tmr_start, "libre's timers "
			"(transactions, connections) and locus's would be "
			"kept on two lists, of which libre's loop polls "
			"one");
	if (wheel.cancels == cancels)
		return compat_override_fail(errbuf, errsz, FILE_NAME,
			"tmr_cancel", (void *)tmr_cancel, "libre's timers "
			"would be stopped by code that does not know the "
			"wheel");

	err = loop_once();
	if (err) {
		re_snprintf(errbuf, errsz, "timer check: libre's loop: %m",
			    err);
		return err;
	}
	if (wheel.next_asks == next_asks)
		return compat_override_fail(errbuf, errsz, FILE_NAME,
			"tmr_next_timeout", (void *)tmr_next_timeout,
			"libre's loop would sleep until the next packet "
			"however soon a timer is due");
	if (wheel.polls == polls)
		return compat_override_fail(errbuf, errsz, FILE_NAME,
			"tmr_poll", (void *)tmr_poll, "locus's timers (the "
			"database flush among them) would never fire");
	return 0;
}

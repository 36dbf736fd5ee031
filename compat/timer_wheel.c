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
 * (tmrl_get()) stays empty.
 */
#include <stdbool.h>
#include <stdint.h>
#include <re.h>

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

/* The rows of ua/ in PostgreSQL: the calls psql orders (locus.call, by
 * locus.originate()) and the parked calls (locus.park).  Nothing here is
 * read on the call path: a node learns of new calls, hang-ups and
 * unparks by NOTIFY (channel locus_ua), takes each new call with
 * FOR UPDATE SKIP LOCKED (one node per call), and writes what happened
 * as it happens, without waiting for it. */
#ifndef LOCUS_UA_STORE_H
#define LOCUS_UA_STORE_H

#include <stdbool.h>
#include <stdint.h>

struct store;

/* A call this node took (the columns of locus.call). */
struct call_row {
	uint64_t id;
	const char *caller;
	const char *callee;
	const char *caller_device;    /* NULL: every device of the caller */
	bool auto_answer;
	uint32_t caller_timeout;      /* seconds                          */
	uint32_t callee_timeout;
	bool refer;                   /* mode 'refer', else 'bridge'      */
};

struct store_handlers {
	void (*call)(const struct call_row *row, void *arg);
	void (*hangup)(uint64_t id, void *arg);
	void (*unpark)(const char *park_id, void *arg);
};

/* Connects (blocking: start-up only), ends the rows this NODE left
 * unfinished when it last ran, and takes the calls waiting. */
int  store_alloc(struct store **sp, const char *conninfo, const char *node,
		 const struct store_handlers *h, void *arg,
		 char *errbuf, size_t errsz);

/* locus.call: the call's state ("calling callee", ...) and, once it
 * ends, why (CAUSE may be NULL). */
void store_call_state(struct store *s, uint64_t id, const char *state,
		      const char *cause);

/* locus.park: a call parked in SLOT under ID (made by the node); PARKER
 * may be NULL. */
void store_park_new(struct store *s, const char *id, const char *slot,
		    const char *parked, const char *parker);
/* ... its state ("parked", "calling parker", "retrieved", "returned",
 * "ended") and why; ENDED: the park is over. */
void store_park_state(struct store *s, const char *id, const char *state,
		      const char *cause, bool ended);

#endif

/*
 * Who may still try to authenticate: failed authentications are counted
 * so that guessing a password stays slow, without letting a guesser lock
 * the user out.  Three counts, each in fixed windows (auth/limiter.c):
 *
 *   (AOR, address)  past LIMIT failures that address is refused for that
 *                   AOR: the hard limit on one guesser.  The AOR's own
 *                   devices, at other addresses, are not affected.
 *   address         past LIMIT failures, for any AORs, that address is
 *                   refused for every AOR it has not authenticated as
 *                   lately: one address trying passwords on many users.
 *   AOR             past LIMIT * LOCKOUT_AOR_FACTOR failures, from any
 *                   addresses, the AOR is refused to every address that
 *                   has not authenticated as it lately: many addresses
 *                   guessing one password together.
 *
 * "Lately" is within LOCKOUT_TRUST_TIME of a successful authentication as
 * that AOR from that address.  That exemption is what keeps the two wide
 * counts from being a denial of service: tripping them shuts out only
 * addresses that have not shown the password lately, never the devices of
 * the user that have.  AORs are keyed as the subscriber look-up keys
 * them (user@domain, the domain as configured); addresses without port.
 */
#ifndef LOCUS_LOCKOUT_H
#define LOCUS_LOCKOUT_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

enum {
	/* the AOR's count allows this many addresses' worth of failures */
	LOCKOUT_AOR_FACTOR = 10,
	/* seconds a success exempts its address: longer than any device
	 * waits between two registrations or calls */
	LOCKOUT_TRUST_TIME = 86400,
};

enum lockout_rule {
	LOCKOUT_NONE,
	LOCKOUT_PAIR,            /* this address, for this AOR            */
	LOCKOUT_SOURCE,          /* this address, for AORs not shown lately */
	LOCKOUT_AOR,             /* this AOR, for addresses not shown lately */
};

struct lockout;

/* LIMIT failures per WINDOW seconds; MAX_KEYS bounds each table. */
int lockout_alloc(struct lockout **lop, uint32_t limit, uint32_t window,
		  uint32_t max_keys);

/* New LIMIT and WINDOW (a reload), for all three counts. */
void lockout_set_limits(struct lockout *lo, uint32_t limit, uint32_t window);

/* The rule that refuses SRC for AOR at NOW (seconds), if any.  *FIRST is
 * set when this is that rule's first refusal in its window (log it once).
 */
enum lockout_rule lockout_check(struct lockout *lo, const char *aor,
				const struct sa *src, uint64_t now,
				bool *first);

/* An authentication as AOR from SRC at NOW is being checked: it counts
 * as a failure at once, so that requests sent together cannot each find
 * the counts as they were before any of them was answered. */
void lockout_attempt(struct lockout *lo, const char *aor,
		     const struct sa *src, uint64_t now);

/* The attempt succeeded: its failure is taken back, and SRC is exempt
 * from the wide counts for AOR from now on. */
void lockout_success(struct lockout *lo, const char *aor,
		     const struct sa *src, uint64_t now);

/* The attempt could not be checked (no database): taken back. */
void lockout_forgive(struct lockout *lo, const char *aor,
		     const struct sa *src, uint64_t now);

#endif

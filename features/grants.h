/* Who may make intercom calls to whom: the grants of locus.intercom
 * (sql/schema.sql), in memory, followed live through LISTEN
 * locus_intercom, so that the call path never waits for the database. */
#ifndef LOCUS_GRANTS_H
#define LOCUS_GRANTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct grants;

/* Connects, LISTENs and loads every grant (blocking: start-up only, so
 * that no change made meanwhile is missed and no call is refused for
 * want of a load).  ERRBUF says what failed. */
int  grants_alloc(struct grants **gp, const char *conninfo, char *errbuf,
		  size_t errsz);

/* Whether CALLER (an AOR key, "alice@example.com") may make intercom
 * calls to CALLEE (an AOR key): a grant names the callee, or covers the
 * callee's whole domain. */
bool grants_allow(const struct grants *g, const char *caller,
		  const char *callee);

uint32_t grants_count(const struct grants *g);

#endif

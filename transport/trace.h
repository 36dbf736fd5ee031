/* Tracing one user: while locus.trace('alice@example.com', ...) lasts
 * (sql/schema.sql), every node logs every SIP message to or from alice's
 * AOR, her GRUUs and her devices' addresses, whole, and says when the
 * trace starts and ends; with trace.hep set, each such message also goes
 * to that collector as HEP v3 (transport/hep.h).  The table locus.trace is
 * followed live (db/watch.h). */
#ifndef LOCUS_TRACE_H
#define LOCUS_TRACE_H

#include <stdbool.h>
#include <re.h>

struct gruu_key;
struct locus_config;
struct location;
struct trace;

/* Follows locus.trace over a connection of its own to CONNINFO; the
 * devices' addresses come from LOC, temp-GRUUs are read with KEY, HEP
 * goes where CFG says at the time. */
int  trace_alloc(struct trace **tp, const struct locus_config *cfg,
		 const char *conninfo, const struct location *loc,
		 const struct gruu_key *key);

/* One SIP message as libre sent (TX) or received it.  Logged whole (at
 * info) and sent as HEP when it concerns a traced AOR: then true.  Costs
 * a test of an empty list when nothing is traced. */
bool trace_message(struct trace *t, bool tx, enum sip_transp tp,
		   const struct sa *src, const struct sa *dst,
		   const uint8_t *pkt, size_t len);

#endif

/* One stateful proxy transaction (RFC 3261 §16.6-§16.10, RFC 6026): the
 * server transaction towards the caller and a client branch per target. */
#ifndef LOCUS_TXN_H
#define LOCUS_TXN_H

#include <stdbool.h>
#include <re.h>

struct dialogs;
struct proxy;
struct reachlog;
struct route_info;
struct stamp;
struct target_set;

/* Everything the transaction needs to know about its proxy. */
struct txn_env {
	struct sip *sip;
	const struct locus_config *cfg;
	const struct stamp *stamp;
	struct dialogs *dialogs;
	struct reachlog *unreachable;  /* devices whose failure was logged
					  (NULL: log every one)           */
	uint32_t trying_ms;            /* our 100 (Trying) to an INVITE
					  waits this long for another
					  response to go up first (RFC 3261
					  §17.2.1: at most 200); 0: at once */
};

/*
 * Forwards MSG to the targets in TS (which it takes over) and relays the
 * responses.  LOOP_HASH goes into our Via for loop detection.  On error
 * nothing was sent and the caller answers.
 */
int txn_start(const struct txn_env *env, const struct sip_msg *msg,
	      const struct route_info *ri, struct target_set *ts,
	      const char *loop_hash);

#endif

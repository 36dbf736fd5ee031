/* proxy/: the RFC 3261 §16 stateful proxy: route pre-processing
 * (route.h), the 407 gate (gate.h), target selection (target.h: where a
 * registered device is reached), transactions (txn.h, with RFC 5626 §7
 * flow failover and reachlog.h), message surgery (fwd.h), the dialogs it
 * record-routes with their stamps (dialog.h, stamp.h), and, as an edge
 * proxy, REGISTERs forwarded with a flow token (stamp.h).
 *
 * The proxy: every request that is not a REGISTER (RFC 3261 §16). */
#ifndef LOCUS_PROXY_H
#define LOCUS_PROXY_H

#include <re.h>

struct gruu_key;
struct location;
struct locus_config;
struct node_key;
struct proxy;

struct auth;

struct flows;

struct proxy_deps {
	struct sip *sip;
	const struct locus_config *cfg;
	const struct location *loc;
	const struct node_key *node_key;   /* the stamps' keys are its */
	const struct gruu_key *gruu_key;
	struct auth *auth;           /* NULL: no authentication (auth off) */
	struct flows *flows;         /* NULL: every binding is reachable    */
};

/* Also listens for responses no transaction claims (2xx relayed
 * statelessly, RFC 6026). */
int  proxy_alloc(struct proxy **pxp, const struct proxy_deps *deps);
/* Handles a request that already passed sipmsg_request_problem(). */
void proxy_handle(struct proxy *px, const struct sip_msg *msg);

#endif

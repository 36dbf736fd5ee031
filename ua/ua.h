/* ua/: dialogs locus originates or terminates itself, beside the proxy:
 * click-to-call (RFC 3725 third-party call control, ordered from psql:
 * locus.originate()) and call parking.  Built on libre's dialog code
 * (ua/leg.h); the legs locus sends go through locus's own proxy, routed
 * like any call, and pass its gate by an origin stamp (proxy/stamp.h).
 * It sits just above proxy/, whose stamps and gate it uses; proxy/ knows
 * nothing of it.  locus never touches media: SDP moves between the legs,
 * and the only SDP locus writes is an answer in which nothing flows.
 *
 * This header: the user agent as the dispatcher sees it (an owner of
 * requests ahead of the proxy, daemon/owners.c). */
#ifndef LOCUS_UA_H
#define LOCUS_UA_H

#include <stdbool.h>
#include <re.h>

struct auth;
struct gruu_key;
struct locus_config;
struct node_key;
struct ua;

struct ua_deps {
	struct sip *sip;
	const struct locus_config *cfg;
	const struct node_key *node_key;   /* origin stamps               */
	const struct gruu_key *gruu_key;   /* the gate for park slots     */
	struct auth *auth;                 /* NULL: authentication off    */
};

/* Connects to the database (blocking: start-up only) and listens there
 * for calls to place; listens for responses no transaction claims (the
 * 2xx retransmissions of our legs).  Must come before proxy_alloc():
 * those responses are ours before the proxy drops them as strays. */
int  ua_alloc(struct ua **uap, const struct ua_deps *deps,
	      char *errbuf, size_t errsz);
/* MSG belongs to us: a request within one of our dialogs, or to our
 * Contact, or an INVITE to a park slot. */
bool ua_claim(const struct sip_msg *msg, void *arg);
void ua_handle(const struct sip_msg *msg, void *arg);
/* Ends every call and parked call (shut-down). */
void ua_close(struct ua *ua);

#endif

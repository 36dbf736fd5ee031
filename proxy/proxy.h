/* proxy/: the RFC 3261 §16 stateful proxy: route pre-processing
 * (route.h), the 407 gate (gate.h), target selection (target.h: where a
 * registered device is reached), transactions (txn.h, with RFC 5626 §7
 * flow failover and reachlog.h), message surgery (fwd.h), what goes in
 * front of a forwarded request, and the requests of a dialog forwarded
 * statelessly (send.h, RFC 3261 §16.11), the dialogs it record-routes
 * with their stamps (dialog.h, stamp.h), the auto-answer
 * signalling it removes (autoanswer.h), the seam through which the
 * services above it (features/) shape a call (below, and hook.h), and, as
 * an edge proxy, REGISTERs forwarded with a flow token (stamp.h).
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
 * statelessly, RFC 6026, and the responses to requests it forwarded
 * statelessly). */
int  proxy_alloc(struct proxy **pxp, const struct proxy_deps *deps);
/* Handles a request that already passed sipmsg_request_problem(). */
void proxy_handle(struct proxy *px, const struct sip_msg *msg);


/* ---- the seam for the services above the proxy ----------------------
 *
 * proxy/ includes nothing above it.  A service that decides what becomes
 * of a call (features/intercom.c, feature codes) is handed to the proxy
 * by the daemon as a callback, as owners are handed to the dispatcher:
 * the proxy calls it for every initial INVITE addressed to one of our
 * domains, once the 407 gate has let the INVITE pass and before a target
 * is chosen.  Its answer, a struct proxy_plan, may
 *  - refuse the call: the caller gets SCODE REASON, nothing is forwarded;
 *  - replace the Request-URI the targets are looked up by (a feature code
 *    removed): the call then follows every rule of any other call;
 *  - add to each target what only that target gets: TARGETH runs once
 *    per target with the target's Request-URI, its header lines and the
 *    User-Agent of its binding.
 * Only through TARGETH does auto-answer signalling reach a device from
 * locus: what callers write themselves is removed (proxy/autoanswer.h).
 */

/* An initial INVITE to one of our domains, as the service sees it. */
struct proxy_invite {
	const struct sip_msg *msg;
	const struct pl *ruri;       /* the effective Request-URI (RFC 3261
					§16.4), as text ...                  */
	const struct uri *uri;       /* ... and parsed                       */
	const struct uri *caller;    /* who calls: the authenticated user's
					From URI, or with auth off the From
					URI; NULL when nobody vouches for it */
};

/* Per target: *RURI (a mem string) may be replaced, *HEADERS (NULL or a
 * mem string of whole header lines) set.  USER_AGENT is the target's
 * binding's, or NULL.  Non-zero (out of memory): the call fails. */
typedef int (proxy_target_h)(char **ruri, char **headers,
			     const char *user_agent, void *arg);

struct proxy_plan {
	uint16_t scode;              /* non-zero: answer this, forward none */
	const char *reason;          /* static text                         */
	char *ruri;                  /* mem string, or NULL: as received    */
	proxy_target_h *targeth;     /* or NULL                             */
	void *arg;                   /* mem object for TARGETH; released
					when the targets are made           */
};

/* Fills PLAN (zeroed by the proxy) for INV. */
typedef void (proxy_invite_h)(struct proxy_plan *plan,
			      const struct proxy_invite *inv, void *arg);

/* Sets the service of the seam; ARG (a mem object) is held. */
void proxy_invite_hook(struct proxy *px, proxy_invite_h *h, void *arg);

#endif

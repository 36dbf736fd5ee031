/* The proxy's door: initial requests from our own domains must prove who
 * sent them (RFC 3261 §22.3, 407 Proxy Authentication Required). */
#ifndef LOCUS_GATE_H
#define LOCUS_GATE_H

#include <stdbool.h>
#include <re.h>

struct auth;
struct gate;
struct gruu_key;
struct locus_config;

/* Called for a request that was held and has passed. */
typedef void (gate_pass_h)(const struct sip_msg *msg, void *arg);

int  gate_alloc(struct gate **gatep, struct sip *sip,
		const struct locus_config *cfg, struct auth *auth,
		const struct gruu_key *gruu_key, gate_pass_h *passh,
		void *arg);

/* False: MSG may go on now.  True: it was answered (407, 403, 400, 503),
 * or is held until its credentials are checked (then PASSH).  VOUCHED:
 * a stamp of ours vouches that MSG belongs to a dialog we record-routed,
 * or that locus's own user agent sent it; any other request, To tag or
 * not, is an initial request here. */
bool gate_hold(struct gate *gate, const struct sip_msg *msg, bool vouched);

#endif

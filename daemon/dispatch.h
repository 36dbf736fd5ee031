/* Which module owns a request.  Owners are asked in the order they were
 * added; the first that claims a request handles it.  A module that
 * holds dialogs of its own (a user agent inside locus) is added ahead of
 * the proxy and claims the requests of its dialogs: nothing here knows
 * the modules. */
#ifndef LOCUS_DISPATCH_H
#define LOCUS_DISPATCH_H

#include <stdbool.h>
#include <re.h>

struct dispatch;

/* True: MSG is the owner's.  NULL claims every request. */
typedef bool (dispatch_claim_h)(const struct sip_msg *msg, void *arg);
typedef void (dispatch_handle_h)(const struct sip_msg *msg, void *arg);

/* SIP answers what nobody claims. */
int  dispatch_alloc(struct dispatch **dp, struct sip *sip);
/* ARG (a mem object) is held until the dispatcher goes. */
int  dispatch_add(struct dispatch *d, dispatch_claim_h *claimh,
		  dispatch_handle_h *handleh, void *arg);
/* Hands MSG, a request that passed the checks of transport/, to its
 * owner; a request nobody claims gets 501 (RFC 3261 §8.2.1: locus
 * itself implements no such method). */
void dispatch_request(const struct sip_msg *msg, void *arg);

#endif

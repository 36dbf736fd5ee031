/* features/: feature codes and the services built on the proxy.  A layer
 * just above proxy/ (it includes proxy/, location/, config/ and the
 * layers below; proxy/ never includes it): the daemon hands its services
 * to the proxy through the seam of proxy/proxy.h.  Intercom (this
 * header, and the grants of features/grants.h) is the first.
 *
 * Intercom: "dial *6 and the extension" makes the callee's phone answer
 * by itself, on its speaker.  The feature code (features.intercom) is
 * removed and the call is routed as any other, but only for callers that
 * PostgreSQL allows (locus.allow_intercom); the others get 403 Intercom
 * Not Allowed and nothing reaches the callee.  Each target gets the
 * auto-answer signalling its phone understands (intercom.style, by the
 * User-Agent its binding registered with). */
#ifndef LOCUS_INTERCOM_H
#define LOCUS_INTERCOM_H

#include <stddef.h>
#include "config/config.h"
#include "proxy/proxy.h"

struct gruu_key;
struct intercom;

/* With features.intercom set, loads the grants from CONNINFO and follows
 * them (blocking: start-up only); without, grants nothing.  ERRBUF says
 * what failed. */
int  intercom_alloc(struct intercom **icp, const struct locus_config *cfg,
		    const struct gruu_key *gruu_key, const char *conninfo,
		    char *errbuf, size_t errsz);

/* The service of the proxy's seam (ARG: the struct intercom). */
void intercom_invite(struct proxy_plan *plan, const struct proxy_invite *inv,
		     void *arg);

/* The dialect intercom.style gives a device of USER_AGENT (NULL: none
 * sent): the first row whose pattern matches, else INTERCOM_DEFAULT. */
enum intercom_dialect intercom_dialect_of(const struct locus_config *cfg,
					  const char *user_agent);

/* What target of dialect D gets: its Request-URI *RURI (mem string) may
 * change, *HEADERS is set to the header lines to add.  DOMAIN names the
 * callee's domain (Call-Info's URI). */
int  intercom_signal(char **ruri, char **headers, enum intercom_dialect d,
		     const char *domain);

#endif

/* The one place that knows which module owns which request. */
#ifndef LOCUS_OWNERS_H
#define LOCUS_OWNERS_H

struct dispatch;
struct proxy;
struct registrar;
struct ua;

/* REGISTERs are the registrar's, unless locus is an edge proxy; the
 * requests of dialogs locus holds itself, and INVITEs to park slots, are
 * the user agent's; every other request is the proxy's (added last: it
 * claims all). */
/* UA may be NULL: no user agent (the fuzz harness, which has no
 * database for one). */
int owners_add(struct dispatch *d, struct registrar *reg, struct ua *ua,
	       struct proxy *px);

#endif

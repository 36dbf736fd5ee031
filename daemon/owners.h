/* The one place that knows which module owns which request. */
#ifndef LOCUS_OWNERS_H
#define LOCUS_OWNERS_H

struct dispatch;
struct proxy;
struct registrar;

/* REGISTERs are the registrar's, unless locus is an edge proxy; every
 * other request is the proxy's (added last: it claims all). */
int owners_add(struct dispatch *d, struct registrar *reg, struct proxy *px);

#endif

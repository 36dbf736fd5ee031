/* What the parts of ua/ share: the user agent itself.  Internal to ua/. */
#ifndef LOCUS_UA_CORE_H
#define LOCUS_UA_CORE_H

#include <re.h>

struct calls;
struct gate;
struct locus_config;
struct park;
struct stamp;
struct store;

enum {
	UA_URI_SIZE = 160,
	UA_NODE_SIZE = 128,
};

struct ua {
	struct sip *sip;
	const struct locus_config *cfg;
	struct stamp *stamp;          /* origin stamps of our requests       */
	struct gate *gate;            /* park slots are called like anyone  */
	struct hash *legs;            /* struct leg by Call-ID               */
	struct sip_lsnr *resp_lsnr;
	char proxy[UA_URI_SIZE];      /* locus's own proxy, as a URI         */
	char contact[UA_URI_SIZE];    /* our Contact                         */
	char node[UA_NODE_SIZE];      /* which node this is, for the rows    */
	struct calls *calls;          /* click-to-call (ua/call.h)           */
	struct park *park;            /* parking (ua/park.h), NULL when off  */
	struct store *store;          /* the rows (ua/store.h)               */
};

/* The Route value, without <>, that takes an initial request of ours
 * through locus's own proxy with its origin stamp (RFC 3261 §8.1.2). */
int ua_route(char *out, size_t sz, const struct ua *ua, const char *method,
	     const char *ruri, const char *from, const char *to);

/* Sends a MESSAGE (RFC 3428) of type CTYPE with TEXT from FROM to TO,
 * through locus's own proxy; nobody waits for its answer. */
int ua_message(struct ua *ua, const char *from, const char *to,
	       const char *ctype, const char *text);

/* The user part of our Contact: a request to it that finds no dialog of
 * ours gets 481. */
#define UA_CONTACT_USER "locus"

#endif

/* Target selection (RFC 3261 §16.5, RFC 5627 §5.3/§6): where a request
 * goes, from the memory index only - no database on the call path. */
#ifndef LOCUS_TARGET_H
#define LOCUS_TARGET_H

#include <stdbool.h>
#include <re.h>

struct flows;
struct gruu_key;
struct location;
struct locus_config;
struct route_info;
struct stamp;

enum target_kind {
	TARGET_ROUTE,     /* a Route remains: forward to it               */
	TARGET_URI,       /* forward by Request-URI (dialog or relay)     */
	TARGET_AOR,       /* fork to the AOR's bindings, q groups in turn  */
	TARGET_GRUU,      /* one device; next flow only when one fails    */
	TARGET_LOCAL,     /* addressed to locus itself                    */
	TARGET_FLOW,      /* down a flow an edge proxy's token names      */
};

struct target {
	struct le le;
	char *ruri;       /* Request-URI to send                          */
	char *hop;        /* URI of the next hop (host, port, transport)  */
	char *routes;     /* Route values to push (a binding's Path)      */
	int q;            /* q * 1000; 1000 when the binding has none      */
	char *user_agent; /* the binding's User-Agent, or NULL             */
	char *headers;    /* header lines for this target alone, or NULL
			     (the seam in proxy.h writes them)            */
	char *binding;    /* a registered device's binding: "AOR KEY MS"
			     (its refresh time), NULL for other targets   */
	char *instance;   /* its +sip.instance, or NULL                   */
	struct list alts; /* the instance's other flows, to try in turn
			     when this one fails (RFC 5626 §7)            */
	char *path_token; /* a REGISTER an edge proxy forwards: the flow
			     token of the Path it adds (RFC 5626 §5.1)    */
	bool path_ob;     /* ... with ";ob": it is the first hop          */
};

struct target_set {
	enum target_kind kind;
	struct list targets;   /* struct target, in the order to try      */
	uint16_t scode;        /* when there is no target: the response   */
	const char *reason;
};

struct target_deps {
	const struct locus_config *cfg;
	const struct location *loc;
	const struct gruu_key *gruu_key;
	const struct flows *flows;     /* NULL: every binding is reachable */
	const struct stamp *stamp;     /* flow tokens (edge proxy)         */
};

/* An empty target (q 1000), freed with its strings and alternates. */
int  target_alloc(struct target **tp);

/* Fills TS for MSG after route pre-processing RI.  TS->scode is non-zero
 * when the request must be answered instead (404, 403, 480, ...). */
int  target_resolve(struct target_set *ts, const struct target_deps *deps,
		    const struct sip_msg *msg, const struct route_info *ri);
void target_set_flush(struct target_set *ts);

/* Highest q among TARGETS; -1 when empty. */
int  target_top_q(const struct list *targets);

#endif

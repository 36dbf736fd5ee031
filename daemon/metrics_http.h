/* The Prometheus endpoint: GET /metrics on metrics.listen, in the text
 * exposition format (version 0.0.4), from the counters of
 * common/metrics.h and the location index's own figures.  Served by
 * libre's HTTP server inside the loop. */
#ifndef LOCUS_METRICS_HTTP_H
#define LOCUS_METRICS_HTTP_H

#include <re.h>

struct locus_config;
struct location;
struct metrics_http;

/* Listens where CFG's metrics.listen says (nothing when it is unset);
 * errbuf names the address that could not be bound. */
int  metrics_http_alloc(struct metrics_http **mp,
			const struct locus_config *cfg,
			const struct location *loc, char *errbuf,
			size_t errsz);

/* After a reload: listens anew if metrics.listen changed (the old socket
 * and its connections close), stops if it is gone.  A failure to bind
 * the new address is logged and leaves no endpoint. */
void metrics_http_apply(struct metrics_http *m);

/* The exposition, as served (for tests). */
int  metrics_http_print(struct re_printf *pf, const struct metrics_http *m);

#endif

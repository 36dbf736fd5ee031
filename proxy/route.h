/* Route processing (RFC 3261 §16.4) and knowing our own URIs. */
#ifndef LOCUS_ROUTE_H
#define LOCUS_ROUTE_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

struct locus_config;
struct stamp;

struct route_info {
	struct pl ruri;          /* effective Request-URI                   */
	struct uri uri;          /* ... parsed                              */
	uint32_t drop_routes;    /* leading Route values naming us          */
	bool drop_last_route;    /* strict router: last Route is the R-URI  */
	bool routed_by_us;       /* a Route we removed carries our dialog
				    stamp: a dialog we record-routed      */
	struct pl next_route;    /* first Route value that remains, if any  */
	struct uri next_uri;     /* ... parsed                              */
};

/* A URI that names this locus: one of our listen addresses (port as
 * configured; absent means the transport's default), or one of our
 * domains without a port or with a port we listen on. */
bool route_uri_is_us(const struct locus_config *cfg, const struct uri *uri);

/* Only our sockets, not our domains: what we put in Record-Route. */
bool route_uri_is_our_socket(const struct locus_config *cfg,
			     const struct uri *uri);

/*
 * §16.4: a Request-URI we record-routed means the previous hop is a strict
 * router, so the real Request-URI is the last Route value; then every
 * leading Route value that names us is removed (two with RFC 5658
 * double record-routing).  Returns EBADMSG for a malformed Route value.
 */
int route_preprocess(struct route_info *ri, const struct sip_msg *msg,
		     const struct locus_config *cfg,
		     const struct stamp *stamp);

#endif

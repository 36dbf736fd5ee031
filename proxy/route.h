/* Route processing (RFC 3261 §16.4) and knowing our own URIs. */
#ifndef LOCUS_ROUTE_H
#define LOCUS_ROUTE_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

struct locus_config;

/* "host:port", the host lowercased: see route_hop_print(). */
enum { ROUTE_HOP_SIZE = 272 };

struct route_info {
	struct pl ruri;          /* effective Request-URI                   */
	struct uri uri;          /* ... parsed                              */
	uint32_t drop_routes;    /* leading Route values naming us          */
	bool drop_last_route;    /* strict router: last Route is the R-URI  */
	struct pl stamp;         /* the dialog stamp ("ls") of a Route value
				    we removed, if one had it             */
	struct pl flow;          /* the user part of the topmost Route
				    value, when it named us: an edge
				    proxy's flow token (RFC 5626 §5.3)    */
	struct pl origin;        /* the origin stamp ("lo") of a Route value
				    we removed: a request of locus's own
				    user agent (proxy/stamp.h)            */
	bool from_locus;         /* ... and it checks: locus sent it (set by
				    proxy.c)                              */
	bool in_dialog;          /* the stamp vouches for the request: a
				    dialog of ours, to its other party
				    (proxy/dialog.c sets it)              */
	struct pl next_route;    /* first Route value that remains, if any  */
	struct uri next_uri;     /* ... parsed                              */
	char hop[ROUTE_HOP_SIZE]; /* where it goes next: next_uri or uri   */
};

/* A URI that names this locus: one of our listen addresses (port as
 * configured; absent means the transport's default), or one of our
 * domains without a port or with a port we listen on. */
bool route_uri_is_us(const struct locus_config *cfg, const struct uri *uri);

/* Only our sockets, not our domains: what we put in Record-Route. */
bool route_uri_is_our_socket(const struct locus_config *cfg,
			     const struct uri *uri);

/*
 * The next hop named by URI as dialog stamps bind it: "host:port", the
 * host lowercased and without a trailing dot (RFC 3261 §19.1.4 compares
 * hosts case-insensitively; in DNS "example.com." is "example.com"), an
 * IPv6 host in brackets, the port as given or the scheme's default.
 * Empty when the host is too long to be one.
 */
void route_hop_print(char out[ROUTE_HOP_SIZE], const struct uri *uri);

/* The next hop of requests that the recipient of REQ will send back to
 * its sender within the dialog REQ makes (RFC 3261 §12.1.1, §16.12): the
 * first Record-Route value after those naming us, or else REQ's Contact.
 * *BY_CONTACT tells which.  Empty when REQ has neither. */
void route_upstream_hop(char out[ROUTE_HOP_SIZE], bool *by_contact,
			const struct sip_msg *req,
			const struct locus_config *cfg);

/*
 * §16.4: a Request-URI we record-routed means the previous hop is a strict
 * router, so the real Request-URI is the last Route value; then every
 * leading Route value that names us is removed (two with RFC 5658
 * double record-routing), and the stamps they carried are kept.
 * Returns EBADMSG for a malformed Route value.
 */
int route_preprocess(struct route_info *ri, const struct sip_msg *msg,
		     const struct locus_config *cfg);

#endif

/* Message surgery for forwarding (RFC 3261 §16.6, §16.7): the copy of a
 * request that goes downstream, and the copy of a response that goes
 * upstream.  Pure functions over libre's parsed messages. */
#ifndef LOCUS_FWD_H
#define LOCUS_FWD_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

struct fwd_request_opts {
	uint32_t drop_routes;    /* leading Route values that name us     */
	bool drop_last_route;    /* strict-router fix: last Route became R-URI */
	bool strip_autoanswer;   /* remove the caller's auto-answer headers
				    (proxy/autoanswer.h)                  */
};

/*
 * Writes the headers and body of REQ as they are forwarded: every header
 * in order except the Route values dropped, Max-Forwards decremented (70
 * when absent), the top Via given received/rport (RFC 3261 §18.2.1, RFC
 * 3581), Content-Length added when absent, the body only as long as
 * its Content-Length (RFC 3261 §18.3), and with STRIP_AUTOANSWER no
 * auto-answer signalling.  The request line and our own Via are libre's
 * to write, in front of this.
 */
int fwd_request_body(struct mbuf *mb, const struct sip_msg *req,
		     const struct fwd_request_opts *opts);

/* Bytes of a received message (SPAN points into its buffer) to write as
 * TEXT instead. */
struct fwd_edit {
	struct pl span;
	const char *text;
};

/*
 * The response RESP as it goes upstream: byte for byte, without its top
 * Via value (ours), with the EDITC EDITS applied (spans in its header
 * block, not overlapping, in any order; RFC 3261 §16.7 step 4 lets a
 * proxy rewrite its own Record-Route).  EXTRA (may be NULL) is inserted
 * as-is before the blank line, e.g. challenges merged from other
 * branches.  EBADMSG when no Via would be left: such a response is not
 * forwarded.
 */
int fwd_response(struct mbuf **mbp, const struct sip_msg *resp,
		 const char *extra, const struct fwd_edit *edits,
		 size_t editc);

/* Where a response goes after our Via is removed: the second Via value's
 * received/rport or sent-by.  ENOENT when there is no second Via, EBADMSG
 * when it is not a unicast address (a broadcast one, RFC 4475 §3.1.4.10). */
int fwd_next_via_addr(struct sa *dst, enum sip_transp *tp,
		      const struct sip_msg *resp);

#endif

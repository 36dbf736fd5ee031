/* What the proxy writes in front of a request it forwards (RFC 3261
 * §16.6): after the Via libre writes for a branch of a transaction, or
 * the whole request when it is forwarded statelessly (§16.11). */
#ifndef LOCUS_SEND_H
#define LOCUS_SEND_H

#include <stdbool.h>
#include <re.h>

struct fwd_request_opts;
struct stamp;
struct target;

/* One request going to one target. */
struct send_req {
	const struct sip_msg *msg;   /* the request as received         */
	const struct target *tgt;    /* where it goes                   */
	const struct stamp *stamp;   /* "lt" on our Via (NULL: none)    */
	const char *loop_hash;       /* "lh" on our Via (NULL: none)    */
	const char *rr_stamp;        /* our Record-Route's (NULL: none) */
};

/*
 * sip_request()'s send handler: completes the Via libre just wrote at the
 * end of MB with "lh" (RFC 3261 §16.6 step 8: libre's branches are
 * random, so the loop hash rides in a parameter of its own) and "lt" (our
 * stamp over the branch, which lets a stray 2xx through), then writes our
 * Record-Route, the target's Route, its own header lines and Path.  TP
 * and SRC: the transport and local address libre chose.
 */
int send_branch_headers(struct mbuf *mb, const struct send_req *r,
			enum sip_transp tp, const struct sa *src);

/*
 * RFC 3261 §16.11: sends R's request to its target statelessly, in one
 * buffer of its final size: the request line, our Via (its branch a hash
 * of the received branch and sent-by, the same for every retransmission,
 * and "lh", "lt" as above), the target's Route, then the request as
 * fwd_request_body() writes it with OPTS.  Only for a target that is a
 * numeric address reached over UDP (a stateless request has no way to
 * report a name that does not resolve or a connection that fails):
 * EAGAIN for any other, and nothing was sent.
 */
int send_stateless(struct sip *sip, const struct send_req *r,
		   const struct fwd_request_opts *opts);

/* Is BRANCH one of send_stateless()'s? */
bool send_branch_stateless(const struct pl *branch);

#endif

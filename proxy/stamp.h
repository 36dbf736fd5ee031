/* Tags only a locus node can make: HMAC-SHA256 under keys derived from
 * the node key, so every node verifies what another made.
 *
 *  - on our Via ("lt", over the branch, 64 bits): a response that no
 *    transaction claims is relayed only if its top Via carries our tag
 *    (RFC 6026 §3: otherwise a proxy reflects forged 2xx to anyone);
 *  - on our Record-Route ("ls", 128 bits): a request routed by it belongs
 *    to a dialog we record-routed and goes to that dialog's other party
 *    (proxy/dialog.c says what each stamp binds, and why a stamp);
 *  - as an edge proxy, the flow token in the user part of our Path (RFC
 *    5626 §5.2, 128 bits): the flow a request that comes back with it
 *    goes down, which no one else can name;
 *  - on the Route value naming us of an initial request that locus's own
 *    user agent sends (ua/) through its own proxy ("lo", an expiry and
 *    128 bits): such a request is locus's, and needs no credentials at
 *    the proxy's gate.  Only a request that carries it is: one that only
 *    says it comes from locus (a From, a Via) is anybody's. */
#ifndef LOCUS_STAMP_H
#define LOCUS_STAMP_H

#include <stdbool.h>
#include <re.h>

#define STAMP_VIA_LEN 16        /* hex digits of a Via stamp            */
#define STAMP_DIALOG_LEN 33     /* a direction letter and 32 hex digits */
#define STAMP_ORIGIN_LEN 40     /* 8 hex digits of expiry, 32 of MAC    */

/* How long an origin stamp is good for, in seconds: the life of the
 * transaction it rides on (RFC 3261 §17.1.1.2, Timer B = 64*T1). */
#define STAMP_ORIGIN_LIFETIME 32

struct node_key;
struct stamp;

/* Which way the requests that a dialog stamp lets through go. */
enum stamp_dir {
	STAMP_TO_CALLER = 'u',  /* upstream: sent by the callee            */
	STAMP_TO_CALLEE = 'd',  /* downstream: sent by the caller          */
};

/* What a dialog stamp binds.  The caller is the UA that sent the request
 * that made the dialog (its From tag); HOP is the next hop of requests
 * in the stamp's direction, as route_hop_print() writes it.  CALLER and
 * CALLEE are the parties' URIs, the From and To of that request, as
 * stamp_party() writes them: every request of the dialog carries them
 * again (RFC 3261 §12.2.1.1), so a party cannot speak as someone else
 * under its stamp. */
struct stamp_dialog_fields {
	struct pl callid;
	struct pl caller_tag;
	struct pl callee_tag;   /* not bound by STAMP_TO_CALLER stamps     */
	struct pl hop;
	struct pl caller;
	struct pl callee;
};

#define STAMP_PARTY_SIZE 512

/* A party's URI as a dialog stamp binds it: its AOR (sipuri_aor_key(),
 * so that case and escapes do not matter), or the URI as written when it
 * has no user part.  Empty when it does not fit. */
void stamp_party(char out[STAMP_PARTY_SIZE], struct pl *pl,
		 const struct sip_taddr *party);

/* What an origin stamp binds: the request's method, Request-URI and the
 * URIs of its From and To, as they are written in the request. */
struct stamp_origin_fields {
	struct pl method;
	struct pl ruri;
	struct pl from_uri;
	struct pl to_uri;
};

int  stamp_alloc(struct stamp **sp, const struct node_key *key);

/* OUT gets STAMP_VIA_LEN hex digits and a NUL.  Non-zero when the MAC
 * could not be computed: nothing may then be sent with a stamp. */
int  stamp_via(char out[STAMP_VIA_LEN + 1], const struct stamp *s,
	       const struct pl *branch);
bool stamp_via_check(const struct stamp *s, const struct pl *branch,
		     const struct pl *tag);

/* OUT gets STAMP_DIALOG_LEN characters and a NUL. */
int  stamp_dialog(char out[STAMP_DIALOG_LEN + 1], const struct stamp *s,
		  enum stamp_dir dir, const struct stamp_dialog_fields *f);

/* Is TAG a dialog stamp of ours for a request with these fields?  The
 * stamp's letter says the direction, and so which tag is the caller's:
 * the To tag of a request going to the caller, the From tag of one going
 * to the callee.  *DIR gets the direction when true. */
bool stamp_dialog_check(const struct stamp *s, const struct pl *tag,
			const struct sip_msg *req, const struct pl *hop,
			enum stamp_dir *dir);

/* A flow (RFC 5626 §3.1) as its token names it: the transport and the
 * peer's address, and the identity transport/flows.h gives the
 * connection (0 for UDP). */
struct stamp_flow {
	enum sip_transp tp;
	struct sa peer;
	uint64_t id;
};

/* The longest token, of an IPv6 flow, and its NUL. */
#define STAMP_FLOW_SIZE 64

/* OUT gets the token of F: base64url, fit for a URI's user part. */
int  stamp_flow(char out[STAMP_FLOW_SIZE], const struct stamp *s,
		const struct stamp_flow *f);
/* Fills *F from TOKEN; EBADMSG when it is not one we made (malformed,
 * tampered with, or made with another node key). */
int  stamp_flow_check(struct stamp_flow *f, const struct stamp *s,
		      const struct pl *token);

/* OUT gets STAMP_ORIGIN_LEN hex digits and a NUL: a stamp good until
 * EXPIRES (seconds of location_now()). */
int  stamp_origin(char out[STAMP_ORIGIN_LEN + 1], const struct stamp *s,
		  const struct stamp_origin_fields *f, uint32_t expires);

/* Is TAG an origin stamp of ours for REQ, still good at NOW? */
bool stamp_origin_check(const struct stamp *s, const struct pl *tag,
			const struct sip_msg *req, uint32_t now);

#endif

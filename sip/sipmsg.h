/* sip/: SIP helpers of our own, each with a prefix of its own (sipmsg_,
 * sipuri_, sipparam_, digest_): message checks (this header), URIs
 * (sip/uri.h), header parameters (sip/param.h), HTTP Digest (sip/digest.h).
 * Pure functions over libre's parsed messages; only common/ is below.
 *
 * Checks and helpers for SIP messages that libre leaves to its users. */
#ifndef LOCUS_SIPMSG_H
#define LOCUS_SIPMSG_H

#include <stdbool.h>
#include <re.h>

/*
 * libre parses but does not validate: a request may arrive without To,
 * From, Call-ID or CSeq, with two of them, with a NUL byte in a header or
 * with a Content-Length its body does not have.  Returns NULL when REQ
 * has what RFC 3261 §8.1.1 requires of every request and is framed as
 * §18.3 and §20 require, else a reason phrase naming what is wrong, with
 * the status code to answer in *SCODE (400, or 505 for a SIP version
 * other than 2.0).  One pass over the headers, no allocation.
 */
const char *sipmsg_request_problem(const struct sip_msg *req,
				   uint16_t *scode);

/*
 * The name of the note compat/sip_decode.c leaves in a request it had to
 * repair for libre to parse it at all (a malformed Request-Line, a SIP
 * version other than 2.0): a header in REQ's hash table only, never in
 * its list, whose value is "SCODE Reason phrase" (empty when there is no
 * problem).  No header on the wire can have this name: it holds a ':'.
 */
#define SIPMSG_NOTE_NAME "X-:locus-decode-note"

/* The length of MSG's body: its Content-Length when that is valid and no
 * more than what arrived (a datagram may carry octets after the message,
 * RFC 3261 §18.3), else what arrived. */
size_t sipmsg_body_len(const struct sip_msg *msg);

/* True if the branch of VIA identifies its transaction (RFC 3261
 * §17.2.3: it starts with the magic cookie "z9hG4bK" and has more). */
bool sipmsg_branch_is_rfc3261(const struct pl *branch);

/*
 * The extensions locus implements, by option tag (RFC 3261 §19.2): GRUU
 * (RFC 5627), Path (RFC 3327) and outbound (RFC 5626, as registrar and
 * as edge proxy).  SIPMSG_SUPPORTED is what Supported says in a 200 to
 * REGISTER or OPTIONS (RFC 3261 §11.2, §20.37); sipmsg_supported the same
 * tags, NULL-terminated, for the Require a REGISTER may carry.
 */
#define SIPMSG_SUPPORTED "gruu, path, outbound"
extern const char *const sipmsg_supported[];

/* True if option-tag TAG (case-insensitive) is listed in header ID. */
bool sipmsg_has_option(const struct sip_msg *msg, enum sip_hdrid id,
		       const char *tag);

/*
 * Prints, comma-separated, every option-tag of header ID (Require or
 * Proxy-Require) that is not in the NULL-terminated list KNOWN.  Prints
 * nothing when all are known.  Use as "%H" with struct sipmsg_options.
 */
struct sipmsg_options {
	const struct sip_msg *msg;
	enum sip_hdrid id;
	const char *const *known;
};
int  sipmsg_unknown_options_print(struct re_printf *pf,
				  const struct sipmsg_options *opts);
bool sipmsg_has_unknown_option(const struct sipmsg_options *opts);

/* True if P[0..LEN) is well-formed UTF-8 without NUL or other C0
 * controls (tab allowed): what may be stored in a PostgreSQL text column
 * and echoed in a header. */
bool sipmsg_text_ok(const char *p, size_t len);

/* Writes REQ's top Via header HDR as a response or a forwarded copy
 * carries it: received and rport=port filled in where due (RFC 3261
 * §18.2.1, RFC 3581 §4), so that answers find the way back through NATs.
 * "NAME: VALUE\r\n". */
int  sipmsg_top_via_write(struct mbuf *mb, const struct sip_hdr *hdr,
			  const struct sip_msg *req);

/* Where a response to REQ goes (RFC 3261 §18.2.2, RFC 3581): the source
 * address when the top Via has rport or the transport is reliable, else
 * the Via's received/sent-by. */
void sipmsg_reply_addr(struct sa *dst, const struct sip_msg *req);

/* VIA's transport.  libre 1.1.0's sip_via_decode() knows only UDP, TCP
 * and TLS and leaves WS and WSS as SIP_TRANSP_NONE; this reads them from
 * the value itself.  NONE for a transport libre cannot send over. */
enum sip_transp sipmsg_via_transport(const struct sip_via *via);

#endif

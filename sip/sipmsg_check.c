/*
 * What RFC 3261 requires of every request before anything acts on it,
 * and of the framing that a proxy passes on.  libre 1.1.0 parses but does
 * not validate: it keeps the last of two Call-IDs, reads "-999" as a
 * Content-Length of 0, stores a header cut at a NUL byte as a C string
 * would see it, and hands over display names and URIs it could not
 * really parse.  A proxy must not pass on what it could not parse, and a
 * downstream hop over TCP would lose its framing on a request whose
 * Content-Length is not the length of its body.
 *
 * The checks run on every request, in one pass over its headers, without
 * allocating.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "sip/sipmsg.h"


enum {
	CSEQ_MAX = 0x7fffffff,   /* RFC 3261 §8.1.1.5: below 2**31 */
	CLEN_DIGITS_MAX = 10,
};


static bool all_digits(const struct pl *pl)
{
	if (!pl->l || pl->l > CLEN_DIGITS_MAX)
		return false;
	for (size_t i = 0; i < pl->l; i++) {
		if (!isdigit((unsigned char)pl->p[i]))
			return false;
	}
	return true;
}


static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


/* RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" /
 * "_" / "+" / "`" / "'" / "~") */
static bool is_token_char(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("-.!%*_+`'~", c));
}


/* An absoluteURI's scheme (RFC 3261 §25.1, RFC 3986 §3.1) before its ':',
 * and no whitespace, quote or angle bracket in it. */
static bool uri_text_ok(const struct pl *uri)
{
	size_t i = 0;

	if (!uri->l || !isalpha((unsigned char)uri->p[0]))
		return false;
	while (i < uri->l && (isalnum((unsigned char)uri->p[i]) ||
			      uri->p[i] == '+' || uri->p[i] == '-' ||
			      uri->p[i] == '.'))
		++i;
	if (i == uri->l || uri->p[i] != ':')
		return false;
	for (i = 0; i < uri->l; i++) {
		unsigned char c = (unsigned char)uri->p[i];
		if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"')
			return false;
	}
	return true;
}


/* The schemes a From or To may name here: SIP, SIPS (RFC 3261) and
 * telephone numbers (RFC 3966), which gateways put in From. */
static bool scheme_known(const struct pl *uri)
{
	const char *colon = pl_strchr(uri, ':');
	struct pl scheme;

	if (!colon)
		return false;
	scheme.p = uri->p;
	scheme.l = (size_t)(colon - uri->p);
	return 0 == pl_strcasecmp(&scheme, "sip") ||
		0 == pl_strcasecmp(&scheme, "sips") ||
		0 == pl_strcasecmp(&scheme, "tel");
}


/* Skips a quoted-string starting at *P (the opening quote); false if it
 * is not closed (RFC 3261 §25.1: quoted-pair escapes any character). */
static bool quoted_skip(const char **p, const char *end)
{
	for (++*p; *p < end; ++*p) {
		if (**p == '\\' && *p + 1 < end)
			++*p;
		else if (**p == '"') {
			++*p;
			return true;
		}
	}
	return false;
}


/*
 * RFC 3261 §20.10, §25.1: ( name-addr / addr-spec ) of a From or To.
 * A display name is a quoted-string or tokens separated by LWS; the
 * addr-spec of a name-addr has no LWS inside "<" and ">", that of a bare
 * addr-spec none before its parameters.  The URI itself is libre's.
 */
static const char *addr_syntax_problem(const struct pl *val,
				       const char *quote, const char *name,
				       const char *uri)
{
	const char *p = val->p, *end = val->p + val->l;
	const char *lt;

	while (p < end && is_lws(*p))
		++p;
	if (p < end && *p == '"') {
		if (!quoted_skip(&p, end))
			return quote;
		while (p < end && is_lws(*p))
			++p;
		if (p == end || *p != '<')
			return name;
	}
	lt = memchr(p, '<', (size_t)(end - p));
	if (lt) {
		for (; p < lt; ++p) {
			if (!is_token_char(*p) && !is_lws(*p))
				return name;
		}
		for (p = lt + 1; p < end && *p != '>'; ++p) {
			if (is_lws(*p))
				return uri;
		}
		return p < end ? NULL : uri;
	}
	/* addr-spec: LWS may only come before its ";" parameters */
	for (; p < end && *p != ';'; ++p) {
		if (!is_lws(*p))
			continue;
		while (p < end && is_lws(*p))
			++p;
		return p == end || *p == ';' ? NULL : uri;
	}
	return NULL;
}


/* An unknown scheme in From or To is refused (RFC 4475 §3.1.4.4), but
 * one in the Request-URI first gets its 416 (RFC 3261 §8.2.2.1), which
 * the proxy answers after route processing. */
static bool scheme_check(const struct sip_msg *req, const struct pl *auri)
{
	return scheme_known(auri) || !scheme_known(&req->ruri);
}


static const char *to_problem(const struct sip_msg *req,
			      const struct sip_hdr *hdr)
{
	const char *problem;

	if (!hdr || !pl_isset(&req->to.auri))
		return "Missing or Malformed To";
	problem = addr_syntax_problem(&hdr->val, "Unterminated Quote in To",
				      "Malformed Display Name in To",
				      "Malformed To URI");
	if (problem)
		return problem;
	if (!scheme_check(req, &req->to.auri))
		return "Unsupported URI Scheme in To";
	return pl_isset(&req->to.uri.scheme) ? NULL : "Malformed To URI";
}


static const char *from_problem(const struct sip_msg *req,
				const struct sip_hdr *hdr)
{
	const char *problem;

	if (!hdr || !pl_isset(&req->from.auri))
		return "Missing or Malformed From";
	problem = addr_syntax_problem(&hdr->val, "Unterminated Quote in From",
				      "Malformed Display Name in From",
				      "Malformed From URI");
	if (problem)
		return problem;
	if (!scheme_check(req, &req->from.auri))
		return "Unsupported URI Scheme in From";
	return pl_isset(&req->from.uri.scheme) ? NULL : "Malformed From URI";
}


/* CSeq must be "number method" with the request's method (§8.1.1.5) and
 * a number below 2^31. */
static const char *cseq_problem(const struct sip_msg *req,
				const struct sip_hdr *hdr)
{
	struct pl num;

	if (!hdr || !pl_isset(&req->cseq.met))
		return "Missing or Malformed CSeq";
	if (re_regex(hdr->val.p, hdr->val.l, "[0-9]+", &num) ||
	    !all_digits(&num) || pl_u64(&num) > CSEQ_MAX)
		return "Malformed CSeq Number";
	if (pl_cmp(&req->cseq.met, &req->met))
		return "CSeq Method Does Not Match Request";
	return NULL;
}


/* RFC 3261 §18.3: a Content-Length is the body's length; over UDP more
 * octets may follow (ignored), fewer is an error; §20.14: one value. */
static const char *clen_problem(const struct sip_msg *req)
{
	if (!pl_isset(&req->clen))
		return NULL;
	if (!all_digits(&req->clen))
		return "Malformed Content-Length";
	if (pl_u64(&req->clen) > mbuf_get_left(req->mb))
		return "Content-Length Larger Than Body";
	return NULL;
}


size_t sipmsg_body_len(const struct sip_msg *msg)
{
	size_t left = mbuf_get_left(msg->mb);

	if (pl_isset(&msg->clen) && all_digits(&msg->clen) &&
	    pl_u64(&msg->clen) < left)
		return (size_t)pl_u64(&msg->clen);
	return left;
}


bool sipmsg_branch_is_rfc3261(const struct pl *branch)
{
	static const char cookie[] = "z9hG4bK";

	return branch->l > sizeof(cookie) - 1 &&
		0 == memcmp(branch->p, cookie, sizeof(cookie) - 1);
}


/* A Via value is a sent-protocol, "SIP/2.0/transport" (RFC 3261
 * §20.42): not empty, not a stray ";" between commas. */
static bool via_value_ok(const struct pl *val)
{
	return val->l && isalpha((unsigned char)val->p[0]);
}


/* "SIP" LWS? "/" LWS? "2.0" at the start of the top Via (§20.42). */
static bool via_version_ok(const struct pl *val)
{
	const char *p = val->p, *end = val->p + val->l;

	if (val->l < 3 || strncasecmp(p, "SIP", 3))
		return false;
	p += 3;
	while (p < end && is_lws(*p))
		++p;
	if (p == end || *p++ != '/')
		return false;
	while (p < end && is_lws(*p))
		++p;
	return end - p >= 3 && 0 == memcmp(p, "2.0", 3);
}


/* RFC 3261 §20.10: a Contact URI with "?" (headers) must be in <>; a
 * bare addr-spec would be ambiguous. */
static bool contact_line_ok(const struct pl *val)
{
	const char *p = val->p, *end = val->p + val->l;
	bool in_angle = false;

	for (; p < end; ++p) {
		if (*p == '"' && !in_angle) {
			if (!quoted_skip(&p, end))
				return false;
			--p;
		}
		else if (*p == '<')
			in_angle = true;
		else if (*p == '>')
			in_angle = false;
		else if (*p == ',')
			in_angle = false;
		else if (*p == '?' && !in_angle)
			return false;
	}
	return true;
}


struct hdr_counts {
	uint32_t callid, cseq, from, to, maxfwd, clen, ctype;
	const struct sip_hdr *from_hdr, *to_hdr, *cseq_hdr;
	const char *problem;
};


/* The one pass: counts the headers that may appear once (RFC 3261 §7.3.1
 * and §20: Call-ID, CSeq, From, To, Max-Forwards, Content-Length are not
 * lists) and checks the Via and Contact values on the way. */
static void headers_scan(const struct sip_msg *req, struct hdr_counts *hc)
{
	memset(hc, 0, sizeof(*hc));
	for (struct le *le = req->hdrl.head; le; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		switch (hdr->id) {

		case SIP_HDR_VIA:
			if (!via_value_ok(&hdr->val) && !hc->problem)
				hc->problem = "Malformed Via";
			break;
		case SIP_HDR_CONTACT:
			if (!contact_line_ok(&hdr->val) && !hc->problem)
				hc->problem = "Malformed Contact: URI with "
					"Headers Not in <>";
			break;
		case SIP_HDR_CALL_ID:      ++hc->callid; break;
		case SIP_HDR_MAX_FORWARDS: ++hc->maxfwd; break;
		case SIP_HDR_CONTENT_LENGTH: ++hc->clen; break;
		case SIP_HDR_CONTENT_TYPE: ++hc->ctype; break;
		case SIP_HDR_CSEQ:
			++hc->cseq;
			hc->cseq_hdr = hdr;
			break;
		case SIP_HDR_FROM:
			++hc->from;
			hc->from_hdr = hdr;
			break;
		case SIP_HDR_TO:
			++hc->to;
			hc->to_hdr = hdr;
			break;
		default:
			break;
		}
	}
}


static const char *repeated_problem(const struct hdr_counts *hc)
{
	if (hc->clen > 1)
		return "Multiple Content-Length Headers";
	if (hc->callid > 1)
		return "Multiple Call-ID Headers";
	if (hc->cseq > 1)
		return "Multiple CSeq Headers";
	if (hc->from > 1)
		return "Multiple From Headers";
	if (hc->to > 1)
		return "Multiple To Headers";
	if (hc->maxfwd > 1)
		return "Multiple Max-Forwards Headers";
	if (hc->ctype > 1)
		return "Multiple Content-Type Headers";
	return NULL;
}


/* A raw NUL anywhere before the body: a C string, a PostgreSQL text
 * column and many a downstream parser would see the value cut there. */
static bool has_nul(const struct sip_msg *req)
{
	const char *start = req->met.p ? req->met.p : req->ver.p;
	const char *body = (const char *)mbuf_buf(req->mb);

	return start && body > start &&
		memchr(start, '\0', (size_t)(body - start)) != NULL;
}


/* What compat/sip_decode.c noted while repairing REQ for libre. */
static const char *decode_note(const struct sip_msg *req, uint16_t *scode)
{
	const struct sip_hdr *note = sip_msg_xhdr(req, SIPMSG_NOTE_NAME);
	struct pl code, reason;

	if (!note || re_regex(note->val.p, note->val.l, "[0-9]+ [^]+",
			      &code, &reason))
		return NULL;
	*scode = (uint16_t)pl_u32(&code);
	return reason.p;   /* the note's text is NUL-terminated */
}


const char *sipmsg_request_problem(const struct sip_msg *req,
				   uint16_t *scode)
{
	struct hdr_counts hc;
	const char *problem;

	*scode = 400;
	problem = decode_note(req, scode);
	if (problem)
		return problem;
	*scode = 400;
	if (has_nul(req))
		return "NUL Byte in Header";
	if (!uri_text_ok(&req->ruri))
		return "Malformed Request-URI";

	headers_scan(req, &hc);
	problem = repeated_problem(&hc);
	if (problem)
		return problem;
	if (!pl_isset(&req->via.sentby))
		return "Missing Via";
	if (!via_version_ok(&req->via.val))
		return "Malformed Via";
	if (hc.problem)
		return hc.problem;
	problem = from_problem(req, hc.from_hdr);
	if (!problem)
		problem = to_problem(req, hc.to_hdr);
	if (problem)
		return problem;
	if (!pl_isset(&req->callid))
		return "Missing Call-ID";
	if (pl_isset(&req->maxfwd) && !all_digits(&req->maxfwd))
		return "Malformed Max-Forwards";
	problem = cseq_problem(req, hc.cseq_hdr);
	if (problem)
		return problem;
	/* RFC 3261 §20.15: type "/" subtype */
	if (hc.ctype && !pl_isset(&req->ctyp.subtype))
		return "Malformed Content-Type";
	return clen_problem(req);
}

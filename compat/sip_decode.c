/*
 * libre's SIP message decoding, repaired where it drops what must be
 * answered or processed.
 *
 * Measured with RFC 4475's torture messages against libre 1.1.0
 * (tests/integration/torture.sh; libre's sip/msg.c, sip/via.c,
 * sip/addr.c):
 *  - sip_via_decode() decodes a Via and then fails when it has no branch
 *    parameter, and sip_msg_decode() fails with it: every request of an
 *    RFC 2543 client is dropped unanswered, valid ones included (RFC 4475
 *    §3.2.1; §3.1.1.7, a long request over TCP whose Vias have none).
 *  - a Request-Line with two SP between its parts, SP after the version,
 *    LWS in the Request-URI or a version other than "SIP/2.0" is taken
 *    for a status line with code 0 and dropped: no 400 or 505 can be sent
 *    (RFC 4475 §3.1.2.8-10, §3.1.2.16).
 *  - a From or To whose URI uri_decode() refuses fails the whole message
 *    (RFC 4475 §3.1.4.4), and so does a CSeq without a number or a
 *    Content-Type without a "/".
 *  - a status code is read with pl_u32(), which wraps: 4294967301 becomes
 *    5, a provisional response (RFC 4475 §3.1.2.19); a CSeq number past
 *    2^32-1 wraps the same way (§3.1.2.5).  Such responses must be
 *    discarded, and only the decoder can: libre's client transactions
 *    take responses before locus sees them.
 *
 * These definitions in the executable take the place of libre's (libre
 * calls them through its PLT; CMakeLists.txt exports them) and call
 * libre's own (dlsym RTLD_NEXT) around their repairs.  The header
 * decoders, uri_decode() and msg_param_decode() first try the scanners
 * of sip_scan.c, which give libre's results for the common inputs at a
 * fraction of the cost, and call libre's own for the others:
 *  - sip_via_decode(): a Via without branch decodes, branch empty; while
 *    a message is decoded, one whose sent-protocol is not SIP/2.0 too, so
 *    that its 505 finds the way back.
 *  - sip_addr_decode(), sip_cseq_decode(), msg_ctype_decode(), while a
 *    message is decoded: a From or To whose URI libre refuses keeps its
 *    text, unparsed; a CSeq or Content-Type it cannot read is left
 *    empty; sipmsg_request_problem() answers 400 naming it.
 *  - sip_msg_decode(): a request whose Request-Line libre refused is
 *    decoded with the line rewritten in place ("METHOD URI SIP/2.0",
 *    padded in front with spaces) and carries a note (SIPMSG_NOTE_NAME)
 *    saying what was wrong with it.  A request whose top Via has no RFC
 *    3261 branch gets, as its branch, a key of what RFC 3261 §17.2.3
 *    matches such requests by, so that libre's server transactions absorb
 *    their retransmissions and match their ACK and CANCEL.  A response
 *    whose status code is not 100-699, whose CSeq number is 2^31 or more,
 *    or with a NUL byte in its headers, is dropped.
 * compat_decode_check() proves at start-up that libre's calls reach them.
 *
 * Upstream: baresip/re still decodes the same way (v4.10); there is no
 * fix to take.  Drop this file once libre decodes branchless Vias and
 * malformed Request-Lines into messages that can be answered: remove it,
 * its symbols from LOCUS_COMPAT_SYMBOLS in CMakeLists.txt and its check
 * in daemon/main.c, and run tests/integration/torture.sh.
 */
#define _GNU_SOURCE   /* RTLD_NEXT, RTLD_DEFAULT */
#include <ctype.h>
#include <dlfcn.h>
#include <string.h>
#include <re.h>
#include "sip/sipmsg.h"
#include "compat/override.h"
#include "compat/sip_decode.h"
#include "compat/sip_scan.h"

typedef int (msg_decode_f)(struct sip_msg **msgp, struct mbuf *mb);
typedef int (via_decode_f)(struct sip_via *via, const struct pl *pl);
typedef int (addr_decode_f)(struct sip_addr *addr, const struct pl *pl);
typedef int (cseq_decode_f)(struct sip_cseq *cseq, const struct pl *pl);
typedef int (ctype_decode_f)(struct msg_ctype *ctype, const struct pl *pl);
typedef int (uri_decode_f)(struct uri *uri, const struct pl *pl);
typedef int (param_decode_f)(const struct pl *pl, const char *name,
			     struct pl *val);

enum {
	LINE_MAX_LEN = 8192,            /* libre's STARTLINE_MAX */
	NOTE_LEN     = 48,
	KEY_LEN      = 5 + 2 * MD5_SIZE, /* "2543." and an MD5 in hex */
	CSEQ_MAX     = 0x7fffffff,
};

static struct {
	msg_decode_f *msg;
	via_decode_f *via;
	addr_decode_f *addr;
	cseq_decode_f *cseq;
	ctype_decode_f *ctype;
	uri_decode_f *uri;
	param_decode_f *param;
	bool decoding;      /* inside sip_msg_decode() */
	unsigned uri_calls, param_calls;   /* for compat_decode_check() */
} libre;

/* A note travels in the message's header hash table: its destructor
 * flushes that table, so the note lives exactly as long as the message. */
struct decode_note {
	struct sip_hdr hdr;     /* first: the table's entries are sip_hdrs */
	char text[NOTE_LEN];    /* "SCODE Reason", NUL-terminated */
	char key[KEY_LEN + 1];  /* the branch of an RFC 2543 request */
};


static bool libre_bind(void)
{
	if (!libre.msg) {
		libre.msg = (msg_decode_f *)dlsym(RTLD_NEXT, "sip_msg_decode");
		libre.via = (via_decode_f *)dlsym(RTLD_NEXT, "sip_via_decode");
		libre.addr = (addr_decode_f *)dlsym(RTLD_NEXT,
						    "sip_addr_decode");
		libre.cseq = (cseq_decode_f *)dlsym(RTLD_NEXT,
						    "sip_cseq_decode");
		libre.ctype = (ctype_decode_f *)dlsym(RTLD_NEXT,
						      "msg_ctype_decode");
		libre.uri = (uri_decode_f *)dlsym(RTLD_NEXT, "uri_decode");
		libre.param = (param_decode_f *)dlsym(RTLD_NEXT,
						      "msg_param_decode");
	}
	return libre.msg && libre.via && libre.addr && libre.cseq &&
		libre.ctype && libre.uri && libre.param;
}


static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}


/* ---- URIs and parameters ------------------------------------------------ */

int uri_decode(struct uri *uri, const struct pl *pl)
{
	int err;

	if (!libre_bind())
		return ENOSYS;
	++libre.uri_calls;
	err = scan_uri(uri, pl);
	return err == SCAN_UNSURE ? libre.uri(uri, pl) : err;
}


int msg_param_decode(const struct pl *pl, const char *name, struct pl *val)
{
	int err;

	if (!libre_bind())
		return ENOSYS;
	++libre.param_calls;
	err = scan_param(pl, name, val);
	return err == SCAN_UNSURE ? libre.param(pl, name, val) : err;
}


/* ---- Via --------------------------------------------------------------- */

/* host[:port] or [IPv6][:port] of a sent-by (RFC 3261 §20.42). */
static int sentby_split(const struct pl *sentby, struct pl *host,
			uint16_t *port)
{
	const char *p = sentby->p, *end = sentby->p + sentby->l;
	const char *colon;
	struct pl num;

	if (p < end && *p == '[') {
		const char *rb = memchr(p, ']', sentby->l);
		if (!rb)
			return EBADMSG;
		host->p = p + 1;
		host->l = (size_t)(rb - host->p);
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	}
	else {
		colon = memchr(p, ':', sentby->l);
		host->p = p;
		host->l = (size_t)((colon ? colon : end) - p);
	}
	*port = 0;
	if (colon) {
		num.p = colon + 1;
		num.l = (size_t)(end - num.p);
		*port = (uint16_t)pl_u32(&num);
	}
	return host->l ? 0 : EBADMSG;
}


/* A Via of any protocol name and version, "NAME/VERSION/TRANSPORT
 * sent-by;params": enough to send an answer back (505). */
static int via_any_version(struct sip_via *via, const struct pl *pl)
{
	struct pl tp, host;
	uint16_t port;
	int err;

	memset(via, 0, sizeof(*via));
	err = re_regex(pl->p, pl->l, "[^ \t\r\n/]+[ \t\r\n]*/[ \t\r\n]*"
		       "[^ \t\r\n/]+[ \t\r\n]*/[ \t\r\n]*[^ \t\r\n;]+"
		       "[ \t\r\n]+[^ \t\r\n;]+[ \t\r\n]*[^]*", NULL, NULL,
		       NULL, NULL, NULL, NULL, &tp, NULL, &via->sentby, NULL,
		       &via->params);
	if (!err)
		err = sentby_split(&via->sentby, &host, &port);
	if (err) {
		memset(via, 0, sizeof(*via));
		return err;
	}
	via->tp = 0 == pl_strcasecmp(&tp, "UDP") ? SIP_TRANSP_UDP :
		  0 == pl_strcasecmp(&tp, "TCP") ? SIP_TRANSP_TCP :
		  0 == pl_strcasecmp(&tp, "TLS") ? SIP_TRANSP_TLS :
		  SIP_TRANSP_NONE;
	sa_init(&via->addr, AF_INET);
	(void)sa_set(&via->addr, &host, port);
	via->val = *pl;
	(void)msg_param_decode(&via->params, "branch", &via->branch);
	return 0;
}


int sip_via_decode(struct sip_via *via, const struct pl *pl)
{
	int err;

	if (!libre_bind())
		return ENOSYS;
	if (!via || !pl)
		return EINVAL;

	via->val = pl_null;
	err = scan_via(via, pl);
	if (err == SCAN_UNSURE)
		err = libre.via(via, pl);
	/* libre fills in everything, then looks for the branch and fails
	 * without one (RFC 2543 clients send none) */
	if (err == ENOENT && via->val.p == pl->p && pl->p) {
		via->branch = pl_null;
		return 0;
	}
	if (err && libre.decoding)
		return via_any_version(via, pl);
	return err;
}


/* ---- From and To --------------------------------------------------------- */

int sip_addr_decode(struct sip_addr *addr, const struct pl *pl)
{
	const char *lt, *end;
	int err;

	if (!libre_bind())
		return ENOSYS;
	err = scan_addr(addr, pl);
	if (err == SCAN_UNSURE)
		err = libre.addr(addr, pl);
	if (!err || !libre.decoding || !addr || !pl || !pl->l)
		return err;

	/* keep the message and the URI's text, unparsed (uri zeroed) */
	memset(addr, 0, sizeof(*addr));
	end = pl->p + pl->l;
	lt = pl_strchr(pl, '<');
	if (lt) {
		const char *gt = memchr(lt, '>', (size_t)(end - lt));
		addr->auri.p = lt + 1;
		addr->auri.l = (size_t)((gt ? gt : end) - addr->auri.p);
		if (gt) {
			addr->params.p = gt + 1;
			addr->params.l = (size_t)(end - addr->params.p);
		}
	}
	else {
		const char *semi = pl_strchr(pl, ';');
		addr->auri.p = pl->p;
		addr->auri.l = (size_t)((semi ? semi : end) - pl->p);
		if (semi) {
			addr->params.p = semi;
			addr->params.l = (size_t)(end - semi);
		}
	}
	if (!addr->auri.l)
		addr->auri = *pl;
	return 0;
}


/* ---- CSeq and Content-Type ----------------------------------------------- */

/* While a message is decoded, a CSeq or Content-Type libre cannot read
 * keeps the message, with the field left empty: sipmsg_request_problem()
 * answers 400 naming it. */
int sip_cseq_decode(struct sip_cseq *cseq, const struct pl *pl)
{
	int err;

	if (!libre_bind())
		return ENOSYS;
	err = scan_cseq(cseq, pl);
	if (err == SCAN_UNSURE)
		err = libre.cseq(cseq, pl);
	if (err && libre.decoding && cseq) {
		memset(cseq, 0, sizeof(*cseq));
		return 0;
	}
	return err;
}


int msg_ctype_decode(struct msg_ctype *ctype, const struct pl *pl)
{
	int err;

	if (!libre_bind())
		return ENOSYS;
	err = scan_ctype(ctype, pl);
	if (err == SCAN_UNSURE)
		err = libre.ctype(ctype, pl);
	if (err && libre.decoding && ctype) {
		memset(ctype, 0, sizeof(*ctype));
		return 0;
	}
	return err;
}


/* ---- notes ------------------------------------------------------------- */

static void note_destructor(void *arg)
{
	struct decode_note *note = arg;

	hash_unlink(&note->hdr.he);
}


static struct decode_note *note_get(struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_xhdr(msg, SIPMSG_NOTE_NAME);
	struct decode_note *note;

	if (hdr)
		return (struct decode_note *)(void *)hdr;
	note = mem_zalloc(sizeof(*note), note_destructor);
	if (!note)
		return NULL;
	pl_set_str(&note->hdr.name, SIPMSG_NOTE_NAME);
	note->hdr.val.p = note->text;
	/* where libre files every "X-" header, so sip_msg_xhdr() finds it */
	note->hdr.id = SIP_HDR_NONE;
	hash_append(msg->hdrht, (uint32_t)SIP_HDR_NONE, &note->hdr.he, note);
	return note;
}


/* RFC 3261 §17.2.3: a request without an RFC 3261 branch matches a
 * transaction by Request-URI, From tag, Call-ID, CSeq number and top Via
 * (and To tag, which is left out so that the ACK of a non-2xx answer,
 * carrying the tag of that answer, matches too; libre compares the CSeq
 * method itself). */
static int rfc2543_key_set(struct sip_msg *msg)
{
	const struct pl *from = pl_isset(&msg->from.tag) ? &msg->from.tag
							 : &msg->from.auri;
	struct decode_note *note;
	uint8_t md[MD5_SIZE];
	char *text = NULL;
	int err;

	err = re_sdprintf(&text, "%r|%r|%r|%u|%r", &msg->ruri, from,
			  &msg->callid, msg->cseq.num, &msg->via.val);
	if (err)
		return err;
	md5((const uint8_t *)text, strlen(text), md);
	mem_deref(text);

	note = note_get(msg);
	if (!note)
		return ENOMEM;
	(void)re_snprintf(note->key, sizeof(note->key), "2543.%w", md,
			  sizeof(md));
	pl_set_str(&msg->via.branch, note->key);
	return 0;
}


/* ---- Request-Line -------------------------------------------------------- */

/* RFC 3261 §25.1 token characters. */
static bool is_token_char(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("-.!%*_+`'~", c));
}


struct req_line {
	const char *start, *eol;   /* the line, without CRLF            */
	struct pl method, uri, version;
	size_t fields;
	bool irregular;            /* whitespace other than single SPs  */
};


/* Splits the line at the front of MB into its fields; false unless it
 * can be a Request-Line at all (a token, then whitespace). */
static bool req_line_split(struct req_line *rl, const struct mbuf *mb)
{
	const char *p = (const char *)mbuf_buf(mb), *lf;
	size_t left = mbuf_get_left(mb);

	memset(rl, 0, sizeof(*rl));
	lf = memchr(p, '\n', left < LINE_MAX_LEN ? left : LINE_MAX_LEN);
	if (!lf)
		return false;
	rl->start = p;
	rl->eol = lf > p && lf[-1] == '\r' ? lf - 1 : lf;

	while (p < rl->eol && is_ws(*p)) {
		rl->irregular = true;
		++p;
	}
	while (p < rl->eol) {
		const char *q = p, *r;
		struct pl field;

		while (q < rl->eol && !is_ws(*q))
			++q;
		field.p = p;
		field.l = (size_t)(q - p);
		if (rl->fields == 0)
			rl->method = field;
		else if (rl->fields == 1)
			rl->uri = field;
		rl->version = field;
		++rl->fields;
		for (r = q; r < rl->eol && is_ws(*r); ++r)
			;
		if (r > q && (r - q != 1 || *q != ' ' || r == rl->eol))
			rl->irregular = true;
		p = r;
	}
	for (size_t i = 0; i < rl->method.l; i++) {
		if (!is_token_char(rl->method.p[i]))
			return false;
	}
	return rl->fields >= 2;
}


/* What is wrong with RL, as "SCODE Reason"; NULL if libre should have
 * parsed it (then it failed for a reason of its own). */
static const char *req_line_problem(const struct req_line *rl)
{
	if (!rl->irregular && rl->fields == 3 &&
	    0 == pl_strcmp(&rl->version, "SIP/2.0"))
		return NULL;
	/* RFC 3261 §21.5.7: a version we do not speak */
	if (!rl->irregular && rl->fields == 3 && rl->version.l > 4 &&
	    0 == memcmp(rl->version.p, "SIP/", 4))
		return "505 Version Not Supported";
	return "400 Malformed Request-Line";
}


/*
 * Decodes the request in MB whose Request-Line libre refused, with the
 * line rewritten in place as "METHOD URI SIP/2.0", right-aligned on its
 * CRLF and padded in front with spaces (libre's message points into the
 * buffer).  Padding, not moving the rest: over TCP, libre may decode the
 * same bytes again once more arrived, and then finds a line with leading
 * whitespace, malformed again.  On failure the bytes are put back.
 */
static int req_line_repair(struct sip_msg **msgp, struct mbuf *mb,
			   int err0)
{
	struct req_line rl;
	const char *problem;
	struct decode_note *note;
	char *orig, *p;
	size_t len, canon, slack;
	int err;

	if (!req_line_split(&rl, mb))
		return err0;
	problem = req_line_problem(&rl);
	if (!problem)
		return err0;
	len = (size_t)(rl.eol - rl.start);
	canon = rl.method.l + 1 + rl.uri.l + 1 + 7;
	if (canon > len)
		return err0;

	orig = mem_alloc(len, NULL);
	if (!orig)
		return ENOMEM;
	memcpy(orig, rl.start, len);
	slack = len - canon;
	p = (char *)mbuf_buf(mb);
	memset(p, ' ', slack);
	p += slack;
	memcpy(p, orig + (rl.method.p - rl.start), rl.method.l);
	p += rl.method.l;
	*p++ = ' ';
	memcpy(p, orig + (rl.uri.p - rl.start), rl.uri.l);
	p += rl.uri.l;
	memcpy(p, " SIP/2.0", 8);

	mb->pos += slack;
	err = libre.msg(msgp, mb);
	if (err) {
		mb->pos -= slack;
		memcpy(mbuf_buf(mb), orig, len);
		mem_deref(orig);
		return err;
	}
	mem_deref(orig);

	note = note_get(*msgp);
	if (!note) {
		*msgp = mem_deref(*msgp);
		return ENOMEM;
	}
	(void)re_snprintf(note->text, sizeof(note->text), "%s", problem);
	note->hdr.val.l = strlen(note->text);
	return 0;
}


/* ---- responses ------------------------------------------------------------ */

/* RFC 3261 §7.2, §21: Status-Code is 3DIGIT, 100 to 699; §8.1.1.5: the
 * CSeq number of any request, so of its responses, is below 2**31; and
 * no NUL before the body.  Anything else is discarded (RFC 4475
 * §3.1.2.5, §3.1.2.19). */
static bool response_usable(const struct sip_msg *msg)
{
	const char *p = msg->ver.p + msg->ver.l;
	const char *body = (const char *)mbuf_buf(msg->mb);
	const struct sip_hdr *cseq = sip_msg_hdr(msg, SIP_HDR_CSEQ);
	struct pl num;
	size_t digits = 0;

	while (p < body && *p == ' ')
		++p;
	while (p + digits < body && isdigit((unsigned char)p[digits]))
		++digits;
	if (digits != 3 || msg->scode < 100 || msg->scode > 699)
		return false;
	if (!cseq || re_regex(cseq->val.p, cseq->val.l, "[0-9]+", &num) ||
	    num.l > 10 || pl_u64(&num) > CSEQ_MAX)
		return false;
	return !memchr(msg->ver.p, '\0', (size_t)(body - msg->ver.p));
}


/* ---- the decoder ----------------------------------------------------------- */

int sip_msg_decode(struct sip_msg **msgp, struct mbuf *mb)
{
	struct sip_msg *msg;
	int err;

	if (!libre_bind())
		return ENOSYS;
	if (!msgp || !mb)
		return EINVAL;

	libre.decoding = true;
	err = libre.msg(msgp, mb);
	if (err == EBADMSG || err == ENODATA)
		err = req_line_repair(msgp, mb, err);
	libre.decoding = false;
	if (err)
		return err;

	msg = *msgp;
	if (!msg->req) {
		if (response_usable(msg))
			return 0;
		*msgp = mem_deref(msg);
		return EBADMSG;
	}
	if (pl_isset(&msg->via.sentby) &&
	    !sipmsg_branch_is_rfc3261(&msg->via.branch)) {
		err = rfc2543_key_set(msg);
		if (err)
			*msgp = mem_deref(msg);
	}
	return err;
}


/* ---- start-up check -------------------------------------------------------- */

static const char FILE_NAME[] = "compat/sip_decode.c";
static const char DROPPED[] = "requests that must be answered 400 or 505 "
			      "(a Via without branch, a malformed "
			      "Request-Line, From, To, CSeq or "
			      "Content-Type) would be dropped unanswered";
static const char SLOW[] = "every message would be decoded by libre's "
			   "re_regex(), at several times the CPU";


/* Do libre's own calls of uri_decode() and msg_param_decode() (from its
 * sip_addr_decode() and sip_via_decode()) reach ours?  0, or the name of
 * the one that does not. */
static const char *scanners_reached(void)
{
	struct pl addr_pl = PL("<sip:probe.invalid>");
	struct pl via_pl = PL("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKprobe");
	unsigned uri_calls = libre.uri_calls, param_calls = libre.param_calls;
	struct sip_addr addr;
	struct sip_via via;

	(void)libre.addr(&addr, &addr_pl);
	(void)libre.via(&via, &via_pl);
	if (libre.uri_calls == uri_calls)
		return "uri_decode";
	if (libre.param_calls == param_calls)
		return "msg_param_decode";
	return NULL;
}


int compat_decode_check(char *errbuf, size_t errsz)
{
	static const char probe[] =
		"OPTIONS sip:probe.invalid SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1:5060\r\n"
		"From: <sip:probe.invalid>;tag=1\r\n"
		"To: <sip:probe.invalid>\r\n"
		"Call-ID: probe\r\n"
		"CSeq: 1 OPTIONS\r\n"
		"Content-Length: 0\r\n\r\n";
	const struct {
		const char *name;
		const void *ours;
		const char *consequence;
	} decoders[] = {
		{"sip_msg_decode", (void *)sip_msg_decode, DROPPED},
		{"sip_via_decode", (void *)sip_via_decode, DROPPED},
		{"sip_addr_decode", (void *)sip_addr_decode, DROPPED},
		{"sip_cseq_decode", (void *)sip_cseq_decode, DROPPED},
		{"msg_ctype_decode", (void *)msg_ctype_decode, DROPPED},
		{"uri_decode", (void *)uri_decode, SLOW},
		{"msg_param_decode", (void *)msg_param_decode, SLOW},
	};
	struct sip_msg *msg = NULL;
	const char *missed;
	struct mbuf *mb;
	int err;

	if (!libre_bind()) {
		re_snprintf(errbuf, errsz, "%s: libre's SIP decoders not "
			    "found: no SIP message could be decoded",
			    FILE_NAME);
		return ENOSYS;
	}
	/* libre's transports call sip_msg_decode(), not reached from here
	 * without a socket: it must at least be what the dynamic linker
	 * finds first, as must the others */
	for (size_t i = 0; i < ARRAY_SIZE(decoders); i++) {
		if (dlsym(RTLD_DEFAULT, decoders[i].name) != decoders[i].ours)
			return compat_override_fail(errbuf, errsz, FILE_NAME,
						    decoders[i].name,
						    decoders[i].ours,
						    decoders[i].consequence);
	}
	/* libre's own decoder, calling sip_via_decode() through its PLT:
	 * the Via without branch decodes only if that call reaches ours */
	mb = mbuf_alloc(sizeof(probe));
	if (!mb)
		return ENOMEM;
	(void)mbuf_write_str(mb, probe);
	mb->pos = 0;
	err = libre.msg(&msg, mb);
	mem_deref(msg);
	mem_deref(mb);
	if (err == ENOMEM)
		return err;
	if (err)
		return compat_override_fail(errbuf, errsz, FILE_NAME,
					    "sip_via_decode",
					    (void *)sip_via_decode, DROPPED);
	missed = scanners_reached();
	if (missed)
		return compat_override_fail(errbuf, errsz, FILE_NAME, missed,
					    strcmp(missed, "uri_decode") ?
					    (void *)msg_param_decode :
					    (void *)uri_decode, SLOW);
	return 0;
}

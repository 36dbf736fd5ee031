/*
 * libre's header decoders, written out: the fast paths of
 * compat/sip_decode.c's overrides.
 *
 * Measured (bench/profile.sh, a proxied call): a third of locus's own
 * CPU per call was libre's re_regex(), under uri_decode(),
 * sip_addr_decode(), sip_via_decode() and msg_param_decode(): each
 * pattern is parsed anew for every start position it is tried at, and a
 * message's From, To, Via and Request-URI are decoded with several
 * patterns each.  These scanners give the same results in one pass.
 *
 * Exactly the same: re_regex() matches a pattern's parts greedily, never
 * backtracks, tries each start position in turn and takes the first that
 * matches (a literal that meets the end of the input ends the search).
 * A scanner follows the try at the first position, and decides alone
 * only where that try matches (then it is the result) or where no try
 * can (a literal the input does not hold); anything else (a display name
 * of several words, an empty scheme, an unmatched bracket) is
 * SCAN_UNSURE, and the caller hands the input to libre.  The results are
 * compared with libre's own over a corpus and its mutations
 * (tests/unit/test_sip_scan.c).  Letters compare as re_regex() compares
 * them, through tolower() in the C locale (locus never sets another).
 *
 * Upstream: baresip/re decodes with re_regex() still (v4.10).  Drop this
 * file with the overrides of compat/sip_decode.c, or alone: its callers
 * there then call libre's decoders directly.
 */
#include <string.h>
#include <re.h>
#include "compat/sip_scan.h"

/* A run of characters matched by a class, and where it ends. */
struct cursor {
	const char *p;
	const char *end;
};


static unsigned char fold(char c)
{
	unsigned char u = (unsigned char)c;

	return u >= 'A' && u <= 'Z' ? (unsigned char)(u + ('a' - 'A')) : u;
}


static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}


/* The characters the patterns' classes stop at, by kind (a class is a
 * set of kinds): a table, as this runs over every byte of every header. */
enum {
	K_COLON = 1 << 0, K_AT = 1 << 1, K_SLASH = 1 << 2, K_SEMI = 1 << 3,
	K_QMARK = 1 << 4, K_SP = 1 << 5, K_LWS = 1 << 6, K_LT = 1 << 7,
	K_GT = 1 << 8,
};

static const uint16_t kinds[256] = {
	[':'] = K_COLON, ['@'] = K_AT, ['/'] = K_SLASH, [';'] = K_SEMI,
	['?'] = K_QMARK, [' '] = K_SP | K_LWS, ['\t'] = K_LWS,
	['\r'] = K_LWS, ['\n'] = K_LWS, ['<'] = K_LT, ['>'] = K_GT,
};


static bool in_set(char c, unsigned set)
{
	return kinds[(unsigned char)c] & set;
}


/* "[^SET]*": the run from the cursor, which moves past it. */
static struct pl run_not(struct cursor *c, unsigned set)
{
	struct pl pl = {c->p, 0};

	while (c->p < c->end && !in_set(*c->p, set))
		++c->p;
	pl.l = (size_t)(c->p - pl.p);
	return pl;
}


static void skip_lws(struct cursor *c)
{
	while (c->p < c->end && is_lws(*c->p))
		++c->p;
}


static struct pl run_digits(struct cursor *c)
{
	struct pl pl = {c->p, 0};

	while (c->p < c->end && is_digit(*c->p))
		++c->p;
	pl.l = (size_t)(c->p - pl.p);
	return pl;
}


/* "[~SET]" with its quantifier: a negated class that takes quoted
 * strings whole and a backslash's next character; a run that starts and
 * ends with a quote loses them.  False when fewer than MIN counted. */
static bool run_quoted(struct pl *out, struct cursor *c, unsigned set,
		       size_t min)
{
	const char *start = c->p;
	bool quote = false, esc = false;
	size_t n;

	for (; c->p < c->end; ++c->p) {
		char ch = *c->p;

		if (esc)
			esc = false;
		else if (ch == '\\')
			esc = true;
		else if (ch == '"')
			quote = !quote;
		else if (!quote && in_set(ch, set))
			break;
	}
	n = (size_t)(c->p - start);
	out->p = start;
	out->l = n;
	if (n > 1 && start[0] == '"' && start[n - 1] == '"') {
		out->p += 1;
		out->l -= 2;
		n -= 2;
	}
	return n >= min;
}


/* ---- msg_param_decode() --------------------------------------------- */

/* Names that are plain text in a pattern (no class, no escape) and leave
 * room in libre's 128 bytes for the rest of it. */
static bool name_plain(const char *name, size_t *len)
{
	size_t n = strlen(name);

	*len = n;
	return n > 0 && n <= 64 && !strpbrk(name, "[\\");
}


/* ";[ \t\r\n]*NAME[ \t\r\n]*=[ \t\r\n]*[~ \t\r\n;]+" tried at each ';'
 * in turn: the first that matches.  A literal that meets the end can
 * only do so after the last ';' (NAME holds none), where re_regex() gives
 * up, as no later ';' is left to try. */
int scan_param(const struct pl *pl, const char *name, struct pl *val)
{
	size_t nlen;

	if (!pl || !name || !val)
		return EINVAL;
	if (!name_plain(name, &nlen))
		return SCAN_UNSURE;
	if (!pl->p)
		return ENOENT;

	for (size_t s = 0; s < pl->l; s++) {
		struct cursor c = {pl->p + s + 1, pl->p + pl->l};
		struct pl v;
		size_t k;

		if (pl->p[s] != ';')
			continue;
		skip_lws(&c);
		for (k = 0; k < nlen && c.p < c.end; k++, c.p++) {
			if (fold(*c.p) != fold(name[k]))
				break;
		}
		if (k < nlen && c.p == c.end)
			return ENOENT;
		if (k < nlen)
			continue;
		skip_lws(&c);
		if (c.p == c.end)
			return ENOENT;
		if (*c.p++ != '=')
			continue;
		skip_lws(&c);
		if (run_quoted(&v, &c, K_LWS | K_SEMI, 1)) {
			*val = v;
			return 0;
		}
	}
	return ENOENT;
}


/* ---- uri_decode() ---------------------------------------------------- */

/* uri_decode_hostport(): "\\[[0-9a-f:]+\\][:]*[0-9]*", else (no '[' to
 * match anywhere) "[^:]+[:]*[0-9]*". */
static int hostport_scan(const struct pl *hp, struct pl *host,
			 struct pl *port)
{
	struct cursor c = {hp->p, hp->p + hp->l};

	if (!hp->l)
		return SCAN_UNSURE;
	if (memchr(hp->p, '[', hp->l)) {
		const char *start;

		if (*c.p++ != '[')
			return SCAN_UNSURE;
		start = c.p;
		while (c.p < c.end && (is_digit(*c.p) || *c.p == ':' ||
				       (fold(*c.p) >= 'a' && fold(*c.p) <= 'f')))
			++c.p;
		if (c.p == start || c.p == c.end || *c.p != ']')
			return SCAN_UNSURE;
		host->p = start;
		host->l = (size_t)(c.p - start);
		++c.p;
	}
	else {
		if (*c.p == ':')
			return SCAN_UNSURE;
		*host = run_not(&c, K_COLON);
	}
	while (c.p < c.end && *c.p == ':')
		++c.p;
	*port = run_digits(&c);
	return 0;
}


/* "[^:]+:[^@:]*[:]*[^@]*@[^/;? ]+[^;? ]*[^?]*[^]*" at the start: 1
 * matched (HOSTPORT set), 0 no try can match (no ':' after the scheme or
 * no '@' after that: literals that meet the end), or SCAN_UNSURE. */
static int uri_with_user(struct uri *u, struct pl *hostport,
			 const struct pl *pl)
{
	struct cursor c = {pl->p, pl->p + pl->l};

	u->scheme = run_not(&c, K_COLON);
	if (!u->scheme.l)
		return SCAN_UNSURE;
	if (c.p == c.end)
		return 0;
	++c.p;
	u->user = run_not(&c, K_AT | K_COLON);
	while (c.p < c.end && *c.p == ':')
		++c.p;
	u->password = run_not(&c, K_AT);
	if (c.p == c.end)
		return 0;
	++c.p;
	*hostport = run_not(&c, K_SLASH | K_SEMI | K_QMARK | K_SP);
	if (!hostport->l)
		return SCAN_UNSURE;
	u->path = run_not(&c, K_SEMI | K_QMARK | K_SP);
	u->params = run_not(&c, K_QMARK);
	u->headers = (struct pl){c.p, (size_t)(c.end - c.p)};
	return 1;
}


/* "[^:]+:[^/;? ]+[^;? ]*[^?]*[^]*" at the start: 0 or SCAN_UNSURE. */
static int uri_without_user(struct uri *u, struct pl *hostport,
			    const struct pl *pl)
{
	struct cursor c = {pl->p, pl->p + pl->l};

	u->scheme = run_not(&c, K_COLON);
	if (!u->scheme.l || c.p == c.end)
		return SCAN_UNSURE;
	++c.p;
	*hostport = run_not(&c, K_SLASH | K_SEMI | K_QMARK | K_SP);
	if (!hostport->l)
		return SCAN_UNSURE;
	u->path = run_not(&c, K_SEMI | K_QMARK | K_SP);
	u->params = run_not(&c, K_QMARK);
	u->headers = (struct pl){c.p, (size_t)(c.end - c.p)};
	return 0;
}


/* The address family of a URI's host as sa_set() finds it.  A host
 * shorter than sa_set()'s buffer with a character no address has (and no
 * NUL, which would end it early) is no address: that spares inet_pton()
 * for every host name. */
static int host_af(const struct pl *host)
{
	struct sa addr;

	if (host->l < 64) {
		bool maybe = true;

		for (size_t i = 0; i < host->l && maybe; i++) {
			char ch = host->p[i];
			maybe = !ch || is_digit(ch) || ch == ':' || ch == '.' ||
				(fold(ch) >= 'a' && fold(ch) <= 'f');
		}
		if (!maybe)
			return AF_UNSPEC;
	}
	return 0 == sa_set(&addr, host, 0) ? sa_af(&addr) : AF_UNSPEC;
}


int scan_uri(struct uri *uri, const struct pl *pl)
{
	struct pl hostport, port = PL_INIT;
	struct uri u;
	int r;

	if (!uri || !pl)
		return EINVAL;
	if (!pl->p || !pl->l)
		return SCAN_UNSURE;

	memset(&u, 0, sizeof(u));
	r = uri_with_user(&u, &hostport, pl);
	if (r == 1) {
		r = hostport_scan(&hostport, &u.host, &port);
		if (r)
			return SCAN_UNSURE;
	}
	else if (r == 0) {
		memset(&u, 0, sizeof(u));
		r = uri_without_user(&u, &hostport, pl);
		if (!r)
			r = hostport_scan(&hostport, &u.host, &port);
		if (r)
			return SCAN_UNSURE;
	}
	else {
		return SCAN_UNSURE;
	}
	u.af = host_af(&u.host);
	if (pl_isset(&port))
		u.port = (uint16_t)pl_u32(&port);
	*uri = u;
	return 0;
}


/* ---- sip_addr_decode() ----------------------------------------------- */

int scan_addr(struct sip_addr *addr, const struct pl *pl)
{
	struct cursor c;
	struct sip_addr a;
	int err;

	if (!addr || !pl)
		return EINVAL;
	if (!pl->p || !pl->l)
		return SCAN_UNSURE;

	memset(&a, 0, sizeof(a));
	c = (struct cursor){pl->p, pl->p + pl->l};
	if (memchr(pl->p, '<', pl->l)) {
		/* "[~ \t\r\n<]*[ \t\r\n]*<[^>]+>[^]*" */
		(void)run_quoted(&a.dname, &c, K_LWS | K_LT, 0);
		skip_lws(&c);
		if (c.p == c.end || *c.p != '<')
			return SCAN_UNSURE;
		++c.p;
		a.auri = run_not(&c, K_GT);
		if (!a.auri.l || c.p == c.end)
			return SCAN_UNSURE;
		++c.p;
		a.params = (struct pl){c.p, (size_t)(c.end - c.p)};
		if (!a.dname.l)
			a.dname.p = NULL;
		if (!a.params.l)
			a.params.p = NULL;
	}
	else {
		/* no '<' for the first pattern: "[^;]+[^]*" */
		a.auri = run_not(&c, K_SEMI);
		if (!a.auri.l)
			return SCAN_UNSURE;
		a.params = (struct pl){c.p, (size_t)(c.end - c.p)};
	}

	err = uri_decode(&a.uri, &a.auri);
	if (err)
		memset(&a, 0, sizeof(a));
	*addr = a;
	return err;
}


/* ---- sip_via_decode() ------------------------------------------------- */

/* A literal of the pattern, case-insensitive: false where re_regex()
 * would try elsewhere or give up. */
static bool literal(struct cursor *c, const char *text)
{
	for (; *text; text++, c->p++) {
		if (c->p == c->end || fold(*c->p) != fold(*text))
			return false;
	}
	return true;
}


/* libre's pattern, at the start: "SIP", LWS, "/", LWS, "2.0", LWS, "/",
 * LWS, the transport "[A-Z]+", LWS, the sent-by "[^; \t\r\n]+", LWS, and
 * the parameters "[^]*" (LWS: "[ \t\r\n]*"). */
int scan_via(struct sip_via *via, const struct pl *pl)
{
	struct pl transp, sentby, params, host, port;
	struct cursor c;

	if (!via || !pl)
		return EINVAL;
	if (!pl->p)
		return SCAN_UNSURE;

	c = (struct cursor){pl->p, pl->p + pl->l};
	if (!literal(&c, "SIP"))
		return SCAN_UNSURE;
	skip_lws(&c);
	if (!literal(&c, "/"))
		return SCAN_UNSURE;
	skip_lws(&c);
	if (!literal(&c, "2.0"))
		return SCAN_UNSURE;
	skip_lws(&c);
	if (!literal(&c, "/"))
		return SCAN_UNSURE;
	skip_lws(&c);
	transp.p = c.p;
	while (c.p < c.end && fold(*c.p) >= 'a' && fold(*c.p) <= 'z')
		++c.p;
	transp.l = (size_t)(c.p - transp.p);
	skip_lws(&c);
	sentby = run_not(&c, K_SEMI | K_LWS);
	if (!transp.l || !sentby.l)
		return SCAN_UNSURE;
	skip_lws(&c);
	params = (struct pl){c.p, (size_t)(c.end - c.p)};
	if (hostport_scan(&sentby, &host, &port))
		return SCAN_UNSURE;

	via->sentby = sentby;
	via->params = params;
	if (!pl_strcmp(&transp, "TCP"))
		via->tp = SIP_TRANSP_TCP;
	else if (!pl_strcmp(&transp, "TLS"))
		via->tp = SIP_TRANSP_TLS;
	else if (!pl_strcmp(&transp, "UDP"))
		via->tp = SIP_TRANSP_UDP;
	else
		via->tp = SIP_TRANSP_NONE;
	sa_init(&via->addr, AF_INET);
	(void)sa_set(&via->addr, &host, 0);
	if (pl_isset(&port))
		sa_set_port(&via->addr, pl_u32(&port));
	via->val = *pl;
	return msg_param_decode(&via->params, "branch", &via->branch);
}


/* ---- sip_cseq_decode(), msg_ctype_decode() --------------------------- */

/* "[0-9]+[ \t\r\n]+[^ \t\r\n]+" at the start. */
int scan_cseq(struct sip_cseq *cseq, const struct pl *pl)
{
	struct cursor c;
	struct pl num, met;
	const char *ws;

	if (!cseq || !pl)
		return EINVAL;
	if (!pl->p)
		return SCAN_UNSURE;
	c = (struct cursor){pl->p, pl->p + pl->l};
	num = run_digits(&c);
	ws = c.p;
	skip_lws(&c);
	if (!num.l || c.p == ws)
		return SCAN_UNSURE;
	met = run_not(&c, K_LWS);
	if (!met.l)
		return SCAN_UNSURE;
	cseq->met = met;
	cseq->num = pl_u32(&num);
	return 0;
}


/* libre's pattern, at the start (where libre wants it to match): LWS,
 * the type "[^ \t\r\n;/]+", LWS, "/", LWS, the subtype "[^ \t\r\n;]+"
 * and the parameters "[^]*" (LWS: "[ \t\r\n]*"). */
int scan_ctype(struct msg_ctype *ctype, const struct pl *pl)
{
	struct pl type, subtype;
	struct cursor c;

	if (!ctype || !pl)
		return EINVAL;
	if (!pl->p)
		return SCAN_UNSURE;
	c = (struct cursor){pl->p, pl->p + pl->l};
	skip_lws(&c);
	type = run_not(&c, K_LWS | K_SEMI | K_SLASH);
	skip_lws(&c);
	if (!type.l || c.p == c.end || *c.p != '/')
		return SCAN_UNSURE;
	++c.p;
	skip_lws(&c);
	subtype = run_not(&c, K_LWS | K_SEMI);
	if (!subtype.l)
		return SCAN_UNSURE;
	ctype->type = type;
	ctype->subtype = subtype;
	ctype->params = (struct pl){c.p, (size_t)(c.end - c.p)};
	return 0;
}

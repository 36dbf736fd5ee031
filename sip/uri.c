#include <ctype.h>
#include <string.h>
#include <re.h>
#include "sip/param.h"
#include "sip/uri.h"


void sipuri_instance_unquote(struct pl *out, const struct pl *in)
{
	*out = *in;
	if (out->l >= 2 && out->p[0] == '"' && out->p[out->l - 1] == '"') {
		pl_advance(out, 1);
		out->l -= 1;
	}
	if (out->l >= 2 && out->p[0] == '<' && out->p[out->l - 1] == '>') {
		pl_advance(out, 1);
		out->l -= 1;
	}
}


static bool scheme_valid(const struct pl *scheme)
{
	if (!scheme->l || !isalpha((unsigned char)scheme->p[0]))
		return false;
	for (size_t i = 1; i < scheme->l; i++) {
		char c = scheme->p[i];
		if (!isalnum((unsigned char)c) && c != '+' && c != '-' &&
		    c != '.')
			return false;
	}
	return true;
}


static bool chars_in(const struct pl *pl, const char *set)
{
	for (size_t i = 0; i < pl->l; i++) {
		if (!isalnum((unsigned char)pl->p[i]) && !strchr(set, pl->p[i]))
			return false;
	}
	return true;
}


/* A host name or IPv4 address, or an IPv6 address that RAW writes in
 * brackets (uri_decode() hands it over without them). */
static bool host_valid(const struct pl *raw, const struct uri *u)
{
	const struct pl *h = &u->host;

	if (!h->l)
		return false;
	if (h->p > raw->p && h->p[-1] == '[')
		return h->p + h->l < raw->p + raw->l && h->p[h->l] == ']' &&
			chars_in(h, ":.") && pl_strchr(h, ':');
	return chars_in(h, "-.") && h->p[0] != '.' && h->p[0] != '-';
}


bool sipuri_wellformed(const struct pl *raw, const struct uri *u)
{
	if (!raw || !u || !raw->l || !scheme_valid(&u->scheme) ||
	    u->scheme.p != raw->p)
		return false;

	for (size_t i = 0; i < raw->l; i++) {
		unsigned char c = (unsigned char)raw->p[i];
		if (c <= ' ' || c == '<' || c == '>' || c == '"' || c == 127)
			return false;
	}
	return !sipuri_is_sip(u) || host_valid(raw, u);
}


static void pl_rebase(struct pl *pl, const char *from, const char *to)
{
	if (pl->p)
		pl->p = to + (pl->p - from);
}


void sipuri_rebase(struct uri *u, const char *from, const char *to)
{
	pl_rebase(&u->scheme, from, to);
	pl_rebase(&u->user, from, to);
	pl_rebase(&u->password, from, to);
	pl_rebase(&u->host, from, to);
	pl_rebase(&u->path, from, to);
	pl_rebase(&u->params, from, to);
	pl_rebase(&u->headers, from, to);
}


bool sipuri_is_sip(const struct uri *uri)
{
	return uri && (0 == pl_strcasecmp(&uri->scheme, "sip") ||
		       0 == pl_strcasecmp(&uri->scheme, "sips"));
}


static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}


/* RFC 3261 §25.1 unreserved = alphanum / mark: the only characters whose
 * escaped form we decode.  Reserved ones are not equivalent to their
 * escapes (§19.1.4), and the rest (controls, NUL, quotes, spaces) must
 * stay escaped to be carried safely at all. */
static bool is_unreserved(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		(c >= 'A' && c <= 'Z') || (c && strchr("-_.!~*'()", c));
}


/* Next unit of a user part, advancing *p: the character for a literal or
 * an escaped unreserved character, 256 + c for any other escape. */
static int user_unit(const char **p, const char *end)
{
	if (**p == '%' && end - *p >= 3) {
		int hi = hexval((*p)[1]), lo = hexval((*p)[2]);
		if (hi >= 0 && lo >= 0) {
			int c = hi * 16 + lo;
			*p += 3;
			return is_unreserved(c) ? c : 256 + c;
		}
	}
	return (unsigned char)*(*p)++;
}


static bool unescaped_equal(const struct pl *a, const struct pl *b)
{
	const char *pa, *ea, *pb, *eb;

	/* an absent part is a NULL slice: no arithmetic on it */
	if (!a->l || !b->l)
		return a->l == b->l;
	pa = a->p;
	ea = a->p + a->l;
	pb = b->p;
	eb = b->p + b->l;

	while (pa < ea && pb < eb) {
		if (user_unit(&pa, ea) != user_unit(&pb, eb))
			return false;
	}
	return pa == ea && pb == eb;
}


/* The canonical spelling of a user part: escapes of unreserved
 * characters decoded, every other escape kept, in upper case. */
static int user_canonical_print(struct re_printf *pf, const struct pl *user)
{
	const char *p = user->p, *end = user->p + user->l;
	int err = 0;

	while (p < end && !err) {
		int u = user_unit(&p, end);

		/* a raw control byte (a NUL above all) is written escaped, so
		 * that the key's length is the sum of its parts' */
		if (u < 256 && (u <= 0x20 || u == 0x7f))
			u += 256;
		err = u >= 256 ? re_hprintf(pf, "%%%02X", u - 256)
			       : re_hprintf(pf, "%c", u);
	}
	return err;
}


struct param_cmp {
	const struct pl *other;   /* the other URI's parameter list */
	bool equal;
};


/* Parameters whose presence in only one URI makes them differ. */
static bool param_must_be_in_both(const struct pl *name)
{
	static const char *const strict[] = {"user", "ttl", "method",
					     "maddr", "transport"};

	for (size_t i = 0; i < ARRAY_SIZE(strict); i++) {
		if (0 == pl_strcasecmp(name, strict[i]))
			return true;
	}
	return false;
}


static int param_cmp_handler(const struct pl *name, const struct pl *val,
			     void *arg)
{
	struct param_cmp *pc = arg;
	char cname[64];
	struct pl oval;

	if (pl_strcpy(name, cname, sizeof(cname)))
		return 0;   /* absurdly long name: cannot be a known one */

	if (sipparam_get(pc->other, cname, &oval)) {
		if (param_must_be_in_both(name)) {
			pc->equal = false;
			return EEXIST;
		}
		return 0;
	}
	if (pl_casecmp(val, &oval)) {
		pc->equal = false;
		return EEXIST;
	}
	return 0;
}


static bool params_equal(const struct pl *a, const struct pl *b)
{
	struct param_cmp ab = {b, true}, ba = {a, true};

	/* Both directions: a strict parameter may be in only one of them. */
	(void)sipparam_apply(a, param_cmp_handler, &ab);
	if (!ab.equal)
		return false;
	(void)sipparam_apply(b, param_cmp_handler, &ba);
	return ba.equal;
}


bool sipuri_instance_wellformed(const struct pl *inst)
{
	if (!inst->l || inst->l > SIPURI_INSTANCE_MAX)
		return false;
	for (size_t i = 0; i < inst->l; i++) {
		char c = inst->p[i];
		if (!is_unreserved((unsigned char)c) && !strchr(":/&+$[]", c))
			return false;
	}
	return true;
}


/* Splits the next "name=value" off the front of *REST, a URI's headers
 * ("?a=1&b=2", libre keeps the "?"); false when none is left. */
static bool header_next(struct pl *rest, struct pl *name, struct pl *val)
{
	const char *end = rest->p + rest->l, *amp, *eq;

	while (rest->l && (*rest->p == '?' || *rest->p == '&'))
		pl_advance(rest, 1);
	if (!rest->l)
		return false;
	amp = memchr(rest->p, '&', rest->l);
	if (!amp)
		amp = end;
	eq = memchr(rest->p, '=', (size_t)(amp - rest->p));
	name->p = rest->p;
	name->l = (size_t)((eq ? eq : amp) - rest->p);
	val->p = eq ? eq + 1 : amp;
	val->l = (size_t)(amp - val->p);
	rest->p = amp;
	rest->l = (size_t)(end - amp);
	return true;
}


/* How many headers of H are NAME=VAL: names compared without case,
 * values as escaped text (an escaped unreserved character equals it). */
static size_t header_count(const struct pl *h, const struct pl *name,
			   const struct pl *val)
{
	struct pl rest = *h, n, v;
	size_t count = 0;

	while (header_next(&rest, &n, &v)) {
		if (0 == pl_casecmp(&n, name) && unescaped_equal(&v, val))
			++count;
	}
	return count;
}


/* RFC 3261 §19.1.4: "URI header components are never ignored. Any
 * present header component MUST be present in both URIs and match";
 * their order does not matter. */
static bool headers_equal(const struct pl *a, const struct pl *b)
{
	struct pl rest = *a, n, v;
	size_t na = 0, nb = 0;

	while (header_next(&rest, &n, &v)) {
		if (header_count(a, &n, &v) != header_count(b, &n, &v))
			return false;
		++na;
	}
	rest = *b;
	while (header_next(&rest, &n, &v))
		++nb;
	return na == nb;
}


bool sipuri_equal(const struct uri *a, const struct uri *b)
{
	if (!a || !b)
		return false;

	return 0 == pl_casecmp(&a->scheme, &b->scheme) &&
		unescaped_equal(&a->user, &b->user) &&
		unescaped_equal(&a->password, &b->password) &&
		0 == pl_casecmp(&a->host, &b->host) &&
		a->port == b->port &&
		params_equal(&a->params, &b->params) &&
		headers_equal(&a->headers, &b->headers);
}


int sipuri_aor_key(char **keyp, const struct uri *uri)
{
	struct pl host;
	char *key;
	int err;

	if (!keyp || !uri || !pl_isset(&uri->user) || !pl_isset(&uri->host))
		return EINVAL;

	/* a fully qualified name's trailing dot names the same domain */
	host = uri->host;
	if (host.l > 1 && host.p[host.l - 1] == '.')
		--host.l;

	/* a host name has no control byte; one with a NUL would end the
	 * key early */
	for (size_t i = 0; i < host.l; i++) {
		if ((unsigned char)host.p[i] <= 0x20 || host.p[i] == 0x7f)
			return EINVAL;
	}

	/* RFC 3261 §10.3 step 5: escapes in the AOR are resolved */
	err = re_sdprintf(&key, "%H@%r", user_canonical_print, &uri->user,
			  &host);
	if (err)
		return err;

	/* the host is the key's last host.l bytes: neither part has a NUL */
	for (char *h = key + strlen(key) - host.l; *h; h++)
		*h = (char)tolower((unsigned char)*h);

	*keyp = key;
	return 0;
}


const char *sipuri_aor_domain(const char *aor)
{
	const char *at = strrchr(aor, '@');

	return at ? at + 1 : aor;
}

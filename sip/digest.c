/*
 * Digest credentials: decoding and checking (RFC 7616 §3.4, RFC 8760).
 *
 *   HA2      = H(method ":" uri)
 *   response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)
 *
 * HA1 = H(username ":" realm ":" password) comes from locus.subscriber.
 */
#include <ctype.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <re.h>
#include "sip/digest.h"
#include "sip/uri.h"

enum {
	FIELD_MAX = 1024,        /* longest field accepted (a long URI) */
};

struct field {
	const char *name;
	size_t offset;
};

#define FIELD(n) {#n, offsetof(struct digest_creds, n)}
static const struct field fields[] = {
	FIELD(username), FIELD(realm), FIELD(nonce), FIELD(uri),
	FIELD(response), FIELD(algorithm), FIELD(cnonce), FIELD(qop),
	FIELD(nc), FIELD(opaque),
};
#undef FIELD


const char *digest_alg_name(enum digest_alg alg)
{
	return alg == DIGEST_SHA256 ? "SHA-256" : "MD5";
}


size_t digest_hex_len(enum digest_alg alg)
{
	return alg == DIGEST_SHA256 ? 64 : 32;
}


static void lws_skip(struct pl *s)
{
	while (s->l && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' ||
			*s->p == '\n')) {
		++s->p;
		--s->l;
	}
}


static bool is_token_char(char c)
{
	return isalnum((unsigned char)c) || strchr("-_.!%*+`'~", c);
}


static void token_read(struct pl *s, struct pl *tok)
{
	tok->p = s->p;
	tok->l = 0;
	while (s->l && is_token_char(*s->p)) {
		++s->p;
		--s->l;
		++tok->l;
	}
}


/* A token or a quoted string (RFC 3261 §25.1).  Quoted pairs are refused:
 * the hash would need the unescaped text, and no field we use has a
 * reason to carry a quote or backslash. */
static int value_read(struct pl *s, struct pl *val, const char **problem)
{
	if (!s->l || *s->p != '"') {
		token_read(s, val);
		return val->l ? 0 : EPROTO;
	}
	++s->p;
	--s->l;
	val->p = s->p;
	val->l = 0;
	while (s->l && *s->p != '"') {
		if (*s->p == '\\') {
			*problem = "Escaped Character in Digest Credentials";
			return EPROTO;
		}
		++s->p;
		--s->l;
		++val->l;
	}
	if (!s->l)
		return EPROTO;
	++s->p;
	--s->l;
	return 0;
}


static int field_store(struct digest_creds *c, const struct pl *name,
		       const struct pl *val, const char **problem)
{
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		struct pl *dst = (struct pl *)((char *)c + fields[i].offset);

		if (pl_strcasecmp(name, fields[i].name))
			continue;
		if (pl_isset(dst)) {
			*problem = "Duplicate Field in Digest Credentials";
			return EPROTO;
		}
		if (val->l > FIELD_MAX) {
			*problem = "Digest Credentials Field Too Long";
			return EPROTO;
		}
		*dst = *val;
		return 0;
	}
	return 0;   /* unknown fields are ignored (RFC 7616 §3.4) */
}


static int params_read(struct digest_creds *c, struct pl s,
		       const char **problem)
{
	for (;;) {
		struct pl name, val;

		lws_skip(&s);
		while (s.l && *s.p == ',') {
			++s.p;
			--s.l;
			lws_skip(&s);
		}
		if (!s.l)
			return 0;
		token_read(&s, &name);
		lws_skip(&s);
		if (!name.l || !s.l || *s.p != '=')
			return EPROTO;
		++s.p;
		--s.l;
		lws_skip(&s);
		if (value_read(&s, &val, problem) ||
		    field_store(c, &name, &val, problem))
			return EPROTO;
		lws_skip(&s);
		if (s.l && *s.p != ',')
			return EPROTO;
	}
}


static bool is_hex(const struct pl *pl, size_t len)
{
	if (pl->l != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)pl->p[i]))
			return false;
	return true;
}


static int fields_check(struct digest_creds *c, const char **problem)
{
	if (!pl_isset(&c->username) || !pl_isset(&c->realm) ||
	    !pl_isset(&c->nonce) || !pl_isset(&c->uri) ||
	    !pl_isset(&c->response)) {
		*problem = "Incomplete Digest Credentials";
		return EPROTO;
	}
	if (!pl_isset(&c->algorithm) || !pl_strcasecmp(&c->algorithm, "MD5"))
		c->alg = DIGEST_MD5;
	else if (!pl_strcasecmp(&c->algorithm, "SHA-256"))
		c->alg = DIGEST_SHA256;
	else {
		*problem = "Unsupported Digest Algorithm";
		return EPROTO;
	}
	/* we always offer qop="auth"; RFC 7616 §3.4 then requires it */
	if (pl_strcasecmp(&c->qop, "auth") || !pl_isset(&c->cnonce)) {
		*problem = "Digest Credentials Without qop=auth";
		return EPROTO;
	}
	if (!is_hex(&c->nc, 8)) {
		*problem = "Malformed Digest Nonce Count";
		return EPROTO;
	}
	c->nc_value = pl_x32(&c->nc);
	if (!is_hex(&c->response, digest_hex_len(c->alg))) {
		*problem = "Malformed Digest Response";
		return EPROTO;
	}
	return 0;
}


int digest_creds_decode(struct digest_creds *c, const struct pl *value,
			const char **problem)
{
	struct pl s = *value, scheme;
	int err;

	memset(c, 0, sizeof(*c));
	*problem = "Malformed Digest Credentials";
	lws_skip(&s);
	token_read(&s, &scheme);
	if (pl_strcasecmp(&scheme, "Digest")) {
		*problem = "Authorization Scheme Is Not Digest";
		return EPROTO;
	}
	err = params_read(c, s, problem);
	if (!err)
		err = fields_check(c, problem);
	return err;
}


int digest_hex(char *out, enum digest_alg alg, const char *s, size_t len)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (!EVP_Digest(s, len, md, &mdlen, alg == DIGEST_SHA256 ?
			EVP_sha256() : EVP_md5(), NULL))
		return EIO;
	/* RFC 7616 §3.2: lowercase hex digits, which is what %w writes */
	(void)re_snprintf(out, 2 * (size_t)mdlen + 1, "%w", md,
			  (size_t)mdlen);
	return 0;
}


bool digest_response_ok(const struct digest_creds *c, const char *ha1,
			const struct pl *method)
{
	char ha2[DIGEST_HEX_MAX + 1], want[DIGEST_HEX_MAX + 1];
	char got[DIGEST_HEX_MAX + 1];
	char buf[4 * FIELD_MAX + 2 * DIGEST_HEX_MAX + 64];
	size_t hl = digest_hex_len(c->alg);
	int n;

	if (strlen(ha1) != hl || c->response.l != hl)
		return false;
	n = re_snprintf(buf, sizeof(buf), "%r:%r", method, &c->uri);
	if (n < 0 || digest_hex(ha2, c->alg, buf, (size_t)n))
		return false;
	n = re_snprintf(buf, sizeof(buf), "%s:%r:%r:%r:%r:%s", ha1,
			&c->nonce, &c->nc, &c->cnonce, &c->qop, ha2);
	if (n < 0 || digest_hex(want, c->alg, buf, (size_t)n))
		return false;
	for (size_t i = 0; i < hl; i++)
		got[i] = (char)tolower((unsigned char)c->response.p[i]);
	return 0 == CRYPTO_memcmp(got, want, hl);
}


/* RFC 3261 §25.1 unreserved: the characters equivalent to their escapes
 * (§19.1.4); an escaped reserved character is not. */
static bool is_unreserved(int c)
{
	return isalnum(c) || (c && strchr("-_.!~*'()", c));
}


/* The next character of an escaped text, advancing *P: an escape of an
 * unreserved character counts as that character, any other escape as
 * 256 + its value. */
static int escaped_unit(const char **p, const char *end)
{
	if (**p == '%' && end - *p >= 3 && isxdigit((unsigned char)(*p)[1]) &&
	    isxdigit((unsigned char)(*p)[2])) {
		int c = ch_hex((*p)[1]) << 4 | ch_hex((*p)[2]);

		*p += 3;
		return is_unreserved(c) ? c : 256 + c;
	}
	return (unsigned char)*(*p)++;
}


static bool escaped_equal(const struct pl *a, const struct pl *b)
{
	const char *pa = a->p, *ea = a->p + a->l;
	const char *pb = b->p, *eb = b->p + b->l;

	if (!a->l || !b->l)
		return a->l == b->l;
	while (pa < ea && pb < eb) {
		if (escaped_unit(&pa, ea) != escaped_unit(&pb, eb))
			return false;
	}
	return pa == ea && pb == eb;
}


/* The next hname=hvalue of the URI headers *REST ("?a=1&b=2"). */
static bool header_next(struct pl *rest, struct pl *name, struct pl *val)
{
	const char *amp, *eq;
	struct pl item;

	if (rest->l && (*rest->p == '?' || *rest->p == '&'))
		pl_advance(rest, 1);
	if (!rest->l)
		return false;
	amp = pl_strchr(rest, '&');
	item.p = rest->p;
	item.l = amp ? (size_t)(amp - rest->p) : rest->l;
	pl_advance(rest, item.l);
	eq = pl_strchr(&item, '=');
	name->p = item.p;
	name->l = eq ? (size_t)(eq - item.p) : item.l;
	val->p = eq ? eq + 1 : NULL;
	val->l = eq ? item.l - name->l - 1 : 0;
	return true;
}


static bool header_in(const struct pl *name, const struct pl *val,
		      struct pl headers)
{
	struct pl n, v;

	while (header_next(&headers, &n, &v)) {
		if (0 == pl_casecmp(name, &n) && escaped_equal(val, &v))
			return true;
	}
	return false;
}


static bool headers_within(struct pl a, const struct pl *b)
{
	struct pl n, v;

	while (header_next(&a, &n, &v)) {
		if (!header_in(&n, &v, *b))
			return false;
	}
	return true;
}


/* RFC 3261 §19.1.4: URI headers are never ignored: the same ones must be
 * in both, names in any case, values equal up to unreserved escapes. */
static bool headers_equal(const struct pl *a, const struct pl *b)
{
	return headers_within(*a, b) && headers_within(*b, a);
}


/* A fully qualified name's trailing dot names the same host. */
static void host_undot(struct uri *u)
{
	if (u->host.l > 1 && u->host.p[u->host.l - 1] == '.')
		--u->host.l;
}


bool digest_uri_matches(const struct digest_creds *c, const struct pl *raw,
			const struct uri *ruri)
{
	struct uri du, ru = *ruri;

	if (0 == pl_cmp(&c->uri, raw))
		return true;
	if (uri_decode(&du, &c->uri) || !sipuri_is_sip(&du) ||
	    !sipuri_is_sip(&ru))
		return false;
	host_undot(&du);
	host_undot(&ru);
	return sipuri_equal(&du, &ru) && headers_equal(&du.headers, &ru.headers);
}

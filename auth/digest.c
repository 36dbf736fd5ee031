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
#include "auth/digest.h"

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
	static const char hex[] = "0123456789abcdef";
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (!EVP_Digest(s, len, md, &mdlen, alg == DIGEST_SHA256 ?
			EVP_sha256() : EVP_md5(), NULL))
		return EIO;
	for (unsigned i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[2 * mdlen] = '\0';
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

/* OpenSSL 3 deprecates its SHA-256 functions for EVP, and keeps them:
 * they are what the MAC below needs, without EVP's dispatch. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <re.h>
#include "keys/base64url.h"
#include "keys/nodekey.h"
#include "proxy/stamp.h"
#include "sip/uri.h"

enum { BLOCK = 64 };   /* SHA-256's block: HMAC pads its key to it */

/* HMAC-SHA256 (RFC 2104) under one key, its inner and outer pads hashed
 * once: a MAC is then two SHA-256 compressions and two copies.  Every
 * proxied request and response is stamped or checked: OpenSSL's EVP_MAC
 * (and one-shot HMAC(), worse) spent most of their time on dispatch and
 * re-keying, up to a tenth of the proxy's CPU per call. */
struct mac_key {
	SHA256_CTX inner;
	SHA256_CTX outer;
};

struct stamp {
	struct mac_key via;
	struct mac_key dialog;
	struct mac_key flow;
	struct mac_key origin;
};


static void stamp_destructor(void *arg)
{
	OPENSSL_cleanse(arg, sizeof(struct stamp));
}


/* K keyed with the key derived for PURPOSE. */
static int mac_key_init(struct mac_key *k, const struct node_key *key,
			const char *purpose)
{
	uint8_t derived[DERIVED_KEY_LEN], pad[BLOCK];
	int err = node_key_derive(key, purpose, derived);

	for (int round = 0; !err && round < 2; round++) {
		SHA256_CTX *c = round ? &k->outer : &k->inner;

		memset(pad, round ? 0x5c : 0x36, sizeof(pad));
		for (size_t i = 0; i < sizeof(derived); i++)
			pad[i] ^= derived[i];
		if (!SHA256_Init(c) || !SHA256_Update(c, pad, sizeof(pad)))
			err = EIO;
	}
	OPENSSL_cleanse(derived, sizeof(derived));
	OPENSSL_cleanse(pad, sizeof(pad));
	return err;
}


int stamp_alloc(struct stamp **sp, const struct node_key *key)
{
	struct stamp *s = mem_zalloc(sizeof(*s), stamp_destructor);

	if (!s)
		return ENOMEM;
	if (mac_key_init(&s->via, key, "locus via stamp") ||
	    mac_key_init(&s->dialog, key, "locus dialog stamp") ||
	    mac_key_init(&s->flow, key, "locus flow token") ||
	    mac_key_init(&s->origin, key, "locus origin stamp")) {
		mem_deref(s);
		return EIO;
	}
	*sp = s;
	return 0;
}


/* Of several fields each goes in with its length in front, so that no two
 * lists of fields feed the MAC the same bytes; a single one goes in as it
 * is (the Via stamp, as every version made it). */
static int mac(uint8_t md[32], const struct mac_key *k,
	       const struct pl *fields, size_t n)
{
	SHA256_CTX c = k->inner;
	int ok = 1;

	for (size_t i = 0; i < n && ok; i++) {
		uint8_t prefix[2] = {(uint8_t)(fields[i].l >> 8),
				     (uint8_t)fields[i].l};

		ok = fields[i].l <= 0xffff &&
			(n == 1 || SHA256_Update(&c, prefix, sizeof(prefix))) &&
			SHA256_Update(&c, fields[i].p, fields[i].l);
	}
	ok = ok && SHA256_Final(md, &c);
	c = k->outer;
	ok = ok && SHA256_Update(&c, md, 32) && SHA256_Final(md, &c);
	OPENSSL_cleanse(&c, sizeof(c));
	return ok ? 0 : EIO;
}


/* The first N bytes of MD in lowercase hex, and a NUL. */
static void hex_write(char *out, const uint8_t *md, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 0xf];
	}
	out[2 * n] = '\0';
}


/* A MAC that fails to compute fails the check: never a zero stamp that
 * anyone could write. */
static bool hex_equal(const char *want, const struct pl *tag, size_t len)
{
	return tag->l == len && 0 == CRYPTO_memcmp(want, tag->p, len);
}


int stamp_via(char out[STAMP_VIA_LEN + 1], const struct stamp *s,
	      const struct pl *branch)
{
	uint8_t md[32];
	int err = mac(md, &s->via, branch, 1);

	if (!err)
		hex_write(out, md, STAMP_VIA_LEN / 2);
	OPENSSL_cleanse(md, sizeof(md));
	return err;
}


bool stamp_via_check(const struct stamp *s, const struct pl *branch,
		     const struct pl *tag)
{
	char want[STAMP_VIA_LEN + 1];

	return tag && 0 == stamp_via(want, s, branch) &&
		hex_equal(want, tag, STAMP_VIA_LEN);
}


void stamp_party(char out[STAMP_PARTY_SIZE], struct pl *pl,
		 const struct sip_taddr *party)
{
	char *key = NULL;

	out[0] = '\0';
	if (0 == sipuri_aor_key(&key, &party->uri)) {
		if (strlen(key) < STAMP_PARTY_SIZE)
			str_ncpy(out, key, STAMP_PARTY_SIZE);
		mem_deref(key);
	}
	else if (party->auri.l < STAMP_PARTY_SIZE) {
		(void)pl_strcpy(&party->auri, out, STAMP_PARTY_SIZE);
	}
	pl_set_str(pl, out);
}


int stamp_dialog(char out[STAMP_DIALOG_LEN + 1], const struct stamp *s,
		 enum stamp_dir dir, const struct stamp_dialog_fields *f)
{
	char letter = (char)dir;
	const struct pl fields[] = {
		{&letter, 1}, f->callid, f->caller_tag, f->hop, f->caller,
		f->callee, f->callee_tag,
	};
	uint8_t md[32];
	int err;

	/* a party that could not be written is no party: no stamp */
	if (!f->caller.l || !f->callee.l)
		return EINVAL;
	/* a stamp for requests to the caller is made before the callee's
	 * tag exists (it rides on the request that makes the dialog) */
	err = mac(md, &s->dialog, fields, dir == STAMP_TO_CALLER ? 6 : 7);
	if (!err) {
		out[0] = letter;
		hex_write(out + 1, md, (STAMP_DIALOG_LEN - 1) / 2);
	}
	OPENSSL_cleanse(md, sizeof(md));
	return err;
}


bool stamp_dialog_check(const struct stamp *s, const struct pl *tag,
			const struct sip_msg *req, const struct pl *hop,
			enum stamp_dir *dir)
{
	struct stamp_dialog_fields f = {.callid = req->callid, .hop = *hop};
	char want[STAMP_DIALOG_LEN + 1];
	char caller[STAMP_PARTY_SIZE], callee[STAMP_PARTY_SIZE];

	if (!tag || tag->l != STAMP_DIALOG_LEN || !pl_isset(&req->to.tag))
		return false;
	switch (tag->p[0]) {

	case STAMP_TO_CALLER:
		f.caller_tag = req->to.tag;
		stamp_party(caller, &f.caller, &req->to);
		stamp_party(callee, &f.callee, &req->from);
		break;
	case STAMP_TO_CALLEE:
		f.caller_tag = req->from.tag;
		f.callee_tag = req->to.tag;
		stamp_party(caller, &f.caller, &req->from);
		stamp_party(callee, &f.callee, &req->to);
		break;
	default:
		return false;
	}
	if (stamp_dialog(want, s, (enum stamp_dir)tag->p[0], &f) ||
	    !hex_equal(want, tag, STAMP_DIALOG_LEN))
		return false;
	*dir = (enum stamp_dir)tag->p[0];
	return true;
}


/* ---- flow tokens ---------------------------------------------------- */

/* The bytes of a token: transport, address family, the peer's address
 * and port (network order), the flow's identity, then the MAC over all
 * of them cut to 128 bits. */
enum {
	FLOW_MAC_LEN = 16,
	FLOW_V4_LEN = 1 + 1 + 4 + 2 + 8,
	FLOW_V6_LEN = 1 + 1 + 16 + 2 + 8,
	FLOW_MAX_LEN = FLOW_V6_LEN + FLOW_MAC_LEN,
};


/* The flow's bytes into BUF; their number, 0 for a family we have not. */
static size_t flow_bytes(uint8_t buf[FLOW_MAX_LEN], const struct stamp_flow *f)
{
	uint16_t port = htons(sa_port(&f->peer));
	size_t n = 0;

	buf[n++] = (uint8_t)f->tp;
	if (sa_af(&f->peer) == AF_INET) {
		buf[n++] = 4;
		memcpy(buf + n, &f->peer.u.in.sin_addr, 4);
		n += 4;
	}
	else if (sa_af(&f->peer) == AF_INET6) {
		buf[n++] = 6;
		memcpy(buf + n, &f->peer.u.in6.sin6_addr, 16);
		n += 16;
	}
	else {
		return 0;
	}
	memcpy(buf + n, &port, 2);
	n += 2;
	for (int i = 7; i >= 0; i--)
		buf[n++] = (uint8_t)(f->id >> (8 * i));
	return n;
}


int stamp_flow(char out[STAMP_FLOW_SIZE], const struct stamp *s,
	       const struct stamp_flow *f)
{
	uint8_t buf[FLOW_MAX_LEN], md[32];
	size_t n = flow_bytes(buf, f);
	int err;

	if (!n)
		return EAFNOSUPPORT;
	err = mac(md, &s->flow, &(struct pl){(const char *)buf, n}, 1);
	if (!err) {
		memcpy(buf + n, md, FLOW_MAC_LEN);
		base64url_encode(out, buf, n + FLOW_MAC_LEN);
	}
	OPENSSL_cleanse(md, sizeof(md));
	return err;
}


int stamp_origin(char out[STAMP_ORIGIN_LEN + 1], const struct stamp *s,
		 const struct stamp_origin_fields *f, uint32_t expires)
{
	char exp[9];
	const struct pl fields[] = {
		{exp, 8}, f->method, f->ruri, f->from_uri, f->to_uri,
	};
	uint8_t md[32];
	int err;

	(void)re_snprintf(exp, sizeof(exp), "%08x", expires);
	err = mac(md, &s->origin, fields, ARRAY_SIZE(fields));
	if (!err)
		(void)re_snprintf(out, STAMP_ORIGIN_LEN + 1, "%s%w", exp, md,
				  (size_t)(STAMP_ORIGIN_LEN - 8) / 2);
	OPENSSL_cleanse(md, sizeof(md));
	return err;
}


static int flow_parse(struct stamp_flow *f, const uint8_t *buf, size_t n)
{
	uint16_t port;
	size_t i = 2;

	memset(f, 0, sizeof(*f));
	if (buf[0] >= SIP_TRANSPC ||
	    (n == FLOW_V4_LEN) != (buf[1] == 4) ||
	    (n == FLOW_V6_LEN) != (buf[1] == 6))
		return EBADMSG;
	f->tp = (enum sip_transp)buf[0];
	if (buf[1] == 4) {
		sa_init(&f->peer, AF_INET);
		memcpy(&f->peer.u.in.sin_addr, buf + i, 4);
		i += 4;
	}
	else {
		sa_init(&f->peer, AF_INET6);
		memcpy(&f->peer.u.in6.sin6_addr, buf + i, 16);
		i += 16;
	}
	memcpy(&port, buf + i, 2);
	sa_set_port(&f->peer, ntohs(port));
	for (i += 2; i < n; i++)
		f->id = f->id << 8 | buf[i];
	return 0;
}


int stamp_flow_check(struct stamp_flow *f, const struct stamp *s,
		     const struct pl *token)
{
	uint8_t buf[FLOW_MAX_LEN], md[32];
	char text[STAMP_FLOW_SIZE];
	size_t n;
	int err;

	if (!token || !token->l || token->l >= sizeof(text))
		return EBADMSG;
	if (token->l == base64url_encoded_len(FLOW_V4_LEN + FLOW_MAC_LEN))
		n = FLOW_V4_LEN;
	else if (token->l == base64url_encoded_len(FLOW_V6_LEN + FLOW_MAC_LEN))
		n = FLOW_V6_LEN;
	else
		return EBADMSG;
	(void)pl_strcpy(token, text, sizeof(text));
	if (base64url_decode(buf, n + FLOW_MAC_LEN, text))
		return EBADMSG;
	err = mac(md, &s->flow, &(struct pl){(const char *)buf, n}, 1);
	if (!err && CRYPTO_memcmp(md, buf + n, FLOW_MAC_LEN))
		err = EBADMSG;
	OPENSSL_cleanse(md, sizeof(md));
	return err ? EBADMSG : flow_parse(f, buf, n);
}


bool stamp_origin_check(const struct stamp *s, const struct pl *tag,
			const struct sip_msg *req, uint32_t now)
{
	struct stamp_origin_fields f = {req->met, req->ruri, req->from.auri,
					req->to.auri};
	char want[STAMP_ORIGIN_LEN + 1];
	struct pl exp;
	uint32_t expires;

	if (!tag || tag->l != STAMP_ORIGIN_LEN)
		return false;
	exp = (struct pl){tag->p, 8};
	expires = pl_x32(&exp);
	/* a stamp from further ahead than it could have been made is no
	 * stamp of ours (nor an expired one) */
	if (expires < now || expires > now + STAMP_ORIGIN_LIFETIME)
		return false;
	return 0 == stamp_origin(want, s, &f, expires) &&
		hex_equal(want, tag, STAMP_ORIGIN_LEN);
}

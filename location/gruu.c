/* The temporary-GRUU token (RFC 5627 §3.1.2, §3.2, §5.4, Appendix A.2).
 *
 * RFC 5627 §5.4 requires the registrar to recover the AOR and the instance
 * ID from any GRUU it handed out; §3.1.2 wants a temp-gruu from which the
 * AOR "cannot be readily determined"; §3.2 hands out a new one on every
 * refresh, and a UA may use a different one per call so that calls cannot
 * be correlated (§10.3), so tokens of one device must not be linkable.
 * Appendix A.2 suggests a stateless, cryptographically protected token;
 * we use an AEAD so that a forged or modified token is rejected, and carry
 * the registration generation so that a refresh with a new Call-ID can
 * invalidate all older temp-gruus (§3.2) without a row per token.
 *
 * Token (the part after "tgruu."):
 *
 *   base64url-nopad( iv[12] || ciphertext[16*k] || tag[16] )
 *
 *   AES-256-GCM under the key derived from the node key for the purpose
 *   "locus temp-gruu token", a fresh random 96-bit IV per token, 128-bit
 *   tag, AAD = "locus-tgruu-v1" (a format change gets a new AAD, so an old
 *   node fails such a token cleanly instead of misparsing it).
 *
 * Plaintext, version 1 (all integers big-endian):
 *
 *   off  size
 *   0    1     version, 0x01
 *   1    1     instance form: 0 = raw string, 1 = urn:uuid lowercase hex,
 *                             2 = urn:uuid uppercase hex
 *   2    8     generation
 *   10   ...   instance: form 0: u16 length, then that many bytes
 *                        form 1, 2: the 16 bytes of the UUID
 *   ...  2     AOR length (>= 1), then that many bytes
 *   ...  ...   zero bytes up to the next multiple of 16
 *
 * Only "urn:uuid:" followed by a UUID written entirely in lowercase or
 * entirely in uppercase hex is stored compactly, so that decoding gives
 * back exactly the string that was encoded; any other spelling is stored
 * raw.  The padding hides the AOR length to within 16 bytes; the decoder
 * insists on exactly the minimal padding, all zero, no NUL inside the
 * strings, and no trailing bytes, although the tag already rules out
 * anything this code did not write.
 *
 * For "alice@example.com" and a urn:uuid instance: 45 bytes of plaintext,
 * padded to 48, 76 bytes of token, 102 characters of base64url.
 *
 * The key owns two EVP_CIPHER_CTX, one per direction, initialised with the
 * key once; a token only resets the IV, so the AES key schedule and
 * GHASH tables are computed once per process, not per REGISTER.  That makes
 * a key usable from one thread at a time, which is how locus runs.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <re.h>
#include "keys/base64url.h"
#include "keys/nodekey.h"
#include "location/gruu.h"


enum {
	IV_LEN      = 12,  /* GCM's 96-bit IV, random per token */
	TAG_LEN     = 16,
	BLOCK       = 16,

	PT_VERSION  = 0x01,

	INST_RAW    = 0,
	INST_UUID_L = 1,
	INST_UUID_U = 2,

	UUID_STRLEN = 45,  /* "urn:uuid:" + 8-4-4-4-12 */
	PT_HDR      = 10,  /* version, form, generation */

	/* Longest token accepted or produced.  Anything longer is refused
	 * before any work is done.  It leaves room for a 318-byte AOR
	 * (64-byte user, 253-byte host) with a 400-byte non-uuid instance. */
	TOKEN_MAX   = 1024,
	TOKEN_BYTES_MAX = TOKEN_MAX / 4 * 3,
	PT_MAX      = (TOKEN_BYTES_MAX - IV_LEN - TAG_LEN) / BLOCK * BLOCK,
};

static const char key_purpose[] = "locus temp-gruu token";
static const char aad[] = "locus-tgruu-v1";
static const char uuid_prefix[] = "urn:uuid:";


struct gruu_key {
	EVP_CIPHER_CTX *enc;
	EVP_CIPHER_CTX *dec;
};


static void gruu_key_destructor(void *arg)
{
	struct gruu_key *key = arg;

	/* Freeing a context cleanses its expanded key schedule. */
	EVP_CIPHER_CTX_free(key->enc);
	EVP_CIPHER_CTX_free(key->dec);
}


int gruu_key_alloc(struct gruu_key **keyp, const struct node_key *node_key)
{
	uint8_t aes_key[DERIVED_KEY_LEN];
	struct gruu_key *key;
	int err;

	if (!keyp || !node_key)
		return EINVAL;

	key = mem_zalloc(sizeof(*key), gruu_key_destructor);
	if (!key)
		return ENOMEM;

	key->enc = EVP_CIPHER_CTX_new();
	key->dec = EVP_CIPHER_CTX_new();
	err = key->enc && key->dec ? 0 : ENOMEM;
	if (!err)
		err = node_key_derive(node_key, key_purpose, aes_key);

	/* The key is installed once here; a token sets only the IV.
	 * 12 bytes is GCM's default IV length. */
	if (!err &&
	    (1 != EVP_EncryptInit_ex(key->enc, EVP_aes_256_gcm(), NULL,
				     aes_key, NULL) ||
	     1 != EVP_DecryptInit_ex(key->dec, EVP_aes_256_gcm(), NULL,
				     aes_key, NULL)))
		err = EIO;

	OPENSSL_cleanse(aes_key, sizeof(aes_key));
	if (err)
		mem_deref(key);
	else
		*keyp = key;
	return err;
}


/* ---- tokens ----------------------------------------------------------- */

static void put_u16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}


static size_t get_u16(const uint8_t *p)
{
	return (size_t)p[0] << 8 | p[1];
}


/* INST_UUID_L / INST_UUID_U if S is "urn:uuid:" and a UUID in one case
 * only (then RAW gets its 16 bytes), else INST_RAW. */
static int uuid_parse(uint8_t raw[16], const char *s, size_t len)
{
	const size_t plen = sizeof(uuid_prefix) - 1;
	bool lower = false, upper = false;
	size_t i, n = 0;

	if (len != UUID_STRLEN || memcmp(s, uuid_prefix, plen))
		return INST_RAW;

	for (i = plen; i < len; i++) {
		const int c = (unsigned char)s[i];
		const size_t pos = i - plen;
		uint8_t v;

		if (pos == 8 || pos == 13 || pos == 18 || pos == 23) {
			if (c != '-')
				return INST_RAW;
			continue;
		}

		if (!isxdigit(c))
			return INST_RAW;
		v = ch_hex((char)c);
		if (c >= 'a' && c <= 'f')
			lower = true;
		else if (c >= 'A' && c <= 'F')
			upper = true;

		if (n & 1)
			raw[n / 2] |= (uint8_t)v;
		else
			raw[n / 2] = (uint8_t)(v << 4);
		++n;
	}

	if (lower && upper)
		return INST_RAW;

	return upper ? INST_UUID_U : INST_UUID_L;
}


/* The spelling uuid_parse() took RAW from: 8-4-4-4-12 hex digits, all
 * of them lowercase or all uppercase. */
static void uuid_print(char out[UUID_STRLEN + 1], const uint8_t raw[16],
		       bool upper)
{
	(void)re_snprintf(out, UUID_STRLEN + 1, "%s%w-%w-%w-%w-%w",
			  uuid_prefix, raw, (size_t)4, raw + 4, (size_t)2,
			  raw + 6, (size_t)2, raw + 8, (size_t)2, raw + 10,
			  (size_t)6);
	if (upper) {
		for (char *p = out + sizeof(uuid_prefix) - 1; *p; p++)
			*p = (char)toupper((unsigned char)*p);
	}
}


int gruu_token_encode(char **tokenp, const struct gruu_key *key,
		      const char *aor, const char *instance,
		      uint64_t generation)
{
	uint8_t pt[PT_MAX];
	uint8_t tok[IV_LEN + PT_MAX + TAG_LEN];
	uint8_t *ct = tok + IV_LEN;
	size_t alen, ilen, used, ptlen, toklen;
	EVP_CIPHER_CTX *ctx;
	int form, outl, err = 0;
	char *s;

	if (!tokenp || !key || !aor || !instance)
		return EINVAL;

	alen = strlen(aor);
	ilen = strlen(instance);
	if (!alen || !ilen)
		return EINVAL;
	if (alen > PT_MAX || ilen > PT_MAX)
		return EOVERFLOW;

	form = uuid_parse(pt + PT_HDR, instance, ilen);

	used = PT_HDR + (form == INST_RAW ? 2 + ilen : 16) + 2 + alen;
	ptlen = (used + BLOCK - 1) / BLOCK * BLOCK;
	if (ptlen > PT_MAX)
		return EOVERFLOW;

	pt[0] = PT_VERSION;
	pt[1] = (uint8_t)form;
	for (int i = 0; i < 8; i++)
		pt[2 + i] = (uint8_t)(generation >> (56 - 8 * i));

	used = PT_HDR;
	if (form == INST_RAW) {
		put_u16(pt + used, ilen);
		memcpy(pt + used + 2, instance, ilen);
		used += 2 + ilen;
	}
	else {
		used += 16;  /* written by uuid_parse() */
	}
	put_u16(pt + used, alen);
	memcpy(pt + used + 2, aor, alen);
	used += 2 + alen;
	memset(pt + used, 0, ptlen - used);

	/* RFC 5627 §3.2: temp-gruus must not be linkable; a random IV
	 * also keeps GCM safe (collision odds stay negligible far beyond
	 * 2^32 tokens per key).  libre's rand_bytes(), which the daemon
	 * draws from a pool of kernel randomness (compat/random.c): this
	 * runs for every REGISTER. */
	rand_bytes(tok, IV_LEN);

	ctx = key->enc;
	if (1 != EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, tok) ||
	    1 != EVP_EncryptUpdate(ctx, NULL, &outl, (const uint8_t *)aad,
				   (int)(sizeof(aad) - 1)) ||
	    1 != EVP_EncryptUpdate(ctx, ct, &outl, pt, (int)ptlen) ||
	    (size_t)outl != ptlen ||
	    1 != EVP_EncryptFinal_ex(ctx, ct + outl, &outl) ||
	    1 != EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
				     ct + ptlen)) {
		err = EIO;
		goto out;
	}

	toklen = IV_LEN + ptlen + TAG_LEN;
	s = mem_alloc(base64url_encoded_len(toklen) + 1, NULL);
	if (!s) {
		err = ENOMEM;
		goto out;
	}
	base64url_encode(s, tok, toklen);
	*tokenp = s;

 out:
	OPENSSL_cleanse(pt, sizeof(pt));
	return err;
}


static char *strdup_n(const uint8_t *p, size_t n)
{
	char *s = mem_alloc(n + 1, NULL);

	if (!s)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}


/* Lengths, base64 and AES-GCM: the authenticated plaintext of TOKEN in
 * PT.  *PTLENP is set as soon as PT may hold anything (to be cleansed). */
static int token_open(const struct gruu_key *key, const struct pl *token,
		      uint8_t pt[PT_MAX], size_t *ptlenp)
{
	uint8_t tok[TOKEN_BYTES_MAX];
	uint8_t tag[TAG_LEN];
	EVP_CIPHER_CTX *ctx = key->dec;
	size_t n, ptlen;
	int outl;

	/* Lengths first: they are public, and refusing on them costs
	 * nothing.  The byte length must be IV + k blocks + tag, and
	 * the character length exactly the unpadded encoding of it. */
	if (!token->p || token->l > TOKEN_MAX)
		return EBADMSG;
	n = token->l * 3 / 4;
	if (base64url_encoded_len(n) != token->l ||
	    n < IV_LEN + BLOCK + TAG_LEN || (n - IV_LEN - TAG_LEN) % BLOCK)
		return EBADMSG;
	ptlen = n - IV_LEN - TAG_LEN;

	if (base64url_decode(tok, n, token->p))
		return EBADMSG;

	memcpy(tag, tok + IV_LEN + ptlen, TAG_LEN);
	*ptlenp = ptlen;
	if (1 != EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, tok) ||
	    1 != EVP_DecryptUpdate(ctx, NULL, &outl, (const uint8_t *)aad,
				   (int)(sizeof(aad) - 1)) ||
	    1 != EVP_DecryptUpdate(ctx, pt, &outl, tok + IV_LEN,
				   (int)ptlen) ||
	    (size_t)outl != ptlen ||
	    1 != EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) ||
	    1 != EVP_DecryptFinal_ex(ctx, pt + outl, &outl))
		return EBADMSG;
	return 0;
}


/* The fields of a plaintext, as slices of it. */
struct token_fields {
	int form;                /* INST_RAW, INST_UUID_L or INST_UUID_U */
	uint64_t gen;
	const uint8_t *inst;
	size_t ilen;             /* INST_RAW only */
	const uint8_t *aor;
	size_t alen;
};


/* The instance field at *OFF, which moves past it. */
static int instance_field(const uint8_t *pt, size_t ptlen, size_t *off,
			  struct token_fields *f)
{
	switch (f->form) {

	case INST_RAW:
		if (ptlen - *off < 2)
			return EBADMSG;
		f->ilen = get_u16(pt + *off);
		*off += 2;
		if (!f->ilen || f->ilen > ptlen - *off)
			return EBADMSG;
		f->inst = pt + *off;
		*off += f->ilen;
		return 0;

	case INST_UUID_L:
	case INST_UUID_U:
		if (ptlen - *off < 16)
			return EBADMSG;
		f->inst = pt + *off;
		*off += 16;
		return 0;

	default:
		return EBADMSG;
	}
}


/* Authentic, yet parsed defensively: every offset is checked against
 * PTLEN before it is used. */
static int plaintext_parse(const uint8_t *pt, size_t ptlen,
			   struct token_fields *f)
{
	size_t off = PT_HDR, used;

	memset(f, 0, sizeof(*f));
	if (pt[0] != PT_VERSION)
		return EBADMSG;
	f->form = pt[1];
	for (int i = 0; i < 8; i++)
		f->gen = f->gen << 8 | pt[2 + i];
	if (instance_field(pt, ptlen, &off, f) || ptlen - off < 2)
		return EBADMSG;
	f->alen = get_u16(pt + off);
	off += 2;
	if (!f->alen || f->alen > ptlen - off)
		return EBADMSG;
	f->aor = pt + off;
	used = off + f->alen;

	/* Minimal zero padding, and strings a C caller can use. */
	if (ptlen - used >= BLOCK)
		return EBADMSG;
	for (size_t i = used; i < ptlen; i++) {
		if (pt[i])
			return EBADMSG;
	}
	if (memchr(f->aor, 0, f->alen) ||
	    (f->form == INST_RAW && memchr(f->inst, 0, f->ilen)))
		return EBADMSG;
	return 0;
}


static int fields_dup(const struct token_fields *f, char **aorp,
		      char **instancep)
{
	char *aor = strdup_n(f->aor, f->alen), *instance;

	if (f->form == INST_RAW) {
		instance = strdup_n(f->inst, f->ilen);
	}
	else {
		instance = mem_alloc(UUID_STRLEN + 1, NULL);
		if (instance)
			uuid_print(instance, f->inst, f->form == INST_UUID_U);
	}
	if (!aor || !instance) {
		mem_deref(aor);
		mem_deref(instance);
		return ENOMEM;
	}
	*aorp = aor;
	*instancep = instance;
	return 0;
}


int gruu_token_decode(const struct gruu_key *key, const struct pl *token,
		      char **aorp, char **instancep, uint64_t *generationp)
{
	uint8_t pt[PT_MAX];
	size_t ptlen = 0;
	struct token_fields f;
	int err;

	if (!key || !token || !aorp || !instancep || !generationp)
		return EINVAL;

	err = token_open(key, token, pt, &ptlen);
	if (!err)
		err = plaintext_parse(pt, ptlen, &f);
	if (!err)
		err = fields_dup(&f, aorp, instancep);
	if (!err)
		*generationp = f.gen;

	/* Only the first ptlen bytes were ever written. */
	OPENSSL_cleanse(pt, ptlen);
	return err;
}

/* Unit tests for location/gruu.c: the temp-gruu token.
 *
 * GRUU_BENCH=1 ./test_gruu prints ns/op for encode and decode instead of
 * running the tests (a measurement, never an assertion). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <re.h>
#include "keys/hkdf.h"
#include "keys/nodekey.h"
#include "location/gruu.h"


static const uint8_t key_a_raw[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#define UUID_L "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
#define UUID_U "urn:uuid:F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6"


/* The token key of a node whose node key is RAW. */
static struct gruu_key *key_new(const uint8_t raw[32])
{
	struct node_key *node_key = NULL;
	struct gruu_key *key = NULL;

	assert_int_equal(0, node_key_from_bytes(&node_key, raw));
	assert_int_equal(0, gruu_key_alloc(&key, node_key));
	assert_non_null(key);
	mem_deref(node_key);   /* the token key keeps no reference to it */
	return key;
}


static char *encode(const struct gruu_key *key, const char *aor,
		    const char *inst, uint64_t gen)
{
	char *tok = NULL;

	assert_int_equal(0, gruu_token_encode(&tok, key, aor, inst, gen));
	assert_non_null(tok);
	return tok;
}


static int decode_str(const struct gruu_key *key, const char *s, size_t len)
{
	struct pl pl;
	char *aor = NULL, *inst = NULL;
	uint64_t gen = 0;
	int err;

	pl.p = s;
	pl.l = len;
	err = gruu_token_decode(key, &pl, &aor, &inst, &gen);
	if (err) {
		/* Outputs untouched on failure. */
		assert_null(aor);
		assert_null(inst);
	}
	mem_deref(aor);
	mem_deref(inst);
	return err;
}


static void roundtrip_one(const struct gruu_key *key, const char *aor,
			  const char *inst, uint64_t gen)
{
	char *tok = encode(key, aor, inst, gen);
	char *aor2 = NULL, *inst2 = NULL;
	uint64_t gen2 = 0;
	struct pl pl;

	pl_set_str(&pl, tok);
	assert_int_equal(0, gruu_token_decode(key, &pl, &aor2, &inst2, &gen2));
	assert_string_equal(aor, aor2);
	assert_string_equal(inst, inst2);
	assert_true(gen == gen2);

	mem_deref(aor2);
	mem_deref(inst2);
	mem_deref(tok);
}


static void test_roundtrip(void **state)
{
	struct gruu_key *key = key_new(key_a_raw);
	char long_aor[301];
	char long_inst[200];
	static const uint64_t gens[] = {
		0, 1, 2, 255, 256, 0x0102030405060708ull,
		(uint64_t)1 << 63, UINT64_MAX
	};
	static const char *const aors[] = {
		"alice@example.com",
		"a@b",
		"%C3%A9l%C3%A8ve@example.org",     /* escaped é */
		"\xc3\xa9l\xc3\xa8ve@example.org", /* raw UTF-8 */
		"+1%20(555)%3B;x@example.com",
		"user:with;odd=chars?&@[2001:db8::1]",
	};
	static const char *const insts[] = {
		UUID_L,
		UUID_U,
		/* mixed case: must come back exactly so, so it is not
		 * compacted */
		"urn:uuid:f81d4fae-7dec-11d0-A765-00a0c91e6bf6",
		"URN:UUID:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
		"urn:uuid:00000000-0000-0000-0000-000000000000",
		"urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf",   /* short */
		"urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6a", /* long */
		"urn:uuid:f81d4fae+7dec-11d0-a765-00a0c91e6bf6",
		"urn:uuid:g81d4fae-7dec-11d0-a765-00a0c91e6bf6",
		"urn:gsma:imei:35-209900-176148-1",
		"urn:uuid:0123456789",
		"x",
	};

	(void)state;

	memset(long_aor, 'u', sizeof(long_aor) - 1);
	memcpy(long_aor + 280, "@long.example.com", 17);
	long_aor[sizeof(long_aor) - 1] = '\0';
	assert_int_equal(300, strlen(long_aor));

	memset(long_inst, 'i', sizeof(long_inst) - 1);
	memcpy(long_inst, "urn:x:", 6);
	long_inst[sizeof(long_inst) - 1] = '\0';

	for (size_t a = 0; a < ARRAY_SIZE(aors); a++)
		for (size_t i = 0; i < ARRAY_SIZE(insts); i++)
			for (size_t g = 0; g < ARRAY_SIZE(gens); g++)
				roundtrip_one(key, aors[a], insts[i], gens[g]);

	roundtrip_one(key, long_aor, UUID_L, 7);
	roundtrip_one(key, long_aor, "urn:gsma:imei:35-209900-176148-1", 7);
	roundtrip_one(key, long_aor, long_inst, (uint64_t)1 << 63);

	mem_deref(key);
}


/* Every AOR length gives a token whose length is a step function of it
 * (16-byte padding), and lengths around the block edges round-trip. */
static void test_padding_lengths(void **state)
{
	struct gruu_key *key = key_new(key_a_raw);
	char aor[80];
	size_t bytes;

	(void)state;

	for (size_t n = 1; n < sizeof(aor); n++) {
		char *tok;

		memset(aor, 'a', n);
		aor[n] = '\0';
		roundtrip_one(key, aor, UUID_L, n);

		tok = encode(key, aor, UUID_L, n);
		/* 12 + 16k + 16 bytes, base64url; the plaintext is 28 + n
		 * bytes rounded up to a multiple of 16. */
		bytes = 12 + (28 + n + 15) / 16 * 16 + 16;
		assert_int_equal((bytes * 4 + 2) / 3, strlen(tok));
		mem_deref(tok);
	}

	mem_deref(key);
}


static void test_typical_length(void **state)
{
	struct gruu_key *key = key_new(key_a_raw);
	char *tok = encode(key, "alice@example.com", UUID_L, 42);

	(void)state;

	/* 12 nonce + 48 ciphertext + 16 tag = 76 bytes = 102 chars */
	assert_int_equal(102, strlen(tok));
	mem_deref(tok);
	mem_deref(key);
}


static void test_tokens_differ(void **state)
{
	struct gruu_key *key = key_new(key_a_raw);
	char *t1 = encode(key, "alice@example.com", UUID_L, 1);
	char *t2 = encode(key, "alice@example.com", UUID_L, 1);

	(void)state;

	assert_string_not_equal(t1, t2);
	/* Not even a common nonce prefix. */
	assert_true(memcmp(t1, t2, 16) != 0);

	mem_deref(t1);
	mem_deref(t2);
	mem_deref(key);
}


static void test_alphabet(void **state)
{
	struct gruu_key *key = key_new(key_a_raw);
	char aor[64];

	(void)state;

	for (int n = 0; n < 200; n++) {
		char *tok;

		(void)snprintf(aor, sizeof(aor), "user%d@example.com", n);
		tok = encode(key, aor, n & 1 ? UUID_L : "urn:x:y", (uint64_t)n);

		assert_true(strlen(tok) > 0);
		assert_int_equal(strlen(tok), strspn(tok, b64url));
		assert_null(strchr(tok, '='));
		mem_deref(tok);
	}

	mem_deref(key);
}


/* The user part of a temp-gruu as the registrar writes it is recognised;
 * the prefix alone, another case or a prefix further in are not. */
static void test_temp_user(void **state)
{
	struct gruu_key *key = key_new(key_a_raw);
	char *tok = encode(key, "alice@example.com", UUID_L, 1);
	char user[256];
	struct pl pl;

	(void)state;

	(void)snprintf(user, sizeof(user), GRUU_TEMP_PREFIX "%s", tok);
	pl_set_str(&pl, user);
	assert_true(gruu_is_temp_user(&pl));
	pl_set_str(&pl, "tgruu.x");
	assert_true(gruu_is_temp_user(&pl));

	pl_set_str(&pl, "tgruu.");
	assert_false(gruu_is_temp_user(&pl));
	pl_set_str(&pl, "tgruu");
	assert_false(gruu_is_temp_user(&pl));
	pl_set_str(&pl, "TGRUU.x");
	assert_false(gruu_is_temp_user(&pl));
	pl_set_str(&pl, "alice.tgruu.x");
	assert_false(gruu_is_temp_user(&pl));
	pl_set_str(&pl, tok);
	assert_false(gruu_is_temp_user(&pl));
	assert_false(gruu_is_temp_user(&pl_null));

	mem_deref(tok);
	mem_deref(key);
}


static void check_flips(const struct gruu_key *key, const char *tok)
{
	const size_t len = strlen(tok);
	char *buf = malloc(len + 1);

	assert_non_null(buf);

	/* Every position, every other character of the alphabet: this
	 * covers the nonce, the ciphertext, the tag and the unused low bits
	 * of the last character. */
	for (size_t i = 0; i < len; i++) {
		for (size_t c = 0; c < 64; c++) {
			if (b64url[c] == tok[i])
				continue;
			memcpy(buf, tok, len + 1);
			buf[i] = b64url[c];
			if (decode_str(key, buf, len) != EBADMSG)
				fail_msg("flip at %zu to '%c' decoded", i,
					 b64url[c]);
		}
	}

	assert_int_equal(0, decode_str(key, tok, len));
	free(buf);
}


static void test_flip_every_position(void **state)
{
	struct gruu_key *key = key_new(key_a_raw);
	char *t1 = encode(key, "alice@example.com", UUID_L, 3);
	char *t2 = encode(key, "bob@example.com", "urn:gsma:imei:1-2-3", 4);
	char *t3 = encode(key, "abcdefghij@example.com", UUID_U, 5);

	(void)state;

	/* Three tokens of different length mod 3, so each kind of final
	 * base64 group is exercised. */
	check_flips(key, t1);
	check_flips(key, t2);
	check_flips(key, t3);

	mem_deref(t1);
	mem_deref(t2);
	mem_deref(t3);
	mem_deref(key);
}


static void test_truncate_extend(void **state)
{
	struct gruu_key *key = key_new(key_a_raw);
	char *tok = encode(key, "alice@example.com", UUID_L, 9);
	const size_t len = strlen(tok);
	char buf[2048];

	(void)state;

	for (size_t n = 0; n < len; n++)
		assert_int_equal(EBADMSG, decode_str(key, tok, n));

	/* Leading chars removed. */
	for (size_t n = 1; n < len; n++)
		assert_int_equal(EBADMSG, decode_str(key, tok + n, len - n));

	/* One to 40 characters appended (covers a whole block's worth). */
	for (size_t extra = 1; extra <= 40; extra++) {
		for (size_t c = 0; c < 64; c += 7) {
			memcpy(buf, tok, len);
			memset(buf + len, b64url[c], extra);
			assert_int_equal(EBADMSG,
					 decode_str(key, buf, len + extra));
		}
	}

	/* A token concatenated with itself. */
	memcpy(buf, tok, len);
	memcpy(buf + len, tok, len);
	assert_int_equal(EBADMSG, decode_str(key, buf, 2 * len));

	/* Padding, prefix or whitespace around it. */
	(void)snprintf(buf, sizeof(buf), "%s==", tok);
	assert_int_equal(EBADMSG, decode_str(key, buf, strlen(buf)));
	(void)snprintf(buf, sizeof(buf), "tgruu.%s", tok);
	assert_int_equal(EBADMSG, decode_str(key, buf, strlen(buf)));
	(void)snprintf(buf, sizeof(buf), " %s", tok);
	assert_int_equal(EBADMSG, decode_str(key, buf, strlen(buf)));

	/* The pl's length is respected: a NUL-terminated string is not
	 * required, and bytes beyond l are not read. */
	memcpy(buf, tok, len);
	memset(buf + len, '!', 8);
	assert_int_equal(0, decode_str(key, buf, len));

	mem_deref(tok);
	mem_deref(key);
}


static void test_other_key(void **state)
{
	uint8_t raw_b[32];
	struct gruu_key *ka = key_new(key_a_raw), *kb;
	char *tok;

	(void)state;

	memcpy(raw_b, key_a_raw, 32);
	raw_b[31] ^= 0x01;
	kb = key_new(raw_b);

	tok = encode(ka, "alice@example.com", UUID_L, 1);
	assert_int_equal(0, decode_str(ka, tok, strlen(tok)));
	assert_int_equal(EBADMSG, decode_str(kb, tok, strlen(tok)));
	mem_deref(tok);

	tok = encode(kb, "alice@example.com", UUID_L, 1);
	assert_int_equal(EBADMSG, decode_str(ka, tok, strlen(tok)));
	assert_int_equal(0, decode_str(kb, tok, strlen(tok)));
	mem_deref(tok);

	mem_deref(ka);
	mem_deref(kb);
}


static void test_garbage(void **state)
{
	struct gruu_key *key = key_new(key_a_raw);
	char buf[1100];
	struct pl pl;
	char *aor = NULL, *inst = NULL;
	uint64_t gen;

	(void)state;

	assert_int_equal(EBADMSG, decode_str(key, "", 0));
	assert_int_equal(EBADMSG, decode_str(key, "tgruu.", 6));

	/* A NULL pointer with a length must not be dereferenced. */
	pl.p = NULL;
	pl.l = 100;
	assert_int_equal(EBADMSG,
			 gruu_token_decode(key, &pl, &aor, &inst, &gen));

	memset(buf, 'A', 1024);
	for (size_t n = 1; n <= 1024; n++)
		assert_int_equal(EBADMSG, decode_str(key, buf, n));
	memset(buf, 'A', sizeof(buf));
	assert_int_equal(EBADMSG, decode_str(key, buf, sizeof(buf)));

	/* Random bytes, random lengths. */
	srand(12345);
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)rand() % sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = (char)(rand() & 0xff);
		assert_int_equal(EBADMSG, decode_str(key, buf, n));
	}

	/* Random strings of the right alphabet and a valid length, so that
	 * they get as far as the tag check. */
	for (int round = 0; round < 2000; round++) {
		size_t bytes = 28 + 16 * (1 + (size_t)rand() % 40);
		size_t n = (bytes * 4 + 2) / 3;

		for (size_t i = 0; i < n; i++)
			buf[i] = b64url[rand() & 63];
		/* keep the unused low bits zero: canonical */
		if (bytes % 3 == 1)
			buf[n - 1] = b64url[(rand() & 3) << 4];
		else if (bytes % 3 == 2)
			buf[n - 1] = b64url[(rand() & 15) << 2];
		assert_int_equal(EBADMSG, decode_str(key, buf, n));
	}

	mem_deref(key);
}


static void test_encode_args(void **state)
{
	struct gruu_key *key = key_new(key_a_raw);
	char *tok = NULL;
	char *big;

	(void)state;

	assert_int_equal(EINVAL, gruu_token_encode(&tok, key, "", UUID_L, 0));
	assert_int_equal(EINVAL, gruu_token_encode(&tok, key, "a@b", "", 0));
	assert_int_equal(EINVAL, gruu_token_encode(&tok, NULL, "a@b",
						   UUID_L, 0));
	assert_null(tok);

	/* Too long for a token: refused, never truncated. */
	big = malloc(100001);
	assert_non_null(big);
	memset(big, 'x', 100000);
	big[100000] = '\0';
	assert_int_equal(EOVERFLOW,
			 gruu_token_encode(&tok, key, big, UUID_L, 0));
	big[800] = '\0';
	assert_int_equal(EOVERFLOW,
			 gruu_token_encode(&tok, key, big, UUID_L, 0));
	assert_null(tok);

	/* The largest AOR that fits still round-trips and stays within the
	 * decoder's limit. */
	for (size_t n = 800; n > 0; n--) {
		big[n] = '\0';
		if (0 == gruu_token_encode(&tok, key, big, UUID_L, 0))
			break;
	}
	assert_non_null(tok);
	assert_true(strlen(tok) <= 1024);
	assert_true(strlen(big) >= 600);
	assert_int_equal(0, decode_str(key, tok, strlen(tok)));
	tok = mem_deref(tok);

	free(big);
	mem_deref(key);
}


/* ---- tokens built by hand, to pin the documented plaintext format and
 * check that authentic but malformed plaintexts are refused ---------- */

/* The AES key of tokens: HKDF-SHA256 of the node key, no salt, the
 * purpose as the info (RFC 5869 through keys/hkdf.c, which test_nodekey
 * checks against the RFC's test vectors). */
static void token_aes_key(uint8_t aes_key[32], const uint8_t node_key[32])
{
	static const char purpose[] = "locus temp-gruu token";

	assert_int_equal(0, hkdf_sha256(aes_key, 32, node_key, 32, NULL, 0,
					(const uint8_t *)purpose,
					sizeof(purpose) - 1));
}


static char *craft(const uint8_t node_key[32], const char *aad,
		   const uint8_t *pt, size_t ptlen)
{
	uint8_t tok[1024], aes_key[32];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	size_t n = 12 + ptlen + 16, i, o = 0;
	char *s;
	int outl;

	assert_non_null(ctx);
	assert_true(n <= sizeof(tok));
	assert_int_equal(1, RAND_bytes(tok, 12));
	token_aes_key(aes_key, node_key);
	assert_int_equal(1, EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL,
					       aes_key, tok));
	assert_int_equal(1, EVP_EncryptUpdate(ctx, NULL, &outl,
					      (const uint8_t *)aad,
					      (int)strlen(aad)));
	assert_int_equal(1, EVP_EncryptUpdate(ctx, tok + 12, &outl, pt,
					      (int)ptlen));
	assert_int_equal(1, EVP_EncryptFinal_ex(ctx, tok + 12 + outl, &outl));
	assert_int_equal(1, EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16,
						tok + 12 + ptlen));
	EVP_CIPHER_CTX_free(ctx);

	s = malloc((n * 4 + 2) / 3 + 1);
	assert_non_null(s);
	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)tok[i] << 16 | tok[i+1] << 8 | tok[i+2];
		s[o++] = b64url[v >> 18];
		s[o++] = b64url[(v >> 12) & 63];
		s[o++] = b64url[(v >> 6) & 63];
		s[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		s[o++] = b64url[tok[i] >> 2];
		s[o++] = b64url[(tok[i] & 3) << 4];
	}
	else if (n - i == 2) {
		uint32_t v = (uint32_t)tok[i] << 8 | tok[i+1];
		s[o++] = b64url[v >> 10];
		s[o++] = b64url[(v >> 4) & 63];
		s[o++] = b64url[(v << 2) & 63];
	}
	s[o] = '\0';
	return s;
}


/* Builds a v1 plaintext: raw instance form unless UUID is set. */
static size_t build_pt(uint8_t *pt, uint8_t version, uint8_t form,
		       uint64_t gen, const uint8_t *inst, size_t ilen,
		       size_t ilen_field, const char *aor, size_t alen_field,
		       size_t pad_to)
{
	size_t off = 0, alen = strlen(aor);

	pt[off++] = version;
	pt[off++] = form;
	for (int i = 0; i < 8; i++)
		pt[off++] = (uint8_t)(gen >> (56 - 8 * i));
	if (form == 0) {
		pt[off++] = (uint8_t)(ilen_field >> 8);
		pt[off++] = (uint8_t)ilen_field;
	}
	memcpy(pt + off, inst, ilen);
	off += ilen;
	pt[off++] = (uint8_t)(alen_field >> 8);
	pt[off++] = (uint8_t)alen_field;
	memcpy(pt + off, aor, alen);
	off += alen;
	if (!pad_to)
		pad_to = (off + 15) / 16 * 16;
	memset(pt + off, 0, pad_to - off);
	return pad_to;
}


static int decode_crafted(const struct gruu_key *key, const char *aad,
			  const uint8_t *pt, size_t ptlen,
			  char **aorp, char **instp, uint64_t *genp)
{
	char *s = craft(key_a_raw, aad, pt, ptlen);
	struct pl pl;
	int err;

	pl_set_str(&pl, s);
	err = gruu_token_decode(key, &pl, aorp, instp, genp);
	free(s);
	return err;
}


static int decode_crafted_simple(const struct gruu_key *key,
				 const uint8_t *pt, size_t ptlen)
{
	char *aor = NULL, *inst = NULL;
	uint64_t gen;
	int err = decode_crafted(key, "locus-tgruu-v1", pt, ptlen,
				 &aor, &inst, &gen);

	mem_deref(aor);
	mem_deref(inst);
	return err;
}


static void test_crafted_format(void **state)
{
	static const uint8_t uuid[16] = {
		0xf8, 0x1d, 0x4f, 0xae, 0x7d, 0xec, 0x11, 0xd0,
		0xa7, 0x65, 0x00, 0xa0, 0xc9, 0x1e, 0x6b, 0xf6,
	};
	static const char imei[] = "urn:gsma:imei:1-2-3";
	const size_t il = strlen(imei);
	struct gruu_key *key = key_new(key_a_raw);
	uint8_t pt[512];
	char *aor = NULL, *inst = NULL;
	uint64_t gen = 0;
	size_t n;

	(void)state;

	/* The documented layout decodes. */
	n = build_pt(pt, 1, 1, 0x1122334455667788ull, uuid, 16, 0,
		     "alice@example.com", 17, 0);
	assert_int_equal(48, n);
	assert_int_equal(0, decode_crafted(key, "locus-tgruu-v1", pt, n,
					   &aor, &inst, &gen));
	assert_string_equal("alice@example.com", aor);
	assert_string_equal(UUID_L, inst);
	assert_true(gen == 0x1122334455667788ull);
	aor = mem_deref(aor);
	inst = mem_deref(inst);

	n = build_pt(pt, 1, 2, 5, uuid, 16, 0, "a@b", 3, 0);
	assert_int_equal(0, decode_crafted(key, "locus-tgruu-v1", pt, n,
					   &aor, &inst, &gen));
	assert_string_equal(UUID_U, inst);
	aor = mem_deref(aor);
	inst = mem_deref(inst);

	n = build_pt(pt, 1, 0, 5, (const uint8_t *)imei, il, il, "a@b", 3, 0);
	assert_int_equal(0, decode_crafted(key, "locus-tgruu-v1", pt, n,
					   &aor, &inst, &gen));
	assert_string_equal(imei, inst);
	assert_string_equal("a@b", aor);
	aor = mem_deref(aor);
	inst = mem_deref(inst);

	/* Wrong AAD (another format version, another application). */
	n = build_pt(pt, 1, 1, 5, uuid, 16, 0, "a@b", 3, 0);
	assert_int_equal(EBADMSG, decode_crafted(key, "locus-tgruu-v2", pt, n,
						 &aor, &inst, &gen));
	assert_int_equal(EBADMSG, decode_crafted(key, "", pt, n,
						 &aor, &inst, &gen));

	/* Unknown version, unknown instance form. */
	n = build_pt(pt, 2, 1, 5, uuid, 16, 0, "a@b", 3, 0);
	assert_int_equal(EBADMSG, decode_crafted_simple(key, pt, n));
	n = build_pt(pt, 0, 1, 5, uuid, 16, 0, "a@b", 3, 0);
	assert_int_equal(EBADMSG, decode_crafted_simple(key, pt, n));
	n = build_pt(pt, 1, 3, 5, uuid, 16, 0, "a@b", 3, 0);
	assert_int_equal(EBADMSG, decode_crafted_simple(key, pt, n));
	n = build_pt(pt, 1, 0xff, 5, uuid, 16, 0, "a@b", 3, 0);
	assert_int_equal(EBADMSG, decode_crafted_simple(key, pt, n));

	/* Bad lengths: zero, past the end, just past the end, huge. */
	n = build_pt(pt, 1, 0, 5, (const uint8_t *)imei, il, 0, "a@b", 3, 0);
	assert_int_equal(EBADMSG, decode_crafted_simple(key, pt, n));
	n = build_pt(pt, 1, 0, 5, (const uint8_t *)imei, il, 0xffff,
		     "a@b", 3, 0);
	assert_int_equal(EBADMSG, decode_crafted_simple(key, pt, n));
	n = build_pt(pt, 1, 0, 5, (const uint8_t *)imei, il, n - 12 + 1,
		     "a@b", 3, 0);
	assert_int_equal(EBADMSG, decode_crafted_simple(key, pt, n));
	n = build_pt(pt, 1, 1, 5, uuid, 16, 0, "a@b", 0, 0);
	assert_int_equal(EBADMSG, decode_crafted_simple(key, pt, n));
	n = build_pt(pt, 1, 1, 5, uuid, 16, 0, "a@b", 4, 0);
	/* 4 still fits in the padding, but reads a pad byte */
	assert_int_equal(EBADMSG, decode_crafted_simple(key, pt, n));
	n = build_pt(pt, 1, 1, 5, uuid, 16, 0, "a@b", 0xffff, 0);
	assert_int_equal(EBADMSG, decode_crafted_simple(key, pt, n));
	n = build_pt(pt, 1, 1, 5, uuid, 16, 0, "a@b", 48 - 28 + 1, 0);
	assert_int_equal(EBADMSG, decode_crafted_simple(key, pt, n));
	/* AOR length shorter than the data: the rest is non-zero "padding" */
	n = build_pt(pt, 1, 1, 5, uuid, 16, 0, "a@b", 2, 0);
	assert_int_equal(EBADMSG, decode_crafted_simple(key, pt, n));

	/* A uuid form whose header fills the whole plaintext. */
	memset(pt, 0, 16);
	pt[0] = 1;
	pt[1] = 1;
	assert_int_equal(EBADMSG, decode_crafted_simple(key, pt, 16));
	pt[1] = 0;
	assert_int_equal(EBADMSG, decode_crafted_simple(key, pt, 16));

	/* Non-zero padding; excess padding (a whole extra block). */
	n = build_pt(pt, 1, 1, 5, uuid, 16, 0, "a@b", 3, 0);
	pt[n - 1] = 1;
	assert_int_equal(EBADMSG, decode_crafted_simple(key, pt, n));
	n = build_pt(pt, 1, 1, 5, uuid, 16, 0, "a@b", 3, 48);
	assert_int_equal(EBADMSG, decode_crafted_simple(key, pt, n));
	n = build_pt(pt, 1, 1, 5, uuid, 16, 0, "a@b", 3, 32);
	assert_int_equal(0, decode_crafted_simple(key, pt, n));

	/* NUL inside the AOR or the instance. */
	n = build_pt(pt, 1, 1, 5, uuid, 16, 0, "a@b", 3, 0);
	pt[10 + 16 + 2 + 1] = 0;
	assert_int_equal(EBADMSG, decode_crafted_simple(key, pt, n));
	n = build_pt(pt, 1, 0, 5, (const uint8_t *)imei, il, il, "a@b", 3, 0);
	pt[12 + 3] = 0;
	assert_int_equal(EBADMSG, decode_crafted_simple(key, pt, n));

	mem_deref(key);
}


/* ---- manual measurement ------------------------------------------------ */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}


static int bench(void)
{
	enum { N = 200000 };
	struct node_key *node_key = NULL;
	struct gruu_key *key = NULL;
	char *tok = NULL, *aor, *inst;
	uint64_t gen;
	struct pl pl;
	double t0, t1;

	if (node_key_from_bytes(&node_key, key_a_raw) ||
	    gruu_key_alloc(&key, node_key))
		return 1;
	mem_deref(node_key);

	for (int round = 0; round < 3; round++) {
		t0 = now_ns();
		for (int i = 0; i < N; i++) {
			tok = mem_deref(tok);
			if (gruu_token_encode(&tok, key, "alice@example.com",
					      UUID_L, (uint64_t)i))
				return 1;
		}
		t1 = now_ns();
		printf("encode: %.0f ns/op (token %zu chars)\n",
		       (t1 - t0) / N, strlen(tok));

		pl_set_str(&pl, tok);
		t0 = now_ns();
		for (int i = 0; i < N; i++) {
			if (gruu_token_decode(key, &pl, &aor, &inst, &gen))
				return 1;
			mem_deref(aor);
			mem_deref(inst);
		}
		t1 = now_ns();
		printf("decode: %.0f ns/op\n", (t1 - t0) / N);

		tok[10] = tok[10] == 'A' ? 'B' : 'A';
		t0 = now_ns();
		for (int i = 0; i < N; i++) {
			if (!gruu_token_decode(key, &pl, &aor, &inst, &gen))
				return 1;
		}
		t1 = now_ns();
		printf("decode (bad tag): %.0f ns/op\n", (t1 - t0) / N);
	}

	mem_deref(tok);
	mem_deref(key);
	return 0;
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_padding_lengths),
		cmocka_unit_test(test_typical_length),
		cmocka_unit_test(test_tokens_differ),
		cmocka_unit_test(test_alphabet),
		cmocka_unit_test(test_temp_user),
		cmocka_unit_test(test_flip_every_position),
		cmocka_unit_test(test_truncate_extend),
		cmocka_unit_test(test_other_key),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_encode_args),
		cmocka_unit_test(test_crafted_format),
	};

	if (getenv("GRUU_BENCH"))
		return bench();

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * nonce = hex( issued[8, big-endian seconds] | random[8] | mac[16] )
 * mac   = HMAC-SHA-256(key, issued | random | realm), first 16 bytes
 *
 * The random part makes two nonces of one second differ, so that their
 * nonce counts (RFC 7616 §3.4) are tracked apart.
 */
#include <ctype.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <re.h>
#include "auth/nonce.h"

enum {
	SIGNED_LEN = 16,         /* issued | random: what the MAC covers */
	MAC_LEN = 16,
	RAW_LEN = SIGNED_LEN + MAC_LEN,
	REALM_MAX = 256,         /* a domain name is at most 253 */
};


static int mac_compute(uint8_t mac[MAC_LEN], const uint8_t key[32],
		       const uint8_t signed_part[SIGNED_LEN],
		       const struct pl *realm)
{
	uint8_t msg[SIGNED_LEN + REALM_MAX], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (realm->l > REALM_MAX)
		return EOVERFLOW;
	memcpy(msg, signed_part, SIGNED_LEN);
	memcpy(msg + SIGNED_LEN, realm->p, realm->l);
	if (!HMAC(EVP_sha256(), key, 32, msg, SIGNED_LEN + realm->l, md,
		  &mdlen))
		return EIO;
	memcpy(mac, md, MAC_LEN);
	return 0;
}


int nonce_make(char out[NONCE_LEN + 1], const uint8_t key[32],
	       const struct pl *realm, uint64_t now)
{
	uint8_t raw[RAW_LEN];
	int err;

	for (int i = 0; i < 8; i++)
		raw[i] = (uint8_t)(now >> (56 - 8 * i));
	rand_bytes(raw + 8, 8);
	err = mac_compute(raw + SIGNED_LEN, key, raw, realm);
	if (err)
		return err;
	(void)re_snprintf(out, NONCE_LEN + 1, "%w", raw, sizeof(raw));
	return 0;
}


static int hex_decode(uint8_t *out, const struct pl *hex, size_t len)
{
	if (hex->l != 2 * len)
		return EINVAL;
	for (size_t i = 0; i < len; i++) {
		uint8_t hi = ch_hex(hex->p[2 * i]), lo = ch_hex(hex->p[2 * i + 1]);

		if (!isxdigit((unsigned char)hex->p[2 * i]) ||
		    !isxdigit((unsigned char)hex->p[2 * i + 1]))
			return EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}


enum nonce_state nonce_check(const struct pl *nonce, const uint8_t key[32],
			     const struct pl *realm, uint64_t now,
			     uint32_t lifetime, uint64_t *issued)
{
	uint8_t raw[RAW_LEN], mac[MAC_LEN];
	uint64_t t = 0;

	if (hex_decode(raw, nonce, RAW_LEN) ||
	    mac_compute(mac, key, raw, realm) ||
	    CRYPTO_memcmp(mac, raw + SIGNED_LEN, MAC_LEN))
		return NONCE_INVALID;
	for (int i = 0; i < 8; i++)
		t = t << 8 | raw[i];
	*issued = t;
	/* a nonce from the future is another node's clock: accept a little */
	if (t > now + 5)
		return NONCE_INVALID;
	return now < nonce_expires(t, lifetime) ? NONCE_VALID : NONCE_STALE;
}


uint64_t nonce_expires(uint64_t issued, uint32_t lifetime)
{
	return issued + lifetime + 1;
}

/* HKDF-SHA256 (RFC 5869) through OpenSSL's EVP_KDF: see hkdf.h. */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include "keys/hkdf.h"

enum {
	SHA256_LEN = 32,
	OKM_MAX    = 255 * SHA256_LEN,   /* RFC 5869 §2.3: L <= 255*HashLen */
};


int hkdf_sha256(uint8_t *okm, size_t okmlen,
		const uint8_t *ikm, size_t ikmlen,
		const uint8_t *salt, size_t saltlen,
		const uint8_t *info, size_t infolen)
{
	OSSL_PARAM params[5], *p = params;
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx;
	int ok;

	if (!okm || !okmlen || okmlen > OKM_MAX || !ikm || !ikmlen ||
	    (saltlen && !salt) || (infolen && !info))
		return EINVAL;

	/* Empty parameters are left out: OpenSSL then uses RFC 5869's
	 * defaults (a salt of HashLen zeros, an empty info). */
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						 (void *)ikm, ikmlen);
	if (saltlen)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
							 (void *)salt,
							 saltlen);
	if (infolen)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
							 (void *)info,
							 infolen);
	*p = OSSL_PARAM_construct_end();

	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	ok = ctx && 1 == EVP_KDF_derive(ctx, okm, okmlen, params);
	EVP_KDF_CTX_free(ctx);       /* cleanses the copies of the secret */
	EVP_KDF_free(kdf);

	if (!ok)
		OPENSSL_cleanse(okm, okmlen);
	return ok ? 0 : EIO;
}

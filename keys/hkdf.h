/* HKDF with SHA-256 (RFC 5869), as OpenSSL 3's EVP_KDF "HKDF" computes it:
 * extract (with SALT) then expand (with INFO) to OKMLEN bytes. */
#ifndef LOCUS_HKDF_H
#define LOCUS_HKDF_H

#include <stddef.h>
#include <stdint.h>

/*
 * OKM gets OKMLEN (1 to 255 * 32) bytes derived from the secret IKM
 * (not empty).  No SALT (NULL, 0) means RFC 5869 §2.2's string of zeros;
 * INFO may be empty too.  0, EINVAL for bad arguments, or EIO when
 * OpenSSL cannot compute it (OKM is then cleared).
 */
int hkdf_sha256(uint8_t *okm, size_t okmlen,
		const uint8_t *ikm, size_t ikmlen,
		const uint8_t *salt, size_t saltlen,
		const uint8_t *info, size_t infolen);

#endif

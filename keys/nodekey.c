/* The temporary-GRUU token (RFC 5627 §3.1.2, §3.2, §5.4, Appendix A.2)
 * and the key it is made with.
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
 *   base64url-nopad( nonce[12] || ciphertext[16*k] || tag[16] )
 *
 *   AES-256-GCM, a fresh random 96-bit nonce per token, 128-bit tag,
 *   AAD = "locus-tgruu-v1" (a format change gets a new AAD, so an old
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
 * key once; a token only resets the nonce, so the AES key schedule and
 * GHASH tables are computed once per process, not per REGISTER.  That makes
 * a key usable from one thread at a time, which is how locus runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <re.h>
#include "location/gruu.h"


enum {
	KEY_LEN     = 32,
	NONCE_LEN   = 12,
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
	PT_MAX      = (TOKEN_BYTES_MAX - NONCE_LEN - TAG_LEN) / BLOCK * BLOCK,
};

static const char aad[] = "locus-tgruu-v1";
static const char uuid_prefix[] = "urn:uuid:";


struct gruu_key {
	EVP_CIPHER_CTX *enc;
	EVP_CIPHER_CTX *dec;
	uint8_t derive[32];     /* HMAC key for gruu_key_derive(), itself
				   derived, so the AES key is never reused */
};


/* ---- base64url without padding (RFC 4648 §5) -------------------------
 * libre's base64 speaks only the standard alphabet with '=' padding,
 * neither of which belongs in a SIP URI user part. */

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


static size_t b64_enclen(size_t n)
{
	return (n * 4 + 2) / 3;
}


static void b64_encode(char *out, const uint8_t *in, size_t n)
{
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i+1] << 8 |
			in[i+2];
		*out++ = b64url[v >> 18];
		*out++ = b64url[(v >> 12) & 63];
		*out++ = b64url[(v >> 6) & 63];
		*out++ = b64url[v & 63];
	}

	if (n - i == 1) {
		*out++ = b64url[in[i] >> 2];
		*out++ = b64url[(in[i] & 3) << 4];
	}
	else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 8 | in[i+1];
		*out++ = b64url[v >> 10];
		*out++ = b64url[(v >> 4) & 63];
		*out++ = b64url[(v << 2) & 63];
	}

	*out = '\0';
}


/* The 6-bit value of each character, or XX (bit 8 set) for characters
 * outside the alphabet.  A table lookup costs the same for every input
 * character; the token is public, so its cache footprint gives nothing
 * away. */
#define XX 0x100
static const uint16_t b64_dec[256] = {
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, XX, XX, XX,
	XX,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, 63,
	XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
};
#undef XX


static uint32_t b64_val(uint8_t c)
{
	return b64_dec[c];
}


/* Decodes exactly N bytes from b64_enclen(N) characters.  Every character
 * must be in the alphabet and the unused low bits of the last character
 * must be zero, so each byte string has exactly one accepted spelling. */
static bool b64_decode(uint8_t *out, size_t n, const char *in)
{
	const uint8_t *s = (const uint8_t *)in;
	uint32_t bad = 0;
	size_t i;

	for (i = 0; i + 3 <= n; i += 3, s += 4) {
		uint32_t a = b64_val(s[0]), b = b64_val(s[1]);
		uint32_t c = b64_val(s[2]), d = b64_val(s[3]);
		uint32_t v;

		bad |= a | b | c | d;
		v = (a & 63) << 18 | (b & 63) << 12 | (c & 63) << 6 | (d & 63);
		out[i]   = (uint8_t)(v >> 16);
		out[i+1] = (uint8_t)(v >> 8);
		out[i+2] = (uint8_t)v;
	}

	if (n - i == 1) {
		uint32_t a = b64_val(s[0]), b = b64_val(s[1]);

		bad |= a | b | ((b & 15) << 8);
		out[i] = (uint8_t)((a & 63) << 2 | (b & 63) >> 4);
	}
	else if (n - i == 2) {
		uint32_t a = b64_val(s[0]), b = b64_val(s[1]);
		uint32_t c = b64_val(s[2]);

		bad |= a | b | c | ((c & 3) << 8);
		out[i]   = (uint8_t)((a & 63) << 2 | (b & 63) >> 4);
		out[i+1] = (uint8_t)((b & 15) << 4 | (c & 63) >> 2);
	}

	/* Valid values are below 64; bits 8..11 flag a bad character or
	 * non-zero unused bits. */
	return (bad & ~0xffu) == 0;
}


/* ---- the key ---------------------------------------------------------- */

static void key_destructor(void *arg)
{
	struct gruu_key *key = arg;

	/* Freeing a context cleanses its expanded key schedule. */
	EVP_CIPHER_CTX_free(key->enc);
	EVP_CIPHER_CTX_free(key->dec);
	OPENSSL_cleanse(key->derive, sizeof(key->derive));
}


static int hmac_sha256(uint8_t out[32], const uint8_t *key, size_t keylen,
		       const void *msg, size_t len)
{
	unsigned int outlen = 32;

	return HMAC(EVP_sha256(), key, (int)keylen, msg, len, out, &outlen)
		? 0 : EIO;
}


int gruu_key_derive(const struct gruu_key *key, const char *label,
		    uint8_t out[32])
{
	if (!key || !label || !out)
		return EINVAL;
	return hmac_sha256(out, key->derive, sizeof(key->derive), label,
			   strlen(label));
}


int gruu_key_from_bytes(struct gruu_key **keyp, const uint8_t raw[32])
{
	struct gruu_key *key;
	int err = 0;

	if (!keyp || !raw)
		return EINVAL;

	key = mem_zalloc(sizeof(*key), key_destructor);
	if (!key)
		return ENOMEM;

	key->enc = EVP_CIPHER_CTX_new();
	key->dec = EVP_CIPHER_CTX_new();
	if (!key->enc || !key->dec) {
		err = ENOMEM;
		goto out;
	}

	err = hmac_sha256(key->derive, raw, 32, "locus derive", 12);
	if (err)
		goto out;

	/* The key is installed once here; a token sets only the nonce.
	 * 12 bytes is GCM's default IV length. */
	if (1 != EVP_EncryptInit_ex(key->enc, EVP_aes_256_gcm(), NULL,
				    raw, NULL) ||
	    1 != EVP_DecryptInit_ex(key->dec, EVP_aes_256_gcm(), NULL,
				    raw, NULL)) {
		err = EIO;
		goto out;
	}

 out:
	if (err)
		mem_deref(key);
	else
		*keyp = key;

	return err;
}


static void seterr(char *errbuf, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *errbuf, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (!errbuf || !errsz)
		return;

	va_start(ap, fmt);
	(void)vsnprintf(errbuf, errsz, fmt, ap);
	va_end(ap);
}


/* The directory part of PATH, for messages. */
static void dir_of(char *dir, size_t sz, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		(void)snprintf(dir, sz, ".");
	else if (slash == path)
		(void)snprintf(dir, sz, "/");
	else
		(void)snprintf(dir, sz, "%.*s", (int)(slash - path), path);
}


static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}


static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += w;
		n -= (size_t)w;
	}

	return 0;
}


/* Creates PATH with a new random key.  Returns EEXIST if PATH appeared
 * meanwhile (another process won the race; the caller reads its key). */
/* Creates PATH, mode 0600, failing if it exists (EEXIST, no message). */
static int key_file_new(int *fdp, const char *path, char *errbuf,
			size_t errsz)
{
	char dir[512];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
		      S_IRUSR | S_IWUSR);
	int err = fd < 0 ? errno : 0;

	if (!err) {
		*fdp = fd;
		return 0;
	}
	dir_of(dir, sizeof(dir), path);
	if (err == ENOENT)
		seterr(errbuf, errsz, "%s: directory %s does not exist; create"
		       " it, and a key is generated there on the next start",
		       path, dir);
	else if (err == EACCES)
		seterr(errbuf, errsz, "%s: cannot create the key file (%s); "
		       "make %s writable for this user, or put 64 hex digits "
		       "in %s yourself (mode 600)", path, strerror(err), dir,
		       path);
	else if (err != EEXIST)
		seterr(errbuf, errsz, "%s: cannot create the key file (%s); "
		       "check the path, or put 64 hex digits in it yourself "
		       "(mode 600)", path, strerror(err));
	return err;
}


/* A fresh random key into RAW and, as hex, durably into FD (closed). */
static int key_file_fill(uint8_t raw[KEY_LEN], int fd)
{
	char hex[KEY_LEN * 2 + 2];
	int err;

	/* The umask can only narrow the mode given to open(); make sure
	 * the file is exactly 0600 all the same. */
	if (fchmod(fd, S_IRUSR | S_IWUSR) < 0)
		err = errno;
	else if (1 != RAND_bytes(raw, KEY_LEN))
		err = EIO;
	else {
		for (size_t i = 0; i < KEY_LEN; i++) {
			hex[2*i]   = "0123456789abcdef"[raw[i] >> 4];
			hex[2*i+1] = "0123456789abcdef"[raw[i] & 15];
		}
		hex[KEY_LEN * 2] = '\n';
		hex[KEY_LEN * 2 + 1] = '\0';
		err = write_all(fd, hex, KEY_LEN * 2 + 1);
		OPENSSL_cleanse(hex, sizeof(hex));
		if (!err && fsync(fd) < 0)
			err = errno;
	}
	if (close(fd) < 0 && !err)
		err = errno;
	return err;
}


static int key_create(uint8_t raw[KEY_LEN], const char *path,
		      char *errbuf, size_t errsz)
{
	char dir[512];
	int fd, dfd, err;

	err = key_file_new(&fd, path, errbuf, errsz);
	if (err)
		return err;
	err = key_file_fill(raw, fd);
	if (err) {
		/* Leave no half-written key behind: the next start would
		 * refuse it as malformed. */
		(void)unlink(path);
		OPENSSL_cleanse(raw, KEY_LEN);
		seterr(errbuf, errsz, "%s: cannot write the new key file "
		       "(%s); check the file system, or put 64 hex digits in "
		       "%s yourself (mode 600)", path, err == EIO ?
		       "no random bytes" : strerror(err), path);
		return err;
	}

	/* Make the new directory entry durable too (best effort): a key
	 * that vanishes in a crash would invalidate every temp-gruu. */
	dir_of(dir, sizeof(dir), path);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		(void)close(dfd);
	}
	return 0;
}


static const char key_fix[] = "delete it to have a new key generated, "
	"or put 64 hex digits in it";


/* A regular file only its owner can use. */
static int key_file_check(int fd, const char *path, char *errbuf,
			  size_t errsz)
{
	struct stat st;
	int err;

	if (fstat(fd, &st) < 0) {
		err = errno;
		seterr(errbuf, errsz, "%s: cannot stat the key file (%s); "
		       "check the path", path, strerror(err));
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(errbuf, errsz, "%s: not a regular file; point the "
		       "GRUU key setting at a file holding 64 hex digits",
		       path);
		return EINVAL;
	}
	/* Like ssh with private keys: a key others can read is no secret,
	 * and one others can write can be swapped. */
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		seterr(errbuf, errsz, "%s: key file is accessible by group or "
		       "others (mode %04o); chmod 600 %s", path,
		       (unsigned)(st.st_mode & 07777), path);
		return EPERM;
	}
	return 0;
}


/* The whole file into BUF (fewer than BUFSZ bytes, at least one). */
static int key_file_slurp(int fd, const char *path, char *buf, size_t bufsz,
			  size_t *lenp, char *errbuf, size_t errsz)
{
	size_t len = 0;
	int err;

	for (;;) {
		ssize_t r = read(fd, buf + len, bufsz - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			seterr(errbuf, errsz, "%s: cannot read the key file "
			       "(%s); check the file and its file system",
			       path, strerror(err));
			return err;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == bufsz) {
			seterr(errbuf, errsz, "%s: key file is too long "
			       "(expected 64 hex digits); %s", path, key_fix);
			return EINVAL;
		}
	}
	if (len == 0) {
		seterr(errbuf, errsz, "%s: key file is empty; %s", path,
		       key_fix);
		return EINVAL;
	}
	*lenp = len;
	return 0;
}


/* 64 hex digits, then nothing but white space. */
static int key_hex_parse(uint8_t raw[KEY_LEN], const char *buf, size_t len,
			 const char *path, char *errbuf, size_t errsz)
{
	size_t i;

	for (i = 0; i < KEY_LEN * 2 && i < len; i++) {
		int v = hexval((unsigned char)buf[i]);

		if (v < 0)
			break;
		if (i & 1)
			raw[i / 2] |= (uint8_t)v;
		else
			raw[i / 2] = (uint8_t)(v << 4);
	}
	if (i < KEY_LEN * 2) {
		if (i < len && !is_space((unsigned char)buf[i]))
			seterr(errbuf, errsz, "%s: character %zu of the key "
			       "file is not a hex digit (expected 64 hex "
			       "digits); %s", path, i + 1, key_fix);
		else
			seterr(errbuf, errsz, "%s: key file holds %zu hex "
			       "digits, expected 64; %s", path, i, key_fix);
		return EINVAL;
	}
	for (; i < len; i++) {
		if (!is_space((unsigned char)buf[i])) {
			seterr(errbuf, errsz, "%s: key file has more than "
			       "64 hex digits or other text after them; %s",
			       path, key_fix);
			return EINVAL;
		}
	}
	return 0;
}


static int key_read(uint8_t raw[KEY_LEN], int fd, const char *path,
		    char *errbuf, size_t errsz)
{
	char buf[256];
	size_t len = 0;
	int err;

	err = key_file_check(fd, path, errbuf, errsz);
	if (!err)
		err = key_file_slurp(fd, path, buf, sizeof(buf), &len,
				     errbuf, errsz);
	if (!err)
		err = key_hex_parse(raw, buf, len, path, errbuf, errsz);

	OPENSSL_cleanse(buf, sizeof(buf));
	if (err)
		OPENSSL_cleanse(raw, KEY_LEN);
	return err;
}


int gruu_key_load(struct gruu_key **keyp, const char *path,
		  char *errbuf, size_t errsz)
{
	uint8_t raw[KEY_LEN];
	int fd, err, attempt;

	if (errbuf && errsz)
		errbuf[0] = '\0';

	if (!keyp || !path || !*path) {
		seterr(errbuf, errsz, "GRUU key file: no path given; "
		       "set the path of the key file");
		return EINVAL;
	}

	for (attempt = 0; ; attempt++) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd >= 0) {
			err = key_read(raw, fd, path, errbuf, errsz);
			(void)close(fd);
			break;
		}

		err = errno;
		if (err != ENOENT) {
			if (err == ENOTDIR)
				seterr(errbuf, errsz, "%s: a component of "
				       "the path is not a directory; fix the "
				       "path", path);
			else
				seterr(errbuf, errsz, "%s: cannot open the "
				       "key file (%s); make it readable for "
				       "this user (uid %u), mode 600",
				       path, strerror(err),
				       (unsigned)geteuid());
			break;
		}

		err = key_create(raw, path, errbuf, errsz);
		if (err != EEXIST || attempt > 0)
			break;
		/* Created by someone else just now: read theirs. */
	}

	if (err == EEXIST)
		seterr(errbuf, errsz, "%s: key file keeps appearing and "
		       "disappearing; check what else writes it", path);

	if (!err) {
		err = gruu_key_from_bytes(keyp, raw);
		if (err)
			seterr(errbuf, errsz, "%s: cannot set up AES-256-GCM "
			       "(%s); check the OpenSSL installation", path,
			       strerror(err));
	}

	OPENSSL_cleanse(raw, sizeof(raw));
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
		int v;

		if (pos == 8 || pos == 13 || pos == 18 || pos == 23) {
			if (c != '-')
				return INST_RAW;
			continue;
		}

		v = hexval(c);
		if (v < 0)
			return INST_RAW;
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


static void uuid_print(char *out, const uint8_t raw[16], bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	const size_t plen = sizeof(uuid_prefix) - 1;
	size_t pos, n = 0;

	memcpy(out, uuid_prefix, plen);
	for (pos = 0; pos < UUID_STRLEN - plen; pos++) {
		if (pos == 8 || pos == 13 || pos == 18 || pos == 23) {
			out[plen + pos] = '-';
			continue;
		}
		out[plen + pos] = digits[(raw[n / 2] >> ((n & 1) ? 0 : 4)) &
					 15];
		++n;
	}
	out[UUID_STRLEN] = '\0';
}


int gruu_token_encode(char **tokenp, const struct gruu_key *key,
		      const char *aor, const char *instance,
		      uint64_t generation)
{
	uint8_t pt[PT_MAX];
	uint8_t tok[NONCE_LEN + PT_MAX + TAG_LEN];
	uint8_t *ct = tok + NONCE_LEN;
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

	/* RFC 5627 §3.2: temp-gruus must not be linkable; a random nonce
	 * also keeps GCM safe (collision odds stay negligible far beyond
	 * 2^32 tokens per key).  glibc's arc4random is a ChaCha20 CSPRNG
	 * seeded from the kernel and fork-safe, and costs a tenth of
	 * OpenSSL's RAND_bytes, which runs for every REGISTER here. */
	arc4random_buf(tok, NONCE_LEN);

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

	toklen = NONCE_LEN + ptlen + TAG_LEN;
	s = mem_alloc(b64_enclen(toklen) + 1, NULL);
	if (!s) {
		err = ENOMEM;
		goto out;
	}
	b64_encode(s, tok, toklen);
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
	 * nothing.  The byte length must be nonce + k blocks + tag, and
	 * the character length exactly the unpadded encoding of it. */
	if (!token->p || token->l > TOKEN_MAX)
		return EBADMSG;
	n = token->l * 3 / 4;
	if (b64_enclen(n) != token->l || n < NONCE_LEN + BLOCK + TAG_LEN ||
	    (n - NONCE_LEN - TAG_LEN) % BLOCK)
		return EBADMSG;
	ptlen = n - NONCE_LEN - TAG_LEN;

	if (!b64_decode(tok, n, token->p))
		return EBADMSG;

	memcpy(tag, tok + NONCE_LEN + ptlen, TAG_LEN);
	*ptlenp = ptlen;
	if (1 != EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, tok) ||
	    1 != EVP_DecryptUpdate(ctx, NULL, &outl, (const uint8_t *)aad,
				   (int)(sizeof(aad) - 1)) ||
	    1 != EVP_DecryptUpdate(ctx, pt, &outl, tok + NONCE_LEN,
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

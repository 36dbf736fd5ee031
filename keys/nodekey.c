/* The node key: its file, and the keys derived from it.
 *
 * The file holds 64 hex digits (and white space after them), is a regular
 * file only its owner may use, and is created with a new random key when
 * it does not exist, so that a first start needs no setup.  Every error
 * message names the file, what is wrong with it and what to do.
 *
 * Derivation is HKDF-SHA256 (RFC 5869) with the node key as the input
 * keying material, no salt and the purpose as the info: the key is
 * already uniformly random, so extraction needs no salt (RFC 5869 §3.1),
 * and one would have to be shared by every node like the key itself.
 * Changing any of this changes every derived key, and with it every
 * temp-GRUU, nonce and stamp in circulation.
 */
#include <ctype.h>
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
#include <openssl/rand.h>
#include <re.h>
#include "keys/hkdf.h"
#include "keys/nodekey.h"


struct node_key {
	uint8_t secret[NODE_KEY_LEN];
};


static void node_key_destructor(void *arg)
{
	struct node_key *key = arg;

	OPENSSL_cleanse(key->secret, sizeof(key->secret));
}


int node_key_from_bytes(struct node_key **keyp,
			const uint8_t raw[NODE_KEY_LEN])
{
	struct node_key *key;

	if (!keyp || !raw)
		return EINVAL;

	key = mem_zalloc(sizeof(*key), node_key_destructor);
	if (!key)
		return ENOMEM;
	memcpy(key->secret, raw, NODE_KEY_LEN);
	*keyp = key;
	return 0;
}


int node_key_derive(const struct node_key *key, const char *purpose,
		    uint8_t out[DERIVED_KEY_LEN])
{
	if (!key || !purpose || !*purpose || !out)
		return EINVAL;
	return hkdf_sha256(out, DERIVED_KEY_LEN, key->secret,
			   sizeof(key->secret), NULL, 0,
			   (const uint8_t *)purpose, strlen(purpose));
}


/* ---- the key file ----------------------------------------------------- */

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


/* A fresh random key into RAW and, as hex, durably into FD (closed).
 *
 * The key is drawn with OpenSSL's RAND_bytes(), not with libre's
 * rand_bytes() like the randomness of each request: rand_bytes() cannot
 * report a failure (libre logs it and leaves the buffer as it was), and
 * which generator is behind it depends on the link (compat/random.c's
 * pool in the daemon; in libre, OpenSSL, arc4random or, in a build with
 * neither, rand()).  A key that every node trusts for as long as the file
 * lives comes from a generator that is always a CSPRNG and whose failure
 * is seen. */
static int key_file_fill(uint8_t raw[NODE_KEY_LEN], int fd)
{
	char hex[NODE_KEY_LEN * 2 + 2];
	const int hexlen = NODE_KEY_LEN * 2 + 1;     /* and a newline */
	int err;

	/* The umask can only narrow the mode given to open(); make sure
	 * the file is exactly 0600 all the same. */
	if (fchmod(fd, S_IRUSR | S_IWUSR) < 0)
		err = errno;
	else if (1 != RAND_bytes(raw, NODE_KEY_LEN))
		err = EIO;
	else {
		err = hexlen == re_snprintf(hex, sizeof(hex), "%w\n", raw,
					    (size_t)NODE_KEY_LEN) ? 0 : EIO;
		if (!err)
			err = write_all(fd, hex, (size_t)hexlen);
		OPENSSL_cleanse(hex, sizeof(hex));
		if (!err && fsync(fd) < 0)
			err = errno;
	}
	if (close(fd) < 0 && !err)
		err = errno;
	return err;
}


/* Creates PATH with a new random key.  Returns EEXIST if PATH appeared
 * meanwhile (another process won the race; the caller reads its key). */
static int key_create(uint8_t raw[NODE_KEY_LEN], const char *path,
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
		OPENSSL_cleanse(raw, NODE_KEY_LEN);
		seterr(errbuf, errsz, "%s: cannot write the new key file "
		       "(%s); check the file system, or put 64 hex digits in "
		       "%s yourself (mode 600)", path, err == EIO ?
		       "no random bytes" : strerror(err), path);
		return err;
	}

	/* Make the new directory entry durable too (best effort): a key
	 * that vanishes in a crash would invalidate every temp-GRUU, nonce
	 * and stamp handed out with it. */
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
static int key_hex_parse(uint8_t raw[NODE_KEY_LEN], const char *buf,
			 size_t len, const char *path, char *errbuf,
			 size_t errsz)
{
	size_t i;

	for (i = 0; i < NODE_KEY_LEN * 2 && i < len; i++) {
		uint8_t v;

		if (!isxdigit((unsigned char)buf[i]))
			break;
		v = ch_hex(buf[i]);
		if (i & 1)
			raw[i / 2] |= (uint8_t)v;
		else
			raw[i / 2] = (uint8_t)(v << 4);
	}
	if (i < NODE_KEY_LEN * 2) {
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


static int key_read(uint8_t raw[NODE_KEY_LEN], int fd, const char *path,
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
		OPENSSL_cleanse(raw, NODE_KEY_LEN);
	return err;
}


int node_key_load(struct node_key **keyp, const char *path,
		  char *errbuf, size_t errsz)
{
	uint8_t raw[NODE_KEY_LEN];
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
		err = node_key_from_bytes(keyp, raw);
		if (err)
			seterr(errbuf, errsz, "%s: cannot keep the key (%s)",
			       path, strerror(err));
	}

	OPENSSL_cleanse(raw, sizeof(raw));
	return err;
}


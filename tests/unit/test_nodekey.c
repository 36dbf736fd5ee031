/* Unit tests for keys/: the node key file (keys/nodekey.c) and HKDF
 * (keys/hkdf.c), by which every other key is derived from it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <re.h>
#include "keys/hkdf.h"
#include "keys/nodekey.h"


static const uint8_t key_a_raw[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};


static struct node_key *key_new(const uint8_t raw[32])
{
	struct node_key *key = NULL;

	assert_int_equal(0, node_key_from_bytes(&key, raw));
	assert_non_null(key);
	return key;
}


/* Do A and B derive the same keys (and so hold the same node key)?
 * Two purposes, so that a match is no accident of one. */
static bool same_key(const struct node_key *a, const struct node_key *b)
{
	static const char *const purposes[] = {"one purpose", "another"};
	uint8_t da[DERIVED_KEY_LEN], db[DERIVED_KEY_LEN];
	bool same = true;

	for (size_t i = 0; i < ARRAY_SIZE(purposes); i++) {
		assert_int_equal(0, node_key_derive(a, purposes[i], da));
		assert_int_equal(0, node_key_derive(b, purposes[i], db));
		same = same && 0 == memcmp(da, db, sizeof(da));
	}
	return same;
}


static void hex_to_bytes(uint8_t *out, size_t n, const char *hex)
{
	assert_int_equal(2 * n, strlen(hex));
	assert_int_equal(0, str_hex(out, n, hex));
}


/* ---- HKDF ------------------------------------------------------------- */

/* RFC 5869 Appendix A.1: SHA-256, with salt and info. */
static void test_hkdf_rfc5869_a1(void **state)
{
	uint8_t ikm[22], salt[13], info[10], okm[42], want[42];

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	for (size_t i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(info); i++)
		info[i] = (uint8_t)(0xf0 + i);
	hex_to_bytes(want, sizeof(want),
		     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db0"
		     "2d56ecc4c5bf34007208d5b887185865");

	assert_int_equal(0, hkdf_sha256(okm, sizeof(okm), ikm, sizeof(ikm),
					salt, sizeof(salt), info,
					sizeof(info)));
	assert_memory_equal(want, okm, sizeof(okm));
}


/* RFC 5869 Appendix A.3: SHA-256, zero-length salt and info, as
 * node_key_derive() leaves the salt out. */
static void test_hkdf_rfc5869_a3(void **state)
{
	uint8_t ikm[22], okm[42], want[42];

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	hex_to_bytes(want, sizeof(want),
		     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec345"
		     "4e5f3c738d2d9d201395faa4b61a96c8");

	assert_int_equal(0, hkdf_sha256(okm, sizeof(okm), ikm, sizeof(ikm),
					NULL, 0, NULL, 0));
	assert_memory_equal(want, okm, sizeof(okm));
}


static void test_hkdf_args(void **state)
{
	uint8_t ikm[32] = {1}, okm[32];

	(void)state;
	assert_int_equal(EINVAL, hkdf_sha256(okm, 0, ikm, 32, NULL, 0,
					     NULL, 0));
	assert_int_equal(EINVAL, hkdf_sha256(okm, 255 * 32 + 1, ikm, 32,
					     NULL, 0, NULL, 0));
	assert_int_equal(EINVAL, hkdf_sha256(okm, 32, ikm, 0, NULL, 0,
					     NULL, 0));
	assert_int_equal(EINVAL, hkdf_sha256(okm, 32, NULL, 32, NULL, 0,
					     NULL, 0));
	assert_int_equal(EINVAL, hkdf_sha256(okm, 32, ikm, 32, NULL, 4,
					     NULL, 0));
	assert_int_equal(EINVAL, hkdf_sha256(okm, 32, ikm, 32, NULL, 0,
					     NULL, 4));
}


/* HKDF-SHA256 written out with HMAC as RFC 5869 §2.2 and §2.3 define it,
 * for one block of output: PRK = HMAC(salt = 32 zeros, IKM), then
 * T(1) = HMAC(PRK, info | 0x01). */
static void hkdf_by_hand(uint8_t out[32], const uint8_t ikm[32],
			 const char *info)
{
	uint8_t zeros[32] = {0}, prk[32], msg[256];
	unsigned len = 32;
	size_t n = strlen(info);

	assert_true(n < sizeof(msg));
	assert_non_null(HMAC(EVP_sha256(), zeros, 32, ikm, 32, prk, &len));
	memcpy(msg, info, n);
	msg[n] = 0x01;
	len = 32;
	assert_non_null(HMAC(EVP_sha256(), prk, 32, msg, n + 1, out, &len));
}


/* What every key of locus is made with: HKDF, the node key as the input
 * keying material, no salt, the purpose as the info. */
static void test_derive_is_hkdf_of_the_node_key(void **state)
{
	static const char *const purposes[] = {
		"locus via stamp", "locus dialog stamp",
		"locus digest nonce", "locus temp-gruu token",
	};
	struct node_key *key = key_new(key_a_raw);
	uint8_t got[DERIVED_KEY_LEN], want[32];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(purposes); i++) {
		assert_int_equal(0, node_key_derive(key, purposes[i], got));
		hkdf_by_hand(want, key_a_raw, purposes[i]);
		assert_memory_equal(want, got, sizeof(got));
	}
	mem_deref(key);
}


static void test_derive_purposes_and_keys_differ(void **state)
{
	uint8_t raw_b[32], a1[DERIVED_KEY_LEN], a2[DERIVED_KEY_LEN];
	uint8_t b1[DERIVED_KEY_LEN];
	struct node_key *ka = key_new(key_a_raw), *kb;

	(void)state;
	memcpy(raw_b, key_a_raw, sizeof(raw_b));
	raw_b[31] ^= 0x01;
	kb = key_new(raw_b);

	assert_int_equal(0, node_key_derive(ka, "locus via stamp", a1));
	assert_int_equal(0, node_key_derive(ka, "locus dialog stamp", a2));
	assert_int_equal(0, node_key_derive(kb, "locus via stamp", b1));
	assert_memory_not_equal(a1, a2, sizeof(a1));
	assert_memory_not_equal(a1, b1, sizeof(a1));
	/* and none of them is the node key itself */
	assert_memory_not_equal(a1, key_a_raw, sizeof(a1));

	assert_int_equal(EINVAL, node_key_derive(ka, "", a1));
	assert_int_equal(EINVAL, node_key_derive(ka, NULL, a1));
	assert_int_equal(EINVAL, node_key_derive(NULL, "x", a1));

	mem_deref(ka);
	mem_deref(kb);
}


/* ---- the key file ----------------------------------------------------- */

struct tmpdir {
	char dir[64];
};


static int setup_dir(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->dir, "/tmp/test_nodekey.XXXXXX");
	if (!mkdtemp(t->dir)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}


static int rm_rf(const char *path)
{
	char cmd[256];

	/* The dir comes from mkdtemp; no shell metacharacters in it. */
	(void)snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", path);
	return system(cmd);
}


static int teardown_dir(void **state)
{
	struct tmpdir *t = *state;
	int r = rm_rf(t->dir);

	free(t);
	return r == 0 ? 0 : -1;
}


static void path_in(char *buf, size_t sz, void **state, const char *name)
{
	struct tmpdir *t = *state;

	(void)snprintf(buf, sz, "%s/%s", t->dir, name);
}


static void write_file(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal((ssize_t)strlen(content),
			 write(fd, content, strlen(content)));
	assert_int_equal(0, fchmod(fd, mode));
	assert_int_equal(0, close(fd));
}


static void test_keyfile_create_and_reload(void **state)
{
	char path[256], errbuf[512], content[160];
	struct node_key *k1 = NULL, *k2 = NULL, *k3 = NULL;
	uint8_t raw[32];
	struct stat st;
	mode_t old;
	ssize_t n;
	int fd;

	path_in(path, sizeof(path), state, "gruu.key");

	/* An umask that would leave the owner without write permission:
	 * the file must still come out exactly 0600. */
	old = umask(0277);
	assert_int_equal(0, node_key_load(&k1, path, errbuf, sizeof(errbuf)));
	umask(old);
	assert_non_null(k1);

	assert_int_equal(0, stat(path, &st));
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(0600, st.st_mode & 07777);

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, content, sizeof(content) - 1);
	close(fd);
	assert_int_equal(65, n);
	content[n] = '\0';
	assert_int_equal(64, strspn(content, "0123456789abcdef"));
	assert_int_equal('\n', content[64]);

	/* The file holds the key: a key made from its bytes matches. */
	for (int i = 0; i < 32; i++) {
		unsigned v;

		assert_int_equal(1, sscanf(content + 2 * i, "%2x", &v));
		raw[i] = (uint8_t)v;
	}
	k3 = key_new(raw);
	assert_true(same_key(k1, k3));

	/* Reloading reads the same key: what was derived before still is. */
	assert_int_equal(0, node_key_load(&k2, path, errbuf, sizeof(errbuf)));
	assert_true(same_key(k2, k1));
	assert_true(same_key(k2, k3));

	/* And the file was not rewritten. */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, content + 65, 80);
	close(fd);
	assert_int_equal(65, n);
	assert_memory_equal(content, content + 65, 65);

	mem_deref(k1);
	mem_deref(k2);
	mem_deref(k3);
}


static void test_keyfile_two_new_keys_differ(void **state)
{
	char p1[256], p2[256], errbuf[256];
	struct node_key *k1 = NULL, *k2 = NULL;

	path_in(p1, sizeof(p1), state, "k1");
	path_in(p2, sizeof(p2), state, "k2");
	assert_int_equal(0, node_key_load(&k1, p1, errbuf, sizeof(errbuf)));
	assert_int_equal(0, node_key_load(&k2, p2, errbuf, sizeof(errbuf)));

	assert_false(same_key(k1, k2));

	mem_deref(k1);
	mem_deref(k2);
}


static void test_keyfile_accepts(void **state)
{
	static const char *const good[] = {
		"000102030405060708090a0b0c0d0e0f"
		"101112131415161718191a1b1c1d1e1f",
		"000102030405060708090A0B0C0D0E0F"
		"101112131415161718191A1B1C1D1E1F\n",
		"000102030405060708090a0b0c0d0e0f"
		"101112131415161718191a1b1c1d1e1f \r\n\t\n",
	};
	char path[256], errbuf[256];
	struct node_key *k = NULL, *ka = key_new(key_a_raw);

	path_in(path, sizeof(path), state, "good.key");

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		unlink(path);
		write_file(path, good[i], 0600);
		assert_int_equal(0, node_key_load(&k, path, errbuf,
						  sizeof(errbuf)));
		/* The file's key is key_a. */
		assert_true(same_key(k, ka));
		k = mem_deref(k);
	}

	/* 0400 is fine too. */
	unlink(path);
	write_file(path, good[1], 0400);
	assert_int_equal(0, node_key_load(&k, path, errbuf, sizeof(errbuf)));
	mem_deref(k);
	mem_deref(ka);
}


static void test_keyfile_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"hello\n",
		"000102030405060708090a0b0c0d0e0f"
		"101112131415161718191a1b1c1d1e1\n",          /* 63 */
		"000102030405060708090a0b0c0d0e0f"
		"101112131415161718191a1b1c1d1e1f0\n",        /* 65 */
		"000102030405060708090a0b0c0d0e0f"
		"101112131415161718191a1b1c1d1e1f\nextra\n",
		" 000102030405060708090a0b0c0d0e0f"
		"101112131415161718191a1b1c1d1e1f\n",         /* leading */
		"000102030405060708090a0b0c0d0e0g"
		"101112131415161718191a1b1c1d1e1f\n",
		"0x0102030405060708090a0b0c0d0e0f"
		"101112131415161718191a1b1c1d1e1f\n",
	};
	char path[256], errbuf[512], big[4096];
	struct node_key *k = NULL;

	path_in(path, sizeof(path), state, "bad.key");

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		unlink(path);
		write_file(path, bad[i], 0600);
		errbuf[0] = '\0';
		assert_int_equal(EINVAL, node_key_load(&k, path, errbuf,
						       sizeof(errbuf)));
		assert_null(k);
		assert_non_null(strstr(errbuf, path));
		assert_non_null(strstr(errbuf, "delete it"));
		assert_non_null(strstr(errbuf, "64 hex digits"));
		assert_null(strchr(errbuf, '\n'));
	}

	/* Very long file. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	unlink(path);
	write_file(path, big, 0600);
	assert_int_equal(EINVAL, node_key_load(&k, path, errbuf,
					       sizeof(errbuf)));
	assert_non_null(strstr(errbuf, path));

	/* A tiny error buffer is truncated, not overrun; NULL is fine. */
	{
		char tiny[8];

		memset(tiny, 'Z', sizeof(tiny));
		assert_int_equal(EINVAL, node_key_load(&k, path, tiny, 5));
		assert_int_equal('\0', tiny[4]);
		assert_int_equal('Z', tiny[5]);
		assert_int_equal(EINVAL, node_key_load(&k, path, NULL, 0));
	}
	assert_null(k);
}


static void test_keyfile_mode(void **state)
{
	static const char key_hex[] = "000102030405060708090a0b0c0d0e0f"
		"101112131415161718191a1b1c1d1e1f\n";
	static const mode_t modes[] = { 0640, 0604, 0644, 0660, 0606, 0610 };
	char path[256], errbuf[512], want[300];
	struct node_key *k = NULL;

	path_in(path, sizeof(path), state, "open.key");

	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		unlink(path);
		write_file(path, key_hex, modes[i]);
		errbuf[0] = '\0';
		assert_int_equal(EPERM, node_key_load(&k, path, errbuf,
						      sizeof(errbuf)));
		assert_null(k);
		assert_non_null(strstr(errbuf, path));
		(void)snprintf(want, sizeof(want), "chmod 600 %s", path);
		assert_non_null(strstr(errbuf, want));
	}

	/* After following the advice, it loads. */
	assert_int_equal(0, chmod(path, 0600));
	assert_int_equal(0, node_key_load(&k, path, errbuf, sizeof(errbuf)));
	mem_deref(k);
}


static void test_keyfile_paths(void **state)
{
	struct tmpdir *t = *state;
	char path[256], errbuf[512];
	struct node_key *k = NULL;
	struct stat st;

	/* Missing directory: an error naming the path, nothing created. */
	path_in(path, sizeof(path), state, "nodir/gruu.key");
	assert_int_equal(ENOENT, node_key_load(&k, path, errbuf,
					       sizeof(errbuf)));
	assert_null(k);
	assert_non_null(strstr(errbuf, path));
	assert_non_null(strstr(errbuf, "does not exist"));
	assert_int_equal(-1, stat(path, &st));

	/* A directory where the file should be. */
	assert_true(node_key_load(&k, t->dir, errbuf, sizeof(errbuf)) != 0);
	assert_null(k);
	assert_non_null(strstr(errbuf, t->dir));

	/* A file used as a directory. */
	path_in(path, sizeof(path), state, "afile");
	write_file(path, "x", 0600);
	path_in(path, sizeof(path), state, "afile/gruu.key");
	assert_true(node_key_load(&k, path, errbuf, sizeof(errbuf)) != 0);
	assert_null(k);
	assert_non_null(strstr(errbuf, path));

	assert_int_equal(EINVAL, node_key_load(&k, "", errbuf,
					       sizeof(errbuf)));
	assert_int_equal(EINVAL, node_key_load(&k, NULL, errbuf,
					       sizeof(errbuf)));
}


static void test_keyfile_unreadable(void **state)
{
	char path[256], errbuf[512];
	struct node_key *k = NULL;

	if (geteuid() == 0)
		skip();  /* root reads anything */

	path_in(path, sizeof(path), state, "noread.key");
	write_file(path, "000102030405060708090a0b0c0d0e0f"
		   "101112131415161718191a1b1c1d1e1f\n", 0200);
	assert_int_equal(EACCES, node_key_load(&k, path, errbuf,
					       sizeof(errbuf)));
	assert_null(k);
	assert_non_null(strstr(errbuf, path));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hkdf_rfc5869_a1),
		cmocka_unit_test(test_hkdf_rfc5869_a3),
		cmocka_unit_test(test_hkdf_args),
		cmocka_unit_test(test_derive_is_hkdf_of_the_node_key),
		cmocka_unit_test(test_derive_purposes_and_keys_differ),
		cmocka_unit_test_setup_teardown(test_keyfile_create_and_reload,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_keyfile_two_new_keys_differ,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_keyfile_accepts,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_keyfile_malformed,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_keyfile_mode,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_keyfile_paths,
						setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_keyfile_unreadable,
						setup_dir, teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

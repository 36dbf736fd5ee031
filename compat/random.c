/*
 * libre's random numbers, drawn from the kernel through glibc.
 *
 * Debian builds libre 1.1.0 with USE_OPENSSL, where every rand_u32() is an
 * OpenSSL RAND_bytes() call (with a getpid() for fork safety) and
 * rand_u64() two of them.  libre draws a u64 for every message it
 * decodes (its To-tag), so at 10,000 REGISTER/s that was a tenth of
 * locus's CPU.  glibc's arc4random (2.36) is no cheaper per call: one
 * getrandom() system call each, 4% of the proxy's CPU with a branch, a
 * tag and a To-tag per relayed message.  So draws come from a pool of
 * kernel randomness refilled 512 bytes at a time (one system call); what
 * is handed out is wiped from it, and a forked child starts with it
 * empty.  These definitions in the executable take the place of libre's
 * (it calls them through its PLT); the link exports them
 * (CMakeLists.txt).  rand_str() and rand_char() stay libre's and come
 * here through rand_bytes().  compat_random_check() proves at start-up
 * that libre's draws arrive here.
 *
 * Upstream: baresip/re still makes an OpenSSL call per draw (v4.10);
 * there is no fix to take.  Drop this file once libre's draws are cheap:
 * remove it, its symbols from LOCUS_COMPAT_SYMBOLS in CMakeLists.txt, its
 * check in daemon/main.c and tests/unit/test_random.c, and compare the
 * highest clean REGISTER rate (bench/run.sh, reg_new) before and after.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "compat/override.h"
#include "compat/random.h"

enum { POOL_SIZE = 512 };

static uint8_t pool[POOL_SIZE];
static size_t pool_left;         /* unused bytes, at the pool's start */

/* calls of each, for compat_random_check() */
static struct draw_calls {
	uint64_t u16, u32, u64, bytes;
} calls;


static void pool_forget(void)
{
	explicit_bzero(pool, sizeof(pool));
	pool_left = 0;
}


static void pool_take(void *p, size_t n)
{
	static bool atfork_set;

	if (n > POOL_SIZE / 4) {
		arc4random_buf(p, n);
		return;
	}
	if (!atfork_set) {
		(void)pthread_atfork(NULL, NULL, pool_forget);
		atfork_set = true;
	}
	if (pool_left < n) {
		arc4random_buf(pool, sizeof(pool));
		pool_left = sizeof(pool);
	}
	pool_left -= n;
	memcpy(p, pool + pool_left, n);
	explicit_bzero(pool + pool_left, n);
}


uint16_t rand_u16(void)
{
	uint16_t v;

	++calls.u16;
	pool_take(&v, sizeof(v));
	return v;
}


uint32_t rand_u32(void)
{
	uint32_t v;

	++calls.u32;
	pool_take(&v, sizeof(v));
	return v;
}


uint64_t rand_u64(void)
{
	uint64_t v;

	++calls.u64;
	pool_take(&v, sizeof(v));
	return v;
}


void rand_bytes(uint8_t *p, size_t size)
{
	++calls.bytes;
	if (p)
		pool_take(p, size);
}


/* ---- start-up check -------------------------------------------------------- */

static const char FILE_NAME[] = "compat/random.c";
static const char SLOW[] = "each of libre's draws would be an OpenSSL call "
			   "of its own (a tenth of locus's CPU at 10,000 "
			   "REGISTER/s)";

int compat_random_check(char *errbuf, size_t errsz)
{
	static const char uri[] = "sip:probe.invalid";
	const struct draw_calls before = calls;
	struct sip_dialog *dlg = NULL;
	struct sdp_session *sdp = NULL;
	struct sa laddr;
	char str[8];
	int err;

	/* libre's own draws: a dialog's tags and Call-ID (rand_u64) and
	 * CSeq (rand_u16), an SDP session's id and version (rand_u32),
	 * rand_str()'s bytes */
	sa_init(&laddr, AF_INET);
	err = sip_dialog_alloc(&dlg, uri, uri, NULL, uri, NULL, 0);
	if (!err)
		err = sdp_session_alloc(&sdp, &laddr);
	mem_deref(dlg);
	mem_deref(sdp);
	if (err) {
		re_snprintf(errbuf, errsz, "random check: %m", err);
		return err;
	}
	rand_str(str, sizeof(str));

	if (calls.u64 == before.u64)
		return compat_override_fail(errbuf, errsz, FILE_NAME,
					    "rand_u64", (void *)rand_u64, SLOW);
	if (calls.u32 == before.u32)
		return compat_override_fail(errbuf, errsz, FILE_NAME,
					    "rand_u32", (void *)rand_u32, SLOW);
	if (calls.u16 == before.u16)
		return compat_override_fail(errbuf, errsz, FILE_NAME,
					    "rand_u16", (void *)rand_u16, SLOW);
	if (calls.bytes == before.bytes)
		return compat_override_fail(errbuf, errsz, FILE_NAME,
					    "rand_bytes", (void *)rand_bytes,
					    SLOW);
	return 0;
}

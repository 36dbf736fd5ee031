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
 * here through rand_bytes().
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>

enum { POOL_SIZE = 512 };

static uint8_t pool[POOL_SIZE];
static size_t pool_left;         /* unused bytes, at the pool's start */


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

	pool_take(&v, sizeof(v));
	return v;
}


uint32_t rand_u32(void)
{
	uint32_t v;

	pool_take(&v, sizeof(v));
	return v;
}


uint64_t rand_u64(void)
{
	uint64_t v;

	pool_take(&v, sizeof(v));
	return v;
}


void rand_bytes(uint8_t *p, size_t size)
{
	if (p)
		pool_take(p, size);
}

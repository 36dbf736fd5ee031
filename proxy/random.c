/*
 * libre's random numbers, drawn from glibc's arc4random.
 *
 * Debian builds libre 1.1.0 with USE_OPENSSL, where every rand_u32() is an
 * OpenSSL RAND_bytes() call (with a getpid() for fork safety) and
 * rand_u64() two of them.  libre draws a u64 for every message it
 * decodes (its To-tag), so at 10,000 REGISTER/s that was a tenth of
 * locus's CPU.  libre's own source takes arc4random when it is there
 * (HAVE_ARC4RANDOM): a ChaCha20 CSPRNG seeded from the kernel,
 * fork-safe, in glibc since 2.36.  These definitions in the executable
 * take the place of libre's (it calls them through its PLT); the link
 * exports them (CMakeLists.txt).  rand_str() and rand_char() stay
 * libre's and come here through rand_bytes().
 */
#include <stdint.h>
#include <stdlib.h>
#include <re.h>


uint16_t rand_u16(void)
{
	return (uint16_t)(arc4random() >> 16);
}


uint32_t rand_u32(void)
{
	return arc4random();
}


uint64_t rand_u64(void)
{
	return (uint64_t)arc4random() << 32 | arc4random();
}


void rand_bytes(uint8_t *p, size_t size)
{
	if (p)
		arc4random_buf(p, size);
}

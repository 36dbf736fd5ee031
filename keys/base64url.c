/* base64url without padding (RFC 4648 §5): see base64url.h. */
#include <errno.h>
#include "keys/base64url.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


size_t base64url_encoded_len(size_t n)
{
	return (n * 4 + 2) / 3;
}


void base64url_encode(char *out, const uint8_t *in, size_t n)
{
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i+1] << 8 |
			in[i+2];
		*out++ = alphabet[v >> 18];
		*out++ = alphabet[(v >> 12) & 63];
		*out++ = alphabet[(v >> 6) & 63];
		*out++ = alphabet[v & 63];
	}

	if (n - i == 1) {
		*out++ = alphabet[in[i] >> 2];
		*out++ = alphabet[(in[i] & 3) << 4];
	}
	else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 8 | in[i+1];
		*out++ = alphabet[v >> 10];
		*out++ = alphabet[(v >> 4) & 63];
		*out++ = alphabet[(v << 2) & 63];
	}

	*out = '\0';
}


/* The 6-bit value of each character, or XX (bit 8 set) for characters
 * outside the alphabet.  A table lookup costs the same for every input
 * character; what is decoded here is public (tokens as they travel in
 * URIs), so its cache footprint gives nothing away. */
#define XX 0x100
static const uint16_t decoded[256] = {
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


static uint32_t value_of(uint8_t c)
{
	return decoded[c];
}


int base64url_decode(uint8_t *out, size_t n, const char *in)
{
	const uint8_t *s = (const uint8_t *)in;
	uint32_t bad = 0;
	size_t i;

	for (i = 0; i + 3 <= n; i += 3, s += 4) {
		uint32_t a = value_of(s[0]), b = value_of(s[1]);
		uint32_t c = value_of(s[2]), d = value_of(s[3]);
		uint32_t v;

		bad |= a | b | c | d;
		v = (a & 63) << 18 | (b & 63) << 12 | (c & 63) << 6 | (d & 63);
		out[i]   = (uint8_t)(v >> 16);
		out[i+1] = (uint8_t)(v >> 8);
		out[i+2] = (uint8_t)v;
	}

	if (n - i == 1) {
		uint32_t a = value_of(s[0]), b = value_of(s[1]);

		bad |= a | b | ((b & 15) << 8);
		out[i] = (uint8_t)((a & 63) << 2 | (b & 63) >> 4);
	}
	else if (n - i == 2) {
		uint32_t a = value_of(s[0]), b = value_of(s[1]);
		uint32_t c = value_of(s[2]);

		bad |= a | b | c | ((c & 3) << 8);
		out[i]   = (uint8_t)((a & 63) << 2 | (b & 63) >> 4);
		out[i+1] = (uint8_t)((b & 15) << 4 | (c & 63) >> 2);
	}

	/* Valid values are below 64; bits 8..11 flag a bad character or
	 * non-zero unused bits. */
	return (bad & ~0xffu) == 0 ? 0 : EBADMSG;
}

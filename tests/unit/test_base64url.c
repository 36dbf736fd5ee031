/* Unit tests for keys/base64url.c: base64url without padding (RFC 4648
 * §5), with exactly one accepted spelling of each byte string. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "keys/base64url.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


/* RFC 4648 §10's vectors, without their '=' padding. */
static void test_rfc4648_vectors(void **state)
{
	static const struct {
		const char *bytes;
		const char *text;
	} v[] = {
		{"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"},
		{"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"},
		{"foobar", "Zm9vYmFy"},
	};
	char out[16];
	uint8_t back[16];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		const size_t n = strlen(v[i].bytes);

		assert_int_equal(strlen(v[i].text), base64url_encoded_len(n));
		base64url_encode(out, (const uint8_t *)v[i].bytes, n);
		assert_string_equal(v[i].text, out);
		assert_int_equal(0, base64url_decode(back, n, v[i].text));
		assert_memory_equal(v[i].bytes, back, n);
	}
}


/* The URL alphabet: '-' and '_' where standard base64 has '+' and '/'. */
static void test_url_alphabet(void **state)
{
	static const uint8_t bytes[] = {0xfb, 0xff, 0xbf};
	uint8_t back[3];
	char out[8];

	(void)state;
	base64url_encode(out, bytes, 3);
	assert_string_equal("-_-_", out);
	base64url_encode(out, bytes, 2);
	assert_string_equal("-_8", out);

	assert_int_equal(0, base64url_decode(back, 3, "-_-_"));
	assert_memory_equal(bytes, back, 3);
	assert_int_equal(0, base64url_decode(back, 2, "-_8"));
	assert_memory_equal(bytes, back, 2);
	/* standard base64's spelling of the same bytes */
	assert_int_equal(EBADMSG, base64url_decode(back, 3, "+/+/"));
	assert_int_equal(EBADMSG, base64url_decode(back, 2, "+/8"));
}


/* Every byte outside the alphabet, at every position of a group. */
static void test_rejects_other_characters(void **state)
{
	uint8_t back[3];
	char in[5];

	(void)state;
	for (int c = 0; c < 256; c++) {
		if (c && strchr(alphabet, c))
			continue;
		for (size_t pos = 0; pos < 4; pos++) {
			memcpy(in, "Zm9v", 5);
			in[pos] = (char)c;
			assert_int_equal(EBADMSG,
					 base64url_decode(back, 3, in));
		}
	}
}


/* The unused low bits of a last character must be zero: "Zg" is "f",
 * "Zh" to "Zv" would be "f" too and are refused. */
static void test_one_spelling(void **state)
{
	uint8_t back[2];
	char in[4];

	(void)state;
	for (size_t c = 0; c < 64; c++) {
		in[0] = 'Z';
		in[1] = alphabet[c];
		in[2] = '\0';
		assert_int_equal(c % 16 ? EBADMSG : 0,
				 base64url_decode(back, 1, in));
		memcpy(in, "Zm", 2);
		in[2] = alphabet[c];
		in[3] = '\0';
		assert_int_equal(c % 4 ? EBADMSG : 0,
				 base64url_decode(back, 2, in));
	}
}


/* Random byte strings of every length up to 64 come back as they were,
 * in the alphabet only. */
static void test_roundtrip(void **state)
{
	uint8_t bytes[64], back[64];
	char text[90];

	(void)state;
	srand(4648);
	for (size_t n = 0; n <= sizeof(bytes); n++) {
		for (size_t i = 0; i < n; i++)
			bytes[i] = (uint8_t)rand();
		base64url_encode(text, bytes, n);
		assert_int_equal(base64url_encoded_len(n), strlen(text));
		assert_int_equal(strlen(text), strspn(text, alphabet));
		assert_int_equal(0, base64url_decode(back, n, text));
		assert_memory_equal(bytes, back, n);
	}
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_url_alphabet),
		cmocka_unit_test(test_rejects_other_characters),
		cmocka_unit_test(test_one_spelling),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

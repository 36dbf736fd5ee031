/* Unit tests for proxy/stamp.c: a stamp is the first 64 bits of
 * HMAC-SHA256 under a key derived from the shared GRUU key, the same on
 * every node and in every version (a node verifies what another made). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <re.h>
#include "location/gruu.h"
#include "proxy/stamp.h"

struct fixture {
	struct gruu_key *key;
	struct stamp *stamp;
};

static int setup(void **state)
{
	static struct fixture f;
	uint8_t raw[32];

	for (int i = 0; i < 32; i++)
		raw[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(0, gruu_key_from_bytes(&f.key, raw));
	assert_int_equal(0, stamp_alloc(&f.stamp, f.key));
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	mem_deref(f->stamp);
	mem_deref(f->key);
	return 0;
}

/* The stamp computed the plain way: HMAC() with the derived key. */
static void expected(char out[STAMP_LEN + 1], const struct gruu_key *key,
		     const char *label, const char *msg)
{
	uint8_t derived[32], md[32];
	unsigned len = sizeof(md);

	assert_int_equal(0, gruu_key_derive(key, label, derived));
	assert_non_null(HMAC(EVP_sha256(), derived, 32, (const uint8_t *)msg,
			     strlen(msg), md, &len));
	assert_int_equal(STAMP_LEN, re_snprintf(out, STAMP_LEN + 1, "%w",
						md, STAMP_LEN / 2));
}

static void test_via_stamp_is_hmac_of_derived_key(void **state)
{
	struct fixture *f = *state;
	char got[STAMP_LEN + 1], want[STAMP_LEN + 1];
	struct pl branch = PL("z9hG4bK-abc123");

	/* twice: the context is reused, the second must equal the first */
	for (int i = 0; i < 2; i++) {
		stamp_via(got, f->stamp, &branch);
		expected(want, f->key, "locus via stamp", "z9hG4bK-abc123");
		assert_string_equal(want, got);
	}
}

static void test_dialog_stamp_is_hmac_of_derived_key(void **state)
{
	struct fixture *f = *state;
	char got[STAMP_LEN + 1], want[STAMP_LEN + 1];
	struct pl callid = PL("a84b4c76e66710@pc33.example.com");

	stamp_dialog(got, f->stamp, &callid);
	expected(want, f->key, "locus dialog stamp",
		 "a84b4c76e66710@pc33.example.com");
	assert_string_equal(want, got);
}

static void test_check_accepts_own_rejects_others(void **state)
{
	struct fixture *f = *state;
	char tag[STAMP_LEN + 1];
	struct pl branch = PL("z9hG4bK-1"), other = PL("z9hG4bK-2"), t;

	stamp_via(tag, f->stamp, &branch);
	pl_set_str(&t, tag);
	assert_true(stamp_via_check(f->stamp, &branch, &t));
	assert_false(stamp_via_check(f->stamp, &other, &t));
	/* a via tag is no dialog tag: the keys differ */
	assert_false(stamp_dialog_check(f->stamp, &branch, &t));
	tag[0] = tag[0] == '0' ? '1' : '0';
	assert_false(stamp_via_check(f->stamp, &branch, &t));
	t.l = STAMP_LEN - 1;
	assert_false(stamp_via_check(f->stamp, &branch, &t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_via_stamp_is_hmac_of_derived_key),
		cmocka_unit_test(test_dialog_stamp_is_hmac_of_derived_key),
		cmocka_unit_test(test_check_accepts_own_rejects_others),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

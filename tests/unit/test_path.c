/* Unit tests for a binding's Path (RFC 3327) on its way from a REGISTER
 * to PostgreSQL and back: struct binding_path (location/location.c) and
 * its text[] form (location/persist.c).  The values are kept apart all the
 * way: nothing splits a joined header value again. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <re.h>
#include "location/location.h"
#include "location/persist.h"


static struct binding_path *path_of(const char *const *v, size_t n)
{
	struct binding_path *path = NULL;

	assert_int_equal(0, binding_path_alloc(&path, n));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(0, str_dup(&path->v[i], v[i]));
	return path;
}


/* persist_path_decode() of ARRAY gives the N values EXPECT. */
static void decodes_to(const char *array, const char *const *expect,
		       size_t n)
{
	struct binding_path *path = (struct binding_path *)0x1;

	assert_int_equal(0, persist_path_decode(&path, array));
	if (!n) {
		assert_null(path);
		return;
	}
	assert_non_null(path);
	assert_int_equal(n, path->n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(expect[i], path->v[i]);
	mem_deref(path);
}


static void test_alloc_and_print(void **state)
{
	static const char *const v[] = {
		"<sip:p1@edge1.example.net;lr>",
		"\"edge, two\" <sip:p2@edge2.example.net;lr;ob>",
	};
	struct binding_path *path = (struct binding_path *)0x1;
	char out[128];

	(void)state;

	assert_int_equal(EINVAL, binding_path_alloc(&path, 0));
	assert_ptr_equal((struct binding_path *)0x1, path);   /* untouched */

	path = path_of(v, 1);
	assert_true(re_snprintf(out, sizeof(out), "%H", binding_path_print,
				path) >= 0);
	assert_string_equal("<sip:p1@edge1.example.net;lr>", out);
	mem_deref(path);

	path = path_of(v, 2);
	assert_true(re_snprintf(out, sizeof(out), "%H", binding_path_print,
				path) >= 0);
	assert_string_equal("<sip:p1@edge1.example.net;lr>, "
			    "\"edge, two\" <sip:p2@edge2.example.net;lr;ob>",
			    out);
	mem_deref(path);
}


/* What PostgreSQL writes for a text[] (SELECT ARRAY[...]::text[] in
 * psql): elements with special characters quoted, \ and " escaped. */
static void test_decode_postgres_output(void **state)
{
	static const char *const v[] = {
		"<sip:a;lr>", "\"edge, one\" <sip:e1;lr>", "x\\y", "NULL",
		"null", "a b", "{}",
	};
	static const char *const ab[] = {"a", "b"};
	static const char *const abcd[] = {"a", "b", "c", "d"};

	(void)state;

	decodes_to("{<sip:a;lr>,\"\\\"edge, one\\\" <sip:e1;lr>\","
		   "\"x\\\\y\",\"\",\"NULL\",\"null\",NULL,\"a b\",\"{}\"}",
		   v, 7);
	decodes_to("{<sip:a;lr>}", v, 1);
	/* a lower bound other than 1, a nested array: values all the same */
	decodes_to("[0:1]={a,b}", ab, 2);
	decodes_to("{{a,b},{c,d}}", abcd, 4);
	/* nothing to route through */
	decodes_to("{}", NULL, 0);
	decodes_to("{NULL,\"\"}", NULL, 0);
	decodes_to("", NULL, 0);
}


/* persist_text_array() writes what persist_path_decode() reads back,
 * whatever the values hold. */
static void test_roundtrip(void **state)
{
	static const char *const v[] = {
		"<sip:p1@edge1.example.net;lr>",
		"\"a, \\\"b\\\\\" <sip:p2@edge2.example.net;lr>",
		"<sip:p3@[2001:db8::1]:5070;lr;ob>",
		"{<sip:odd}>,NULL",
		"NULL",
	};
	struct binding_path *path = path_of(v, 5);
	char *array = NULL;

	(void)state;

	assert_int_equal(0, persist_text_array(&array,
					       (const char *const *)path->v,
					       path->n));
	decodes_to(array, v, 5);
	mem_deref(array);
	mem_deref(path);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_and_print),
		cmocka_unit_test(test_decode_postgres_output),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

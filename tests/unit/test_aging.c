/* Unit tests for common/aging.c: entries live until their time, whatever
 * the order they were added in, and a full table forgets the oldest. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <re.h>
#include "common/aging.h"

struct item {
	struct aging_entry ae;
	int value;
};


static void item_destructor(void *arg)
{
	struct item *it = arg;

	aging_entry_unlink(&it->ae);
}


static void add(struct aging *a, const char *key, int value, uint64_t until)
{
	struct item *it = mem_zalloc(sizeof(*it), item_destructor);
	struct pl k;

	assert_non_null(it);
	it->value = value;
	pl_set_str(&k, key);
	assert_int_equal(0, aging_add(a, &it->ae, it, &k, until));
}


static struct item *find(struct aging *a, const char *key, uint64_t now)
{
	struct pl k;

	pl_set_str(&k, key);
	return aging_find(a, &k, now);
}


static void test_live_until_due(void **state)
{
	struct aging *a = NULL;
	(void)state;

	assert_int_equal(0, aging_alloc(&a, 16, 100));
	add(a, "one", 1, 110);
	assert_non_null(find(a, "one", 100));
	assert_int_equal(1, find(a, "one", 109)->value);
	assert_null(find(a, "one", 110));
	assert_int_equal(0, aging_count(a));
	mem_deref(a);
}


/* An entry added after a longer-lived one is due first: it must not be
 * returned once due, although trimming stops at the older live one. */
static void test_due_behind_a_live_entry(void **state)
{
	struct aging *a = NULL;
	(void)state;

	assert_int_equal(0, aging_alloc(&a, 16, 100));
	add(a, "long", 1, 1000);
	add(a, "short", 2, 50);
	assert_int_equal(2, find(a, "short", 49)->value);
	assert_null(find(a, "short", 50));
	assert_null(find(a, "short", 60));
	assert_int_equal(1, aging_count(a));     /* forgotten, not kept */
	assert_int_equal(1, find(a, "long", 60)->value);

	/* the key can be used again, and the new entry is the one found */
	add(a, "short", 3, 70);
	assert_int_equal(3, find(a, "short", 61)->value);
	assert_int_equal(2, aging_count(a));
	mem_deref(a);
}


static void test_full_forgets_oldest(void **state)
{
	struct aging *a = NULL;
	(void)state;

	/* full at a look-up: the oldest goes, making room for one more */
	assert_int_equal(0, aging_alloc(&a, 16, 3));
	add(a, "a", 1, 100);
	add(a, "b", 2, 100);
	add(a, "c", 3, 100);
	assert_null(find(a, "a", 10));
	assert_int_equal(2, find(a, "b", 10)->value);
	assert_int_equal(3, find(a, "c", 10)->value);
	assert_int_equal(2, aging_count(a));
	mem_deref(a);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_until_due),
		cmocka_unit_test(test_due_behind_a_live_entry),
		cmocka_unit_test(test_full_forgets_oldest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

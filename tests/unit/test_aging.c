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


static unsigned items_freed;


static void item_destructor(void *arg)
{
	struct item *it = arg;

	++items_freed;
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


static void charge(struct aging *a, const char *key, uint64_t now,
		   size_t bytes)
{
	struct item *it = find(a, key, now);

	assert_non_null(it);
	aging_charge(&it->ae, bytes);
}


/* Bytes charged count against the bound until their entry is
 * forgotten, however that happens; an entry forgotten while someone
 * holds it stays usable to that holder, outside the table. */
static void test_bytes_bound_and_released(void **state)
{
	struct aging *a = NULL;
	struct item *held;
	(void)state;

	assert_int_equal(0, aging_alloc(&a, 16, 100));
	aging_set_max_bytes(a, 100);
	add(a, "a", 1, 1000);
	add(a, "b", 2, 1000);
	add(a, "c", 3, 1000);
	charge(a, "a", 10, 40);
	charge(a, "b", 10, 40);
	charge(a, "c", 10, 40);          /* 120: "a" goes */
	assert_null(find(a, "a", 10));
	assert_int_equal(2, aging_count(a));

	/* "b" forgotten by hand: its 40 bytes are free again */
	items_freed = 0;
	held = mem_ref(find(a, "b", 10));
	aging_forget(&held->ae);
	aging_forget(&held->ae);                    /* no-op the 2nd time */
	assert_null(find(a, "b", 10));
	assert_int_equal(0, items_freed);           /* held here still */
	assert_int_equal(2, held->value);
	aging_charge(&held->ae, 500);               /* not in a table */
	mem_deref(held);
	assert_int_equal(1, items_freed);
	charge(a, "c", 10, 50);          /* 90 of 100 */
	assert_int_equal(3, find(a, "c", 10)->value);

	/* due entries give their bytes back as well */
	add(a, "d", 4, 20);
	charge(a, "d", 10, 10);          /* 100 of 100 */
	assert_null(find(a, "d", 20));
	charge(a, "c", 20, 10);          /* 100 of 100 */
	assert_non_null(find(a, "c", 20));
	mem_deref(a);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_until_due),
		cmocka_unit_test(test_due_behind_a_live_entry),
		cmocka_unit_test(test_full_forgets_oldest),
		cmocka_unit_test(test_bytes_bound_and_released),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for common/decimal.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/decimal.h"


static void test_decimal(void **state)
{
	char out[DECIMAL_SIZE];
	(void)state;

	assert_int_equal(1, decimal_write(out, 0));
	assert_string_equal("0", out);
	assert_int_equal(2, decimal_write(out, 10));
	assert_string_equal("10", out);
	assert_int_equal(10, decimal_write(out, UINT32_MAX));
	assert_string_equal("4294967295", out);
	assert_int_equal(20, decimal_write(out, UINT64_MAX));
	assert_string_equal("18446744073709551615", out);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decimal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

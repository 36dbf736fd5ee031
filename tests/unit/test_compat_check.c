/* Unit tests for the start-up checks of compat/: each proves that libre's
 * own calls reach the definitions that take the place of libre's.
 *
 * Linked as the daemon is (locus_link_runtime()), every check passes.
 * Linked once more for each symbol a check watches, with that symbol kept
 * out of the dynamic symbol table (UNEXPORTED, as if libre bound its
 * own), the test is given the symbol as its argument: that file's check
 * must refuse, naming the symbol and the file, and the others must still
 * pass. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>

#include "compat/random.h"
#include "compat/sip_decode.h"
#include "compat/sipws_http.h"
#include "compat/timer_wheel.h"

/* the symbol this executable does not export, or "" */
static const char *unexported = "";

typedef int (check_f)(char *errbuf, size_t errsz);

struct check {
	const char *file;
	check_f *run;
	const char *symbols[8];    /* those it proves reached, NULL-ended */
};

static const struct check checks[] = {
	{"compat/timer_wheel.c", compat_timer_check,
	 {"tmr_start", "tmr_cancel", "tmr_next_timeout", "tmr_poll"}},
	{"compat/random.c", compat_random_check,
	 {"rand_u16", "rand_u32", "rand_u64", "rand_bytes"}},
	{"compat/sipws_http.c", compat_http_check, {"http_reply"}},
	{"compat/sip_decode.c", compat_decode_check,
	 {"sip_msg_decode", "sip_via_decode", "sip_addr_decode",
	  "sip_cseq_decode", "msg_ctype_decode", "uri_decode",
	  "msg_param_decode"}},
};


static bool watches(const struct check *check, const char *symbol)
{
	for (size_t i = 0; check->symbols[i]; i++) {
		if (0 == strcmp(check->symbols[i], symbol))
			return true;
	}
	return false;
}


/* Runs CHECK twice (a check leaves nothing behind that changes its
 * answer): it refuses, naming the unexported symbol, if it watches it, and
 * passes otherwise. */
static void check_once_more(const struct check *check)
{
	char errbuf[512], name[64];

	re_snprintf(name, sizeof(name), "%s()", unexported);
	for (int round = 0; round < 2; round++) {
		int err;

		errbuf[0] = '\0';
		err = check->run(errbuf, sizeof(errbuf));
		if (!watches(check, unexported)) {
			if (err)
				fail_msg("%s: error %d: %s", check->file, err,
					 errbuf);
			assert_string_equal("", errbuf);
			continue;
		}
		if (!err)
			fail_msg("%s: the check passed with %s unexported",
				 check->file, unexported);
		print_message("%s\n", errbuf);
		assert_non_null(strstr(errbuf, check->file));
		assert_non_null(strstr(errbuf, "is not in effect"));
		assert_non_null(strstr(errbuf, name));
		assert_null(strchr(errbuf, '\n'));
		/* the executable does not export it: say so */
		assert_non_null(strstr(errbuf, "export"));
	}
}


static void test_timer_wheel(void **state)
{
	(void)state;
	check_once_more(&checks[0]);
}


static void test_random(void **state)
{
	(void)state;
	check_once_more(&checks[1]);
}


static void test_sipws_http(void **state)
{
	(void)state;
	check_once_more(&checks[2]);
}


static void test_sip_decode(void **state)
{
	(void)state;
	check_once_more(&checks[3]);
}


/* The symbol this build keeps unexported is one a check watches: a
 * variant that names another would prove nothing. */
static void test_variant_is_watched(void **state)
{
	bool watched = !unexported[0];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(checks); i++)
		watched = watched || watches(&checks[i], unexported);
	assert_true(watched);
}


static int group_setup(void **state)
{
	(void)state;
	return libre_init();
}


static int group_teardown(void **state)
{
	(void)state;
	libre_close();
	return 0;
}


int main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_variant_is_watched),
		cmocka_unit_test(test_timer_wheel),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_sipws_http),
		cmocka_unit_test(test_sip_decode),
	};

	if (argc > 1)
		unexported = argv[1];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

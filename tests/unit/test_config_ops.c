/* Unit tests for the sections of config/ops.c (metrics, trace) and for
 * config_swap() (config/swap.c): what a reload takes over, what it keeps
 * for a restart, and that the live struct never moves. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>
#include <re.h>
#include "common/log.h"
#include "config/config.h"

static char tmpdir[PATH_MAX];
static char confpath[PATH_MAX + 16];

#define L1_DOMAINS  "domains = [ \"example.com\" ];\n"
#define L2_LISTEN   "listen = ( { transport = \"udp\";" \
		    " address = \"127.0.0.1:5060\"; } );\n"
#define L3_DATABASE "database = { conninfo = \"dbname=locus\"; };\n"
#define L4_GRUU     "gruu = { key_file = \"/var/lib/locus/gruu.key\"; };\n"
#define VALID4 L1_DOMAINS L2_LISTEN L3_DATABASE L4_GRUU


static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/locus-test-config-ops-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(confpath, sizeof(confpath), "%s/t.conf", tmpdir);
	log_set_level(LOG_LEVEL_ERROR);   /* config_swap() logs changes */
	return 0;
}


static int group_teardown(void **state)
{
	(void)state;
	(void)unlink(confpath);
	return rmdir(tmpdir);
}


static struct locus_config *load(const char *text, char *err, size_t sz)
{
	struct locus_config *cfg = NULL;
	FILE *f = fopen(confpath, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	err[0] = '\0';
	(void)config_load(&cfg, confpath, err, sz);
	return cfg;
}


static struct locus_config *load_ok(const char *text)
{
	char err[512];
	struct locus_config *cfg = load(text, err, sizeof(err));

	if (!cfg)
		print_error("unexpected error: %s\n", err);
	assert_non_null(cfg);
	return cfg;
}


/* TEXT is refused at LINE, and the message holds PHRASE. */
static void expect_error(const char *text, unsigned line, const char *phrase)
{
	char err[1024], prefix[PATH_MAX + 32];
	struct locus_config *cfg = load(text, err, sizeof(err));

	snprintf(prefix, sizeof(prefix), "%s:%u: ", confpath, line);
	if (cfg || strncmp(err, prefix, strlen(prefix)) || !strstr(err, phrase))
		print_error("want line %u, '%s'\n got: %s\n", line, phrase, err);
	assert_null(cfg);
	assert_int_equal(strncmp(err, prefix, strlen(prefix)), 0);
	assert_non_null(strstr(err, phrase));
}


static void test_sections_absent(void **state)
{
	struct locus_config *cfg = load_ok(VALID4);

	(void)state;
	assert_false(sa_isset(&cfg->metrics_listen, SA_PORT));
	assert_false(sa_isset(&cfg->trace_hep, SA_PORT));
	assert_int_equal(cfg->trace_hep_id, 1);
	mem_deref(cfg);
}


static void test_sections_read(void **state)
{
	struct locus_config *cfg;

	(void)state;
	cfg = load_ok(VALID4 "metrics = { listen = \"0.0.0.0:9100\"; };\n"
		      "trace = { hep = \"[::1]:9060\"; hep_id = 42; };\n");
	assert_true(sa_isset(&cfg->metrics_listen, SA_PORT));
	assert_int_equal(sa_port(&cfg->metrics_listen), 9100);
	assert_true(sa_is_any(&cfg->metrics_listen));   /* may listen on all */
	assert_int_equal(sa_af(&cfg->trace_hep), AF_INET6);
	assert_int_equal(sa_port(&cfg->trace_hep), 9060);
	assert_int_equal(cfg->trace_hep_id, 42);
	mem_deref(cfg);
}


static void test_sections_refused(void **state)
{
	(void)state;
	expect_error(VALID4 "metrics = { };\n", 5,
		     "missing required setting 'metrics.listen'");
	expect_error(VALID4 "metrics = { listen = \"localhost:9100\"; };\n", 5,
		     "metrics.listen 'localhost:9100' is not a literal IP");
	expect_error(VALID4 "metrics = { listen = \"127.0.0.1\"; };\n", 5,
		     "metrics.listen '127.0.0.1' has no port");
	expect_error(VALID4 "metrics = { listen = \"127.0.0.1:9100\";"
		     " path = \"/m\"; };\n", 5, "unknown setting 'path'");
	/* a destination: somewhere, not anywhere */
	expect_error(VALID4 "trace = { hep = \"0.0.0.0:9060\"; };\n", 5,
		     "trace.hep '0.0.0.0:9060' is a wildcard address");
	expect_error(VALID4 "trace = { hep = 9060; };\n", 5, "hep");
	expect_error(VALID4 "trace = { hep_id = -1; };\n", 5,
		     "trace.hep_id must be between 0 and");
}


/* The text of a configuration with MAXEXP, a second DOMAIN, the UDP
 * listener on PORT and CONNINFO. */
static struct locus_config *cfg_of(unsigned maxexp, const char *domain,
				   unsigned port, const char *conninfo,
				   const char *extra)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "domains = [ \"example.com\", \"%s\" ];\n"
		 "listen = ( { transport = \"udp\"; address = \"127.0.0.1:%u\";"
		 " } );\n"
		 "database = { conninfo = \"%s\"; };\n" L4_GRUU
		 "registrar = { default_expires = 60; max_expires = %u; };\n"
		 "%s", domain, port, conninfo, maxexp, extra);
	return load_ok(text);
}


static void test_swap_applies_and_keeps(void **state)
{
	struct locus_config *live = cfg_of(3600, "a.example", 5060,
					   "dbname=one", "");
	struct locus_config *next = cfg_of(120, "b.example", 5070,
					   "dbname=two",
					   "metrics = { listen ="
					   " \"127.0.0.1:9100\"; };\n"
					   "log = { level = \"warn\"; };\n"
					   "auth = { enabled = false; };\n");
	struct locus_config *before = live;
	struct pl b, a;

	(void)state;
	pl_set_str(&a, "a.example");
	pl_set_str(&b, "b.example");
	/* listen, conninfo and auth.enabled: three changes for a restart */
	assert_int_equal(config_swap(live, next), 3);
	assert_ptr_equal(live, before);   /* modules keep their pointer */

	/* taken over */
	assert_int_equal(live->max_expires, 120);
	assert_true(config_is_our_domain(live, &b));
	assert_false(config_is_our_domain(live, &a));
	assert_int_equal(sa_port(&live->metrics_listen), 9100);
	assert_int_equal(live->log_level, LOG_LEVEL_WARN);

	/* kept until a restart */
	assert_int_equal(sa_port(&live->listen[0].addr), 5060);
	assert_string_equal(live->db_conninfo, "dbname=one");
	assert_true(live->auth);

	/* NEXT holds what LIVE held, freed with it */
	assert_int_equal(next->max_expires, 3600);
	assert_true(config_is_our_domain(next, &a));
	assert_int_equal(sa_port(&next->listen[0].addr), 5070);
	assert_string_equal(next->db_conninfo, "dbname=two");
	mem_deref(next);

	/* the same file again: nothing needs a restart */
	next = cfg_of(120, "b.example", 5060, "dbname=one",
		      "metrics = { listen = \"127.0.0.1:9100\"; };\n");
	assert_int_equal(config_swap(live, next), 0);
	mem_deref(next);
	mem_deref(live);
}


/* Parking sizes its slot table at start-up, the intercom seam is wired
 * then, the resolver made then: a reload must not move them under it. */
static void test_swap_keeps_features_set_up_once(void **state)
{
	struct locus_config *live = cfg_of(3600, "a.example", 5060,
					   "dbname=one",
					   "features = { park = { slots ="
					   " \"701-799\"; }; };\n");
	struct locus_config *next = cfg_of(3600, "a.example", 5060,
					   "dbname=one",
					   "features = { intercom = \"*6\";"
					   " park = { slots = \"701-899\"; };"
					   " };\n"
					   "proxy = { dns_servers ="
					   " [ \"127.0.0.1:53\" ]; };\n");

	(void)state;
	/* features.park, features.intercom added, proxy.dns_servers */
	assert_int_equal(config_swap(live, next), 3);
	assert_int_equal(live->park.first, 701);
	assert_int_equal(live->park.last, 799);
	assert_null(live->intercom_prefix);
	assert_int_equal(live->dns_serverc, 0);
	assert_int_equal(next->park.last, 899);
	mem_deref(next);

	/* an intercom code that changes, on both sides, applies */
	next = cfg_of(3600, "a.example", 5060, "dbname=one",
		      "features = { intercom = \"*7\"; park = { slots ="
		      " \"701-799\"; }; };\n");
	mem_deref(live);
	live = cfg_of(3600, "a.example", 5060, "dbname=one",
		      "features = { intercom = \"*6\"; park = { slots ="
		      " \"701-799\"; }; };\n");
	assert_int_equal(config_swap(live, next), 0);
	assert_string_equal(live->intercom_prefix, "*7");
	mem_deref(next);
	mem_deref(live);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections_absent),
		cmocka_unit_test(test_sections_read),
		cmocka_unit_test(test_sections_refused),
		cmocka_unit_test(test_swap_applies_and_keeps),
		cmocka_unit_test(test_swap_keeps_features_set_up_once),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* Unit tests for config/: first the generic validator on a made-up table
 * of settings, then config_load() on locus's own.
 *
 * Each config_load() test writes its config text into a private mkdtemp()
 * directory, so the expected line numbers sit next to the text they refer
 * to and the test runs from any working directory.  The shipped example
 * is found via LOCUS_TEST_DATA (set by ctest to tests/data), or else via
 * __FILE__. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <re.h>
#include "sip/digest.h"
#include "config/config.h"
#include "config/validator.h"

static char tmpdir[PATH_MAX];      /* as created */
static char realdir[PATH_MAX];     /* realpath(): what ${CONFIG_DIR} is */
static char confpath[PATH_MAX + 16]; /* tmpdir/t.conf */

/* Lines 1-4 of most test files: the smallest valid configuration. */
#define L1_DOMAINS  "domains = [ \"example.com\" ];\n"
#define L2_LISTEN   "listen = ( { transport = \"udp\";" \
		    " address = \"127.0.0.1:5060\"; } );\n"
#define L3_DATABASE "database = { conninfo = \"dbname=locus\"; };\n"
#define L4_GRUU     "gruu = { key_file = \"/var/lib/locus/gruu.key\"; };\n"
#define VALID4 L1_DOMAINS L2_LISTEN L3_DATABASE L4_GRUU


static int group_setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/locus-test-config-XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir) || !realpath(tmpdir, realdir))
		return -1;
	snprintf(confpath, sizeof(confpath), "%s/t.conf", tmpdir);
	return 0;
}


static int group_teardown(void **state)
{
	(void)state;
	(void)unlink(confpath);
	return rmdir(tmpdir);
}


static void write_conf(const char *text)
{
	FILE *f = fopen(confpath, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}


static struct locus_config *load_ok(const char *text)
{
	struct locus_config *cfg = NULL;
	char err[512] = "";
	int r;

	write_conf(text);
	r = config_load(&cfg, confpath, err, sizeof(err));
	if (r)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(r, 0);
	assert_non_null(cfg);
	return cfg;
}


/* Loads TEXT, expects failure with "<file>:LINE: " and every phrase. */
static void expect_error(const char *text, unsigned line,
			 const char *phrase1, const char *phrase2)
{
	struct locus_config *cfg = NULL;
	char err[1024] = "", prefix[PATH_MAX + 32];
	int r;

	write_conf(text);
	r = config_load(&cfg, confpath, err, sizeof(err));
	snprintf(prefix, sizeof(prefix), "%s:%u: ", confpath, line);

	if (strncmp(err, prefix, strlen(prefix)) ||
	    !strstr(err, phrase1) || (phrase2 && !strstr(err, phrase2)))
		print_error("want line %u, '%s', '%s'\n got: %s\n", line,
			    phrase1, phrase2 ? phrase2 : "", err);
	assert_int_equal(r, EINVAL);
	assert_null(cfg);
	assert_string_equal(strncmp(err, prefix, strlen(prefix)) ? err : "",
			    "");
	assert_non_null(strstr(err, phrase1));
	if (phrase2)
		assert_non_null(strstr(err, phrase2));
	assert_null(strchr(err, '\n'));
	assert_non_null(strstr(err, "; "));  /* "what; what to change" */
}


/* <root>/config/locus.conf, found lexically from <root>/tests/data (which
 * need not exist) or from <root>/tests/unit/test_config.c. */
static void example_path(char *buf, size_t sz)
{
	const char *data = getenv("LOCUS_TEST_DATA");
	char file[] = __FILE__, copy[PATH_MAX];
	size_t len;

	if (!data || !*data) {
		snprintf(buf, sz, "%s/../../config/locus.conf",
			 dirname(file));
		return;
	}
	snprintf(copy, sizeof(copy), "%s", data);
	len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	snprintf(buf, sz, "%s/config/locus.conf", dirname(dirname(copy)));
}


/* ---- the validator on its own --------------------------------------- */

/* A made-up group "pump": nothing here is a locus setting. */
static const struct field_rule pump_rules[] = {
	{"colour",  CONFIG_TYPE_STRING, true,  "colour = \"red\";"},
	{"speed",   CONFIG_TYPE_INT,    false, "speed = 5;", 1, 10, 3},
	{"enabled", CONFIG_TYPE_BOOL,   false, "enabled = true;"},
	{"ports",   CONFIG_TYPE_ARRAY,  false, "ports = [ 1, 2 ];"},
};

#define PUMP_FILE "made-up.conf"


/* Parses TEXT (which must be valid libconfig holding a group "pump"),
 * runs validator_group() on it and, if that passes, validator_int() on
 * speed.  Returns the error; the message is in errbuf, the speed in
 * *speedp. */
static int check_pump(const char *text, char *errbuf, size_t errsz,
		      uint32_t *speedp, const config_setting_t **got)
{
	struct validator v = {PUMP_FILE, errbuf, errsz};
	const config_setting_t *grp;
	config_t lc;
	int err;

	errbuf[0] = '\0';
	config_init(&lc);
	if (!config_read_string(&lc, text))
		print_error("bad test text: %s\n", config_error_text(&lc));
	assert_int_equal(config_error_type(&lc), CONFIG_ERR_NONE);
	grp = config_lookup(&lc, "pump");
	assert_non_null(grp);

	err = validator_group(&v, grp, "pump", pump_rules,
			      ARRAY_SIZE(pump_rules), got);
	if (!err)
		err = validator_int(&v, "pump", &pump_rules[1], got[1],
				    speedp);
	config_destroy(&lc);   /* got[] dangles from here on */
	return err;
}


/* Expects TEXT to be rejected with exactly WANT. */
static void pump_error(const char *text, const char *want)
{
	const config_setting_t *got[VALIDATOR_MAX_FIELDS];
	char err[512];
	uint32_t speed = 0;

	assert_int_equal(check_pump(text, err, sizeof(err), &speed, got),
			 EINVAL);
	assert_string_equal(err, want);
}


static void test_validator_accepts(void **state)
{
	const config_setting_t *got[VALIDATOR_MAX_FIELDS];
	char err[512];
	uint32_t speed = 0;

	(void)state;
	/* absent optional members: NULL, and the integer's default */
	assert_int_equal(check_pump("pump = { colour = \"red\"; };",
				    err, sizeof(err), &speed, got), 0);
	assert_string_equal(err, "");
	assert_non_null(got[0]);
	assert_null(got[1]);
	assert_null(got[2]);
	assert_null(got[3]);
	assert_int_equal(speed, 3);

	/* both ends of the range; a 64-bit integer and a list are fine */
	assert_int_equal(check_pump("pump = { speed = 1; colour = \"b\"; };",
				    err, sizeof(err), &speed, got), 0);
	assert_int_equal(speed, 1);
	assert_int_equal(check_pump("pump = { colour = \"b\"; speed = 10L;"
				    " enabled = false; ports = ( 1, \"x\" );"
				    " };", err, sizeof(err), &speed, got), 0);
	assert_int_equal(speed, 10);
	assert_non_null(got[2]);
	assert_non_null(got[3]);
}


static void test_validator_unknown_key(void **state)
{
	(void)state;
	pump_error("pump = {\n"
		   "  colour = \"red\";\n"
		   "  speeed = 5;\n"
		   "};",
		   PUMP_FILE ":3: unknown setting 'speeed' in pump; known"
		   " settings here are: colour, speed, enabled, ports; did you"
		   " mean 'speed'?");
	/* a swapped pair is one edit, two dropped letters still a typo */
	pump_error("pump = { colour = \"red\"; enalbed = true; };",
		   PUMP_FILE ":1: unknown setting 'enalbed' in pump; known"
		   " settings here are: colour, speed, enabled, ports; did you"
		   " mean 'enabled'?");
	pump_error("pump = { colour = \"red\"; spd = 2; };",
		   PUMP_FILE ":1: unknown setting 'spd' in pump; known"
		   " settings here are: colour, speed, enabled, ports; did you"
		   " mean 'speed'?");
	/* three edits away from everything: no guess */
	pump_error("pump = { colour = \"red\"; sp = 2; };",
		   PUMP_FILE ":1: unknown setting 'sp' in pump; known"
		   " settings here are: colour, speed, enabled, ports");
	/* the first stray key in the file is the one reported, even before
	 * a missing required member */
	pump_error("pump = {\n  volume = 1;\n  colr = \"red\";\n};",
		   PUMP_FILE ":2: unknown setting 'volume' in pump; known"
		   " settings here are: colour, speed, enabled, ports");
}


static void test_validator_unknown_top_level(void **state)
{
	static const char *const known[] = {"alpha", "beta"};
	struct validator v;
	char err[256];
	config_t lc;

	(void)state;
	v = (struct validator){PUMP_FILE, err, sizeof(err)};
	config_init(&lc);
	assert_int_equal(config_read_string(&lc, "alpha = 1;\n"
					    "betta = 2;\n"), CONFIG_TRUE);
	assert_int_equal(validator_keys(&v, config_root_setting(&lc), NULL,
					known, ARRAY_SIZE(known)), EINVAL);
	assert_string_equal(err, PUMP_FILE ":2: unknown setting 'betta';"
			    " known settings here are: alpha, beta; did you"
			    " mean 'beta'?");
	config_destroy(&lc);
}


static void test_validator_wrong_type(void **state)
{
	(void)state;
	pump_error("pump = {\n colour = \"red\";\n speed = \"fast\";\n};",
		   PUMP_FILE ":3: pump.speed must be an integer (got a"
		   " string); write e.g. speed = 5;");
	pump_error("pump = { colour = \"red\"; speed = 2.5; };",
		   PUMP_FILE ":1: pump.speed must be an integer (got a"
		   " float); write e.g. speed = 5;");
	pump_error("pump = { colour = 7; };",
		   PUMP_FILE ":1: pump.colour must be a string (got an"
		   " integer); write e.g. colour = \"red\";");
	pump_error("pump = { colour = \"red\"; enabled = \"yes\"; };",
		   PUMP_FILE ":1: pump.enabled must be a boolean (got a"
		   " string); write e.g. enabled = true;");
	pump_error("pump = { colour = \"red\"; ports = { a = 1; }; };",
		   PUMP_FILE ":1: pump.ports must be an array (got a"
		   " group); write e.g. ports = [ 1, 2 ];");
	pump_error("pump = { colour = \"\"; };",
		   PUMP_FILE ":1: pump.colour must not be empty; write e.g."
		   " colour = \"red\";");
	/* the group is blamed for what it lacks */
	pump_error("\npump = {\n speed = 2;\n};",
		   PUMP_FILE ":2: missing required setting 'pump.colour';"
		   " add colour = \"red\"; inside the pump group");
}


static void test_validator_out_of_range(void **state)
{
	(void)state;
	pump_error("pump = {\n colour = \"red\";\n speed = 11;\n};",
		   PUMP_FILE ":3: pump.speed must be between 1 and 10 (got"
		   " 11); change it to a value in that range, e.g. speed = 5;");
	pump_error("pump = { colour = \"red\"; speed = 0; };",
		   PUMP_FILE ":1: pump.speed must be between 1 and 10 (got"
		   " 0); change it to a value in that range, e.g. speed = 5;");
	pump_error("pump = { colour = \"red\"; speed = -1; };",
		   PUMP_FILE ":1: pump.speed must be between 1 and 10 (got"
		   " -1); change it to a value in that range, e.g. speed = 5;");
	/* beyond 32 bits: not wrapped into the range */
	pump_error("pump = { colour = \"red\"; speed = 4294967298L; };",
		   PUMP_FILE ":1: pump.speed must be between 1 and 10 (got"
		   " 4294967298); change it to a value in that range, e.g."
		   " speed = 5;");
}


static void test_validator_report(void **state)
{
	const config_setting_t *got[VALIDATOR_MAX_FIELDS];
	struct field_rule many[VALIDATOR_MAX_FIELDS + 1];
	struct validator v;
	char err[64];
	config_t lc;

	(void)state;
	v = (struct validator){PUMP_FILE, err, sizeof(err)};

	/* always one line, with or without a line number */
	assert_int_equal(validator_report(&v, "f.conf", 4, "bad '%s'; fix",
					  "a\nb\tc"), EINVAL);
	assert_string_equal(err, "f.conf:4: bad 'a?b?c'; fix");
	assert_int_equal(validator_report(&v, "f.conf", 0, "gone; fix"),
			 EINVAL);
	assert_string_equal(err, "f.conf: gone; fix");

	/* no setting to blame: line 1 of the file */
	assert_int_equal(validator_fail(&v, NULL, "empty; fill it"), EINVAL);
	assert_string_equal(err, PUMP_FILE ":1: empty; fill it");

	/* a short buffer is cut, never overrun; none at all is fine */
	v.errsz = 8;
	assert_int_equal(validator_fail(&v, NULL, "empty; fill it"), EINVAL);
	assert_string_equal(err, "made-up");
	v.errbuf = NULL;
	v.errsz = 0;
	assert_int_equal(validator_fail(&v, NULL, "empty; fill it"), EINVAL);

	/* more rules than got[] can hold: refused, not overrun */
	memset(many, 0, sizeof(many));
	for (size_t i = 0; i < ARRAY_SIZE(many); i++) {
		many[i].name = "x";
		many[i].type = CONFIG_TYPE_INT;
	}
	config_init(&lc);
	assert_int_equal(config_read_string(&lc, "g = { };"), CONFIG_TRUE);
	assert_int_equal(validator_group(&v, config_lookup(&lc, "g"), "g",
					 many, ARRAY_SIZE(many), got),
			 ENOTSUP);
	config_destroy(&lc);
}


/* ---- config_load() -------------------------------------------------- */

static void test_example_loads(void **state)
{
	struct locus_config *cfg = NULL;
	char path[PATH_MAX], dir[PATH_MAX], cdir[PATH_MAX], want[PATH_MAX * 2];
	char err[512] = "";
	struct sa a;

	(void)state;
	example_path(path, sizeof(path));
	if (config_load(&cfg, path, err, sizeof(err)))
		print_error("loading the example: %s\n", err);
	assert_string_equal(err, "");
	assert_non_null(cfg);

	assert_int_equal(cfg->domainc, 3);
	assert_string_equal(cfg->domains[0], "example.com");
	assert_string_equal(cfg->domains[1], "localhost");
	assert_string_equal(cfg->domains[2], "127.0.0.1");

	assert_int_equal(sa_set_str(&a, "127.0.0.1", 5060), 0);
	assert_int_equal(cfg->listenc, 5);
	assert_int_equal(cfg->listen[0].tp, SIP_TRANSP_UDP);
	assert_int_equal(cfg->listen[1].tp, SIP_TRANSP_TCP);
	assert_int_equal(cfg->listen[2].tp, SIP_TRANSP_TLS);
	assert_int_equal(cfg->listen[3].tp, SIP_TRANSP_WS);
	assert_int_equal(cfg->listen[4].tp, SIP_TRANSP_WSS);
	assert_true(sa_cmp(&cfg->listen[0].addr, &a, SA_ALL));
	assert_true(sa_cmp(&cfg->listen[1].addr, &a, SA_ALL));
	sa_set_port(&a, 5061);
	assert_true(sa_cmp(&cfg->listen[2].addr, &a, SA_ALL));
	sa_set_port(&a, 8080);
	assert_true(sa_cmp(&cfg->listen[3].addr, &a, SA_ALL));
	assert_null(cfg->listen[3].certificate);
	sa_set_port(&a, 8443);
	assert_true(sa_cmp(&cfg->listen[4].addr, &a, SA_ALL));
	assert_string_equal(cfg->listen[4].key, cfg->listen[2].key);

	strcpy(dir, path);
	assert_non_null(realpath(dirname(dir), cdir));
	snprintf(want, sizeof(want), "%s/../state/tls/cert.pem", cdir);
	assert_string_equal(cfg->listen[2].certificate, want);
	snprintf(want, sizeof(want), "%s/../state/tls/key.pem", cdir);
	assert_string_equal(cfg->listen[2].key, want);
	snprintf(want, sizeof(want),
		 "host=%s/../state/run dbname=locus user=locus", cdir);
	assert_string_equal(cfg->db_conninfo, want);
	snprintf(want, sizeof(want), "%s/../state/gruu.key", cdir);
	assert_string_equal(cfg->gruu_key_file, want);

	assert_int_equal(cfg->min_expires, 60);
	assert_int_equal(cfg->default_expires, 3600);
	assert_int_equal(cfg->max_expires, 3600);
	assert_int_equal(cfg->max_contacts, 16);
	assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
	assert_string_equal(cfg->path, path);
	mem_deref(cfg);
}


static void test_defaults_and_lower_case(void **state)
{
	struct locus_config *cfg;

	(void)state;
	cfg = load_ok("domains = [ \"Example.COM\", \"sip2.Example.org\" ];\n"
		      L2_LISTEN L3_DATABASE L4_GRUU);
	assert_int_equal(cfg->domainc, 2);
	assert_string_equal(cfg->domains[0], "example.com");
	assert_string_equal(cfg->domains[1], "sip2.example.org");
	assert_int_equal(cfg->listenc, 1);
	assert_string_equal(cfg->db_conninfo, "dbname=locus");
	assert_string_equal(cfg->gruu_key_file, "/var/lib/locus/gruu.key");
	assert_int_equal(cfg->min_expires, 60);
	assert_int_equal(cfg->default_expires, 3600);
	assert_int_equal(cfg->max_expires, 3600);
	assert_int_equal(cfg->max_contacts, 16);
	assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
	mem_deref(cfg);

	/* empty optional groups also mean "all defaults" */
	cfg = load_ok(VALID4 "registrar = { };\nlog = { };\n");
	assert_int_equal(cfg->min_expires, 60);
	assert_int_equal(cfg->max_contacts, 16);
	assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
	mem_deref(cfg);
}


static void test_all_settings(void **state)
{
	struct locus_config *cfg;
	struct sa a;

	(void)state;
	cfg = load_ok(L1_DOMAINS
		      "listen = ( { transport = \"tcp\";"
		      " address = \"[::1]:5062\"; },\n"
		      "  { transport = \"udp\";"
		      " address = \"[::1]:5062\"; } );\n"
		      L3_DATABASE L4_GRUU
		      "registrar = { min_expires = 30; default_expires = 600;"
		      " max_expires = 7200L; max_contacts = 100000; };\n"
		      "log = { level = \"debug\"; };\n");
	assert_int_equal(sa_set_str(&a, "::1", 5062), 0);
	assert_int_equal(cfg->listenc, 2);
	assert_int_equal(cfg->listen[0].tp, SIP_TRANSP_TCP);
	assert_int_equal(sa_af(&cfg->listen[0].addr), AF_INET6);
	assert_true(sa_cmp(&cfg->listen[0].addr, &a, SA_ALL));
	assert_int_equal(cfg->min_expires, 30);
	assert_int_equal(cfg->default_expires, 600);
	assert_int_equal(cfg->max_expires, 7200);
	assert_int_equal(cfg->max_contacts, 100000);
	assert_int_equal(cfg->log_level, LOG_LEVEL_DEBUG);
	mem_deref(cfg);
}


static void test_syntax_error(void **state)
{
	(void)state;
	expect_error(VALID4
		     "registrar = {\n"
		     "  min_expires = ;\n"
		     "};\n", 6, "syntax error: ", NULL);
	expect_error(VALID4 "domains = [ \"b.org\" ];\n", 5,
		     "syntax error: duplicate setting name", NULL);
}


static void test_unknown_top_level(void **state)
{
	(void)state;
	expect_error(VALID4
		     "\n"
		     "registar = { min_expires = 60; };\n", 6,
		     "unknown setting 'registar'; known settings here are:"
		     " domains, listen, database, registrar, proxy, auth, gruu, log,"
		     " features, intercom, metrics, trace",
		     "; did you mean 'registrar'?");

	/* far from every known key: no guess offered */
	expect_error(VALID4 "frobnicate = 1;\n", 5,
		     "unknown setting 'frobnicate'; known settings", NULL);
	write_conf(VALID4 "frobnicate = 1;\n");
	{
		char err[512];
		struct locus_config *cfg = NULL;

		assert_int_equal(config_load(&cfg, confpath, err,
					     sizeof(err)), EINVAL);
		assert_null(strstr(err, "did you mean"));
	}

	/* unknown keys are reported before anything missing */
	expect_error("logg = { };\n", 1, "did you mean 'log'?", NULL);
}


static void test_unknown_in_registrar(void **state)
{
	(void)state;
	expect_error(VALID4
		     "registrar = {\n"
		     "  min_expires = 60;\n"
		     "  max_contact = 4;\n"
		     "};\n", 7,
		     "unknown setting 'max_contact' in registrar; known"
		     " settings here are: min_expires, default_expires,"
		     " max_expires, max_contacts",
		     "did you mean 'max_contacts'?");
	/* a transposition is one edit */
	expect_error(VALID4 "log = { lveel = \"info\"; };\n", 5,
		     "unknown setting 'lveel' in log",
		     "did you mean 'level'?");
}


static void test_unknown_in_listen_entry(void **state)
{
	(void)state;
	expect_error(L1_DOMAINS
		     "listen = (\n"
		     "  { transport = \"udp\";"
		     " address = \"127.0.0.1:5060\"; },\n"
		     "  { transport = \"tcp\";\n"
		     "    adress = \"127.0.0.1:5060\"; }\n"
		     ");\n"
		     L3_DATABASE L4_GRUU, 5,
		     "unknown setting 'adress' in listen[1]; known settings"
		     " here are: transport, address",
		     "did you mean 'address'?");
}


static void test_wrong_type(void **state)
{
	(void)state;
	expect_error(VALID4
		     "registrar = {\n"
		     "  min_expires = \"60\";\n"
		     "};\n", 6,
		     "registrar.min_expires must be an integer (got a string)",
		     "min_expires = 60;");
	expect_error(VALID4 "registrar = { max_contacts = 1.5; };\n", 5,
		     "registrar.max_contacts must be an integer (got a float)",
		     NULL);
	expect_error(L1_DOMAINS L2_LISTEN
		     "database = \"dbname=locus\";\n" L4_GRUU, 3,
		     "database must be a group (got a string)",
		     "database = { conninfo = ");
	expect_error(VALID4 "log = { level = { name = \"info\"; }; };\n", 5,
		     "log.level must be a string (got a group)", NULL);
	expect_error("domains = \"example.com\";\n"
		     L2_LISTEN L3_DATABASE L4_GRUU, 1,
		     "domains must be an array of strings (got a string)",
		     "domains = [ \"example.com\" ];");
	expect_error(L1_DOMAINS
		     "listen = { transport = \"udp\"; };\n"
		     L3_DATABASE L4_GRUU, 2,
		     "listen must be a list of groups (got a group)", NULL);
	expect_error(L1_DOMAINS
		     "listen = ( \"127.0.0.1:5060\" );\n"
		     L3_DATABASE L4_GRUU, 2,
		     "listen[0] must be a group (got a string)", NULL);
	expect_error(VALID4 "registrar = 5;\n", 5,
		     "registrar must be a group (got an integer)", NULL);
}


static void test_registrar_values(void **state)
{
	(void)state;
	/* both set: the one that is too small is blamed */
	expect_error(VALID4
		     "registrar = {\n"
		     "  min_expires = 120;\n"
		     "  default_expires = 60;\n"
		     "};\n", 7,
		     "registrar.min_expires (120) must not exceed"
		     " registrar.default_expires (60)",
		     "raise default_expires or lower min_expires");
	/* only one set: that one is blamed, the default is named */
	expect_error(VALID4
		     "registrar = {\n"
		     "  min_expires = 4000;\n"
		     "};\n", 6,
		     "registrar.min_expires (4000) must not exceed"
		     " registrar.default_expires (3600, the default)", NULL);
	expect_error(VALID4
		     "registrar = {\n"
		     "  max_contacts = 2;\n"
		     "  default_expires = 7200;\n"
		     "};\n", 7,
		     "registrar.default_expires (7200) must not exceed"
		     " registrar.max_expires (3600, the default)", NULL);
	expect_error(VALID4 "registrar = {\n min_expires = 0;\n};\n", 6,
		     "registrar.min_expires must be between 1 and", "(got 0)");
	expect_error(VALID4 "registrar = {\n max_contacts = 100001;\n};\n", 6,
		     "registrar.max_contacts must be between 1 and 100000"
		     " (got 100001)", NULL);
	expect_error(VALID4 "registrar = {\n max_expires = -5;\n};\n", 6,
		     "(got -5)", NULL);
}


static void test_bad_transport(void **state)
{
	(void)state;
	expect_error(L1_DOMAINS
		     "listen = ( { transport = \"sctp\";"
		     " address = \"127.0.0.1:5061\"; } );\n"
		     L3_DATABASE L4_GRUU, 2,
		     "listen[0].transport 'sctp' is not supported;"
		     " use one of: \"udp\", \"tcp\", \"tls\"", NULL);
	/* exactly: no case folding */
	expect_error(L1_DOMAINS
		     "listen = ( { transport = \"UDP\";"
		     " address = \"127.0.0.1:5061\"; } );\n"
		     L3_DATABASE L4_GRUU, 2, "transport 'UDP'", NULL);
	expect_error(L1_DOMAINS
		     "listen = ( { address = \"127.0.0.1:5061\"; } );\n"
		     L3_DATABASE L4_GRUU, 2,
		     "missing required setting 'listen[0].transport'",
		     "add transport = \"udp\";");
}


static void test_tls_listener(void **state)
{
	struct locus_config *cfg;

	(void)state;
	cfg = load_ok(L1_DOMAINS "listen = ( { transport = \"tls\"; address ="
		      " \"127.0.0.1:5061\"; certificate = \"tls/c.pem\";"
		      " key = \"/etc/k.pem\"; } );\n" L3_DATABASE L4_GRUU);
	assert_int_equal(cfg->listen[0].tp, SIP_TRANSP_TLS);
	/* relative to the file's directory */
	assert_non_null(strstr(cfg->listen[0].certificate, "/tls/c.pem"));
	assert_int_equal(cfg->listen[0].certificate[0], '/');
	assert_string_equal(cfg->listen[0].key, "/etc/k.pem");
	mem_deref(cfg);

	expect_error(L1_DOMAINS "listen = ( { transport = \"tls\"; address ="
		     " \"127.0.0.1:5061\"; certificate = \"c.pem\"; } );\n"
		     L3_DATABASE L4_GRUU, 2, "listen[0] has transport \"tls\""
		     " but no key", "add key = ");
	expect_error(L1_DOMAINS "listen = ( { transport = \"udp\"; address ="
		     " \"127.0.0.1:5061\"; key = \"k.pem\"; } );\n"
		     L3_DATABASE L4_GRUU, 2, "listen[0].key is only for"
		     " transports \"tls\" and \"wss\"", "remove it");
}


static void test_websocket_listeners(void **state)
{
	struct locus_config *cfg;

	(void)state;
	cfg = load_ok(L1_DOMAINS "listen = ( { transport = \"ws\"; address ="
		      " \"127.0.0.1:8080\"; }, { transport = \"wss\";"
		      " address = \"127.0.0.1:8443\"; certificate ="
		      " \"c.pem\"; key = \"k.pem\"; } );\n"
		      L3_DATABASE L4_GRUU);
	assert_int_equal(cfg->listen[0].tp, SIP_TRANSP_WS);
	assert_null(cfg->listen[0].certificate);
	assert_int_equal(cfg->listen[1].tp, SIP_TRANSP_WSS);
	assert_non_null(strstr(cfg->listen[1].key, "/k.pem"));
	mem_deref(cfg);

	expect_error(L1_DOMAINS "listen = ( { transport = \"wss\"; address ="
		     " \"127.0.0.1:8443\"; key = \"k.pem\"; } );\n"
		     L3_DATABASE L4_GRUU, 2, "listen[0] has transport \"wss\""
		     " but no certificate", "add certificate = ");
	expect_error(L1_DOMAINS "listen = ( { transport = \"ws\"; address ="
		     " \"127.0.0.1:8080\"; certificate = \"c.pem\"; } );\n"
		     L3_DATABASE L4_GRUU, 2, "listen[0].certificate is only"
		     " for transports", "remove it");
	/* a WebSocket listener is a TCP socket: not on a TCP listener's
	 * port, but UDP may share it */
	expect_error(L1_DOMAINS "listen = ( { transport = \"tcp\"; address ="
		     " \"127.0.0.1:5060\"; },\n { transport = \"ws\"; address"
		     " = \"127.0.0.1:5060\"; } );\n" L3_DATABASE L4_GRUU, 3,
		     "listen[1] uses the address of listen[0] (tcp, tls, ws"
		     " and wss each need a TCP port of their own)",
		     "give one of them another port");
	cfg = load_ok(L1_DOMAINS "listen = ( { transport = \"udp\"; address ="
		      " \"127.0.0.1:5060\"; }, { transport = \"ws\";"
		      " address = \"127.0.0.1:5060\"; } );\n"
		      L3_DATABASE L4_GRUU);
	mem_deref(cfg);
}


static void listen_error(const char *addr, const char *phrase1,
			 const char *phrase2)
{
	char text[1024];

	snprintf(text, sizeof(text), L1_DOMAINS
		 "listen = ( { transport = \"udp\";"
		 " address = \"127.0.0.2:5060\"; },\n"
		 "  { transport = \"udp\";\n"
		 "    address = \"%s\"; } );\n"
		 L3_DATABASE L4_GRUU, addr);
	expect_error(text, 4, phrase1, phrase2);
}


static void test_bad_address(void **state)
{
	(void)state;
	listen_error("127.0.0.1", "listen[1].address '127.0.0.1' has no port",
		     "e.g. \"127.0.0.1:5060\"");
	listen_error("[::1]", "has no port", NULL);
	listen_error("127.0.0.1:0", "use a port from 1 to 65535", NULL);
	listen_error("127.0.0.1:70000", "use a port from 1 to 65535", NULL);
	listen_error("127.0.0.1:50x", "use a port from 1 to 65535", NULL);
	listen_error("127.0.0.1:", "use a port from 1 to 65535", NULL);
	listen_error("localhost:5060", "is not a literal IP address", NULL);
	listen_error("999.1.1.1:5060", "is not a literal IP address", NULL);
	listen_error("::1:5060", "put IPv6 addresses in brackets", NULL);
	listen_error("[::1:5060", "has no closing ']'", NULL);
	listen_error("", "listen[1].address must not be empty", NULL);
}


static void test_wildcard_address(void **state)
{
	(void)state;
	listen_error("0.0.0.0:5060", "'0.0.0.0:5060' is a wildcard address",
		     "Via sent-by is the socket address");
	listen_error("[::]:5060", "'[::]:5060' is a wildcard address",
		     "libre picks sockets by address family");
}


static void test_duplicates(void **state)
{
	(void)state;
	listen_error("127.0.0.2:5060", "listen[1] uses the address of listen[0];",
		     "give one of them another port");
	expect_error("domains = [ \"example.com\",\n"
		     "  \"EXAMPLE.com\" ];\n"
		     L2_LISTEN L3_DATABASE L4_GRUU, 2,
		     "domains[1] 'EXAMPLE.com' repeats domains[0]",
		     "remove one of them");
}


static void test_bad_domains(void **state)
{
	(void)state;
	expect_error("domains = [ \"example.com\", \"sip:example.com\" ];\n"
		     L2_LISTEN L3_DATABASE L4_GRUU, 1,
		     "domains[1] 'sip:example.com' is not a plausible host"
		     " name", NULL);
	expect_error("domains = [ \"example..com\" ];\n"
		     L2_LISTEN L3_DATABASE L4_GRUU, 1,
		     "not a plausible host name", NULL);
	expect_error("domains = [ \"example.com:5060\" ];\n"
		     L2_LISTEN L3_DATABASE L4_GRUU, 1,
		     "not a plausible host name", NULL);
	expect_error("domains = [ \"\" ];\n"
		     L2_LISTEN L3_DATABASE L4_GRUU, 1,
		     "domains[0] is empty", NULL);
	expect_error("domains = [ ];\n"
		     L2_LISTEN L3_DATABASE L4_GRUU, 1,
		     "domains is empty", NULL);
	expect_error(L1_DOMAINS "listen = ( );\n" L3_DATABASE L4_GRUU, 2,
		     "listen is empty", NULL);
}


static void test_missing_required(void **state)
{
	(void)state;
	expect_error(L1_DOMAINS L2_LISTEN
		     "database = {\n"
		     "};\n"
		     L4_GRUU, 3,
		     "missing required setting 'database.conninfo'",
		     "add conninfo = \"host=");
	expect_error(L1_DOMAINS L2_LISTEN
		     "database = { conninfo = \"\"; };\n"
		     L4_GRUU, 3,
		     "database.conninfo must not be empty", NULL);
	expect_error(L1_DOMAINS L2_LISTEN L3_DATABASE, 1,
		     "missing required setting 'gruu'",
		     "add gruu = { key_file = ");
	expect_error("", 1, "missing required setting 'domains'", NULL);
}


static void test_missing_file(void **state)
{
	struct locus_config *cfg = NULL;
	char path[PATH_MAX + 16], err[PATH_MAX + 128], want[PATH_MAX + 128];

	(void)state;
	snprintf(path, sizeof(path), "%s/absent.conf", tmpdir);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), ENOENT);
	assert_null(cfg);
	snprintf(want, sizeof(want), "%s: cannot read: %s; pass an existing"
		 " file with -f", path, strerror(ENOENT));
	assert_string_equal(err, want);

	/* no error buffer, or a tiny one: still safe */
	assert_int_equal(config_load(&cfg, path, NULL, 0), ENOENT);
	assert_int_equal(config_load(&cfg, path, err, 8), ENOENT);
	assert_int_equal(strlen(err), 7);
	write_conf("a = ;\n");
	assert_int_equal(config_load(&cfg, confpath, NULL, 0), EINVAL);
	write_conf("zz = 1;\n");
	assert_int_equal(config_load(&cfg, confpath, NULL, 0), EINVAL);
	assert_null(cfg);
}


static void test_config_dir_substitution(void **state)
{
	struct locus_config *cfg;
	char want[PATH_MAX * 3], cwd[PATH_MAX], err[512];

	(void)state;
	cfg = load_ok(L1_DOMAINS L2_LISTEN
		      "database = { conninfo ="
		      " \"host=${CONFIG_DIR}/run dbname=x"
		      " x=${CONFIG_DIR}\"; };\n"
		      L4_GRUU);
	snprintf(want, sizeof(want), "host=%s/run dbname=x x=%s",
		 realdir, realdir);
	assert_string_equal(cfg->db_conninfo, want);
	mem_deref(cfg);

	/* a relative -f path still yields an absolute directory */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);
	cfg = NULL;
	assert_int_equal(config_load(&cfg, "t.conf", err, sizeof(err)), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_string_equal(cfg->db_conninfo, want);
	assert_string_equal(cfg->path, "t.conf");
	mem_deref(cfg);

	expect_error(L1_DOMAINS L2_LISTEN
		     "database = {\n"
		     "  conninfo = \"host=${CONFIG_DIRR}/run\";\n"
		     "};\n" L4_GRUU, 4,
		     "unknown variable '${CONFIG_DIRR}' in database.conninfo",
		     "the only one supported is ${CONFIG_DIR}");
}


static void test_relative_key_file(void **state)
{
	struct locus_config *cfg;
	char want[PATH_MAX * 2];

	(void)state;
	cfg = load_ok(L1_DOMAINS L2_LISTEN L3_DATABASE
		      "gruu = { key_file = \"keys/gruu.key\"; };\n");
	snprintf(want, sizeof(want), "%s/keys/gruu.key", realdir);
	assert_string_equal(cfg->gruu_key_file, want);
	mem_deref(cfg);

	cfg = load_ok(VALID4);
	assert_string_equal(cfg->gruu_key_file, "/var/lib/locus/gruu.key");
	mem_deref(cfg);

	expect_error(L1_DOMAINS L2_LISTEN L3_DATABASE
		     "gruu = {\n  key_file = 7;\n};\n", 5,
		     "gruu.key_file must be a string (got an integer)", NULL);
}


static void test_log_level(void **state)
{
	struct locus_config *cfg;

	(void)state;
	cfg = load_ok(VALID4 "log = { level = \"error\"; };\n");
	assert_int_equal(cfg->log_level, LOG_LEVEL_ERROR);
	mem_deref(cfg);

	expect_error(VALID4 "\nlog = { level = \"verbose\"; };\n", 6,
		     "log.level 'verbose' is not a log level",
		     "\"debug\", \"info\", \"warn\", \"error\"");
}


static void test_proxy(void **state)
{
	struct locus_config *cfg;

	(void)state;
	cfg = load_ok(VALID4);
	assert_false(cfg->relay);
	assert_int_equal(cfg->timer_c, 180);
	mem_deref(cfg);

	cfg = load_ok(VALID4 "proxy = { relay = true; timer_c = 200; };\n");
	assert_true(cfg->relay);
	assert_int_equal(cfg->timer_c, 200);
	mem_deref(cfg);

	expect_error(VALID4 "proxy = {\n relay = \"yes\";\n};\n", 6,
		     "proxy.relay must be a boolean (got a string)",
		     "relay = false;");
	expect_error(VALID4 "proxy = { timer_c = 5; };\n", 5,
		     "proxy.timer_c must be between 32 and 3600 (got 5)", NULL);
	expect_error(VALID4 "proxy = { timerc = 200; };\n", 5,
		     "unknown setting 'timerc' in proxy",
		     "did you mean 'timer_c'?");
}


/* registrar.nat and registrar.flow_timer: defaults, values, mistakes. */
static void test_registrar_nat_and_flow_timer(void **state)
{
	struct locus_config *cfg;

	(void)state;
	cfg = load_ok(VALID4);
	assert_int_equal(cfg->nat, NAT_AUTO);
	assert_int_equal(cfg->flow_timer, 120);
	mem_deref(cfg);

	cfg = load_ok(VALID4 "registrar = { nat = \"always\"; flow_timer = 0;"
		      " };\n");
	assert_int_equal(cfg->nat, NAT_ALWAYS);
	assert_int_equal(cfg->flow_timer, 0);
	mem_deref(cfg);
	cfg = load_ok(VALID4 "registrar = { nat = \"Never\"; flow_timer = 600;"
		      " };\n");
	assert_int_equal(cfg->nat, NAT_NEVER);
	assert_int_equal(cfg->flow_timer, 600);
	mem_deref(cfg);

	expect_error(VALID4 "registrar = {\n nat = \"sometimes\";\n};\n", 6,
		     "registrar.nat 'sometimes' is not a NAT policy",
		     "\"auto\" (decide per REGISTER)");
	expect_error(VALID4 "registrar = {\n nat = true;\n};\n", 6,
		     "registrar.nat must be a string (got a boolean)", NULL);
	expect_error(VALID4 "registrar = {\n flow_timer = 601;\n};\n", 6,
		     "registrar.flow_timer must be between 0 and 600 (got 601)",
		     NULL);
}


/* proxy.edge_registrar names another registrar by a sip: URI; the
 * resolver's servers are addresses. */
static void test_proxy_edge_and_dns(void **state)
{
	struct locus_config *cfg;
	struct sa a;

	(void)state;
	cfg = load_ok(VALID4);
	assert_null(cfg->edge_registrar);
	assert_int_equal(cfg->dns_serverc, 0);
	mem_deref(cfg);

	cfg = load_ok(VALID4 "proxy = { edge_registrar = \"sip:10.0.0.5:5070;"
		      "transport=tcp\"; dns_servers = [ \"127.0.0.1:5353\","
		      " \"::1\" ]; };\n");
	assert_string_equal(cfg->edge_registrar,
			    "sip:10.0.0.5:5070;transport=tcp");
	assert_int_equal(cfg->dns_serverc, 2);
	assert_int_equal(0, sa_set_str(&a, "127.0.0.1", 5353));
	assert_true(sa_cmp(&a, &cfg->dns_servers[0], SA_ALL));
	assert_int_equal(0, sa_set_str(&a, "::1", 53));
	assert_true(sa_cmp(&a, &cfg->dns_servers[1], SA_ALL));
	mem_deref(cfg);

	expect_error(VALID4 "proxy = {\n edge_registrar = \"sips:r.example"
		     ".net\";\n};\n", 6, "proxy.edge_registrar 'sips:r.example"
		     ".net' is not a sip: URI of a host", NULL);
	expect_error(VALID4 "proxy = {\n edge_registrar = \"sip:bob@r.example"
		     ".net\";\n};\n", 6, "not a sip: URI of a host (no user "
		     "part)", NULL);
	expect_error(VALID4 "proxy = {\n edge_registrar = \"sip:EXAMPLE.com"
		     "\";\n};\n", 6, "names this locus", NULL);
	expect_error(VALID4 "proxy = {\n edge_registrar = \"sip:127.0.0.1:"
		     "5060;transport=tcp\";\n};\n", 6, "names this locus",
		     NULL);
	/* our domain, but at a port we do not listen on: another server */
	cfg = load_ok(VALID4 "proxy = { edge_registrar = \"sip:example.com:"
		      "5070\"; };\n");
	assert_string_equal(cfg->edge_registrar, "sip:example.com:5070");
	mem_deref(cfg);
	expect_error(VALID4 "proxy = {\n dns_servers = [ \"ns.example\" ];"
		     "\n};\n", 6, "proxy.dns_servers[0] must be an IP address",
		     NULL);
}


static void test_auth(void **state)
{
	struct locus_config *cfg;
	struct sa a;

	(void)state;
	/* on unless switched off; SHA-256 offered before MD5 */
	cfg = load_ok(VALID4);
	assert_true(cfg->auth);
	assert_int_equal(cfg->auth_algc, 2);
	assert_int_equal(cfg->auth_algs[0], DIGEST_SHA256);
	assert_int_equal(cfg->auth_algs[1], DIGEST_MD5);
	assert_int_equal(cfg->nonce_lifetime, 300);
	assert_int_equal(cfg->trustedc, 0);
	assert_int_equal(cfg->fail_limit, 10);
	assert_int_equal(cfg->fail_window, 60);
	mem_deref(cfg);

	cfg = load_ok(VALID4 "auth = { enabled = false; algorithms = "
		      "[ \"md5\" ]; nonce_lifetime = 60;\n trusted = "
		      "[ \"192.0.2.10\", \"::1\" ]; };\n");
	assert_false(cfg->auth);
	assert_int_equal(cfg->auth_algc, 1);
	assert_int_equal(cfg->auth_algs[0], DIGEST_MD5);
	assert_int_equal(cfg->nonce_lifetime, 60);
	assert_int_equal(cfg->trustedc, 2);
	assert_int_equal(0, sa_set_str(&a, "192.0.2.10", 5060));
	assert_true(config_is_trusted(cfg, &a));
	assert_int_equal(0, sa_set_str(&a, "192.0.2.11", 5060));
	assert_false(config_is_trusted(cfg, &a));
	mem_deref(cfg);

	expect_error(VALID4 "auth = {\n algorithms = [ \"SHA-512\" ];\n};\n",
		     6, "auth.algorithms[0] must be \"SHA-256\" or \"MD5\"",
		     NULL);
	expect_error(VALID4 "auth = { algorithms = [ \"MD5\", \"md5\" ]; };\n",
		     5, "auth.algorithms[1] must be", "each once");
	expect_error(VALID4 "auth = { algorithms = [ ]; };\n", 5,
		     "auth.algorithms must name one or two", NULL);
	expect_error(VALID4 "auth = {\n trusted = [ \"pbx.example.com\" ];\n};\n",
		     6, "auth.trusted[0] must be an IP address", NULL);
	expect_error(VALID4 "auth = { nonce_lifetime = 5; };\n", 5,
		     "auth.nonce_lifetime must be between 10 and 86400", NULL);
	expect_error(VALID4 "auth = { fail_limit = 0; };\n", 5,
		     "auth.fail_limit must be between 1 and 1000000", NULL);
	expect_error(VALID4 "auth = { enable = true; };\n", 5,
		     "unknown setting 'enable' in auth",
		     "did you mean 'enabled'?");
}


/* features.intercom and intercom.{style,trusted}: off unless set. */
static void test_intercom(void **state)
{
	struct locus_config *cfg;
	struct sa a;

	(void)state;
	cfg = load_ok(VALID4);
	assert_null(cfg->intercom_prefix);
	assert_int_equal(cfg->intercom_stylec, 0);
	assert_int_equal(cfg->intercom_trustedc, 0);
	mem_deref(cfg);

	cfg = load_ok(VALID4 "features = { intercom = \"\"; };\n"
		      "intercom = { style = ( ); trusted = [ ]; };\n");
	assert_null(cfg->intercom_prefix);
	mem_deref(cfg);

	cfg = load_ok(VALID4 "features = { intercom = \"*6\"; };\n"
		      "intercom = {\n style = (\n"
		      "  { user_agent = \"Polycom*\"; dialect = \"ring-answer\"; },\n"
		      "  { user_agent = \"Snom*\"; dialect = \"intercom-uri\"; },\n"
		      "  { user_agent = \"*\"; dialect = \"answer-mode\"; },\n"
		      "  { user_agent = \"x\"; dialect = \"default\"; } );\n"
		      " trusted = [ \"192.0.2.10\" ];\n};\n");
	assert_string_equal(cfg->intercom_prefix, "*6");
	assert_int_equal(cfg->intercom_stylec, 4);
	assert_string_equal(cfg->intercom_styles[0].user_agent, "Polycom*");
	assert_int_equal(cfg->intercom_styles[0].dialect, INTERCOM_RING_ANSWER);
	assert_int_equal(cfg->intercom_styles[1].dialect, INTERCOM_URI_PARAM);
	assert_int_equal(cfg->intercom_styles[2].dialect, INTERCOM_ANSWER_MODE);
	assert_int_equal(cfg->intercom_styles[3].dialect, INTERCOM_DEFAULT);
	assert_string_equal(config_intercom_dialect_name(INTERCOM_URI_PARAM),
			    "intercom-uri");
	assert_int_equal(0, sa_set_str(&a, "192.0.2.10", 5060));
	assert_true(config_is_intercom_trusted(cfg, &a));
	/* auth.trusted is another list */
	assert_false(config_is_trusted(cfg, &a));
	assert_int_equal(0, sa_set_str(&a, "192.0.2.11", 5060));
	assert_false(config_is_intercom_trusted(cfg, &a));
	mem_deref(cfg);

	expect_error(VALID4 "features = {\n intercom = \"#6\";\n};\n", 6,
		     "features.intercom '#6' must be at most 16 digits",
		     "intercom = \"*6\";");
	expect_error(VALID4 "features = { intercom = 6; };\n", 5,
		     "features.intercom must be a string (got an integer)",
		     NULL);
	expect_error(VALID4 "features = { intercon = \"*6\"; };\n", 5,
		     "unknown setting 'intercon' in features",
		     "did you mean 'intercom'?");
	expect_error(VALID4 "intercom = { style = (\n { user_agent = \"P*\";"
		     " dialect = \"polycom\"; } ); };\n", 6,
		     "intercom.style[0].dialect 'polycom' is not a dialect",
		     "\"ring-answer\"");
	expect_error(VALID4 "intercom = { style = ( { user_agent = \"P*\"; },\n"
		     " { dialect = \"default\"; } ); };\n", 5,
		     "missing required setting 'intercom.style[0].dialect'",
		     NULL);
	expect_error(VALID4 "intercom = { style = ( \"Polycom*\" ); };\n", 5,
		     "intercom.style[0] must be a group (got a string)", NULL);
	expect_error(VALID4 "intercom = {\n styles = ( ); };\n", 6,
		     "unknown setting 'styles' in intercom",
		     "did you mean 'style'?");
	expect_error(VALID4 "intercom = {\n trusted = [ \"pbx\" ];\n};\n", 6,
		     "intercom.trusted[0] must be an IP address", NULL);
}


static void test_is_our_domain(void **state)
{
	struct locus_config *cfg;
	struct pl pl;

	(void)state;
	cfg = load_ok("domains = [ \"Example.com\", \"127.0.0.1\" ];\n"
		      L2_LISTEN L3_DATABASE L4_GRUU);

	pl_set_str(&pl, "EXAMPLE.COM");
	assert_true(config_is_our_domain(cfg, &pl));
	pl_set_str(&pl, "example.com");
	assert_true(config_is_our_domain(cfg, &pl));
	pl_set_str(&pl, "127.0.0.1");
	assert_true(config_is_our_domain(cfg, &pl));
	/* RFC 3261 §19.1.4 and DNS: the trailing dot names the same host */
	pl_set_str(&pl, "example.com.");
	assert_true(config_is_our_domain(cfg, &pl));
	pl_set_str(&pl, "EXAMPLE.COM.");
	assert_true(config_is_our_domain(cfg, &pl));
	assert_string_equal("example.com", config_our_domain(cfg, &pl));

	pl_set_str(&pl, "example.co");
	assert_false(config_is_our_domain(cfg, &pl));
	pl_set_str(&pl, "example.com.evil.org");
	assert_false(config_is_our_domain(cfg, &pl));
	pl_set_str(&pl, "xexample.com");
	assert_false(config_is_our_domain(cfg, &pl));
	pl_set_str(&pl, "example.com..");
	assert_false(config_is_our_domain(cfg, &pl));
	pl_set_str(&pl, ".");
	assert_false(config_is_our_domain(cfg, &pl));
	assert_null(config_our_domain(cfg, &pl));
	pl_set_str(&pl, "");
	assert_false(config_is_our_domain(cfg, &pl));
	assert_false(config_is_our_domain(cfg, NULL));
	assert_false(config_is_our_domain(NULL, &pl));

	/* a slice of a longer buffer: only its length counts */
	pl.p = "example.com:5060";
	pl.l = 11;
	assert_true(config_is_our_domain(cfg, &pl));
	mem_deref(cfg);
}


/* features.park: off when absent; slots, auto and timeout read; what
 * is not a range of slots, an auto number among them, or a key it does
 * not know, refused with its line. */
static void test_park(void **state)
{
	struct locus_config *cfg;

	(void)state;
	cfg = load_ok(VALID4);
	assert_false(cfg->park.enabled);
	mem_deref(cfg);

	cfg = load_ok(VALID4 "features = { park = { slots = \"701-799\";"
		      " auto = \"70\"; timeout = 45; }; };\n");
	assert_true(cfg->park.enabled);
	assert_int_equal(cfg->park.first, 701);
	assert_int_equal(cfg->park.last, 799);
	assert_int_equal(cfg->park.digits, 3);
	assert_string_equal(cfg->park.auto_number, "70");
	assert_int_equal(cfg->park.timeout, 45);
	mem_deref(cfg);

	cfg = load_ok(VALID4 "features = { park = { slots = \"0700-0709\";"
		      " }; };\n");
	assert_int_equal(cfg->park.first, 700);
	assert_int_equal(cfg->park.digits, 4);
	assert_null(cfg->park.auto_number);
	assert_int_equal(cfg->park.timeout, 120);
	mem_deref(cfg);

	expect_error(VALID4 "features = { park = { slots = \"701\"; }; };\n",
		     5, "features.park.slots '701' is not a range", NULL);
	expect_error(VALID4 "features = { park = { slots = \"701-99\"; };"
		     " };\n", 5, "of as many digits each", NULL);
	expect_error(VALID4 "features = { park = { slots = \"799-701\"; };"
		     " };\n", 5, "must run upwards", NULL);
	expect_error(VALID4 "features = { park = { slots = \"7000-9999\";"
		     " }; };\n", 5, "at most 1000 slots", NULL);
	expect_error(VALID4 "features = {\n park = { slots = \"701-799\";\n"
		     " auto = \"750\"; }; };\n", 7,
		     "features.park.auto '750' is one of the slots", NULL);
	expect_error(VALID4 "features = { park = { slots = \"701-799\";"
		     " auto = \"7a\"; }; };\n", 5,
		     "features.park.auto '7a' is not a number", NULL);
	expect_error(VALID4 "features = { park = { slots = \"701-799\";"
		     " timeout = 0; }; };\n", 5,
		     "features.park.timeout must be between 1 and 86400",
		     NULL);
	expect_error(VALID4 "features = { park = { slot = \"701-799\"; };"
		     " };\n", 5, "unknown setting 'slot'", "did you mean"
		     " 'slots'?");
	expect_error(VALID4 "features = { parking = { }; };\n", 5,
		     "unknown setting 'parking'", NULL);
	expect_error(VALID4 "features = { park = 1; };\n", 5,
		     "features.park must be a group", NULL);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validator_accepts),
		cmocka_unit_test(test_validator_unknown_key),
		cmocka_unit_test(test_validator_unknown_top_level),
		cmocka_unit_test(test_validator_wrong_type),
		cmocka_unit_test(test_validator_out_of_range),
		cmocka_unit_test(test_validator_report),
		cmocka_unit_test(test_example_loads),
		cmocka_unit_test(test_defaults_and_lower_case),
		cmocka_unit_test(test_all_settings),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_unknown_top_level),
		cmocka_unit_test(test_unknown_in_registrar),
		cmocka_unit_test(test_unknown_in_listen_entry),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_registrar_values),
		cmocka_unit_test(test_bad_transport),
		cmocka_unit_test(test_tls_listener),
		cmocka_unit_test(test_websocket_listeners),
		cmocka_unit_test(test_bad_address),
		cmocka_unit_test(test_wildcard_address),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_bad_domains),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_config_dir_substitution),
		cmocka_unit_test(test_relative_key_file),
		cmocka_unit_test(test_log_level),
		cmocka_unit_test(test_proxy),
		cmocka_unit_test(test_proxy_edge_and_dns),
		cmocka_unit_test(test_registrar_nat_and_flow_timer),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_intercom),
		cmocka_unit_test(test_is_our_domain),
		cmocka_unit_test(test_park),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/*
 * Unit tests for compat/sip_scan.c: its scanners against libre's own
 * decoders (found with dlsym(RTLD_NEXT), behind this executable's
 * overrides).  Wherever a scanner decides (anything but SCAN_UNSURE), its
 * answer and everything it fills in must be libre's, pointer for pointer.
 *
 * The inputs: every header value and Request-URI of the messages in
 * tests/fuzz/corpus and tests/integration/msg (the RFC 4475 torture
 * messages among them), the values of a few hand-written headers, and
 * every variant of each with one character deleted, replaced or inserted
 * (characters that mean something to the patterns).  Ordinary values
 * must be decided by the scanners, not handed to libre.
 */
#define _GNU_SOURCE   /* RTLD_NEXT */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "compat/sip_scan.h"

typedef int (uri_f)(struct uri *, const struct pl *);
typedef int (param_f)(const struct pl *, const char *, struct pl *);
typedef int (addr_f)(struct sip_addr *, const struct pl *);
typedef int (via_f)(struct sip_via *, const struct pl *);
typedef int (cseq_f)(struct sip_cseq *, const struct pl *);
typedef int (ctype_f)(struct msg_ctype *, const struct pl *);

static struct {
	uri_f *uri;
	param_f *param;
	addr_f *addr;
	via_f *via;
	cseq_f *cseq;
	ctype_f *ctype;
} libre;

/* How many inputs the scanners decided, and handed to libre. */
static unsigned decided, unsure;

static const char *const param_names[] = {
	"tag", "branch", "lr", "transport", "received", "rport", "ls", "X",
};

/* Characters that mean something to libre's patterns. */
static const char mutants[] = " \t:;@<>\"\\[]=?/,.aF0";

enum { SEEDS_MAX = 4096, SEED_LEN_MAX = 160, MUTATE_LEN_MAX = 100 };

static char *seeds[SEEDS_MAX];
static size_t seedc;


/* ---- comparing ------------------------------------------------------ */

static void pl_same(const struct pl *a, const struct pl *b, const char *what,
		    const struct pl *in)
{
	if (a->p != b->p || a->l != b->l)
		fail_msg("%s of \"%.*s\": scanner (%p, %zu) '%.*s', libre "
			 "(%p, %zu) '%.*s'", what, (int)in->l, in->p,
			 (void *)a->p, a->l, (int)a->l, a->p ? a->p : "",
			 (void *)b->p, b->l, (int)b->l, b->p ? b->p : "");
}


static void uri_same(const struct uri *a, const struct uri *b,
		     const struct pl *in)
{
	pl_same(&a->scheme, &b->scheme, "scheme", in);
	pl_same(&a->user, &b->user, "user", in);
	pl_same(&a->password, &b->password, "password", in);
	pl_same(&a->host, &b->host, "host", in);
	pl_same(&a->path, &b->path, "path", in);
	pl_same(&a->params, &b->params, "params", in);
	pl_same(&a->headers, &b->headers, "headers", in);
	if (a->af != b->af || a->port != b->port)
		fail_msg("af/port of \"%.*s\": scanner %d/%u, libre %d/%u",
			 (int)in->l, in->p, a->af, a->port, b->af, b->port);
}


/* The scanner's answer SCAN and libre's LIBRE for IN. */
static bool both(int scan, int libre_err, const char *what,
		 const struct pl *in)
{
	if (scan == SCAN_UNSURE) {
		++unsure;
		return false;
	}
	++decided;
	if (scan != libre_err)
		fail_msg("%s of \"%.*s\": scanner %d, libre %d", what,
			 (int)in->l, in->p, scan, libre_err);
	return true;
}


static void check_uri(const struct pl *in)
{
	struct uri a, b;
	int e = scan_uri(&a, in);

	if (both(e, e == SCAN_UNSURE ? 0 : libre.uri(&b, in), "uri", in) &&
	    !e)
		uri_same(&a, &b, in);
}


static void check_param(const struct pl *in, const char *name)
{
	struct pl a = PL("untouched"), b = a;
	int e = scan_param(in, name, &a);

	if (both(e, e == SCAN_UNSURE ? 0 : libre.param(in, name, &b),
		 name, in))
		pl_same(&a, &b, name, in);
}


static void check_addr(const struct pl *in)
{
	struct sip_addr a, b;
	int e = scan_addr(&a, in);

	if (!both(e, e == SCAN_UNSURE ? 0 : libre.addr(&b, in), "addr", in))
		return;
	pl_same(&a.dname, &b.dname, "display name", in);
	pl_same(&a.auri, &b.auri, "addr URI", in);
	pl_same(&a.params, &b.params, "addr params", in);
	uri_same(&a.uri, &b.uri, in);
}


static void check_via(const struct pl *in)
{
	struct sip_via a, b;
	int e;

	memset(&a, 0x5a, sizeof(a));
	memset(&b, 0x5a, sizeof(b));
	e = scan_via(&a, in);
	if (!both(e, e == SCAN_UNSURE ? 0 : libre.via(&b, in), "via", in))
		return;
	pl_same(&a.sentby, &b.sentby, "sent-by", in);
	pl_same(&a.params, &b.params, "via params", in);
	pl_same(&a.branch, &b.branch, "branch", in);
	pl_same(&a.val, &b.val, "via value", in);
	if (a.tp != b.tp || memcmp(&a.addr, &b.addr, sizeof(a.addr)))
		fail_msg("via transport or address of \"%.*s\"", (int)in->l,
			 in->p);
}


static void check_cseq(const struct pl *in)
{
	struct sip_cseq a = {PL("x"), 7}, b = a;
	int e = scan_cseq(&a, in);

	if (!both(e, e == SCAN_UNSURE ? 0 : libre.cseq(&b, in), "cseq", in))
		return;
	pl_same(&a.met, &b.met, "method", in);
	if (a.num != b.num)
		fail_msg("cseq of \"%.*s\": %u, libre %u", (int)in->l, in->p,
			 a.num, b.num);
}


static void check_ctype(const struct pl *in)
{
	struct msg_ctype a, b;
	int e;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	e = scan_ctype(&a, in);
	if (!both(e, e == SCAN_UNSURE ? 0 : libre.ctype(&b, in), "ctype",
		  in))
		return;
	pl_same(&a.type, &b.type, "type", in);
	pl_same(&a.subtype, &b.subtype, "subtype", in);
	pl_same(&a.params, &b.params, "ctype params", in);
}


static void check_all(const char *p, size_t len)
{
	const struct pl in = {p, len};

	check_uri(&in);
	check_addr(&in);
	check_via(&in);
	check_cseq(&in);
	check_ctype(&in);
	for (size_t i = 0; i < ARRAY_SIZE(param_names); i++)
		check_param(&in, param_names[i]);
}


/* Every variant of SEED with one character deleted, replaced or
 * inserted. */
static void check_mutants(const char *seed)
{
	size_t len = strlen(seed);
	char buf[MUTATE_LEN_MAX + 2];

	if (len > MUTATE_LEN_MAX)
		return;
	for (size_t i = 0; i <= len; i++) {
		if (i < len) {
			memcpy(buf, seed, i);
			memcpy(buf + i, seed + i + 1, len - i - 1);
			check_all(buf, len - 1);
		}
		for (const char *m = mutants; *m; m++) {
			memcpy(buf, seed, len);
			if (i < len) {
				buf[i] = *m;
				check_all(buf, len);
			}
			memcpy(buf, seed, i);
			buf[i] = *m;
			memcpy(buf + i + 1, seed + i, len - i);
			check_all(buf, len + 1);
		}
	}
}


/* ---- the corpus ----------------------------------------------------- */

static void seed_add(const char *p, size_t len)
{
	while (len && (*p == ' ' || *p == '\t')) {
		++p;
		--len;
	}
	while (len && (p[len - 1] == '\r' || p[len - 1] == ' '))
		--len;
	if (!len || len > SEED_LEN_MAX || seedc == SEEDS_MAX)
		return;
	for (size_t i = 0; i < seedc; i++) {
		if (strlen(seeds[i]) == len && !memcmp(seeds[i], p, len))
			return;
	}
	seeds[seedc] = strndup(p, len);
	assert_non_null(seeds[seedc]);
	++seedc;
}


/* A message's lines: a header's value (whole, and each comma-separated
 * part), a Request-Line's URI. */
static void seeds_from_text(const char *text, size_t len)
{
	const char *end = text + len;

	/* the fuzz corpus starts each message with a transport byte */
	if (len && (text[0] == 0 || text[0] == 1))
		++text;
	while (text < end) {
		const char *eol = memchr(text, '\n', (size_t)(end - text));
		const char *colon, *sp;

		if (!eol)
			eol = end;
		colon = memchr(text, ':', (size_t)(eol - text));
		sp = memchr(text, ' ', (size_t)(eol - text));
		if (sp && (!colon || sp < colon)) {   /* a start line */
			const char *sp2 = memchr(sp + 1, ' ',
						 (size_t)(eol - sp - 1));
			seed_add(sp + 1, (size_t)((sp2 ? sp2 : eol) - sp - 1));
		}
		if (colon) {
			const char *v = colon + 1, *comma;

			seed_add(v, (size_t)(eol - v));
			while ((comma = memchr(v, ',', (size_t)(eol - v)))) {
				seed_add(v, (size_t)(comma - v));
				v = comma + 1;
			}
			seed_add(v, (size_t)(eol - v));
		}
		text = eol + 1;
	}
}


static void seeds_from_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		fail_msg("cannot open %s", dir);
	while ((de = readdir(d))) {
		char path[512], buf[16384];
		size_t n;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;   /* a directory */
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		seeds_from_text(buf, n);
	}
	closedir(d);
}


/* Values a call through locus carries, and hand-made odd ones. */
static const char *const hand[] = {
	"sip:alice@example.com",
	"sip:alice@example.com:5060;transport=tcp?Subject=x",
	"sips:bob:secret@[2001:db8::1]:5061;lr",
	"sip:[::1];lr",
	"sip:192.0.2.1:5060;lr;ls=u0123456789abcdef0123456789abcdef",
	"sip:callee@127.0.0.1:25090",
	"tel:+1-201-555-0123",
	"\"Alice Liddell\" <sip:alice@example.com>;tag=1928301774",
	"Alice Liddell <sip:alice@example.com>;tag=x",
	"<sip:bob@example.com>",
	"sipp <sip:sipp@127.0.0.1:5060>;tag=42SIPpTag001",
	"<sip:127.0.0.1:25060;lr;ls=u00112233445566778899aabbccddeeff>",
	"sip:carol@chicago.com;tag=\"a;b\"",
	"SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-524287-1---;rport",
	"SIP/2.0/TCP [2001:db8::9]:5061;branch=z9hG4bKx;received=192.0.2.1",
	"SIP / 2.0 / UDP host.example.com ; branch = z9hG4bK776",
	"SIP/2.0/udp 192.0.2.1",
	"SIP/2.0/UDP 192.0.2.1:5060;lh=abc;lt=0123456789abcdef;branch=z9",
	"1 INVITE",
	"4294967296 BYE",
	"314159   ACK",
	"application/sdp",
	"multipart/mixed; boundary=unique-boundary-1",
	" text / plain ;charset=utf-8",
	";tag=abc;branch=\"q\\\"x\";lr",
	"; tag = x ;BRANCH=z9hG4bK1",
};


static int setup(void **state)
{
	const char *data = getenv("LOCUS_TEST_DATA");
	const char *slash;
	char dir[512];
	int tests_len;

	(void)state;
	libre.uri = (uri_f *)dlsym(RTLD_NEXT, "uri_decode");
	libre.param = (param_f *)dlsym(RTLD_NEXT, "msg_param_decode");
	libre.addr = (addr_f *)dlsym(RTLD_NEXT, "sip_addr_decode");
	libre.via = (via_f *)dlsym(RTLD_NEXT, "sip_via_decode");
	libre.cseq = (cseq_f *)dlsym(RTLD_NEXT, "sip_cseq_decode");
	libre.ctype = (ctype_f *)dlsym(RTLD_NEXT, "msg_ctype_decode");
	assert_true(libre.uri && libre.param && libre.addr && libre.via &&
		    libre.cseq && libre.ctype);
	/* behind the overrides of this executable: libre's own */
	assert_ptr_not_equal(libre.uri, uri_decode);
	assert_ptr_not_equal(libre.param, msg_param_decode);

	for (size_t i = 0; i < ARRAY_SIZE(hand); i++)
		seed_add(hand[i], strlen(hand[i]));
	/* LOCUS_TEST_DATA is tests/data (ctest sets it) */
	assert_non_null(data);
	slash = strrchr(data, '/');
	assert_non_null(slash);
	tests_len = (int)(slash - data);
	snprintf(dir, sizeof(dir), "%.*s/fuzz/corpus", tests_len, data);
	seeds_from_dir(dir);
	snprintf(dir, sizeof(dir), "%.*s/integration/msg", tests_len, data);
	seeds_from_dir(dir);
	snprintf(dir, sizeof(dir), "%.*s/integration/msg/rfc4475", tests_len,
		 data);
	seeds_from_dir(dir);
	print_message("%zu seeds\n", seedc);
	return 0;
}


/* ---- the tests ------------------------------------------------------ */

static void test_corpus_as_libre(void **state)
{
	(void)state;
	decided = unsure = 0;
	for (size_t i = 0; i < seedc; i++)
		check_all(seeds[i], strlen(seeds[i]));
	print_message("decided %u, unsure %u\n", decided, unsure);
	assert_true(decided > 1000);
}


static void test_mutants_as_libre(void **state)
{
	(void)state;
	decided = unsure = 0;
	for (size_t i = 0; i < seedc; i++)
		check_mutants(seeds[i]);
	print_message("decided %u, unsure %u\n", decided, unsure);
	assert_true(decided > 100000);
}


/* What every proxied call carries goes through the scanners alone. */
static void test_ordinary_values_decided(void **state)
{
	static const char *const uris[] = {
		"sip:alice@example.com", "sip:192.0.2.1:5060;lr",
		"sip:callee@127.0.0.1:25090;transport=tcp",
		"sips:[2001:db8::1]:5061",
	};
	static const char *const addrs[] = {
		"<sip:bob@example.com>;tag=9fxced76sl",
		"sipp <sip:sipp@127.0.0.1:5060>;tag=42SIPpTag001",
		"\"Bob B.\" <sip:bob@example.com>", "sip:bob@example.com;tag=1",
	};
	const struct pl via = PL("SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1"
				 ";rport");
	const struct pl cseq = PL("2 BYE"), ctype = PL("application/sdp");
	struct sip_addr addr;
	struct uri uri;
	struct sip_via v;
	struct sip_cseq cs;
	struct msg_ctype ct;
	struct pl pl, val;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(uris); i++) {
		pl_set_str(&pl, uris[i]);
		assert_int_equal(0, scan_uri(&uri, &pl));
	}
	for (size_t i = 0; i < ARRAY_SIZE(addrs); i++) {
		pl_set_str(&pl, addrs[i]);
		assert_int_equal(0, scan_addr(&addr, &pl));
	}
	assert_int_equal(0, scan_via(&v, &via));
	assert_int_equal(0, pl_strcmp(&v.branch, "z9hG4bK1"));
	assert_int_equal(0, scan_cseq(&cs, &cseq));
	assert_int_equal(0, scan_ctype(&ct, &ctype));
	assert_int_equal(ENOENT, scan_param(&via, "maddr", &val));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ordinary_values_decided),
		cmocka_unit_test(test_corpus_as_libre),
		cmocka_unit_test(test_mutants_as_libre),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

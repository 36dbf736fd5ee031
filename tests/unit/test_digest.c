/* Unit tests for auth/: digest credentials (decoding, RFC 7616 §3.9.1's
 * worked example), stateless nonces and nonce-count replay protection. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <re.h>
#include "sip/digest.h"
#include "auth/limiter.h"
#include "auth/lockout.h"
#include "auth/nonce.h"
#include "auth/nonce_count.h"

/* RFC 7616 §3.9.1: Mufasa, "Circle of Life", GET /dir/index.html */
#define RFC_REALM  "http-auth@example.org"
#define RFC_NONCE  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define RFC_OPAQUE "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"

static const char rfc_md5[] =
	"Digest username=\"Mufasa\",\r\n realm=\"" RFC_REALM "\",\r\n"
	" uri=\"/dir/index.html\", algorithm=MD5,\r\n"
	" nonce=\"" RFC_NONCE "\", nc=00000001,\r\n"
	" cnonce=\"" RFC_CNONCE "\", qop=auth,\r\n"
	" response=\"8ca523f5e9506fed4657c9700eebdbec\",\r\n"
	" opaque=\"" RFC_OPAQUE "\"";

static const char rfc_sha256[] =
	"Digest username=\"Mufasa\", realm=\"" RFC_REALM "\","
	" uri=\"/dir/index.html\", algorithm=SHA-256,"
	" nonce=\"" RFC_NONCE "\", nc=00000001, cnonce=\"" RFC_CNONCE "\","
	" qop=auth, response=\"753927fa0e85d155564e2e272a28d1802ca10daf"
	"4496794697cf8db5856cb6c1\", opaque=\"" RFC_OPAQUE "\"";

static const uint8_t key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};


static void ha1_of(char *out, enum digest_alg alg)
{
	static const char a1[] = "Mufasa:" RFC_REALM ":Circle of Life";

	assert_int_equal(0, digest_hex(out, alg, a1, strlen(a1)));
}


static void decode_ok(struct digest_creds *c, const char *text)
{
	struct pl v;
	const char *problem = NULL;

	pl_set_str(&v, text);
	assert_int_equal(0, digest_creds_decode(c, &v, &problem));
}


static const char *decode_problem(const char *text)
{
	struct digest_creds c;
	struct pl v;
	const char *problem = NULL;

	pl_set_str(&v, text);
	assert_int_equal(EPROTO, digest_creds_decode(&c, &v, &problem));
	assert_non_null(problem);
	return problem;
}


static void test_rfc7616_md5(void **state)
{
	struct digest_creds c;
	struct pl get = PL("GET"), post = PL("POST");
	char ha1[DIGEST_HEX_MAX + 1];
	(void)state;

	decode_ok(&c, rfc_md5);
	assert_int_equal(DIGEST_MD5, c.alg);
	assert_int_equal(1, c.nc_value);
	assert_true(0 == pl_strcmp(&c.username, "Mufasa"));
	assert_true(0 == pl_strcmp(&c.opaque, RFC_OPAQUE));
	ha1_of(ha1, DIGEST_MD5);
	assert_true(digest_response_ok(&c, ha1, &get));
	assert_false(digest_response_ok(&c, ha1, &post));
	ha1[0] = ha1[0] == '0' ? '1' : '0';
	assert_false(digest_response_ok(&c, ha1, &get));
}


static void test_rfc7616_sha256(void **state)
{
	struct digest_creds c;
	struct pl get = PL("GET");
	char ha1[DIGEST_HEX_MAX + 1], md5[DIGEST_HEX_MAX + 1];
	(void)state;

	decode_ok(&c, rfc_sha256);
	assert_int_equal(DIGEST_SHA256, c.alg);
	ha1_of(ha1, DIGEST_SHA256);
	assert_true(digest_response_ok(&c, ha1, &get));
	/* the MD5 HA1 never verifies a SHA-256 response */
	ha1_of(md5, DIGEST_MD5);
	assert_false(digest_response_ok(&c, md5, &get));
}


static void test_decode_refusals(void **state)
{
	(void)state;

	assert_string_equal("Authorization Scheme Is Not Digest",
			    decode_problem("Basic QWxhZGRpbjpvcGVu"));
	assert_string_equal("Incomplete Digest Credentials", decode_problem(
		"Digest username=\"a\", realm=\"r\", uri=\"sip:r\", "
		"response=\"00000000000000000000000000000000\""));
	assert_string_equal("Unsupported Digest Algorithm", decode_problem(
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", "
		"algorithm=SHA-512-256, qop=auth, nc=00000001, cnonce=\"c\", "
		"response=\"00000000000000000000000000000000\""));
	assert_string_equal("Digest Credentials Without qop=auth",
		decode_problem("Digest username=\"a\", realm=\"r\", "
		"nonce=\"n\", uri=\"u\", "
		"response=\"00000000000000000000000000000000\""));
	assert_string_equal("Malformed Digest Nonce Count", decode_problem(
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", "
		"qop=auth, nc=1, cnonce=\"c\", "
		"response=\"00000000000000000000000000000000\""));
	assert_string_equal("Malformed Digest Response", decode_problem(
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", "
		"qop=auth, nc=00000001, cnonce=\"c\", response=\"zz\""));
	assert_string_equal("Duplicate Field in Digest Credentials",
		decode_problem("Digest username=\"a\", username=\"b\""));
	assert_string_equal("Escaped Character in Digest Credentials",
		decode_problem("Digest username=\"a\\\"b\""));
	assert_string_equal("Malformed Digest Credentials",
		decode_problem("Digest username=\"unterminated"));
	assert_string_equal("Malformed Digest Credentials",
		decode_problem("Digest username"));
}


static bool uri_matches(const char *digest_uri, const char *request_uri)
{
	struct digest_creds c;
	struct pl raw;
	struct uri ruri;

	memset(&c, 0, sizeof(c));
	pl_set_str(&c.uri, digest_uri);
	pl_set_str(&raw, request_uri);
	assert_int_equal(0, uri_decode(&ruri, &raw));
	return digest_uri_matches(&c, &raw, &ruri);
}


/* RFC 3261 §22.4, RFC 7616 §3.4.6: the digest uri is the Request-URI,
 * compared as URIs are (RFC 3261 §19.1.4). */
static void test_digest_uri(void **state)
{
	(void)state;

	assert_true(uri_matches("sip:example.com", "sip:example.com"));
	assert_true(uri_matches("sip:bob@EXAMPLE.com", "sip:bob@example.COM"));
	assert_true(uri_matches("sip:example.com.", "sip:example.com"));
	assert_true(uri_matches("sip:bob@example.com",
				"sip:bob@example.com."));
	assert_true(uri_matches("SIP:%61lice@example.com",
				"sip:alice@example.com"));
	assert_true(uri_matches("sip:bob@example.com;transport=TCP;lr",
				"sip:bob@example.com;lr;transport=tcp"));
	/* a parameter in one only, not user/ttl/method/maddr/transport */
	assert_true(uri_matches("sip:bob@example.com;security=on",
				"sip:bob@example.com"));
	assert_true(uri_matches("sip:bob@example.com?Subject=x&priority=1",
				"sip:bob@example.com?priority=1&subject=x"));
	assert_true(uri_matches("sip:bob@example.com?subject=%61",
				"sip:bob@example.com?subject=a"));
	assert_true(uri_matches("tel:+15551234", "tel:+15551234"));

	assert_false(uri_matches("sip:carol@example.com",
				 "sip:bob@example.com"));
	assert_false(uri_matches("sip:Bob@example.com",
				 "sip:bob@example.com"));
	assert_false(uri_matches("sip:example.com", "sip:bob@example.com"));
	assert_false(uri_matches("sip:example.org", "sip:example.com"));
	assert_false(uri_matches("sip:example.com:5060", "sip:example.com"));
	assert_false(uri_matches("sips:example.com", "sip:example.com"));
	assert_false(uri_matches("sip:example.com;transport=tcp",
				 "sip:example.com"));
	assert_false(uri_matches("sip:example.com;transport=tcp",
				 "sip:example.com;transport=udp"));
	assert_false(uri_matches("sip:bob@example.com?subject=x",
				 "sip:bob@example.com"));
	assert_false(uri_matches("sip:bob@example.com?subject=x",
				 "sip:bob@example.com?subject=y"));
	assert_false(uri_matches("sip:bob@example.com?a=1&a=1",
				 "sip:bob@example.com?a=1&a=2"));
	assert_false(uri_matches("sip:a%40b@example.com",
				 "sip:a@b@example.com"));
	assert_false(uri_matches("sip:example.com..", "sip:example.com"));
	assert_false(uri_matches("tel:+15551234", "sip:+15551234@example.com"));
	assert_false(uri_matches("/dir/index.html", "sip:example.com"));
	assert_false(uri_matches("", "sip:example.com"));
}


static void test_nonce_roundtrip(void **state)
{
	char n[NONCE_LEN + 1];
	struct pl nonce, realm = PL("example.com"), other = PL("example.net");
	uint64_t issued = 0;
	(void)state;

	assert_int_equal(0, nonce_make(n, key, &realm, 1000));
	assert_int_equal(NONCE_LEN, strlen(n));
	pl_set_str(&nonce, n);
	assert_int_equal(NONCE_VALID, nonce_check(&nonce, key, &realm, 1000,
						  300, &issued));
	assert_int_equal(1000, issued);
	assert_int_equal(NONCE_VALID, nonce_check(&nonce, key, &realm, 1300,
						  300, &issued));
	assert_int_equal(NONCE_STALE, nonce_check(&nonce, key, &realm, 1301,
						  300, &issued));
	assert_int_equal(1301, nonce_expires(1000, 300));
	/* another realm, a clock far behind, a flipped digit */
	assert_int_equal(NONCE_INVALID, nonce_check(&nonce, key, &other, 1000,
						    300, &issued));
	assert_int_equal(NONCE_INVALID, nonce_check(&nonce, key, &realm, 900,
						    300, &issued));
	n[20] = n[20] == '0' ? '1' : '0';
	assert_int_equal(NONCE_INVALID, nonce_check(&nonce, key, &realm, 1000,
						    300, &issued));
	pl_set_str(&nonce, "not-hex");
	assert_int_equal(NONCE_INVALID, nonce_check(&nonce, key, &realm, 1000,
						    300, &issued));
}


static void test_nonces_differ(void **state)
{
	char a[NONCE_LEN + 1], b[NONCE_LEN + 1];
	struct pl realm = PL("example.com");
	(void)state;

	assert_int_equal(0, nonce_make(a, key, &realm, 5));
	assert_int_equal(0, nonce_make(b, key, &realm, 5));
	assert_string_not_equal(a, b);
}


static void test_nonce_count_replay(void **state)
{
	struct nonce_counts *t = NULL;
	struct pl n1 = PL("nonce-one"), n2 = PL("nonce-two");
	(void)state;

	assert_int_equal(0, nonce_counts_alloc(&t, 16));
	assert_true(nonce_count_use(t, &n1, 1, 100, 10));
	assert_false(nonce_count_use(t, &n1, 1, 100, 10));    /* replay */
	assert_true(nonce_count_use(t, &n2, 1, 100, 10));     /* own count */
	assert_true(nonce_count_use(t, &n1, 3, 100, 10));
	assert_true(nonce_count_use(t, &n1, 2, 100, 10));     /* late, new */
	assert_false(nonce_count_use(t, &n1, 2, 100, 10));
	assert_true(nonce_count_use(t, &n1, 70, 100, 10));
	assert_false(nonce_count_use(t, &n1, 5, 100, 10));    /* too old */
	assert_true(nonce_count_use(t, &n1, 69, 100, 10));
	/* both nonces are remembered */
	assert_false(nonce_count_use(t, &n1, 69, 100, 10));
	assert_false(nonce_count_use(t, &n2, 1, 100, 10));
	/* an expired nonce's counts are forgotten (by then nonce_check()
	 * refuses the nonce itself); a live one's are not */
	assert_true(nonce_count_use(t, &n2, 2, 200, 150));
	assert_true(nonce_count_use(t, &n1, 1, 300, 150));
	assert_false(nonce_count_use(t, &n2, 2, 200, 150));
	mem_deref(t);
}


/* The counts of a nonce are kept through the last second it is valid:
 * a replay then is refused too. */
static void test_nonce_count_last_second(void **state)
{
	struct nonce_counts *t = NULL;
	char n[NONCE_LEN + 1];
	struct pl nonce, realm = PL("example.com");
	uint64_t issued = 0, last = 1300;
	(void)state;

	assert_int_equal(0, nonce_make(n, key, &realm, 1000));
	pl_set_str(&nonce, n);
	assert_int_equal(0, nonce_counts_alloc(&t, 16));
	assert_int_equal(NONCE_VALID, nonce_check(&nonce, key, &realm, last,
						  300, &issued));
	assert_true(nonce_count_use(t, &nonce, 1,
				    nonce_expires(issued, 300), last - 1));
	assert_false(nonce_count_use(t, &nonce, 1,
				     nonce_expires(issued, 300), last));
	assert_int_equal(NONCE_STALE, nonce_check(&nonce, key, &realm,
						  last + 1, 300, &issued));
	mem_deref(t);
}


static void test_nonce_count_bounded(void **state)
{
	struct nonce_counts *t = NULL;
	char name[32];
	struct pl n;
	(void)state;

	assert_int_equal(0, nonce_counts_alloc(&t, 8));
	for (int i = 0; i < 100; i++) {
		re_snprintf(name, sizeof(name), "nonce-%d", i);
		pl_set_str(&n, name);
		assert_true(nonce_count_use(t, &n, 1, 1000, 10));
	}
	/* the table holds 8: the latest nonce's counts are remembered, the
	 * first one's were forgotten */
	pl_set_str(&n, "nonce-99");
	assert_false(nonce_count_use(t, &n, 1, 1000, 10));
	pl_set_str(&n, "nonce-0");
	assert_true(nonce_count_use(t, &n, 1, 1000, 10));
	mem_deref(t);
}


static void test_limiter(void **state)
{
	struct limiter *l = NULL;
	bool first;
	(void)state;

	assert_int_equal(0, limiter_alloc(&l, 3, 10, 100));
	assert_false(limiter_blocked(l, "src:192.0.2.1", 100, &first));
	for (int i = 0; i < 3; i++)
		limiter_fail(l, "src:192.0.2.1", 100 + i);
	assert_true(limiter_blocked(l, "src:192.0.2.1", 105, &first));
	assert_true(first);                       /* log this one */
	assert_true(limiter_blocked(l, "src:192.0.2.1", 106, &first));
	assert_false(first);                      /* not again */
	assert_false(limiter_blocked(l, "src:192.0.2.2", 106, &first));
	/* the window (from the first failure) is over */
	assert_false(limiter_blocked(l, "src:192.0.2.1", 110, &first));
	mem_deref(l);
}


static struct sa addr(const char *ip)
{
	struct sa sa;

	assert_int_equal(0, sa_set_str(&sa, ip, 5060));
	return sa;
}


static enum lockout_rule check(struct lockout *lo, const char *aor,
			       const char *ip, uint64_t now)
{
	struct sa src = addr(ip);
	bool first;

	return lockout_check(lo, aor, &src, now, &first);
}


static void fail_n(struct lockout *lo, const char *aor, const char *ip,
		   int n, uint64_t now)
{
	struct sa src = addr(ip);

	for (int i = 0; i < n; i++)
		lockout_attempt(lo, aor, &src, now);
}


static void test_limiter_forgive(void **state)
{
	struct limiter *l = NULL;
	bool first;
	(void)state;

	assert_int_equal(0, limiter_alloc(&l, 2, 10, 100));
	limiter_fail(l, "k", 100);
	limiter_fail(l, "k", 100);
	assert_true(limiter_blocked(l, "k", 100, &first));
	limiter_forgive(l, "k", 101);
	assert_false(limiter_blocked(l, "k", 101, &first));
	limiter_forgive(l, "k", 101);
	limiter_forgive(l, "k", 101);             /* none left: no effect */
	limiter_forgive(l, "unknown", 101);
	limiter_fail(l, "k", 102);
	assert_false(limiter_blocked(l, "k", 102, &first));
	mem_deref(l);
}


/* Attempts count while they are being checked: requests sent together
 * cannot all find the counts empty.  A success, or a check that could
 * not be made, takes its attempt back. */
static void test_lockout_in_flight(void **state)
{
	struct lockout *lo = NULL;
	struct sa src = addr("192.0.2.66");
	(void)state;

	assert_int_equal(0, lockout_alloc(&lo, 3, 60, 1000));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(LOCKOUT_NONE, check(lo, "alice@example.com",
						     "192.0.2.66", 100));
		lockout_attempt(lo, "alice@example.com", &src, 100);
	}
	assert_int_equal(LOCKOUT_PAIR,
			 check(lo, "alice@example.com", "192.0.2.66", 100));
	lockout_forgive(lo, "alice@example.com", &src, 101);
	assert_int_equal(LOCKOUT_NONE,
			 check(lo, "alice@example.com", "192.0.2.66", 101));
	lockout_attempt(lo, "alice@example.com", &src, 101);
	lockout_success(lo, "alice@example.com", &src, 101);
	assert_int_equal(LOCKOUT_NONE,
			 check(lo, "alice@example.com", "192.0.2.66", 101));
	mem_deref(lo);
}


/* One address guessing: it is refused, the user elsewhere is not. */
static void test_lockout_one_address(void **state)
{
	struct lockout *lo = NULL;
	struct sa attacker = addr("192.0.2.66");
	bool first = false;
	(void)state;

	assert_int_equal(0, lockout_alloc(&lo, 3, 60, 1000));
	fail_n(lo, "alice@example.com", "192.0.2.66", 2, 100);
	assert_int_equal(LOCKOUT_NONE,
			 check(lo, "alice@example.com", "192.0.2.66", 100));
	fail_n(lo, "alice@example.com", "192.0.2.66", 1, 101);
	assert_int_equal(LOCKOUT_PAIR, lockout_check(lo, "alice@example.com",
						     &attacker, 102, &first));
	assert_true(first);
	assert_int_equal(LOCKOUT_PAIR, lockout_check(lo, "alice@example.com",
						     &attacker, 103, &first));
	assert_false(first);
	/* alice at her own address, even never seen before */
	assert_int_equal(LOCKOUT_NONE,
			 check(lo, "alice@example.com", "192.0.2.10", 103));
	/* the attacker's address for other AORs too */
	assert_int_equal(LOCKOUT_SOURCE,
			 check(lo, "bob@example.com", "192.0.2.66", 103));
	/* the window (from the first failure) ends */
	assert_int_equal(LOCKOUT_NONE,
			 check(lo, "alice@example.com", "192.0.2.66", 160));
	mem_deref(lo);
}


/* An address that authenticated as an AOR lately keeps doing so while
 * others fail from it, but not past its own failures as that AOR. */
static void test_lockout_shared_address(void **state)
{
	struct lockout *lo = NULL;
	struct sa office = addr("198.51.100.1");
	(void)state;

	assert_int_equal(0, lockout_alloc(&lo, 3, 60, 1000));
	lockout_success(lo, "alice@example.com", &office, 100);
	fail_n(lo, "bob@example.com", "198.51.100.1", 5, 101);
	assert_int_equal(LOCKOUT_PAIR,
			 check(lo, "bob@example.com", "198.51.100.1", 102));
	assert_int_equal(LOCKOUT_SOURCE,
			 check(lo, "carol@example.com", "198.51.100.1", 102));
	assert_int_equal(LOCKOUT_NONE,
			 check(lo, "alice@example.com", "198.51.100.1", 102));
	fail_n(lo, "alice@example.com", "198.51.100.1", 3, 103);
	assert_int_equal(LOCKOUT_PAIR,
			 check(lo, "alice@example.com", "198.51.100.1", 104));
	mem_deref(lo);
}


/* Many addresses guessing one password: bounded for the AOR, except for
 * the addresses that authenticated as it lately. */
static void test_lockout_many_addresses(void **state)
{
	struct lockout *lo = NULL;
	struct sa phone = addr("192.0.2.10");
	char ip[32];
	(void)state;

	assert_int_equal(0, lockout_alloc(&lo, 3, 60, 1000));
	lockout_success(lo, "alice@example.com", &phone, 50);
	for (int i = 1; i < LOCKOUT_AOR_FACTOR; i++) {
		re_snprintf(ip, sizeof(ip), "203.0.113.%d", i);
		fail_n(lo, "alice@example.com", ip, 3, 100);
	}
	assert_int_equal(LOCKOUT_NONE,
			 check(lo, "alice@example.com", "192.0.2.99", 100));
	fail_n(lo, "alice@example.com", "203.0.113.200", 3, 100);
	assert_int_equal(LOCKOUT_AOR,
			 check(lo, "alice@example.com", "192.0.2.99", 101));
	assert_int_equal(LOCKOUT_NONE,
			 check(lo, "alice@example.com", "192.0.2.10", 101));
	assert_int_equal(LOCKOUT_NONE,
			 check(lo, "bob@example.com", "192.0.2.99", 101));
	/* the next window, near the end of the phone's exemption */
	uint64_t later = 50 + LOCKOUT_TRUST_TIME - 10;
	for (int i = 0; i < LOCKOUT_AOR_FACTOR; i++) {
		re_snprintf(ip, sizeof(ip), "203.0.113.%d", i);
		fail_n(lo, "alice@example.com", ip, 3, later);
	}
	assert_int_equal(LOCKOUT_NONE, check(lo, "alice@example.com",
					     "192.0.2.10", later + 9));
	assert_int_equal(LOCKOUT_AOR, check(lo, "alice@example.com",
					    "192.0.2.10", later + 10));
	mem_deref(lo);
}


/* Fills alice's AOR count from other addresses at NOW. */
static void aor_fill(struct lockout *lo, uint64_t now)
{
	char ip[32];

	for (int i = 0; i < LOCKOUT_AOR_FACTOR; i++) {
		re_snprintf(ip, sizeof(ip), "203.0.113.%d", i);
		fail_n(lo, "alice@example.com", ip, 3, now);
	}
}


/* Successes renew the exemption once half of it has passed. */
static void test_lockout_renewal(void **state)
{
	struct lockout *lo = NULL;
	struct sa phone = addr("192.0.2.10");
	const uint64_t half = LOCKOUT_TRUST_TIME / 2, t0 = 100;
	(void)state;

	assert_int_equal(0, lockout_alloc(&lo, 3, 60, 1000));
	lockout_success(lo, "alice@example.com", &phone, t0);
	lockout_success(lo, "alice@example.com", &phone, t0 + half - 1);
	aor_fill(lo, t0 + LOCKOUT_TRUST_TIME - 1);
	assert_int_equal(LOCKOUT_NONE, check(lo, "alice@example.com",
					     "192.0.2.10",
					     t0 + LOCKOUT_TRUST_TIME - 1));
	assert_int_equal(LOCKOUT_AOR, check(lo, "alice@example.com",
					    "192.0.2.10",
					    t0 + LOCKOUT_TRUST_TIME));
	mem_deref(lo);

	assert_int_equal(0, lockout_alloc(&lo, 3, 60, 1000));
	lockout_success(lo, "alice@example.com", &phone, t0);
	lockout_success(lo, "alice@example.com", &phone, t0 + half + 1);
	aor_fill(lo, t0 + LOCKOUT_TRUST_TIME);
	assert_int_equal(LOCKOUT_NONE, check(lo, "alice@example.com",
					     "192.0.2.10",
					     t0 + LOCKOUT_TRUST_TIME));
	aor_fill(lo, t0 + half + 1 + LOCKOUT_TRUST_TIME);
	assert_int_equal(LOCKOUT_AOR, check(lo, "alice@example.com",
					    "192.0.2.10",
					    t0 + half + 1 + LOCKOUT_TRUST_TIME));
	mem_deref(lo);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7616_md5),
		cmocka_unit_test(test_rfc7616_sha256),
		cmocka_unit_test(test_decode_refusals),
		cmocka_unit_test(test_digest_uri),
		cmocka_unit_test(test_nonce_roundtrip),
		cmocka_unit_test(test_nonces_differ),
		cmocka_unit_test(test_nonce_count_replay),
		cmocka_unit_test(test_nonce_count_last_second),
		cmocka_unit_test(test_nonce_count_bounded),
		cmocka_unit_test(test_limiter),
		cmocka_unit_test(test_limiter_forgive),
		cmocka_unit_test(test_lockout_in_flight),
		cmocka_unit_test(test_lockout_one_address),
		cmocka_unit_test(test_lockout_shared_address),
		cmocka_unit_test(test_lockout_many_addresses),
		cmocka_unit_test(test_lockout_renewal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for sip/uri.c: header-parameter iteration, the
 * +sip.instance unquoting, URI equivalence (RFC 3261 §19.1.4) and AOR
 * keys. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <re.h>
#include "sip/param.h"
#include "sip/uri.h"
#include "unit_support.h"


/* ---- sipparam_apply ------------------------------------------ */

enum { MAXP = 16 };

/* What the iteration reported: names and values as strings, "(none)" for
 * a parameter without a value. */
struct seen {
	unsigned n;
	char name[MAXP][64];
	char val[MAXP][64];
	unsigned stop_at;      /* return 42 on this call (1-based), 0: never */
};


static int collect(const struct pl *name, const struct pl *val, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < MAXP);
	assert_int_equal(0, pl_strcpy(name, s->name[s->n],
				      sizeof(s->name[0])));
	if (pl_isset(val))
		assert_int_equal(0, pl_strcpy(val, s->val[s->n],
					      sizeof(s->val[0])));
	else
		strcpy(s->val[s->n], "(none)");
	++s->n;
	return s->stop_at && s->n == s->stop_at ? 42 : 0;
}


static int apply_str(struct seen *s, const char *params)
{
	struct pl pl;

	memset(s, 0, sizeof(*s));
	pl_set_str(&pl, params);
	return sipparam_apply(&pl, collect, s);
}


static void assert_param(const struct seen *s, unsigned i, const char *name,
			 const char *val)
{
	assert_true(i < s->n);
	assert_string_equal(name, s->name[i]);
	assert_string_equal(val, s->val[i]);
}


static void test_params_basic(void **state)
{
	struct seen s;
	(void)state;

	assert_int_equal(0, apply_str(&s, ";a=1;b;c=xyz"));
	assert_int_equal(3, s.n);
	assert_param(&s, 0, "a", "1");
	assert_param(&s, 1, "b", "(none)");
	assert_param(&s, 2, "c", "xyz");

	/* no leading ';' is accepted too */
	assert_int_equal(0, apply_str(&s, "lr;transport=tcp"));
	assert_int_equal(2, s.n);
	assert_param(&s, 0, "lr", "(none)");
	assert_param(&s, 1, "transport", "tcp");

	/* an unquoted '=' after the first one belongs to the value */
	assert_int_equal(0, apply_str(&s, ";a=b=c"));
	assert_int_equal(1, s.n);
	assert_param(&s, 0, "a", "b=c");
}


static void test_params_quoted(void **state)
{
	struct seen s;
	(void)state;

	/* ';' and '=' inside quotes neither split nor start a value;
	 * the quotes are kept */
	assert_int_equal(0, apply_str(&s,
		";+sip.instance=\"<urn:uuid:1;a=b>\";x=\"p=q;r\";y"));
	assert_int_equal(3, s.n);
	assert_param(&s, 0, "+sip.instance", "\"<urn:uuid:1;a=b>\"");
	assert_param(&s, 1, "x", "\"p=q;r\"");
	assert_param(&s, 2, "y", "(none)");

	/* escaped quotes do not close the string */
	assert_int_equal(0, apply_str(&s,
		";d=\"say \\\"hi;there\\\" now\";e=2"));
	assert_int_equal(2, s.n);
	assert_param(&s, 0, "d", "\"say \\\"hi;there\\\" now\"");
	assert_param(&s, 1, "e", "2");

	/* an escaped backslash right before the closing quote */
	assert_int_equal(0, apply_str(&s, ";f=\"a\\\\\";g"));
	assert_int_equal(2, s.n);
	assert_param(&s, 0, "f", "\"a\\\\\"");
	assert_param(&s, 1, "g", "(none)");
}


static void test_params_whitespace_and_trailing(void **state)
{
	struct seen s;
	(void)state;

	assert_int_equal(0, apply_str(&s, "  ; a = 1 ;  b ; c= \"v w\"  "));
	assert_int_equal(3, s.n);
	assert_param(&s, 0, "a", "1");
	assert_param(&s, 1, "b", "(none)");
	assert_param(&s, 2, "c", "\"v w\"");

	assert_int_equal(0, apply_str(&s, ";a=1;"));
	assert_int_equal(1, s.n);
	assert_param(&s, 0, "a", "1");

	assert_int_equal(0, apply_str(&s, ";a=1;;; ;\t"));
	assert_int_equal(1, s.n);

	assert_int_equal(0, apply_str(&s, ""));
	assert_int_equal(0, s.n);
	assert_int_equal(0, apply_str(&s, " ; ;"));
	assert_int_equal(0, s.n);

	/* NULL and unset lists: nothing to iterate */
	memset(&s, 0, sizeof(s));
	assert_int_equal(0, sipparam_apply(NULL, collect, &s));
	assert_int_equal(0, sipparam_apply(&pl_null, collect, &s));
	assert_int_equal(0, s.n);
}


static void test_params_malformed(void **state)
{
	struct seen s;
	(void)state;

	assert_int_equal(EBADMSG, apply_str(&s, ";=1"));
	assert_int_equal(0, s.n);

	/* parameters before the bad one were reported */
	assert_int_equal(EBADMSG, apply_str(&s, ";a=1;=2;b"));
	assert_int_equal(1, s.n);
	assert_param(&s, 0, "a", "1");

	assert_int_equal(EBADMSG, apply_str(&s, ";a=1; =2"));
	assert_int_equal(1, s.n);

	/* unclosed quotes */
	assert_int_equal(EBADMSG, apply_str(&s, ";a=\"abc"));
	assert_int_equal(0, s.n);
	assert_int_equal(EBADMSG, apply_str(&s, ";a=\"ab;c=d"));
	assert_int_equal(0, s.n);
	assert_int_equal(EBADMSG, apply_str(&s, ";x;a=\"ab\\\""));
	assert_int_equal(1, s.n);
}


static void test_params_handler_stops(void **state)
{
	struct seen s;
	struct pl pl;
	(void)state;

	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	pl_set_str(&pl, ";a;b;c;d");
	assert_int_equal(42, sipparam_apply(&pl, collect, &s));
	assert_int_equal(2, s.n);
	assert_param(&s, 1, "b", "(none)");
}


/* ---- sipparam_get ---------------------------------------------- */

static void test_param_get(void **state)
{
	struct pl params, val;
	(void)state;

	pl_set_str(&params, ";Transport=TCP;lr;EXPIRES=60;"
		   "+sip.instance=\"<urn:uuid:1;x>\";q=0.5");

	assert_int_equal(0, sipparam_get(&params, "transport", &val));
	assert_int_equal(0, pl_strcmp(&val, "TCP"));
	assert_int_equal(0, sipparam_get(&params, "TRANSPORT", &val));
	assert_int_equal(0, pl_strcmp(&val, "TCP"));
	assert_int_equal(0, sipparam_get(&params, "expires", &val));
	assert_int_equal(0, pl_strcmp(&val, "60"));
	assert_int_equal(0, sipparam_get(&params, "+SIP.Instance", &val));
	assert_int_equal(0, pl_strcmp(&val, "\"<urn:uuid:1;x>\""));
	assert_int_equal(0, sipparam_get(&params, "q", &val));
	assert_int_equal(0, pl_strcmp(&val, "0.5"));

	val = pl_null;
	val.p = "junk";
	val.l = 4;
	assert_int_equal(0, sipparam_get(&params, "LR", &val));
	assert_false(pl_isset(&val));

	/* not a prefix match, and a ';x' inside quotes is no parameter */
	assert_int_equal(ENOENT, sipparam_get(&params, "trans", &val));
	assert_int_equal(ENOENT, sipparam_get(&params, "x", &val));
	assert_int_equal(ENOENT, sipparam_get(&params, "maddr", &val));

	pl_set_str(&params, ";a=\"unclosed");
	assert_int_equal(ENOENT, sipparam_get(&params, "a", &val));
}


/* ---- sipuri_instance_unquote --------------------------------------- */

static void unquote_is(const char *in, const char *expect)
{
	struct pl pin, out;

	pl_set_str(&pin, in);
	sipuri_instance_unquote(&out, &pin);
	assert_int_equal(strlen(expect), out.l);
	assert_int_equal(0, pl_strcmp(&out, expect));
}


static void test_unquote_instance(void **state)
{
	(void)state;

	unquote_is("\"<" UT_UUID1 ">\"", UT_UUID1);
	unquote_is("<" UT_UUID1 ">", UT_UUID1);
	unquote_is("\"" UT_UUID1 "\"", UT_UUID1);
	unquote_is(UT_UUID1, UT_UUID1);
	unquote_is("\"<>\"", "");
	unquote_is("\"\"", "");
	unquote_is("\"", "\"");
	unquote_is("<", "<");
	/* only one level of each */
	unquote_is("\"\"x\"\"", "\"x\"");
	unquote_is("\"<<x>>\"", "<x>");
	/* <> only inside the quotes, not around them */
	unquote_is("<\"x\">", "\"x\"");
}


/* ---- sipuri_equal ------------------------------------------------------ */

static bool ueq(const char *a, const char *b)
{
	struct uri ua, ub;
	struct pl pa, pb;
	bool ab, ba;

	pl_set_str(&pa, a);
	pl_set_str(&pb, b);
	assert_int_equal(0, uri_decode(&ua, &pa));
	assert_int_equal(0, uri_decode(&ub, &pb));

	ab = sipuri_equal(&ua, &ub);
	ba = sipuri_equal(&ub, &ua);
	if (ab != ba)
		fail_msg("sipuri_equal not symmetric: %s vs %s", a, b);
	assert_true(sipuri_equal(&ua, &ua));
	return ab;
}


#define EQ(a, b) do { if (!ueq(a, b)) \
	fail_msg("expected equal: %s == %s", a, b); } while (0)
#define NE(a, b) do { if (ueq(a, b)) \
	fail_msg("expected different: %s != %s", a, b); } while (0)


/* The example sets of RFC 3261 §19.1.4. */
static void test_uri_equal_rfc3261_examples(void **state)
{
	(void)state;

	/* "The URIs within each of the following sets are equivalent" */
	EQ("sip:%61lice@atlanta.com;transport=TCP",
	   "sip:alice@AtLanTa.CoM;Transport=tcp");

	EQ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5");
	EQ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on");
	EQ("sip:carol@chicago.com;newparam=5",
	   "sip:carol@chicago.com;security=on");

	/* The next two sets carry identical or reordered URI headers:
	 * equal, headers in any order. */
	EQ("sip:biloxi.com;transport=tcp;method=REGISTER"
	   "?to=sip:bob%40biloxi.com",
	   "sip:biloxi.com;method=REGISTER;transport=tcp"
	   "?to=sip:bob%40biloxi.com");
	EQ("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
	   "sip:alice@atlanta.com?priority=urgent&subject=project%20x");

	/* "The URIs within each of the following sets are not equivalent" */
	NE("SIP:ALICE@AtLanTa.CoM;Transport=udp",
	   "sip:alice@AtLanTa.CoM;Transport=UDP");
	NE("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060");
	NE("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp");
	NE("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp");
	/* "URI header components are never ignored" */
	NE("sip:carol@chicago.com",
	   "sip:carol@chicago.com?Subject=next%20meeting");
	NE("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4");

	/* "Note that equality is not transitive" */
	EQ("sip:carol@chicago.com", "sip:carol@chicago.com;security=off");
	NE("sip:carol@chicago.com;security=on",
	   "sip:carol@chicago.com;security=off");
}


static void test_uri_equal_components(void **state)
{
	(void)state;

	/* scheme: case-insensitive; SIP and SIPS never equivalent */
	EQ("SIP:bob@example.com", "sip:bob@example.com");
	NE("sip:bob@example.com", "sips:bob@example.com");

	/* no user part on one side or both (found by fuzzing: a NULL
	 * slice must not be offset, even by zero) */
	NE("sip:alic:5070", "sip:Alice@example.com");
	EQ("sip:example.com:5070", "sip:EXAMPLE.com:5070");

	/* host case-insensitive, user case-sensitive */
	EQ("sip:bob@EXAMPLE.COM", "sip:bob@example.com");
	NE("sip:Bob@example.com", "sip:bob@example.com");
	NE("sip:bob@example.com", "sip:bob@example.org");

	/* %-escapes in the user part compare by what they encode; hex
	 * digits in either case; the decoded octet is case-sensitive */
	EQ("sip:%62ob@example.com", "sip:bob@example.com");
	EQ("sip:a%6Cice@example.com", "sip:a%6cice@example.com");
	EQ("sip:%61%6c%69%63%65@example.com", "sip:alice@example.com");
	NE("sip:%41lice@example.com", "sip:alice@example.com");
	NE("sip:%62ob@example.com", "sip:bobb@example.com");

	/* user present in only one; password */
	NE("sip:example.com", "sip:bob@example.com");
	EQ("sip:bob:secret@example.com", "sip:bob:secret@example.com");
	NE("sip:bob:secret@example.com", "sip:bob:Secret@example.com");
	NE("sip:bob:secret@example.com", "sip:bob@example.com");

	/* port as written: absent differs from the default */
	EQ("sip:bob@example.com:5070", "sip:bob@example.com:5070");
	NE("sip:bob@example.com:5070", "sip:bob@example.com:5071");
	NE("sip:bob@example.com", "sip:bob@example.com:5060");
	NE("sips:bob@example.com", "sips:bob@example.com:5061");

	/* IPv6 host */
	EQ("sip:bob@[2001:DB8::1]:5060", "sip:bob@[2001:db8::1]:5060");
}


static void test_uri_equal_params(void **state)
{
	(void)state;

	/* transport/user/ttl/method/maddr in only one: different */
	NE("sip:bob@example.com;transport=tcp", "sip:bob@example.com");
	NE("sip:bob@example.com;user=phone", "sip:bob@example.com");
	NE("sip:bob@example.com;ttl=1", "sip:bob@example.com");
	NE("sip:bob@example.com;method=INVITE", "sip:bob@example.com");
	NE("sip:bob@example.com;maddr=239.255.255.1",
	   "sip:bob@example.com");
	/* ... with the strict one next to an ignorable one */
	NE("sip:bob@example.com;lr;transport=udp", "sip:bob@example.com;lr");
	/* ... and even when the name's case differs */
	NE("sip:bob@example.com;TRANSPORT=udp", "sip:bob@example.com");

	/* other parameters in only one: ignored */
	EQ("sip:bob@example.com;lr", "sip:bob@example.com");
	EQ("sip:bob@example.com;ob;foo=bar", "sip:bob@example.com");
	EQ("sip:bob@example.com;foo=1", "sip:bob@example.com;bar=2");
	EQ("sip:bob@example.com;transport=tcp;lr",
	   "sip:bob@example.com;transport=tcp;ob");

	/* present in both: must match, values case-insensitive, names too,
	 * order irrelevant */
	EQ("sip:bob@example.com;transport=TCP", "sip:bob@example.com;transport=tcp");
	EQ("sip:bob@example.com;Transport=tcp", "sip:bob@example.com;transport=tcp");
	EQ("sip:bob@example.com;maddr=Example.COM",
	   "sip:bob@example.com;maddr=example.com");
	EQ("sip:bob@example.com;transport=tcp;user=ip;lr",
	   "sip:bob@example.com;lr;user=IP;transport=tcp");
	NE("sip:bob@example.com;transport=tcp", "sip:bob@example.com;transport=udp");
	NE("sip:bob@example.com;user=phone", "sip:bob@example.com;user=ip");
	NE("sip:bob@example.com;ttl=1", "sip:bob@example.com;ttl=2");
	NE("sip:bob@example.com;foo=1", "sip:bob@example.com;foo=2");
	/* a valueless parameter differs from one with a value */
	NE("sip:bob@example.com;lr", "sip:bob@example.com;lr=on");
}


/* RFC 3261 §19.1.4: headers must be present in both and match; names
 * without case, values as escaped text, in any order.  A Contact that
 * differs from its AOR only there is another URI (RFC 4475 §3.1.4.14). */
static void test_uri_equal_headers(void **state)
{
	(void)state;

	NE("sip:user@example.com",
	   "sip:user@example.com?Route=%3Csip:sip.example.com%3E");
	EQ("sip:user@example.com?Route=%3Csip:sip.example.com%3E",
	   "sip:user@example.com?route=%3Csip:sip.example.com%3E");
	NE("sip:user@example.com?Route=%3Csip:a.example.com%3E",
	   "sip:user@example.com?Route=%3Csip:b.example.com%3E");
	EQ("sip:a@example.com?x=%61", "sip:a@example.com?x=a");
	NE("sip:a@example.com?x=1&y=2", "sip:a@example.com?x=1");
	NE("sip:a@example.com?x=1&x=1", "sip:a@example.com?x=1&y=1");
	EQ("sip:a@example.com?x=1&y=2", "sip:a@example.com?y=2&x=1");
}


static void test_uri_equal_null(void **state)
{
	struct uri u;
	struct pl pl;
	(void)state;

	pl_set_str(&pl, "sip:bob@example.com");
	assert_int_equal(0, uri_decode(&u, &pl));
	assert_false(sipuri_equal(NULL, &u));
	assert_false(sipuri_equal(&u, NULL));
	assert_false(sipuri_equal(NULL, NULL));
}


/*
 * RFC 3261 §19.1.4: "Characters other than those in the 'reserved' set
 * (see RFC 2396) are equivalent to their '%' HEX HEX encoding."  Reserved
 * characters (";" "/" "?" ":" "@" "&" "=" "+" "$" ",") are therefore NOT
 * equivalent to their escaped form: "+1555" and "%2B1555" are different
 * user parts.
 */
static void test_uri_equal_reserved_escape_differs(void **state)
{
	(void)state;

	/* unreserved: equivalent */
	EQ("sip:%7Ebob@example.com", "sip:~bob@example.com");
	/* reserved: not equivalent */
	NE("sip:%2B15551234@example.com", "sip:+15551234@example.com");
	NE("sip:a%26b@example.com", "sip:a&b@example.com");
}


/* ---- sipuri_aor_key, sipuri_is_sip ------------------------------------ */

static void key_is(const char *uri, const char *expect)
{
	struct uri u;
	struct pl pl;
	char *key = NULL;

	pl_set_str(&pl, uri);
	assert_int_equal(0, uri_decode(&u, &pl));
	assert_int_equal(0, sipuri_aor_key(&key, &u));
	assert_non_null(key);
	/* compare a copy, so that a failure does not leak the key */
	char got[128];
	str_ncpy(got, key, sizeof(got));
	mem_deref(key);
	assert_string_equal(expect, got);
}


static void test_aor_key(void **state)
{
	struct uri u;
	struct pl pl;
	char *key = (char *)0x1;
	(void)state;

	key_is("sip:Alice@EXAMPLE.com;transport=tcp", "Alice@example.com");
	key_is("sip:alice@example.com", "alice@example.com");
	key_is("sips:BOB@Example.ORG:5061;lr?subject=x", "BOB@example.org");
	key_is("sip:+1555;phone-context=X@GW.example.com;user=phone",
	       "+1555;phone-context=X@gw.example.com");
	key_is("sip:alice@Example.COM.", "alice@example.com");
	key_is("sip:alice@example.com.:5060", "alice@example.com");

	pl_set_str(&pl, "sip:example.com");
	assert_int_equal(0, uri_decode(&u, &pl));
	assert_int_equal(EINVAL, sipuri_aor_key(&key, &u));
	assert_ptr_equal((char *)0x1, key);   /* untouched */

	pl_set_str(&pl, "sip:alice@example.com");
	assert_int_equal(0, uri_decode(&u, &pl));
	assert_int_equal(EINVAL, sipuri_aor_key(NULL, &u));
	assert_int_equal(EINVAL, sipuri_aor_key(&key, NULL));

	/* raw control bytes, as a received message may hold them before
	 * its checks: escaped in the user part, refused in the host; the
	 * host, lowered in place, is found by length (a NUL used to put it
	 * before the key) */
	static const char nul_user[] = "sip:a\0b@HOST.example.COM";
	static const char nul_host[] = "sip:ab@HO\0ST.example.com";
	struct pl raw = {nul_user, sizeof(nul_user) - 1};
	char got[64];

	assert_int_equal(0, uri_decode(&u, &raw));
	assert_int_equal(0, sipuri_aor_key(&key, &u));
	str_ncpy(got, key, sizeof(got));
	key = mem_deref(key);
	assert_string_equal("a%00b@host.example.com", got);
	raw.p = nul_host;
	raw.l = sizeof(nul_host) - 1;
	assert_int_equal(0, uri_decode(&u, &raw));
	assert_int_equal(EINVAL, sipuri_aor_key(&key, &u));
	assert_null(key);
}


/*
 * RFC 3261 §10.3 step 5: the AOR "MUST then be converted to a canonical
 * form.  To do that, all URI parameters MUST be removed (including the
 * user-param), and any escaped characters MUST be converted to their
 * unescaped form.  The result serves as an index into the list of
 * bindings."  sip:%61lice@example.com and sip:alice@example.com are one
 * AOR (and sipuri_equal() agrees that they are equal).
 */
static void test_aor_key_unescapes_user(void **state)
{
	(void)state;

	key_is("sip:%61lice@example.com", "alice@example.com");
	key_is("sip:%41lice@EXAMPLE.com;user=ip", "Alice@example.com");
	key_is("sip:bob%2esmith@example.com", "bob.smith@example.com");

	/* what must never be decoded into a key: NUL, CR/LF, quotes,
	 * spaces, reserved characters; escapes come out in upper case */
	key_is("sip:a%00b@example.com", "a%00b@example.com");
	key_is("sip:al%0d%0aX-Injected%3a%20yes@Example.COM",
	       "al%0D%0AX-Injected%3A%20yes@example.com");
	key_is("sip:q%22q@example.com", "q%22q@example.com");
	key_is("sip:%2B1555@example.com", "%2B1555@example.com");
}


/* The domain of an AOR key, which is also the realm of its credentials:
 * after the last '@' (a user part keeps an '@' escaped, "%40"). */
static void test_aor_domain(void **state)
{
	const char *aor = "alice@example.com";
	const char *bare = "example.com";
	struct uri u;
	struct pl pl;
	char *key = NULL;

	(void)state;

	assert_ptr_equal(aor + 6, sipuri_aor_domain(aor));
	assert_string_equal("example.com", sipuri_aor_domain(aor));
	assert_ptr_equal(bare, sipuri_aor_domain(bare));
	assert_string_equal("", sipuri_aor_domain("alice@"));

	pl_set_str(&pl, "sip:a%40b@Example.COM.;user=phone");
	assert_int_equal(0, uri_decode(&u, &pl));
	assert_int_equal(0, sipuri_aor_key(&key, &u));
	assert_string_equal("a%40b@example.com", key);
	assert_string_equal("example.com", sipuri_aor_domain(key));
	mem_deref(key);
}


static bool inst_ok(const char *inst)
{
	struct pl pl;

	pl_set_str(&pl, inst);
	return sipuri_instance_wellformed(&pl);
}


static void test_instance_wellformed(void **state)
{
	(void)state;

	assert_true(inst_ok("urn:uuid:fbd61308-01db-4f37-bc8c-0be1cd33cd8f"));
	assert_true(inst_ok("urn:gsma:imei:90420156-025763-0"));
	assert_false(inst_ok(""));
	assert_false(inst_ok("urn:a;b"));
	assert_false(inst_ok("urn:a\"b"));
	assert_false(inst_ok("urn:a b"));
	assert_false(inst_ok("urn:a\r\nX: y"));
	assert_false(inst_ok("urn:a%20b"));
	assert_false(inst_ok("urn:<a>"));
}


static bool is_sip(const char *uri)
{
	struct uri u;
	struct pl pl;

	pl_set_str(&pl, uri);
	assert_int_equal(0, uri_decode(&u, &pl));
	return sipuri_is_sip(&u);
}


static void test_uri_is_sip(void **state)
{
	(void)state;

	assert_true(is_sip("sip:bob@example.com"));
	assert_true(is_sip("SIP:bob@example.com"));
	assert_true(is_sip("sips:bob@example.com"));
	assert_true(is_sip("SiPs:bob@example.com"));
	assert_false(is_sip("tel:+15551234"));
	assert_false(is_sip("mailto:bob@example.com"));
	assert_false(is_sip("sipx:bob@example.com"));
	assert_false(is_sip("http:bob@example.com"));
	assert_false(sipuri_is_sip(NULL));
}


static bool wellformed(const char *raw)
{
	struct uri u;
	struct pl pl;

	pl_set_str(&pl, raw);
	return 0 == uri_decode(&u, &pl) && sipuri_wellformed(&pl, &u);
}


static void test_uri_wellformed(void **state)
{
	(void)state;

	assert_true(wellformed("sip:alice@127.0.0.1:5099"));
	assert_true(wellformed("sip:alice@example.com;transport=tcp"));
	assert_true(wellformed("sips:alice@[::1]:5061"));
	assert_true(wellformed("sip:example.com"));
	assert_true(wellformed("tel:+15551234"));
	assert_true(wellformed("mailto:alice@example.com"));

	/* what libre's lenient decoder accepts but is no URI */
	assert_false(wellformed("<sip:alice@127.0.0.1:5099"));
	assert_false(wellformed("sip:alice@127.0.0.1:5099>"));
	assert_false(wellformed("\"Alice <sip:alice@127.0.0.1:5099>"));
	assert_false(wellformed("sip:alice@"));
	assert_false(wellformed("sip:alice@[::1"));
	assert_false(wellformed("sip:alice@exa mple.com"));
	assert_false(wellformed("sip:alice@-bad.com"));
	assert_false(wellformed("1sip:alice@example.com"));
	assert_false(wellformed("sip:alice@exa\"mple.com"));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params_basic),
		cmocka_unit_test(test_params_quoted),
		cmocka_unit_test(test_params_whitespace_and_trailing),
		cmocka_unit_test(test_params_malformed),
		cmocka_unit_test(test_params_handler_stops),
		cmocka_unit_test(test_param_get),
		cmocka_unit_test(test_unquote_instance),
		cmocka_unit_test(test_uri_equal_rfc3261_examples),
		cmocka_unit_test(test_uri_equal_components),
		cmocka_unit_test(test_uri_equal_params),
		cmocka_unit_test(test_uri_equal_headers),
		cmocka_unit_test(test_uri_equal_null),
		cmocka_unit_test(test_uri_equal_reserved_escape_differs),
		cmocka_unit_test(test_aor_key),
		cmocka_unit_test(test_aor_key_unescapes_user),
		cmocka_unit_test(test_aor_domain),
		cmocka_unit_test(test_uri_is_sip),
		cmocka_unit_test(test_instance_wellformed),
		cmocka_unit_test(test_uri_wellformed),
	};

	return cmocka_run_group_tests(tests, ut_group_setup,
				      ut_group_teardown);
}

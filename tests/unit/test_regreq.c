/* Unit tests for registrar/regreq.c: the expiry computation, q-values, and
 * the decoding and checking of real REGISTER messages (RFC 3261 §10.3
 * steps 1-6, RFC 3327, RFC 5626 reg-id, RFC 5627 §5.1). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <re.h>
#include "config/config.h"
#include "location/location.h"
#include "registrar/regreq.h"
#include "unit_support.h"

#define INST1_PARAM ";+sip.instance=\"<" UT_UUID1 ">\""
#define INST2_PARAM ";+sip.instance=\"<" UT_UUID2 ">\""


/* ---- regreq_expires ------------------------------------------------- */

/* NULL string: absent (pl_null). */
static const char *show(const char *s)
{
	return !s ? "(absent)" : *s ? s : "\"\"";
}


static int expires_of(uint32_t *e, const char *param, const char *header)
{
	struct locus_config cfg;
	struct pl p = pl_null, h = pl_null;

	ut_config(&cfg);
	if (param)
		pl_set_str(&p, param);
	if (header)
		pl_set_str(&h, header);
	*e = 0xdeadbeef;
	return regreq_expires(e, &p, &h, &cfg);
}


static void expires_is(const char *param, const char *header,
		       uint32_t expect)
{
	uint32_t e;

	if (expires_of(&e, param, header))
		fail_msg("regreq_expires(%s, %s) failed", show(param),
			 show(header));
	if (e != expect)
		fail_msg("regreq_expires(%s, %s) = %u, expected %u",
			 show(param), show(header), e, expect);
}


static void expires_err(const char *param, const char *header, int expect)
{
	uint32_t e;
	int err = expires_of(&e, param, header);

	if (err != expect)
		fail_msg("regreq_expires(%s, %s) returned %d, expected %d",
			 show(param), show(header), err, expect);
}


static void test_expires_precedence(void **state)
{
	struct locus_config cfg;
	uint32_t e = 1;
	(void)state;

	/* param beats header beats default */
	expires_is("120", "1800", 120);
	expires_is(NULL, "1800", 1800);
	expires_is(NULL, NULL, 3600);
	expires_is("0", "1800", 0);
	expires_is("1800", "0", 1800);
	/* a malformed header does not matter when the param is there */
	expires_is("120", "abc", 120);

	/* NULL pointers mean absent as well */
	ut_config(&cfg);
	assert_int_equal(0, regreq_expires(&e, NULL, NULL, &cfg));
	assert_int_equal(3600, e);
}


static void test_expires_clamp_and_range(void **state)
{
	(void)state;

	expires_is("0", NULL, 0);
	expires_is("00", NULL, 0);
	expires_is(NULL, "0", 0);
	expires_is("60", NULL, 60);          /* min itself is fine */
	expires_is("61", NULL, 61);
	expires_is("7200", NULL, 7200);
	expires_is("7201", NULL, 7200);      /* clamped to max */
	expires_is("86400", NULL, 7200);
	expires_is("4294967295", NULL, 7200);
	expires_is("4294967296", NULL, 7200); /* 2^32: not truncated to 0 */
	expires_is("4294967356", NULL, 7200); /* 2^32 + 60: not 60 */
	expires_is("9999999999999999999", NULL, 7200);   /* 19 digits */
	expires_is("18446744073709551616", NULL, 7200);  /* 2^64 */
	expires_is("123456789012345678901234567890", NULL, 7200);
	expires_is(NULL, "123456789012345678901234567890", 7200);

	/* 0 < x < min: 423 */
	expires_err("1", NULL, ERANGE);
	expires_err("30", NULL, ERANGE);
	expires_err("59", NULL, ERANGE);
	expires_err(NULL, "59", ERANGE);
	expires_err("059", NULL, ERANGE);
}


static void test_expires_malformed(void **state)
{
	uint32_t e;
	(void)state;

	expires_err("abc", NULL, EINVAL);
	expires_err(NULL, "abc", EINVAL);
	expires_err("-1", NULL, EINVAL);
	expires_err("-60", "3600", EINVAL);
	expires_err("+60", NULL, EINVAL);
	expires_err("60s", NULL, EINVAL);
	expires_err(" 60", NULL, EINVAL);
	expires_err("1e3", NULL, EINVAL);
	expires_err("3600.5", NULL, EINVAL);
	expires_err("abc", "3600", EINVAL);

	/* the output is not touched on failure */
	assert_int_equal(EINVAL, expires_of(&e, "x", NULL));
	assert_int_equal(0xdeadbeef, e);
	assert_int_equal(ERANGE, expires_of(&e, "5", NULL));
	assert_int_equal(0xdeadbeef, e);
}


/* RFC 3261 §25.1: delta-seconds = 1*DIGIT.  A present but empty value
 * ("Expires:" with nothing after it, ";expires=") is malformed; it must
 * not silently become the default. */
static void test_expires_empty_is_malformed(void **state)
{
	(void)state;

	expires_err("", NULL, EINVAL);
	expires_err("", "1800", EINVAL);
	expires_err(NULL, "", EINVAL);
}


/* Leading zeros do not make a value large: "the >19 digits overflow"
 * shortcut must look at the value, not at the length.  A zero-padded 0
 * is a removal, not a registration for max_expires. */
static void test_expires_leading_zeros(void **state)
{
	(void)state;

	expires_is("0000000000000000000060", NULL, 60);
	expires_is("00000000000000000000000000000000", NULL, 0);
	expires_err("0000000000000000000000000000005", NULL, ERANGE);
}


/* ---- regreq_qvalue -------------------------------------------------- */

static void q_is(const char *s, int expect)
{
	struct pl pl;
	int q = -7;

	pl_set_str(&pl, s);
	if (regreq_qvalue(&q, &pl))
		fail_msg("regreq_qvalue(\"%s\") failed", s);
	if (q != expect)
		fail_msg("regreq_qvalue(\"%s\") = %d, expected %d", s, q,
			 expect);
}


static void q_bad(const char *s)
{
	struct pl pl;
	int q = -7;

	pl_set_str(&pl, s);
	if (EINVAL != regreq_qvalue(&q, &pl))
		fail_msg("regreq_qvalue(\"%s\") accepted (%d)", s, q);
	assert_int_equal(-7, q);
}


static void test_qvalue(void **state)
{
	(void)state;

	q_is("0", 0);
	q_is("1", 1000);
	q_is("0.5", 500);
	q_is("0.125", 125);
	q_is("0.05", 50);
	q_is("0.001", 1);
	q_is("0.999", 999);
	q_is("0.000", 0);
	q_is("1.000", 1000);
	q_is("1.0", 1000);
	/* "0" [ "." 0*3DIGIT ]: the digits are optional */
	q_is("0.", 0);
	q_is("1.", 1000);

	q_bad("1.5");
	q_bad("1.001");
	q_bad("2");
	q_bad(".5");
	q_bad("0.1234");
	q_bad("1.0000");
	q_bad("abc");
	q_bad("");
	q_bad("01");
	q_bad("-0");
	q_bad("0,5");
	q_bad("0.5 ");
	q_bad("0.a");
}


/* ---- regreq_decode: refusals ---------------------------------------- */

/* Decodes and expects a refusal with exactly this status and reason,
 * and (HEADERS non-NULL) these extra header lines. */
static void refused(const struct locus_config *cfg, const char *text,
		    uint16_t scode, const char *reason, const char *headers)
{
	struct regreq *req = NULL;
	struct reg_error rerr;

	memset(&rerr, 0x55, sizeof(rerr));
	assert_int_equal(EPROTO, ut_decode_text(&req, &rerr, cfg, text));
	assert_null(req);
	if (rerr.scode != scode || strcmp(rerr.reason, reason))
		fail_msg("got %u \"%s\", expected %u \"%s\"", rerr.scode,
			 rerr.reason, scode, reason);
	assert_string_equal(headers ? headers : "", rerr.headers);
}


static void refused_hdrs(const char *hdrs, uint16_t scode,
			 const char *reason, const char *headers)
{
	struct locus_config cfg;
	char *text;

	ut_config(&cfg);
	text = ut_register_text("sip:" UT_DOMAIN, UT_AOR_URI, "cid-r", 1,
				hdrs);
	refused(&cfg, text, scode, reason, headers);
	mem_deref(text);
}


static struct regreq *accepted(const char *hdrs)
{
	struct locus_config cfg;
	struct regreq *req = NULL;
	struct reg_error rerr;

	ut_config(&cfg);
	if (ut_decode(&req, &rerr, &cfg, "cid-a", 7, hdrs))
		fail_msg("refused: %u %s", rerr.scode, rerr.reason);
	assert_non_null(req);
	return req;
}


static void test_decode_domains(void **state)
{
	struct locus_config cfg;
	char *text;
	(void)state;

	ut_config(&cfg);

	text = ut_register_text("sip:other.org", UT_AOR_URI, "c", 1,
				"Contact: <sip:a@192.0.2.1>\r\n");
	refused(&cfg, text, 404, "Domain Not Served Here", NULL);
	mem_deref(text);

	text = ut_register_text("sip:" UT_DOMAIN, "sip:alice@other.org", "c",
				1, "Contact: <sip:a@192.0.2.1>\r\n");
	refused(&cfg, text, 404, "AOR Domain Not Served Here", NULL);
	mem_deref(text);

	text = ut_register_text("tel:+15551234", UT_AOR_URI, "c", 1, "");
	refused(&cfg, text, 416, "Unsupported URI Scheme", NULL);
	mem_deref(text);

	text = ut_register_text("sip:" UT_DOMAIN, "sip:" UT_DOMAIN, "c", 1,
				"");
	refused(&cfg, text, 400, "To URI Has No User Part", NULL);
	mem_deref(text);

	/* domains are case-insensitive: accepted */
	text = ut_register_text("sip:EXAMPLE.COM", "sip:alice@Example.Com",
				"c", 1, "");
	struct regreq *req = NULL;
	struct reg_error rerr;
	assert_int_equal(0, ut_decode_text(&req, &rerr, &cfg, text));
	assert_string_equal(UT_AOR_KEY, req->aor);
	mem_deref(req);
	mem_deref(text);
}


static void test_decode_require(void **state)
{
	struct regreq *req;
	(void)state;

	refused_hdrs("Require: foo\r\n", 420, "Bad Extension",
		     "Unsupported: foo\r\n");
	refused_hdrs("Require: gruu, foo\r\nRequire: path, bar\r\n",
		     420, "Bad Extension", "Unsupported: foo, bar\r\n");

	req = accepted("Require: gruu, path\r\n"
		       "Contact: <sip:a@192.0.2.1>\r\n");
	assert_int_equal(1, list_count(&req->contacts));
	mem_deref(req);

	req = accepted("Require: GRUU\r\nRequire: Path\r\n");
	mem_deref(req);
}


static void test_decode_wildcard(void **state)
{
	struct regreq *req;
	(void)state;

	refused_hdrs("Contact: *\r\nContact: <sip:a@192.0.2.1>\r\n"
		     "Expires: 0\r\n",
		     400, "Wildcard Contact Must Be Alone", NULL);
	refused_hdrs("Contact: <sip:a@192.0.2.1>\r\nContact: *\r\n"
		     "Expires: 0\r\n",
		     400, "Wildcard Contact Must Be Alone", NULL);
	refused_hdrs("Contact: *\r\n",
		     400, "Wildcard Contact Requires Expires: 0", NULL);
	refused_hdrs("Contact: *\r\nExpires: 60\r\n",
		     400, "Wildcard Contact Requires Expires: 0", NULL);

	req = accepted("Contact: *\r\nExpires: 0\r\n");
	assert_true(req->wildcard);
	assert_int_equal(0, list_count(&req->contacts));
	mem_deref(req);

	/* and a normal REGISTER is no wildcard */
	req = accepted("Contact: <sip:a@192.0.2.1>\r\nExpires: 0\r\n");
	assert_false(req->wildcard);
	assert_int_equal(1, list_count(&req->contacts));
	assert_int_equal(0, ut_contact(req, 0)->expires);
	mem_deref(req);
}


static void test_decode_expires_refusals(void **state)
{
	(void)state;

	refused_hdrs("Contact: <sip:a@192.0.2.1>;expires=30\r\n",
		     423, "Interval Too Brief", "Min-Expires: 60\r\n");
	refused_hdrs("Contact: <sip:a@192.0.2.1>\r\nExpires: 59\r\n",
		     423, "Interval Too Brief", "Min-Expires: 60\r\n");
	refused_hdrs("Contact: <sip:a@192.0.2.1>;expires=abc\r\n",
		     400, "Malformed Expires Value", NULL);
	refused_hdrs("Contact: <sip:a@192.0.2.1>;expires=-5\r\n",
		     400, "Malformed Expires Value", NULL);
	refused_hdrs("Contact: <sip:a@192.0.2.1>\r\nExpires: abc\r\n",
		     400, "Malformed Expires Header", NULL);
	/* a malformed Expires header is refused even without contacts */
	refused_hdrs("Expires: soon\r\n",
		     400, "Malformed Expires Header", NULL);
}


static void test_decode_loop_contacts(void **state)
{
	struct regreq *req;
	(void)state;

	/* RFC 5627 §5.1: contact equivalent to the AOR */
	refused_hdrs("Contact: <sip:alice@example.com>" INST1_PARAM "\r\n",
		     403, "Contact Equals the AOR", NULL);
	refused_hdrs("Contact: <sip:alice@EXAMPLE.COM;lr>" INST1_PARAM "\r\n",
		     403, "Contact Equals the AOR", NULL);

	/* a GRUU of ours: public (;gr) or temporary (tgruu. user) */
	refused_hdrs("Contact: <sip:bob@example.com;gr=urn:uuid:"
		     "00000000-0000-1000-8000-000000000009>" INST1_PARAM
		     "\r\n", 403, "Contact Is a GRUU of This Domain", NULL);
	refused_hdrs("Contact: <sip:tgruu.AbCdEf0123@example.com;gr>"
		     INST1_PARAM "\r\n",
		     403, "Contact Is a GRUU of This Domain", NULL);
	refused_hdrs("Contact: <sip:tgruu.AbCdEf0123@Example.COM>"
		     INST1_PARAM "\r\n",
		     403, "Contact Is a GRUU of This Domain", NULL);
	refused_hdrs("Contact: <sip:carol@example.com;gr>\r\n",
		     403, "Contact Is a GRUU of This Domain", NULL);

	/* the AOR's own pub-gruu: 403 (whichever of the two reasons) */
	{
		struct locus_config cfg;
		struct reg_error rerr;
		ut_config(&cfg);
		req = NULL;
		assert_int_equal(EPROTO, ut_decode(&req, &rerr, &cfg, "c", 1,
			"Contact: <sip:alice@example.com;gr=urn:uuid:"
			"00000000-0000-1000-8000-000000000009>\r\n"));
		assert_int_equal(403, rerr.scode);
	}

	/* not a SIP URI, with an instance */
	refused_hdrs("Contact: <tel:+15551234>" INST1_PARAM "\r\n",
		     403, "Contact Is Not a SIP URI", NULL);
	refused_hdrs("Contact: <mailto:alice@example.net>" INST1_PARAM "\r\n",
		     403, "Contact Is Not a SIP URI", NULL);

	/* GRUU-looking contacts of other domains are fine */
	req = accepted("Contact: <sip:bob@other.org;gr=x>\r\n"
		       "Contact: <sip:tgruu.x@other.org>\r\n");
	assert_int_equal(2, list_count(&req->contacts));
	mem_deref(req);
}


/* PATH as the 200 OK echoes it and a Route pushes it. */
static void path_is(const char *expect, const struct binding_path *path)
{
	char got[512];

	assert_true(re_snprintf(got, sizeof(got), "%H", binding_path_print,
				path) >= 0);
	assert_string_equal(expect, got);
}


static void test_decode_path(void **state)
{
	struct regreq *req;
	(void)state;

	refused_hdrs("Path: <sip:edge.example.net;lr>\r\n"
		     "Contact: <sip:a@192.0.2.1>\r\n",
		     420, "Bad Extension: Path Without Supported: path",
		     "Unsupported: path\r\n");
	/* Supported: gruu alone does not do */
	refused_hdrs("Supported: gruu\r\nPath: <sip:edge.example.net;lr>\r\n",
		     420, "Bad Extension: Path Without Supported: path",
		     "Unsupported: path\r\n");

	req = accepted("Supported: path\r\n"
		       "Path: <sip:p1@edge1.example.net;lr>, "
		       "<sip:p2@edge2.example.net;lr>\r\n"
		       "Contact: <sip:a@192.0.2.1>\r\n"
		       "Path: <sip:p3@edge3.example.net;lr;ob>\r\n");
	assert_non_null(req->path);
	assert_int_equal(3, req->path->n);
	assert_string_equal("<sip:p1@edge1.example.net;lr>", req->path->v[0]);
	assert_string_equal("<sip:p2@edge2.example.net;lr>", req->path->v[1]);
	assert_string_equal("<sip:p3@edge3.example.net;lr;ob>",
			    req->path->v[2]);
	path_is("<sip:p1@edge1.example.net;lr>, "
		"<sip:p2@edge2.example.net;lr>, "
		"<sip:p3@edge3.example.net;lr;ob>", req->path);
	assert_false(req->gruu);
	mem_deref(req);

	req = accepted("Supported: gruu, path\r\n"
		       "Path: <sip:p1@edge1.example.net;lr>\r\n");
	assert_int_equal(1, req->path->n);
	assert_string_equal("<sip:p1@edge1.example.net;lr>", req->path->v[0]);
	assert_true(req->gruu);
	mem_deref(req);

	/* a comma inside a display name is no separator */
	req = accepted("Supported: path\r\n"
		       "Path: \"edge, one\" <sip:e1.example.net;lr>, "
		       "<sip:e2.example.net;lr>\r\n");
	assert_int_equal(2, req->path->n);
	assert_string_equal("\"edge, one\" <sip:e1.example.net;lr>",
			    req->path->v[0]);
	assert_string_equal("<sip:e2.example.net;lr>", req->path->v[1]);
	mem_deref(req);

	req = accepted("Contact: <sip:a@192.0.2.1>\r\n");
	assert_null(req->path);
	mem_deref(req);
}


static void test_decode_too_many_contacts(void **state)
{
	struct regreq *req;
	(void)state;

	refused_hdrs("Contact: <sip:a@192.0.2.1>\r\n"
		     "Contact: <sip:b@192.0.2.1>\r\n"
		     "Contact: <sip:c@192.0.2.1>\r\n"
		     "Contact: <sip:d@192.0.2.1>\r\n"
		     "Contact: <sip:e@192.0.2.1>\r\n",
		     403, "Too Many Contacts (max 4)", NULL);
	/* the same, comma-separated in one header */
	refused_hdrs("Contact: <sip:a@192.0.2.1>, <sip:b@192.0.2.1>, "
		     "<sip:c@192.0.2.1>, <sip:d@192.0.2.1>, "
		     "<sip:e@192.0.2.1>\r\n",
		     403, "Too Many Contacts (max 4)", NULL);

	req = accepted("Contact: <sip:a@192.0.2.1>, <sip:b@192.0.2.1>\r\n"
		       "Contact: <sip:c@192.0.2.1>\r\n"
		       "Contact: <sip:d@192.0.2.1>\r\n");
	assert_int_equal(4, list_count(&req->contacts));
	assert_string_equal("sip:a@192.0.2.1", ut_contact(req, 0)->uri);
	assert_string_equal("sip:b@192.0.2.1", ut_contact(req, 1)->uri);
	assert_string_equal("sip:c@192.0.2.1", ut_contact(req, 2)->uri);
	assert_string_equal("sip:d@192.0.2.1", ut_contact(req, 3)->uri);
	mem_deref(req);
}


static void test_decode_duplicates(void **state)
{
	struct regreq *req;
	(void)state;

	refused_hdrs("Contact: <sip:a@192.0.2.1>\r\n"
		     "Contact: <sip:a@192.0.2.1>\r\n",
		     400, "Duplicate Contact", NULL);
	/* equivalent by RFC 3261 §19.1.4, not byte-equal */
	refused_hdrs("Contact: <sip:a@192.0.2.1;ob>\r\n"
		     "Contact: <sip:%61@192.0.2.1>;expires=0\r\n",
		     400, "Duplicate Contact", NULL);
	/* the same instance (and reg-id) twice */
	refused_hdrs("Contact: <sip:a@192.0.2.1>" INST1_PARAM "\r\n"
		     "Contact: <sip:b@192.0.2.2>" INST1_PARAM "\r\n",
		     400, "Duplicate Contact", NULL);
	refused_hdrs("Contact: <sip:a@192.0.2.1>" INST1_PARAM ";reg-id=1\r\n"
		     "Contact: <sip:b@192.0.2.2>" INST1_PARAM ";reg-id=1\r\n",
		     400, "Duplicate Contact", NULL);

	/* one instance, two flows (RFC 5626): two bindings */
	req = accepted("Contact: <sip:a@192.0.2.1>" INST1_PARAM ";reg-id=1\r\n"
		       "Contact: <sip:b@192.0.2.2>" INST1_PARAM
		       ";reg-id=2\r\n");
	assert_int_equal(2, list_count(&req->contacts));
	assert_int_equal(1, ut_contact(req, 0)->reg_id);
	assert_int_equal(2, ut_contact(req, 1)->reg_id);
	mem_deref(req);

	/* different transports are different contacts */
	req = accepted("Contact: <sip:a@192.0.2.1;transport=tcp>\r\n"
		       "Contact: <sip:a@192.0.2.1>\r\n");
	assert_int_equal(2, list_count(&req->contacts));
	mem_deref(req);
}


/* RFC 5626 §6: when outbound applies, and what else happens. */
static void test_decode_outbound(void **state)
{
	struct regreq *req;
	(void)state;

	/* first hop, instance and reg-id, Supported: outbound */
	req = accepted("Supported: outbound\r\n"
		       "Contact: <sip:a@192.0.2.1;ob>" INST1_PARAM
		       ";reg-id=1\r\n");
	assert_true(req->outbound);
	assert_int_equal(1, ut_contact(req, 0)->reg_id);
	mem_deref(req);

	/* the UA did not say it supports outbound: no Require for it */
	req = accepted("Contact: <sip:a@192.0.2.1>" INST1_PARAM
		       ";reg-id=1\r\n");
	assert_false(req->outbound);
	assert_int_equal(1, ut_contact(req, 0)->reg_id);
	mem_deref(req);

	/* no reg-id, no outbound, whatever the UA supports */
	req = accepted("Supported: outbound\r\n"
		       "Contact: <sip:a@192.0.2.1>" INST1_PARAM "\r\n");
	assert_false(req->outbound);
	mem_deref(req);

	/* not the first hop and no ";ob" edge proxy in the Path */
	refused_hdrs("Via: SIP/2.0/UDP edge.example.net;branch=z9hG4bKe1\r\n"
		     "Supported: outbound\r\n"
		     "Contact: <sip:a@192.0.2.1>" INST1_PARAM ";reg-id=1\r\n",
		     439, "First Hop Lacks Outbound Support", NULL);
	req = accepted("Via: SIP/2.0/UDP edge.example.net;branch=z9hG4bKe1\r\n"
		       "Contact: <sip:a@192.0.2.1>" INST1_PARAM
		       ";reg-id=1\r\n");
	assert_false(req->outbound);
	assert_int_equal(0, ut_contact(req, 0)->reg_id);   /* ignored */
	mem_deref(req);

	/* an edge proxy that keeps the flow says so with ;ob */
	req = accepted("Via: SIP/2.0/UDP edge.example.net;branch=z9hG4bKe1\r\n"
		       "Supported: outbound, path\r\n"
		       "Path: <sip:edge.example.net;lr;ob>\r\n"
		       "Contact: <sip:a@192.0.2.1>" INST1_PARAM
		       ";reg-id=1\r\n");
	assert_true(req->outbound);
	mem_deref(req);

	/* one flow per REGISTER; removing others alongside is fine */
	refused_hdrs("Supported: outbound\r\n"
		     "Contact: <sip:a@192.0.2.1>" INST1_PARAM ";reg-id=1\r\n"
		     "Contact: <sip:b@192.0.2.2>\r\n",
		     400, "reg-id With More Than One Contact", NULL);
	req = accepted("Supported: outbound\r\n"
		       "Contact: <sip:a@192.0.2.1>" INST1_PARAM ";reg-id=1\r\n"
		       "Contact: <sip:b@192.0.2.2>;expires=0\r\n");
	assert_true(req->outbound);
	mem_deref(req);

	/* Require: outbound is understood */
	req = accepted("Require: outbound\r\nSupported: outbound\r\n"
		       "Contact: <sip:a@192.0.2.1>" INST1_PARAM
		       ";reg-id=1\r\n");
	assert_true(req->outbound);
	mem_deref(req);
}


static void test_decode_bad_params(void **state)
{
	struct regreq *req;
	(void)state;

	refused_hdrs("Contact: <sip:a@192.0.2.1>" INST1_PARAM ";reg-id=0\r\n",
		     400, "Malformed reg-id", NULL);
	refused_hdrs("Contact: <sip:a@192.0.2.1>" INST1_PARAM
		     ";reg-id=abc\r\n", 400, "Malformed reg-id", NULL);
	refused_hdrs("Contact: <sip:a@192.0.2.1>" INST1_PARAM
		     ";reg-id=2147483648\r\n", 400, "Malformed reg-id", NULL);
	refused_hdrs("Contact: <sip:a@192.0.2.1>" INST1_PARAM
		     ";reg-id=99999999999\r\n", 400, "Malformed reg-id", NULL);
	refused_hdrs("Contact: <sip:a@192.0.2.1>" INST1_PARAM
		     ";reg-id=-1\r\n", 400, "Malformed reg-id", NULL);

	refused_hdrs("Contact: <sip:a@192.0.2.1>;q=2\r\n",
		     400, "Malformed Contact q Value", NULL);
	refused_hdrs("Contact: <sip:a@192.0.2.1>;q=1.5\r\n",
		     400, "Malformed Contact q Value", NULL);
	refused_hdrs("Contact: <sip:a@192.0.2.1>;q=high\r\n",
		     400, "Malformed Contact q Value", NULL);

	refused_hdrs("Contact: <sip:a@192.0.2.1>;+sip.instance=\"<>\"\r\n",
		     400, "Empty +sip.instance", NULL);
	refused_hdrs("Contact: <sip:a@192.0.2.1>;x=\"unclosed\r\n",
		     400, "Malformed Contact Parameters", NULL);
	refused_hdrs("Contact: <sip:a@192.0.2.1>;=1\r\n",
		     400, "Malformed Contact Parameters", NULL);

	/* reg-id means nothing without an instance: ignored, not stored */
	req = accepted("Contact: <sip:a@192.0.2.1>;reg-id=5\r\n");
	assert_int_equal(0, ut_contact(req, 0)->reg_id);
	assert_null(ut_contact(req, 0)->instance);
	assert_string_equal("", ut_contact(req, 0)->params);
	mem_deref(req);

	/* the largest reg-id */
	req = accepted("Contact: <sip:a@192.0.2.1>" INST1_PARAM
		       ";reg-id=2147483647\r\n");
	assert_int_equal(0x7fffffff, ut_contact(req, 0)->reg_id);
	mem_deref(req);
}


/* A parameter or header that is present with an empty value is
 * malformed (RFC 3261 §25.1 / RFC 5626 §4.2 grammars: delta-seconds,
 * qvalue and reg-id need at least one digit); it must not be treated as
 * absent.  Checks every case and reports all that are accepted. */
static void test_decode_empty_values(void **state)
{
	static const struct {
		const char *hdrs;
		const char *reason;
	} cases[] = {
		{"Contact: <sip:a@192.0.2.1>;expires=\r\n",
		 "Malformed Expires Value"},
		{"Contact: <sip:a@192.0.2.1>\r\nExpires: \r\n",
		 "Malformed Expires Header"},
		{"Contact: <sip:a@192.0.2.1>;q=\r\n",
		 "Malformed Contact q Value"},
		{"Contact: <sip:a@192.0.2.1>" INST1_PARAM ";reg-id=\r\n",
		 "Malformed reg-id"},
	};
	struct locus_config cfg;
	char report[1024] = "";
	(void)state;

	ut_config(&cfg);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct regreq *req = NULL;
		struct reg_error rerr;
		int err = ut_decode(&req, &rerr, &cfg, "c", 1, cases[i].hdrs);

		if (err == EPROTO && rerr.scode == 400 &&
		    0 == strcmp(rerr.reason, cases[i].reason))
			continue;
		size_t l = strlen(report);
		if (err)
			snprintf(report + l, sizeof(report) - l,
				 "\n  [%zu] %u %s (expected 400 %s)", i,
				 rerr.scode, rerr.reason, cases[i].reason);
		else
			snprintf(report + l, sizeof(report) - l,
				 "\n  [%zu] accepted: expires=%u q=%d "
				 "reg-id=%u (expected 400 %s)", i,
				 ut_contact(req, 0)->expires,
				 ut_contact(req, 0)->q,
				 ut_contact(req, 0)->reg_id, cases[i].reason);
		mem_deref(req);
	}
	if (report[0])
		fail_msg("empty values not refused:%s", report);
}


/* ---- regreq_decode: accepted requests ------------------------------- */

static void test_decode_positive(void **state)
{
	const struct reg_contact *rc;
	struct regreq *req;
	struct sa src;
	(void)state;

	req = accepted(
		"Contact: \"Alice's phone\" "
		"<sip:alice@192.0.2.10:5062;transport=udp;ob>"
		";+sip.ice;video"
		";+sip.instance=\"<" UT_UUID1 ">\""
		";reg-id=1;q=0.5;expires=100000"
		";pub-gruu=\"sip:alice@example.com;gr=urn:uuid:x\""
		";temp-gruu=\"sip:tgruu.abc@example.com;gr\""
		";audio=\"x;y\"\r\n"
		"Contact: <sip:alice@198.51.100.7>;Q=1.000\r\n"
		"Contact: <sip:alice@198.51.100.8>;expires=0\r\n"
		"Expires: 1800\r\n");

	assert_string_equal(UT_AOR_KEY, req->aor);
	assert_false(req->wildcard);
	assert_false(req->gruu);
	assert_null(req->path);
	assert_string_equal("cid-a", req->callid);
	assert_int_equal(7, req->cseq);
	assert_string_equal("unit-test/1.0", req->user_agent);
	assert_int_equal(0, sa_set_str(&src, UT_SRC_IP, UT_SRC_PORT));
	assert_true(sa_cmp(&src, &req->src, SA_ALL));
	assert_int_equal(SIP_TRANSP_UDP, req->tp);
	assert_int_equal(3, list_count(&req->contacts));

	rc = ut_contact(req, 0);
	assert_string_equal("sip:alice@192.0.2.10:5062;transport=udp;ob",
			    rc->uri);
	assert_int_equal(0, pl_strcmp(&rc->parsed.host, "192.0.2.10"));
	assert_int_equal(5062, rc->parsed.port);
	assert_non_null(rc->instance);
	assert_string_equal(UT_UUID1, rc->instance);
	assert_int_equal(1, rc->reg_id);
	assert_int_equal(500, rc->q);
	assert_int_equal(7200, rc->expires);          /* clamped */
	/* unknown params kept in order; the registrar's own dropped */
	assert_string_equal(";+sip.ice;video;audio=\"x;y\"", rc->params);

	rc = ut_contact(req, 1);
	assert_string_equal("sip:alice@198.51.100.7", rc->uri);
	assert_null(rc->instance);
	assert_int_equal(0, rc->reg_id);
	assert_int_equal(1000, rc->q);
	assert_int_equal(1800, rc->expires);          /* from the header */
	assert_string_equal("", rc->params);

	rc = ut_contact(req, 2);
	assert_int_equal(-1, rc->q);                  /* absent */
	assert_int_equal(0, rc->expires);             /* removal */
	mem_deref(req);

	/* no Expires anywhere: the default; no User-Agent: NULL */
	{
		struct locus_config cfg;
		struct reg_error rerr;
		const char *text =
			"REGISTER sip:example.com SIP/2.0\r\n"
			"Via: SIP/2.0/TCP 192.0.2.10:5062;branch=z9hG4bKx\r\n"
			"To: <sip:alice@example.com>\r\n"
			"From: <sip:alice@example.com>;tag=1\r\n"
			"Call-ID: c-na\r\n"
			"CSeq: 1 REGISTER\r\n"
			"Contact: <sip:alice@192.0.2.10:5062>\r\n"
			"Content-Length: 0\r\n\r\n";
		ut_config(&cfg);
		assert_int_equal(0, ut_decode_text(&req, &rerr, &cfg, text));
		assert_int_equal(3600, ut_contact(req, 0)->expires);
		assert_null(req->user_agent);
		assert_string_equal("", ut_contact(req, 0)->params);
		mem_deref(req);
	}
}


static void test_decode_gruu_supported(void **state)
{
	struct regreq *req;
	(void)state;

	req = accepted("Contact: <sip:a@192.0.2.1>" INST1_PARAM "\r\n");
	assert_false(req->gruu);
	mem_deref(req);

	req = accepted("Supported: gruu\r\n"
		       "Contact: <sip:a@192.0.2.1>" INST1_PARAM "\r\n");
	assert_true(req->gruu);
	mem_deref(req);

	req = accepted("Supported: outbound, path\r\nSupported: GRUU\r\n"
		       "Contact: <sip:a@192.0.2.1>" INST1_PARAM "\r\n");
	assert_true(req->gruu);
	mem_deref(req);

	req = accepted("Supported: gruuish, outbound\r\n");
	assert_false(req->gruu);
	mem_deref(req);

	/* Require: gruu is no Supported: gruu */
	req = accepted("Require: gruu\r\n");
	assert_false(req->gruu);
	mem_deref(req);
}


static void test_decode_no_contact_is_query(void **state)
{
	struct regreq *req = accepted("");
	(void)state;

	assert_false(req->wildcard);
	assert_int_equal(0, list_count(&req->contacts));
	assert_string_equal(UT_AOR_KEY, req->aor);
	mem_deref(req);
}


static void test_decode_compact_forms(void **state)
{
	static const char text[] =
		"REGISTER sip:example.com SIP/2.0\r\n"
		"v: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKcompact\r\n"
		"t: <sip:Bob@Example.COM>\r\n"
		"f: <sip:Bob@Example.COM>;tag=77\r\n"
		"i: compact-call-id@192.0.2.10\r\n"
		"CSeq: 42 REGISTER\r\n"
		"k: gruu, path\r\n"
		"m: <sip:bob@192.0.2.10:5062;ob>;+sip.instance=\"<"
		UT_UUID2 ">\";reg-id=3;expires=600, "
		"<sip:bob@198.51.100.9>;q=0.1\r\n"
		"m: <sip:bob@198.51.100.10>\r\n"
		"l: 0\r\n"
		"\r\n";
	struct locus_config cfg;
	struct reg_error rerr;
	struct regreq *req = NULL;
	(void)state;

	ut_config(&cfg);
	assert_int_equal(0, ut_decode_text(&req, &rerr, &cfg, text));
	assert_string_equal("Bob@example.com", req->aor);
	assert_string_equal("compact-call-id@192.0.2.10", req->callid);
	assert_int_equal(42, req->cseq);
	assert_true(req->gruu);
	assert_int_equal(3, list_count(&req->contacts));
	assert_string_equal("sip:bob@192.0.2.10:5062;ob",
			    ut_contact(req, 0)->uri);
	assert_string_equal(UT_UUID2, ut_contact(req, 0)->instance);
	assert_int_equal(3, ut_contact(req, 0)->reg_id);
	assert_int_equal(600, ut_contact(req, 0)->expires);
	assert_string_equal("sip:bob@198.51.100.9", ut_contact(req, 1)->uri);
	assert_int_equal(100, ut_contact(req, 1)->q);
	assert_int_equal(3600, ut_contact(req, 1)->expires);
	assert_string_equal("sip:bob@198.51.100.10", ut_contact(req, 2)->uri);
	mem_deref(req);

	/* a compact Contact equal to the AOR is still caught */
	refused_hdrs("m: <sip:alice@example.com>\r\n",
		     403, "Contact Equals the AOR", NULL);
}


static void test_decode_contact_without_brackets(void **state)
{
	struct regreq *req;
	(void)state;

	/* without <>, the parameters are header parameters (RFC 3261
	 * §20.10): expires belongs to the Contact, not to the URI */
	req = accepted("Contact: sip:a@192.0.2.1;expires=120;foo\r\n");
	assert_string_equal("sip:a@192.0.2.1", ut_contact(req, 0)->uri);
	assert_int_equal(120, ut_contact(req, 0)->expires);
	assert_string_equal(";foo", ut_contact(req, 0)->params);
	mem_deref(req);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expires_precedence),
		cmocka_unit_test(test_expires_clamp_and_range),
		cmocka_unit_test(test_expires_malformed),
		cmocka_unit_test(test_expires_empty_is_malformed),
		cmocka_unit_test(test_expires_leading_zeros),
		cmocka_unit_test(test_qvalue),
		cmocka_unit_test(test_decode_domains),
		cmocka_unit_test(test_decode_require),
		cmocka_unit_test(test_decode_wildcard),
		cmocka_unit_test(test_decode_expires_refusals),
		cmocka_unit_test(test_decode_loop_contacts),
		cmocka_unit_test(test_decode_path),
		cmocka_unit_test(test_decode_too_many_contacts),
		cmocka_unit_test(test_decode_duplicates),
		cmocka_unit_test(test_decode_outbound),
		cmocka_unit_test(test_decode_bad_params),
		cmocka_unit_test(test_decode_empty_values),
		cmocka_unit_test(test_decode_positive),
		cmocka_unit_test(test_decode_gruu_supported),
		cmocka_unit_test(test_decode_no_contact_is_query),
		cmocka_unit_test(test_decode_compact_forms),
		cmocka_unit_test(test_decode_contact_without_brackets),
	};

	return cmocka_run_group_tests(tests, ut_group_setup,
				      ut_group_teardown);
}

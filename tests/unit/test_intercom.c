/* Unit tests for intercom's pure parts: what the proxy removes from the
 * INVITEs it forwards (proxy/autoanswer.c, through fwd_request_body()),
 * and what features/intercom.c adds to each target by dialect.  Whole
 * texts are compared: a forwarded INVITE must lose its auto-answer
 * signalling and nothing else. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "features/intercom.h"
#include "proxy/autoanswer.h"
#include "proxy/route.h"
#include "proxy/fwd.h"
#include "proxy_support.h"

#define INVITE_HEAD \
	"INVITE sip:bob@example.com SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKic\r\n" \
	"From: <sip:alice@example.com>;tag=1\r\n" \
	"To: <sip:bob@example.com>\r\n" \
	"Call-ID: ic\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
/* what INVITE_HEAD becomes downstream */
#define FORWARDED_HEAD \
	"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKic\r\n" \
	"From: <sip:alice@example.com>;tag=1\r\n" \
	"To: <sip:bob@example.com>\r\n" \
	"Call-ID: ic\r\nCSeq: 1 INVITE\r\nMax-Forwards: 69\r\n"
#define TAIL "Content-Length: 0\r\n\r\n"


/* fwd_request_body() of MSG, auto-answer signalling removed or not. */
static char *forwarded(const struct sip_msg *msg, bool strip)
{
	struct fwd_request_opts opts = {0, false, strip};
	struct mbuf *mb = mbuf_alloc(512);
	char *text = NULL;

	assert_non_null(mb);
	assert_int_equal(0, fwd_request_body(mb, msg, &opts));
	mb->pos = 0;
	assert_int_equal(0, mbuf_strdup(mb, &text, mb->end));
	mem_deref(mb);
	return text;
}


/* HDRS forwarded with auto-answer signalling removed must be WANT. */
static void expect_stripped(const char *hdrs, const char *want)
{
	struct sip_msg *msg = px_decode(INVITE_HEAD "%s" TAIL, hdrs);
	char *text = forwarded(msg, true), *expect = NULL;

	assert_int_equal(0, re_sdprintf(&expect, FORWARDED_HEAD "%s" TAIL,
					want));
	assert_string_equal(expect, text);
	mem_deref(expect);
	mem_deref(text);
	mem_deref(msg);
}


/* Every way callers and PBXs write "answer by yourself" goes. */
static void test_autoanswer_headers_removed(void **state)
{
	(void)state;
	expect_stripped("Call-Info: <sip:example.com>;answer-after=0\r\n", "");
	/* OpenSIPS's paging example: no URI at all */
	expect_stripped("Call-info: ;answer-after=0\r\n", "");
	expect_stripped("Call-Info: Answer-After=0\r\n", "");
	/* inside the URI, where loose phones find it too */
	expect_stripped("Call-Info: <sip:x;answer-after=0>\r\n", "");
	expect_stripped("Call-Info: <sip:x>;info=alert-autoanswer;delay=0\r\n",
			"");
	expect_stripped("Alert-Info: <http://127.0.0.1>;info=alert-autoanswer;"
			"delay=0\r\n", "");
	expect_stripped("Alert-Info: <http://x>;info=Alert-AutoAnswer\r\n", "");
	expect_stripped("Alert-Info: Ring-Answer\r\n", "");
	expect_stripped("Alert-Info: Ring Answer\r\n", "");
	expect_stripped("Alert-Info: <Ring_Answer>\r\n", "");
	expect_stripped("Alert-Info: Auto Answer\r\n", "");
	expect_stripped("Alert-Info: RA\r\n", "");
	expect_stripped("Alert-Info: Intercom\r\n", "");
	expect_stripped("Alert-Info: info=Auto Answer\r\n", "");
	expect_stripped("Answer-Mode: Auto\r\n", "");
	expect_stripped("Answer-Mode: Auto;require\r\n", "");
	expect_stripped("answer-mode: Manual\r\n", "");
	expect_stripped("Priv-Answer-Mode: Auto\r\n", "");
	expect_stripped("P-Auto-Answer: normal\r\n", "");
}


/* Of a line with several entries only the auto-answer ones go; a line
 * with none keeps its value byte for byte; other headers are untouched. */
static void test_other_entries_kept(void **state)
{
	(void)state;
	expect_stripped("Call-Info: <http://www.example.com/alice/photo.jpg>"
			" ;purpose=icon, <sip:x>;answer-after=0,"
			"<http://www.example.com/alice/>;purpose=info\r\n",
			"Call-Info: <http://www.example.com/alice/photo.jpg>"
			" ;purpose=icon, <http://www.example.com/alice/>;"
			"purpose=info\r\n");
	expect_stripped("Alert-Info: <http://x/ring,answer>;info=a,"
			" <http://127.0.0.1/bellcore-dr2>\r\n",
			"Alert-Info: <http://127.0.0.1/bellcore-dr2>\r\n");
	/* the value as it came (the proxy writes every "Name: value") */
	expect_stripped("Call-Info:<http://x/a.png>;purpose=icon,"
			"<http://x/b>;purpose=info\r\n",
			"Call-Info: <http://x/a.png>;purpose=icon,"
			"<http://x/b>;purpose=info\r\n");
	expect_stripped("Alert-Info: <http://x/bellcore-dr2>\r\n"
			"Alert-Info: RA\r\n"
			"Subject: Ring Answer\r\n"
			"Require: answermode\r\n",
			"Alert-Info: <http://x/bellcore-dr2>\r\n"
			"Subject: Ring Answer\r\n"
			"Require: answermode\r\n");
	/* a radio station is not "RA" */
	expect_stripped("Alert-Info: <http://radio.example.com/>\r\n",
			"Alert-Info: <http://radio.example.com/>\r\n");
}


/* Padding does not hide the parameter, however long. */
static void test_padding_does_not_hide(void **state)
{
	char pad[6000];
	char *hdr = NULL;

	(void)state;
	memset(pad, '/', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	assert_int_equal(0, re_sdprintf(&hdr, "Call-Info: <http://x/%s>;"
					"answer-after=0\r\n", pad));
	expect_stripped(hdr, "");
	mem_deref(hdr);
	assert_int_equal(0, re_sdprintf(&hdr, "Call-Info: <http://x>;answer"
					"-%s-after=0\r\n", pad));
	expect_stripped(hdr, "");
	mem_deref(hdr);
}


/* Without the option everything goes on as it came; the option is for
 * INVITEs from peers not in intercom.trusted. */
static void test_trusted_and_other_methods_keep(void **state)
{
	const char *hdrs = "Call-Info: <sip:x>;answer-after=0\r\n"
		"Alert-Info: Ring-Answer\r\nAnswer-Mode: Auto\r\n";
	struct px_config pc;
	struct sip_msg *msg;
	struct sa peer;
	char *text, *want = NULL;
	struct route_info ri = {0};

	(void)state;
	px_config_init(&pc);
	assert_int_equal(0, sa_set_str(&peer, "192.0.2.10", 0));
	msg = px_decode(INVITE_HEAD "%s" TAIL, hdrs);
	text = forwarded(msg, false);
	assert_int_equal(0, re_sdprintf(&want, FORWARDED_HEAD "%s" TAIL,
					hdrs));
	assert_string_equal(want, text);
	mem_deref(want);
	mem_deref(text);

	assert_true(autoanswer_strip_wanted(&pc.cfg, msg, &ri));
	/* locus's own user agent asks for auto-answer itself (ua/) */
	ri.from_locus = true;
	assert_false(autoanswer_strip_wanted(&pc.cfg, msg, &ri));
	ri.from_locus = false;
	pc.cfg.intercom_trusted = &peer;
	pc.cfg.intercom_trustedc = 1;
	assert_false(autoanswer_strip_wanted(&pc.cfg, msg, &ri));
	mem_deref(msg);

	pc.cfg.intercom_trustedc = 0;
	msg = px_request("MESSAGE", "sip:bob@example.com", hdrs);
	assert_false(autoanswer_strip_wanted(&pc.cfg, msg, &ri));
	mem_deref(msg);
}


static void expect_uri(const char *in, const char *want)
{
	char *uri = NULL;

	assert_int_equal(0, str_dup(&uri, in));
	assert_int_equal(0, autoanswer_uri_strip(&uri));
	assert_string_equal(want, uri);
	mem_deref(uri);
}


static void test_uri_intercom_removed(void **state)
{
	(void)state;
	expect_uri("sip:dev@192.0.2.5:5070;transport=udp;intercom=true",
		   "sip:dev@192.0.2.5:5070;transport=udp");
	expect_uri("sip:dev@h;INTERCOM=TRUE;lr", "sip:dev@h;lr");
	expect_uri("sip:dev@h;intercom;intercom=false", "sip:dev@h");
	expect_uri("sip:dev@h;intercom=true?Subject=hi", "sip:dev@h?Subject=hi");
	expect_uri("sip:dev@[2001:db8::1]:5060;intercom=true",
		   "sip:dev@[2001:db8::1]:5060");
	/* only that parameter */
	expect_uri("sip:intercom@h;intercomx=1;x-intercom=1",
		   "sip:intercom@h;intercomx=1;x-intercom=1");
	expect_uri("sip:dev@h", "sip:dev@h");
}


static void expect_signal(enum intercom_dialect d, const char *ruri,
			  const char *domain, const char *want_ruri,
			  const char *want_headers)
{
	char *uri = NULL, *headers = NULL;

	assert_int_equal(0, str_dup(&uri, ruri));
	assert_int_equal(0, intercom_signal(&uri, &headers, d, domain));
	assert_string_equal(want_ruri, uri);
	if (want_headers)
		assert_string_equal(want_headers, headers);
	else
		assert_null(headers);
	mem_deref(uri);
	mem_deref(headers);
}


static void test_dialect_signalling(void **state)
{
	(void)state;
	expect_signal(INTERCOM_DEFAULT, "sip:dev@192.0.2.5", "example.com",
		      "sip:dev@192.0.2.5",
		      "Call-Info: <sip:example.com>;answer-after=0\r\n"
		      "Alert-Info: <http://127.0.0.1/intercom>;"
		      "info=alert-autoanswer;delay=0\r\n");
	expect_signal(INTERCOM_RING_ANSWER, "sip:dev@192.0.2.5", "example.com",
		      "sip:dev@192.0.2.5", "Alert-Info: Ring-Answer\r\n");
	/* RFC 5373: never ";require", never Require: answermode */
	expect_signal(INTERCOM_ANSWER_MODE, "sip:dev@192.0.2.5", "example.com",
		      "sip:dev@192.0.2.5", "Answer-Mode: Auto\r\n");
	expect_signal(INTERCOM_URI_PARAM, "sip:dev@192.0.2.5;transport=tcp",
		      "example.com", "sip:dev@192.0.2.5;transport=tcp;"
		      "intercom=true", NULL);
	expect_signal(INTERCOM_URI_PARAM, "sip:dev@192.0.2.5?X=1",
		      "example.com", "sip:dev@192.0.2.5;intercom=true?X=1",
		      NULL);
	expect_signal(INTERCOM_DEFAULT, "sip:dev@[::1]:5070", "::1",
		      "sip:dev@[::1]:5070",
		      "Call-Info: <sip:[::1]>;answer-after=0\r\n"
		      "Alert-Info: <http://127.0.0.1/intercom>;"
		      "info=alert-autoanswer;delay=0\r\n");
}


static void test_dialect_by_user_agent(void **state)
{
	static char polycom[] = "Polycom*", yealink[] = "*yealink*";
	struct intercom_style styles[] = {
		{polycom, INTERCOM_RING_ANSWER},
		{yealink, INTERCOM_ANSWER_MODE},
	};
	struct px_config pc;

	(void)state;
	px_config_init(&pc);
	assert_int_equal(INTERCOM_DEFAULT,
			 intercom_dialect_of(&pc.cfg, "PolycomVVX-VVX_411"));
	pc.cfg.intercom_styles = styles;
	pc.cfg.intercom_stylec = ARRAY_SIZE(styles);
	assert_int_equal(INTERCOM_RING_ANSWER,
			 intercom_dialect_of(&pc.cfg, "PolycomVVX-VVX_411"));
	assert_int_equal(INTERCOM_RING_ANSWER,
			 intercom_dialect_of(&pc.cfg, "POLYCOM SoundPoint"));
	assert_int_equal(INTERCOM_ANSWER_MODE,
			 intercom_dialect_of(&pc.cfg, "Yealink SIP-T46S"));
	assert_int_equal(INTERCOM_DEFAULT,
			 intercom_dialect_of(&pc.cfg, "baresip v1.0.0"));
	assert_int_equal(INTERCOM_DEFAULT, intercom_dialect_of(&pc.cfg, NULL));
	/* the first row that matches wins */
	styles[1].user_agent = polycom;
	assert_int_equal(INTERCOM_RING_ANSWER,
			 intercom_dialect_of(&pc.cfg, "Polycom"));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_autoanswer_headers_removed),
		cmocka_unit_test(test_other_entries_kept),
		cmocka_unit_test(test_padding_does_not_hide),
		cmocka_unit_test(test_trusted_and_other_methods_keep),
		cmocka_unit_test(test_uri_intercom_removed),
		cmocka_unit_test(test_dialect_signalling),
		cmocka_unit_test(test_dialect_by_user_agent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

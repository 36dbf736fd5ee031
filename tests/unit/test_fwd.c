/* Unit tests for proxy/fwd.c, the copies of messages that are forwarded:
 * a request downstream (Max-Forwards, the top Via's received and rport,
 * our Route values dropped, Content-Length and the body) and a response
 * upstream (our Via removed, edits and extra lines applied, nothing after
 * the body), and where a response goes by its second Via.  Whole texts
 * are compared: a forwarded message must differ from the received one in
 * exactly the ways RFC 3261 §16.6 and §16.7 allow. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "proxy/fwd.h"
#include "proxy_support.h"


/* fwd_request_body() of MSG as a NUL-terminated string (mem_deref it). */
static char *request_body(const struct sip_msg *msg, uint32_t drop_routes,
			  bool drop_last_route)
{
	struct fwd_request_opts opts = {drop_routes, drop_last_route};
	struct mbuf *mb = mbuf_alloc(512);
	char *text = NULL;

	assert_non_null(mb);
	assert_int_equal(0, fwd_request_body(mb, msg, &opts));
	mb->pos = 0;
	assert_int_equal(0, mbuf_strdup(mb, &text, mb->end));
	mem_deref(mb);
	return text;
}


static char *response_text(const struct sip_msg *resp, const char *extra,
			   const struct fwd_edit *edits, size_t editc)
{
	struct mbuf *mb = NULL;
	char *text = NULL;

	assert_int_equal(0, fwd_response(&mb, resp, extra, edits, editc));
	assert_int_equal(0, mb->pos);
	assert_int_equal(0, mbuf_strdup(mb, &text, mb->end));
	mem_deref(mb);
	return text;
}


/* Max-Forwards one less; the other headers as they were, in order. */
static void test_request_max_forwards_decremented(void **state)
{
	struct sip_msg *msg;
	char *text;
	(void)state;

	msg = px_decode("OPTIONS sip:bob@example.com SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa\r\n"
			"f: <sip:alice@example.com>;tag=1\r\n"
			"To: <sip:bob@example.com>\r\n"
			"Max-Forwards: 12\r\n"
			"Call-ID: c\r\nCSeq: 1 OPTIONS\r\n"
			"Content-Length: 0\r\n\r\n");
	text = request_body(msg, 0, false);
	assert_string_equal(
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa\r\n"
		"f: <sip:alice@example.com>;tag=1\r\n"
		"To: <sip:bob@example.com>\r\n"
		"Max-Forwards: 11\r\n"
		"Call-ID: c\r\nCSeq: 1 OPTIONS\r\n"
		"Content-Length: 0\r\n\r\n", text);
	mem_deref(text);
	mem_deref(msg);
}


/* §16.6 step 3: a request without Max-Forwards gets 70. */
static void test_request_max_forwards_added_when_absent(void **state)
{
	struct sip_msg *msg = px_request("OPTIONS", "sip:bob@example.com",
					 NULL);
	char *text = request_body(msg, 0, false);
	(void)state;

	assert_string_equal(
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKpx1\r\n"
		"From: <sip:alice@example.com>;tag=fa\r\n"
		"To: <sip:bob@example.com>\r\n"
		"Call-ID: px-call\r\nCSeq: 1 OPTIONS\r\n"
		"Content-Length: 0\r\n"
		"Max-Forwards: 70\r\n\r\n", text);
	mem_deref(text);
	mem_deref(msg);
}


/* §18.2.1: received when the source differs from the sent-by; RFC 3581:
 * rport filled in (and received then always).  A stale received or rport
 * value from the sender is replaced, other parameters and the Vias below
 * are kept. */
static void test_request_top_via_received_and_rport(void **state)
{
	struct sip_msg *msg;
	char *text;
	(void)state;

	/* sent-by is the source: nothing to add */
	msg = px_decode_from("192.0.2.10:5062",
			     "MESSAGE sip:bob@example.com SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa\r\n"
			     "Max-Forwards: 70\r\n\r\n");
	text = request_body(msg, 0, false);
	assert_string_equal(
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa\r\n"
		"Max-Forwards: 69\r\nContent-Length: 0\r\n\r\n", text);
	mem_deref(text);
	mem_deref(msg);

	/* behind a NAT, without rport */
	msg = px_decode_from("203.0.113.9:40000",
			     "MESSAGE sip:bob@example.com SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bKb;x=1\r\n"
			     "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKc\r\n"
			     "Max-Forwards: 70\r\n\r\n");
	text = request_body(msg, 0, false);
	assert_string_equal(
		"Via: SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bKb;x=1"
		";received=203.0.113.9\r\n"
		"Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKc\r\n"
		"Max-Forwards: 69\r\nContent-Length: 0\r\n\r\n", text);
	mem_deref(text);
	mem_deref(msg);

	/* with rport, and a received that claims something else */
	msg = px_decode_from("203.0.113.9:40000",
			     "MESSAGE sip:bob@example.com SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP 10.0.0.2:5062;rport;branch=z9hG4bKd"
			     ";received=198.51.100.66\r\n"
			     "Max-Forwards: 70\r\n\r\n");
	text = request_body(msg, 0, false);
	assert_string_equal(
		"Via: SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bKd"
		";rport=40000;received=203.0.113.9\r\n"
		"Max-Forwards: 69\r\nContent-Length: 0\r\n\r\n", text);
	mem_deref(text);
	mem_deref(msg);
}


/* §16.4: the leading Route values naming us go, and with the
 * strict-router fix the last one too; the others stay, one per line. */
static void test_request_route_values_dropped(void **state)
{
	const char *hdrs =
		"Route: <sip:192.0.2.1;lr;ls=a>, <sip:192.0.2.1:5061;lr>\r\n"
		"Route: <sip:p1.example.net;lr>, <sip:carol@198.51.100.7>\r\n";
	struct sip_msg *msg = px_request("BYE", "sip:192.0.2.1", hdrs);
	char *text;
	(void)state;

	text = request_body(msg, 2, true);
	assert_non_null(strstr(text, "Route: <sip:p1.example.net;lr>\r\n"));
	assert_null(strstr(text, "ls=a"));
	assert_null(strstr(text, "<sip:192.0.2.1"));
	assert_null(strstr(text, "carol"));
	mem_deref(text);

	text = request_body(msg, 1, false);
	assert_null(strstr(text, "ls=a"));
	assert_non_null(strstr(text,
			       "Route: <sip:192.0.2.1:5061;lr>\r\n"
			       "Route: <sip:p1.example.net;lr>\r\n"
			       "Route: <sip:carol@198.51.100.7>\r\n"));
	mem_deref(text);

	text = request_body(msg, 0, false);
	assert_non_null(strstr(text, "Route: <sip:192.0.2.1;lr;ls=a>\r\n"));
	mem_deref(text);
	mem_deref(msg);
}


/* §18.3: the body as long as Content-Length says, and a Content-Length
 * when the request had none. */
static void test_request_body_by_content_length(void **state)
{
	struct sip_msg *msg;
	char *text;
	(void)state;

	msg = px_decode("MESSAGE sip:bob@example.com SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa\r\n"
			"Max-Forwards: 5\r\n"
			"Content-Length: 5\r\n\r\n"
			"helloTRAILING GARBAGE");
	text = request_body(msg, 0, false);
	assert_string_equal(
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa\r\n"
		"Max-Forwards: 4\r\n"
		"Content-Length: 5\r\n\r\nhello", text);
	mem_deref(text);
	mem_deref(msg);

	msg = px_decode("MESSAGE sip:bob@example.com SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa\r\n"
			"Max-Forwards: 5\r\n\r\n"
			"hi there");
	text = request_body(msg, 0, false);
	assert_string_equal(
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa\r\n"
		"Max-Forwards: 4\r\n"
		"Content-Length: 8\r\n\r\nhi there", text);
	mem_deref(text);
	mem_deref(msg);
}


#define RESP_TAIL \
	"From: <sip:alice@example.com>;tag=fa\r\n" \
	"To: <sip:bob@example.com>;tag=tb\r\n" \
	"Call-ID: c\r\nCSeq: 1 INVITE\r\n"


/* §16.7 step 3: our Via goes, the rest is byte for byte. */
static void test_response_loses_only_our_via(void **state)
{
	struct sip_msg *resp;
	char *text;
	(void)state;

	resp = px_decode("SIP/2.0 180 Ringing\r\n"
			 "Via: SIP/2.0/UDP " PX_US ";branch=z9hG4bKours\r\n"
			 "v: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa\r\n"
			 RESP_TAIL "Content-Length: 0\r\n\r\n");
	text = response_text(resp, NULL, NULL, 0);
	assert_string_equal("SIP/2.0 180 Ringing\r\n"
			    "v: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa\r\n"
			    RESP_TAIL "Content-Length: 0\r\n\r\n", text);
	mem_deref(text);
	mem_deref(resp);

	/* ours is the first value of a line that has more */
	resp = px_decode("SIP/2.0 200 OK\r\n"
			 "Via: SIP/2.0/UDP " PX_US ";branch=z9hG4bKours ,  "
			 "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa\r\n"
			 RESP_TAIL "Content-Length: 0\r\n\r\n");
	text = response_text(resp, NULL, NULL, 0);
	assert_string_equal("SIP/2.0 200 OK\r\n"
			    "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa\r\n"
			    RESP_TAIL "Content-Length: 0\r\n\r\n", text);
	mem_deref(text);
	mem_deref(resp);
}


/* A response with only our Via was meant for us: not forwarded. */
static void test_response_without_next_via_refused(void **state)
{
	struct sip_msg *resp = px_decode("SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP " PX_US ";branch=z9hG4bKours\r\n"
		RESP_TAIL "Content-Length: 0\r\n\r\n");
	struct mbuf *mb = NULL;
	(void)state;

	assert_int_equal(EBADMSG, fwd_response(&mb, resp, NULL, NULL, 0));
	assert_null(mb);
	mem_deref(resp);
}


/* Edits replace their spans in any order given; extra lines go before
 * the blank line; the body follows as long as Content-Length says. */
static void test_response_edits_and_extra_applied(void **state)
{
	struct sip_msg *resp = px_decode("SIP/2.0 401 Unauthorized\r\n"
		"Via: SIP/2.0/UDP " PX_US ";branch=z9hG4bKours\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa\r\n"
		"Record-Route: <sip:" PX_US ";lr;ls=UPSTAMP>\r\n"
		RESP_TAIL "Content-Length: 4\r\n\r\nbodyEXTRA BYTES");
	const char *rr = strstr((const char *)resp->mb->buf, "UPSTAMP");
	const char *tag = strstr((const char *)resp->mb->buf, "tag=tb");
	struct fwd_edit edits[2] = {
		{{tag + 4, 2}, "tb-long-tag"},
		{{rr, 7}, "DOWN"},
	};
	char *text;
	(void)state;

	text = response_text(resp, "WWW-Authenticate: Digest realm=\"x\"\r\n",
			     edits, 2);
	assert_string_equal("SIP/2.0 401 Unauthorized\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa\r\n"
		"Record-Route: <sip:" PX_US ";lr;ls=DOWN>\r\n"
		"From: <sip:alice@example.com>;tag=fa\r\n"
		"To: <sip:bob@example.com>;tag=tb-long-tag\r\n"
		"Call-ID: c\r\nCSeq: 1 INVITE\r\n"
		"Content-Length: 4\r\n"
		"WWW-Authenticate: Digest realm=\"x\"\r\n"
		"\r\nbody", text);
	mem_deref(text);
	mem_deref(resp);
}


static void test_response_bad_edits_refused(void **state)
{
	struct sip_msg *resp = px_decode("SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP " PX_US ";branch=z9hG4bKours\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa\r\n"
		RESP_TAIL "Content-Length: 0\r\n\r\n");
	const char *to = strstr((const char *)resp->mb->buf, "To:");
	const char *ours = strstr((const char *)resp->mb->buf, "z9hG4bKours");
	struct fwd_edit overlap[2] = {{{to, 10}, "a"}, {{to + 5, 10}, "b"}};
	struct fwd_edit in_our_via[1] = {{{ours, 4}, "x"}};
	struct fwd_edit many[9];
	struct mbuf *mb = NULL;
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = (struct fwd_edit){{to + i, 1}, "y"};
	assert_int_equal(EINVAL, fwd_response(&mb, resp, NULL, overlap, 2));
	assert_int_equal(EINVAL, fwd_response(&mb, resp, NULL, in_our_via, 1));
	assert_int_equal(EINVAL, fwd_response(&mb, resp, NULL, many,
					      ARRAY_SIZE(many)));
	assert_null(mb);
	mem_deref(resp);
}


static int next_via(struct sa *dst, enum sip_transp *tp, const char *via2)
{
	struct sip_msg *resp = px_decode("SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP " PX_US ";branch=z9hG4bKours\r\n"
		"%s%s%s" RESP_TAIL "Content-Length: 0\r\n\r\n",
		via2 ? "Via: " : "", via2 ? via2 : "", via2 ? "\r\n" : "");
	int err = fwd_next_via_addr(dst, tp, resp);

	mem_deref(resp);
	return err;
}


/* §18.2.2, RFC 3581 §4: received and rport win over the sent-by; the
 * transport's default port otherwise. */
static void test_next_via_address(void **state)
{
	enum sip_transp tp = SIP_TRANSP_NONE;
	struct sa dst, want;
	(void)state;

	assert_int_equal(0, next_via(&dst, &tp, "SIP/2.0/UDP 10.0.0.2:5062"
				     ";branch=z9hG4bKa;received=203.0.113.9"
				     ";rport=40000"));
	assert_int_equal(0, sa_set_str(&want, "203.0.113.9", 40000));
	assert_true(sa_cmp(&dst, &want, SA_ALL));
	assert_int_equal(SIP_TRANSP_UDP, tp);

	assert_int_equal(0, next_via(&dst, &tp, "SIP/2.0/UDP 10.0.0.2:5062"
				     ";branch=z9hG4bKa;received=203.0.113.9"));
	assert_int_equal(0, sa_set_str(&want, "203.0.113.9", 5062));
	assert_true(sa_cmp(&dst, &want, SA_ALL));

	/* a ";received=" inside a quoted value is not the parameter our
	 * Via rewrite appended: the response goes where that one says */
	assert_int_equal(0, next_via(&dst, &tp, "SIP/2.0/UDP 10.0.0.2:5062"
				     ";branch=z9hG4bKa;x=\";received="
				     "198.51.100.7;rport=9\";received="
				     "203.0.113.9;rport=40000"));
	assert_int_equal(0, sa_set_str(&want, "203.0.113.9", 40000));
	assert_true(sa_cmp(&dst, &want, SA_ALL));

	assert_int_equal(0, next_via(&dst, &tp, "SIP/2.0/TCP 192.0.2.10"
				     ";branch=z9hG4bKa"));
	assert_int_equal(0, sa_set_str(&want, "192.0.2.10", 5060));
	assert_true(sa_cmp(&dst, &want, SA_ALL));
	assert_int_equal(SIP_TRANSP_TCP, tp);

	assert_int_equal(0, next_via(&dst, &tp, "SIP/2.0/TLS 192.0.2.10"
				     ";branch=z9hG4bKa"));
	assert_int_equal(5061, sa_port(&dst));
	assert_int_equal(SIP_TRANSP_TLS, tp);
}


/* RFC 4475 §3.1.4.10: no broadcast, multicast or unspecified address;
 * without a second Via there is nowhere to go. */
static void test_next_via_refuses_non_unicast(void **state)
{
	enum sip_transp tp;
	struct sa dst;
	(void)state;

	assert_int_equal(EBADMSG, next_via(&dst, &tp, "SIP/2.0/UDP "
					   "255.255.255.255;branch=z9hG4bKa"));
	assert_int_equal(EBADMSG, next_via(&dst, &tp, "SIP/2.0/UDP "
					   "224.0.1.75;branch=z9hG4bKa"));
	assert_int_equal(EBADMSG, next_via(&dst, &tp, "SIP/2.0/UDP "
					   "10.0.0.2;branch=z9hG4bKa"
					   ";received=0.0.0.0"));
	assert_int_equal(EBADMSG, next_via(&dst, &tp, "SIP/2.0/UDP "
					   "[ff02::1];branch=z9hG4bKa"));
	assert_int_equal(ENOENT, next_via(&dst, &tp, NULL));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_max_forwards_decremented),
		cmocka_unit_test(test_request_max_forwards_added_when_absent),
		cmocka_unit_test(test_request_top_via_received_and_rport),
		cmocka_unit_test(test_request_route_values_dropped),
		cmocka_unit_test(test_request_body_by_content_length),
		cmocka_unit_test(test_response_loses_only_our_via),
		cmocka_unit_test(test_response_without_next_via_refused),
		cmocka_unit_test(test_response_edits_and_extra_applied),
		cmocka_unit_test(test_response_bad_edits_refused),
		cmocka_unit_test(test_next_via_address),
		cmocka_unit_test(test_next_via_refuses_non_unicast),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

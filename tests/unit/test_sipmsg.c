/* Unit tests for sip/sipmsg.c and sipmsg_check.c: reading a Via's
 * transport where libre 1.1.0 cannot (WS and WSS decode as
 * SIP_TRANSP_NONE), and the checks every request passes, on messages
 * decoded as locus decodes them (compat/sip_decode.c is linked in and
 * takes the place of libre's decoders, as in the daemon). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <re.h>

#include "sip/sipmsg.h"
#include "compat/sip_decode.h"


static void via_is(const char *value, enum sip_transp expect)
{
	struct sip_via via;
	struct pl pl;

	pl_set_str(&pl, value);
	assert_int_equal(0, sip_via_decode(&via, &pl));
	if (sipmsg_via_transport(&via) != expect)
		fail_msg("'%s': transport %d, expected %d", value,
			 sipmsg_via_transport(&via), expect);
}


static void test_via_transport(void **state)
{
	(void)state;

	/* what libre decodes itself is passed through */
	via_is("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1", SIP_TRANSP_UDP);
	via_is("SIP/2.0/TLS 192.0.2.1;branch=z9hG4bK1", SIP_TRANSP_TLS);
	/* a browser's Via (JsSIP 3.13, RFC 7118 §5) */
	via_is("SIP/2.0/WS 3c96v0qj3qbm.invalid;branch=z9hG4bK9135702"
	       ";received=127.0.0.1", SIP_TRANSP_WS);
	via_is("SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK1",
	       SIP_TRANSP_WSS);
	/* RFC 3261 §25.1 allows LWS around the slashes */
	via_is("SIP / 2.0 / WSS host.invalid;branch=z9hG4bK1",
	       SIP_TRANSP_WSS);
	/* a transport libre cannot send over stays NONE */
	via_is("SIP/2.0/SCTP 192.0.2.1;branch=z9hG4bK1", SIP_TRANSP_NONE);
	via_is("SIP/2.0/WSX 192.0.2.1;branch=z9hG4bK1", SIP_TRANSP_NONE);
}


/* The Supported header and the tags a Require is checked against are
 * one list. */
static void test_supported(void **state)
{
	char joined[128];
	size_t n = 0;

	(void)state;

	for (size_t i = 0; sipmsg_supported[i]; i++)
		n += (size_t)re_snprintf(joined + n, sizeof(joined) - n, "%s%s",
					 i ? ", " : "", sipmsg_supported[i]);
	assert_string_equal(SIPMSG_SUPPORTED, joined);
}


/* ---- requests as locus decodes them ------------------------------------ */

static struct mbuf *mb_last;

/* TEXT decoded by sip_msg_decode() (ours, then libre's); NULL if it
 * fails.  LEN 0: strlen(TEXT). */
static struct sip_msg *decode_len(const char *text, size_t len)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(len ? len : strlen(text));

	assert_non_null(mb);
	assert_int_equal(0, mbuf_write_mem(mb, (const uint8_t *)text,
					   len ? len : strlen(text)));
	mb->pos = 0;
	if (sip_msg_decode(&msg, mb))
		msg = NULL;
	mem_deref(mb_last);
	mb_last = mb;
	return msg;
}


static struct sip_msg *decode(const char *text)
{
	return decode_len(text, 0);
}


#define HEAD(rline, via) rline "\r\n" \
	"Via: SIP/2.0/UDP 192.0.2.1:5060" via "\r\n" \
	"Max-Forwards: 70\r\n"
#define ADDRS \
	"From: <sip:alice@example.com>;tag=a1\r\n" \
	"To: <sip:bob@example.com>\r\n" \
	"Call-ID: c1@192.0.2.1\r\n"
#define BRANCH ";branch=z9hG4bKabc"
#define OPTIONS_RL "OPTIONS sip:bob@example.com SIP/2.0"
#define TAIL_OPTIONS "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
#define VALID HEAD(OPTIONS_RL, BRANCH) ADDRS TAIL_OPTIONS


/* TEXT decodes, and its problem is REASON with SCODE (NULL: none). */
static void problem_len(const char *text, size_t len, uint16_t scode,
			const char *reason)
{
	struct sip_msg *msg = decode_len(text, len);
	const char *got;
	uint16_t code = 0;

	if (!msg)
		fail_msg("does not decode:\n%s", text);
	got = sipmsg_request_problem(msg, &code);
	if (!reason && got)
		fail_msg("unexpected problem '%s' in:\n%s", got, text);
	if (reason && (!got || strcmp(got, reason) || code != scode))
		fail_msg("expected %u '%s', got %u '%s' in:\n%s", scode,
			 reason, code, got ? got : "(none)", text);
	mem_deref(msg);
}


static void problem_is(const char *text, uint16_t scode, const char *reason)
{
	problem_len(text, 0, scode, reason);
}


static void test_valid(void **state)
{
	(void)state;

	problem_is(VALID, 0, NULL);
	/* RFC 4475 §3.1.1.6: no LWS between display name and "<" */
	problem_is(HEAD(OPTIONS_RL, BRANCH)
		   "From: caller<sip:alice@example.com>;tag=a1\r\n"
		   "To: \"Bob \\\"B\\\"\" <sip:bob@example.com>\r\n"
		   "Call-ID: c1\r\n" TAIL_OPTIONS, 0, NULL);
	/* an addr-spec with LWS before its parameters; tel: in From */
	problem_is(HEAD(OPTIONS_RL, BRANCH)
		   "From: <tel:+15551234567>;tag=a1\r\n"
		   "To: sip:bob@example.com ;  tag = x\r\n"
		   "Call-ID: c1\r\n" TAIL_OPTIONS, 0, NULL);
	assert_int_equal(0, compat_decode_check(NULL, 0));
}


/* Item: a NUL byte anywhere in a header is refused (it used to be stored
 * cut at the NUL). */
static void test_nul(void **state)
{
	static const char ua[] = HEAD(OPTIONS_RL, BRANCH) ADDRS
		"User-Agent: soft\0phone\r\n" TAIL_OPTIONS;
	static const char cid[] = HEAD(OPTIONS_RL, BRANCH)
		"From: <sip:alice@example.com>;tag=a1\r\n"
		"To: <sip:bob@example.com>\r\n"
		"Call-ID: c1\0c2\r\n" TAIL_OPTIONS;
	(void)state;

	problem_len(ua, sizeof(ua) - 1, 400, "NUL Byte in Header");
	problem_len(cid, sizeof(cid) - 1, 400, "NUL Byte in Header");
}


static void test_repeated(void **state)
{
	(void)state;

	problem_is(HEAD(OPTIONS_RL, BRANCH) ADDRS "Call-ID: c2\r\n"
		   TAIL_OPTIONS, 400, "Multiple Call-ID Headers");
	problem_is(HEAD(OPTIONS_RL, BRANCH) ADDRS "CSeq: 2 OPTIONS\r\n"
		   TAIL_OPTIONS, 400, "Multiple CSeq Headers");
	problem_is(HEAD(OPTIONS_RL, BRANCH) ADDRS
		   "t: <sip:carol@example.com>\r\n" TAIL_OPTIONS, 400,
		   "Multiple To Headers");
	problem_is(HEAD(OPTIONS_RL, BRANCH) ADDRS
		   "From: <sip:eve@example.com>;tag=e\r\n" TAIL_OPTIONS, 400,
		   "Multiple From Headers");
	problem_is(HEAD(OPTIONS_RL, BRANCH) ADDRS "Max-Forwards: 5\r\n"
		   TAIL_OPTIONS, 400, "Multiple Max-Forwards Headers");
}


/* RFC 3261 §18.3, §20.14: the framing a proxy passes on. */
static void test_content_length(void **state)
{
	struct sip_msg *msg;
	(void)state;

	problem_is(HEAD(OPTIONS_RL, BRANCH) ADDRS "CSeq: 1 OPTIONS\r\n"
		   "Content-Length: 13\r\nl: 5\r\n\r\nHello, world!",
		   400, "Multiple Content-Length Headers");
	problem_is(HEAD(OPTIONS_RL, BRANCH) ADDRS "CSeq: 1 OPTIONS\r\n"
		   "Content-Length: -5\r\n\r\nHello", 400,
		   "Malformed Content-Length");
	problem_is(HEAD(OPTIONS_RL, BRANCH) ADDRS "CSeq: 1 OPTIONS\r\n"
		   "Content-Length: five\r\n\r\nHello", 400,
		   "Malformed Content-Length");
	problem_is(HEAD(OPTIONS_RL, BRANCH) ADDRS "CSeq: 1 OPTIONS\r\n"
		   "Content-Length: 9999\r\n\r\nHello", 400,
		   "Content-Length Larger Than Body");

	/* more octets than the Content-Length in a datagram: ignored */
	msg = decode(HEAD(OPTIONS_RL, BRANCH) ADDRS "CSeq: 1 OPTIONS\r\n"
		     "Content-Length: 5\r\n\r\nHelloINVITE sip:x SIP/2.0\r\n");
	assert_non_null(msg);
	assert_int_equal(5, sipmsg_body_len(msg));
	mem_deref(msg);
}


/* RFC 3261 §7.1: Method SP Request-URI SP SIP-Version CRLF; libre took
 * any other line for a broken status line and dropped it. */
static void test_request_line(void **state)
{
	(void)state;

	problem_is(HEAD("OPTIONS  sip:bob@example.com  SIP/2.0", BRANCH)
		   ADDRS TAIL_OPTIONS, 400, "Malformed Request-Line");
	problem_is(HEAD("OPTIONS sip:bob@example.com SIP/2.0 ", BRANCH)
		   ADDRS TAIL_OPTIONS, 400, "Malformed Request-Line");
	problem_is(HEAD("OPTIONS sip:bob@example.com; lr SIP/2.0", BRANCH)
		   ADDRS TAIL_OPTIONS, 400, "Malformed Request-Line");
	problem_is(HEAD("OPTIONS sip:bob@example.com SIP/7.0", BRANCH)
		   ADDRS TAIL_OPTIONS, 505, "Version Not Supported");
	problem_is(HEAD("OPTIONS <sip:bob@example.com> SIP/2.0", BRANCH)
		   ADDRS TAIL_OPTIONS, 400, "Malformed Request-URI");
	/* RFC 4475 §3.1.2.16: the Via says SIP/7.0 too, and the 505 must
	 * still find its way back */
	{
		struct sip_msg *msg = decode(
			"OPTIONS sip:bob@example.com SIP/7.0\r\n"
			"Via: SIP/7.0/UDP 192.0.2.1:5062;branch=z9hG4bKv\r\n"
			ADDRS TAIL_OPTIONS);
		uint16_t code;

		assert_non_null(msg);
		assert_int_equal(5062, sa_port(&msg->via.addr));
		assert_string_equal("Version Not Supported",
				    sipmsg_request_problem(msg, &code));
		assert_int_equal(505, code);
		mem_deref(msg);
	}
}


static void test_addresses(void **state)
{
	(void)state;

	/* RFC 4475 §3.1.2.6, §3.1.2.14, §3.1.2.15, §3.1.4.4 */
	problem_is(HEAD(OPTIONS_RL, BRANCH)
		   "From: <sip:alice@example.com>;tag=a1\r\n"
		   "To: \"Mr. B <sip:bob@example.com>\r\n"
		   "Call-ID: c1\r\n" TAIL_OPTIONS, 400,
		   "Unterminated Quote in To");
	problem_is(HEAD(OPTIONS_RL, BRANCH)
		   "From: <sip:alice@example.com>;tag=a1\r\n"
		   "To: \"B\" < sip:bob@example.com >\r\n"
		   "Call-ID: c1\r\n" TAIL_OPTIONS, 400, "Malformed To URI");
	problem_is(HEAD(OPTIONS_RL, BRANCH)
		   "From: Liddell, Alice <sip:alice@example.com>;tag=a1\r\n"
		   "To: <sip:bob@example.com>\r\n"
		   "Call-ID: c1\r\n" TAIL_OPTIONS, 400,
		   "Malformed Display Name in From");
	problem_is(HEAD(OPTIONS_RL, BRANCH)
		   "From: <sip:alice@example.com>;tag=a1\r\n"
		   "To: isbn:2983792873\r\n"
		   "Call-ID: c1\r\n" TAIL_OPTIONS, 400,
		   "Unsupported URI Scheme in To");
	/* but an unknown Request-URI scheme gets its 416 from the proxy */
	problem_is("OPTIONS mailto:bob@example.com SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP 192.0.2.1:5060" BRANCH "\r\n"
		   "From: <sip:alice@example.com>;tag=a1\r\n"
		   "To: <mailto:bob@example.com>\r\n"
		   "Call-ID: c1\r\n" TAIL_OPTIONS, 0, NULL);
	/* a URI libre's parser refuses: the message is kept, and refused */
	problem_is(HEAD(OPTIONS_RL, BRANCH)
		   "From: <http://www.example.com>;tag=a1\r\n"
		   "To: <sip:bob@example.com>\r\n"
		   "Call-ID: c1\r\n" TAIL_OPTIONS, 400,
		   "Unsupported URI Scheme in From");
	/* RFC 3261 §20.10: a URI with headers must be in <> */
	problem_is(HEAD(OPTIONS_RL, BRANCH) ADDRS
		   "Contact: sip:bob@example.com?Route=%3Csip:x%3E\r\n"
		   TAIL_OPTIONS, 400,
		   "Malformed Contact: URI with Headers Not in <>");
	problem_is(HEAD(OPTIONS_RL, BRANCH) ADDRS
		   "Contact: \"a?\" <sip:bob@example.com?Route=%3Csip:x%3E>\r\n"
		   TAIL_OPTIONS, 0, NULL);
}


static void test_fields(void **state)
{
	(void)state;

	/* RFC 4475 §3.1.2.1: empty Via values between commas */
	problem_is(HEAD(OPTIONS_RL, BRANCH ";;,;,,") ADDRS TAIL_OPTIONS,
		   400, "Malformed Via");
	/* libre's parser refused these: the message was dropped */
	problem_is(HEAD(OPTIONS_RL, BRANCH) ADDRS "CSeq: one OPTIONS\r\n"
		   "Content-Length: 0\r\n\r\n", 400, "Missing or Malformed CSeq");
	problem_is(HEAD(OPTIONS_RL, BRANCH) ADDRS "Content-Type: sdp\r\n"
		   TAIL_OPTIONS, 400, "Malformed Content-Type");
}


/* RFC 3261 §8.2.2.2, §17.2.3: a request without an RFC 3261 branch is
 * an RFC 2543 client's: accepted, and matched by what identifies it. */
static void test_rfc2543(void **state)
{
#define REQ2543(method, cid, to_tag) \
	"INVITE sip:bob@example.com SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 192.0.2.1:5060\r\n" \
	"From: <sip:alice@example.com>\r\n" \
	"To: <sip:bob@example.com>" to_tag "\r\n" \
	"Call-ID: " cid "\r\n" \
	"CSeq: 56 " method "\r\n\r\n"
	struct sip_msg *inv, *again, *ack, *other, *weak;
	(void)state;

	problem_is(REQ2543("INVITE", "c1", ""), 0, NULL);
	inv = decode(REQ2543("INVITE", "c1", ""));
	again = decode(REQ2543("INVITE", "c1", ""));
	ack = decode(REQ2543("ACK", "c1", ";tag=t9"));
	other = decode(REQ2543("INVITE", "c2", ""));
	weak = decode("OPTIONS sip:bob@example.com SIP/2.0\r\n"
		      "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK\r\n"
		      ADDRS TAIL_OPTIONS);
	assert_non_null(inv);
	assert_non_null(again);
	assert_non_null(ack);
	assert_non_null(other);
	assert_non_null(weak);
	assert_true(inv->via.branch.l > 0);
	assert_int_equal(0, pl_cmp(&inv->via.branch, &again->via.branch));
	assert_int_equal(0, pl_cmp(&inv->via.branch, &ack->via.branch));
	assert_int_not_equal(0, pl_cmp(&inv->via.branch, &other->via.branch));
	/* RFC 4475 §3.1.3.1: the magic cookie alone identifies nothing */
	assert_int_not_equal(0, pl_strcmp(&weak->via.branch, "z9hG4bK"));
	mem_deref(inv);
	mem_deref(again);
	mem_deref(ack);
	mem_deref(other);
	mem_deref(weak);
#undef REQ2543
}


/* RFC 4475 §3.1.2.5, §3.1.2.19: responses with values out of range are
 * discarded; libre read 4294967301 as 5. */
static void test_responses(void **state)
{
#define RESP(status, cseq) "SIP/2.0 " status "\r\n" \
	"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKr\r\n" ADDRS \
	"CSeq: " cseq " OPTIONS\r\nContent-Length: 0\r\n\r\n"
	struct sip_msg *msg;
	(void)state;

	msg = decode(RESP("200 OK", "1"));
	assert_non_null(msg);
	mem_deref(msg);
	msg = decode(RESP("100 ", "1"));
	assert_non_null(msg);
	mem_deref(msg);
	assert_null(decode(RESP("4294967301 better not break", "1")));
	assert_null(decode(RESP("700 Too Big", "1")));
	assert_null(decode(RESP("503 Service Unavailable",
				"9292394834772304023312")));
	assert_null(decode(RESP("200 OK", "2147483648")));
#undef RESP
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_via_transport),
		cmocka_unit_test(test_supported),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_repeated),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_request_line),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_rfc2543),
		cmocka_unit_test(test_responses),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	mem_deref(mb_last);
	return failed;
}

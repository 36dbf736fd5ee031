/* Unit tests for ua/sdp.c: the answer locus writes when no media may
 * flow (parked calls, a caller waiting for her callee): every stream the
 * offer accepts answered with its first format, inactive, on the discard
 * port and the hold address; rejected streams stay rejected. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "ua/sdp.h"

static char *answer_of(const char *offer, uint32_t version)
{
	struct mbuf *mb = NULL;
	struct pl pl;
	char *s = NULL;

	pl_set_str(&pl, offer);
	assert_int_equal(0, sdp_inactive_answer(&mb, &pl, version));
	assert_int_equal(0, mbuf_strdup(mb, &s, mbuf_get_left(mb)));
	mem_deref(mb);
	return s;
}

static void test_audio_and_video(void **state)
{
	char *a = answer_of("v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
			    "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
			    "m=audio 4000 RTP/AVP 8 0 101\r\n"
			    "a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
			    "a=rtpmap:101 telephone-event/8000\r\n"
			    "a=fmtp:101 0-15\r\na=sendrecv\r\n"
			    "m=video 0 RTP/AVP 96\r\n"
			    "m=video 5000 RTP/AVP 96 97\r\n"
			    "a=rtpmap:96 H264/90000\r\n"
			    "a=fmtp:96 profile-level-id=42e01f\r\n"
			    "a=rtpmap:97 VP8/90000\r\n", 7);

	(void)state;
	assert_string_equal(a,
		"v=0\r\no=locus 7 7 IN IP4 0.0.0.0\r\ns=-\r\n"
		"c=IN IP4 0.0.0.0\r\nt=0 0\r\n"
		"m=audio 9 RTP/AVP 8\r\na=inactive\r\n"
		"a=rtpmap:8 PCMA/8000\r\n"
		"m=video 0 RTP/AVP 96\r\n"
		"m=video 9 RTP/AVP 96\r\na=inactive\r\n"
		"a=rtpmap:96 H264/90000\r\n"
		"a=fmtp:96 profile-level-id=42e01f\r\n");
	mem_deref(a);
}

/* An offer in IPv6, and one written with bare LF line ends. */
static void test_ipv6_and_lf(void **state)
{
	char *a = answer_of("v=0\no=- 2 2 IN IP6 2001:db8::1\ns=-\n"
			    "c=IN IP6 2001:db8::1\nt=0 0\n"
			    "m=audio 4000 RTP/SAVP 0\n", 2);

	(void)state;
	assert_string_equal(a,
		"v=0\r\no=locus 2 2 IN IP6 ::\r\ns=-\r\nc=IN IP6 ::\r\n"
		"t=0 0\r\nm=audio 9 RTP/SAVP 0\r\na=inactive\r\n");
	mem_deref(a);
}

static void test_no_media_is_no_offer(void **state)
{
	struct mbuf *mb = NULL;
	struct pl pl = PL("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n");

	(void)state;
	assert_int_equal(EBADMSG, sdp_inactive_answer(&mb, &pl, 1));
	assert_null(mb);
	pl_set_str(&pl, "m=audio x RTP/AVP 0\r\n");
	assert_int_equal(EBADMSG, sdp_inactive_answer(&mb, &pl, 1));
	assert_null(mb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audio_and_video),
		cmocka_unit_test(test_ipv6_and_lf),
		cmocka_unit_test(test_no_media_is_no_offer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

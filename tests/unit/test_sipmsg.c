/* Unit tests for common/sipmsg.c: reading a Via's transport where libre
 * 1.1.0 cannot (WS and WSS decode as SIP_TRANSP_NONE). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <re.h>

#include "common/sipmsg.h"


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


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_via_transport),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

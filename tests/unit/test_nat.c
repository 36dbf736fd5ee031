/* Unit tests for registrar/nat.c: is the device that a REGISTER binds
 * behind a NAT (reached at the REGISTER's source) or not (at its
 * Contact)?  Each case is a REGISTER as received: its top Via, the
 * transport and source it came over, and a Contact. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <re.h>
#include "config/config.h"
#include "registrar/nat.h"
#include "unit_support.h"


/* reg_nat_detect() under POLICY for a REGISTER with top Via VIA (its
 * value), received over TP from SRC ("ip:port"), and Contact CONTACT. */
static bool nated(enum nat_policy policy, const char *via, enum sip_transp tp,
		  const char *src, const char *contact)
{
	char *text = NULL;
	struct sip_msg *msg;
	struct uri uri;
	struct pl pl;
	bool nat;

	assert_int_equal(0, re_sdprintf(&text,
		"REGISTER sip:example.com SIP/2.0\r\n"
		"Via: %s\r\n"
		"To: <sip:alice@example.com>\r\n"
		"From: <sip:alice@example.com>;tag=1\r\n"
		"Call-ID: nat-test\r\n"
		"CSeq: 1 REGISTER\r\n"
		"Contact: <%s>\r\n"
		"Content-Length: 0\r\n\r\n", via, contact));
	msg = ut_msg_decode(text);
	mem_deref(text);
	assert_int_equal(0, sa_decode(&msg->src, src, strlen(src)));
	msg->tp = tp;
	pl_set_str(&pl, contact);
	assert_int_equal(0, uri_decode(&uri, &pl));
	nat = reg_nat_detect(policy, msg, &uri);
	mem_deref(msg);
	return nat;
}


#define UDP SIP_TRANSP_UDP
#define TCP SIP_TRANSP_TCP
#define TLS SIP_TRANSP_TLS
#define WS  SIP_TRANSP_WS


/* Where the device says it is, is where it is: not NATed, whatever its
 * Contact (another host: a third party registered it, RFC 3261 §10.2). */
static void test_direct_device_and_third_party(void **state)
{
	(void)state;
	assert_false(nated(NAT_AUTO, "SIP/2.0/UDP 198.51.100.7:5060;rport;"
			   "branch=z9hG4bK1", UDP, "198.51.100.7:5060",
			   "sip:alice@198.51.100.7:5060"));
	/* provisioning host A registers desk phone B */
	assert_false(nated(NAT_AUTO, "SIP/2.0/UDP 198.51.100.20:5060;"
			   "branch=z9hG4bK1", UDP, "198.51.100.20:5060",
			   "sip:desk@198.51.100.30:5070"));
	/* no rport: the port is not compared */
	assert_false(nated(NAT_AUTO, "SIP/2.0/UDP 198.51.100.7:5060;"
			   "branch=z9hG4bK1", UDP, "198.51.100.7:41000",
			   "sip:alice@198.51.100.7:5060"));
	/* a private network on both sides: no NAT in between */
	assert_false(nated(NAT_AUTO, "SIP/2.0/UDP 10.1.2.3:5060;rport;"
			   "branch=z9hG4bK1", UDP, "10.1.2.3:5060",
			   "sip:alice@10.1.2.3:5060"));
}


/* The source address differs from an IP sent-by: NATed.  A sent-by that
 * is a host name says nothing about the address. */
static void test_source_address_differs(void **state)
{
	(void)state;
	assert_true(nated(NAT_AUTO, "SIP/2.0/UDP 192.168.1.10:5060;rport;"
			  "branch=z9hG4bK1", UDP, "203.0.113.5:5060",
			  "sip:alice@192.168.1.10:5060"));
	assert_true(nated(NAT_AUTO, "SIP/2.0/TCP 198.51.100.9:5060;"
			  "branch=z9hG4bK1", TCP, "203.0.113.5:40000",
			  "sip:alice@198.51.100.9:5060;transport=tcp"));
	assert_true(nated(NAT_AUTO, "SIP/2.0/UDP [2001:db8::1]:5060;"
			  "branch=z9hG4bK1", UDP, "[2001:db8::2]:5060",
			  "sip:alice@[2001:db8::1]:5060"));
	assert_false(nated(NAT_AUTO, "SIP/2.0/UDP [2001:db8::1]:5060;"
			   "branch=z9hG4bK1", UDP, "[2001:db8::1]:5060",
			   "sip:alice@[2001:db8::1]:5060"));
	assert_false(nated(NAT_AUTO, "SIP/2.0/UDP phone.example.net:5060;"
			   "branch=z9hG4bK1", UDP, "203.0.113.5:5060",
			   "sip:alice@phone.example.net"));
}


/* RFC 3581: over UDP with rport, another source port than the sent-by's
 * (5060 when it names none) is a NAT's doing.  Over connections the
 * source port is ephemeral anyway (RFC 3261 §18): not compared. */
static void test_rport_port_differs_udp_only(void **state)
{
	(void)state;
	assert_true(nated(NAT_AUTO, "SIP/2.0/UDP 198.51.100.7:5060;rport;"
			  "branch=z9hG4bK1", UDP, "198.51.100.7:61000",
			  "sip:alice@198.51.100.7:5060"));
	assert_true(nated(NAT_AUTO, "SIP/2.0/UDP 198.51.100.7;rport;"
			  "branch=z9hG4bK1", UDP, "198.51.100.7:61000",
			  "sip:alice@198.51.100.7"));
	assert_false(nated(NAT_AUTO, "SIP/2.0/UDP 198.51.100.7;rport;"
			   "branch=z9hG4bK1", UDP, "198.51.100.7:5060",
			   "sip:alice@198.51.100.7"));
	assert_true(nated(NAT_AUTO, "SIP/2.0/UDP phone.example.net:5070;"
			  "rport;branch=z9hG4bK1", UDP, "203.0.113.5:5060",
			  "sip:alice@phone.example.net:5070"));
	assert_false(nated(NAT_AUTO, "SIP/2.0/TCP 198.51.100.7:5060;rport;"
			   "branch=z9hG4bK1", TCP, "198.51.100.7:49152",
			   "sip:alice@198.51.100.7:5060;transport=tcp"));
	assert_false(nated(NAT_AUTO, "SIP/2.0/TLS 198.51.100.7:5061;rport;"
			   "branch=z9hG4bK1", TLS, "198.51.100.7:49153",
			   "sip:alice@198.51.100.7:5061;transport=tls"));
}


/* A private or link-local Contact from a source that is neither: NATed,
 * over any transport.  Loopback and public addresses are not private. */
static void test_private_contact_public_source(void **state)
{
	static const char *const private[] = {
		"sip:a@10.0.0.1", "sip:a@172.16.5.5", "sip:a@172.31.255.1",
		"sip:a@192.168.0.9", "sip:a@100.64.0.1", "sip:a@100.127.1.1",
		"sip:a@169.254.3.3", "sip:a@[fc00::1]", "sip:a@[fd12::5]",
		"sip:a@[fe80::1]",
	};
	static const char *const public[] = {
		"sip:a@172.32.0.1", "sip:a@100.128.0.1", "sip:a@127.0.0.1",
		"sip:a@[2001:db8::5]", "sip:a@[fec0::1]", "sip:a@pbx.example.net",
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(private); i++) {
		if (!nated(NAT_AUTO, "SIP/2.0/TCP pc.example.net;"
			   "branch=z9hG4bK1", TCP, "203.0.113.5:40000",
			   private[i]))
			fail_msg("%s from a public source: not NATed",
				 private[i]);
		if (nated(NAT_AUTO, "SIP/2.0/TCP pc.example.net;"
			  "branch=z9hG4bK1", TCP, "192.168.7.7:40000",
			  private[i]))
			fail_msg("%s from a private source: NATed",
				 private[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(public); i++) {
		if (nated(NAT_AUTO, "SIP/2.0/TCP pc.example.net;"
			  "branch=z9hG4bK1", TCP, "203.0.113.5:40000",
			  public[i]))
			fail_msg("%s: NATed", public[i]);
	}
	assert_true(nated(NAT_AUTO, "SIP/2.0/WS df7jal23ls0d.invalid;"
			  "branch=z9hG4bK1", WS, "203.0.113.5:40000",
			  "sip:a@192.168.0.9;transport=ws"));
}


/* "always" is locus as it was: every device at its source; "never":
 * every device at its Contact. */
static void test_policies_always_and_never(void **state)
{
	(void)state;
	assert_true(nated(NAT_ALWAYS, "SIP/2.0/UDP 198.51.100.7:5060;"
			  "branch=z9hG4bK1", UDP, "198.51.100.7:5060",
			  "sip:alice@198.51.100.7:5060"));
	assert_false(nated(NAT_NEVER, "SIP/2.0/UDP 192.168.1.10:5060;rport;"
			   "branch=z9hG4bK1", UDP, "203.0.113.5:1024",
			   "sip:alice@192.168.1.10:5060"));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_direct_device_and_third_party),
		cmocka_unit_test(test_source_address_differs),
		cmocka_unit_test(test_rport_port_differs_udp_only),
		cmocka_unit_test(test_private_contact_public_source),
		cmocka_unit_test(test_policies_always_and_never),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for proxy/route.c: which URIs name this locus, route
 * pre-processing of RFC 3261 §16.4 (our Route values removed, the
 * strict-router fix, the dialog stamp kept), the next hop as dialog stamps
 * bind it, and the upstream hop of a dialog.  locus is example.com on
 * UDP 192.0.2.1:5060 and TCP 192.0.2.1:5061 (proxy_support.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "proxy/route.h"
#include "proxy_support.h"

static struct px_config pc;


static int setup(void **state)
{
	(void)state;
	px_config_init(&pc);
	return 0;
}


static bool is_us(const char *text)
{
	struct uri uri;
	struct pl pl;

	pl_set_str(&pl, text);
	assert_int_equal(0, uri_decode(&uri, &pl));
	return route_uri_is_us(&pc.cfg, &uri);
}


static bool is_our_socket(const char *text)
{
	struct uri uri;
	struct pl pl;

	pl_set_str(&pl, text);
	assert_int_equal(0, uri_decode(&uri, &pl));
	return route_uri_is_our_socket(&pc.cfg, &uri);
}


static const char *hop(char out[ROUTE_HOP_SIZE], const char *text)
{
	struct uri uri;
	struct pl pl;

	pl_set_str(&pl, text);
	assert_int_equal(0, uri_decode(&uri, &pl));
	route_hop_print(out, &uri);
	return out;
}


/* route_preprocess() of a request to RURI with the header lines HDRS. */
static struct sip_msg *preprocess(struct route_info *ri, const char *ruri,
				  const char *hdrs)
{
	struct sip_msg *msg = px_request("INVITE", ruri, hdrs);

	assert_int_equal(0, route_preprocess(ri, msg, &pc.cfg));
	return msg;
}


static void test_our_sockets_and_domains_are_us(void **state)
{
	(void)state;
	assert_true(is_us("sip:192.0.2.1:5060"));
	assert_true(is_us("sip:192.0.2.1"));             /* 5060 by default */
	assert_true(is_us("sip:192.0.2.1:5061;transport=tcp"));
	assert_false(is_us("sip:192.0.2.1:5070"));
	assert_true(is_us("sips:192.0.2.1"));            /* 5061 by default */
	assert_false(is_us("sips:192.0.2.1:5062"));
	assert_false(is_us("sip:192.0.2.2:5060"));

	/* a domain of ours: any case, a trailing dot, a port we listen on */
	assert_true(is_us("sip:example.com"));
	assert_true(is_us("sip:EXAMPLE.com.;lr"));
	assert_true(is_us("sip:example.com:5061"));
	assert_false(is_us("sip:example.com:5999"));
	assert_false(is_us("sip:example.net"));
	assert_false(is_us("sip:sub.example.com"));

	/* Record-Route names sockets only */
	assert_true(is_our_socket("sip:192.0.2.1:5060;lr"));
	assert_false(is_our_socket("sip:example.com;lr"));
	assert_false(is_our_socket("sip:192.0.2.1:5999;lr"));
}


static void test_hop_is_lowercase_host_and_port(void **state)
{
	char out[ROUTE_HOP_SIZE];
	char longname[300];
	(void)state;

	assert_string_equal("pbx.example.net:5060",
			    hop(out, "sip:bob@PBX.Example.NET"));
	assert_string_equal("pbx.example.net:5060",
			    hop(out, "sip:pbx.example.net.;lr"));
	assert_string_equal("pbx.example.net:5061",
			    hop(out, "sips:pbx.example.net"));
	assert_string_equal("pbx.example.net:7000",
			    hop(out, "sips:pbx.example.net:7000"));
	assert_string_equal("[2001:db8::1]:5060",
			    hop(out, "sip:[2001:db8::1]"));
	assert_string_equal("[2001:db8::1]:5080",
			    hop(out, "sip:u@[2001:db8::1]:5080;transport=tcp"));
	/* maddr is where the request goes: the hop names it */
	assert_string_equal("10.0.0.5:5070",
			    hop(out, "sip:u@callee.example.net:5070;maddr=10.0.0.5"));
	assert_string_equal("[2001:db8::9]:5060",
			    hop(out, "sip:u@192.0.2.7;maddr=[2001:DB8::9]"));

	/* a host too long to be one has no hop at all */
	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "sip:", 4);
	longname[sizeof(longname) - 1] = '\0';
	assert_string_equal("", hop(out, longname));
}


static void test_without_route_the_request_uri_is_the_hop(void **state)
{
	struct route_info ri;
	struct sip_msg *msg;
	char buf[64];
	(void)state;

	msg = preprocess(&ri, "sip:bob@example.com", NULL);
	assert_string_equal("sip:bob@example.com",
			    px_str(buf, sizeof(buf), &ri.ruri));
	assert_int_equal(0, ri.drop_routes);
	assert_false(ri.drop_last_route);
	assert_false(pl_isset(&ri.next_route));
	assert_false(pl_isset(&ri.stamp));
	assert_false(ri.in_dialog);
	assert_string_equal("example.com:5060", ri.hop);
	mem_deref(msg);
}


/* §16.4: the Route values naming us go, the first foreign one stays and
 * is where the request goes next. */
static void test_our_route_values_are_removed(void **state)
{
	struct route_info ri;
	struct sip_msg *msg;
	char buf[64];
	(void)state;

	msg = preprocess(&ri, "sip:bob@198.51.100.2:5070",
			 "Route: <sip:" PX_US ";lr;ls=stamp1>, "
			 "<sip:pbx.example.net:5080;lr>, <sip:192.0.2.1;lr>\r\n");
	assert_int_equal(1, ri.drop_routes);
	assert_false(ri.drop_last_route);
	assert_string_equal("stamp1", px_str(buf, sizeof(buf), &ri.stamp));
	assert_string_equal("<sip:pbx.example.net:5080;lr>",
			    px_str(buf, sizeof(buf), &ri.next_route));
	assert_string_equal("pbx.example.net:5080", ri.hop);
	/* the Request-URI is left alone */
	assert_string_equal("sip:bob@198.51.100.2:5070",
			    px_str(buf, sizeof(buf), &ri.ruri));
	mem_deref(msg);
}


/* RFC 5658: two values of ours (one per transport), in two header lines;
 * the stamp is the first one's.  Nothing foreign remains: the hop is the
 * Request-URI's. */
static void test_double_record_route_values_both_removed(void **state)
{
	struct route_info ri;
	struct sip_msg *msg;
	char buf[64];
	(void)state;

	msg = preprocess(&ri, "sip:dev@198.51.100.2:5070",
			 "Route: <sip:192.0.2.1:5061;transport=tcp;lr;ls=s1>\r\n"
			 "Route: <sip:example.com;lr;ls=s2>\r\n");
	assert_int_equal(2, ri.drop_routes);
	assert_string_equal("s1", px_str(buf, sizeof(buf), &ri.stamp));
	assert_false(pl_isset(&ri.next_route));
	assert_string_equal("198.51.100.2:5070", ri.hop);
	mem_deref(msg);

	/* a value of ours without a stamp takes the next one's */
	msg = preprocess(&ri, "sip:dev@198.51.100.2:5070",
			 "Route: <sip:192.0.2.1;lr>, <sip:" PX_US ";lr;ls=s3>\r\n");
	assert_int_equal(2, ri.drop_routes);
	assert_string_equal("s3", px_str(buf, sizeof(buf), &ri.stamp));
	mem_deref(msg);
}


/* Only leading values are ours to remove: one of ours after a foreign
 * one is the foreign proxy's business. */
static void test_only_leading_route_values_are_removed(void **state)
{
	struct route_info ri;
	struct sip_msg *msg;
	char buf[64];
	(void)state;

	msg = preprocess(&ri, "sip:bob@example.com",
			 "Route: <sip:p1.example.net;lr>, <sip:" PX_US ";lr>\r\n");
	assert_int_equal(0, ri.drop_routes);
	assert_string_equal("<sip:p1.example.net;lr>",
			    px_str(buf, sizeof(buf), &ri.next_route));
	assert_string_equal("p1.example.net:5060", ri.hop);
	mem_deref(msg);
}


/* §16.4: a Request-URI we record-routed means a strict router sent the
 * request: the real Request-URI is the last Route value, which goes. */
static void test_strict_router_last_route_becomes_request_uri(void **state)
{
	struct route_info ri;
	struct sip_msg *msg;
	char buf[64];
	(void)state;

	msg = preprocess(&ri, "sip:" PX_US ";lr;ls=st",
			 "Route: <sip:pbx.example.net:5080>, "
			 "<sip:carol@198.51.100.7:5090>\r\n");
	assert_true(ri.drop_last_route);
	assert_string_equal("sip:carol@198.51.100.7:5090",
			    px_str(buf, sizeof(buf), &ri.ruri));
	assert_int_equal(5090, ri.uri.port);
	assert_int_equal(0, ri.drop_routes);
	assert_string_equal("<sip:pbx.example.net:5080>",
			    px_str(buf, sizeof(buf), &ri.next_route));
	assert_string_equal("pbx.example.net:5080", ri.hop);
	mem_deref(msg);

	/* the last Route value alone: the request goes by it */
	msg = preprocess(&ri, "sip:192.0.2.1", "Route: <sip:bob@example.com>\r\n");
	assert_true(ri.drop_last_route);
	assert_int_equal(0, ri.drop_routes);
	assert_string_equal("sip:bob@example.com",
			    px_str(buf, sizeof(buf), &ri.ruri));
	assert_false(pl_isset(&ri.next_route));
	assert_string_equal("example.com:5060", ri.hop);
	mem_deref(msg);
}


/* Not a strict router: a Request-URI with a user part, one naming our
 * domain rather than a socket, or one of ours without any Route. */
static void test_no_strict_router_fix_otherwise(void **state)
{
	struct route_info ri;
	struct sip_msg *msg;
	char buf[64];
	(void)state;

	msg = preprocess(&ri, "sip:alice@" PX_US,
			 "Route: <sip:carol@198.51.100.7>\r\n");
	assert_false(ri.drop_last_route);
	assert_string_equal("sip:alice@" PX_US,
			    px_str(buf, sizeof(buf), &ri.ruri));
	assert_string_equal("<sip:carol@198.51.100.7>",
			    px_str(buf, sizeof(buf), &ri.next_route));
	mem_deref(msg);

	msg = preprocess(&ri, "sip:example.com",
			 "Route: <sip:carol@198.51.100.7>\r\n");
	assert_false(ri.drop_last_route);
	mem_deref(msg);

	msg = preprocess(&ri, "sip:" PX_US, NULL);
	assert_false(ri.drop_last_route);
	assert_string_equal("sip:" PX_US, px_str(buf, sizeof(buf), &ri.ruri));
	mem_deref(msg);
}


static void test_malformed_route_value_is_refused(void **state)
{
	struct route_info ri;
	struct sip_msg *msg;
	(void)state;

	msg = px_request("INVITE", "sip:bob@example.com",
			 "Route: <sip:" PX_US ";lr>, <no uri here\r\n");
	assert_int_equal(EBADMSG, route_preprocess(&ri, msg, &pc.cfg));
	mem_deref(msg);

	/* the strict router's last value, malformed */
	msg = px_request("INVITE", "sip:" PX_US, "Route: <bad uri\r\n");
	assert_int_equal(EBADMSG, route_preprocess(&ri, msg, &pc.cfg));
	mem_deref(msg);
}


static const char *upstream(char out[ROUTE_HOP_SIZE], bool *by_contact,
			    const char *hdrs)
{
	struct sip_msg *msg = px_request("INVITE", "sip:bob@example.com",
					 hdrs);

	route_upstream_hop(out, by_contact, msg, &pc.cfg);
	mem_deref(msg);
	return out;
}


/* §12.1.1, §16.12: the callee's requests go to the first Record-Route
 * value below ours, or else to the caller's Contact. */
static void test_upstream_hop_record_route_before_contact(void **state)
{
	char out[ROUTE_HOP_SIZE];
	bool by_contact = true;
	(void)state;

	assert_string_equal("edge.example.net:5080",
			    upstream(out, &by_contact,
				     "Record-Route: <sip:" PX_US ";lr;ls=x>\r\n"
				     "Record-Route: <sip:Edge.example.net:5080;lr>,"
				     " <sip:far.example.org;lr>\r\n"
				     "Contact: <sip:alice@192.0.2.10:5062>\r\n"));
	assert_false(by_contact);

	assert_string_equal("192.0.2.10:5062",
			    upstream(out, &by_contact,
				     "Record-Route: <sip:" PX_US ";lr;ls=x>\r\n"
				     "Contact: <sip:alice@192.0.2.10:5062>\r\n"));
	assert_true(by_contact);

	assert_string_equal("", upstream(out, &by_contact, NULL));
	assert_false(by_contact);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_our_sockets_and_domains_are_us),
		cmocka_unit_test(test_hop_is_lowercase_host_and_port),
		cmocka_unit_test(test_without_route_the_request_uri_is_the_hop),
		cmocka_unit_test(test_our_route_values_are_removed),
		cmocka_unit_test(test_double_record_route_values_both_removed),
		cmocka_unit_test(test_only_leading_route_values_are_removed),
		cmocka_unit_test(
			test_strict_router_last_route_becomes_request_uri),
		cmocka_unit_test(test_no_strict_router_fix_otherwise),
		cmocka_unit_test(test_malformed_route_value_is_refused),
		cmocka_unit_test(test_upstream_hop_record_route_before_contact),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

/* Unit tests for proxy/target.c: where a request goes, from the memory
 * index alone.  An AOR forks to its live bindings in q order (RFC 3261
 * §16.6, most recently refreshed first among equals), a public or
 * temporary GRUU reaches one instance only (RFC 5627 §5.3), and a request
 * with no target gets its answer (404, 480, 403, 416).  The location is
 * filled by hand; locus is example.com at 192.0.2.1:5060. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "keys/nodekey.h"
#include "location/gruu.h"
#include "location/location.h"
#include "proxy/route.h"
#include "proxy/target.h"
#include "transport/flows.h"
#include "proxy_support.h"

#define ALICE  "alice@example.com"
#define PHONE  "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
#define DESK   "urn:uuid:00000000-0000-1000-8000-000000000002"

struct fixture {
	struct px_config pc;
	struct location *loc;
	struct node_key *node_key;
	struct gruu_key *key;
	struct flows *flows;        /* none open */
	struct target_deps deps;
	struct target_set ts;
	int64_t now_ms;
};

static struct fixture fx;

/* One binding of ALICE. */
struct bspec {
	const char *uri;
	const char *instance;       /* NULL: none                      */
	uint32_t reg_id;
	int q;                      /* q * 1000, -1: none              */
	int64_t ttl;                /* seconds from now; <= 0 expired  */
	const char *received;       /* "ip:port", NULL: a static one   */
	enum sip_transp tp;
	const char *const *path;    /* its values, NULL-terminated     */
	int64_t age_ms;             /* how long ago it was refreshed   */
	bool direct;                /* not NATed: the registrar found its
				       Contact right (registrar/nat.c);
				       else any binding with a source is  */
};


static void binding_add(const struct bspec *s)
{
	struct binding *b = NULL;
	struct aor *aor = NULL;

	assert_int_equal(0, location_aor_get(&aor, fx.loc, ALICE));
	assert_int_equal(0, binding_alloc(&b));
	assert_int_equal(0, binding_key_make(&b->key, s->instance, s->reg_id,
					     s->uri));
	assert_int_equal(0, str_dup(&b->uri, s->uri));
	if (s->instance)
		assert_int_equal(0, str_dup(&b->instance, s->instance));
	if (s->path) {
		size_t n = 0;

		while (s->path[n])
			++n;
		assert_int_equal(0, binding_path_alloc(&b->path, n));
		for (size_t i = 0; i < n; i++)
			assert_int_equal(0, str_dup(&b->path->v[i],
						    s->path[i]));
	}
	b->reg_id = s->reg_id;
	b->q = s->q;
	b->expires = location_now() + s->ttl;
	if (s->received)
		assert_int_equal(0, sa_decode(&b->received, s->received,
					      strlen(s->received)));
	b->tp = s->tp;
	b->nat = s->received && !s->direct;
	b->updated_ms = fx.now_ms - s->age_ms;
	assert_int_equal(0, location_binding_put(fx.loc, aor, b));
	if (s->instance)
		assert_int_equal(0, location_instance_put(aor, s->instance, 7,
							  "cid"));
}


/* target_resolve() of a request to RURI (and HDRS); IN_DIALOG as the
 * dialog memory would have set it. */
static void resolve(const char *ruri, const char *hdrs, bool in_dialog)
{
	struct sip_msg *msg = px_request("INVITE", ruri, hdrs);
	struct route_info ri;

	target_set_flush(&fx.ts);
	assert_int_equal(0, route_preprocess(&ri, msg, &fx.pc.cfg));
	ri.in_dialog = in_dialog;
	assert_int_equal(0, target_resolve(&fx.ts, &fx.deps, msg, &ri));
	mem_deref(msg);
}


static const struct target *nth(unsigned n)
{
	struct le *le = list_head(&fx.ts.targets);

	while (le && n--)
		le = le->next;
	assert_non_null(le);
	return le->data;
}


/* The Nth alternate flow of the target at I. */
static const struct target *alt(unsigned i, unsigned n)
{
	struct le *le = list_head(&nth(i)->alts);

	while (le && n--)
		le = le->next;
	assert_non_null(le);
	return le->data;
}


static void assert_answer(uint16_t scode, const char *reason)
{
	assert_int_equal(scode, fx.ts.scode);
	assert_string_equal(reason, fx.ts.reason);
	assert_int_equal(0, list_count(&fx.ts.targets));
}


static void assert_target(unsigned n, const char *ruri, const char *hop,
			  int q)
{
	const struct target *t = nth(n);

	assert_string_equal(ruri, t->ruri);
	assert_string_equal(hop, t->hop);
	assert_int_equal(q, t->q);
}


static int setup(void **state)
{
	uint8_t raw[32] = {9, 8, 7};

	(void)state;
	memset(&fx, 0, sizeof(fx));
	px_config_init(&fx.pc);
	assert_int_equal(0, location_alloc(&fx.loc));
	assert_int_equal(0, node_key_from_bytes(&fx.node_key, raw));
	assert_int_equal(0, gruu_key_alloc(&fx.key, fx.node_key));
	assert_int_equal(0, flows_alloc(&fx.flows, NULL));
	fx.deps = (struct target_deps){&fx.pc.cfg, fx.loc, fx.key, fx.flows};
	list_init(&fx.ts.targets);
	fx.now_ms = location_now_ms();
	return 0;
}


static int teardown(void **state)
{
	(void)state;
	target_set_flush(&fx.ts);
	mem_deref(fx.flows);
	mem_deref(fx.key);
	mem_deref(fx.node_key);
	mem_deref(fx.loc);
	return 0;
}


/* §16.6: the best q first; no q counts as 1.0; equal q, the most
 * recently refreshed first.  Each binding is reached where it is: by its
 * Path, by where it registered from (these devices are NATed), or at its
 * Contact (psql). */
static void test_aor_forks_in_q_order(void **state)
{
	(void)state;
	binding_add(&(struct bspec){"sip:a@10.0.0.1:5060", NULL, 0, 500, 600,
		    "203.0.113.1:4000", SIP_TRANSP_UDP, NULL, 0});
	binding_add(&(struct bspec){"sip:b@10.0.0.2:5060", NULL, 0, -1, 600,
		    "203.0.113.2:4000", SIP_TRANSP_TCP, NULL, 50});
	binding_add(&(struct bspec){"sip:c@198.51.100.3:5070", NULL, 0, 900,
		    600, NULL, SIP_TRANSP_UDP, NULL, 10});
	binding_add(&(struct bspec){"sip:d@10.0.0.4", NULL, 0, 500, 600,
		    "203.0.113.4:4000", SIP_TRANSP_UDP,
		    (const char *const[]){"<sip:edge.example.net;lr>",
					  "<sip:inner.example.net;lr>", NULL},
		    5});

	resolve("sip:alice@example.com", NULL, false);
	assert_int_equal(0, fx.ts.scode);
	assert_int_equal(TARGET_AOR, fx.ts.kind);
	assert_int_equal(4, list_count(&fx.ts.targets));
	assert_target(0, "sip:b@10.0.0.2:5060",
		      "sip:203.0.113.2:4000;transport=TCP", 1000);
	assert_target(1, "sip:c@198.51.100.3:5070", "sip:c@198.51.100.3:5070",
		      900);
	/* q 0.5 twice: refreshed 0 ms ago before 5 ms ago */
	assert_target(2, "sip:a@10.0.0.1:5060",
		      "sip:203.0.113.1:4000;transport=UDP", 500);
	assert_target(3, "sip:d@10.0.0.4", "sip:edge.example.net;lr", 500);
	assert_string_equal("<sip:edge.example.net;lr>, "
			    "<sip:inner.example.net;lr>", nth(3)->routes);
	assert_null(nth(0)->routes);
	assert_int_equal(1000, target_top_q(&fx.ts.targets));
}


/* RFC 3327 §5.4: the Path is pushed as Route and its first value is the
 * next hop, even when a display name in it holds a comma. */
static void test_path_display_name_with_comma(void **state)
{
	(void)state;
	binding_add(&(struct bspec){"sip:a@10.0.0.1:5060", NULL, 0, -1, 600,
		    "203.0.113.1:4000", SIP_TRANSP_UDP,
		    (const char *const[]){
			    "\"edge, one\" <sip:e1.example.net;lr>",
			    "<sip:e2.example.net;lr;ob>", NULL},
		    0});

	resolve("sip:alice@example.com", NULL, false);
	assert_int_equal(0, fx.ts.scode);
	assert_target(0, "sip:a@10.0.0.1:5060", "sip:e1.example.net;lr",
		      1000);
	assert_string_equal("\"edge, one\" <sip:e1.example.net;lr>, "
			    "<sip:e2.example.net;lr;ob>", nth(0)->routes);
}


/* Expired bindings and those whose flow is closed are no targets: with
 * none left, the user is there but unavailable. */
static void test_aor_without_live_binding_is_480(void **state)
{
	(void)state;
	binding_add(&(struct bspec){"sip:a@10.0.0.1", NULL, 0, -1, 0,
		    "203.0.113.1:4000", SIP_TRANSP_UDP, NULL, 0});
	binding_add(&(struct bspec){"sip:b@10.0.0.2;transport=tcp",
		    "urn:uuid:00000000-0000-1000-8000-00000000000b", 1, -1, 600,
		    "203.0.113.2:4000", SIP_TRANSP_TCP, NULL, 0});
	resolve("sip:alice@example.com", NULL, false);
	assert_answer(480, "Temporarily Unavailable");

	binding_add(&(struct bspec){"sip:c@10.0.0.3", NULL, 0, -1, 600,
		    "203.0.113.3:4000", SIP_TRANSP_UDP, NULL, 0});
	resolve("sip:alice@example.com", NULL, false);
	assert_int_equal(0, fx.ts.scode);
	assert_int_equal(1, list_count(&fx.ts.targets));
	assert_target(0, "sip:c@10.0.0.3", "sip:203.0.113.3:4000;transport=UDP",
		      1000);
}


static void test_unknown_user_is_404(void **state)
{
	(void)state;
	resolve("sip:nobody@example.com", NULL, false);
	assert_answer(404, "Not Found");
	/* the user part is case-sensitive */
	binding_add(&(struct bspec){"sip:a@10.0.0.1", NULL, 0, -1, 600,
		    "203.0.113.1:4000", SIP_TRANSP_UDP, NULL, 0});
	resolve("sip:Alice@example.com", NULL, false);
	assert_answer(404, "Not Found");
	/* the host is not */
	resolve("sip:alice@EXAMPLE.com", NULL, false);
	assert_int_equal(1, list_count(&fx.ts.targets));
}


/* RFC 5627 §5.3: a public GRUU reaches every binding of its instance,
 * most recently refreshed first, and never another instance. */
static void test_pub_gruu_reaches_its_instance_only(void **state)
{
	(void)state;
	binding_add(&(struct bspec){"sip:phone@10.0.0.1", PHONE, 1, 1000, 600,
		    "203.0.113.1:4000", SIP_TRANSP_UDP, NULL, 30});
	binding_add(&(struct bspec){"sip:phone@10.0.0.1", PHONE, 2, 1000, 600,
		    "203.0.113.1:4002", SIP_TRANSP_UDP, NULL, 10});
	binding_add(&(struct bspec){"sip:desk@10.0.0.2", DESK, 1, 1000, 600,
		    "203.0.113.2:4000", SIP_TRANSP_UDP, NULL, 0});

	resolve("sip:alice@example.com;gr=" PHONE, NULL, false);
	assert_int_equal(0, fx.ts.scode);
	assert_int_equal(TARGET_GRUU, fx.ts.kind);
	/* RFC 5626 §7: one flow at a time, the other one behind it */
	assert_int_equal(1, list_count(&fx.ts.targets));
	assert_target(0, "sip:phone@10.0.0.1",
		      "sip:203.0.113.1:4002;transport=UDP", 1000);
	assert_int_equal(1, list_count(&nth(0)->alts));
	assert_string_equal("sip:phone@10.0.0.1",
			    alt(0, 0)->ruri);
	assert_string_equal("sip:203.0.113.1:4000;transport=UDP",
			    alt(0, 0)->hop);

	resolve("sip:alice@example.com;gr=urn:uuid:"
		"00000000-0000-1000-8000-0000000000ff", NULL, false);
	assert_answer(404, "Unknown GRUU");
	/* a GRUU parameter without a value, and no temp-gruu user */
	resolve("sip:alice@example.com;gr", NULL, false);
	assert_answer(404, "Unknown GRUU");
}


/* §5.3: a valid public GRUU of a device that is offline is 480, not
 * 404: it stays valid while the device is away. */
static void test_pub_gruu_of_offline_device_is_480(void **state)
{
	(void)state;
	binding_add(&(struct bspec){"sip:phone@10.0.0.1", PHONE, 1, 1000, 0,
		    "203.0.113.1:4000", SIP_TRANSP_UDP, NULL, 0});
	binding_add(&(struct bspec){"sip:desk@10.0.0.2", DESK, 1, 1000, 600,
		    "203.0.113.2:4000", SIP_TRANSP_UDP, NULL, 0});
	resolve("sip:alice@example.com;gr=" PHONE, NULL, false);
	assert_answer(480, "Temporarily Unavailable");
}


static void temp_gruu_resolve(uint64_t generation, bool tamper)
{
	char *token = NULL, ruri[512];

	assert_int_equal(0, gruu_token_encode(&token, fx.key, ALICE, PHONE,
					      generation));
	if (tamper)
		token[3] = token[3] == 'A' ? 'B' : 'A';
	re_snprintf(ruri, sizeof(ruri), "sip:" GRUU_TEMP_PREFIX "%s@example.com"
		    ";gr", token);
	mem_deref(token);
	resolve(ruri, NULL, false);
}


/* §5.3: a temporary GRUU of the instance's current generation reaches
 * the instance; one of an older generation, or tampered with, nothing. */
static void test_temp_gruu_by_generation(void **state)
{
	(void)state;
	binding_add(&(struct bspec){"sip:phone@10.0.0.1", PHONE, 1, 1000, 600,
		    "203.0.113.1:4000", SIP_TRANSP_UDP, NULL, 0});
	binding_add(&(struct bspec){"sip:desk@10.0.0.2", DESK, 1, 1000, 600,
		    "203.0.113.2:4000", SIP_TRANSP_UDP, NULL, 0});

	temp_gruu_resolve(7, false);
	assert_int_equal(0, fx.ts.scode);
	assert_int_equal(TARGET_GRUU, fx.ts.kind);
	assert_int_equal(1, list_count(&fx.ts.targets));
	assert_target(0, "sip:phone@10.0.0.1",
		      "sip:203.0.113.1:4000;transport=UDP", 1000);

	temp_gruu_resolve(6, false);
	assert_answer(404, "GRUU No Longer Valid");
	temp_gruu_resolve(7, true);
	assert_answer(404, "Unknown GRUU");
}


/* A temporary GRUU of a device registered but out of reach (its flow is
 * closed) is 480; of one no longer registered at all, gone: 404. */
static void test_temp_gruu_offline_480_unregistered_404(void **state)
{
	(void)state;
	binding_add(&(struct bspec){"sip:phone@10.0.0.1;transport=tcp", PHONE,
		    1, 1000, 600, "203.0.113.1:4000", SIP_TRANSP_TCP, NULL,
		    0});
	temp_gruu_resolve(7, false);
	assert_answer(480, "Temporarily Unavailable");

	teardown(NULL);
	setup(NULL);
	binding_add(&(struct bspec){"sip:phone@10.0.0.1", PHONE, 1, 1000, 0,
		    "203.0.113.1:4000", SIP_TRANSP_UDP, NULL, 0});
	temp_gruu_resolve(7, false);
	assert_answer(404, "GRUU No Longer Valid");
}


/* A static sips: binding is reached over TLS through a sip: hop (libre
 * routes only sip: URIs), at 5061 unless its port says otherwise. */
static void test_static_sips_binding_hop(void **state)
{
	(void)state;
	binding_add(&(struct bspec){"sips:a@pbx.example.net", NULL, 0, 800,
		    600, NULL, SIP_TRANSP_UDP, NULL, 0});
	binding_add(&(struct bspec){"sips:b@[2001:db8::5]:7000", NULL, 0, 700,
		    600, NULL, SIP_TRANSP_UDP, NULL, 0});
	resolve("sip:alice@example.com", NULL, false);
	assert_target(0, "sips:a@pbx.example.net",
		      "sip:pbx.example.net:5061;transport=tls", 800);
	assert_target(1, "sips:b@[2001:db8::5]:7000",
		      "sip:[2001:db8::5]:7000;transport=tls", 700);
}


/* A device the registrar did not find NATed is reached at its Contact,
 * whoever sent the REGISTER (RFC 3261 §10.2, third-party registration),
 * and a TCP device whose connection is not open here is dialled there,
 * where it listens.  A NATed one, and an outbound flow (RFC 5626 §7), at
 * the REGISTER's source. */
static void test_contact_unless_nated_or_flow(void **state)
{
	(void)state;
	binding_add(&(struct bspec){"sip:desk@198.51.100.7:5070", NULL, 0,
		    900, 600, "192.0.2.20:5060", SIP_TRANSP_UDP, NULL, 0,
		    true});
	binding_add(&(struct bspec){"sip:t@198.51.100.8:5080;transport=tcp",
		    NULL, 0, 800, 600, "198.51.100.8:40001", SIP_TRANSP_TCP,
		    NULL, 0, true});
	binding_add(&(struct bspec){"sip:n@192.168.1.9:5060;transport=tcp",
		    NULL, 0, 700, 600, "203.0.113.9:40002", SIP_TRANSP_TCP,
		    NULL, 0});
	binding_add(&(struct bspec){"sip:o@198.51.100.10:5060", PHONE, 1, 600,
		    600, "198.51.100.10:5062", SIP_TRANSP_UDP, NULL, 0, true});

	resolve("sip:alice@example.com", NULL, false);
	assert_int_equal(0, fx.ts.scode);
	assert_int_equal(4, list_count(&fx.ts.targets));
	assert_target(0, "sip:desk@198.51.100.7:5070",
		      "sip:desk@198.51.100.7:5070", 900);
	assert_target(1, "sip:t@198.51.100.8:5080;transport=tcp",
		      "sip:t@198.51.100.8:5080;transport=tcp", 800);
	assert_target(2, "sip:n@192.168.1.9:5060;transport=tcp",
		      "sip:203.0.113.9:40002;transport=TCP", 700);
	assert_target(3, "sip:o@198.51.100.10:5060",
		      "sip:198.51.100.10:5062;transport=UDP", 600);
	/* each names its binding, for the proxy's failure log */
	{
		static const char prefix[] = ALICE " sip:desk@198.51.100.7:5070 ";
		assert_non_null(nth(0)->binding);
		assert_int_equal(0, strncmp(nth(0)->binding, prefix,
					    sizeof(prefix) - 1));
	}
}


/* RFC 5626 §7: "MUST NOT populate the target set with more than one
 * contact with the same AOR and instance-id at a time": an instance's
 * most recently refreshed flow is its target, the others wait behind it
 * in the same order. */
static void test_one_flow_per_instance(void **state)
{
	(void)state;
	binding_add(&(struct bspec){"sip:phone@10.0.0.1", PHONE, 1, -1, 600,
		    "203.0.113.1:4000", SIP_TRANSP_UDP, NULL, 30});
	binding_add(&(struct bspec){"sip:phone@10.0.0.1", PHONE, 3, -1, 600,
		    "203.0.113.1:4003", SIP_TRANSP_UDP, NULL, 20});
	binding_add(&(struct bspec){"sip:phone@10.0.0.1", PHONE, 2, -1, 600,
		    "203.0.113.1:4002", SIP_TRANSP_UDP, NULL, 10});
	binding_add(&(struct bspec){"sip:desk@10.0.0.2", DESK, 1, -1, 600,
		    "203.0.113.2:4000", SIP_TRANSP_UDP, NULL, 0});

	resolve("sip:alice@example.com", NULL, false);
	assert_int_equal(0, fx.ts.scode);
	assert_int_equal(2, list_count(&fx.ts.targets));
	assert_target(0, "sip:desk@10.0.0.2",
		      "sip:203.0.113.2:4000;transport=UDP", 1000);
	assert_int_equal(0, list_count(&nth(0)->alts));
	assert_target(1, "sip:phone@10.0.0.1",
		      "sip:203.0.113.1:4002;transport=UDP", 1000);
	assert_int_equal(2, list_count(&nth(1)->alts));
	assert_string_equal("sip:203.0.113.1:4003;transport=UDP",
			    alt(1, 0)->hop);
	assert_string_equal("sip:203.0.113.1:4000;transport=UDP",
			    alt(1, 1)->hop);
}


/* Addressed to locus itself, to another domain, or by another scheme. */
static void test_local_foreign_and_other_schemes(void **state)
{
	(void)state;
	resolve("sip:example.com", NULL, false);
	assert_int_equal(0, fx.ts.scode);
	assert_int_equal(TARGET_LOCAL, fx.ts.kind);

	resolve("sip:carol@example.net", NULL, false);
	assert_answer(403, "Relaying Denied");
	/* the other party of a dialog we record-routed */
	resolve("sip:carol@198.51.100.7:5090", NULL, true);
	assert_int_equal(TARGET_URI, fx.ts.kind);
	assert_target(0, "sip:carol@198.51.100.7:5090",
		      "sip:carol@198.51.100.7:5090", 1000);
	/* relaying, when configured */
	fx.pc.cfg.relay = true;
	resolve("sip:carol@example.net", NULL, false);
	assert_int_equal(TARGET_URI, fx.ts.kind);

	resolve("tel:+15551234", NULL, false);
	assert_answer(416, "Unsupported URI Scheme");
}


/* A Route beyond ours: relaying unless in a dialog we record-routed;
 * the Request-URI goes unchanged, the hop is the Route value's. */
static void test_remaining_route_is_followed_only_in_dialog(void **state)
{
	const char *route = "Route: <sip:" PX_US ";lr>, "
			    "<sip:edge.example.net:5080;lr>\r\n";
	(void)state;

	resolve("sip:alice@example.com", route, false);
	assert_answer(403, "Relaying Denied");

	resolve("sip:alice@example.com", route, true);
	assert_int_equal(0, fx.ts.scode);
	assert_int_equal(TARGET_ROUTE, fx.ts.kind);
	assert_target(0, "sip:alice@example.com",
		      "sip:edge.example.net:5080;lr", 1000);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_aor_forks_in_q_order,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_path_display_name_with_comma, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_aor_without_live_binding_is_480, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_user_is_404,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_pub_gruu_reaches_its_instance_only, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_pub_gruu_of_offline_device_is_480, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_temp_gruu_by_generation,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_temp_gruu_offline_480_unregistered_404, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_static_sips_binding_hop,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_contact_unless_nated_or_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_flow_per_instance,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_local_foreign_and_other_schemes, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_remaining_route_is_followed_only_in_dialog, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

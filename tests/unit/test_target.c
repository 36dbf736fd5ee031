/* Unit tests for proxy/target.c: which bindings a request to an AOR goes
 * to, in which order (RFC 3261 §16.6: q-value groups, highest first), and
 * the Route and next hop a binding's Path gives them (RFC 3327 §5.4). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <re.h>
#include "location/location.h"
#include "proxy/route.h"
#include "proxy/target.h"
#include "unit_support.h"

struct fixture {
	struct locus_config cfg;
	struct location *loc;
	struct aor *aor;
};


static int setup(void **state)
{
	static struct fixture f;

	ut_config(&f.cfg);
	assert_int_equal(0, location_alloc(&f.loc));
	assert_int_equal(0, location_aor_get(&f.aor, f.loc, UT_AOR_KEY));
	*state = &f;
	return 0;
}


static int teardown(void **state)
{
	struct fixture *f = *state;

	f->loc = mem_deref(f->loc);
	return 0;
}


/* A binding of the AOR for device N (Contact sip:dN@192.0.2.N), refreshed
 * at UPDATED_MS, registered from 192.0.2.N:5060 over UDP. */
static struct binding *binding_add(struct fixture *f, int n, int q,
				   int64_t updated_ms)
{
	struct binding *b;
	char uri[64], src[32];

	(void)re_snprintf(uri, sizeof(uri), "sip:d%d@192.0.2.%d", n, n);
	(void)re_snprintf(src, sizeof(src), "192.0.2.%d", n);
	assert_int_equal(0, binding_alloc(&b));
	assert_int_equal(0, str_dup(&b->key, uri));
	assert_int_equal(0, str_dup(&b->uri, uri));
	assert_int_equal(0, str_dup(&b->params, ""));
	assert_int_equal(0, str_dup(&b->callid, uri));
	assert_int_equal(0, sa_set_str(&b->received, src, 5060));
	b->tp = SIP_TRANSP_UDP;
	b->q = q;
	b->expires = location_now() + 3600;
	b->updated_ms = updated_ms;
	assert_int_equal(0, location_binding_put(f->loc, f->aor, b));
	return b;
}


/* target_resolve() of an INVITE to RURI. */
static void resolve(struct target_set *ts, struct fixture *f,
		    const char *ruri)
{
	struct target_deps deps = {.cfg = &f->cfg, .loc = f->loc};
	struct route_info ri;
	struct sip_msg *msg;
	char *text = NULL;

	assert_int_equal(0, re_sdprintf(&text,
		"INVITE %s SIP/2.0\r\n"
		"Via: SIP/2.0/UDP " UT_SRC_IP ":5062;branch=z9hG4bK-t\r\n"
		"Max-Forwards: 70\r\n"
		"To: <%s>\r\n"
		"From: <sip:bob@example.com>;tag=f\r\n"
		"Call-ID: target-test\r\n"
		"CSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n"
		"\r\n", ruri, ruri));
	msg = ut_msg_decode(text);
	mem_deref(text);
	assert_int_equal(0, route_preprocess(&ri, msg, &f->cfg));
	assert_int_equal(0, target_resolve(ts, &deps, msg, &ri));
	mem_deref(msg);
}


/* The Request-URIs of TS's targets, in order, space-separated. */
static void targets_are(const struct target_set *ts, const char *expect)
{
	char got[256] = "";
	size_t n = 0;

	for (struct le *le = ts->targets.head; le; le = le->next) {
		const struct target *t = le->data;
		n += (size_t)re_snprintf(got + n, sizeof(got) - n, "%s%s",
					 n ? " " : "", t->ruri);
	}
	assert_string_equal(expect, got);
}


/* Higher q first; within a q (no q counts as 1), the most recently
 * refreshed binding first, whatever order they were added in. */
static void test_q_order(void **state)
{
	struct fixture *f = *state;
	struct target_set ts;

	binding_add(f, 1, 500, 1000);
	binding_add(f, 2, 1000, 2000);
	binding_add(f, 3, -1, 3000);
	binding_add(f, 4, 500, 4000);
	binding_add(f, 5, 0, 500);
	binding_add(f, 6, 1000, 1500);

	resolve(&ts, f, UT_AOR_URI);
	assert_int_equal(0, ts.scode);
	assert_int_equal(TARGET_AOR, ts.kind);
	targets_are(&ts, "sip:d3@192.0.2.3 sip:d2@192.0.2.2 sip:d6@192.0.2.6 "
		    "sip:d4@192.0.2.4 sip:d1@192.0.2.1 sip:d5@192.0.2.5");
	assert_int_equal(1000, target_top_q(&ts.targets));
	target_set_flush(&ts);
}


/* One q for all: the order of recency, unchanged. */
static void test_q_equal_keeps_recency(void **state)
{
	struct fixture *f = *state;
	struct target_set ts;

	binding_add(f, 1, 700, 3000);
	binding_add(f, 2, 700, 1000);
	binding_add(f, 3, 700, 2000);

	resolve(&ts, f, UT_AOR_URI);
	targets_are(&ts, "sip:d1@192.0.2.1 sip:d3@192.0.2.3 sip:d2@192.0.2.2");
	target_set_flush(&ts);
}


/* RFC 3327 §5.4: the Path is pushed as Route, and its first value is the
 * next hop, even when a display name in it holds a comma. */
static void test_path_route_and_hop(void **state)
{
	struct fixture *f = *state;
	struct binding *b = binding_add(f, 1, -1, 1000);
	const struct target *t;
	struct target_set ts;

	assert_int_equal(0, binding_path_alloc(&b->path, 2));
	assert_int_equal(0, str_dup(&b->path->v[0], "\"edge, one\" "
				    "<sip:e1.example.net;lr>"));
	assert_int_equal(0, str_dup(&b->path->v[1],
				    "<sip:e2.example.net;lr;ob>"));

	resolve(&ts, f, UT_AOR_URI);
	assert_int_equal(0, ts.scode);
	assert_non_null(ts.targets.head);
	t = ts.targets.head->data;
	assert_string_equal("sip:d1@192.0.2.1", t->ruri);
	assert_string_equal("\"edge, one\" <sip:e1.example.net;lr>, "
			    "<sip:e2.example.net;lr;ob>", t->routes);
	assert_string_equal("sip:e1.example.net;lr", t->hop);
	target_set_flush(&ts);
}


/* Without Path, where the REGISTER came from. */
static void test_no_path_hop(void **state)
{
	struct fixture *f = *state;
	const struct target *t;
	struct target_set ts;

	binding_add(f, 7, -1, 1000);
	resolve(&ts, f, UT_AOR_URI);
	assert_non_null(ts.targets.head);
	t = ts.targets.head->data;
	assert_null(t->routes);
	assert_string_equal("sip:192.0.2.7:5060;transport=UDP", t->hop);
	target_set_flush(&ts);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_q_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_q_equal_keeps_recency,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_route_and_hop,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_path_hop, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, ut_group_setup,
				      ut_group_teardown);
}

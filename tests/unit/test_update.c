/* Unit tests for registrar/update.c: what a REGISTER changes (RFC 3261
 * §10.3 steps 6-8, RFC 5627 §5.1 GRUU generations), computed against a
 * location populated here, then persisted (statement count) and applied. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "config/config.h"
#include "db/db.h"
#include "db/db_txn.h"
#include "location/location.h"
#include "registrar/regreq.h"
#include "registrar/update.h"
#include "unit_support.h"

#define INST1 ";+sip.instance=\"<" UT_UUID1 ">\""
#define INST2 ";+sip.instance=\"<" UT_UUID2 ">\""
#define KEY1  "<" UT_UUID1 ">;reg-id=0"

static const int64_t T0_MS = 1700000000000LL;

struct fx {
	struct locus_config cfg;
	struct location *loc;
	int64_t now_ms;          /* advances 1 s per REGISTER */
};


static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	ut_config(&fx->cfg);
	fx->now_ms = T0_MS;
	if (location_alloc(&fx->loc)) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}


static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	mem_deref(fx->loc);
	free(fx);
	return 0;
}


static struct aor *alice(const struct fx *fx)
{
	return location_aor_find(fx->loc, UT_AOR_KEY);
}


/* Decodes a REGISTER and computes its update against the location. */
static int compute(struct fx *fx, struct reg_update **upp,
		   struct reg_error *rerr, const char *callid, uint32_t cseq,
		   const char *hdrs)
{
	struct regreq *req = NULL;
	struct reg_error derr;
	int err;

	if (ut_decode(&req, &derr, &fx->cfg, callid, cseq, hdrs))
		fail_msg("REGISTER refused by regreq: %u %s", derr.scode,
			 derr.reason);
	fx->now_ms += 1000;
	memset(rerr, 0, sizeof(*rerr));
	err = reg_update_compute(upp, req, alice(fx), &fx->cfg, fx->now_ms,
				 rerr);
	mem_deref(req);
	return err;
}


/* What reg_update_persist() writes: one statement per change (PUTS
 * binding upserts, DELS binding deletes, GENS GRUU generations), and one
 * notification for the other nodes when there is any change; each
 * statement about UP's AOR. */
static void persisted(const struct reg_update *up, unsigned puts,
		      unsigned dels, unsigned gens)
{
	static const char *const names[] = {
		"binding_upsert", "binding_delete", "instance_upsert",
		"aor_notify",
	};
	unsigned want[] = {puts, dels, gens, puts + dels + gens > 0};
	unsigned got[ARRAY_SIZE(names)] = {0};
	struct db_txn *tx = NULL;

	assert_int_equal(0, db_txn_alloc(&tx, NULL, NULL));
	assert_int_equal(0, reg_update_persist(up, tx));
	for (struct le *le = tx->execs.head; le; le = le->next) {
		const struct db_exec *ex = le->data;
		size_t i = 0;

		while (i < ARRAY_SIZE(names) && strcmp(ex->name, names[i]))
			++i;
		if (i == ARRAY_SIZE(names))
			fail_msg("unexpected statement %s", ex->name);
		++got[i];
		assert_true(ex->nparams >= 1);
		assert_string_equal(up->aor, ex->values[0]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (got[i] != want[i])
			fail_msg("%u %s, expected %u", got[i], names[i],
				 want[i]);
	}
	mem_deref(tx);
}


/* compute + check the shape (puts, dels, gens) + persist + apply. */
static void registered(struct fx *fx, const char *callid, uint32_t cseq,
		       const char *hdrs, unsigned puts, unsigned dels,
		       unsigned gens)
{
	struct reg_update *up = (struct reg_update *)0x1;
	struct reg_error rerr;

	if (compute(fx, &up, &rerr, callid, cseq, hdrs))
		fail_msg("update refused: %u %s", rerr.scode, rerr.reason);
	assert_non_null(up);
	assert_string_equal(UT_AOR_KEY, up->aor);
	assert_int_equal(puts, list_count(&up->puts));
	assert_int_equal(dels, list_count(&up->dels));
	assert_int_equal(gens, list_count(&up->gens));
	assert_int_equal(puts + dels + gens == 0, reg_update_is_empty(up));
	persisted(up, puts, dels, gens);
	assert_int_equal(0, reg_update_apply(up, fx->loc));
	mem_deref(up);
}


/* compute that must be refused with SCODE and a reason containing WHAT. */
static void refused(struct fx *fx, const char *callid, uint32_t cseq,
		    const char *hdrs, uint16_t scode, const char *what)
{
	struct reg_update *up = (struct reg_update *)0x1;
	struct reg_error rerr;

	assert_int_equal(EPROTO, compute(fx, &up, &rerr, callid, cseq, hdrs));
	assert_ptr_equal((struct reg_update *)0x1, up);   /* untouched */
	assert_int_equal(scode, rerr.scode);
	if (!strstr(rerr.reason, what))
		fail_msg("reason \"%s\" does not contain \"%s\"", rerr.reason,
			 what);
}


static struct binding *find(const struct fx *fx, const char *key)
{
	struct aor *aor = alice(fx);

	return aor ? aor_binding_find(aor, key) : NULL;
}


static uint64_t generation(const struct fx *fx, const char *inst)
{
	struct aor *aor = alice(fx);
	struct instance_state *is = aor ? aor_instance_find(aor, inst) : NULL;

	assert_non_null(is);
	return is->generation;
}


/* ---- new, refresh, stale -------------------------------------------- */

static void test_new_binding(void **state)
{
	struct fx *fx = *state;
	struct binding *b;
	struct sa src;

	assert_null(alice(fx));
	registered(fx, "c1", 1,
		   "Supported: path\r\n"
		   "Path: <sip:edge.example.net;lr>\r\n"
		   "Contact: <sip:a@192.0.2.1:5070;ob>;q=0.7;+sip.ice\r\n",
		   1, 0, 0);

	assert_int_equal(1, location_binding_count(fx->loc));
	assert_int_equal(1, location_aor_count(fx->loc));
	b = find(fx, "sip:a@192.0.2.1:5070;ob");
	assert_non_null(b);
	assert_ptr_equal(alice(fx), b->aor);
	assert_string_equal("sip:a@192.0.2.1:5070;ob", b->uri);
	assert_string_equal(";+sip.ice", b->params);
	assert_null(b->instance);
	assert_int_equal(0, b->reg_id);
	assert_int_equal(700, b->q);
	assert_string_equal("c1", b->callid);
	assert_int_equal(1, b->cseq);
	assert_true(b->expires == fx->now_ms / 1000 + 3600);
	assert_true(b->updated_ms == fx->now_ms);
	assert_non_null(b->path);
	assert_int_equal(1, b->path->n);
	assert_string_equal("<sip:edge.example.net;lr>", b->path->v[0]);
	assert_string_equal("unit-test/1.0", b->user_agent);
	assert_int_equal(0, sa_set_str(&src, UT_SRC_IP, UT_SRC_PORT));
	assert_true(sa_cmp(&src, &b->received, SA_ALL));
	assert_int_equal(SIP_TRANSP_UDP, b->tp);
	/* no instance: no GRUU state */
	assert_null(alice(fx)->instances.head);
}


static void test_refresh_keeps_key(void **state)
{
	struct fx *fx = *state;
	struct binding *b;

	registered(fx, "c1", 1, "Contact: <sip:a@PC.example.net>\r\n",
		   1, 0, 0);
	/* an equivalent URI (host case, an ignorable parameter): the same
	 * binding, under the key it was first registered with */
	registered(fx, "c1", 2,
		   "Contact: <sip:a@pc.example.net;ob>;expires=120\r\n",
		   1, 0, 0);
	assert_int_equal(1, location_binding_count(fx->loc));
	assert_null(find(fx, "sip:a@pc.example.net;ob"));
	b = find(fx, "sip:a@PC.example.net");
	assert_non_null(b);
	assert_string_equal("sip:a@pc.example.net;ob", b->uri);
	assert_int_equal(2, b->cseq);
	assert_true(b->expires == fx->now_ms / 1000 + 120);

	/* another Call-ID may come with any CSeq */
	registered(fx, "c2", 1, "Contact: <sip:a@pc.example.net>\r\n",
		   1, 0, 0);
	b = find(fx, "sip:a@PC.example.net");
	assert_non_null(b);
	assert_string_equal("c2", b->callid);
	assert_int_equal(1, b->cseq);
	assert_int_equal(1, location_binding_count(fx->loc));
}


static void test_refresh_instance_new_uri(void **state)
{
	struct fx *fx = *state;
	struct binding *b;

	registered(fx, "c1", 1, "Contact: <sip:a@192.0.2.1>" INST1 "\r\n",
		   1, 0, 1);
	/* the device moved: same instance, other URI -> same binding */
	registered(fx, "c1", 2, "Contact: <sip:a@198.51.100.1>" INST1 "\r\n",
		   1, 0, 0);
	assert_int_equal(1, location_binding_count(fx->loc));
	b = find(fx, KEY1);
	assert_non_null(b);
	assert_string_equal("sip:a@198.51.100.1", b->uri);
	assert_string_equal(UT_UUID1, b->instance);
	assert_int_equal(2, b->cseq);
}


static void test_stale_cseq(void **state)
{
	struct fx *fx = *state;
	struct binding *b;
	int64_t expires;

	registered(fx, "c1", 5, "Contact: <sip:a@192.0.2.1>\r\n", 1, 0, 0);
	b = find(fx, "sip:a@192.0.2.1");
	assert_non_null(b);
	expires = b->expires;

	refused(fx, "c1", 5, "Contact: <sip:a@192.0.2.1>\r\n", 500, "CSeq");
	refused(fx, "c1", 4, "Contact: <sip:a@192.0.2.1>\r\n", 500, "CSeq");
	refused(fx, "c1", 5, "Contact: <sip:a@192.0.2.1>;expires=0\r\n",
		500, "CSeq");

	/* nothing changed */
	assert_int_equal(1, location_binding_count(fx->loc));
	assert_ptr_equal(b, find(fx, "sip:a@192.0.2.1"));
	assert_int_equal(5, b->cseq);
	assert_true(expires == b->expires);

	/* a higher CSeq is fine */
	registered(fx, "c1", 6, "Contact: <sip:a@192.0.2.1>\r\n", 1, 0, 0);
	assert_int_equal(6, find(fx, "sip:a@192.0.2.1")->cseq);
}


/* ---- removal ---------------------------------------------------------- */

static void test_remove(void **state)
{
	struct fx *fx = *state;

	registered(fx, "c1", 1, "Contact: <sip:a@192.0.2.1>\r\n"
		   "Contact: <sip:b@192.0.2.2>\r\n", 2, 0, 0);
	assert_int_equal(2, location_binding_count(fx->loc));

	/* expires=0 of an existing binding: one del */
	registered(fx, "c1", 2, "Contact: <sip:a@192.0.2.1>;expires=0\r\n",
		   0, 1, 0);
	assert_int_equal(1, location_binding_count(fx->loc));
	assert_null(find(fx, "sip:a@192.0.2.1"));
	assert_non_null(find(fx, "sip:b@192.0.2.2"));

	/* of one that does not exist: an empty update */
	registered(fx, "c1", 3, "Contact: <sip:zz@192.0.2.9>;expires=0\r\n",
		   0, 0, 0);
	assert_int_equal(1, location_binding_count(fx->loc));

	/* the last one via Expires: 0: the AOR (no GRUU state) goes */
	registered(fx, "c9", 1, "Contact: <sip:b@192.0.2.2>\r\n"
		   "Expires: 0\r\n", 0, 1, 0);
	assert_int_equal(0, location_binding_count(fx->loc));
	assert_null(alice(fx));
	assert_int_equal(0, location_aor_count(fx->loc));

	/* against an AOR that does not exist at all */
	registered(fx, "c9", 2, "Contact: <sip:b@192.0.2.2>;expires=0\r\n",
		   0, 0, 0);
	assert_null(alice(fx));
}


static void test_wildcard(void **state)
{
	struct fx *fx = *state;

	/* empty AOR: nothing to do */
	registered(fx, "w0", 1, "Contact: *\r\nExpires: 0\r\n", 0, 0, 0);

	registered(fx, "c1", 10, "Contact: <sip:a@192.0.2.1>\r\n"
		   "Contact: <sip:b@192.0.2.2>" INST1 "\r\n", 2, 0, 1);
	registered(fx, "c2", 1, "Contact: <sip:c@192.0.2.3>\r\n", 1, 0, 0);
	assert_int_equal(3, location_binding_count(fx->loc));

	/* one binding has this Call-ID with a CSeq not higher: the whole
	 * wildcard is refused */
	refused(fx, "c1", 10, "Contact: *\r\nExpires: 0\r\n", 500, "CSeq");
	refused(fx, "c2", 1, "Contact: *\r\nExpires: 0\r\n", 500, "CSeq");
	assert_int_equal(3, location_binding_count(fx->loc));

	registered(fx, "c1", 11, "Contact: *\r\nExpires: 0\r\n", 0, 3, 0);
	assert_int_equal(0, location_binding_count(fx->loc));
	/* GRUU state survives (RFC 5627 §5.3), so does the AOR */
	assert_non_null(alice(fx));
	assert_null(alice(fx)->bindings.head);
	assert_int_equal(1, generation(fx, UT_UUID1));
}


/* ---- GRUU generations --------------------------------------------------- */

static void test_gruu_generation(void **state)
{
	struct fx *fx = *state;
	struct instance_state *is;

	/* a new instance: generation 1 (1 put + 1 gen = 2 statements) */
	registered(fx, "c1", 1, "Supported: gruu\r\n"
		   "Contact: <sip:a@192.0.2.1>" INST1 "\r\n", 1, 0, 1);
	is = aor_instance_find(alice(fx), UT_UUID1);
	assert_non_null(is);
	assert_int_equal(1, is->generation);
	assert_string_equal("c1", is->callid);

	/* the same Call-ID: temp-gruus stay valid, no generation change */
	registered(fx, "c1", 2, "Supported: gruu\r\n"
		   "Contact: <sip:a@192.0.2.1>" INST1 "\r\n", 1, 0, 0);
	assert_int_equal(1, generation(fx, UT_UUID1));

	/* a new Call-ID (the UA restarted): generation + 1 */
	registered(fx, "c2", 1, "Supported: gruu\r\n"
		   "Contact: <sip:a@192.0.2.1>" INST1 "\r\n", 1, 0, 1);
	is = aor_instance_find(alice(fx), UT_UUID1);
	assert_int_equal(2, is->generation);
	assert_string_equal("c2", is->callid);
	registered(fx, "c3", 1, "Contact: <sip:a@192.0.2.1>" INST1 "\r\n",
		   1, 0, 1);
	assert_int_equal(3, generation(fx, UT_UUID1));

	/* a removal is no registration: no new generation */
	registered(fx, "c4", 1, "Contact: <sip:a@192.0.2.1>" INST1
		   ";expires=0\r\n", 0, 1, 0);
	assert_int_equal(0, location_binding_count(fx->loc));
	assert_int_equal(3, generation(fx, UT_UUID1));
	assert_string_equal("c3",
			    aor_instance_find(alice(fx), UT_UUID1)->callid);

	/* and it comes back later with yet another Call-ID */
	registered(fx, "c5", 1, "Contact: <sip:a@192.0.2.1>" INST1 "\r\n",
		   1, 0, 1);
	assert_int_equal(4, generation(fx, UT_UUID1));
}


static void test_gruu_generation_several(void **state)
{
	struct fx *fx = *state;

	/* two instances in one REGISTER: two generations; one instance
	 * with two flows: one */
	registered(fx, "c1", 1,
		   "Contact: <sip:a@192.0.2.1>" INST1 ";reg-id=1\r\n"
		   "Contact: <sip:a@192.0.2.2>" INST1 ";reg-id=2\r\n"
		   "Contact: <sip:b@192.0.2.3>" INST2 "\r\n", 3, 0, 2);
	assert_int_equal(3, location_binding_count(fx->loc));
	assert_int_equal(1, generation(fx, UT_UUID1));
	assert_int_equal(1, generation(fx, UT_UUID2));
	assert_non_null(find(fx, "<" UT_UUID1 ">;reg-id=1"));
	assert_non_null(find(fx, "<" UT_UUID1 ">;reg-id=2"));
	assert_non_null(find(fx, "<" UT_UUID2 ">;reg-id=0"));

	/* only instance 2 restarts */
	registered(fx, "c2", 1, "Contact: <sip:b@192.0.2.3>" INST2 "\r\n",
		   1, 0, 1);
	assert_int_equal(1, generation(fx, UT_UUID1));
	assert_int_equal(2, generation(fx, UT_UUID2));
	assert_string_equal("c1",
			    aor_instance_find(alice(fx), UT_UUID1)->callid);
}


/*
 * RFC 5626 §4.2: an outbound UA registers each flow (reg-id) with its own
 * REGISTER and "each of these REGISTER requests will use a unique
 * Call-ID" (example in §10: flow 2 "is similar except that the Call-ID has
 * changed, the reg-id is 2").  RFC 5627 §5.1 compares the Call-ID with the
 * most recently registered contact of the same AOR, instance ID "and, if
 * the contact in the REGISTER request is registering a flow, reg-id".
 * A refresh of flow 1 with flow 1's unchanged Call-ID must therefore not
 * invalidate the temp-gruus.
 */
static void test_gruu_generation_outbound_flows(void **state)
{
	struct fx *fx = *state;
	struct reg_update *up = NULL;
	struct reg_error rerr;
	uint64_t before;

	registered(fx, "flow1-cid", 1, "Supported: gruu, outbound\r\n"
		   "Contact: <sip:a@192.0.2.1;transport=tcp>" INST1
		   ";reg-id=1\r\n", 1, 0, 1);
	assert_int_equal(1, generation(fx, UT_UUID1));

	/* flow 2, through another edge proxy, with its own Call-ID */
	assert_int_equal(0, compute(fx, &up, &rerr, "flow2-cid", 1,
		"Supported: gruu, outbound\r\n"
		"Contact: <sip:a@192.0.2.1;transport=tcp>" INST1
		";reg-id=2\r\n"));
	assert_int_equal(0, reg_update_apply(up, fx->loc));
	mem_deref(up);
	assert_int_equal(2, location_binding_count(fx->loc));
	before = generation(fx, UT_UUID1);

	/* flow 1 refreshes: same Call-ID as flow 1's binding, higher CSeq */
	assert_int_equal(0, compute(fx, &up, &rerr, "flow1-cid", 2,
		"Supported: gruu, outbound\r\n"
		"Contact: <sip:a@192.0.2.1;transport=tcp>" INST1
		";reg-id=1\r\n"));
	assert_int_equal(1, list_count(&up->puts));
	unsigned gens = list_count(&up->gens);
	assert_int_equal(0, reg_update_apply(up, fx->loc));
	mem_deref(up);
	if (gens)
		fail_msg("refresh of flow 1 with its own Call-ID starts GRUU "
			 "generation %llu (was %llu): every temp-gruu of the "
			 "instance is invalidated",
			 (unsigned long long)generation(fx, UT_UUID1),
			 (unsigned long long)before);
	assert_int_equal(before, generation(fx, UT_UUID1));
}


/* ---- max_contacts, atomicity --------------------------------------------- */

/* URI equivalence is not transitive: a;foo=1 and a;foo=2 each equal a
 * stored a but not each other, so both pass the request's own duplicate
 * check and name one binding. */
static void test_two_contacts_one_binding(void **state)
{
	struct fx *fx = *state;

	registered(fx, "c1", 1, "Contact: <sip:a@192.0.2.1>\r\n", 1, 0, 0);

	/* two removals of one binding: a count that once wrapped around */
	refused(fx, "c2", 1, "Contact: <sip:a@192.0.2.1;foo=1>;expires=0\r\n"
		"Contact: <sip:a@192.0.2.1;foo=2>;expires=0\r\n", 400,
		"Duplicate Contact");
	/* a removal and a refresh of it: a count that once went short */
	refused(fx, "c2", 2, "Contact: <sip:a@192.0.2.1;foo=1>;expires=0\r\n"
		"Contact: <sip:a@192.0.2.1;foo=2>\r\n", 400,
		"Duplicate Contact");
	assert_int_equal(1, location_binding_count(fx->loc));
}


static void test_max_contacts(void **state)
{
	struct fx *fx = *state;

	registered(fx, "c1", 1, "Contact: <sip:a@192.0.2.1>\r\n"
		   "Contact: <sip:b@192.0.2.1>\r\n"
		   "Contact: <sip:c@192.0.2.1>\r\n", 3, 0, 0);

	/* 3 existing + 2 new = 5 > 4 */
	refused(fx, "c2", 1, "Contact: <sip:d@192.0.2.1>\r\n"
		"Contact: <sip:e@192.0.2.1>\r\n", 403,
		"Too Many Contacts (max 4)");
	assert_int_equal(3, location_binding_count(fx->loc));
	assert_null(find(fx, "sip:d@192.0.2.1"));

	/* 3 existing + 2 new - 1 removed = 4 */
	registered(fx, "c2", 2, "Contact: <sip:d@192.0.2.1>\r\n"
		   "Contact: <sip:e@192.0.2.1>\r\n"
		   "Contact: <sip:a@192.0.2.1>;expires=0\r\n", 2, 1, 0);
	assert_int_equal(4, location_binding_count(fx->loc));

	/* refreshing all 4 is no growth */
	registered(fx, "c2", 3, "Contact: <sip:b@192.0.2.1>\r\n"
		   "Contact: <sip:c@192.0.2.1>\r\n"
		   "Contact: <sip:d@192.0.2.1>\r\n"
		   "Contact: <sip:e@192.0.2.1>\r\n", 4, 0, 0);
	assert_int_equal(4, location_binding_count(fx->loc));

	/* one more is */
	refused(fx, "c3", 1, "Contact: <sip:f@192.0.2.1>\r\n", 403,
		"Too Many Contacts (max 4)");
	assert_int_equal(4, location_binding_count(fx->loc));

	/* a swap (one out, one in) keeps it at 4 */
	registered(fx, "c3", 2, "Contact: <sip:b@192.0.2.1>;expires=0\r\n"
		   "Contact: <sip:f@192.0.2.1>\r\n", 1, 1, 0);
	assert_int_equal(4, location_binding_count(fx->loc));
	assert_null(find(fx, "sip:b@192.0.2.1"));
	assert_non_null(find(fx, "sip:f@192.0.2.1"));
}


static void test_atomic_stale_second_contact(void **state)
{
	struct fx *fx = *state;
	struct binding *b;

	registered(fx, "c1", 10, "Contact: <sip:old@192.0.2.1>" INST1 "\r\n",
		   1, 0, 1);
	registered(fx, "c2", 1, "Contact: <sip:x@192.0.2.5>\r\n", 1, 0, 0);
	b = find(fx, KEY1);
	assert_non_null(b);

	/* the first contact is new, the second is stale: nothing at all */
	refused(fx, "c1", 9, "Contact: <sip:new@192.0.2.2>\r\n"
		"Contact: <sip:old@192.0.2.1>" INST1 "\r\n", 500, "CSeq");
	/* a removal first, then the stale one */
	refused(fx, "c1", 9, "Contact: <sip:x@192.0.2.5>;expires=0\r\n"
		"Contact: <sip:old@192.0.2.1>" INST1 "\r\n", 500, "CSeq");

	assert_int_equal(2, location_binding_count(fx->loc));
	assert_null(find(fx, "sip:new@192.0.2.2"));
	assert_non_null(find(fx, "sip:x@192.0.2.5"));
	assert_ptr_equal(b, find(fx, KEY1));
	assert_int_equal(10, b->cseq);
	assert_int_equal(1, generation(fx, UT_UUID1));
	assert_string_equal("c1",
			    aor_instance_find(alice(fx), UT_UUID1)->callid);
}


/* ---- persist + apply together ------------------------------------------- */

static void test_apply_mixed(void **state)
{
	struct fx *fx = *state;
	struct reg_update *up = NULL;
	struct reg_error rerr;
	struct aor *aor;

	registered(fx, "c1", 1, "Contact: <sip:a@192.0.2.1>\r\n"
		   "Contact: <sip:b@192.0.2.2>\r\n", 2, 0, 0);

	/* refresh a, remove b, add an instance: 2 puts, 1 del, 1 gen */
	assert_int_equal(0, compute(fx, &up, &rerr, "c1", 2,
		"Contact: <sip:a@192.0.2.1>;expires=300\r\n"
		"Contact: <sip:b@192.0.2.2>;expires=0\r\n"
		"Contact: <sip:c@192.0.2.3>" INST2 ";reg-id=1\r\n"));
	assert_int_equal(2, list_count(&up->puts));
	assert_int_equal(1, list_count(&up->dels));
	assert_int_equal(1, list_count(&up->gens));
	assert_false(reg_update_is_empty(up));
	/* 4 changes and the notification for the other nodes */
	persisted(up, 2, 1, 1);
	/* persisting twice adds the same statements again: it reads only */
	persisted(up, 2, 1, 1);

	/* computing touched nothing */
	assert_int_equal(2, location_binding_count(fx->loc));
	assert_non_null(find(fx, "sip:b@192.0.2.2"));
	assert_null(aor_instance_find(alice(fx), UT_UUID2));

	assert_int_equal(0, reg_update_apply(up, fx->loc));
	mem_deref(up);

	aor = alice(fx);
	assert_non_null(aor);
	assert_int_equal(2, location_binding_count(fx->loc));
	assert_int_equal(2, list_count(&aor->bindings));
	assert_null(find(fx, "sip:b@192.0.2.2"));
	assert_true(find(fx, "sip:a@192.0.2.1")->expires ==
		    fx->now_ms / 1000 + 300);
	assert_int_equal(1, find(fx, "<" UT_UUID2 ">;reg-id=1")->reg_id);
	assert_int_equal(1, generation(fx, UT_UUID2));
	/* a, c were both updated now; both ahead of nothing older */
	assert_true(((struct binding *)aor->bindings.head->data)->updated_ms
		    == fx->now_ms);

	/* the location expires them when due */
	assert_int_equal(1, location_expire(fx->loc,
					    fx->now_ms / 1000 + 300));
	assert_int_equal(1, location_binding_count(fx->loc));
}


static void test_apply_order_most_recent_first(void **state)
{
	struct fx *fx = *state;
	struct aor *aor;

	registered(fx, "c1", 1, "Contact: <sip:a@192.0.2.1>\r\n", 1, 0, 0);
	registered(fx, "c2", 1, "Contact: <sip:b@192.0.2.2>\r\n", 1, 0, 0);
	registered(fx, "c3", 1, "Contact: <sip:c@192.0.2.3>\r\n", 1, 0, 0);
	aor = alice(fx);
	assert_string_equal("sip:c@192.0.2.3",
			    ((struct binding *)aor->bindings.head->data)->key);

	registered(fx, "c1", 2, "Contact: <sip:a@192.0.2.1>\r\n", 1, 0, 0);
	assert_string_equal("sip:a@192.0.2.1",
			    ((struct binding *)aor->bindings.head->data)->key);
	assert_string_equal("sip:c@192.0.2.3",
		((struct binding *)aor->bindings.head->next->data)->key);
	assert_string_equal("sip:b@192.0.2.2",
		((struct binding *)aor->bindings.tail->data)->key);
}


static void test_persist_counts(void **state)
{
	struct fx *fx = *state;
	struct reg_update *up = NULL;
	struct reg_error rerr;

	/* nothing to write for an empty update */
	assert_int_equal(0, compute(fx, &up, &rerr, "c1", 1, ""));
	assert_true(reg_update_is_empty(up));
	persisted(up, 0, 0, 0);
	assert_int_equal(0, reg_update_apply(up, fx->loc));
	mem_deref(up);
	assert_int_equal(0, location_aor_count(fx->loc));

	/* 1 put + 1 gen */
	registered(fx, "c1", 2, "Contact: <sip:a@192.0.2.1>" INST1 "\r\n",
		   1, 0, 1);
	/* 1 put */
	registered(fx, "c1", 3, "Contact: <sip:a@192.0.2.1>" INST1 "\r\n",
		   1, 0, 0);
	/* 1 del */
	registered(fx, "c1", 4, "Contact: *\r\nExpires: 0\r\n", 0, 1, 0);
}


int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_new_binding),
		T(test_refresh_keeps_key),
		T(test_refresh_instance_new_uri),
		T(test_stale_cseq),
		T(test_remove),
		T(test_wildcard),
		T(test_gruu_generation),
		T(test_gruu_generation_several),
		T(test_gruu_generation_outbound_flows),
		T(test_max_contacts),
		T(test_two_contacts_one_binding),
		T(test_atomic_stale_second_contact),
		T(test_apply_mixed),
		T(test_apply_order_most_recent_first),
		T(test_persist_counts),
	};
#undef T

	return cmocka_run_group_tests(tests, ut_group_setup,
				      ut_group_teardown);
}

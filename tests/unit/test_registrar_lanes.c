/*
 * Unit tests for the per-AOR lanes of registrar/registrar.c, through
 * registrar_handle() with a real PostgreSQL (tests/unit/with_db.sh):
 * requests for one AOR are serialised, each computed against what its
 * predecessor committed, so two racing REGISTERs cannot both pass the
 * max_contacts check; the next starts only when the previous committed
 * (one commit each), while other AORs share a commit; a request that
 * fails, before the database or in it, does not stall the lane.
 *
 * The REGISTERs are handed to the registrar back to back, in one turn of
 * the loop, as if they had arrived together; the answers come back over
 * loopback UDP to a socket of the test, in the order sent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <re.h>
#include "db/db.h"
#include "keys/nodekey.h"
#include "location/gruu.h"
#include "location/location.h"
#include "location/persist.h"
#include "registrar/registrar.h"
#include "unit_support.h"
#include "db_support.h"

enum { ANSWERS_MAX = 8 };

struct answer {
	uint16_t scode;
	char reason[64];
	char callid[32];
	uint32_t contacts;       /* Contact values in it */
};

struct fixture {
	struct locus_config cfg;
	struct location *loc;
	struct db *db;
	struct node_key *node_key;
	struct gruu_key *key;
	struct sip *sip;
	struct registrar *reg;
	struct udp_sock *us;     /* where the answers go */
	struct sa us_addr;
	PGconn *side;
	struct answer ans[ANSWERS_MAX];
	unsigned ansc;
	unsigned sent;
};

static struct fixture fx;


static void answer_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct sip_msg *msg = NULL;
	struct answer *a;

	(void)src;
	(void)arg;
	if (sip_msg_decode(&msg, mb) || fx.ansc >= ANSWERS_MAX) {
		mem_deref(msg);
		return;
	}
	a = &fx.ans[fx.ansc++];
	a->scode = msg->scode;
	(void)pl_strcpy(&msg->reason, a->reason, sizeof(a->reason));
	(void)pl_strcpy(&msg->callid, a->callid, sizeof(a->callid));
	a->contacts = sip_msg_hdr_count(msg, SIP_HDR_CONTACT);
	mem_deref(msg);
}


/* Hands the registrar a REGISTER of USER with Call-ID CALLID, CSeq CSEQ
 * and the header lines HDRS, from the test's socket. */
static void handle(const char *user, const char *callid, uint32_t cseq,
		   const char *hdrs)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(1024);

	assert_non_null(mb);
	assert_int_equal(0, mbuf_printf(mb,
		"REGISTER sip:example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP %J;rport;branch=z9hG4bK-%s-%u\r\n"
		"Max-Forwards: 70\r\n"
		"To: <sip:%s@example.com>\r\n"
		"From: <sip:%s@example.com>;tag=ft-%s\r\n"
		"Call-ID: %s\r\nCSeq: %u REGISTER\r\n"
		"%sContent-Length: 0\r\n\r\n",
		&fx.us_addr, callid, cseq, user, user, callid, callid, cseq,
		hdrs));
	mb->pos = 0;
	assert_int_equal(0, sip_msg_decode(&msg, mb));
	mem_deref(mb);
	msg->src = fx.us_addr;
	msg->tp = SIP_TRANSP_UDP;
	registrar_handle(fx.reg, msg);
	mem_deref(msg);
	++fx.sent;
}


static bool all_answered(void *arg)
{
	(void)arg;
	return fx.ansc >= fx.sent;
}


static void run(void)
{
	assert_true(ut_run_until(all_answered, NULL));
	assert_int_equal(fx.sent, fx.ansc);
}


static void assert_answer(unsigned i, uint16_t scode, const char *reason,
			  const char *callid)
{
	assert_true(i < fx.ansc);
	assert_int_equal(scode, fx.ans[i].scode);
	assert_string_equal(reason, fx.ans[i].reason);
	assert_string_equal(callid, fx.ans[i].callid);
}


static long stored_bindings(const char *aor)
{
	char sql[128];

	re_snprintf(sql, sizeof(sql), "SELECT count(*) FROM locus.location"
		    " WHERE aor = '%s'", aor);
	return ut_sql_long(fx.side, sql);
}


static int setup(void **state)
{
	uint8_t raw[32] = {5};
	char errbuf[256] = "";
	struct sa any;
	struct registrar_deps deps;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	assert_int_equal(0, libre_init());
	ut_config(&fx.cfg);
	fx.side = ut_side_connect();
	assert_int_equal(0, location_alloc(&fx.loc));
	assert_int_equal(0, node_key_from_bytes(&fx.node_key, raw));
	assert_int_equal(0, gruu_key_alloc(&fx.key, fx.node_key));
	if (db_open(&fx.db, ut_conninfo(), persist_statements,
		    persist_statementc, persist_session_sql, errbuf,
		    sizeof(errbuf)))
		fail_msg("db_open: %s", errbuf);

	assert_int_equal(0, sa_set_str(&any, "127.0.0.1", 0));
	assert_int_equal(0, sip_alloc(&fx.sip, NULL, 32, 32, 32, "lanes",
				      NULL, NULL));
	assert_int_equal(0, sip_transp_add(fx.sip, SIP_TRANSP_UDP, &any));
	assert_int_equal(0, udp_listen(&fx.us, &any, answer_recv, NULL));
	assert_int_equal(0, udp_local_get(fx.us, &fx.us_addr));

	deps = (struct registrar_deps){.sip = fx.sip, .cfg = &fx.cfg,
				       .loc = fx.loc, .db = fx.db,
				       .gruu_key = fx.key};
	assert_int_equal(0, registrar_alloc(&fx.reg, &deps));
	return 0;
}


static int teardown(void **state)
{
	(void)state;
	fx.db = mem_deref(fx.db);      /* first: pending ones are answered */
	fx.reg = mem_deref(fx.reg);
	fx.us = mem_deref(fx.us);
	fx.sip = mem_deref(fx.sip);
	fx.loc = mem_deref(fx.loc);
	fx.key = mem_deref(fx.key);
	fx.node_key = mem_deref(fx.node_key);
	ut_sql(fx.side, "TRUNCATE locus.location, locus.instance");
	PQfinish(fx.side);
	libre_close();
	return 0;
}


/* Two devices of alice register at once with room for one: had both
 * been checked against the empty AOR, both would be bound.  The second
 * is checked against what the first committed, and refused. */
static void test_racing_registers_cannot_both_pass_max_contacts(void **state)
{
	(void)state;
	fx.cfg.max_contacts = 1;
	handle("alice", "race-1", 1, "Contact: <sip:a@192.0.2.10:5062>\r\n");
	handle("alice", "race-2", 1, "Contact: <sip:b@192.0.2.11:5062>\r\n");
	run();

	assert_answer(0, 200, "OK", "race-1");
	assert_answer(1, 403, "Too Many Contacts (max 1)", "race-2");
	assert_int_equal(1, stored_bindings("alice@example.com"));
	assert_int_equal(1, location_binding_count(fx.loc));
}


/* Requests of one AOR each wait for the commit of the one before (a
 * commit each), and each 200 lists what was committed up to it. */
static void test_one_aor_one_commit_after_another(void **state)
{
	const struct db_stats *st;
	(void)state;

	handle("alice", "seq-1", 1, "Contact: <sip:a@192.0.2.10:5062>\r\n");
	handle("alice", "seq-2", 1, "Contact: <sip:b@192.0.2.11:5062>\r\n");
	handle("alice", "seq-3", 1, "Contact: <sip:c@192.0.2.12:5062>\r\n");
	run();

	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(200, fx.ans[i].scode);
		assert_int_equal(i + 1, fx.ans[i].contacts);
	}
	assert_string_equal("seq-1", fx.ans[0].callid);
	assert_string_equal("seq-3", fx.ans[2].callid);
	st = db_stats(fx.db);
	assert_int_equal(3, st->batches);
	assert_int_equal(1, st->batch_max);
	assert_int_equal(3, stored_bindings("alice@example.com"));
}


/* Different AORs do not wait for each other: their writes share one
 * commit. */
static void test_different_aors_share_a_commit(void **state)
{
	const struct db_stats *st;
	(void)state;

	handle("alice", "par-1", 1, "Contact: <sip:a@192.0.2.10:5062>\r\n");
	handle("bob", "par-2", 1, "Contact: <sip:b@192.0.2.11:5062>\r\n");
	handle("carol", "par-3", 1, "Contact: <sip:c@192.0.2.12:5062>\r\n");
	run();

	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(200, fx.ans[i].scode);
	st = db_stats(fx.db);
	assert_int_equal(1, st->batches);
	assert_int_equal(3, st->batch_max);
	assert_int_equal(1, stored_bindings("bob@example.com"));
}


/* A request refused before the database, and one the database refused
 * (another node stored a newer CSeq of its Call-ID, which this node's
 * memory does not know yet), each give way to the next of the lane. */
static void test_failed_request_does_not_stall_the_lane(void **state)
{
	(void)state;
	ut_sql(fx.side, "INSERT INTO locus.location (aor, binding_key,"
	       " contact, expires, call_id, cseq) VALUES ('alice@example.com',"
	       " 'sip:a@192.0.2.10:5062', 'sip:a@192.0.2.10:5062',"
	       " now() + interval '1 hour', 'stale', 10)");

	handle("alice", "brief", 1, "Contact: <sip:a@192.0.2.10:5062>\r\n"
	       "Expires: 5\r\n");
	handle("alice", "stale", 5, "Contact: <sip:a@192.0.2.10:5062>\r\n");
	handle("alice", "fine", 1, "Contact: <sip:b@192.0.2.11:5062>\r\n");
	run();

	assert_int_equal(423, fx.ans[0].scode);
	assert_answer(1, 500, "Stale CSeq: Out-of-Order REGISTER Not Applied",
		      "stale");
	assert_answer(2, 200, "OK", "fine");
	/* the row another node wrote is as it was */
	assert_int_equal(10, ut_sql_long(fx.side, "SELECT cseq FROM"
					 " locus.location WHERE call_id ="
					 " 'stale'"));
}


/* A lane empties when its last request is answered: later requests of
 * the AOR start at once, against the state committed so far. */
static void test_lane_reused_after_it_emptied(void **state)
{
	(void)state;
	fx.cfg.max_contacts = 1;
	handle("alice", "first", 1, "Contact: <sip:a@192.0.2.10:5062>\r\n");
	run();
	handle("alice", "first", 2, "Contact: <sip:a@192.0.2.10:5062>;"
	       "expires=0\r\n");
	handle("alice", "second", 1, "Contact: <sip:b@192.0.2.11:5062>\r\n");
	run();

	assert_answer(1, 200, "OK", "first");
	assert_int_equal(0, fx.ans[1].contacts);
	assert_answer(2, 200, "OK", "second");
	assert_int_equal(1, fx.ans[2].contacts);
	assert_int_equal(1, stored_bindings("alice@example.com"));
}


int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_racing_registers_cannot_both_pass_max_contacts),
		T(test_one_aor_one_commit_after_another),
		T(test_different_aors_share_a_commit),
		T(test_failed_request_does_not_stall_the_lane),
		T(test_lane_reused_after_it_emptied),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}

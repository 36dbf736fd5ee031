/*
 * The database layer (location/db.c, persist.c) driven directly, inside
 * a libre loop, against a real PostgreSQL: run by db_layer.sh with
 * LOCUS_TEST_CONNINFO (a database of its own).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include <re.h>
#include "common/log.h"
#include "location/db.h"
#include "location/persist.h"

/* ---- running the loop ------------------------------------------------ */

typedef bool (cond_h)(void *arg);

struct wait {
	struct tmr tick;
	cond_h *cond;
	void *arg;
	uint64_t deadline;
	bool met;
};


static void wait_tick(void *arg)
{
	struct wait *w = arg;

	w->met = w->cond(w->arg);
	if (w->met || tmr_jiffies() >= w->deadline) {
		re_cancel();
		return;
	}
	tmr_start(&w->tick, 10, wait_tick, w);
}


/* Runs the loop until COND(ARG) holds, at most MS milliseconds. */
static bool loop_until(cond_h *cond, void *arg, uint64_t ms)
{
	struct wait w = {.cond = cond, .arg = arg};

	tmr_init(&w.tick);
	w.deadline = tmr_jiffies() + ms;
	tmr_start(&w.tick, 0, wait_tick, &w);
	(void)re_main(NULL);
	tmr_cancel(&w.tick);
	return w.met;
}


/* ---- transactions ---------------------------------------------------- */

static const struct db_statement statements[] = {
	{"ping", "SELECT 1", 0, NULL},
	{"raise", "SELECT locus_test.raise($1, $2)", 2, NULL},
};

struct outcome {
	bool done;
	int err;
	char sqlstate[8];
	char errmsg[256];
};


static void txn_done(int err, const char *sqlstate, const char *errmsg,
		     void *arg)
{
	struct outcome *o = arg;

	o->done = true;
	o->err = err;
	str_ncpy(o->sqlstate, sqlstate ? sqlstate : "", sizeof(o->sqlstate));
	str_ncpy(o->errmsg, errmsg ? errmsg : "", sizeof(o->errmsg));
}


/* Submits "raise" (CODE, MSG), or "ping" when CODE is NULL. */
static int submit(struct db *db, struct outcome *o, const char *code,
		  const char *msg)
{
	struct db_txn *tx = NULL;
	int err;

	memset(o, 0, sizeof(*o));
	err = db_txn_alloc(&tx, txn_done, o);
	if (!err)
		err = code ? db_txn_add(tx, "raise", 2,
					(const char *const[]){code, msg})
			   : db_txn_add(tx, "ping", 0, NULL);
	if (!err)
		err = db_txn_submit(db, tx);
	mem_deref(tx);
	return err;
}


static bool outcome_done(void *arg)
{
	return ((struct outcome *)arg)->done;
}


static const char *conninfo(void)
{
	const char *ci = getenv("LOCUS_TEST_CONNINFO");

	if (!ci)
		fail_msg("LOCUS_TEST_CONNINFO is not set");
	return ci;
}


/* A function that raises any SQLSTATE with any message. */
static int setup_raise(void **state)
{
	PGconn *conn = PQconnectdb(conninfo());
	PGresult *res;
	bool ok;

	(void)state;
	res = PQexec(conn, "CREATE SCHEMA IF NOT EXISTS locus_test;"
		     " CREATE OR REPLACE FUNCTION locus_test.raise(code text,"
		     " msg text) RETURNS void LANGUAGE plpgsql AS"
		     " $$ BEGIN RAISE EXCEPTION USING ERRCODE = code,"
		     " MESSAGE = msg; END $$");
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		print_error("setup: %s", PQerrorMessage(conn));
	PQclear(res);
	PQfinish(conn);
	return ok ? 0 : -1;
}


static struct db *open_db(void)
{
	char errbuf[256] = "";
	struct db *db = NULL;

	if (db_open(&db, conninfo(), statements, ARRAY_SIZE(statements),
		    NULL, errbuf, sizeof(errbuf)))
		fail_msg("db_open: %s", errbuf);
	return db;
}


/* ---- SQLSTATE -------------------------------------------------------- */

/* The completion handler gets the server's SQLSTATE: what a caller tells
 * errors apart by, whatever their wording. */
static void test_sqlstate_reaches_the_handler(void **state)
{
	struct db *db = open_db();
	struct outcome stale, worded, ok;
	(void)state;

	assert_int_equal(0, submit(db, &stale, "LS001", "worded otherwise"));
	assert_true(loop_until(outcome_done, &stale, 5000));
	assert_int_not_equal(0, stale.err);
	assert_string_equal("LS001", stale.sqlstate);
	assert_non_null(strstr(stale.errmsg, "worded otherwise"));
	assert_true(persist_is_stale_cseq(stale.sqlstate));

	/* the schema's wording, someone else's code: not a stale CSeq */
	assert_int_equal(0, submit(db, &worded, "P0001",
				   "locus: stale CSeq 1 (stored 2)"));
	assert_true(loop_until(outcome_done, &worded, 5000));
	assert_int_not_equal(0, worded.err);
	assert_string_equal("P0001", worded.sqlstate);
	assert_false(persist_is_stale_cseq(worded.sqlstate));

	/* committed: neither */
	assert_int_equal(0, submit(db, &ok, NULL, NULL));
	assert_true(loop_until(outcome_done, &ok, 5000));
	assert_int_equal(0, ok.err);
	assert_string_equal("", ok.sqlstate);
	assert_string_equal("", ok.errmsg);

	assert_false(persist_is_stale_cseq(NULL));
	mem_deref(db);
}


static bool all_done(void *arg)
{
	struct outcome *o = arg;

	return o[0].done && o[1].done && o[2].done;
}


/* In a group commit the failing transaction gets its own SQLSTATE, and
 * the others, committed again one by one, none. */
static void test_sqlstate_in_a_batch(void **state)
{
	struct db *db = open_db();
	struct outcome o[3];
	(void)state;

	assert_int_equal(0, submit(db, &o[0], NULL, NULL));
	assert_int_equal(0, submit(db, &o[1], "LS001", "stale"));
	assert_int_equal(0, submit(db, &o[2], NULL, NULL));
	assert_true(loop_until(all_done, o, 5000));
	assert_int_equal(0, o[0].err);
	assert_string_equal("", o[0].sqlstate);
	assert_int_not_equal(0, o[1].err);
	assert_string_equal("LS001", o[1].sqlstate);
	assert_int_equal(0, o[2].err);
	assert_string_equal("", o[2].sqlstate);
	mem_deref(db);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_sqlstate_reaches_the_handler,
				       setup_raise),
		cmocka_unit_test_setup(test_sqlstate_in_a_batch, setup_raise),
	};
	int failed;

	if (libre_init())
		return 1;
	log_set_level(LOG_LEVEL_WARN);
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	libre_close();
	return failed;
}

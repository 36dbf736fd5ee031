/* Shared helpers for the unit tests that need PostgreSQL (run by
 * tests/unit/with_db.sh, which gives each a database of its own with the
 * locus schema in LOCUS_TEST_CONNINFO): a blocking side connection to look
 * at and change the database the way psql would, and a bounded run of the
 * libre loop until a condition holds.  Include after <cmocka.h>. */
#ifndef LOCUS_DB_SUPPORT_H
#define LOCUS_DB_SUPPORT_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include <re.h>

enum { UT_RUN_BOUND_MS = 10000 };   /* a wait that takes longer failed */


static inline const char *ut_conninfo(void)
{
	const char *ci = getenv("LOCUS_TEST_CONNINFO");

	if (!ci || !*ci)
		fail_msg("LOCUS_TEST_CONNINFO is not set: run this test "
			 "through tests/unit/with_db.sh (ctest does)");
	return ci;
}


/* A blocking connection of the test's own, beside the one under test. */
static inline PGconn *ut_side_connect(void)
{
	PGconn *conn = PQconnectdb(ut_conninfo());

	if (PQstatus(conn) != CONNECTION_OK)
		fail_msg("cannot connect: %s", PQerrorMessage(conn));
	return conn;
}


/* Runs SQL (no parameters) on CONN; fails the test on an error. */
static inline void ut_sql(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
}


/* The first column of the first row of SQL as an integer (-1: no row). */
static inline long ut_sql_long(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	long v = -1;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(res));
	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		v = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}


typedef bool (ut_cond_h)(void *arg);

struct ut_wait {
	struct tmr tmr;
	ut_cond_h *condh;
	void *arg;
	uint64_t deadline;
	bool met;
};


static inline void ut_wait_poll(void *arg)
{
	struct ut_wait *w = arg;

	if (w->condh(w->arg)) {
		w->met = true;
		re_cancel();
		return;
	}
	if (tmr_jiffies() >= w->deadline) {
		re_cancel();
		return;
	}
	tmr_start(&w->tmr, 5, ut_wait_poll, w);
}


/* Runs the loop until CONDH(ARG) holds, checked every few milliseconds,
 * at most UT_RUN_BOUND_MS.  Returns whether it held. */
static inline bool ut_run_until(ut_cond_h *condh, void *arg)
{
	struct ut_wait w = {.condh = condh, .arg = arg,
			    .deadline = tmr_jiffies() + UT_RUN_BOUND_MS};

	tmr_init(&w.tmr);
	if (condh(arg))
		return true;
	tmr_start(&w.tmr, 0, ut_wait_poll, &w);
	(void)re_main(NULL);
	tmr_cancel(&w.tmr);
	return w.met;
}

#endif

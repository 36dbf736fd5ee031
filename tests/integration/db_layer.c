/*
 * The database layer (db/db.c, db/pgasync.c, location/persist.c) driven
 * directly, inside a libre loop, against a real PostgreSQL: run by
 * db_layer.sh with LOCUS_TEST_CONNINFO (a database of its own) and
 * LOCUS_TEST_BARE_CONNINFO (a database without the locus schema).
 *
 * fd_listen() is defined here, in front of libre's: the code under test
 * calls this one, which can be told to fail the way libre's does when
 * the kernel refuses a descriptor (it forgets the descriptor and returns
 * the error).  PQclear() likewise, to see every result the code under
 * test releases.
 */
#define _GNU_SOURCE   /* RTLD_NEXT */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <libpq-fe.h>
#include <re.h>
#include "common/log.h"
#include "db/db.h"
#include "location/persist.h"
#include "db/pgasync.h"

typedef int (fd_listen_f)(int fd, int flags, fd_h *fh, void *arg);
typedef void (pqclear_f)(PGresult *res);

static struct {
	bool fail;               /* every fd_listen() with flags fails  */
	unsigned failed;         /* how many did                        */
} fdl;

/* error messages released cut short (no final newline) */
static unsigned messages_cut;


int fd_listen(int fd, int flags, fd_h *fh, void *arg)
{
	static fd_listen_f *libre_listen;

	if (!libre_listen)
		libre_listen = (fd_listen_f *)dlsym(RTLD_NEXT, "fd_listen");
	if (!libre_listen)
		return ENOSYS;
	if (fdl.fail && flags) {
		++fdl.failed;
		(void)libre_listen(fd, 0, NULL, NULL);
		return ENOSPC;   /* what epoll_ctl() says at its limit */
	}
	return libre_listen(fd, flags, fh, arg);
}


/* libpq ends every error message with a newline: one without it was
 * written into by someone who does not own it. */
void PQclear(PGresult *res)
{
	static pqclear_f *libpq_clear;
	const char *msg = res ? PQresultErrorMessage(res) : "";

	if (*msg && msg[strlen(msg) - 1] != '\n')
		++messages_cut;
	if (!libpq_clear)
		libpq_clear = (pqclear_f *)dlsym(RTLD_NEXT, "PQclear");
	if (libpq_clear)
		libpq_clear(res);
}


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


static bool never(void *arg)
{
	(void)arg;
	return false;
}


static bool flag_set(void *arg)
{
	return *(bool *)arg;
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


/* ---- a socket the loop cannot watch ---------------------------------- */

static bool db_up(void *arg)
{
	return db_is_up(arg);
}


/*
 * Once the loop cannot watch the connection's socket, nothing would ever
 * be read from it: the transaction in flight fails at once (its outcome
 * unknown, as after a lost connection), and reconnecting goes on, once a
 * second, until the socket can be watched again.
 */
static void test_unwatchable_socket_reconnects(void **state)
{
	struct db *db = open_db();
	struct outcome lost, ok;
	unsigned failed;
	(void)state;

	fdl.fail = true;
	fdl.failed = 0;
	assert_int_equal(0, submit(db, &lost, NULL, NULL));
	if (!loop_until(outcome_done, &lost, 3000)) {
		fdl.fail = false;
		fail_msg("the transaction hangs on an unwatched socket");
	}
	assert_int_equal(ECONNRESET, lost.err);
	assert_false(db_is_up(db));
	assert_int_equal(ENOTCONN, submit(db, &ok, NULL, NULL));

	/* reconnect attempts, once a second, meet the same refusal, and
	 * go on */
	(void)loop_until(never, NULL, 3500);
	failed = fdl.failed;
	fdl.fail = false;
	if (failed < 3)
		fail_msg("%u refused fd_listen() in 3.5 s: reconnecting "
			 "stopped", failed);
	assert_false(db_is_up(db));

	assert_true(loop_until(db_up, db, 5000));
	assert_int_equal(0, submit(db, &ok, NULL, NULL));
	assert_true(loop_until(outcome_done, &ok, 5000));
	assert_int_equal(0, ok.err);
	mem_deref(db);
}


struct attempt {
	bool done;
	bool connected;
	char errmsg[256];
};


static void attempt_done(PGconn *conn, const char *errmsg, void *arg)
{
	struct attempt *a = arg;

	a->done = true;
	a->connected = conn != NULL;
	str_ncpy(a->errmsg, errmsg ? errmsg : "", sizeof(a->errmsg));
	PQfinish(conn);
}


/* A TCP listener on loopback that never accepts: a connection attempt to
 * it gets as far as waiting for the server's answer. */
static int silent_listener(uint16_t *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(fd, 4) || getsockname(fd, (struct sockaddr *)&sin, &len))
		fail_msg("listener: %s", strerror(errno));
	*port = ntohs(sin.sin_port);
	return fd;
}


/* An attempt whose socket the loop cannot watch fails, from the loop,
 * saying so; it does not wait forever for an event it cannot get. */
static void test_connect_unwatchable_socket_fails(void **state)
{
	struct pgasync *pa = NULL;
	struct attempt a = {0};
	char ci[128];
	uint16_t port;
	int lfd = silent_listener(&port);
	(void)state;

	re_snprintf(ci, sizeof(ci), "host=127.0.0.1 port=%u dbname=x user=x"
		    " connect_timeout=30", port);
	fdl.fail = true;
	fdl.failed = 0;
	assert_int_equal(0, pgasync_connect(&pa, ci, attempt_done, &a));
	assert_false(a.done);    /* never before pgasync_connect returns */
	(void)loop_until(flag_set, &a.done, 3000);
	fdl.fail = false;
	assert_true(fdl.failed >= 1);
	if (!a.done)
		fail_msg("the attempt waits forever on an unwatched socket");
	assert_false(a.connected);
	assert_non_null(strstr(a.errmsg, "cannot watch"));
	mem_deref(pa);
	close(lfd);
}


/* ---- the schema check's message -------------------------------------- */

/* The server's first line, read from libpq's result without writing
 * into it, and without disturbing a strtok() of the caller's. */
static void test_schema_missing_message(void **state)
{
	const char *bare = getenv("LOCUS_TEST_BARE_CONNINFO");
	char list[] = "first,second";
	char errbuf[512] = "";
	(void)state;

	if (!bare)
		fail_msg("LOCUS_TEST_BARE_CONNINFO is not set");
	messages_cut = 0;
	assert_string_equal("first", strtok(list, ","));
	assert_int_equal(ENOENT, persist_check_schema(bare, errbuf,
						      sizeof(errbuf)));
	assert_string_equal("second", strtok(NULL, ","));
	assert_int_equal(0, messages_cut);

	assert_non_null(strstr(errbuf, "the database has no locus schema ("));
	assert_non_null(strstr(errbuf, "\"locus.meta\" does not exist); "
			       "load it with: psql "));
	assert_null(strchr(errbuf, '\n'));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_sqlstate_reaches_the_handler,
				       setup_raise),
		cmocka_unit_test_setup(test_sqlstate_in_a_batch, setup_raise),
		cmocka_unit_test(test_unwatchable_socket_reconnects),
		cmocka_unit_test(test_connect_unwatchable_socket_fails),
		cmocka_unit_test(test_schema_missing_message),
	};
	int failed;

	if (libre_init())
		return 1;
	log_set_level(LOG_LEVEL_WARN);
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	libre_close();
	return failed;
}

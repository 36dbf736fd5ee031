/*
 * Unit tests for db/db.c and db/db_txn.c, the group-committing batcher,
 * against a real PostgreSQL (tests/unit/with_db.sh).  Transactions
 * submitted in one turn of the loop share a batch and a commit; while one
 * batch commits the next waits and grows; a small batch waits a little for
 * more even with no commit in flight; a solo transaction has a batch
 * of its own; executions of an array-capable statement merge into one;
 * a failed batch is retried one transaction at a time; completions come
 * after the commit, in submission order; a lost connection fails what is
 * pending and comes back by itself.
 *
 * The statements work on a table of the test's own, test_kv, whose value
 * must not be 'bad' (so a transaction can be made to fail).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <re.h>
#include "db/db.h"
#include "db_support.h"

static const struct db_statement stmts[] = {
	{"put", "INSERT INTO test_kv (k, v) VALUES ($1, $2)"
	 " ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v", 2, "put_many"},
	{"put_many", "INSERT INTO test_kv (k, v)"
	 " SELECT * FROM unnest($1::text[], $2::text[])"
	 " ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v", 2, NULL},
	{"del", "DELETE FROM test_kv WHERE k = $1", 1, NULL},
	{"get", "SELECT v FROM test_kv WHERE k = $1", 1, NULL},
	{"sleep", "SELECT pg_sleep($1::float8)", 1, NULL},
};

enum { TXNS_MAX = 8 };

/* What a transaction saw when it completed. */
struct outcome {
	bool done;
	int err;
	char errmsg[256];
	char sqlstate[6];
	bool committed_then;   /* its row was visible to others by then */
	char rows[64];         /* what its "get" returned, if any       */
};

struct fixture {
	struct db *db;
	PGconn *side;
	struct outcome out[TXNS_MAX];
	const char *key[TXNS_MAX];  /* the row each one writes, if any  */
	char order[TXNS_MAX + 1];   /* completions, as '0' + index      */
	bool in_submit;             /* inside db_txn_submit()           */
	unsigned submitted;
};

static struct fixture fx;


static void done(int err, const char *sqlstate, const char *errmsg,
		 void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	struct outcome *o = &fx.out[i];
	char sql[128];

	assert_false(fx.in_submit);
	assert_false(o->done);
	o->done = true;
	o->err = err;
	str_ncpy(o->errmsg, errmsg ? errmsg : "", sizeof(o->errmsg));
	str_ncpy(o->sqlstate, sqlstate ? sqlstate : "", sizeof(o->sqlstate));
	fx.order[strlen(fx.order)] = (char)('0' + i);
	if (fx.key[i] && !err) {
		re_snprintf(sql, sizeof(sql), "SELECT count(*) FROM test_kv"
			    " WHERE k = '%s'", fx.key[i]);
		o->committed_then = 1 == ut_sql_long(fx.side, sql);
	}
}


static void rows(const struct pg_result *res, void *arg)
{
	const PGresult *r = (const PGresult *)res;
	struct outcome *o = &fx.out[(uintptr_t)arg];

	str_ncpy(o->rows, PQntuples(r) ? PQgetvalue(r, 0, 0) : "(none)",
		 sizeof(o->rows));
}


static struct db_txn *txn_new(unsigned i)
{
	struct db_txn *tx = NULL;

	assert_true(i < TXNS_MAX);
	assert_int_equal(0, db_txn_alloc(&tx, done, (void *)(uintptr_t)i));
	return tx;
}


static void put(struct db_txn *tx, const char *k, const char *v)
{
	const char *values[2] = {k, v};

	assert_int_equal(0, db_txn_add(tx, "put", 2, values));
}


static void get(struct db_txn *tx, unsigned i, const char *k)
{
	assert_int_equal(0, db_txn_add_query(tx, "get", 1, &k, rows,
					     (void *)(uintptr_t)i));
}


static void submit(struct db_txn *tx)
{
	fx.in_submit = true;
	assert_int_equal(0, db_txn_submit(fx.db, tx));
	fx.in_submit = false;
	mem_deref(tx);
	++fx.submitted;
}


/* Transaction I writes K=V alone. */
static void submit_put(unsigned i, const char *k, const char *v)
{
	struct db_txn *tx = txn_new(i);

	fx.key[i] = k;
	put(tx, k, v);
	submit(tx);
}


static bool all_done(void *arg)
{
	(void)arg;
	return strlen(fx.order) == fx.submitted;
}


static void run_all(void)
{
	assert_true(ut_run_until(all_done, NULL));
}


static const char *value_of(const char *k, char *buf, size_t sz)
{
	const char *params[1] = {k};
	PGresult *res = PQexecParams(fx.side, "SELECT v, v IS NULL FROM"
				     " test_kv WHERE k = $1", 1, NULL, params,
				     NULL, NULL, 0);

	assert_int_equal(PGRES_TUPLES_OK, PQresultStatus(res));
	if (!PQntuples(res))
		str_ncpy(buf, "(no row)", sz);
	else if (0 == strcmp("t", PQgetvalue(res, 0, 1)))
		str_ncpy(buf, "(null)", sz);
	else
		str_ncpy(buf, PQgetvalue(res, 0, 0), sz);
	PQclear(res);
	return buf;
}


static int setup(void **state)
{
	char errbuf[256] = "";

	(void)state;
	memset(&fx, 0, sizeof(fx));
	assert_int_equal(0, libre_init());
	fx.side = ut_side_connect();
	ut_sql(fx.side, "DROP TABLE IF EXISTS test_kv");
	ut_sql(fx.side, "CREATE TABLE test_kv (k text PRIMARY KEY,"
		      " v text CHECK (v <> 'bad'))");
	if (db_open(&fx.db, ut_conninfo(), stmts, ARRAY_SIZE(stmts), NULL,
		    errbuf, sizeof(errbuf)))
		fail_msg("db_open: %s", errbuf);
	return 0;
}


static int teardown(void **state)
{
	(void)state;
	fx.db = mem_deref(fx.db);
	PQfinish(fx.side);
	libre_close();
	return 0;
}


/* Submitted in one turn: one batch, one commit; each completion after
 * the commit (its row visible from elsewhere), never inside submit, in
 * the order submitted. */
static void test_one_turn_one_commit_in_order(void **state)
{
	const struct db_stats *st;
	(void)state;

	submit_put(0, "a", "1");
	submit_put(1, "b", "2");
	submit_put(2, "c", "3");
	submit_put(3, "d", "4");
	assert_string_equal("", fx.order);
	run_all();

	assert_string_equal("0123", fx.order);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(0, fx.out[i].err);
		assert_true(fx.out[i].committed_then);
	}
	st = db_stats(fx.db);
	assert_int_equal(1, st->batches);
	assert_int_equal(4, st->txns);
	assert_int_equal(4, st->batch_max);
	assert_int_equal(0, st->retried_batches);
}


/* Submitted while another batch is committing (a second long): they
 * wait for it, then all go out together in the next batch. */
static void submit_one_more(void *arg)
{
	(void)arg;
	submit_put(1, "x", "1");
}


static void submit_two_more(void *arg)
{
	(void)arg;
	submit_put(2, "y", "2");
	submit_put(3, "z", "3");
}


static bool four_done(void *arg)
{
	(void)arg;
	return strlen(fx.order) == 4;
}


static void test_queue_waits_for_the_commit_in_flight(void **state)
{
	struct db_txn *tx = txn_new(0);
	const char *secs = "1";
	struct tmr t1, t2;
	const struct db_stats *st;
	(void)state;

	assert_int_equal(0, db_txn_add(tx, "sleep", 1, &secs));
	submit(tx);
	tmr_init(&t1);
	tmr_init(&t2);
	tmr_start(&t1, 50, submit_one_more, NULL);
	tmr_start(&t2, 100, submit_two_more, NULL);
	assert_true(ut_run_until(four_done, NULL));

	assert_string_equal("0123", fx.order);
	st = db_stats(fx.db);
	assert_int_equal(2, st->batches);
	assert_int_equal(3, st->batch_max);
	for (unsigned i = 1; i < 4; i++)
		assert_true(fx.out[i].committed_then);
}


/* A solo transaction shares its commit with nobody, before or after. */
static void test_solo_transaction_has_its_own_batch(void **state)
{
	struct db_txn *tx;
	(void)state;

	submit_put(0, "a", "1");
	submit_put(1, "b", "1");
	tx = txn_new(2);
	put(tx, "s", "solo");
	db_txn_set_solo(tx);
	submit(tx);
	submit_put(3, "c", "1");
	run_all();

	assert_string_equal("0123", fx.order);
	assert_int_equal(3, db_stats(fx.db)->batches);
	assert_int_equal(2, db_stats(fx.db)->batch_max);
}


/* Readable all the time: keeps the loop turning without waiting in
 * epoll (an idle loop would sleep a millisecond between turns). */
static void busy_readable(int flags, void *arg)
{
	(void)flags;
	(void)arg;
}


static void submit_second(void *arg)
{
	(void)arg;
	submit_put(1, "second", "2");
}


static bool both_done(void *arg)
{
	(void)arg;
	return fx.out[0].done && fx.out[1].done;
}


static void submit_first(void *arg)
{
	submit_put(0, "first", "1");
	tmr_start(arg, 0, submit_second, NULL);
}


/* A transaction submitted a turn of the loop after another, with no
 * commit in flight, still shares its batch: a batch of fewer than four
 * waits a little for more (how long is not asserted). */
static void test_small_batch_waits_for_more(void **state)
{
	struct tmr first, second;
	int busy[2];
	(void)state;

	assert_int_equal(0, pipe(busy));
	assert_int_equal(1, write(busy[1], "x", 1));
	assert_int_equal(0, fd_listen(busy[0], FD_READ, busy_readable, NULL));
	tmr_init(&first);
	tmr_init(&second);
	/* the first submitted from the loop, the second a turn later */
	tmr_start(&first, 0, submit_first, &second);
	assert_true(ut_run_until(both_done, NULL));
	tmr_cancel(&first);
	tmr_cancel(&second);
	fd_close(busy[0]);
	close(busy[0]);
	close(busy[1]);

	assert_string_equal("01", fx.order);
	assert_int_equal(0, fx.out[0].err);
	assert_int_equal(0, fx.out[1].err);
	assert_int_equal(1, db_stats(fx.db)->batches);
	assert_int_equal(2, db_stats(fx.db)->batch_max);
}


/* Several transactions of array-capable statements only: one execution
 * of the array form per statement, every value arriving intact,
 * including those that need quoting in an array literal and SQL NULL. */
static void test_array_statements_merged_values_intact(void **state)
{
	static const char *const values[] = {
		"plain", "with \"quotes\"", "back\\slash", "{brace,comma}",
		"NULL", "", " spaced ", NULL,
	};
	char key[TXNS_MAX][8], buf[64];
	(void)state;

	for (unsigned i = 0; i < ARRAY_SIZE(values); i++) {
		re_snprintf(key[i], sizeof(key[i]), "k%u", i);
		submit_put(i, key[i], values[i]);
	}
	run_all();

	assert_int_equal(1, db_stats(fx.db)->batches);
	assert_int_equal(1, db_stats(fx.db)->merged_statements);
	for (unsigned i = 0; i < ARRAY_SIZE(values); i++) {
		assert_int_equal(0, fx.out[i].err);
		assert_string_equal(values[i] ? values[i] : "(null)",
				    value_of(key[i], buf, sizeof(buf)));
	}
}


/* Not merged: one transaction alone, or a batch with a statement that
 * has no array form or returns rows (which go to their own handlers). */
static void test_unmergeable_batches_sent_as_they_are(void **state)
{
	struct db_txn *tx;
	const char *k = "gone";
	char buf[64];
	(void)state;

	submit_put(0, "alone", "1");
	run_all();
	assert_int_equal(0, db_stats(fx.db)->merged_statements);

	submit_put(1, "gone", "1");
	submit_put(2, "kept", "2");
	tx = txn_new(3);
	assert_int_equal(0, db_txn_add(tx, "del", 1, &k));
	get(tx, 3, "kept");
	submit(tx);
	tx = txn_new(4);
	get(tx, 4, "alone");
	submit(tx);
	run_all();

	assert_string_equal("01234", fx.order);
	assert_int_equal(0, db_stats(fx.db)->merged_statements);
	/* in order: the delete ran after the put of the same batch */
	assert_string_equal("(no row)", value_of("gone", buf, sizeof(buf)));
	assert_string_equal("2", fx.out[3].rows);
	assert_string_equal("1", fx.out[4].rows);
}


/* One bad transaction in a batch rolls the batch back; each is then
 * retried alone, so only the bad one fails, with the server's message,
 * and the completions keep their order. */
static void test_failed_batch_retried_one_by_one(void **state)
{
	const struct db_stats *st;
	char buf[64];
	(void)state;

	submit_put(0, "a", "1");
	submit_put(1, "b", "bad");
	submit_put(2, "c", "3");
	run_all();

	assert_string_equal("012", fx.order);
	assert_int_equal(0, fx.out[0].err);
	assert_int_not_equal(0, fx.out[1].err);
	assert_non_null(strstr(fx.out[1].errmsg, "test_kv_v_check"));
	assert_string_equal("23514", fx.out[1].sqlstate);   /* check_violation */
	assert_int_equal(0, fx.out[2].err);
	assert_true(fx.out[0].committed_then);
	assert_true(fx.out[2].committed_then);
	assert_string_equal("(no row)", value_of("b", buf, sizeof(buf)));

	st = db_stats(fx.db);
	assert_int_equal(1, st->retried_batches);
	assert_int_equal(4, st->batches);    /* the merged one, then 3 */

	/* a transaction failing alone is not retried */
	submit_put(3, "d", "bad");
	run_all();
	assert_int_not_equal(0, fx.out[3].err);
	assert_int_equal(1, db_stats(fx.db)->retried_batches);
}


static void submit_queued(void *arg)
{
	(void)arg;
	submit_put(1, "queued", "1");
}


static void kill_backend(void *arg)
{
	char sql[64];
	(void)arg;

	re_snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)",
		    db_backend_pid(fx.db));
	ut_sql(fx.side, sql);
}


static bool first_two_done(void *arg)
{
	(void)arg;
	return fx.out[0].done && fx.out[1].done;
}


static bool db_up(void *arg)
{
	(void)arg;
	return db_is_up(fx.db);
}


/* The connection is lost with a transaction in flight and another
 * queued: neither is reported committed; meanwhile submitting fails at
 * once; the connection comes back with its statements prepared again. */
static void test_lost_connection_fails_pending_then_recovers(void **state)
{
	const char *secs = "5";
	struct db_txn *tx = txn_new(0);
	struct tmr later, killer;
	(void)state;

	assert_int_equal(0, db_txn_add(tx, "sleep", 1, &secs));
	submit(tx);
	tmr_init(&later);
	tmr_init(&killer);
	tmr_start(&later, 50, submit_queued, NULL);
	tmr_start(&killer, 200, kill_backend, NULL);
	assert_true(ut_run_until(first_two_done, NULL));
	tmr_cancel(&later);
	tmr_cancel(&killer);

	assert_int_equal(ECONNRESET, fx.out[0].err);   /* may have committed */
	assert_int_equal(ENOTCONN, fx.out[1].err);     /* was never sent */
	assert_false(db_is_up(fx.db));
	tx = txn_new(2);
	put(tx, "meanwhile", "1");
	assert_int_equal(ENOTCONN, db_txn_submit(fx.db, tx));
	mem_deref(tx);

	assert_true(ut_run_until(db_up, NULL));
	submit_put(3, "after", "1");
	run_all();
	assert_int_equal(0, fx.out[3].err);
	assert_true(fx.out[3].committed_then);
}


int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_one_turn_one_commit_in_order),
		T(test_queue_waits_for_the_commit_in_flight),
		T(test_solo_transaction_has_its_own_batch),
		T(test_small_batch_waits_for_more),
		T(test_array_statements_merged_values_intact),
		T(test_unmergeable_batches_sent_as_they_are),
		T(test_failed_batch_retried_one_by_one),
		T(test_lost_connection_fails_pending_then_recovers),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * One PostgreSQL connection in libpq pipeline mode, inside the libre loop.
 *
 * Group commit: transactions submitted while a commit is in flight wait
 * in a queue; when it completes, everything queued goes out as one batch
 * - all statements, one Sync - which PostgreSQL runs as one implicit
 * transaction: one commit, one WAL flush for many REGISTERs.  Under light
 * load a batch of fewer than GATHER_TXNS waits for more, a millisecond at
 * most: a commit costs PostgreSQL (and the loop) about the same for one
 * transaction as for several, so at 2,000 REGISTERs/s two commits out of
 * five are saved for less than a millisecond more.  If a batch fails,
 * its transactions are sent again one at a time, so that one bad
 * transaction never takes the others down with it.
 */
#include <string.h>
#include <time.h>
#include <libpq-fe.h>
#include <re.h>
#include "common/log.h"
#include "common/metrics.h"
#include "db/db.h"
#include "db/db_merge.h"
#include "db/db_txn.h"
#include "db/pgasync.h"
#include "db/pgconnect.h"

enum {
	RECONNECT_DELAY_MS = 1000,
	/* While the database is away, one line now and then, not a flood. */
	OUTAGE_LOG_EVERY = 60,
	/* Bounds a batch: its latency, and the work a failure repeats. */
	BATCH_MAX_TXNS = 512,
	/* A batch smaller than this waits for more while its oldest
	 * transaction is younger than GATHER_US (the timers tick in
	 * milliseconds: a wait within GATHER_GRAIN_US of it is over). */
	GATHER_TXNS = 4,
	GATHER_US = 1000,
	GATHER_GRAIN_US = 300,
};

struct db {
	char *conninfo;
	const struct db_statement *stmts;
	size_t stmtc;
	const char *session_sql;
	PGconn *conn;
	int fd;
	bool up;                /* pipeline ready for transactions         */
	struct list queue;      /* struct db_txn, submitted, not yet sent   */
	struct list inflight;   /* struct db_batch, sent, awaiting its Sync */
	struct tmr flush;       /* sends the queue from the loop           */
	bool gathering;         /* ... once more have come (or time is up) */
	struct tmr reconnect;
	struct pgasync *attempt; /* a reconnect under way                  */
	uint32_t failed_attempts;
	db_up_h *uph;
	void *uph_arg;
	struct db_stats stats;
	enum metrics_conn metrics_conn;  /* which one it is, for the metrics */
};

struct db_batch {
	struct le le;
	struct list txns;       /* struct db_txn, in the order sent        */
	uint64_t sent_us;
	struct le *cur_txn;     /* whose statement the next result is for  */
	struct le *cur_exec;
	int err;                /* first error of the batch                */
	char sqlstate[6];       /* its SQLSTATE, "" if none                */
	char *errmsg;
};

static void fd_handler(int flags, void *arg);
static void reconnect_start(void *arg);
static void flush_schedule(struct db *db);


static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}


static void batch_destructor(void *arg)
{
	struct db_batch *b = arg;

	list_unlink(&b->le);
	list_flush(&b->txns);
	mem_deref(b->errmsg);
}


bool db_is_up(const struct db *db)
{
	return db && db->up;
}


int db_backend_pid(const struct db *db)
{
	return db && db->conn ? PQbackendPID(db->conn) : 0;
}


void db_set_up_handler(struct db *db, db_up_h *uph, void *arg)
{
	db->uph = uph;
	db->uph_arg = arg;
}


const struct db_stats *db_stats(const struct db *db)
{
	return &db->stats;
}


void db_metrics_conn_set(struct db *db, enum metrics_conn conn)
{
	db->metrics_conn = conn;
}


static void complete_all(struct list *txns, int err, const char *sqlstate,
			 const char *errmsg)
{
	struct le *le;

	while ((le = list_head(txns)))
		db_txn_complete(le->data, err, sqlstate, errmsg);
}


/* Whether a transaction in flight committed is unknown once the
 * connection is gone: its requester must not report success (the UA will
 * retry and converge).  Queued ones were never sent. */
static void fail_all(struct db *db)
{
	struct le *le;

	while ((le = list_head(&db->inflight))) {
		struct db_batch *b = le->data;
		complete_all(&b->txns, ECONNRESET, NULL, NULL);
		mem_deref(b);
	}
	complete_all(&db->queue, ENOTCONN, NULL, NULL);
}


/* Closes the connection, if any, and fails everything pending. */
static void connection_drop(struct db *db)
{
	if (db->fd >= 0)
		fd_close(db->fd);
	db->fd = -1;
	if (db->conn) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
	db->up = false;
	db->gathering = false;
	tmr_cancel(&db->flush);
	fail_all(db);
}


static void reconnect_schedule(struct db *db)
{
	tmr_start(&db->reconnect, RECONNECT_DELAY_MS, reconnect_start, db);
}


/* Drops the connection, fails everything pending, tries again later. */
static void connection_lost(struct db *db, const char *why)
{
	char reason[256];

	pgasync_one_line(reason, sizeof(reason), why);
	log_error("database: connection lost (%s); reconnecting", reason);
	connection_drop(db);
	reconnect_schedule(db);
}


/* Reading always, writing too while libpq holds output the socket did
 * not take.  A socket the loop cannot watch is as good as lost: nothing
 * would ever be read from it again.  False if so (the connection was
 * dropped, a reconnect is scheduled). */
static bool watch_fd(struct db *db)
{
	char why[64];
	int flags = FD_READ;
	int err;

	if (PQflush(db->conn) == 1)
		flags |= FD_WRITE;
	err = fd_listen(db->fd, flags, fd_handler, db);
	if (err) {
		re_snprintf(why, sizeof(why), "cannot watch its socket: %m",
			    err);
		connection_lost(db, why);
	}
	return !err;
}


static int send_exec(PGconn *conn, const struct db_exec *ex)
{
	if (ex->sql && !ex->name)
		return PQsendQueryParams(conn, ex->sql, 0, NULL, NULL, NULL,
					 NULL, 0) ? 0 : EIO;
	if (ex->sql)
		return PQsendPrepare(conn, ex->name, ex->sql, ex->nparams,
				     NULL) ? 0 : EIO;

	return PQsendQueryPrepared(conn, ex->name, ex->nparams,
				   (const char *const *)ex->values,
				   NULL, NULL, 0) ? 0 : EIO;
}


static int send_each(struct db *db, const struct db_batch *b)
{
	for (struct le *t = b->txns.head; t; t = t->next) {
		const struct db_txn *tx = t->data;
		for (struct le *e = tx->execs.head; e; e = e->next) {
			if (send_exec(db->conn, e->data))
				return EIO;
		}
	}
	return 0;
}


/* Moves the next batch's transactions from the queue into B: one solo
 * transaction, or up to BATCH_MAX_TXNS that may share a commit. */
static void batch_fill(struct db *db, struct db_batch *b)
{
	uint32_t n = 0;
	struct le *le;

	while ((le = list_head(&db->queue)) && n++ < BATCH_MAX_TXNS) {
		struct db_txn *tx = le->data;

		if (tx->solo && b->txns.head)
			break;
		list_unlink(&tx->le);
		list_append(&b->txns, &tx->le, tx);
		if (tx->solo)
			break;
	}
}


static int batch_send(struct db *db)
{
	struct db_batch *b = mem_zalloc(sizeof(*b), batch_destructor);
	bool merged;
	int err;

	if (!b)
		return ENOMEM;
	batch_fill(db, b);
	list_append(&db->inflight, &b->le, b);

	merged = db_merge_able(db->stmts, db->stmtc, &b->txns);
	err = merged ? db_merge_send(db->conn, db->stmts, db->stmtc, &b->txns,
				     &db->stats.merged_statements)
		     : send_each(db, b);
	if (err || !PQpipelineSync(db->conn))
		return EIO;

	/* a merged batch has no rows for anyone: no cursor */
	b->cur_txn = merged ? NULL : b->txns.head;
	b->cur_exec = b->cur_txn ? ((struct db_txn *)b->cur_txn->data)
		->execs.head : NULL;
	b->sent_us = now_us();
	++db->stats.batches;
	db->stats.txns += list_count(&b->txns);
	db->stats.batch_max = MAX(db->stats.batch_max, list_count(&b->txns));
	metrics_observe(&metrics.batch_txns, list_count(&b->txns));
	return 0;
}


/* How long the next batch should still wait for more: 0 once it holds
 * GATHER_TXNS transactions (or a solo one leads), or its oldest has
 * waited GATHER_US (less the timer's millisecond grain). */
static uint64_t gather_wait_us(const struct db *db)
{
	const struct le *le = db->queue.head;
	const struct db_txn *oldest = le->data;
	uint64_t age = now_us() - oldest->queued_us;
	unsigned n = 0;

	for (; le && n < GATHER_TXNS; le = le->next, n++) {
		if (((const struct db_txn *)le->data)->solo)
			return 0;
	}
	if (n >= GATHER_TXNS || age + GATHER_GRAIN_US >= GATHER_US)
		return 0;
	return GATHER_US - age;
}


/* One batch in flight at a time: while it commits, the queue grows, and
 * the next batch carries all of it; a small one waits a little longer. */
static void flush_handler(void *arg)
{
	struct db *db = arg;
	uint64_t wait;

	db->gathering = false;
	if (!db->up || db->inflight.head || !db->queue.head)
		return;
	wait = gather_wait_us(db);
	if (wait) {
		db->gathering = true;
		tmr_start(&db->flush, (wait + 999) / 1000, flush_handler, db);
		return;
	}
	if (batch_send(db))
		connection_lost(db, PQerrorMessage(db->conn));
	else
		(void)watch_fd(db);
}


/* Sending waits for the loop: a submitter never sees its completion
 * handler run before db_txn_submit() returns, and everything submitted
 * in the same turn of the loop shares a batch. */
static void flush_schedule(struct db *db)
{
	if (!tmr_isrunning(&db->flush))
		tmr_start(&db->flush, 0, flush_handler, db);
}


int db_txn_submit(struct db *db, struct db_txn *tx)
{
	if (!db || !tx)
		return EINVAL;
	if (!db->up)
		return ENOTCONN;

	tx->queued_us = now_us();
	list_append(&db->queue, &tx->le, mem_ref(tx));
	++metrics.pipeline_txns;   /* until db_txn_complete() */
	/* a batch that waits for more goes once it has enough */
	if (db->gathering && !gather_wait_us(db)) {
		db->gathering = false;
		tmr_start(&db->flush, 0, flush_handler, db);
	}
	flush_schedule(db);
	return 0;
}


static void note_error(struct db_batch *b, const PGresult *res, int err)
{
	const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	if (b->err)
		return;   /* keep the first, the others are consequences */
	b->err = err;
	str_ncpy(b->sqlstate, sqlstate ? sqlstate : "", sizeof(b->sqlstate));
	(void)str_dup(&b->errmsg, PQresultErrorMessage(res));
	if (b->errmsg)
		b->errmsg[strcspn(b->errmsg, "\n")] = '\0';
}


/* The batch's Sync arrived: it committed, or it was rolled back as a
 * whole.  A failed batch of several goes back to the front of the queue,
 * one transaction at a time, to find out which of them failed. */
static void batch_complete(struct db *db, struct db_batch *b)
{
	uint64_t us = now_us() - b->sent_us;

	db->stats.commit_us_sum += us;
	db->stats.commit_us_max = MAX(db->stats.commit_us_max, us);
	metrics_observe(&metrics.commit_us, us);
	list_unlink(&b->le);

	if (b->err && list_count(&b->txns) > 1) {
		struct le *le;

		++db->stats.retried_batches;
		while ((le = list_tail(&b->txns))) {
			struct db_txn *tx = le->data;
			tx->solo = true;
			list_unlink(&tx->le);
			list_prepend(&db->queue, &tx->le, tx);
		}
	}
	else {
		complete_all(&b->txns, b->err,
			     b->sqlstate[0] ? b->sqlstate : NULL, b->errmsg);
	}
	mem_deref(b);
	flush_schedule(db);
}


/* The statement results arrive in the order sent; NULL ends each. */
static void cursor_next(struct db_batch *b)
{
	if (b->cur_exec)
		b->cur_exec = b->cur_exec->next;
	while (!b->cur_exec && b->cur_txn) {
		b->cur_txn = b->cur_txn->next;
		b->cur_exec = b->cur_txn ? ((struct db_txn *)b->cur_txn->data)
			->execs.head : NULL;
	}
}


static void rows_deliver(struct db_batch *b, const PGresult *res)
{
	const struct db_exec *ex = b->cur_exec ? b->cur_exec->data : NULL;

	if (ex && ex->rowsh)
		ex->rowsh((const struct pg_result *)res, ex->rows_arg);
}


static void drain_results(struct db *db)
{
	int nulls = 0;

	while (db->conn && list_head(&db->inflight) && !PQisBusy(db->conn)) {
		struct db_batch *b = list_head(&db->inflight)->data;
		PGresult *res = PQgetResult(db->conn);

		/* NULL ends one statement's results; two in a row mean libpq
		 * has nothing more for us now */
		if (!res) {
			if (++nulls > 1)
				break;
			cursor_next(b);
			continue;
		}
		nulls = 0;

		switch (PQresultStatus(res)) {

		case PGRES_PIPELINE_SYNC:
			batch_complete(db, b);
			break;

		case PGRES_TUPLES_OK:
			rows_deliver(b, res);
			break;

		case PGRES_FATAL_ERROR:
		case PGRES_NONFATAL_ERROR:
		case PGRES_BAD_RESPONSE:
			note_error(b, res, EIO);
			break;

		case PGRES_PIPELINE_ABORTED:
			note_error(b, res, ECANCELED);
			break;

		default:
			break;
		}
		PQclear(res);
	}
}


static void fd_handler(int flags, void *arg)
{
	struct db *db = arg;

	if ((flags & FD_READ) && !PQconsumeInput(db->conn)) {
		connection_lost(db, PQerrorMessage(db->conn));
		return;
	}

	drain_results(db);

	if (PQstatus(db->conn) == CONNECTION_BAD) {
		connection_lost(db, PQerrorMessage(db->conn));
		return;
	}
	(void)watch_fd(db);
}


static void prepared_done(int err, const char *sqlstate, const char *errmsg,
			  void *arg)
{
	struct db *db = arg;

	if (err) {
		log_error("database: preparing statements failed: %s",
			  errmsg ? errmsg : "connection lost");
		if (db->conn)
			connection_lost(db, "statements could not be prepared");
		return;
	}
	log_info("database: connection re-established after %u failed "
		 "attempt(s)", db->failed_attempts);
	db->failed_attempts = 0;
	++metrics.reconnects[db->metrics_conn];
	if (db->uph)
		db->uph(db->uph_arg);
}


/* The connection is open: non-blocking pipeline mode, the socket
 * watched, ready for transactions.  On failure WHY says what failed. */
static int pipeline_enter(struct db *db, char *why, size_t sz)
{
	char msg[256];
	int err;

	if (PQsetnonblocking(db->conn, 1) || !PQenterPipelineMode(db->conn)) {
		pgasync_one_line(msg, sizeof(msg), PQerrorMessage(db->conn));
		re_snprintf(why, sz, "cannot enter pipeline mode: %s", msg);
		return EIO;
	}
	db->fd = PQsocket(db->conn);
	err = fd_listen(db->fd, FD_READ, fd_handler, db);
	if (err)
		re_snprintf(why, sz, "cannot watch its socket: %m", err);
	db->up = !err;
	return err;
}


/* A reconnect: the pipeline, and the PREPAREs queued ahead of any
 * transaction, so they are in place when those run.  On failure WHY
 * says what failed, and nothing is queued. */
static int pipeline_start(struct db *db, char *why, size_t sz)
{
	struct db_txn *tx = NULL;
	int err;

	err = pipeline_enter(db, why, sz);
	if (err)
		return err;
	err = db_txn_alloc(&tx, prepared_done, db);
	if (!err && db->session_sql)
		err = db_txn_add_sql(tx, db->session_sql);
	for (size_t i = 0; !err && i < db->stmtc; i++)
		err = db_txn_add_prepare(tx, db->stmts[i].name,
					 db->stmts[i].sql, db->stmts[i].nparams);
	if (!err) {
		tx->solo = true;
		err = db_txn_submit(db, tx);
	}
	mem_deref(tx);
	if (err)
		re_snprintf(why, sz, "%m", err);
	return err;
}


static void reconnected(PGconn *conn, const char *errmsg, void *arg)
{
	struct db *db = arg;
	char why[256] = "";

	db->attempt = mem_deref(db->attempt);
	db->conn = conn;
	if (conn && !pipeline_start(db, why, sizeof(why)))
		return;

	connection_drop(db);
	if (db->failed_attempts++ % OUTAGE_LOG_EVERY == 0)
		log_warn("database: still unreachable after %u attempt(s): %s;"
			 " REGISTERs get 503, routing goes on from memory",
			 db->failed_attempts, conn ? why : errmsg);
	reconnect_schedule(db);
}


/* Non-blocking reconnect from inside the loop (a tmr_h). */
static void reconnect_start(void *arg)
{
	struct db *db = arg;

	if (pgasync_connect(&db->attempt, db->conninfo, reconnected, db))
		reconnect_schedule(db);
}


static void db_destructor(void *arg)
{
	struct db *db = arg;

	tmr_cancel(&db->reconnect);
	db->attempt = mem_deref(db->attempt);
	connection_drop(db);
	mem_deref(db->conninfo);
}


int db_open(struct db **dbp, const char *conninfo,
	    const struct db_statement *stmts, size_t stmtc,
	    const char *session_sql, char *errbuf, size_t errsz)
{
	struct db *db;
	int err;

	db = mem_zalloc(sizeof(*db), db_destructor);
	if (!db)
		return ENOMEM;
	db->stmts = stmts;
	db->stmtc = stmtc;
	db->session_sql = session_sql;
	db->fd = -1;
	tmr_init(&db->reconnect);
	tmr_init(&db->flush);

	err = str_dup(&db->conninfo, conninfo);
	if (err)
		goto out;

	db->conn = pgconnect_blocking(conninfo, "connect to the database",
				      errbuf, errsz);
	if (!db->conn) {
		err = ECONNREFUSED;
		goto out;
	}

	err = pgconnect_prepare(db->conn, session_sql, stmts, stmtc, errbuf,
				errsz);
	if (!err)
		err = pipeline_enter(db, errbuf, errsz);

 out:
	if (err)
		mem_deref(db);
	else
		*dbp = db;
	return err;
}

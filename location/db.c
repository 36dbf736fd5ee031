#include <string.h>
#include <libpq-fe.h>
#include <re.h>
#include "common/log.h"
#include "location/db.h"

enum { RECONNECT_DELAY_MS = 1000 };

struct db {
	char *conninfo;
	const struct db_statement *stmts;
	size_t stmtc;
	PGconn *conn;
	int fd;
	bool up;                /* pipeline ready for transactions         */
	struct list inflight;   /* struct db_txn, sent, awaiting their Sync */
	struct tmr reconnect;
};

struct db_exec {
	struct le le;
	const char *name;
	const char *sql;        /* set for a PREPARE, NULL for an execution */
	int nparams;
	char **values;
};

struct db_txn {
	struct le le;
	struct list execs;
	size_t count;
	db_done_h *doneh;
	void *arg;
	int err;
	char *errmsg;
};

static void fd_handler(int flags, void *arg);
static void reconnect_start(struct db *db);


static void exec_destructor(void *arg)
{
	struct db_exec *ex = arg;

	list_unlink(&ex->le);
	for (int i = 0; ex->values && i < ex->nparams; i++)
		mem_deref(ex->values[i]);
	mem_deref(ex->values);
}


static void txn_destructor(void *arg)
{
	struct db_txn *tx = arg;

	list_unlink(&tx->le);
	list_flush(&tx->execs);
	mem_deref(tx->errmsg);
}


int db_txn_alloc(struct db_txn **txp, db_done_h *doneh, void *arg)
{
	struct db_txn *tx = mem_zalloc(sizeof(*tx), txn_destructor);

	if (!tx)
		return ENOMEM;
	tx->doneh = doneh;
	tx->arg = arg;
	*txp = tx;
	return 0;
}


static int txn_add_exec(struct db_txn *tx, const char *name, const char *sql,
			int nparams, const char *const *values)
{
	struct db_exec *ex = mem_zalloc(sizeof(*ex), exec_destructor);

	if (!ex)
		return ENOMEM;
	ex->name = name;
	ex->sql = sql;
	ex->nparams = nparams;
	/* a PREPARE carries a parameter count but no values */
	if (nparams && values) {
		ex->values = mem_zalloc(nparams * sizeof(char *), NULL);
		if (!ex->values) {
			mem_deref(ex);
			return ENOMEM;
		}
		for (int i = 0; i < nparams; i++) {
			if (values[i] && str_dup(&ex->values[i], values[i])) {
				mem_deref(ex);
				return ENOMEM;
			}
		}
	}
	list_append(&tx->execs, &ex->le, ex);
	++tx->count;
	return 0;
}


int db_txn_add(struct db_txn *tx, const char *name, int nparams,
	       const char *const *values)
{
	if (!tx || !name || nparams < 0 || (nparams && !values))
		return EINVAL;
	return txn_add_exec(tx, name, NULL, nparams, values);
}


size_t db_txn_count(const struct db_txn *tx)
{
	return tx ? tx->count : 0;
}


bool db_is_up(const struct db *db)
{
	return db && db->up;
}


size_t db_pending(const struct db *db)
{
	return db ? list_count(&db->inflight) : 0;
}


static void txn_complete(struct db_txn *tx)
{
	list_unlink(&tx->le);
	if (tx->doneh)
		tx->doneh(tx->err, tx->errmsg, tx->arg);
	mem_deref(tx);
}


static void watch_fd(struct db *db)
{
	int flags = FD_READ;

	if (PQflush(db->conn) == 1)
		flags |= FD_WRITE;
	(void)fd_listen(db->fd, flags, fd_handler, db);
}


/* Drops the connection, fails everything in flight, tries again later. */
/* libpq's messages span lines; a log line should not. */
static void one_line(char *out, size_t sz, const char *msg)
{
	size_t n = 0;

	for (; msg && *msg && n + 1 < sz; msg++) {
		bool space = *msg == '\n' || *msg == '\t' || *msg == '\r';
		if (space && (n == 0 || out[n - 1] == ' '))
			continue;
		out[n++] = space ? ' ' : *msg;
	}
	while (n && out[n - 1] == ' ')
		--n;
	out[n] = '\0';
}


/* Whether an in-flight transaction committed is unknown once the
 * connection is gone: its requester must not report success (the UA will
 * retry and converge). */
static void fail_inflight(struct db *db)
{
	struct le *le;

	while ((le = list_head(&db->inflight))) {
		struct db_txn *tx = le->data;
		tx->err = ECONNRESET;
		txn_complete(tx);
	}
}


static void connection_lost(struct db *db, const char *why)
{
	char reason[256];

	one_line(reason, sizeof(reason), why);
	log_error("database: connection lost (%s); reconnecting", reason);

	if (db->conn) {
		fd_close(db->fd);
		PQfinish(db->conn);
		db->conn = NULL;
	}
	db->up = false;
	fail_inflight(db);

	tmr_start(&db->reconnect, RECONNECT_DELAY_MS,
		  (tmr_h *)reconnect_start, db);
}


static int send_exec(PGconn *conn, const struct db_exec *ex)
{
	if (ex->sql)
		return PQsendPrepare(conn, ex->name, ex->sql, ex->nparams,
				     NULL) ? 0 : EIO;

	return PQsendQueryPrepared(conn, ex->name, ex->nparams,
				   (const char *const *)ex->values,
				   NULL, NULL, 0) ? 0 : EIO;
}


static int send_txn(struct db *db, struct db_txn *tx)
{
	for (struct le *le = tx->execs.head; le; le = le->next) {
		if (send_exec(db->conn, le->data))
			return EIO;
	}
	if (!PQpipelineSync(db->conn))
		return EIO;

	list_append(&db->inflight, &tx->le, mem_ref(tx));
	watch_fd(db);
	return 0;
}


int db_txn_submit(struct db *db, struct db_txn *tx)
{
	if (!db || !tx)
		return EINVAL;
	if (!db->up)
		return ENOTCONN;

	if (send_txn(db, tx)) {
		connection_lost(db, PQerrorMessage(db->conn));
		return ENOTCONN;
	}
	return 0;
}


static void note_error(struct db_txn *tx, const PGresult *res, int err)
{
	if (tx->err)
		return;   /* keep the first, the others are consequences */
	tx->err = err;
	(void)str_dup(&tx->errmsg, PQresultErrorMessage(res));
	if (tx->errmsg)
		tx->errmsg[strcspn(tx->errmsg, "\n")] = '\0';
}


/* Hands each result to the transaction at the head of the queue; the
 * Sync result closes that transaction. */
static void drain_results(struct db *db)
{
	while (db->conn && list_head(&db->inflight) && !PQisBusy(db->conn)) {
		struct db_txn *tx = list_head(&db->inflight)->data;
		PGresult *res = PQgetResult(db->conn);

		if (!res)
			continue;   /* end of one statement's results */

		switch (PQresultStatus(res)) {

		case PGRES_PIPELINE_SYNC:
			txn_complete(tx);
			break;

		case PGRES_FATAL_ERROR:
		case PGRES_NONFATAL_ERROR:
		case PGRES_BAD_RESPONSE:
			note_error(tx, res, EIO);
			break;

		case PGRES_PIPELINE_ABORTED:
			note_error(tx, res, ECANCELED);
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

	if (!db->conn)
		return;   /* a completion handler saw the connection go */
	if (PQstatus(db->conn) == CONNECTION_BAD) {
		connection_lost(db, PQerrorMessage(db->conn));
		return;
	}
	watch_fd(db);
}


static void prepared_done(int err, const char *errmsg, void *arg)
{
	struct db *db = arg;

	if (err) {
		log_error("database: preparing statements failed: %s",
			  errmsg ? errmsg : "connection lost");
		if (db->conn)
			connection_lost(db, "statements could not be prepared");
		return;
	}
	log_info("database: connection re-established");
}


/* The connection is open: enter pipeline mode and queue the PREPAREs
 * ahead of any transaction, so they are in place when those run. */
static int pipeline_start(struct db *db)
{
	struct db_txn *tx = NULL;
	int err;

	if (PQsetnonblocking(db->conn, 1) || !PQenterPipelineMode(db->conn))
		return EIO;

	db->fd = PQsocket(db->conn);
	db->up = true;

	err = db_txn_alloc(&tx, prepared_done, db);
	for (size_t i = 0; !err && i < db->stmtc; i++)
		err = txn_add_exec(tx, db->stmts[i].name, db->stmts[i].sql,
				   db->stmts[i].nparams, NULL);
	if (!err)
		err = db_txn_submit(db, tx);
	mem_deref(tx);
	return err;
}


static void connect_poll(int flags, void *arg)
{
	struct db *db = arg;

	switch (PQconnectPoll(db->conn)) {

	case PGRES_POLLING_READING:
		(void)fd_listen(db->fd, FD_READ, connect_poll, db);
		return;

	case PGRES_POLLING_WRITING:
		(void)fd_listen(db->fd, FD_WRITE, connect_poll, db);
		return;

	case PGRES_POLLING_OK:
		if (!pipeline_start(db))
			return;
		/*@fallthrough@*/

	default:
		log_warn("database: reconnect failed: %s",
			 PQerrorMessage(db->conn));
		fd_close(db->fd);
		PQfinish(db->conn);
		db->conn = NULL;
		db->up = false;
		tmr_start(&db->reconnect, RECONNECT_DELAY_MS,
			  (tmr_h *)reconnect_start, db);
		return;
	}
}


/* Non-blocking reconnect from inside the loop (PQconnectStart/Poll). */
static void reconnect_start(struct db *db)
{
	db->conn = PQconnectStart(db->conninfo);
	if (!db->conn || PQstatus(db->conn) == CONNECTION_BAD ||
	    PQsocket(db->conn) < 0) {
		if (db->conn)
			PQfinish(db->conn);
		db->conn = NULL;
		tmr_start(&db->reconnect, RECONNECT_DELAY_MS,
			  (tmr_h *)reconnect_start, db);
		return;
	}
	db->fd = PQsocket(db->conn);
	(void)fd_listen(db->fd, FD_WRITE, connect_poll, db);
}


static void db_destructor(void *arg)
{
	struct db *db = arg;

	tmr_cancel(&db->reconnect);
	if (db->conn) {
		fd_close(db->fd);
		PQfinish(db->conn);
		db->conn = NULL;
	}
	db->up = false;
	fail_inflight(db);
	mem_deref(db->conninfo);
}


/* Blocking PREPAREs at start-up, so a schema problem stops locus with the
 * server's own message rather than failing every REGISTER later. */
static int prepare_blocking(struct db *db, char *errbuf, size_t errsz)
{
	for (size_t i = 0; i < db->stmtc; i++) {
		const struct db_statement *st = &db->stmts[i];
		PGresult *res = PQprepare(db->conn, st->name, st->sql,
					  st->nparams, NULL);
		bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;

		if (!ok)
			re_snprintf(errbuf, errsz,
				    "preparing statement '%s' failed: %s",
				    st->name, PQresultErrorMessage(res));
		PQclear(res);
		if (!ok)
			return EIO;
	}
	return 0;
}


int db_open(struct db **dbp, const char *conninfo,
	    const struct db_statement *stmts, size_t stmtc,
	    char *errbuf, size_t errsz)
{
	struct db *db;
	int err;

	db = mem_zalloc(sizeof(*db), db_destructor);
	if (!db)
		return ENOMEM;
	db->stmts = stmts;
	db->stmtc = stmtc;
	db->fd = -1;
	tmr_init(&db->reconnect);

	err = str_dup(&db->conninfo, conninfo);
	if (err)
		goto out;

	db->conn = PQconnectdb(conninfo);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		re_snprintf(errbuf, errsz, "cannot connect to the database "
			    "(%s): %s", conninfo, PQerrorMessage(db->conn));
		err = ECONNREFUSED;
		goto out;
	}

	err = prepare_blocking(db, errbuf, errsz);
	if (err)
		goto out;

	db->fd = PQsocket(db->conn);
	if (PQsetnonblocking(db->conn, 1) ||
	    !PQenterPipelineMode(db->conn)) {
		re_snprintf(errbuf, errsz, "cannot enter pipeline mode: %s",
			    PQerrorMessage(db->conn));
		err = EIO;
		goto out;
	}
	db->up = true;
	err = fd_listen(db->fd, FD_READ, fd_handler, db);

 out:
	if (err)
		mem_deref(db);
	else
		*dbp = db;
	return err;
}

/*
 * A query followed live (db/watch.h).
 *
 * The connection carries one statement at a time: "LISTEN channel;
 * query" when it is new, then the query alone after each notification.
 * Notifications that arrive while one runs are folded into one more run:
 * the answer is the whole table, so a run after the last change is all
 * it takes.  libpq delivers notifications between results, so they are
 * taken after the results of each read.
 */
#include <string.h>
#include <libpq-fe.h>
#include <re.h>
#include "common/log.h"
#include "common/metrics.h"
#include "db/pgasync.h"
#include "db/watch.h"

enum { RETRY_MS = 1000 };

struct db_watch {
	char *conninfo;
	char *first;             /* "LISTEN channel; query"              */
	char *query;
	enum metrics_conn id;
	db_watch_h *h;
	void *arg;
	PGconn *conn;
	int fd;
	struct pgasync *attempt;
	struct tmr reconnect;
	bool busy;               /* a statement in flight                */
	bool again;              /* notified since it was sent           */
	bool was_up;             /* connected before: the next is a reconnect */
	bool error_logged;       /* the query failed on this connection  */
};

static void reconnect_start(void *arg);


static void conn_close(struct db_watch *w)
{
	if (!w->conn)
		return;
	fd_close(w->fd);
	PQfinish(w->conn);
	w->conn = NULL;
	w->fd = -1;
	w->busy = false;
}


static void lost(struct db_watch *w, const char *why)
{
	char reason[256];

	pgasync_one_line(reason, sizeof(reason), why);
	log_warn("%s connection to the database lost (%s); reconnecting",
		 metrics_conn_name(w->id), reason);
	conn_close(w);
	tmr_start(&w->reconnect, RETRY_MS, reconnect_start, w);
}


static void fd_handler(int flags, void *arg);


/* Watches for the answer, and for the socket to drain what libpq could
 * not send at once. */
static int watch_fd(struct db_watch *w)
{
	int pending = PQflush(w->conn);

	if (pending < 0)
		return EIO;
	return fd_listen(w->fd, FD_READ | (pending ? FD_WRITE : 0),
			 fd_handler, w);
}


static void send_statement(struct db_watch *w, const char *sql)
{
	if (!PQsendQuery(w->conn, sql) || watch_fd(w)) {
		lost(w, PQerrorMessage(w->conn));
		return;
	}
	w->busy = true;
	w->again = false;
}


static void result_take(struct db_watch *w, PGresult *res)
{
	char msg[256];

	switch (PQresultStatus(res)) {

	case PGRES_TUPLES_OK:
		w->error_logged = false;
		w->h((const struct pg_result *)res, w->arg);
		break;

	case PGRES_FATAL_ERROR:
	case PGRES_NONFATAL_ERROR:
	case PGRES_BAD_RESPONSE:
		if (w->error_logged)
			break;
		w->error_logged = true;
		pgasync_one_line(msg, sizeof(msg), PQresultErrorMessage(res));
		log_error("%s: the database refused its query (%s); is "
			  "sql/schema.sql loaded?  Tried again at the next "
			  "change", metrics_conn_name(w->id), msg);
		break;

	default:
		break;
	}
}


static void fd_handler(int flags, void *arg)
{
	struct db_watch *w = arg;
	PGnotify *n;
	PGresult *res;

	if (((flags & FD_READ) && !PQconsumeInput(w->conn)) ||
	    ((flags & FD_WRITE) && watch_fd(w))) {
		lost(w, PQerrorMessage(w->conn));
		return;
	}
	while (w->busy && !PQisBusy(w->conn)) {
		res = PQgetResult(w->conn);
		if (!res) {
			w->busy = false;
			break;
		}
		result_take(w, res);
		PQclear(res);
	}
	while ((n = PQnotifies(w->conn))) {
		w->again = true;
		PQfreemem(n);
	}
	if (PQstatus(w->conn) == CONNECTION_BAD) {
		lost(w, PQerrorMessage(w->conn));
		return;
	}
	if (!w->busy && w->again)
		send_statement(w, w->query);
}


static void connected(PGconn *conn, const char *errmsg, void *arg)
{
	struct db_watch *w = arg;

	w->attempt = mem_deref(w->attempt);
	if (!conn) {
		log_debug("%s: connecting failed: %s", metrics_conn_name(w->id),
			  errmsg);
		tmr_start(&w->reconnect, RETRY_MS, reconnect_start, w);
		return;
	}
	w->conn = conn;
	w->fd = PQsocket(conn);
	w->error_logged = false;
	if (PQsetnonblocking(conn, 1)) {
		lost(w, PQerrorMessage(conn));
		return;
	}
	if (w->was_up) {
		++metrics.reconnects[w->id];
		log_info("%s connection to the database re-established",
			 metrics_conn_name(w->id));
	}
	w->was_up = true;
	send_statement(w, w->first);
}


static void reconnect_start(void *arg)
{
	struct db_watch *w = arg;

	if (pgasync_connect(&w->attempt, w->conninfo, connected, w))
		tmr_start(&w->reconnect, RETRY_MS, reconnect_start, w);
}


static void watch_destructor(void *arg)
{
	struct db_watch *w = arg;

	tmr_cancel(&w->reconnect);
	w->attempt = mem_deref(w->attempt);
	conn_close(w);
	mem_deref(w->conninfo);
	mem_deref(w->first);
	mem_deref(w->query);
}


int db_watch_alloc(struct db_watch **wp, const char *conninfo,
		   const char *channel, const char *query,
		   enum metrics_conn conn, db_watch_h *h, void *arg)
{
	struct db_watch *w;
	int err;

	if (!wp || !conninfo || !channel || !query || !h)
		return EINVAL;
	w = mem_zalloc(sizeof(*w), watch_destructor);
	if (!w)
		return ENOMEM;
	w->id = conn;
	w->h = h;
	w->arg = arg;
	w->fd = -1;
	tmr_init(&w->reconnect);
	err = str_dup(&w->conninfo, conninfo);
	if (!err)
		err = str_dup(&w->query, query);
	if (!err)
		/* LISTEN takes effect when its transaction commits: in one
		 * implicit transaction with the query, a change committed
		 * between the query's snapshot and that commit would be in
		 * neither the result nor a notification */
		err = re_sdprintf(&w->first, "BEGIN; LISTEN %s; COMMIT; %s",
				  channel, query);
	if (!err)
		err = pgasync_connect(&w->attempt, conninfo, connected, w);
	if (err)
		mem_deref(w);
	else
		*wp = w;
	return err;
}

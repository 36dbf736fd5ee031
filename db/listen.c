#include <string.h>
#include <libpq-fe.h>
#include <re.h>
#include "common/log.h"
#include "common/metrics.h"
#include "db/listen.h"
#include "db/pgasync.h"
#include "db/pgconnect.h"

enum { RETRY_MS = 1000 };

struct db_listen {
	char *conninfo;
	char *listen;                /* "LISTEN channel"                 */
	PGconn *conn;
	int fd;
	struct pgasync *attempt;
	struct tmr reconnect;
	db_notify_h *notifyh;
	db_listen_up_h *uph;
	void *arg;
	enum metrics_conn metrics_conn;
};

static void reconnect_start(void *arg);


static void take(struct db_listen *l)
{
	PGnotify *n;

	while (l->conn && (n = PQnotifies(l->conn))) {
		l->notifyh(n->extra, n->be_pid, l->arg);
		PQfreemem(n);
	}
}


static void lost(struct db_listen *l)
{
	char reason[256];

	pgasync_one_line(reason, sizeof(reason), PQerrorMessage(l->conn));
	log_warn("db: LISTEN connection lost (%s); reconnecting", reason);
	fd_close(l->fd);
	PQfinish(l->conn);
	l->conn = NULL;
	l->fd = -1;
	tmr_start(&l->reconnect, RETRY_MS, reconnect_start, l);
}


static void fd_handler(int flags, void *arg)
{
	struct db_listen *l = arg;
	PGresult *res;

	(void)flags;
	if (!PQconsumeInput(l->conn)) {
		lost(l);
		return;
	}
	while (!PQisBusy(l->conn) && (res = PQgetResult(l->conn)))
		PQclear(res);
	take(l);
}


static int watch(struct db_listen *l)
{
	if (PQsetnonblocking(l->conn, 1))
		return EIO;
	l->fd = PQsocket(l->conn);
	return fd_listen(l->fd, FD_READ, fd_handler, l);
}


static void reconnected(PGconn *conn, const char *errmsg, void *arg)
{
	struct db_listen *l = arg;

	l->attempt = mem_deref(l->attempt);
	if (conn) {
		l->conn = conn;
		if (PQsendQuery(conn, l->listen) && !watch(l)) {
			++metrics.reconnects[l->metrics_conn];
			if (l->uph)
				l->uph(l->arg);
			return;
		}
		PQfinish(conn);
		l->conn = NULL;
		l->fd = -1;
	}
	else {
		log_debug("db: LISTEN reconnect failed: %s", errmsg);
	}
	tmr_start(&l->reconnect, RETRY_MS, reconnect_start, l);
}


static void reconnect_start(void *arg)
{
	struct db_listen *l = arg;

	if (pgasync_connect(&l->attempt, l->conninfo, reconnected, l))
		tmr_start(&l->reconnect, RETRY_MS, reconnect_start, l);
}


static void listen_destructor(void *arg)
{
	struct db_listen *l = arg;

	tmr_cancel(&l->reconnect);
	l->attempt = mem_deref(l->attempt);
	if (l->conn) {
		fd_close(l->fd);
		PQfinish(l->conn);
	}
	mem_deref(l->conninfo);
	mem_deref(l->listen);
}


int db_listen_alloc(struct db_listen **lp, const char *conninfo,
		    const char *channel, db_notify_h *notifyh,
		    db_listen_up_h *uph, void *arg,
		    char *errbuf, size_t errsz)
{
	struct db_listen *l = mem_zalloc(sizeof(*l), listen_destructor);
	PGresult *res;
	int err;

	if (!l)
		return ENOMEM;
	l->fd = -1;
	l->notifyh = notifyh;
	l->uph = uph;
	l->arg = arg;
	tmr_init(&l->reconnect);
	err = str_dup(&l->conninfo, conninfo);
	err = err ? err : re_sdprintf(&l->listen, "LISTEN %s", channel);
	if (err)
		goto out;
	l->conn = pgconnect_blocking(conninfo, "open a LISTEN connection",
				     errbuf, errsz);
	if (!l->conn) {
		err = ECONNREFUSED;
		goto out;
	}
	res = PQexec(l->conn, l->listen);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		re_snprintf(errbuf, errsz, "cannot %s: %s", l->listen,
			    PQresultErrorMessage(res));
		err = EIO;
	}
	PQclear(res);
	if (!err && watch(l)) {
		re_snprintf(errbuf, errsz, "cannot watch the LISTEN socket");
		err = EIO;
	}
 out:
	if (err)
		mem_deref(l);
	else
		*lp = l;
	return err;
}


void db_listen_metrics_conn_set(struct db_listen *l, enum metrics_conn conn)
{
	l->metrics_conn = conn;
}

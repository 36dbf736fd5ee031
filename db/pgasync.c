#include <stdbool.h>
#include <string.h>
#include <re.h>
#include "db/pgasync.h"

struct pgasync {
	PGconn *conn;
	int fd;
	int watch_err;           /* fd_listen() failed: why                */
	struct tmr tmr;          /* reports a failure from the loop        */
	pgasync_h *h;
	void *arg;
};


static void destructor(void *arg)
{
	struct pgasync *pa = arg;

	tmr_cancel(&pa->tmr);
	if (pa->conn) {
		fd_close(pa->fd);
		PQfinish(pa->conn);
	}
}


void pgasync_one_line(char *out, size_t sz, const char *msg)
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


static void finish(struct pgasync *pa, bool ok)
{
	char errmsg[256] = "";
	PGconn *conn = pa->conn;

	if (pa->fd >= 0)
		fd_close(pa->fd);
	pa->conn = NULL;
	if (!ok) {
		if (pa->watch_err)
			re_snprintf(errmsg, sizeof(errmsg), "cannot watch the "
				    "connection's socket: %m", pa->watch_err);
		else
			pgasync_one_line(errmsg, sizeof(errmsg), conn
					 ? PQerrorMessage(conn)
					 : "out of memory");
		if (conn)
			PQfinish(conn);
		conn = NULL;
	}
	pa->h(conn, ok ? NULL : errmsg, pa->arg);
}


static void poll_handler(int flags, void *arg)
{
	struct pgasync *pa = arg;
	PostgresPollingStatusType st = PQconnectPoll(pa->conn);

	/* trying the next host of a list opens another socket */
	if (PQsocket(pa->conn) != pa->fd) {
		fd_close(pa->fd);
		pa->fd = PQsocket(pa->conn);
	}

	switch (st) {

	case PGRES_POLLING_READING:
	case PGRES_POLLING_WRITING:
		/* unwatched, the attempt would wait forever: it failed */
		pa->watch_err = fd_listen(pa->fd, st == PGRES_POLLING_READING
					  ? FD_READ : FD_WRITE, poll_handler, pa);
		if (pa->watch_err)
			finish(pa, false);
		break;

	case PGRES_POLLING_OK:
		finish(pa, true);
		break;

	default:
		finish(pa, false);
		break;
	}
}


static void failed_handler(void *arg)
{
	finish(arg, false);
}


int pgasync_connect(struct pgasync **pp, const char *conninfo,
		    pgasync_h *h, void *arg)
{
	struct pgasync *pa = mem_zalloc(sizeof(*pa), destructor);

	if (!pa)
		return ENOMEM;
	pa->h = h;
	pa->arg = arg;
	pa->fd = -1;
	tmr_init(&pa->tmr);

	pa->conn = PQconnectStart(conninfo);
	if (pa->conn && PQstatus(pa->conn) != CONNECTION_BAD &&
	    PQsocket(pa->conn) >= 0) {
		pa->fd = PQsocket(pa->conn);
		/* libpq: "consider it as PGRES_POLLING_WRITING" at first */
		pa->watch_err = fd_listen(pa->fd, FD_WRITE, poll_handler, pa);
	}
	/* a failure is reported from the loop, never before we return */
	if (pa->fd < 0 || pa->watch_err)
		tmr_start(&pa->tmr, 0, failed_handler, pa);
	*pp = pa;
	return 0;
}

/*
 * Intercom grants in memory, following locus.intercom live.
 *
 * A connection of its own LISTENs on locus_intercom; the trigger on the
 * grants table (sql/schema.sql) notifies once per statement that changes
 * it.  Each notification reloads the whole table on that same connection,
 * asynchronously, and the new set replaces the old one in one turn of the
 * loop: grants are few (one row per caller, or per caller and callee), a
 * reload is one short query, and a whole reload cannot miss a change the
 * way applying single rows could.  Notifications that arrive during a
 * reload make one more reload once it is done.
 *
 * When the connection is lost, the grants in memory stay as they were
 * until it is back; then LISTEN is sent again and the table reloaded, so
 * that what changed meanwhile (a revoked grant) takes effect.
 */
#include <string.h>
#include <libpq-fe.h>
#include <re.h>
#include "common/log.h"
#include "common/metrics.h"
#include "db/pgasync.h"
#include "db/pgconnect.h"
#include "features/grants.h"

enum {
	GRANT_BUCKETS = 1u << 8,
	RETRY_MS = 1000,
};

#define QUERY_LISTEN "LISTEN locus_intercom"
/* "caller" and "callee" of a grant as AOR keys; a callee "@domain" stands
 * for every user of that domain. */
#define QUERY_LOAD "SELECT caller || '@' || domain," \
	" coalesce(callee, '') || '@' || callee_domain FROM locus.intercom"

struct grants {
	char *conninfo;
	PGconn *conn;
	int fd;
	struct pgasync *attempt;
	struct tmr reconnect;
	struct hash *set;            /* struct grant, by key              */
	uint32_t count;
	bool loading;                /* a reload in flight                 */
	bool again;                  /* notified during it: reload again   */
};

struct grant {
	struct le he;
	char key[];
};

static void fd_handler(int flags, void *arg);
static void reconnect_start(void *arg);


/* ---- the set -------------------------------------------------------- */

static bool grant_cmp(struct le *le, void *arg)
{
	const struct grant *gr = le->data;

	return 0 == strcmp(gr->key, arg);
}


static int grant_add(struct hash *set, const char *caller, const char *callee)
{
	size_t n = strlen(caller) + 1 + strlen(callee) + 1;
	struct grant *gr = mem_zalloc(sizeof(*gr) + n, NULL);

	if (!gr)
		return ENOMEM;
	(void)re_snprintf(gr->key, n, "%s\n%s", caller, callee);
	hash_append(set, hash_joaat_str(gr->key), &gr->he, gr);
	return 0;
}


static bool set_has(const struct hash *set, const char *caller,
		    const char *callee)
{
	char key[1024];

	if (strlen(caller) + strlen(callee) + 2 > sizeof(key))
		return false;   /* longer than any AOR locus accepts */
	(void)re_snprintf(key, sizeof(key), "%s\n%s", caller, callee);
	return NULL != hash_lookup(set, hash_joaat_str(key), grant_cmp, key);
}


bool grants_allow(const struct grants *g, const char *caller,
		  const char *callee)
{
	const char *at = strrchr(callee, '@');

	if (!g || !g->set || !at)
		return false;
	return set_has(g->set, caller, callee) || set_has(g->set, caller, at);
}


uint32_t grants_count(const struct grants *g)
{
	return g ? g->count : 0;
}


static void set_free(struct hash *set)
{
	hash_flush(set);
	mem_deref(set);
}


/* The rows of query_load become the set, whole; on failure the old set
 * stays. */
static int grants_apply(struct grants *g, const PGresult *res)
{
	int rows = PQntuples(res);
	struct hash *set;
	int err;

	err = hash_alloc(&set, GRANT_BUCKETS);
	for (int row = 0; row < rows && !err; row++)
		err = grant_add(set, PQgetvalue(res, row, 0),
				PQgetvalue(res, row, 1));
	if (err) {
		if (set)
			set_free(set);
		log_error("intercom: grants not reloaded: %m", err);
		return err;
	}
	if (g->set)
		set_free(g->set);
	g->set = set;
	g->count = (uint32_t)rows;
	log_info("intercom: %d grant(s) loaded", rows);
	return 0;
}


/* ---- reloading ------------------------------------------------------ */

/* Sends what is queued on the connection; watches for writability while
 * libpq could not send all of it. */
static void out_flush(struct grants *g)
{
	int pending = PQflush(g->conn);

	(void)fd_listen(g->fd, FD_READ | (pending == 1 ? FD_WRITE : 0),
			fd_handler, g);
}


static void reload_send(struct grants *g, const char *query)
{
	if (g->loading) {
		g->again = true;
		return;
	}
	if (!PQsendQuery(g->conn, query)) {
		char why[256];
		pgasync_one_line(why, sizeof(why), PQerrorMessage(g->conn));
		log_warn("intercom: cannot reload the grants: %s", why);
		return;
	}
	g->loading = true;
	out_flush(g);
}


static void result_take(struct grants *g, PGresult *res)
{
	char why[256];

	switch (PQresultStatus(res)) {

	case PGRES_TUPLES_OK:
		(void)grants_apply(g, res);
		break;
	case PGRES_COMMAND_OK:      /* LISTEN, after a reconnect */
		break;
	default:
		pgasync_one_line(why, sizeof(why), PQresultErrorMessage(res));
		log_warn("intercom: reloading the grants failed (%s); the "
			 "grants loaded before stay", why);
		break;
	}
}


static void listen_lost(struct grants *g)
{
	char why[256];

	pgasync_one_line(why, sizeof(why), PQerrorMessage(g->conn));
	log_warn("intercom: grants connection lost (%s); the grants loaded "
		 "stay until it is back", why);
	fd_close(g->fd);
	PQfinish(g->conn);
	g->conn = NULL;
	g->fd = -1;
	g->loading = g->again = false;
	tmr_start(&g->reconnect, RETRY_MS, reconnect_start, g);
}


static void fd_handler(int flags, void *arg)
{
	struct grants *g = arg;
	bool notified = false;
	PGnotify *n;
	PGresult *res;

	if (flags & FD_WRITE)
		out_flush(g);
	if (!PQconsumeInput(g->conn)) {
		listen_lost(g);
		return;
	}
	while (!PQisBusy(g->conn) && (res = PQgetResult(g->conn))) {
		result_take(g, res);
		PQclear(res);
	}
	if (g->loading && !PQisBusy(g->conn)) {
		g->loading = false;
		if (g->again) {
			g->again = false;
			notified = true;
		}
	}
	while ((n = PQnotifies(g->conn))) {
		notified = true;
		PQfreemem(n);
	}
	if (notified)
		reload_send(g, QUERY_LOAD);
}


/* ---- connecting ----------------------------------------------------- */

static void reconnected(PGconn *conn, const char *errmsg, void *arg)
{
	struct grants *g = arg;

	g->attempt = mem_deref(g->attempt);
	if (!conn || PQsetnonblocking(conn, 1)) {
		log_debug("intercom: reconnect failed: %s",
			  conn ? "cannot set it non-blocking" : errmsg);
		if (conn)
			PQfinish(conn);
		tmr_start(&g->reconnect, RETRY_MS, reconnect_start, g);
		return;
	}
	g->conn = conn;
	g->fd = PQsocket(conn);
	log_info("intercom: grants connection back; reloading the grants");
	++metrics.reconnects[METRICS_CONN_INTERCOM];
	/* LISTEN first: a change after the reload's snapshot notifies */
	reload_send(g, QUERY_LISTEN "; " QUERY_LOAD);
	if (!g->loading)
		listen_lost(g);
}


static void reconnect_start(void *arg)
{
	struct grants *g = arg;

	if (pgasync_connect(&g->attempt, g->conninfo, reconnected, g))
		tmr_start(&g->reconnect, RETRY_MS, reconnect_start, g);
}


/* One query at start-up, blocking; ERRBUF says what failed. */
static int startup_exec(struct grants *g, const char *query,
			ExecStatusType want, char *errbuf, size_t errsz)
{
	PGresult *res = PQexec(g->conn, query);
	int err = 0;

	if (PQresultStatus(res) != want) {
		const char *msg = res ? PQresultErrorMessage(res)
				      : PQerrorMessage(g->conn);
		re_snprintf(errbuf, errsz, "cannot load the intercom grants "
			    "(%b); load sql/schema.sql into the database",
			    msg, strcspn(msg, "\n"));
		err = EIO;
	}
	else if (want == PGRES_TUPLES_OK) {
		err = grants_apply(g, res);
	}
	PQclear(res);
	return err;
}


static void grants_destructor(void *arg)
{
	struct grants *g = arg;

	tmr_cancel(&g->reconnect);
	g->attempt = mem_deref(g->attempt);
	if (g->conn) {
		if (g->fd >= 0)
			fd_close(g->fd);
		PQfinish(g->conn);
	}
	if (g->set)
		set_free(g->set);
	mem_deref(g->conninfo);
}


int grants_alloc(struct grants **gp, const char *conninfo, char *errbuf,
		 size_t errsz)
{
	struct grants *g = mem_zalloc(sizeof(*g), grants_destructor);
	int err;

	if (!g)
		return ENOMEM;
	g->fd = -1;
	tmr_init(&g->reconnect);
	err = str_dup(&g->conninfo, conninfo);
	if (err)
		goto out;
	g->conn = pgconnect_blocking(conninfo, "open the intercom grants "
				     "connection", errbuf, errsz);
	if (!g->conn) {
		err = ECONNREFUSED;
		goto out;
	}
	err = startup_exec(g, QUERY_LISTEN, PGRES_COMMAND_OK, errbuf, errsz);
	if (!err)
		err = startup_exec(g, QUERY_LOAD, PGRES_TUPLES_OK, errbuf,
				   errsz);
	if (!err && PQsetnonblocking(g->conn, 1)) {
		re_snprintf(errbuf, errsz, "cannot set the intercom grants "
			    "connection non-blocking");
		err = EIO;
	}
	if (!err) {
		g->fd = PQsocket(g->conn);
		err = fd_listen(g->fd, FD_READ, fd_handler, g);
	}
 out:
	if (err)
		mem_deref(g);
	else
		*gp = g;
	return err;
}

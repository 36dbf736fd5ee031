/*
 * Following the database live.
 *
 * A second connection LISTENs on locus_change; each notification names an
 * AOR that psql or another node changed (sql/schema.sql, notify_change).
 * Notifications our own writer caused are recognised by its backend PID
 * and ignored.  The AORs collected in one turn of the loop are reloaded
 * together, whole, by one query that runs on the writer's pipeline as a
 * transaction of its own: it sees every commit of ours sent before it and
 * none after, so applying its rows can never undo a newer change of ours.
 *
 * When the LISTEN connection was lost, notifications may have been
 * missed: every AOR in memory or in the database is then reloaded.
 */
#include <string.h>
#include <libpq-fe.h>
#include <re.h>
#include "common/log.h"
#include "location/db.h"
#include "location/location.h"
#include "location/persist.h"
#include "location/pgasync.h"
#include "location/pgconnect.h"
#include "location/sync.h"

enum {
	RELOAD_CHUNK = 500,          /* AORs per reload query            */
	RETRY_MS = 1000,
	LISTEN_LOG_EVERY = 60,
	PENDING_BUCKETS = 1u << 12,
};

static const char channel_listen[] = "LISTEN locus_change";

struct pend {
	struct le he;
	struct le le;
	char *aor;
};

struct sync {
	struct location *loc;
	struct db *db;
	char *conninfo;
	PGconn *conn;                /* the LISTEN connection              */
	int fd;
	struct pgasync *attempt;
	struct tmr reconnect;
	struct tmr flush;
	struct hash *pending_ht;     /* struct pend by AOR: no duplicates  */
	struct list pending;         /* struct pend, oldest first          */
	bool reloading;              /* a reload or listing in flight      */
	bool resync_due;             /* notifications may have been missed */
	uint32_t failed_listens;     /* reconnects that could not LISTEN   */
};

struct reload {
	struct sync *sync;
	char **aors;
	size_t n;
};

static void fd_handler(int flags, void *arg);
static void reconnect_start(void *arg);
static void flush_schedule(struct sync *sync, uint32_t delay_ms);


/* ---- the pending set ------------------------------------------------ */

static void pend_destructor(void *arg)
{
	struct pend *p = arg;

	hash_unlink(&p->he);
	list_unlink(&p->le);
	mem_deref(p->aor);
}


static bool pend_cmp(struct le *le, void *arg)
{
	const struct pend *p = le->data;

	return 0 == strcmp(p->aor, arg);
}


static void pend_add(struct sync *sync, const char *aor)
{
	uint32_t key = hash_joaat_str(aor);
	struct pend *p;

	if (hash_lookup(sync->pending_ht, key, pend_cmp, (void *)aor))
		return;
	p = mem_zalloc(sizeof(*p), pend_destructor);
	if (!p || str_dup(&p->aor, aor)) {
		mem_deref(p);
		log_error("sync: out of memory; %s not reloaded", aor);
		return;
	}
	hash_append(sync->pending_ht, key, &p->he, p);
	list_append(&sync->pending, &p->le, p);
}


void sync_reload(struct sync *sync, const char *aor)
{
	if (!sync || !aor)
		return;
	pend_add(sync, aor);
	flush_schedule(sync, 0);
}


static void flush_handler(void *arg);


static void flush_schedule(struct sync *sync, uint32_t delay_ms)
{
	if (!tmr_isrunning(&sync->flush) || delay_ms == 0)
		tmr_start(&sync->flush, delay_ms, flush_handler, sync);
}


/* ---- reloading AORs ------------------------------------------------- */

static void reload_destructor(void *arg)
{
	struct reload *r = arg;

	for (size_t i = 0; i < r->n; i++)
		mem_deref(r->aors[i]);
	mem_deref(r->aors);
	mem_deref(r->sync);
}


static void reload_rows(const struct pg_result *res, void *arg)
{
	struct reload *r = arg;
	struct location *loc = r->sync->loc;
	int rows = PQntuples((const PGresult *)res);

	for (size_t i = 0; i < r->n; i++)
		location_aor_clear(loc, r->aors[i]);
	for (int row = 0; row < rows; row++) {
		int err = persist_row_load(loc, res, row);
		if (err)
			log_error("sync: a reloaded row was not indexed: %m",
				  err);
	}
	log_debug("sync: reloaded %zu AOR(s), %d row(s)", r->n, rows);
}


static void reload_done(int err, const char *sqlstate, const char *errmsg,
			void *arg)
{
	struct reload *r = arg;
	struct sync *sync = r->sync;

	sync->reloading = false;
	if (err) {
		/* keep them: they are reloaded when the database is back */
		for (size_t i = 0; i < r->n; i++)
			pend_add(sync, r->aors[i]);
		log_debug("sync: reload failed (%s); will retry",
			  errmsg ? errmsg : "connection lost");
	}
	flush_schedule(sync, err ? RETRY_MS : 0);
	mem_deref(r);
}


static int reload_take(struct reload *r, struct sync *sync)
{
	struct le *le;

	r->aors = mem_zalloc(RELOAD_CHUNK * sizeof(char *), NULL);
	if (!r->aors)
		return ENOMEM;
	while (r->n < RELOAD_CHUNK && (le = list_head(&sync->pending))) {
		struct pend *p = le->data;
		r->aors[r->n++] = mem_ref(p->aor);
		mem_deref(p);
	}
	return 0;
}


static int reload_submit(struct sync *sync)
{
	struct reload *r = mem_zalloc(sizeof(*r), reload_destructor);
	struct db_txn *tx = NULL;
	char *array = NULL, now[24];
	int err;

	if (!r)
		return ENOMEM;
	r->sync = mem_ref(sync);
	err = reload_take(r, sync);
	if (!err)
		err = persist_text_array(&array, (const char *const *)r->aors,
					 r->n);
	re_snprintf(now, sizeof(now), "%lld", (long long)location_now());
	if (!err)
		err = db_txn_alloc(&tx, reload_done, r);
	if (!err)
		err = db_txn_add_query(tx, "aor_reload", 2,
				       (const char *const[]){array, now},
				       reload_rows, r);
	if (!err) {
		db_txn_set_solo(tx);
		err = db_txn_submit(sync->db, tx);
	}
	mem_deref(tx);
	mem_deref(array);
	if (err) {
		for (size_t i = 0; i < r->n; i++)
			pend_add(sync, r->aors[i]);
		mem_deref(r);
		return err;
	}
	sync->reloading = true;
	return 0;
}


/* ---- full resync ---------------------------------------------------- */

static bool memory_aor_add(const struct aor *aor, void *arg)
{
	pend_add(arg, aor->key);
	return false;
}


static void listing_rows(const struct pg_result *res, void *arg)
{
	struct sync *sync = arg;
	const PGresult *r = (const PGresult *)res;

	for (int row = 0; row < PQntuples(r); row++)
		pend_add(sync, PQgetvalue(r, row, 0));
}


static void listing_done(int err, const char *sqlstate, const char *errmsg,
			 void *arg)
{
	struct sync *sync = arg;

	sync->reloading = false;
	if (err)
		sync->resync_due = true;
	else
		log_info("sync: reloading %zu AOR(s) after losing the "
			 "notifications for a while", list_count(&sync->pending));
	flush_schedule(sync, err ? RETRY_MS : 0);
	mem_deref(sync);
}


/* Every AOR in memory or in the database is reloaded: one that is gone
 * from the database reloads as nothing, and leaves memory. */
static int resync_submit(struct sync *sync)
{
	struct db_txn *tx = NULL;
	int err;

	location_aors_apply(sync->loc, memory_aor_add, sync);
	err = db_txn_alloc(&tx, listing_done, sync);
	if (!err)
		err = db_txn_add_query(tx, "aor_list", 0, NULL, listing_rows,
				       sync);
	if (!err) {
		db_txn_set_solo(tx);
		err = db_txn_submit(sync->db, tx);
	}
	mem_deref(tx);
	if (err)
		return err;
	mem_ref(sync);
	sync->reloading = true;
	sync->resync_due = false;
	return 0;
}


static void flush_handler(void *arg)
{
	struct sync *sync = arg;
	int err = 0;

	if (sync->reloading)
		return;   /* its completion flushes again */
	if (!db_is_up(sync->db)) {
		if (sync->resync_due || sync->pending.head)
			flush_schedule(sync, RETRY_MS);
		return;
	}
	if (sync->resync_due)
		err = resync_submit(sync);
	else if (sync->pending.head)
		err = reload_submit(sync);
	if (err)
		flush_schedule(sync, RETRY_MS);
}


/* ---- the LISTEN connection ------------------------------------------ */

/* A payload names one AOR, or several separated by newlines (a node's
 * commit, locus.notify_aors()). */
static void aors_add(struct sync *sync, char *payload)
{
	char *save = NULL;

	for (char *aor = strtok_r(payload, "\n", &save); aor;
	     aor = strtok_r(NULL, "\n", &save))
		pend_add(sync, aor);
}


static void notifications_take(struct sync *sync)
{
	int own = db_backend_pid(sync->db);
	PGnotify *n;

	while ((n = PQnotifies(sync->conn))) {
		if (n->be_pid != own)
			aors_add(sync, n->extra);
		PQfreemem(n);
	}
	if (sync->pending.head)
		flush_schedule(sync, 0);
}


static void listen_lost(struct sync *sync)
{
	char reason[256];

	pgasync_one_line(reason, sizeof(reason), PQerrorMessage(sync->conn));
	log_warn("sync: LISTEN connection lost (%s); reconnecting", reason);
	fd_close(sync->fd);
	PQfinish(sync->conn);
	sync->conn = NULL;
	tmr_start(&sync->reconnect, RETRY_MS, reconnect_start, sync);
}


static void fd_handler(int flags, void *arg)
{
	struct sync *sync = arg;
	PGresult *res;

	if (!PQconsumeInput(sync->conn)) {
		listen_lost(sync);
		return;
	}
	/* the answer to LISTEN after a reconnect */
	while (!PQisBusy(sync->conn) && (res = PQgetResult(sync->conn)))
		PQclear(res);
	notifications_take(sync);
}


/* Sends LISTEN and watches the socket; on failure WHY says what failed
 * (a socket the loop cannot watch would never deliver a notification). */
static int listen_start(struct sync *sync, char *why, size_t sz)
{
	int err;

	if (PQsetnonblocking(sync->conn, 1) ||
	    !PQsendQuery(sync->conn, channel_listen)) {
		pgasync_one_line(why, sz, PQerrorMessage(sync->conn));
		return EIO;
	}
	sync->fd = PQsocket(sync->conn);
	err = fd_listen(sync->fd, FD_READ, fd_handler, sync);
	if (err)
		re_snprintf(why, sz, "cannot watch its socket: %m", err);
	return err;
}


static void reconnected(PGconn *conn, const char *errmsg, void *arg)
{
	struct sync *sync = arg;
	char why[256] = "";

	sync->attempt = mem_deref(sync->attempt);
	sync->conn = conn;
	if (conn && !listen_start(sync, why, sizeof(why))) {
		sync->failed_listens = 0;
		/* whatever changed while we were deaf is reloaded */
		sync->resync_due = true;
		flush_schedule(sync, 0);
		return;
	}
	if (conn) {
		/* the server answered, yet no LISTEN: worth a line now and
		 * then (an unreachable server is the writer's to report) */
		if (sync->failed_listens++ % LISTEN_LOG_EVERY == 0)
			log_warn("sync: LISTEN connection not re-established"
				 " (%s); retrying", why);
		PQfinish(conn);
	}
	else {
		log_debug("sync: reconnect failed: %s", errmsg);
	}
	sync->conn = NULL;
	sync->fd = -1;
	tmr_start(&sync->reconnect, RETRY_MS, reconnect_start, sync);
}


/* Non-blocking reconnect from inside the loop (a tmr_h). */
static void reconnect_start(void *arg)
{
	struct sync *sync = arg;

	if (pgasync_connect(&sync->attempt, sync->conninfo, reconnected, sync))
		tmr_start(&sync->reconnect, RETRY_MS, reconnect_start, sync);
}


static void sync_destructor(void *arg)
{
	struct sync *sync = arg;

	tmr_cancel(&sync->reconnect);
	tmr_cancel(&sync->flush);
	sync->attempt = mem_deref(sync->attempt);
	if (sync->conn) {
		fd_close(sync->fd);
		PQfinish(sync->conn);
	}
	hash_flush(sync->pending_ht);
	mem_deref(sync->pending_ht);
	mem_deref(sync->conninfo);
}


int sync_alloc(struct sync **syncp, struct location *loc, struct db *db,
	       const char *conninfo, char *errbuf, size_t errsz)
{
	struct sync *sync = mem_zalloc(sizeof(*sync), sync_destructor);
	PGresult *res;
	int err;

	if (!sync)
		return ENOMEM;
	sync->loc = loc;
	sync->db = db;
	sync->fd = -1;
	tmr_init(&sync->reconnect);
	tmr_init(&sync->flush);
	err = str_dup(&sync->conninfo, conninfo);
	if (!err)
		err = hash_alloc(&sync->pending_ht, PENDING_BUCKETS);
	if (err)
		goto out;

	sync->conn = pgconnect_blocking(conninfo, "open the LISTEN connection",
					errbuf, errsz);
	if (!sync->conn) {
		err = ECONNREFUSED;
		goto out;
	}
	/* confirmed before the initial load takes its snapshot, so that
	 * no change falls between the two */
	res = PQexec(sync->conn, channel_listen);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		re_snprintf(errbuf, errsz, "cannot LISTEN: %s",
			    PQresultErrorMessage(res));
		err = EIO;
	}
	PQclear(res);
	if (!err)
		err = PQsetnonblocking(sync->conn, 1) ? EIO : 0;
	if (!err) {
		sync->fd = PQsocket(sync->conn);
		err = fd_listen(sync->fd, FD_READ, fd_handler, sync);
	}
 out:
	if (err)
		mem_deref(sync);
	else
		*syncp = sync;
	return err;
}

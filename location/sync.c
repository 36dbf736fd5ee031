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
 * missed: every AOR in memory or in the database is then reloaded (the
 * resync), a slice at a time, one slice per transaction, so that no turn
 * of the loop does more than a slice's work however many AORs there are:
 *  - listing: the database's AORs, RESYNC_SLICE at a time in key order
 *    (the key is where the next slice starts), each slice reloaded whole
 *    before the next is listed;
 *  - checking: memory's AORs (a copy of their keys, taken in one pass),
 *    RESYNC_SLICE at a time: the database says which of them it no longer
 *    has, and those leave memory.
 * Notifications go first: their reloads are sent between two slices.
 * The same resync follows a reconnect of the writer: while its session
 * was gone, the other nodes took this one for gone too and notified
 * nothing (location/persist.c).
 */
#include <string.h>
#include <libpq-fe.h>
#include <re.h>
#include "common/log.h"
#include "common/metrics.h"
#include "db/db.h"
#include "location/location.h"
#include "location/persist.h"
#include "db/pgasync.h"
#include "db/pgconnect.h"
#include "location/sync.h"

enum {
	RELOAD_CHUNK = 500,          /* AORs per reload query            */
	RESYNC_SLICE = RELOAD_CHUNK, /* AORs per resync transaction      */
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
	bool reloading;              /* a transaction of ours in flight    */
	bool resync_due;             /* notifications may have been missed */
	bool listen_sent;            /* LISTEN sent again, not yet answered */
	uint32_t failed_listens;     /* reconnects that could not LISTEN   */
	struct resync {
		enum { RESYNC_IDLE, RESYNC_LISTING, RESYNC_CHECKING } phase;
		char *after;         /* the last AOR listed ("" at first)  */
		struct mbuf *memory; /* memory's AOR keys, NUL-terminated  */
		size_t checked;      /* where the next check starts in it  */
		size_t checking;     /* where the one in flight ends        */
		uint64_t started_ms;
		size_t listed, gone;
	} resync;
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

	metrics.notify_reloads += r->n;
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

static void resync_reset(struct resync *rs)
{
	rs->phase = RESYNC_IDLE;
	rs->after = mem_deref(rs->after);
	rs->memory = mem_deref(rs->memory);
}


/* Whatever a resync under way had done, it starts over: more may have
 * been missed since it began. */
static int resync_begin(struct sync *sync)
{
	struct resync *rs = &sync->resync;

	resync_reset(rs);
	if (str_dup(&rs->after, ""))
		return ENOMEM;
	rs->phase = RESYNC_LISTING;
	rs->started_ms = tmr_jiffies();
	rs->listed = rs->gone = 0;
	sync->resync_due = false;
	log_info("sync: reloading every AOR: changes may have gone "
		 "unnotified while a database connection was down");
	return 0;
}


static void resync_end(struct sync *sync)
{
	struct resync *rs = &sync->resync;

	log_info("sync: resync done in %llu ms: %zu AOR(s) reloaded from the "
		 "database, %zu gone from it removed from memory",
		 (unsigned long long)(tmr_jiffies() - rs->started_ms),
		 rs->listed, rs->gone);
	resync_reset(rs);
}


/* Sends query NAME on its own: ROWSH gets its rows, DONEH its end. */
static int resync_query(struct sync *sync, const char *name, int nparams,
			const char *const *values, db_rows_h *rowsh,
			db_done_h *doneh)
{
	struct db_txn *tx = NULL;
	int err;

	err = db_txn_alloc(&tx, doneh, sync);
	if (!err)
		err = db_txn_add_query(tx, name, nparams, values, rowsh, sync);
	if (!err) {
		db_txn_set_solo(tx);
		err = db_txn_submit(sync->db, tx);
	}
	mem_deref(tx);
	if (!err) {
		mem_ref(sync);      /* held until DONEH */
		sync->reloading = true;
	}
	return err;
}


/* The next slice of the database's AORs becomes pending: reloaded before
 * the next slice is listed. */
static void listing_rows(const struct pg_result *res, void *arg)
{
	struct sync *sync = arg;
	const PGresult *r = (const PGresult *)res;
	int rows = PQntuples(r);
	char *after = NULL;

	for (int row = 0; row < rows; row++)
		pend_add(sync, PQgetvalue(r, row, 0));
	sync->resync.listed += rows;
	if (rows && !str_dup(&after, PQgetvalue(r, rows - 1, 0))) {
		mem_deref(sync->resync.after);
		sync->resync.after = after;
	}
	if (rows < RESYNC_SLICE)
		sync->resync.phase = RESYNC_CHECKING;
}


static void resync_step_done(int err, const char *sqlstate,
			     const char *errmsg, void *arg)
{
	struct sync *sync = arg;

	sync->reloading = false;
	if (err)
		log_debug("sync: resync step failed (%s); will retry",
			  errmsg ? errmsg : "connection lost");
	else if (sync->resync.phase == RESYNC_CHECKING && sync->resync.memory)
		sync->resync.checked = sync->resync.checking;
	flush_schedule(sync, err ? RETRY_MS : 0);
	mem_deref(sync);
}


static int listing_submit(struct sync *sync)
{
	char limit[16];

	re_snprintf(limit, sizeof(limit), "%u", (unsigned)RESYNC_SLICE);
	return resync_query(sync, "aor_list_after", 2,
			    (const char *const[]){sync->resync.after, limit},
			    listing_rows, resync_step_done);
}


struct key_copy {
	struct mbuf *mb;
	int err;
};


static bool memory_key_add(const struct aor *aor, void *arg)
{
	struct key_copy *kc = arg;

	kc->err = mbuf_write_mem(kc->mb, (const uint8_t *)aor->key,
				 strlen(aor->key) + 1);
	return kc->err != 0;   /* out of memory: stops the pass */
}


/* The keys of memory's AORs, copied in one pass: the one turn of the
 * resync that grows with the number of AORs, a few bytes copied each. */
static int memory_copy(struct resync *rs, const struct location *loc)
{
	struct key_copy kc = {0};

	kc.mb = mbuf_alloc(32 * ((size_t)location_aor_count(loc) + 1));
	if (!kc.mb)
		return ENOMEM;
	location_aors_apply(loc, memory_key_add, &kc);
	if (kc.err) {
		mem_deref(kc.mb);
		return kc.err;
	}
	rs->memory = kc.mb;
	rs->checked = rs->checking = 0;
	return 0;
}


/* The AORs the database no longer has leave memory. */
static void absent_rows(const struct pg_result *res, void *arg)
{
	struct sync *sync = arg;
	const PGresult *r = (const PGresult *)res;

	for (int row = 0; row < PQntuples(r); row++)
		location_aor_clear(sync->loc, PQgetvalue(r, row, 0));
	sync->resync.gone += PQntuples(r);
}


/* The next RESYNC_SLICE keys of the copy, to the database. */
static int checking_submit(struct sync *sync)
{
	struct resync *rs = &sync->resync;
	const char *keys[RESYNC_SLICE];
	const char *p = (const char *)rs->memory->buf + rs->checked;
	const char *end = (const char *)rs->memory->buf + rs->memory->end;
	char *array = NULL;
	size_t n = 0;
	int err;

	while (n < RESYNC_SLICE && p < end) {
		keys[n++] = p;
		p += strlen(p) + 1;
	}
	err = persist_text_array(&array, keys, n);
	if (!err)
		err = resync_query(sync, "aor_absent", 1,
				   (const char *const[]){array},
				   absent_rows, resync_step_done);
	if (!err)
		rs->checking = p - (const char *)rs->memory->buf;
	mem_deref(array);
	return err;
}


/* The resync's next step, once the pending reloads are sent. */
static int resync_step(struct sync *sync)
{
	struct resync *rs = &sync->resync;
	int err;

	if (rs->phase == RESYNC_LISTING)
		return listing_submit(sync);
	if (!rs->memory) {
		err = memory_copy(rs, sync->loc);
		if (err)
			return err;
	}
	if (rs->checked < rs->memory->end)
		return checking_submit(sync);
	resync_end(sync);
	return 0;
}


static void flush_handler(void *arg)
{
	struct sync *sync = arg;
	int err = 0;

	if (sync->reloading)
		return;   /* its completion flushes again */
	if (!db_is_up(sync->db)) {
		if (sync->resync_due || sync->pending.head ||
		    sync->resync.phase != RESYNC_IDLE)
			flush_schedule(sync, RETRY_MS);
		return;
	}
	if (sync->resync_due)
		err = resync_begin(sync);
	if (!err && sync->pending.head)
		err = reload_submit(sync);
	else if (!err && sync->resync.phase != RESYNC_IDLE)
		err = resync_step(sync);
	if (err)
		flush_schedule(sync, RETRY_MS);
}


/* The writer is back: what the other nodes committed meanwhile was not
 * notified (a db_up_h). */
static void writer_back(void *arg)
{
	struct sync *sync = arg;

	sync->resync_due = true;
	flush_schedule(sync, 0);
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
	/* the answer to LISTEN after a reconnect: only once it is in
	 * effect can the resync start, or a change committed between the
	 * resync's snapshot and the LISTEN would be neither in the one nor
	 * notified by the other; a LISTEN refused is a connection lost */
	while (!PQisBusy(sync->conn) && (res = PQgetResult(sync->conn))) {
		bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;

		PQclear(res);
		if (!ok) {
			listen_lost(sync);
			return;
		}
		if (sync->listen_sent) {
			sync->listen_sent = false;
			sync->resync_due = true;
			flush_schedule(sync, 0);
		}
	}
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
		++metrics.reconnects[METRICS_CONN_LISTEN];
		/* whatever changed while we were deaf is reloaded, once
		 * the LISTEN is in effect (fd_handler) */
		sync->listen_sent = true;
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

	db_set_up_handler(sync->db, NULL, NULL);
	tmr_cancel(&sync->reconnect);
	tmr_cancel(&sync->flush);
	sync->attempt = mem_deref(sync->attempt);
	if (sync->conn) {
		fd_close(sync->fd);
		PQfinish(sync->conn);
	}
	hash_flush(sync->pending_ht);
	mem_deref(sync->pending_ht);
	resync_reset(&sync->resync);
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
	if (err) {
		mem_deref(sync);
		return err;
	}
	db_set_up_handler(db, writer_back, sync);
	*syncp = sync;
	return 0;
}

/*
 * Expiry.  Bindings leave memory on a one-second tick.  Their rows leave
 * PostgreSQL in batches, by primary key: the node notes the key of each
 * binding that expired in its memory and deletes them, every few seconds
 * at most, with the condition that the row has expired there too (a
 * refresh that another node committed meanwhile keeps it).  The table has
 * no index on expires (sql/schema.sql: refreshes are HOT updates), so
 * finding expired rows otherwise is a scan of the whole table: done at
 * start-up and then rarely, for rows no node had in memory (expired while
 * no node ran, written already expired with psql, or noted by a node that
 * stopped before deleting them).
 *
 * With several nodes, every node has every binding in memory: whichever
 * gets the lock deletes (sql/schema.sql, locus.expire_bindings()); the
 * others keep their keys and try again later, finding those rows gone.
 */
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include <re.h>
#include "common/log.h"
#include "db/db.h"
#include "location/location.h"
#include "location/persist.h"
#include "location/sweeper.h"

enum {
	TICK_MS = 1000,
	/* Deleting rows is batched: one statement every few seconds at
	 * most, however many bindings expired meanwhile. */
	DB_SWEEP_INTERVAL_S = 5,
	DB_SWEEP_CHUNK = 5000,     /* locus.expire()'s LIMIT, keys per call */
	SCAN_INTERVAL_S = 600,
};

struct sweeper {
	struct location *loc;
	struct db *db;
	struct tmr tmr;
	struct mbuf *keys;       /* "aor\0key\0" of each binding expired in
				    memory whose row may still be there   */
	size_t keys_sent;        /* bytes of it in the DELETE in flight    */
	bool scan_due;           /* a scan of the whole table is due      */
	bool scanning;           /* ... and the DELETE in flight is one   */
	bool db_busy;            /* a DELETE is in flight                */
	int64_t last_db_sweep;
	int64_t last_scan;
	int removed;             /* what the last DELETE returned         */
};


static void sweeper_destructor(void *arg)
{
	struct sweeper *sw = arg;

	tmr_cancel(&sw->tmr);
	mem_deref(sw->keys);
}


static void key_note(const struct binding *b, void *arg)
{
	struct sweeper *sw = arg;
	int err;

	err = mbuf_write_mem(sw->keys, (const uint8_t *)b->aor->key,
			     strlen(b->aor->key) + 1);
	err |= mbuf_write_mem(sw->keys, (const uint8_t *)b->key,
			      strlen(b->key) + 1);
	if (err)
		log_error("expiry: out of memory; the row of %s %s is left "
			  "to the next scan", b->aor->key, b->key);
}


/* The keys of the DELETE just done leave the list. */
static void keys_done(struct sweeper *sw)
{
	struct mbuf *mb = sw->keys;
	size_t left = mb->end - sw->keys_sent;

	memmove(mb->buf, mb->buf + sw->keys_sent, left);
	mb->end = left;
	mb->pos = 0;
}


static void expire_rows(const struct pg_result *res, void *arg)
{
	struct sweeper *sw = arg;
	const PGresult *r = (const PGresult *)res;

	sw->removed = PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : 0;
}


static void db_swept(int err, const char *sqlstate, const char *errmsg,
		     void *arg)
{
	struct sweeper *sw = arg;

	sw->db_busy = false;
	if (err) {
		log_warn("expiry: deleting expired rows failed (%s); will "
			 "retry", errmsg ? errmsg : "connection lost");
	}
	else if (sw->removed < 0) {
		log_debug("expiry: another node is cleaning up");
	}
	else {
		if (sw->removed > 0)
			log_info("expiry: removed %d expired binding(s) from "
				 "the database", sw->removed);
		if (!sw->scanning)
			keys_done(sw);
		/* a full scan's chunk: more may be waiting */
		else if (sw->removed < DB_SWEEP_CHUNK)
			sw->scan_due = false;
		/* more to do: at the next tick */
		if (sw->scan_due || sw->keys->end)
			sw->last_db_sweep = 0;
	}
	sw->keys_sent = 0;
	mem_deref(sw);
}


/* The first DB_SWEEP_CHUNK keys of the list, into TX. */
static int keys_add(struct sweeper *sw, struct db_txn *tx, int64_t now)
{
	const char **v = mem_alloc(2 * DB_SWEEP_CHUNK * sizeof(*v), NULL);
	const char *p = (const char *)sw->keys->buf;
	const char *end = p + sw->keys->end;
	size_t n = 0;
	int err;

	if (!v)
		return ENOMEM;
	/* the AORs in V's first half, their keys in the second */
	while (n < DB_SWEEP_CHUNK && p < end) {
		v[n] = p;
		p += strlen(p) + 1;
		v[DB_SWEEP_CHUNK + n++] = p;
		p += strlen(p) + 1;
	}
	err = persist_expired_keys_delete(tx, v, v + DB_SWEEP_CHUNK, n, now,
					  expire_rows, sw);
	if (!err)
		sw->keys_sent = p - (const char *)sw->keys->buf;
	mem_deref(v);
	return err;
}


static void db_sweep(struct sweeper *sw, int64_t now)
{
	struct db_txn *tx;
	int err;

	if (db_txn_alloc(&tx, db_swept, sw))
		return;
	/* on its own: it must not keep a batch of REGISTERs from being
	 * merged into array statements */
	db_txn_set_solo(tx);
	sw->removed = 0;
	sw->scanning = sw->scan_due;
	if (sw->scanning) {
		err = persist_expired_delete(tx, now, expire_rows, sw);
		sw->last_scan = now;
	}
	else {
		err = keys_add(sw, tx, now);
	}
	if (!err && !db_txn_submit(sw->db, tx)) {
		mem_ref(sw);      /* held until db_swept */
		sw->db_busy = true;
		sw->last_db_sweep = now;
	}
	else {
		sw->keys_sent = 0;
	}
	mem_deref(tx);
}


static void tick(void *arg)
{
	struct sweeper *sw = arg;
	int64_t now = location_now();
	uint32_t n;

	/* the keys of a DELETE in flight are the first of the list, and
	 * stay so: new ones are appended */
	n = location_expire_each(sw->loc, now, key_note, sw);
	if (n)
		log_debug("expiry: %u binding(s) expired", n);
	if (now - sw->last_scan >= SCAN_INTERVAL_S)
		sw->scan_due = true;

	if ((sw->scan_due || sw->keys->end) && !sw->db_busy &&
	    db_is_up(sw->db) && now - sw->last_db_sweep >= DB_SWEEP_INTERVAL_S)
		db_sweep(sw, now);

	tmr_start(&sw->tmr, TICK_MS, tick, sw);
}


int sweeper_alloc(struct sweeper **swp, struct location *loc, struct db *db)
{
	struct sweeper *sw = mem_zalloc(sizeof(*sw), sweeper_destructor);

	if (!sw)
		return ENOMEM;
	sw->loc = loc;
	sw->db = db;
	sw->keys = mbuf_alloc(1024);
	if (!sw->keys) {
		mem_deref(sw);
		return ENOMEM;
	}
	/* rows may have expired while no node ran */
	sw->scan_due = true;
	tmr_init(&sw->tmr);
	tmr_start(&sw->tmr, 0, tick, sw);
	*swp = sw;
	return 0;
}

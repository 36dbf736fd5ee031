#include <stdlib.h>
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
	DB_SWEEP_CHUNK = 5000,     /* locus.expire()'s LIMIT */
};

struct sweeper {
	struct location *loc;
	struct db *db;
	struct tmr tmr;
	bool db_due;             /* rows expired since the last DELETE   */
	bool db_busy;            /* a DELETE is in flight                */
	int64_t last_db_sweep;
	int removed;             /* what the last locus.expire() returned */
};


static void sweeper_destructor(void *arg)
{
	struct sweeper *sw = arg;

	tmr_cancel(&sw->tmr);
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
		sw->db_due = true;
	}
	else if (sw->removed < 0) {
		log_debug("expiry: another node is cleaning up");
	}
	else if (sw->removed > 0) {
		log_info("expiry: removed %d expired binding(s) from the "
			 "database", sw->removed);
		/* a full chunk: more are waiting, go on at the next tick */
		if (sw->removed >= DB_SWEEP_CHUNK) {
			sw->db_due = true;
			sw->last_db_sweep = 0;
		}
	}
	mem_deref(sw);
}


static void db_sweep(struct sweeper *sw, int64_t now)
{
	struct db_txn *tx;

	if (db_txn_alloc(&tx, db_swept, sw))
		return;
	/* on its own: it must not keep a batch of REGISTERs from being
	 * merged into array statements */
	db_txn_set_solo(tx);
	sw->removed = 0;
	if (!persist_expired_delete(tx, now, expire_rows, sw) &&
	    !db_txn_submit(sw->db, tx)) {
		mem_ref(sw);      /* held until db_swept */
		sw->db_busy = true;
		sw->db_due = false;
		sw->last_db_sweep = now;
	}
	mem_deref(tx);
}


static void tick(void *arg)
{
	struct sweeper *sw = arg;
	int64_t now = location_now();
	uint32_t n;

	n = location_expire(sw->loc, now);
	if (n) {
		log_debug("expiry: %u binding(s) expired", n);
		sw->db_due = true;
	}

	if (sw->db_due && !sw->db_busy && db_is_up(sw->db) &&
	    now - sw->last_db_sweep >= DB_SWEEP_INTERVAL_S)
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
	sw->db_due = true;      /* rows may have expired while we were down */
	tmr_init(&sw->tmr);
	tmr_start(&sw->tmr, 0, tick, sw);
	*swp = sw;
	return 0;
}

/*
 * One writer connection (db/db.h) with the statements below, and one
 * LISTEN connection (db/listen.h) on locus_ua, whose payloads are
 * "call ID" (a new call: take the waiting ones), "hangup ID" and
 * "unpark ID".  A write that fails because the connection is down is
 * kept and sent again when it is back, in order; one the server refuses
 * is logged.
 */
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include <re.h>
#include "common/log.h"
#include "db/db.h"
#include "db/listen.h"
#include "ua/store.h"

enum {
	CLAIM_BATCH = 4,        /* calls taken per query: the LIMIT below;
				   small, so that nodes share a burst */
	POLL_MS = 10000,        /* a look for calls whose NOTIFY was lost */
	RETRY_MS = 1000,
	WRITE_PARAMS_MAX = 5,
};

static const struct db_statement statements[] = {
	{"ua_claim",
	 "UPDATE locus.call c SET node = $1 WHERE c.id IN (SELECT id"
	 " FROM locus.call WHERE node IS NULL AND state <> 'ended'"
	 " ORDER BY id LIMIT 4 FOR UPDATE SKIP LOCKED)"
	 " RETURNING c.id, c.caller, c.callee, c.caller_device,"
	 " c.auto_answer, c.caller_timeout, c.callee_timeout, c.mode", 1,
	 NULL},
	{"ua_call_state",
	 "UPDATE locus.call SET state = $2, cause = coalesce($3, cause),"
	 " answered_at = CASE WHEN $2 = 'connected' THEN now()"
	 " ELSE answered_at END,"
	 " ended_at = CASE WHEN $2 = 'ended' THEN now() ELSE ended_at END"
	 " WHERE id = $1::bigint", 3, NULL},
	{"ua_call_stale",
	 "UPDATE locus.call SET state = 'ended', ended_at = now(),"
	 " cause = 'locus stopped during the call' WHERE node = $1"
	 " AND state <> 'ended' AND NOT (mode = 'refer'"
	 " AND state = 'connected')", 1, NULL},
	{"ua_park_new",
	 "INSERT INTO locus.park (id, slot, parked, parked_by, node)"
	 " VALUES ($1, $2, $3, $4, $5)", 5, NULL},
	{"ua_park_state",
	 "UPDATE locus.park SET state = $2, cause = coalesce($3, cause),"
	 " ended_at = CASE WHEN $4::boolean THEN now() END WHERE id = $1", 4,
	 NULL},
	{"ua_park_stale",
	 "UPDATE locus.park SET state = 'ended', ended_at = now(),"
	 " cause = 'locus stopped while it was parked' WHERE node = $1"
	 " AND ended_at IS NULL", 1, NULL},
};

/* A write waiting to be sent, or sent again. */
struct write {
	struct le le;
	struct store *s;
	const char *name;
	int n;
	char *values[WRITE_PARAMS_MAX];
};

struct store {
	struct db *db;
	struct db_listen *listen;
	char *node;
	const struct store_handlers *h;
	void *arg;
	struct list writes;          /* struct write, waiting, in order  */
	bool writing;                /* the head of WRITES is in flight  */
	bool claiming;
	bool claim_again;
	struct tmr claim_tmr;
	struct tmr write_tmr;
};

static void writes_flush(struct store *s);
static void claim(struct store *s);


/* ---- writes --------------------------------------------------------- */

static void write_destructor(void *arg)
{
	struct write *w = arg;

	list_unlink(&w->le);
	for (int i = 0; i < w->n; i++)
		mem_deref(w->values[i]);
}


static void retry(void *arg)
{
	writes_flush(arg);
}


static void write_done(int err, const char *sqlstate, const char *errmsg,
		       void *arg)
{
	struct write *w = arg;
	struct store *s = w->s;

	s->writing = false;
	if (err && !sqlstate) {
		/* the connection: the same write once it is back */
		tmr_start(&s->write_tmr, RETRY_MS, retry, s);
		return;
	}
	if (err)
		log_error("ua: %s refused by the database: %s (SQLSTATE %s)",
			  w->name, errmsg, sqlstate);
	mem_deref(w);
	writes_flush(s);
}


static void writes_flush(struct store *s)
{
	struct write *w = list_ledata(list_head(&s->writes));
	struct db_txn *tx = NULL;
	int err;

	if (!w || s->writing)
		return;
	if (!db_is_up(s->db)) {
		tmr_start(&s->write_tmr, RETRY_MS, retry, s);
		return;
	}
	err = db_txn_alloc(&tx, write_done, w);
	err = err ? err : db_txn_add(tx, w->name, w->n,
				     (const char *const *)w->values);
	err = err ? err : db_txn_submit(s->db, tx);
	mem_deref(tx);
	if (err) {
		tmr_start(&s->write_tmr, RETRY_MS, retry, s);
		return;
	}
	s->writing = true;
}


/* Queues statement NAME with the N values (NULL: SQL NULL). */
static void write_add(struct store *s, const char *name, int n,
		      const char *const *values)
{
	struct write *w = mem_zalloc(sizeof(*w), write_destructor);
	int err = w ? 0 : ENOMEM;

	for (int i = 0; !err && i < n; i++) {
		if (values[i])
			err = str_dup(&w->values[i], values[i]);
	}
	if (err) {
		log_error("ua: %s not written: %m", name, err);
		mem_deref(w);
		return;
	}
	w->s = s;
	w->name = name;
	w->n = n;
	list_append(&s->writes, &w->le, w);
	writes_flush(s);
}


void store_call_state(struct store *s, uint64_t id, const char *state,
		      const char *cause)
{
	char idstr[24];
	const char *v[] = {idstr, state, cause};

	(void)re_snprintf(idstr, sizeof(idstr), "%llu",
			  (unsigned long long)id);
	write_add(s, "ua_call_state", 3, v);
}


void store_park_new(struct store *s, const char *id, const char *slot,
		    const char *parked, const char *parker)
{
	const char *v[] = {id, slot, parked, parker, s->node};

	write_add(s, "ua_park_new", 5, v);
}


void store_park_state(struct store *s, const char *id, const char *state,
		      const char *cause, bool ended)
{
	const char *v[] = {id, state, cause, ended ? "true" : "false"};

	write_add(s, "ua_park_state", 4, v);
}


/* ---- taking calls --------------------------------------------------- */

/* The rows a claim took, kept until its commit. */
struct claimed {
	struct store *s;
	struct pg_result *res;
};


static void claimed_destructor(void *arg)
{
	struct claimed *c = arg;

	if (c->res)
		PQclear((PGresult *)c->res);
}


static void claim_rows(const struct pg_result *res, void *arg)
{
	struct claimed *c = arg;

	/* a copy: libpq frees RES after this handler */
	c->res = (struct pg_result *)PQcopyResult((const PGresult *)res,
		PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
}


static const char *column(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}


static void claimed_start(struct store *s, const PGresult *res)
{
	int rows = PQntuples(res);

	for (int i = 0; i < rows; i++) {
		struct call_row r = {
			.id = strtoull(PQgetvalue(res, i, 0), NULL, 10),
			.caller = PQgetvalue(res, i, 1),
			.callee = PQgetvalue(res, i, 2),
			.caller_device = column(res, i, 3),
			.auto_answer = 't' == *PQgetvalue(res, i, 4),
			.caller_timeout = (uint32_t)atoi(PQgetvalue(res, i,
								     5)),
			.callee_timeout = (uint32_t)atoi(PQgetvalue(res, i,
								     6)),
			.refer = 0 == strcmp(PQgetvalue(res, i, 7), "refer"),
		};
		log_info("ua: call %llu taken: %s -> %s (%s)",
			 (unsigned long long)r.id, r.caller, r.callee,
			 r.refer ? "refer" : "bridge");
		s->h->call(&r, s->arg);
	}
}


static void claim_done(int err, const char *sqlstate, const char *errmsg,
		       void *arg)
{
	struct claimed *c = arg;
	struct store *s = c->s;
	bool full;

	s->claiming = false;
	if (err)
		log_warn("ua: taking calls failed: %s",
			 errmsg ? errmsg : "connection lost");
	full = !err && c->res &&
		PQntuples((const PGresult *)c->res) == CLAIM_BATCH;
	if (!err && c->res)
		claimed_start(s, (const PGresult *)c->res);
	mem_deref(c);
	(void)sqlstate;
	if (s->claim_again || full) {
		s->claim_again = false;
		claim(s);
	}
}


static void claim(struct store *s)
{
	const char *v[] = {s->node};
	struct claimed *c;
	struct db_txn *tx = NULL;
	int err;

	if (s->claiming) {
		s->claim_again = true;
		return;
	}
	c = mem_zalloc(sizeof(*c), claimed_destructor);
	if (!c)
		return;
	c->s = s;
	err = db_txn_alloc(&tx, claim_done, c);
	err = err ? err : db_txn_add_query(tx, "ua_claim", 1, v, claim_rows,
					   c);
	err = err ? err : db_txn_submit(s->db, tx);
	mem_deref(tx);
	if (err) {
		mem_deref(c);
		return;
	}
	s->claiming = true;
}


static void poll_claim(void *arg)
{
	struct store *s = arg;

	tmr_start(&s->claim_tmr, POLL_MS, poll_claim, s);
	if (db_is_up(s->db))
		claim(s);
}


/* ---- notifications -------------------------------------------------- */

static void notified(const char *payload, int be_pid, void *arg)
{
	struct store *s = arg;
	struct pl verb, what;

	(void)be_pid;
	if (re_regex(payload, strlen(payload), "[a-z]+ [^]+", &verb, &what)) {
		log_warn("ua: a notification on locus_ua that says nothing"
			 " to do: '%s'", payload);
		return;
	}
	if (0 == pl_strcmp(&verb, "call")) {
		claim(s);
	}
	else if (0 == pl_strcmp(&verb, "hangup") && s->h->hangup) {
		s->h->hangup(pl_u64(&what), s->arg);
	}
	else if (0 == pl_strcmp(&verb, "unpark") && s->h->unpark) {
		char id[64];
		(void)pl_strcpy(&what, id, sizeof(id));
		s->h->unpark(id, s->arg);
	}
}


static void listen_up(void *arg)
{
	claim(arg);
}


static void store_destructor(void *arg)
{
	struct store *s = arg;

	tmr_cancel(&s->claim_tmr);
	tmr_cancel(&s->write_tmr);
	list_flush(&s->writes);
	mem_deref(s->listen);
	mem_deref(s->db);
	mem_deref(s->node);
}


int store_alloc(struct store **sp, const char *conninfo, const char *node,
		const struct store_handlers *h, void *arg,
		char *errbuf, size_t errsz)
{
	struct store *s = mem_zalloc(sizeof(*s), store_destructor);
	const char *v[] = {node};
	int err;

	if (!s)
		return ENOMEM;
	s->h = h;
	s->arg = arg;
	tmr_init(&s->claim_tmr);
	tmr_init(&s->write_tmr);
	err = str_dup(&s->node, node);
	err = err ? err : db_open(&s->db, conninfo, statements,
				  ARRAY_SIZE(statements), NULL, errbuf, errsz);
	err = err ? err : db_listen_alloc(&s->listen, conninfo, "locus_ua",
					  notified, listen_up, s, errbuf,
					  errsz);
	if (!err) {
		db_metrics_conn_set(s->db, METRICS_CONN_UA);
		db_listen_metrics_conn_set(s->listen, METRICS_CONN_UA_LISTEN);
	}
	if (err) {
		mem_deref(s);
		return err;
	}
	write_add(s, "ua_call_stale", 1, v);
	write_add(s, "ua_park_stale", 1, v);
	tmr_start(&s->claim_tmr, 0, poll_claim, s);
	*sp = s;
	return 0;
}

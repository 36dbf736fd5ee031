#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include <re.h>
#include "common/decimal.h"
#include "common/log.h"
#include "location/persist.h"
#include "db/pgconnect.h"

enum {
	UPSERT_PARAMS = 16,
};

/* The columns a binding upsert sets, and how each parameter becomes one:
 * shared by the single-row and the array form. */
#define UPSERT_INTO \
	"INSERT INTO locus.location (aor, binding_key, contact, params," \
	" instance, reg_id, q, expires, call_id, cseq, path, received," \
	" transport, user_agent, updated_at, nat) "
#define UPSERT_VALUES(p) \
	p(1) ", " p(2) ", " p(3) ", " p(4) ", " p(5) ", " p(6) "::integer, " \
	p(7) "::numeric / 1000, to_timestamp(" p(8) "::float8), " p(9) ", " \
	p(10) "::bigint, " p(11) "::text[], " p(12) ", " p(13) ", " p(14) \
	", to_timestamp(" p(15) "::float8 / 1000), " p(16) "::boolean"
#define UPSERT_CONFLICT \
	" ON CONFLICT (aor, binding_key) DO UPDATE SET" \
	" contact = EXCLUDED.contact, params = EXCLUDED.params," \
	" instance = EXCLUDED.instance, reg_id = EXCLUDED.reg_id," \
	" q = EXCLUDED.q, expires = EXCLUDED.expires," \
	" call_id = EXCLUDED.call_id," \
	" cseq = CASE WHEN locus.location.call_id = EXCLUDED.call_id" \
	" AND locus.location.cseq >= EXCLUDED.cseq" \
	" THEN locus.stale_cseq(locus.location.cseq, EXCLUDED.cseq)" \
	" ELSE EXCLUDED.cseq END," \
	" path = EXCLUDED.path, received = EXCLUDED.received," \
	" transport = EXCLUDED.transport, user_agent = EXCLUDED.user_agent," \
	" updated_at = EXCLUDED.updated_at, nat = EXCLUDED.nat"
#define PARAM(n) "$" #n
#define COLUMN(n) "c" #n

#define INSTANCE_CONFLICT \
	" ON CONFLICT (aor, instance) DO UPDATE SET" \
	" generation = EXCLUDED.generation, call_id = EXCLUDED.call_id," \
	" updated_at = now()"

/* The database's AORs after $1 in key order, at most $2 of them: the
 * first $2 of each table's, merged (each read from its primary key's
 * index, so that a slice costs the same at the end as at the start). */
#define AOR_LIST_AFTER_SQL \
	"SELECT aor FROM (SELECT DISTINCT aor FROM locus.location" \
	" WHERE aor > $1 ORDER BY aor LIMIT $2::integer) l" \
	" UNION SELECT aor FROM (SELECT DISTINCT aor FROM locus.instance" \
	" WHERE aor > $1 ORDER BY aor LIMIT $2::integer) i" \
	" ORDER BY 1 LIMIT $2::integer"

/* Those of the AORs $1 (text[]) that the database has nothing about. */
#define AOR_ABSENT_SQL \
	"SELECT a FROM unnest($1::text[]) AS a WHERE" \
	" NOT EXISTS (SELECT 1 FROM locus.location l WHERE l.aor = a) AND" \
	" NOT EXISTS (SELECT 1 FROM locus.instance i WHERE i.aor = a)"

/*
 * Each node's writer session holds the lock NODE_LOCK shared, as long as
 * it lives (persist_session_sql).  A commit of ours tells the other nodes
 * which AORs it changed, unless there is none: when the lock can be had
 * exclusively, no other node's writer holds it, and the notification, which
 * would only wake this node's own LISTEN sessions (PostgreSQL wakes every
 * listener of the database for each one), is left out.  The exclusive
 * lock is then held until the commit, so that a node starting meanwhile
 * takes its share, and its snapshot of the bindings, only after the
 * commit: every commit is either in the snapshot a node loads or notified
 * to it.  A node whose writer reconnects (its share was gone meanwhile)
 * reloads everything (location/sync.c).
 */
#define NODE_LOCK "hashtext('locus.node')"
#define UNLESS_ALONE " WHERE NOT pg_try_advisory_xact_lock(" NODE_LOCK ")"

/*
 * The "_many" forms take every parameter as an array: db.c merges the
 * executions of a group commit into one statement each (see db.h).  The
 * registrar never has two REGISTERs of one AOR in a batch, so no row is
 * touched twice by one of them.
 */
const struct db_statement persist_statements[] = {
	{"binding_upsert", UPSERT_INTO "VALUES (" UPSERT_VALUES(PARAM) ")"
	 UPSERT_CONFLICT, UPSERT_PARAMS, "binding_upsert_many"},
	{"binding_upsert_many", UPSERT_INTO "SELECT " UPSERT_VALUES(COLUMN)
	 " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
	 " $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],"
	 " $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],"
	 " $15::text[], $16::text[]) AS x(c1, c2, c3, c4, c5, c6, c7, c8, c9,"
	 " c10, c11, c12, c13, c14, c15, c16)" UPSERT_CONFLICT, UPSERT_PARAMS, NULL},
	{"binding_delete",
	 "DELETE FROM locus.location WHERE aor = $1 AND binding_key = $2", 2,
	 "binding_delete_many"},
	{"binding_delete_many",
	 "DELETE FROM locus.location l USING unnest($1::text[], $2::text[])"
	 " AS x(aor, k) WHERE l.aor = x.aor AND l.binding_key = x.k", 2, NULL},
	{"instance_upsert",
	 "INSERT INTO locus.instance (aor, instance, generation, call_id)"
	 " VALUES ($1, $2, $3::bigint, $4)" INSTANCE_CONFLICT, 4,
	 "instance_upsert_many"},
	{"instance_upsert_many",
	 "INSERT INTO locus.instance (aor, instance, generation, call_id)"
	 " SELECT a, i, g::bigint, c FROM unnest($1::text[], $2::text[],"
	 " $3::text[], $4::text[]) AS x(a, i, g, c)" INSTANCE_CONFLICT, 4,
	 NULL},
	{"aor_notify", "SELECT locus.notify_aors(ARRAY[$1::text])"
	 UNLESS_ALONE, 1, "aor_notify_many"},
	{"aor_notify_many", "SELECT locus.notify_aors($1::text[])"
	 UNLESS_ALONE, 1, NULL},
	{"expired_delete",
	 "SELECT locus.expire(to_timestamp($1::float8))", 1, NULL},
	{"expired_keys_delete", "SELECT locus.expire_bindings($1::text[],"
	 " $2::text[], to_timestamp($3::float8))", 3, NULL},
	{"aor_reload", persist_reload_sql, 2, NULL},
	{"aor_list_after", AOR_LIST_AFTER_SQL, 2, NULL},
	{"aor_absent", AOR_ABSENT_SQL, 1, NULL},
	{"subscriber_ha1", "SELECT ha1_md5, ha1_sha256 FROM locus.subscriber"
	 " WHERE username = $1 AND domain = $2", 2, NULL},
};

/* locus's sessions notify once per commit (sql/schema.sql), and only
 * while another node runs (NODE_LOCK).  One statement: on a reconnect it
 * goes through the pipeline. */
const char persist_session_sql[] =
	"SELECT set_config('locus.writer', 'on', false),"
	" pg_advisory_lock_shared(" NODE_LOCK ")";

const size_t persist_statementc = ARRAY_SIZE(persist_statements);


/* The psql command that loads the schema where CONN is connected; the
 * password, if any, psql asks for itself. */
static int schema_load_print(struct re_printf *pf, const PGconn *conn)
{
	return re_hprintf(pf, "psql -h %s -p %s -U %s -d %s -f sql/schema.sql",
			  PQhost(conn), PQport(conn), PQuser(conn), PQdb(conn));
}


int persist_check_schema(const char *conninfo, char *errbuf, size_t errsz)
{
	PGconn *conn = pgconnect_blocking(conninfo, "connect to the database",
					  errbuf, errsz);
	PGresult *res;
	int err = 0;

	if (!conn)
		return ECONNREFUSED;

	res = PQexec(conn, "SELECT value FROM locus.meta"
		     " WHERE key = 'schema_version'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		/* the server's first line; libpq's buffer is only read */
		const char *msg = res ? PQresultErrorMessage(res)
				      : PQerrorMessage(conn);

		re_snprintf(errbuf, errsz, "the database has no locus schema "
			    "(%b); load it with: %H", msg, strcspn(msg, "\n"),
			    schema_load_print, conn);
		err = ENOENT;
	}
	else if (PQntuples(res) != 1 ||
		 strcmp(PQgetvalue(res, 0, 0), PERSIST_SCHEMA_VERSION)) {
		re_snprintf(errbuf, errsz, "the database schema is version "
			    "'%s' but this locus needs version %s; load the "
			    "matching sql/schema.sql or run the matching locus",
			    PQntuples(res) ? PQgetvalue(res, 0, 0) : "none",
			    PERSIST_SCHEMA_VERSION);
		err = EPROTO;
	}
	PQclear(res);
	PQfinish(conn);
	return err;
}


/* sql/schema.sql raises it, in locus.stale_cseq(); a code of our own
 * (class LS is not PostgreSQL's) that nothing else raises. */
#define SQLSTATE_STALE_CSEQ "LS001"

bool persist_is_stale_cseq(const char *sqlstate)
{
	return sqlstate && 0 == strcmp(sqlstate, SQLSTATE_STALE_CSEQ);
}


const char *persist_transport_name(enum sip_transp tp)
{
	static const char *const names[SIP_TRANSPC] = {
		"udp", "tcp", "tls", "ws", "wss"
	};

	return tp >= 0 && tp < SIP_TRANSPC ? names[tp] : "udp";
}


static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}


/* Appends the element of a text[] literal at *PP to MB, unescaped, and
 * moves *PP past it.  Returns its length, 0 for a NULL element. */
static size_t array_element_read(struct mbuf *mb, const char **pp, int *errp)
{
	const char *p = *pp;
	size_t start = mb->end, len;

	if (*p != '"') {
		len = strcspn(p, "{},");
		*pp = p + len;
		if (len == 4 && 0 == strncasecmp(p, "NULL", 4))
			return 0;
		*errp |= mbuf_write_mem(mb, (const uint8_t *)p, len);
		return len;
	}
	for (++p; *p && *p != '"'; ++p) {
		if (*p == '\\' && p[1])
			++p;
		*errp |= mbuf_write_u8(mb, (uint8_t)*p);
	}
	*pp = *p ? p + 1 : p;
	return mb->end - start;
}


int persist_path_decode(struct binding_path **pathp, const char *array)
{
	struct binding_path *path = NULL;
	struct mbuf *mb = mbuf_alloc(128);
	const char *p = array, *s;
	size_t n = 0;
	int err = 0;

	*pathp = NULL;
	if (!mb)
		return ENOMEM;
	/* "[0:1]={...}": an array whose lower bound is not 1 */
	if (*p == '[' && strchr(p, '='))
		p = strchr(p, '=') + 1;
	/* the values NUL-separated in MB; braces of a nested array are
	 * skipped, NULL and empty elements left out */
	while (*p && !err) {
		if (*p == '{' || *p == '}' || *p == ',')
			++p;
		else if (array_element_read(mb, &p, &err) && !err) {
			err = mbuf_write_u8(mb, 0);
			++n;
		}
	}
	if (!err && n)
		err = binding_path_alloc(&path, n);
	s = (const char *)mb->buf;
	for (size_t i = 0; i < n && !err; i++) {
		err = str_dup(&path->v[i], s);
		s += strlen(s) + 1;
	}
	mem_deref(mb);
	if (err)
		mem_deref(path);
	else
		*pathp = path;
	return err;
}


int persist_text_array(char **arrayp, const char *const *v, size_t n)
{
	struct mbuf *mb = mbuf_alloc(64 + 32 * n);
	int err;

	if (!mb)
		return ENOMEM;
	err = mbuf_write_u8(mb, '{');
	for (size_t i = 0; i < n && !err; i++) {
		if (i)
			err = mbuf_write_u8(mb, ',');
		if (!err)
			err = db_array_element(mb, v[i]);
	}
	if (!err)
		err = mbuf_write_u8(mb, '}');
	if (!err) {
		mb->pos = 0;
		err = mbuf_strdup(mb, arrayp, mb->end);
	}
	mem_deref(mb);
	return err;
}


int persist_binding_upsert(struct db_txn *tx, const char *aor,
			   const struct binding *b)
{
	char reg_id[DECIMAL_SIZE], q[DECIMAL_SIZE], expires[DECIMAL_SIZE];
	char cseq[DECIMAL_SIZE], updated[DECIMAL_SIZE];
	char received[64];
	char *path = NULL;
	int err;

	decimal_write(reg_id, b->reg_id);
	decimal_write(q, b->q < 0 ? 0 : (uint64_t)b->q);
	decimal_write(expires, b->expires < 0 ? 0 : (uint64_t)b->expires);
	decimal_write(cseq, b->cseq);
	decimal_write(updated, b->updated_ms < 0 ? 0 : (uint64_t)b->updated_ms);
	re_snprintf(received, sizeof(received), "%J", &b->received);

	if (b->path) {
		err = persist_text_array(&path, (const char *const *)b->path->v,
					 b->path->n);
		if (err)
			return err;
	}

	const char *values[UPSERT_PARAMS] = {
		aor, b->key, b->uri, b->params ? b->params : "",
		b->instance, b->reg_id ? reg_id : NULL,
		b->q >= 0 ? q : NULL, expires, b->callid, cseq, path,
		received, persist_transport_name(b->tp),
		nonempty(b->user_agent),
		updated, b->nat ? "true" : "false",
	};

	err = db_txn_add(tx, "binding_upsert", UPSERT_PARAMS, values);
	mem_deref(path);
	return err;
}


int persist_binding_delete(struct db_txn *tx, const char *aor,
			   const char *key)
{
	const char *values[] = {aor, key};

	return db_txn_add(tx, "binding_delete", 2, values);
}


int persist_instance_upsert(struct db_txn *tx, const char *aor,
			    const char *instance, uint64_t generation,
			    const char *callid)
{
	char gen[24];
	const char *values[] = {aor, instance, gen, callid ? callid : ""};

	re_snprintf(gen, sizeof(gen), "%llu", (unsigned long long)generation);
	return db_txn_add(tx, "instance_upsert", 4, values);
}


int persist_notify(struct db_txn *tx, const char *aor)
{
	const char *values[] = {aor};

	return db_txn_add(tx, "aor_notify", 1, values);
}


int persist_expired_delete(struct db_txn *tx, int64_t now, db_rows_h *rowsh,
			   void *arg)
{
	char ts[24];
	const char *values[] = {ts};

	re_snprintf(ts, sizeof(ts), "%lld", (long long)now);
	return db_txn_add_query(tx, "expired_delete", 1, values, rowsh, arg);
}


int persist_expired_keys_delete(struct db_txn *tx, const char *const *aors,
				const char *const *keys, size_t n, int64_t now,
				db_rows_h *rowsh, void *arg)
{
	char *aor_array = NULL, *key_array = NULL, ts[24];
	int err;

	re_snprintf(ts, sizeof(ts), "%lld", (long long)now);
	err = persist_text_array(&aor_array, aors, n);
	if (!err)
		err = persist_text_array(&key_array, keys, n);
	if (!err)
		err = db_txn_add_query(tx, "expired_keys_delete", 3,
				       (const char *const[]){aor_array,
							     key_array, ts},
				       rowsh, arg);
	mem_deref(aor_array);
	mem_deref(key_array);
	return err;
}

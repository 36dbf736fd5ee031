/*
 * Rows into memory.  At start-up the index is rebuilt from PostgreSQL,
 * the source of truth, streaming rows in single-row mode so that a
 * million bindings never sit in one PGresult.  At run time, the AORs that
 * psql or another node changed are reloaded whole (persist_reload_aors).
 *
 * Every query here returns the same columns: GRUU state rows ('i') and
 * binding rows ('b'), so one function turns any of them into memory.
 */
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include <re.h>
#include "common/log.h"
#include "location/persist.h"
#include "db/pgconnect.h"

enum {
	COL_KIND, COL_AOR, COL_KEY, COL_CONTACT, COL_PARAMS, COL_INSTANCE,
	COL_REG_ID, COL_Q, COL_EXPIRES, COL_CALLID, COL_CSEQ, COL_PATH,
	COL_RECEIVED, COL_TRANSPORT, COL_UA, COL_UPDATED, COL_GENERATION,
	COL_NAT,
};

/* A static binding (added with locus.add_static_binding) never expires. */
#define EXPIRES_EPOCH \
	"CASE WHEN isfinite(expires) THEN extract(epoch from expires)::bigint" \
	" ELSE 9223372036854775807 END"

#define INSTANCE_COLUMNS \
	"SELECT 'i'::text, aor, NULL::text, NULL::text, NULL::text, instance," \
	" NULL::integer, NULL::integer, NULL::bigint, call_id, NULL::bigint," \
	" NULL::text, NULL::text, NULL::text, NULL::text, NULL::bigint," \
	" generation, NULL::boolean FROM locus.instance"

#define BINDING_COLUMNS \
	"SELECT 'b'::text, aor, binding_key, contact, params, instance," \
	" coalesce(reg_id, 0), coalesce(round(q * 1000)::integer, -1), " \
	EXPIRES_EPOCH ", call_id, cseq, path::text," \
	" received, transport, user_agent," \
	" (extract(epoch from updated_at) * 1000)::bigint, NULL::bigint," \
	" nat"

static const char load_instances_sql[] = INSTANCE_COLUMNS;

static const char load_bindings_sql[] =
	BINDING_COLUMNS " FROM locus.location"
	" WHERE expires > to_timestamp($1::float8)";

/* One statement, so that a reload applies whole or not at all; GRUU
 * state first, so that bindings find theirs.  The AORs' bindings are
 * found by the primary key alone, then filtered (MATERIALIZED): the
 * generic plan of the prepared statement would otherwise AND in the
 * expiry index, reading every live binding of the table to reload a few
 * AORs. */
const char persist_reload_sql[] =
	"WITH l AS MATERIALIZED (SELECT * FROM locus.location"
	" WHERE aor = ANY($1::text[]))"
	" SELECT * FROM (" INSTANCE_COLUMNS " WHERE aor = ANY($1::text[])"
	" UNION ALL " BINDING_COLUMNS " FROM l"
	" WHERE expires > to_timestamp($2::float8)) r ORDER BY 1 DESC";


static const char *value(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}


static int dup_or_null(char **dst, const PGresult *res, int row, int col)
{
	const char *v = value(res, row, col);

	return v ? str_dup(dst, v) : 0;
}


static enum sip_transp transport_from_name(const char *name)
{
	for (int tp = SIP_TRANSP_UDP; tp < SIP_TRANSPC; tp++) {
		if (0 == strcasecmp(name, persist_transport_name(tp)))
			return tp;
	}
	return SIP_TRANSP_UDP;
}


static int binding_strings(struct binding *b, const PGresult *res, int row)
{
	const char *path = value(res, row, COL_PATH);
	int err = 0;

	err |= dup_or_null(&b->key, res, row, COL_KEY);
	err |= dup_or_null(&b->uri, res, row, COL_CONTACT);
	err |= dup_or_null(&b->params, res, row, COL_PARAMS);
	err |= dup_or_null(&b->instance, res, row, COL_INSTANCE);
	err |= dup_or_null(&b->callid, res, row, COL_CALLID);
	err |= dup_or_null(&b->user_agent, res, row, COL_UA);
	if (path)
		err |= persist_path_decode(&b->path, path);
	if (!b->callid)
		err |= str_dup(&b->callid, "");
	return err ? ENOMEM : 0;
}


static int binding_from_row(struct binding **bp, const PGresult *res,
			    int row)
{
	const char *received = value(res, row, COL_RECEIVED);
	const char *transport = value(res, row, COL_TRANSPORT);
	const char *nat = value(res, row, COL_NAT);
	struct binding *b;
	int err;

	err = binding_alloc(&b);
	if (!err)
		err = binding_strings(b, res, row);
	if (err) {
		mem_deref(b);
		return err;
	}

	b->reg_id = (uint32_t)strtoul(PQgetvalue(res, row, COL_REG_ID), NULL,
				      10);
	b->q = atoi(PQgetvalue(res, row, COL_Q));
	b->expires = strtoll(PQgetvalue(res, row, COL_EXPIRES), NULL, 10);
	b->cseq = (uint32_t)strtoul(PQgetvalue(res, row, COL_CSEQ), NULL, 10);
	b->updated_ms = strtoll(PQgetvalue(res, row, COL_UPDATED), NULL, 10);
	if (transport)
		b->tp = transport_from_name(transport);
	/* a static binding has none: it is reached at its Contact */
	if (received)
		(void)sa_decode(&b->received, received, strlen(received));
	/* a row stored before the decision was (NULL) is reached where its
	 * REGISTER came from, as locus did then */
	b->nat = nat ? nat[0] == 't' : sa_isset(&b->received, SA_ADDR);

	*bp = b;
	return 0;
}


static int binding_row(struct location *loc, const PGresult *res, int row)
{
	struct binding *b;
	struct aor *aor;
	int err;

	err = binding_from_row(&b, res, row);
	if (err)
		return err;

	err = location_aor_get(&aor, loc, PQgetvalue(res, row, COL_AOR));
	if (!err)
		err = location_binding_put(loc, aor, b);
	if (err) {
		mem_deref(b);
		return err;
	}

	/* A binding added with psql may name an instance that never
	 * registered through locus: give it GRUU state of generation 1. */
	if (b->instance && !aor_instance_find(aor, b->instance))
		err = location_instance_put(aor, b->instance, 1, b->callid);
	return err;
}


static int instance_row(struct location *loc, const PGresult *res, int row)
{
	struct aor *aor;
	int err;

	err = location_aor_get(&aor, loc, PQgetvalue(res, row, COL_AOR));
	if (err)
		return err;
	return location_instance_put(aor, PQgetvalue(res, row, COL_INSTANCE),
				     strtoull(PQgetvalue(res, row,
							 COL_GENERATION),
					      NULL, 10),
				     value(res, row, COL_CALLID));
}


int persist_row_load(struct location *loc, const struct pg_result *pres,
		     int row)
{
	const PGresult *res = (const PGresult *)pres;

	if (PQnfields(res) <= COL_NAT)
		return EPROTO;
	return 0 == strcmp(PQgetvalue(res, row, COL_KIND), "i")
		? instance_row(loc, res, row) : binding_row(loc, res, row);
}


static int stream_rows(PGconn *conn, const char *sql, const char *param,
		       struct location *loc, char *errbuf, size_t errsz)
{
	const char *values[] = {param};
	PGresult *res;
	int err = 0;

	if (!PQsendQueryParams(conn, sql, param ? 1 : 0, NULL, values, NULL,
			       NULL, 0) || !PQsetSingleRowMode(conn)) {
		re_snprintf(errbuf, errsz, "loading bindings failed: %s",
			    PQerrorMessage(conn));
		return EIO;
	}

	while ((res = PQgetResult(conn))) {
		switch (PQresultStatus(res)) {

		case PGRES_SINGLE_TUPLE:
			if (!err)
				err = persist_row_load(
					loc, (const struct pg_result *)res, 0);
			break;

		case PGRES_TUPLES_OK:
			break;

		default:
			re_snprintf(errbuf, errsz, "loading bindings failed: %s",
				    PQresultErrorMessage(res));
			err = EIO;
			break;
		}
		PQclear(res);
	}

	if (err && !errbuf[0])
		re_snprintf(errbuf, errsz, "loading bindings failed: %m", err);
	return err;
}


int persist_load(struct location *loc, const char *conninfo, int64_t now,
		 char *errbuf, size_t errsz)
{
	char nowstr[24];
	PGconn *conn;
	int err;

	errbuf[0] = '\0';
	conn = pgconnect_blocking(conninfo, "connect to the database", errbuf,
				  errsz);
	if (!conn)
		return ECONNREFUSED;

	re_snprintf(nowstr, sizeof(nowstr), "%lld", (long long)now);

	/* GRUU state first, so that bindings find theirs. */
	err = stream_rows(conn, load_instances_sql, NULL, loc, errbuf, errsz);
	if (!err)
		err = stream_rows(conn, load_bindings_sql, nowstr, loc, errbuf,
				  errsz);

	PQfinish(conn);
	return err;
}

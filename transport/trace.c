/*
 * Tracing one user (transport/trace.h).
 *
 * The traces are few (one per user someone is looking into), so they are
 * a list, and locus.trace is read whole whenever it changes: an AOR that
 * appears starts being traced, one that disappears (locus.untrace()) ends,
 * and each ends on its own timer when its time is up, on every node
 * alike.
 *
 * A message concerns a traced AOR when its Request-URI, To or From is
 * the AOR or one of its GRUUs (a public GRUU has the AOR's user and host;
 * a temporary one is opened with the GRUU key), or when it comes from or
 * goes to the address of one of the AOR's bindings (where its devices
 * registered from): the requests to the devices, their responses, the
 * in-dialog requests of their calls.  Only while something is traced is
 * any message looked at: decoding it again is the price of a trace.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <libpq-fe.h>
#include <re.h>
#include "common/log.h"
#include "common/metrics.h"
#include "config/config.h"
#include "db/watch.h"
#include "location/gruu.h"
#include "location/location.h"
#include "sip/uri.h"
#include "transport/hep.h"
#include "transport/trace.h"

static const char trace_query[] =
	"SELECT aor,"
	" greatest(0, floor(extract(epoch FROM until - now()) * 1000))::bigint,"
	" to_char(until AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
	" FROM locus.trace WHERE until > now()";

enum { KEYS_MAX = 3 };   /* Request-URI, To, From */

struct trace {
	const struct locus_config *cfg;
	const struct location *loc;
	const struct gruu_key *key;
	struct db_watch *watch;
	struct list traced;          /* struct traced                   */
	struct udp_sock *hep;        /* bound to the collector's family */
};

struct traced {
	struct le le;
	struct trace *t;
	struct tmr end;
	char until[32];
	bool seen;                   /* in the latest answer            */
	char aor[];
};


/* ---- the list of traces --------------------------------------------- */

static void traced_destructor(void *arg)
{
	struct traced *tr = arg;

	tmr_cancel(&tr->end);
	list_unlink(&tr->le);
	--metrics.traces;
}


static void time_up(void *arg)
{
	struct traced *tr = arg;

	log_info("trace of %s ended: its time is up", tr->aor);
	mem_deref(tr);
}


static struct traced *traced_find(const struct trace *t, const char *aor)
{
	for (struct le *le = t->traced.head; le; le = le->next) {
		struct traced *tr = le->data;
		if (!strcmp(tr->aor, aor))
			return tr;
	}
	return NULL;
}


static void traced_set(struct trace *t, const char *aor, uint64_t ms,
		       const char *until)
{
	struct traced *tr = traced_find(t, aor);
	size_t len = strlen(aor);

	if (!tr) {
		tr = mem_zalloc(sizeof(*tr) + len + 1, traced_destructor);
		if (!tr) {
			log_error("trace of %s not started: out of memory",
				  aor);
			return;
		}
		memcpy(tr->aor, aor, len + 1);
		tr->t = t;
		tmr_init(&tr->end);
		list_append(&t->traced, &tr->le, tr);
		++metrics.traces;
		log_info("trace of %s started: every SIP message to or from"
			 " it, its GRUUs and its devices is logged whole until"
			 " %s", aor, until);
	}
	else if (strcmp(tr->until, until)) {
		log_info("trace of %s now lasts until %s", aor, until);
	}
	str_ncpy(tr->until, until, sizeof(tr->until));
	tr->seen = true;
	tmr_start(&tr->end, ms, time_up, tr);
}


/* locus.trace, read whole: what is new starts, what is gone ends. */
static void rows_take(const struct pg_result *res, void *arg)
{
	const PGresult *r = (const PGresult *)res;
	struct trace *t = arg;
	struct le *le;

	for (le = t->traced.head; le; le = le->next)
		((struct traced *)le->data)->seen = false;
	for (int row = 0; row < PQntuples(r); row++)
		traced_set(t, PQgetvalue(r, row, 0),
			   strtoull(PQgetvalue(r, row, 1), NULL, 10),
			   PQgetvalue(r, row, 2));
	le = t->traced.head;
	while (le) {
		struct traced *tr = le->data;

		le = le->next;
		if (tr->seen)
			continue;
		log_info("trace of %s ended: locus.untrace()", tr->aor);
		mem_deref(tr);
	}
}


/* ---- which messages ------------------------------------------------- */

/* The AOR that URI names: itself, or the owner of its temp-GRUU. */
static int uri_aor(char **keyp, const struct trace *t, const struct uri *uri)
{
	struct pl token = uri->user;
	char *instance = NULL;
	uint64_t generation;
	int err;

	if (!gruu_is_temp_user(&uri->user))
		return sipuri_aor_key(keyp, uri);
	pl_advance(&token, strlen(GRUU_TEMP_PREFIX));
	err = gruu_token_decode(t->key, &token, keyp, &instance, &generation);
	mem_deref(instance);
	return err;
}


static bool from_a_device(const struct trace *t, const char *aor,
			  const struct sa *peer)
{
	const struct aor *a = location_aor_find(t->loc, aor);

	for (struct le *le = a ? a->bindings.head : NULL; le; le = le->next) {
		const struct binding *b = le->data;
		if (sa_isset(&b->received, SA_ALL) &&
		    sa_cmp(&b->received, peer, SA_ALL))
			return true;
	}
	return false;
}


/* The traced AOR MSG concerns, or NULL.  PEER: the other end. */
static const struct traced *concerned(const struct trace *t,
				      const struct sip_msg *msg,
				      const struct sa *peer)
{
	const struct uri *uris[KEYS_MAX] = {
		&msg->to.uri, &msg->from.uri, msg->req ? &msg->uri : NULL
	};
	char *keys[KEYS_MAX] = {NULL};
	const struct traced *found = NULL;

	for (size_t i = 0; i < KEYS_MAX; i++)
		if (uris[i])
			(void)uri_aor(&keys[i], t, uris[i]);
	for (struct le *le = t->traced.head; le && !found; le = le->next) {
		const struct traced *tr = le->data;

		for (size_t i = 0; i < KEYS_MAX && !found; i++)
			if (keys[i] && !strcmp(keys[i], tr->aor))
				found = tr;
		if (!found && from_a_device(t, tr->aor, peer))
			found = tr;
	}
	for (size_t i = 0; i < KEYS_MAX; i++)
		mem_deref(keys[i]);
	return found;
}


/* ---- HEP ------------------------------------------------------------ */

static void hep_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)src;
	(void)mb;
	(void)arg;   /* a collector has nothing to say to us */
}


/* A socket of the collector's address family (trace.hep may change on
 * a reload). */
static int hep_socket(struct trace *t, const struct sa *collector)
{
	struct sa local, bound;

	if (t->hep && !udp_local_get(t->hep, &bound) &&
	    sa_af(&bound) == sa_af(collector))
		return 0;
	t->hep = mem_deref(t->hep);
	sa_init(&local, sa_af(collector));
	return udp_listen(&t->hep, &local, hep_recv, t);
}


static void hep_send(struct trace *t, const struct hep_capture *c)
{
	const struct sa *collector = &t->cfg->trace_hep;
	struct mbuf *mb;
	int err;

	if (!sa_isset(collector, SA_PORT))
		return;
	mb = mbuf_alloc(c->len + 128);
	err = mb ? hep_encode(mb, c) : ENOMEM;
	if (!err)
		err = hep_socket(t, collector);
	if (!err) {
		mb->pos = 0;
		err = udp_send(t->hep, collector, mb);
	}
	if (err)
		log_warn("trace: HEP to %J not sent: %m", collector, err);
	mem_deref(mb);
}


bool trace_message(struct trace *t, bool tx, enum sip_transp tp,
		   const struct sa *src, const struct sa *dst,
		   const uint8_t *pkt, size_t len)
{
	const struct traced *tr = NULL;
	struct sip_msg *msg = NULL;
	struct mbuf *mb;
	struct timeval now;

	if (!t || !t->traced.head)
		return false;
	mb = mbuf_alloc(len);
	if (!mb || mbuf_write_mem(mb, pkt, len))
		goto out;
	mb->pos = 0;
	if (!sip_msg_decode(&msg, mb))
		tr = concerned(t, msg, tx ? dst : src);
	if (!tr)
		goto out;

	++metrics.traced_messages;
	gettimeofday(&now, NULL);
	log_info("trace of %s: %s over %s, %J -> %J (%zu bytes)\n%b", tr->aor,
		 tx ? "sent" : "received", sip_transp_name(tp), src, dst, len,
		 pkt, len);
	hep_send(t, &(struct hep_capture){
		.tp = tp, .src = src, .dst = dst,
		.time_us = (uint64_t)now.tv_sec * 1000000 + now.tv_usec,
		.agent_id = t->cfg->trace_hep_id, .msg = pkt, .len = len,
	});
 out:
	mem_deref(msg);
	mem_deref(mb);
	return tr != NULL;
}


/* ---- start and end -------------------------------------------------- */

static void trace_destructor(void *arg)
{
	struct trace *t = arg;

	mem_deref(t->watch);
	list_flush(&t->traced);
	mem_deref(t->hep);
}


int trace_alloc(struct trace **tp, const struct locus_config *cfg,
		const char *conninfo, const struct location *loc,
		const struct gruu_key *key)
{
	struct trace *t = mem_zalloc(sizeof(*t), trace_destructor);
	int err;

	if (!t)
		return ENOMEM;
	t->cfg = cfg;
	t->loc = loc;
	t->key = key;
	list_init(&t->traced);
	err = db_watch_alloc(&t->watch, conninfo, "locus_trace", trace_query,
			     METRICS_CONN_TRACE, rows_take, t);
	if (err)
		mem_deref(t);
	else
		*tp = t;
	return err;
}

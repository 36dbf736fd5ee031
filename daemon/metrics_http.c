/*
 * GET /metrics (daemon/metrics_http.h).
 *
 * Prometheus' text exposition format 0.0.4: per family a HELP and a TYPE
 * line, then its samples; counters end in _total, histograms have
 * cumulative _bucket{le=...} samples, _sum and _count; units are base
 * units (seconds).  Every label value a family can have is listed, zero
 * or not, so that a rate over it exists from the first scrape.  README
 * "Metrics" says what each counts.
 */
#include <string.h>
#include <re.h>
#include "common/log.h"
#include "common/metrics.h"
#include "config/config.h"
#include "location/location.h"
#include "daemon/metrics_http.h"

struct metrics_http {
	const struct locus_config *cfg;
	const struct location *loc;
	struct http_sock *sock;
	struct sa bound;             /* where sock listens                */
};

typedef unsigned long long ull;


static int family(struct re_printf *pf, const char *name, const char *type,
		  const char *help)
{
	return re_hprintf(pf, "# HELP %s %s\n# TYPE %s %s\n", name, help,
			  name, type);
}


/* V as seconds, from microseconds: "0.000250". */
static int print_seconds(struct re_printf *pf, uint64_t us)
{
	return re_hprintf(pf, "%llu.%06llu", (ull)(us / 1000000),
			  (ull)(us % 1000000));
}


static int histogram(struct re_printf *pf, const char *name,
		     const struct metrics_histogram *h, bool micro)
{
	uint64_t cum = 0;
	int err = 0;

	for (size_t i = 0; !err && i <= h->n; i++) {
		cum += h->bucket[i];
		err = re_hprintf(pf, "%s_bucket{le=\"", name);
		if (!err && i == h->n)
			err = re_hprintf(pf, "+Inf");
		else if (!err && micro)
			err = print_seconds(pf, h->bounds[i]);
		else if (!err)
			err = re_hprintf(pf, "%llu", (ull)h->bounds[i]);
		if (!err)
			err = re_hprintf(pf, "\"} %llu\n", (ull)cum);
	}
	if (!err)
		err = re_hprintf(pf, "%s_sum ", name);
	if (!err && micro)
		err = print_seconds(pf, h->sum);
	else if (!err)
		err = re_hprintf(pf, "%llu", (ull)h->sum);
	if (!err)
		err = re_hprintf(pf, "\n%s_count %llu\n", name, (ull)h->count);
	return err;
}


/* A family with one label whose values are NAMEH(0..N-1). */
static int labelled(struct re_printf *pf, const char *name, const char *type,
		    const char *help, const char *label,
		    const char *(*nameh)(size_t), const uint64_t *v, size_t n)
{
	int err = family(pf, name, type, help);

	for (size_t i = 0; !err && i < n; i++)
		err = re_hprintf(pf, "%s{%s=\"%s\"} %llu\n", name, label,
				 nameh(i), (ull)v[i]);
	return err;
}


static int gauge(struct re_printf *pf, const char *name, const char *help,
		 int64_t v)
{
	int err = family(pf, name, "gauge", help);

	return err ? err : re_hprintf(pf, "%s %lld\n", name, (long long)v);
}


static const char *dir_name(size_t i) { return metrics_dir_name(i); }
static const char *register_name(size_t i) { return metrics_register_name(i); }
static const char *gruu_name(size_t i) { return metrics_gruu_name(i); }
static const char *conn_name(size_t i) { return metrics_conn_name(i); }
static const char *block_name(size_t i) { return metrics_block_name(i); }
static const char *auth_name(size_t i)
{
	return metrics_auth_failure_name(i);
}


static int sip_messages(struct re_printf *pf)
{
	const struct metrics *m = &metrics;
	int err = family(pf, "locus_sip_requests_total", "counter",
			 "SIP requests received and sent, by method.");

	for (size_t d = 0; !err && d < METRICS_DIRS; d++)
		for (size_t i = 0; !err && i < METRICS_METHODS; i++)
			err = re_hprintf(pf, "locus_sip_requests_total"
					 "{direction=\"%s\",method=\"%s\"}"
					 " %llu\n", dir_name(d),
					 metrics_method_name(i),
					 (ull)m->requests[d][i]);
	if (!err)
		err = family(pf, "locus_sip_responses_total", "counter",
			     "SIP responses received and sent, by the method"
			     " of their CSeq and their status class.");
	for (size_t d = 0; !err && d < METRICS_DIRS; d++)
		for (size_t i = 0; !err && i < METRICS_METHODS; i++)
			for (size_t c = 0; !err && c < METRICS_CLASSES; c++)
				err = re_hprintf(pf, "locus_sip_responses_total"
					 "{direction=\"%s\",method=\"%s\","
					 "class=\"%zuxx\"} %llu\n",
					 dir_name(d), metrics_method_name(i),
					 c + 1, (ull)m->responses[d][i][c]);
	return err;
}


static int registrar_proxy(struct re_printf *pf)
{
	const struct metrics *m = &metrics;
	int err;

	err = labelled(pf, "locus_registers_total", "counter",
		       "REGISTER requests by outcome: ok (2xx), challenged"
		       " (401), refused (other 3xx-6xx), failed (5xx).",
		       "outcome", register_name, m->registers,
		       METRICS_REG_OUTCOMES);
	if (!err)
		err = family(pf, "locus_transactions_in_progress", "gauge",
			     "Transactions under way: proxy (forwarded"
			     " requests) and register (REGISTERs).");
	if (!err)
		err = re_hprintf(pf, "locus_transactions_in_progress"
				 "{kind=\"proxy\"} %lld\n"
				 "locus_transactions_in_progress"
				 "{kind=\"register\"} %lld\n",
				 (long long)m->proxy_transactions,
				 (long long)m->register_transactions);
	if (!err)
		err = family(pf, "locus_call_forks", "histogram",
			     "Targets an initial INVITE was forked to.");
	if (!err)
		err = histogram(pf, "locus_call_forks", &m->forks, false);
	if (!err)
		err = labelled(pf, "locus_gruu_lookups_total", "counter",
			       "Requests to a GRUU by result: routed, not_found"
			       " (404), unavailable (480).", "result",
			       gruu_name, m->gruu_lookups,
			       METRICS_GRUU_RESULTS);
	return err;
}


static int database(struct re_printf *pf)
{
	const struct metrics *m = &metrics;
	int err;

	err = family(pf, "locus_db_commit_duration_seconds", "histogram",
		     "Time from sending a batch of transactions to its"
		     " commit.");
	if (!err)
		err = histogram(pf, "locus_db_commit_duration_seconds",
				&m->commit_us, true);
	if (!err)
		err = family(pf, "locus_db_commit_transactions", "histogram",
			     "Transactions committed together (group"
			     " commit).");
	if (!err)
		err = histogram(pf, "locus_db_commit_transactions",
				&m->batch_txns, false);
	if (!err)
		err = gauge(pf, "locus_db_pipeline_transactions",
			    "Database transactions submitted and not yet"
			    " committed (queued or in flight).",
			    m->pipeline_txns);
	if (!err)
		err = labelled(pf, "locus_db_reconnects_total", "counter",
			       "Database connections re-established after"
			       " a loss.", "connection", conn_name,
			       m->reconnects, METRICS_CONNS);
	if (!err)
		err = family(pf, "locus_notify_reloads_total", "counter",
			     "AORs reloaded from the database because"
			     " another node or psql changed them (NOTIFY).");
	if (!err)
		err = re_hprintf(pf, "locus_notify_reloads_total %llu\n",
				 (ull)m->notify_reloads);
	return err;
}


static int auth_transport(struct re_printf *pf)
{
	const struct metrics *m = &metrics;
	int err;

	err = labelled(pf, "locus_auth_failures_total", "counter",
		       "Failed digest authentications, by reason.", "reason",
		       auth_name, m->auth_failures, METRICS_AUTH_FAILURES);
	if (!err)
		err = labelled(pf, "locus_auth_limiter_blocks_total",
			       "counter", "Requests refused by a lockout rule"
			       " (403), by rule.", "rule", block_name,
			       m->auth_blocks, METRICS_BLOCKS);
	if (!err)
		err = family(pf, "locus_flows", "gauge", "Open connections"
			     " devices registered over (RFC 5626 flows), by"
			     " transport.");
	for (size_t i = 0; !err && i < METRICS_TRANSPORTS; i++)
		err = re_hprintf(pf, "locus_flows{transport=\"%s\"} %lld\n",
				 metrics_transport_name(i),
				 (long long)m->flows[i]);
	if (!err)
		err = gauge(pf, "locus_websocket_connections", "Open SIP"
			    " WebSocket connections (from their first"
			    " message).", m->websockets);
	return err;
}


static int process(struct re_printf *pf, const struct metrics_http *mh)
{
	const struct metrics *m = &metrics;
	int err;

	err = gauge(pf, "locus_bindings", "Bindings in the location index.",
		    location_binding_count(mh->loc));
	if (!err)
		err = gauge(pf, "locus_aors", "AORs with bindings or GRUU"
			    " state in the location index.",
			    location_aor_count(mh->loc));
	if (!err)
		err = family(pf, "locus_config_reloads_total", "counter",
			     "Configuration reloads (SIGHUP): applied, or"
			     " refused for an error in the file.");
	if (!err)
		err = re_hprintf(pf, "locus_config_reloads_total"
				 "{result=\"applied\"} %llu\n"
				 "locus_config_reloads_total"
				 "{result=\"refused\"} %llu\n",
				 (ull)m->reloads_applied,
				 (ull)m->reloads_refused);
	if (!err)
		err = gauge(pf, "locus_traces", "AORs being traced"
			    " (locus.trace()).", m->traces);
	if (!err)
		err = family(pf, "locus_traced_messages_total", "counter",
			     "SIP messages logged whole for a trace.");
	if (!err)
		err = re_hprintf(pf, "locus_traced_messages_total %llu\n",
				 (ull)m->traced_messages);
	if (!err)
		err = gauge(pf, "locus_process_start_time_seconds", "When the"
			    " process started, in seconds since the epoch.",
			    (int64_t)m->start_time);
	if (!err)
		err = family(pf, "locus_build_info", "gauge", "Always 1; the"
			     " version is in its label.");
	if (!err)
		err = re_hprintf(pf, "locus_build_info{version=\"%s\"} 1\n",
				 LOCUS_VERSION);
	return err;
}


int metrics_http_print(struct re_printf *pf, const struct metrics_http *m)
{
	int err = process(pf, m);

	if (!err)
		err = registrar_proxy(pf);
	if (!err)
		err = sip_messages(pf);
	if (!err)
		err = database(pf);
	if (!err)
		err = auth_transport(pf);
	return err;
}


static void request_handler(struct http_conn *conn,
			    const struct http_msg *msg, void *arg)
{
	struct metrics_http *m = arg;
	struct mbuf *mb;

	if (pl_strcmp(&msg->path, "/metrics")) {
		(void)http_ereply(conn, 404, "Not Found");
		return;
	}
	if (pl_strcmp(&msg->met, "GET")) {
		(void)http_reply(conn, 405, "Method Not Allowed",
				 "Allow: GET\r\n"
				 "Content-Length: 0\r\n\r\n");
		return;
	}
	mb = mbuf_alloc(32768);
	if (!mb || mbuf_printf(mb, "%H", metrics_http_print, m)) {
		(void)http_ereply(conn, 500, "Internal Server Error");
		mem_deref(mb);
		return;
	}
	(void)http_creply(conn, 200, "OK", "text/plain; version=0.0.4;"
			  " charset=utf-8", "%b", mb->buf, mb->end);
	mem_deref(mb);
}


/* Listens where the configuration says now; logs a failure. */
static int listen_now(struct metrics_http *m)
{
	const struct sa *laddr = &m->cfg->metrics_listen;
	int err;

	m->sock = mem_deref(m->sock);
	sa_init(&m->bound, AF_UNSPEC);
	if (!sa_isset(laddr, SA_PORT))
		return 0;
	err = http_listen(&m->sock, laddr, request_handler, m);
	if (err)
		return err;
	m->bound = *laddr;
	log_info("metrics: serving http://%J/metrics", laddr);
	return 0;
}


void metrics_http_apply(struct metrics_http *m)
{
	const struct sa *laddr = &m->cfg->metrics_listen;
	int err;

	if (sa_isset(laddr, SA_PORT) == sa_isset(&m->bound, SA_PORT) &&
	    (!sa_isset(laddr, SA_PORT) || sa_cmp(laddr, &m->bound, SA_ALL)))
		return;
	if (sa_isset(&m->bound, SA_PORT) && !sa_isset(laddr, SA_PORT))
		log_info("metrics: no longer serving http://%J/metrics",
			 &m->bound);
	err = listen_now(m);
	if (err)
		log_error("metrics: cannot listen on %J (%m): no metrics"
			  " endpoint until metrics.listen is fixed and"
			  " reloaded", laddr, err);
}


static void metrics_http_destructor(void *arg)
{
	struct metrics_http *m = arg;

	mem_deref(m->sock);
}


int metrics_http_alloc(struct metrics_http **mp,
		       const struct locus_config *cfg,
		       const struct location *loc, char *errbuf, size_t errsz)
{
	struct metrics_http *m = mem_zalloc(sizeof(*m), metrics_http_destructor);
	int err;

	if (!m)
		return ENOMEM;
	m->cfg = cfg;
	m->loc = loc;
	err = listen_now(m);
	if (err) {
		re_snprintf(errbuf, errsz, "cannot listen on metrics.listen %J:"
			    " %m", &cfg->metrics_listen, err);
		mem_deref(m);
		return err;
	}
	*mp = m;
	return 0;
}

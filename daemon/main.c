/* locus: SIP registrar, location server and proxy.  See README.md.
 *
 * daemon/, the top layer: main(), start-up (every blocking step happens
 * here, before anything is served) and shut-down, signals, and the
 * dispatcher (daemon/dispatch.h) that hands each request to the module
 * that owns it (daemon/owners.c).  It wires every folder below and is
 * included by none. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <re.h>
#include "auth/auth.h"
#include "common/log.h"
#include "common/metrics.h"
#include "compat/random.h"
#include "compat/sip_decode.h"
#include "compat/sipws_http.h"
#include "compat/timer_wheel.h"
#include "config/config.h"
#include "daemon/dispatch.h"
#include "daemon/metrics_http.h"
#include "daemon/owners.h"
#include "daemon/service.h"
#include "daemon/reload.h"
#include "db/db.h"
#include "features/intercom.h"
#include "keys/nodekey.h"
#include "location/gruu.h"
#include "location/location.h"
#include "location/persist.h"
#include "location/sweeper.h"
#include "location/sync.h"
#include "proxy/proxy.h"
#include "transport/server.h"
#include "transport/trace.h"
#include "registrar/registrar.h"
#include "ua/ua.h"

#define DEFAULT_CONFIG "/etc/locus/locus.conf"

/* Everything the daemon owns, torn down in reverse order. */
struct daemon {
	struct locus_config *cfg;
	struct auth *auth;
	struct node_key *node_key;
	struct gruu_key *gruu_key;
	struct location *loc;
	struct db *db;
	struct sync *sync;
	struct server *srv;
	struct registrar *reg;
	struct ua *ua;
	struct proxy *proxy;
	struct intercom *intercom;
	struct dispatch *dispatch;
	struct sweeper *sweeper;
	struct metrics_http *metrics;
	struct trace *trace;
	struct reload *reload;
};


static void usage(FILE *out)
{
	fprintf(out,
		"usage: locus [-f FILE] [--check-config]\n"
		"\n"
		"  -f, --config FILE   configuration file (default "
		DEFAULT_CONFIG ")\n"
		"      --check-config  validate the configuration and exit:\n"
		"                      0 when valid, 1 with FILE:LINE: reason\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n");
}


static void signal_handler(int sig)
{
	log_info("signal %d: shutting down", sig);
	re_cancel();
}


/* SIGHUP (systemctl reload), in the event loop: the configuration file
 * is read again (daemon/reload.c).  One that arrives during start-up,
 * before there is anything to reload into, is noted and dropped: the
 * file is being read then anyway. */
static void daemon_reload(void *arg)
{
	struct daemon *d = arg;

	if (d->reload) {
		log_info("SIGHUP: reload requested");
		reload_now(d->reload);
	}
	else
		log_info("SIGHUP during start-up: the configuration is being"
			 " read now");
}


/* The node key from its file (created on the first start), and the
 * temp-GRUU key derived from it. */
static int daemon_keys(struct daemon *d, char *errbuf, size_t errsz)
{
	int err = node_key_load(&d->node_key, d->cfg->gruu_key_file, errbuf,
				errsz);

	if (err)
		return err;
	err = gruu_key_alloc(&d->gruu_key, d->node_key);
	if (err)
		re_snprintf(errbuf, errsz, "cannot set up AES-256-GCM for "
			    "temp-GRUUs (%m); check the OpenSSL installation",
			    err);
	return err;
}


/* Start-up may block: nothing is being served yet.  LISTEN comes before
 * the initial load, so that no change made meanwhile is missed. */
static int daemon_load(struct daemon *d, char *errbuf, size_t errsz)
{
	const struct locus_config *cfg = d->cfg;
	uint64_t t0;
	int err;

	err = daemon_keys(d, errbuf, errsz);
	if (!err)
		err = persist_check_schema(cfg->db_conninfo, errbuf, errsz);
	if (!err)
		err = location_alloc(&d->loc);
	if (!err)
		err = db_open(&d->db, cfg->db_conninfo, persist_statements,
			      persist_statementc, persist_session_sql, errbuf,
			      errsz);
	if (!err)
		err = sync_alloc(&d->sync, d->loc, d->db, cfg->db_conninfo,
				 errbuf, errsz);
	if (err)
		return err;

	t0 = tmr_jiffies();
	err = persist_load(d->loc, cfg->db_conninfo, location_now(), errbuf,
			   errsz);
	if (!err)
		log_info("loaded %u binding(s) of %u AOR(s) in %llu ms",
			 location_binding_count(d->loc),
			 location_aor_count(d->loc),
			 (unsigned long long)(tmr_jiffies() - t0));
	if (!err)
		err = intercom_alloc(&d->intercom, cfg, d->gruu_key,
				     cfg->db_conninfo, errbuf, errsz);
	return err;
}


/* Who owns which request (daemon/owners.c), and the front door hands
 * every request that passed its checks to the dispatcher. */
static int dispatch_wire(struct daemon *d)
{
	int err = dispatch_alloc(&d->dispatch, server_sip(d->srv));

	if (!err)
		err = owners_add(d->dispatch, d->reg, d->ua, d->proxy);
	if (!err)
		err = server_start(d->srv, dispatch_request, d->dispatch);
	return err;
}


/* The services above the proxy take their place in its seam
 * (proxy/proxy.h): the feature codes, when one is configured. */
static void features_wire(struct daemon *d)
{
	if (d->cfg->intercom_prefix)
		proxy_invite_hook(d->proxy, intercom_invite, d->intercom);
}


/* What compat/ puts in libre's place must be what libre calls: were
 * libre to bind its own, nothing would fail, locus would just misbehave
 * (without the wheel's tmr_poll() no database flush would ever fire).
 * Runs one round of libre's loop, before anything listens. */
static int compat_check(char *errbuf, size_t errsz)
{
	int err = compat_timer_check(errbuf, errsz);

	if (!err)
		err = compat_random_check(errbuf, errsz);
	if (!err)
		err = compat_http_check(errbuf, errsz);
	if (!err)
		err = compat_decode_check(errbuf, errsz);
	return err;
}


/* Running it in production: the metrics endpoint, traces of users, and
 * live reload on SIGHUP (daemon/reload.c). */
static int daemon_ops(struct daemon *d, char *errbuf, size_t errsz)
{
	int err = metrics_http_alloc(&d->metrics, d->cfg, d->loc, errbuf,
				     errsz);

	if (!err)
		err = trace_alloc(&d->trace, d->cfg, d->cfg->db_conninfo,
				  d->loc, d->gruu_key);
	if (!err) {
		server_trace_set(d->srv, d->trace);
		err = reload_alloc(&d->reload, &(struct reload_deps){
			.cfg = d->cfg, .auth = d->auth, .metrics = d->metrics,
		});
	}
	if (err && !errbuf[0])
		re_snprintf(errbuf, errsz, "start-up failed: %m", err);
	return err;
}


static int daemon_start(struct daemon *d, char *errbuf, size_t errsz)
{
	struct registrar_deps deps;
	int err;

	err = compat_check(errbuf, errsz);
	if (!err)
		err = daemon_load(d, errbuf, errsz);
	if (err)
		return err;

	err = server_alloc(&d->srv, d->cfg, errbuf, errsz);
	if (err)
		return err;
	if (d->cfg->auth) {
		err = auth_alloc(&d->auth, d->cfg, d->db, d->node_key);
		if (err)
			return err;
	}

	deps = (struct registrar_deps){
		.sip = server_sip(d->srv),
		.cfg = d->cfg,
		.loc = d->loc,
		.db = d->db,
		.sync = d->sync,
		.gruu_key = d->gruu_key,
		.auth = d->auth,
		.flows = server_flows(d->srv),
	};
	err = registrar_alloc(&d->reg, &deps);
	/* the user agent before the proxy: it listens for responses the
	 * proxy would drop (ua/ua.h) */
	if (!err)
		err = ua_alloc(&d->ua, &(struct ua_deps){
			.sip = server_sip(d->srv),
			.cfg = d->cfg,
			.node_key = d->node_key,
			.gruu_key = d->gruu_key,
			.auth = d->auth,
		}, errbuf, errsz);
	if (err)
		return err;
	err = proxy_alloc(&d->proxy, &(struct proxy_deps){
		.sip = server_sip(d->srv),
		.cfg = d->cfg,
		.loc = d->loc,
		.node_key = d->node_key,
		.gruu_key = d->gruu_key,
		.auth = d->auth,
		.flows = server_flows(d->srv),
	});
	if (!err)
		features_wire(d);
	if (!err)
		err = dispatch_wire(d);
	if (!err)
		err = sweeper_alloc(&d->sweeper, d->loc, d->db);
	if (err)
		re_snprintf(errbuf, errsz, "start-up failed: %m", err);
	return err ? err : daemon_ops(d, errbuf, errsz);
}


static void daemon_stop(struct daemon *d)
{
	if (d->reg && registrar_stats(d->reg)->answered) {
		const struct registrar_stats *rs = registrar_stats(d->reg);
		log_info("registrar: %llu REGISTER(s) answered 2xx, %llu of "
			 "them 100 ms or more after arrival, %llu ms at most",
			 (unsigned long long)rs->answered,
			 (unsigned long long)rs->over_100ms,
			 (unsigned long long)rs->latency_ms_max);
	}
	if (d->db && db_stats(d->db)->batches) {
		const struct db_stats *st = db_stats(d->db);
		log_info("database: %llu commit(s) for %llu transaction(s) "
			 "(at most %u in one), %llu merged statement(s), %llu "
			 "failed batch(es) retried one by one; commit took "
			 "%llu us on average, %llu us at most",
			 (unsigned long long)st->batches,
			 (unsigned long long)st->txns, st->batch_max,
			 (unsigned long long)st->merged_statements,
			 (unsigned long long)st->retried_batches,
			 (unsigned long long)(st->batches ? st->commit_us_sum /
					      st->batches : 0),
			 (unsigned long long)st->commit_us_max);
	}
	d->reload = mem_deref(d->reload);
	d->metrics = mem_deref(d->metrics);
	if (d->srv)
		server_trace_set(d->srv, NULL);
	d->trace = mem_deref(d->trace);
	d->sweeper = mem_deref(d->sweeper);
	/* calls and parked calls end with BYE while SIP can still send */
	ua_close(d->ua);
	server_close(d->srv);
	/* The database goes first: transactions still in flight are
	 * answered 503 while the SIP stack can still send. */
	d->sync = mem_deref(d->sync);
	d->db = mem_deref(d->db);
	d->srv = mem_deref(d->srv);
	d->dispatch = mem_deref(d->dispatch);
	d->reg = mem_deref(d->reg);
	d->ua = mem_deref(d->ua);
	d->proxy = mem_deref(d->proxy);
	d->intercom = mem_deref(d->intercom);
	d->auth = mem_deref(d->auth);
	d->loc = mem_deref(d->loc);
	d->gruu_key = mem_deref(d->gruu_key);
	d->node_key = mem_deref(d->node_key);
	d->cfg = mem_deref(d->cfg);
}


static int parse_args(int argc, char *argv[], const char **path,
		      bool *check_only)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'f'},
		{"check-config", no_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "f:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'f': *path = optarg; break;
		case 'c': *check_only = true; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("locus %s\n", LOCUS_VERSION); exit(0);
		default: usage(stderr); return EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "locus: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return EINVAL;
	}
	return 0;
}


int main(int argc, char *argv[])
{
	const char *path = DEFAULT_CONFIG;
	struct daemon d = {0};
	struct service *service = NULL;
	bool check_only = false;
	char errbuf[1024] = "";
	int err;

	/* a reload asked for before its handler is in place (service.c)
	 * must not end locus, SIGHUP's default: the file is being read now */
	(void)signal(SIGHUP, SIG_IGN);
	if (parse_args(argc, argv, &path, &check_only))
		return 2;
	metrics.start_time = (uint64_t)time(NULL);

	err = config_load(&d.cfg, path, errbuf, sizeof(errbuf));
	if (err) {
		fprintf(stderr, "locus: %s\n", errbuf);
		return 1;
	}
	if (check_only) {
		printf("%s: configuration is valid\n", path);
		mem_deref(d.cfg);
		return 0;
	}

	log_set_level(d.cfg->log_level);
	err = libre_init();
	if (err) {
		fprintf(stderr, "locus: libre_init failed: %s\n",
			strerror(err));
		return 1;
	}
	(void)fd_setsize(65536);

	err = service_alloc(&service, daemon_reload, &d);
	if (err)
		re_snprintf(errbuf, sizeof(errbuf), "cannot set up SIGHUP and "
			    "service notification: %m", err);
	else
		err = daemon_start(&d, errbuf, sizeof(errbuf));
	if (err) {
		log_error("%s", errbuf);
		daemon_stop(&d);
		mem_deref(service);
		libre_close();
		return 1;
	}

	log_info("locus %s ready", LOCUS_VERSION);
	service_ready(service);
	err = re_main(signal_handler);

	service_stopping(service);
	daemon_stop(&d);
	mem_deref(service);
	libre_close();
	return err ? 1 : 0;
}

/*
 * Live reload (daemon/reload.h).
 *
 * SIGHUP may arrive at any moment, the loop in the middle of anything: its
 * handler (daemon/service.c) only wakes the loop, which calls
 * reload_now() between two events.  There, the file is loaded and
 * validated into a configuration of its own; only when it is valid does
 * the live one take its settings (config_swap()), and then each module
 * that copied a setting at start-up is told (the apply steps below).
 * Connections, transactions and bindings are not touched: they belong to
 * the modules, not to the configuration.
 */
#include <re.h>
#include "auth/auth.h"
#include "common/log.h"
#include "common/metrics.h"
#include "config/config.h"
#include "daemon/metrics_http.h"
#include "daemon/reload.h"

struct reload {
	struct reload_deps deps;
};


/* The modules that copied a setting at start-up take the new one. */
static void apply(const struct reload_deps *d)
{
	log_set_level(d->cfg->log_level);
	if (d->auth)
		auth_apply(d->auth);
	if (d->metrics)
		metrics_http_apply(d->metrics);
}


void reload_now(struct reload *r)
{
	struct locus_config *next = NULL;
	char errbuf[1024];
	unsigned restart;

	log_info("reload: reading %s", r->deps.cfg->path);
	if (config_load(&next, r->deps.cfg->path, errbuf, sizeof(errbuf))) {
		++metrics.reloads_refused;
		log_error("reload refused: %s; the running configuration"
			  " stays", errbuf);
		return;
	}
	restart = config_swap(r->deps.cfg, next);
	mem_deref(next);   /* now the settings replaced */
	apply(&r->deps);
	++metrics.reloads_applied;
	if (restart)
		log_info("reload: %s applied, but for %u change(s) that need"
			 " a restart (above)", r->deps.cfg->path, restart);
	else
		log_info("reload: %s applied", r->deps.cfg->path);
}


int reload_alloc(struct reload **rp, const struct reload_deps *deps)
{
	struct reload *r = mem_zalloc(sizeof(*r), NULL);

	if (!r)
		return ENOMEM;
	r->deps = *deps;
	*rp = r;
	return 0;
}

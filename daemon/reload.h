/* Live reload: SIGHUP makes locus read its configuration file again.  A
 * file with an error is refused (FILE:LINE logged) and the running
 * settings stay; a good one takes effect for every request from then on,
 * without closing a connection or dropping a transaction or a binding,
 * except for the settings only a restart can change, which are named in
 * the log (config/swap.c says which, and why that swap is safe). */
#ifndef LOCUS_RELOAD_H
#define LOCUS_RELOAD_H

struct auth;
struct locus_config;
struct metrics_http;
struct reload;

/* What a reload changes: the live configuration, and the modules that
 * copied something out of it (each may be NULL). */
struct reload_deps {
	struct locus_config *cfg;
	struct auth *auth;
	struct metrics_http *metrics;
};

/* What reload_now() will reload.  SIGHUP reaches it through
 * daemon/service.c, which wakes the loop. */
int  reload_alloc(struct reload **rp, const struct reload_deps *deps);

/* Reads the configuration file again and applies it: what SIGHUP does. */
void reload_now(struct reload *r);

#endif

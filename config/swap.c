/*
 * A reload: the running configuration takes the settings of a new one.
 *
 * Every module was handed one struct locus_config at start-up, the live
 * one, and keeps a pointer to it.  A reload never moves it: the file is
 * loaded and validated into a second struct (a bad file goes no further:
 * the live one is untouched), then the contents of the two are swapped,
 * between two events of the loop.  There is one thread, so no module is
 * in the middle of reading the live struct when that happens, and from
 * the next event on every module reads the new values through the
 * pointer it always had.  The old values end up in the second struct and
 * are freed with it.  That is safe because no module keeps a pointer into
 * the configuration (a domain name, the trusted list) across an event:
 * each takes what it needs while handling one (the one asynchronous user,
 * auth's pending check, lets go of its realm before it waits); values a
 * module copies once (auth's lockout limits, the log level, the metrics
 * listener) are set again by its apply step after the swap (see
 * daemon/reload.c).
 *
 * What only a restart can change is swapped back, so the running values
 * stay: the listeners (their sockets are bound), database.conninfo (the
 * connections are open), gruu.key_file (every key is derived from it at
 * start-up), auth.enabled (the registrar and proxy were built with or
 * without authentication) and proxy.relay (without it no DNS resolver was
 * made).  Each such change is logged by name.
 */
#include <string.h>
#include <re.h>
#include "common/log.h"
#include "config/config.h"

#define SWAP(a, b) do { __typeof__(a) tmp_ = (a); (a) = (b); (b) = tmp_; } \
	while (0)

/* The integer settings, for the log of what changed. */
static const struct {
	const char *name;
	size_t off;
} uint_settings[] = {
	{"registrar.min_expires", offsetof(struct locus_config, min_expires)},
	{"registrar.default_expires",
	 offsetof(struct locus_config, default_expires)},
	{"registrar.max_expires", offsetof(struct locus_config, max_expires)},
	{"registrar.max_contacts",
	 offsetof(struct locus_config, max_contacts)},
	{"proxy.timer_c", offsetof(struct locus_config, timer_c)},
	{"auth.nonce_lifetime", offsetof(struct locus_config, nonce_lifetime)},
	{"auth.fail_limit", offsetof(struct locus_config, fail_limit)},
	{"auth.fail_window", offsetof(struct locus_config, fail_window)},
	{"trace.hep_id", offsetof(struct locus_config, trace_hep_id)},
};


static uint32_t uint_at(const struct locus_config *cfg, size_t off)
{
	return *(const uint32_t *)(const void *)((const char *)cfg + off);
}


/* Equal strings, NULL being equal only to NULL. */
static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}


static bool listen_equal(const struct listen_cfg *a, const struct listen_cfg *b)
{
	return a->tp == b->tp && sa_cmp(&a->addr, &b->addr, SA_ALL) &&
		same_str(a->certificate, b->certificate) &&
		same_str(a->key, b->key);
}


/* RUN is running, NEW was asked for.  One line per listener that differs. */
static unsigned listen_restart(const struct locus_config *run,
			       const struct locus_config *new)
{
	size_t n = MAX(run->listenc, new->listenc);
	unsigned changes = 0;

	for (size_t i = 0; i < n; i++) {
		const struct listen_cfg *a = i < run->listenc ?
			&run->listen[i] : NULL;
		const struct listen_cfg *b = i < new->listenc ?
			&new->listen[i] : NULL;

		if (a && b && listen_equal(a, b))
			continue;
		++changes;
		if (a && b)
			log_warn("reload: listen[%zu] changed (%s %J to %s %J,"
				 " or its certificate or key): needs a restart;"
				 " still listening on %s %J", i,
				 sip_transp_name(a->tp), &a->addr,
				 sip_transp_name(b->tp), &b->addr,
				 sip_transp_name(a->tp), &a->addr);
		else if (b)
			log_warn("reload: listen[%zu] (%s %J) added: needs a"
				 " restart", i, sip_transp_name(b->tp),
				 &b->addr);
		else
			log_warn("reload: listen[%zu] (%s %J) removed: needs a"
				 " restart; still listening there", i,
				 sip_transp_name(a->tp), &a->addr);
	}
	return changes;
}


static bool park_equal(const struct park_cfg *a, const struct park_cfg *b)
{
	return a->enabled == b->enabled && a->first == b->first &&
		a->last == b->last && a->digits == b->digits &&
		a->timeout == b->timeout &&
		same_str(a->auto_number, b->auto_number);
}


static bool dns_servers_equal(const struct locus_config *a,
			      const struct locus_config *b)
{
	if (a->dns_serverc != b->dns_serverc)
		return false;
	for (size_t i = 0; i < a->dns_serverc; i++)
		if (!sa_cmp(&a->dns_servers[i], &b->dns_servers[i], SA_ALL))
			return false;
	return true;
}


/* What is set up once, at start-up, from a setting: parking sizes its
 * slot table by features.park.slots (a range moved under it would index
 * past it), the proxy's seam is wired only when features.intercom is set
 * (its code may change, not appear or go), and the resolver is made with
 * proxy.dns_servers. */
static unsigned keep_features_restart_only(struct locus_config *live,
					   struct locus_config *old)
{
	unsigned changes = 0;

	if (!park_equal(&live->park, &old->park)) {
		log_warn("reload: features.park changed: needs a restart;"
			 " parking stays as it was");
		++changes;
	}
	SWAP(live->park, old->park);
	if (!live->intercom_prefix != !old->intercom_prefix) {
		log_warn("reload: features.intercom %s: needs a restart;"
			 " intercom stays %s", live->intercom_prefix ?
			 "added" : "removed", old->intercom_prefix ? "on" :
			 "off");
		++changes;
		SWAP(live->intercom_prefix, old->intercom_prefix);
	}
	if (!dns_servers_equal(live, old)) {
		log_warn("reload: proxy.dns_servers changed: needs a restart;"
			 " the resolver keeps its servers");
		++changes;
	}
	SWAP(live->dns_servers, old->dns_servers);
	SWAP(live->dns_serverc, old->dns_serverc);
	return changes;
}


/* After the swap LIVE holds the new settings and OLD the running ones:
 * what needs a restart goes back to LIVE, each difference logged. */
static unsigned keep_restart_only(struct locus_config *live,
				  struct locus_config *old)
{
	unsigned changes = listen_restart(old, live);

	SWAP(live->listen, old->listen);
	SWAP(live->listenc, old->listenc);

	/* the conninfo may hold a password: named, never printed */
	if (!same_str(live->db_conninfo, old->db_conninfo)) {
		log_warn("reload: database.conninfo changed: needs a restart;"
			 " still connected as before");
		++changes;
	}
	SWAP(live->db_conninfo, old->db_conninfo);
	if (!same_str(live->gruu_key_file, old->gruu_key_file)) {
		log_warn("reload: gruu.key_file changed to %s: needs a restart;"
			 " still using %s", live->gruu_key_file,
			 old->gruu_key_file);
		++changes;
	}
	SWAP(live->gruu_key_file, old->gruu_key_file);
	if (live->auth != old->auth) {
		log_warn("reload: auth.enabled changed to %s: needs a restart;"
			 " authentication stays %s", live->auth ? "true" :
			 "false", old->auth ? "on" : "off");
		++changes;
	}
	SWAP(live->auth, old->auth);
	if (live->relay != old->relay) {
		log_warn("reload: proxy.relay changed to %s: needs a restart;"
			 " relaying stays %s", live->relay ? "true" : "false",
			 old->relay ? "on" : "off");
		++changes;
	}
	SWAP(live->relay, old->relay);
	return changes + keep_features_restart_only(live, old);
}


static bool has_domain(const struct locus_config *cfg, const char *d)
{
	for (size_t i = 0; i < cfg->domainc; i++)
		if (!strcmp(cfg->domains[i], d))
			return true;
	return false;
}


static void domains_log(const struct locus_config *new,
			const struct locus_config *old)
{
	for (size_t i = 0; i < new->domainc; i++)
		if (!has_domain(old, new->domains[i]))
			log_info("reload: domain %s added", new->domains[i]);
	for (size_t i = 0; i < old->domainc; i++)
		if (!has_domain(new, old->domains[i]))
			log_info("reload: domain %s removed", old->domains[i]);
}


static bool trusted_equal(const struct locus_config *a,
			  const struct locus_config *b)
{
	if (a->trustedc != b->trustedc)
		return false;
	for (size_t i = 0; i < a->trustedc; i++)
		if (!sa_cmp(&a->trusted[i], &b->trusted[i], SA_ADDR))
			return false;
	return true;
}


static void sa_change_log(const char *name, const struct sa *new,
			  const struct sa *old)
{
	bool n = sa_isset(new, SA_PORT), o = sa_isset(old, SA_PORT);

	if (n == o && (!n || sa_cmp(new, old, SA_ALL)))
		return;
	if (n && o)
		log_info("reload: %s: %J, was %J", name, new, old);
	else if (n)
		log_info("reload: %s: %J, was not set", name, new);
	else
		log_info("reload: %s: not set, was %J", name, old);
}


/* One line per setting that changed and takes effect now. */
static void changes_log(const struct locus_config *new,
			const struct locus_config *old)
{
	domains_log(new, old);
	for (size_t i = 0; i < ARRAY_SIZE(uint_settings); i++) {
		uint32_t a = uint_at(new, uint_settings[i].off);
		uint32_t b = uint_at(old, uint_settings[i].off);

		if (a != b)
			log_info("reload: %s: %u, was %u",
				 uint_settings[i].name, a, b);
	}
	if (new->auth_algc != old->auth_algc ||
	    memcmp(new->auth_algs, old->auth_algs, sizeof(new->auth_algs)))
		log_info("reload: auth.algorithms changed");
	if (!trusted_equal(new, old))
		log_info("reload: auth.trusted changed");
	if (new->log_level != old->log_level)
		log_info("reload: log.level: %s, was %s",
			 log_level_name(new->log_level),
			 log_level_name(old->log_level));
	sa_change_log("metrics.listen", &new->metrics_listen,
		      &old->metrics_listen);
	sa_change_log("trace.hep", &new->trace_hep, &old->trace_hep);
}


unsigned config_swap(struct locus_config *live, struct locus_config *next)
{
	struct locus_config old = *live;

	/* whole structs: a setting added later is reloaded unless it is
	 * named in keep_restart_only() */
	*live = *next;
	*next = old;
	changes_log(live, next);
	return keep_restart_only(live, next);
}

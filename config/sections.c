/* The sections of the locus configuration other than listen, features and
 * intercom (config/intercom.c, with features.park in config/park.c):
 * domains, database, registrar, proxy, auth, gruu and log.  Each reads its group
 * (checked against its fields[] table first, where it has one) into
 * struct locus_config and describes itself with a struct section.
 *
 * Two conveniences make a config file usable from any working directory:
 *  - in database.conninfo, "${CONFIG_DIR}" becomes the absolute directory
 *    that holds the config file (libpq wants an absolute socket dir);
 *  - a relative gruu.key_file is resolved against that same directory, so
 *    cfg->gruu_key_file is always absolute and the rest of locus can use
 *    it as is, whatever the cwd.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "sip/digest.h"
#include "config/section.h"

#define CONFIG_DIR_VAR "${CONFIG_DIR}"

/* Seconds; capped so the value fits a signed 32-bit int wherever used. */
#define EXPIRES_MAX INT32_MAX

#define FIELDS(t) t, ARRAY_SIZE(t)


/* ---- domains -------------------------------------------------------- */

/* Letters, digits, '-' and '.', no empty labels, no label starting or
 * ending in '-': catches "sip:example.com", "example.com:5060", "a..b". */
static bool host_plausible(const char *h)
{
	size_t label = 0, total = 0;
	char prev = '.';

	for (; *h; h++, total++) {
		if (*h == '.') {
			if (!label || prev == '-')
				return false;
			label = 0;
		}
		else if (isalnum((unsigned char)*h) ||
			 (*h == '-' && label)) {
			if (++label > 63)
				return false;
		}
		else {
			return false;
		}
		prev = *h;
	}
	return total && total <= 253 && label && prev != '-';
}


static int add_domain(struct loader *ld, const config_setting_t *e,
		      unsigned idx)
{
	struct locus_config *cfg = ld->cfg;
	const char *name = config_setting_get_string(e);
	char *d;

	if (config_setting_type(e) != CONFIG_TYPE_STRING) {
		return validator_fail(&ld->v, e, "domains[%u] must be a string"
				      " (got %s); write e.g. \"example.com\"",
				      idx, validator_type_name(
					      config_setting_type(e)));
	}
	if (!*name) {
		return validator_fail(&ld->v, e, "domains[%u] is empty; write"
				      " a domain such as \"example.com\"",
				      idx);
	}
	if (!host_plausible(name)) {
		return validator_fail(&ld->v, e, "domains[%u] '%s' is not a"
				      " plausible host name; use only letters,"
				      " digits, '-' and '.' (no scheme, user"
				      " or port), e.g. \"example.com\"",
				      idx, name);
	}

	if (str_dup(&d, name))
		return ENOMEM;
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);

	for (size_t j = 0; j < cfg->domainc; j++) {
		if (0 == strcmp(d, cfg->domains[j])) {
			mem_deref(d);
			return validator_fail(&ld->v, e, "domains[%u] '%s'"
					      " repeats domains[%zu] (names"
					      " are case-insensitive); remove"
					      " one of them", idx, name, j);
		}
	}
	cfg->domains[cfg->domainc++] = d;
	return 0;
}


static int load_domains(struct loader *ld, const config_setting_t *s,
			const config_setting_t **got)
{
	int n, err;

	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		return validator_fail(&ld->v, s, "domains must be an array of"
				      " strings (got %s); write e.g. domains"
				      " = [ \"example.com\" ];",
				      validator_type_name(
					      config_setting_type(s)));
	}
	n = config_setting_length(s);
	if (n == 0) {
		return validator_fail(&ld->v, s, "domains is empty; list at"
				      " least one, e.g. domains ="
				      " [ \"example.com\" ];");
	}

	ld->cfg->domains = mem_zalloc(n * sizeof(char *), NULL);
	if (!ld->cfg->domains)
		return ENOMEM;

	for (int i = 0; i < n; i++) {
		err = add_domain(ld, config_setting_get_elem(s, i), i);
		if (err)
			return err;
	}
	return 0;
}


const struct section section_domains = {
	"domains", true, "domains = [ \"example.com\" ];",
	NULL, 0, load_domains
};


/* ---- database ------------------------------------------------------- */

static const struct field_rule database_fields[] = {
	{"conninfo", CONFIG_TYPE_STRING, true,
	 "conninfo = \"host=/path/to/socketdir dbname=locus\";"},
};


/* A conninfo value is split on spaces and quotes; a directory holding
 * them would silently turn into a different connection string. */
static int check_dir_usable(struct loader *ld, const config_setting_t *s)
{
	if (!strpbrk(ld->dir, " \t'\"\\"))
		return 0;

	return validator_fail(&ld->v, s, "database.conninfo uses "
			      CONFIG_DIR_VAR ", but it expands to '%s',"
			      " which holds a space, quote or backslash;"
			      " write the socket directory as an absolute"
			      " path instead", ld->dir);
}


/* Replaces every ${CONFIG_DIR} in IN by ld->dir.  Any other ${...} is an
 * error: a misspelt variable must not reach libpq as literal text. */
static int expand_vars(struct loader *ld, const config_setting_t *s,
		       struct mbuf *mb, const char *in)
{
	const size_t varlen = sizeof(CONFIG_DIR_VAR) - 1;
	const char *v;
	int err = 0;

	while (!err && (v = strstr(in, "${"))) {
		if (strncmp(v, CONFIG_DIR_VAR, varlen)) {
			const char *end = strchr(v, '}');
			int len = end ? (int)(end - v + 1) : (int)strlen(v);

			return validator_fail(&ld->v, s, "unknown variable"
					      " '%.*s' in database.conninfo;"
					      " the only one supported is "
					      CONFIG_DIR_VAR, len, v);
		}
		err = check_dir_usable(ld, s);
		err = err ? err : mbuf_write_mem(mb, (const uint8_t *)in,
						 v - in);
		err = err ? err : mbuf_write_str(mb, ld->dir);
		in = v + varlen;
	}
	return err ? err : mbuf_write_str(mb, in);
}


static int load_database(struct loader *ld, const config_setting_t *s,
			 const config_setting_t **got)
{
	const char *in = config_setting_get_string(got[0]);
	struct mbuf *mb = mbuf_alloc(strlen(in) + 1);
	int err;

	if (!mb)
		return ENOMEM;

	err = expand_vars(ld, got[0], mb, in);
	if (!err) {
		mb->pos = 0;
		err = mbuf_strdup(mb, &ld->cfg->db_conninfo, mb->end);
	}
	mem_deref(mb);
	return err;
}


const struct section section_database = {
	"database", true, "database = { conninfo = \"host=/path/to/socketdir"
	" dbname=locus\"; };", FIELDS(database_fields), load_database
};


/* ---- registrar ------------------------------------------------------ */

#define REG_FIELD(n, lo, hi, def) \
	{#n, CONFIG_TYPE_INT, false, #n " = " #def ";", lo, hi, def, \
	 offsetof(struct locus_config, n)}

/* flow_timer: RFC 5626 §4.4.1 suggests 120 s for TCP; at most 600 s,
 * well inside the 900 s after which libre closes a connection that
 * carried nothing (§5.4: the server waits longer than the Flow-Timer). */
static const struct field_rule registrar_fields[] = {
	REG_FIELD(min_expires,     1, EXPIRES_MAX, 60),
	REG_FIELD(default_expires, 1, EXPIRES_MAX, 3600),
	REG_FIELD(max_expires,     1, EXPIRES_MAX, 3600),
	REG_FIELD(max_contacts,    1, 100000,      16),
	REG_FIELD(flow_timer,      0, 600,         120),
	{"nat", CONFIG_TYPE_STRING, false, "nat = \"auto\";"},
};

enum { REG_NAT_FIELD = 5 };

/* Pairs (lo, hi) of registrar_fields[] indexes where lo <= hi must hold:
 * min_expires <= default_expires <= max_expires. */
static const size_t registrar_order[][2] = { {0, 1}, {1, 2} };


/* Blames the setting the operator wrote: if only one of the pair is in
 * the file, that one; if both, the upper one, which is "too small". */
static int check_order(struct loader *ld, const config_setting_t *grp,
		       const config_setting_t **got, const uint32_t *v,
		       size_t lo, size_t hi)
{
	const config_setting_t *blame = got[hi] ? got[hi] :
		got[lo] ? got[lo] : grp;

	if (v[lo] <= v[hi])
		return 0;

	return validator_fail(&ld->v, blame, "registrar.%s (%u%s) must not"
			      " exceed registrar.%s (%u%s); raise %s or"
			      " lower %s",
			      registrar_fields[lo].name, v[lo],
			      got[lo] ? "" : ", the default",
			      registrar_fields[hi].name, v[hi],
			      got[hi] ? "" : ", the default",
			      registrar_fields[hi].name,
			      registrar_fields[lo].name);
}


/* registrar.nat: "auto", "always" or "never". */
static int load_nat(struct loader *ld, const config_setting_t *s)
{
	static const char *const names[] = {
		[NAT_AUTO] = "auto", [NAT_ALWAYS] = "always",
		[NAT_NEVER] = "never",
	};
	const char *name = s ? config_setting_get_string(s) : "auto";

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (0 == strcasecmp(name, names[i])) {
			ld->cfg->nat = (enum nat_policy)i;
			return 0;
		}
	}
	return validator_fail(&ld->v, s, "registrar.nat '%s' is not a NAT "
			      "policy; use \"auto\" (decide per REGISTER), "
			      "\"always\" (reach devices where their REGISTER "
			      "came from) or \"never\" (at their Contact)",
			      name);
}


static int load_registrar(struct loader *ld, const config_setting_t *s,
			  const config_setting_t **got)
{
	uint32_t v[ARRAY_SIZE(registrar_fields)];
	int err;

	for (size_t i = 0; i < ARRAY_SIZE(registrar_fields); i++) {
		const struct field_rule *f = &registrar_fields[i];

		if (f->type != CONFIG_TYPE_INT)
			continue;
		err = validator_int(&ld->v, "registrar", f, got[i], &v[i]);
		if (err)
			return err;
		*(uint32_t *)(void *)((char *)ld->cfg + f->off) = v[i];
	}

	for (size_t i = 0; i < ARRAY_SIZE(registrar_order); i++) {
		err = check_order(ld, s, got, v, registrar_order[i][0],
				  registrar_order[i][1]);
		if (err)
			return err;
	}
	return load_nat(ld, got[REG_NAT_FIELD]);
}


const struct section section_registrar = {
	"registrar", false, "registrar = { min_expires = 60; };",
	FIELDS(registrar_fields), load_registrar
};


/* ---- proxy ---------------------------------------------------------- */

/* RFC 3261 §16.8: Timer C "MUST be set for a value greater than 3
 * minutes"; a shorter one is allowed here for labs, but never below the
 * 32 s of Timer B. */
static const struct field_rule proxy_fields[] = {
	{"relay", CONFIG_TYPE_BOOL, false, "relay = false;"},
	{"timer_c", CONFIG_TYPE_INT, false, "timer_c = 180;", 32, 3600, 180,
	 offsetof(struct locus_config, timer_c)},
	{"edge_registrar", CONFIG_TYPE_STRING, false,
	 "edge_registrar = \"sip:registrar.example.net;transport=tcp\";"},
	{"dns_servers", CONFIG_TYPE_ARRAY, false,
	 "dns_servers = [ \"192.0.2.53:53\" ];"},
};


/* Whether URI names this locus: one of its sockets, or one of its
 * domains at a port it listens on (or none). */
static bool names_us(const struct locus_config *cfg, const struct uri *uri)
{
	uint16_t port = uri->port ? uri->port : SIP_PORT;
	bool our_domain = config_is_our_domain(cfg, &uri->host);
	struct sa host;
	bool addr = 0 == sa_set(&host, &uri->host, port);

	for (size_t i = 0; i < cfg->listenc; i++) {
		const struct sa *l = &cfg->listen[i].addr;

		if (sa_port(l) == port &&
		    (our_domain || (addr && sa_cmp(&host, l, SA_ADDR))))
			return true;
	}
	return false;
}


/* A sip: URI with a host, that is not this locus: where REGISTERs go
 * when locus is an edge proxy (RFC 5626 §5). */
static int load_edge_registrar(struct loader *ld, const config_setting_t *s)
{
	const char *str = s ? config_setting_get_string(s) : NULL;
	struct uri uri;
	struct pl pl;

	if (!str)
		return 0;
	pl_set_str(&pl, str);
	if (uri_decode(&uri, &pl) || pl_strcasecmp(&uri.scheme, "sip") ||
	    !pl_isset(&uri.host) || pl_isset(&uri.user))
		return validator_fail(&ld->v, s, "proxy.edge_registrar '%s' is"
				      " not a sip: URI of a host (no user "
				      "part); write e.g. %s", str,
				      proxy_fields[2].example);
	if (names_us(ld->cfg, &uri))
		return validator_fail(&ld->v, s, "proxy.edge_registrar '%s' "
				      "names this locus (a domain or address "
				      "and port of ours): REGISTERs would come "
				      "back here; name the registrar's own "
				      "host and port", str);
	return str_dup(&ld->cfg->edge_registrar, str);
}


/* "ip:port" or "[ipv6]:port" each, or a bare address (port 53). */
static int load_dns_servers(struct loader *ld, const config_setting_t *s)
{
	int n = s ? config_setting_length(s) : 0;

	if (!n)
		return 0;
	ld->cfg->dns_servers = mem_zalloc(n * sizeof(struct sa), NULL);
	if (!ld->cfg->dns_servers)
		return ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *str = config_setting_get_string(e);
		struct sa *sa = &ld->cfg->dns_servers[i];

		if (!str || (sa_decode(sa, str, strlen(str)) &&
			     sa_set_str(sa, str, 53)))
			return validator_fail(&ld->v, e, "proxy.dns_servers[%d]"
					      " must be an IP address with an "
					      "optional port; write e.g. %s",
					      i, proxy_fields[3].example);
	}
	ld->cfg->dns_serverc = (size_t)n;
	return 0;
}


static int load_proxy(struct loader *ld, const config_setting_t *s,
		      const config_setting_t **got)
{
	int err;

	ld->cfg->relay = got[0] ? config_setting_get_bool(got[0]) : false;
	err = validator_int(&ld->v, "proxy", &proxy_fields[1], got[1],
			    &ld->cfg->timer_c);
	if (!err)
		err = load_edge_registrar(ld, got[2]);
	if (!err)
		err = load_dns_servers(ld, got[3]);
	return err;
}


const struct section section_proxy = {
	"proxy", false, "proxy = { relay = false; timer_c = 180; };",
	FIELDS(proxy_fields), load_proxy
};


/* ---- auth ----------------------------------------------------------- */

static const struct field_rule auth_fields[] = {
	{"enabled", CONFIG_TYPE_BOOL, false, "enabled = true;"},
	{"algorithms", CONFIG_TYPE_ARRAY, false,
	 "algorithms = [ \"SHA-256\", \"MD5\" ];"},
	{"nonce_lifetime", CONFIG_TYPE_INT, false, "nonce_lifetime = 300;",
	 10, 86400, 300, offsetof(struct locus_config, nonce_lifetime)},
	{"trusted", CONFIG_TYPE_ARRAY, false,
	 "trusted = [ \"192.0.2.10\" ];"},
	{"fail_limit", CONFIG_TYPE_INT, false, "fail_limit = 10;",
	 1, 1000000, 10, offsetof(struct locus_config, fail_limit)},
	{"fail_window", CONFIG_TYPE_INT, false, "fail_window = 60;",
	 1, 86400, 60, offsetof(struct locus_config, fail_window)},
};


/* The challenge offers these in this order (RFC 8760 §2.4: most
 * preferred first). */
static int load_algorithms(struct loader *ld, const config_setting_t *s)
{
	struct locus_config *cfg = ld->cfg;
	int n = s ? config_setting_length(s) : 0;

	if (!s) {
		cfg->auth_algs[0] = DIGEST_SHA256;
		cfg->auth_algs[1] = DIGEST_MD5;
		cfg->auth_algc = 2;
		return 0;
	}
	if (n < 1 || n > 2)
		return validator_fail(&ld->v, s, "auth.algorithms must name"
				      " one or two of \"SHA-256\" and"
				      " \"MD5\"; write e.g. %s",
				      auth_fields[1].example);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *name = config_setting_get_string(e);
		int alg = !name ? -1 : !strcasecmp(name, "SHA-256") ?
			DIGEST_SHA256 : !strcasecmp(name, "MD5") ?
			DIGEST_MD5 : -1;

		if (alg < 0 || (i == 1 && cfg->auth_algs[0] == alg))
			return validator_fail(&ld->v, e, "auth.algorithms[%d]"
					      " must be \"SHA-256\" or"
					      " \"MD5\", each once; write"
					      " e.g. %s", i,
					      auth_fields[1].example);
		cfg->auth_algs[i] = (uint8_t)alg;
	}
	cfg->auth_algc = (size_t)n;
	return 0;
}


static int load_trusted(struct loader *ld, const config_setting_t *s)
{
	int n = s ? config_setting_length(s) : 0;

	if (!n)
		return 0;
	ld->cfg->trusted = mem_zalloc(n * sizeof(struct sa), NULL);
	if (!ld->cfg->trusted)
		return ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *str = config_setting_get_string(e);

		if (!str || sa_set_str(&ld->cfg->trusted[i], str, 0))
			return validator_fail(&ld->v, e, "auth.trusted[%d]"
					      " must be an IP address; write"
					      " it as a string without port"
					      " or name, e.g. %s", i,
					      auth_fields[3].example);
	}
	ld->cfg->trustedc = (size_t)n;
	return 0;
}


static int load_auth(struct loader *ld, const config_setting_t *s,
		     const config_setting_t **got)
{
	int err;
	(void)s;

	/* on unless switched off: the safe default */
	ld->cfg->auth = got[0] ? config_setting_get_bool(got[0]) : true;
	err = load_algorithms(ld, got[1]);
	if (!err)
		err = validator_int(&ld->v, "auth", &auth_fields[2], got[2],
				    &ld->cfg->nonce_lifetime);
	if (!err)
		err = load_trusted(ld, got[3]);
	if (!err)
		err = validator_int(&ld->v, "auth", &auth_fields[4], got[4],
				    &ld->cfg->fail_limit);
	if (!err)
		err = validator_int(&ld->v, "auth", &auth_fields[5], got[5],
				    &ld->cfg->fail_window);
	return err;
}


const struct section section_auth = {
	"auth", false, "auth = { enabled = true; };",
	FIELDS(auth_fields), load_auth
};


/* ---- gruu, log ------------------------------------------------------ */

static const struct field_rule gruu_fields[] = {
	{"key_file", CONFIG_TYPE_STRING, true,
	 "key_file = \"gruu.key\";"},
};


static int load_gruu(struct loader *ld, const config_setting_t *s,
		     const config_setting_t **got)
{
	return loader_path(ld, &ld->cfg->gruu_key_file,
			   config_setting_get_string(got[0]));
}


const struct section section_gruu = {
	"gruu", true, "gruu = { key_file = \"gruu.key\"; };",
	FIELDS(gruu_fields), load_gruu
};


static const struct field_rule log_fields[] = {
	{"level", CONFIG_TYPE_STRING, false, "level = \"info\";"},
};


static int load_log(struct loader *ld, const config_setting_t *s,
		    const config_setting_t **got)
{
	const char *name;
	int level;

	ld->cfg->log_level = LOG_LEVEL_INFO;
	if (!got[0])
		return 0;

	name = config_setting_get_string(got[0]);
	level = log_level_parse(name);
	if (level < 0) {
		return validator_fail(&ld->v, got[0], "log.level '%s' is not"
				      " a log level; use one of: \"%s\","
				      " \"%s\", \"%s\", \"%s\"", name,
				      log_level_name(LOG_LEVEL_DEBUG),
				      log_level_name(LOG_LEVEL_INFO),
				      log_level_name(LOG_LEVEL_WARN),
				      log_level_name(LOG_LEVEL_ERROR));
	}
	ld->cfg->log_level = (enum log_level)level;
	return 0;
}


const struct section section_log = {
	"log", false, "log = { level = \"info\"; };",
	FIELDS(log_fields), load_log
};

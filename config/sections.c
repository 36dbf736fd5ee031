/* The sections of the locus configuration other than listen: domains,
 * database, registrar, proxy, auth, gruu, log and features (whose
 * groups have files of their own: park.c).  Each reads its group
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

static const struct field_rule registrar_fields[] = {
	REG_FIELD(min_expires,     1, EXPIRES_MAX, 60),
	REG_FIELD(default_expires, 1, EXPIRES_MAX, 3600),
	REG_FIELD(max_expires,     1, EXPIRES_MAX, 3600),
	REG_FIELD(max_contacts,    1, 100000,      16),
};

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


static int load_registrar(struct loader *ld, const config_setting_t *s,
			  const config_setting_t **got)
{
	uint32_t v[ARRAY_SIZE(registrar_fields)];
	int err;

	for (size_t i = 0; i < ARRAY_SIZE(registrar_fields); i++) {
		const struct field_rule *f = &registrar_fields[i];

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
	return 0;
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
};


static int load_proxy(struct loader *ld, const config_setting_t *s,
		      const config_setting_t **got)
{
	ld->cfg->relay = got[0] ? config_setting_get_bool(got[0]) : false;
	return validator_int(&ld->v, "proxy", &proxy_fields[1], got[1],
			     &ld->cfg->timer_c);
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


/* ---- features ------------------------------------------------------- */

/* Services on top of the proxy, each a group of its own, each off when
 * absent. */
static const struct field_rule features_fields[] = {
	{"park", CONFIG_TYPE_GROUP, false,
	 "park = { slots = \"701-799\"; auto = \"70\"; timeout = 120; };"},
};


static int load_features(struct loader *ld, const config_setting_t *s,
			 const config_setting_t **got)
{
	(void)s;
	return got[0] ? config_park_load(ld, got[0]) : 0;
}


const struct section section_features = {
	"features", false, "features = { park = { slots = \"701-799\"; };"
	" };", FIELDS(features_fields), load_features
};

/* Reads one libconfig file into a validated struct locus_config.
 *
 * The loader is strict on purpose: a misspelt key or a value of the wrong
 * type is an error, never a silent fall-back to a default, because a
 * registrar that quietly runs with max_expires = 3600 when the operator
 * wrote "max_expire = 60" is worse than one that refuses to start.  Every
 * error is one line, "FILE:LINE: what is wrong; what to change", and the
 * first error found is the one reported, in a fixed order: unknown
 * top-level keys, then the sections in the order of the sections[] table.
 *
 * Two conveniences make a config file usable from any working directory:
 *  - in database.conninfo, "${CONFIG_DIR}" becomes the absolute directory
 *    that holds the config file (libpq wants an absolute socket dir);
 *  - a relative gruu.key_file is resolved against that same directory, so
 *    cfg->gruu_key_file is always absolute and the rest of locus can use
 *    it as is, whatever the cwd (config.h's "relative to the cwd" holds
 *    trivially for an absolute path).
 * The same directory is libconfig's @include directory.
 *
 * Adding a setting: add a row to the section's fields[] table (name, type,
 * example); registrar integers are then stored by the table alone, others
 * are read in the section's loader.  Adding a section (say, proxy): a
 * fields[] table, a loader and a row in sections[].
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <libconfig.h>
#include <re.h>
#include "sip/digest.h"
#include "config/config.h"

#define MAX_FIELDS 8            /* most members any group may have */
#define CONFIG_DIR_VAR "${CONFIG_DIR}"
#define MAX_EDIT_DIST 2         /* "did you mean" only for close typos */

/* Seconds; capped so the value fits a signed 32-bit int wherever used. */
#define EXPIRES_MAX INT32_MAX

struct loader {
	const char *path;       /* as given: every message names it */
	char *dir;              /* absolute directory of path (malloc) */
	config_t lc;
	struct locus_config *cfg;
	char *errbuf;
	size_t errsz;
};

/* One member of a group.  Integers also carry range, default and where
 * the value lands in struct locus_config, so a new numeric knob is one
 * table row. */
struct field {
	const char *name;
	int type;               /* CONFIG_TYPE_STRING, _INT or _BOOL */
	bool required;
	const char *example;    /* what to write, quoted in errors */
	uint32_t lo, hi, def;
	size_t off;
};

typedef int (section_load_h)(struct loader *ld, const config_setting_t *s,
			     const config_setting_t **got);

/* One top-level setting.  If fields is set the setting must be a group;
 * its members are checked against fields and handed to load in got[]. */
struct section {
	const char *name;
	bool required;
	const char *example;
	const struct field *fields;
	size_t fieldc;
	section_load_h *load;
};


/* ---- error reporting ------------------------------------------------ */

/* Values quoted from the file may hold escaped newlines; keep the
 * message on one line whatever they contain. */
static void one_line(char *s)
{
	for (; *s; s++) {
		if (iscntrl((unsigned char)*s))
			*s = '?';
	}
}


__attribute__((format(printf, 3, 4)))
static int fail(struct loader *ld, const config_setting_t *s,
		const char *fmt, ...)
{
	const char *file = ld->path;
	unsigned line = 1;      /* no setting to blame: the top of the file */
	va_list ap;
	int n;

	if (s && config_setting_source_file(s))
		file = config_setting_source_file(s);
	if (s && config_setting_source_line(s))
		line = config_setting_source_line(s);

	if (!ld->errbuf || !ld->errsz)
		return EINVAL;

	n = snprintf(ld->errbuf, ld->errsz, "%s:%u: ", file, line);
	if (n >= 0 && (size_t)n < ld->errsz) {
		va_start(ap, fmt);
		(void)vsnprintf(ld->errbuf + n, ld->errsz - n, fmt, ap);
		va_end(ap);
	}
	one_line(ld->errbuf);
	return EINVAL;
}


static const char *type_name(int type)
{
	switch (type) {

	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:  return "an integer";
	case CONFIG_TYPE_FLOAT:  return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL:   return "a boolean";
	case CONFIG_TYPE_GROUP:  return "a group";
	case CONFIG_TYPE_ARRAY:  return "an array";
	case CONFIG_TYPE_LIST:   return "a list";
	default:                 return "nothing";
	}
}


/* Optimal string alignment distance: a swapped pair of letters counts
 * as one edit, the commonest typo after a dropped letter. */
static size_t edit_distance(const char *a, const char *b)
{
	unsigned char d[33][33];
	size_t la = strlen(a), lb = strlen(b);

	if (la > 32 || lb > 32)
		return SIZE_MAX;

	for (size_t i = 0; i <= la; i++) {
		for (size_t j = 0; j <= lb; j++) {
			size_t v, cost;

			if (!i || !j) {
				d[i][j] = (unsigned char)(i + j);
				continue;
			}
			cost = a[i-1] != b[j-1];
			v = MIN(d[i-1][j] + 1u, d[i][j-1] + 1u);
			v = MIN(v, d[i-1][j-1] + cost);
			if (i > 1 && j > 1 && a[i-1] == b[j-2]
			    && a[i-2] == b[j-1])
				v = MIN(v, d[i-2][j-2] + 1u);
			d[i][j] = (unsigned char)v;
		}
	}
	return d[la][lb];
}


static const char *closest(const char *name, const char *const *known,
			   size_t n)
{
	const char *best = NULL;
	size_t bestd = MAX_EDIT_DIST + 1;

	for (size_t i = 0; i < n; i++) {
		size_t dist = edit_distance(name, known[i]);

		if (dist < bestd) {
			bestd = dist;
			best = known[i];
		}
	}
	return best;
}


static int unknown_key(struct loader *ld, const config_setting_t *s,
		       const char *gpath, const char *const *known, size_t n)
{
	const char *name = config_setting_name(s);
	const char *best = closest(name, known, n);
	char list[256] = "";
	size_t len = 0;

	for (size_t i = 0; i < n && len < sizeof(list); i++) {
		len += snprintf(list + len, sizeof(list) - len, "%s%s",
				i ? ", " : "", known[i]);
	}

	return fail(ld, s, "unknown setting '%s'%s%s; known settings here"
		    " are: %s%s%s%s", name, gpath ? " in " : "",
		    gpath ? gpath : "", list,
		    best ? "; did you mean '" : "", best ? best : "",
		    best ? "'?" : "");
}


/* Checks every member of GRP against KNOWN, in file order, so the first
 * stray key reported is the first one the reader meets. */
static int check_keys(struct loader *ld, const config_setting_t *grp,
		      const char *gpath, const char *const *known, size_t n)
{
	int count = config_setting_length(grp);

	for (int i = 0; i < count; i++) {
		const config_setting_t *s = config_setting_get_elem(grp, i);
		const char *name = config_setting_name(s);
		size_t k;

		for (k = 0; k < n; k++) {
			if (name && 0 == strcmp(name, known[k]))
				break;
		}
		if (k == n)
			return unknown_key(ld, s, gpath, known, n);
	}
	return 0;
}


/* ---- generic group members ------------------------------------------ */

static bool type_ok(int want, int got)
{
	return want == got ||
		(want == CONFIG_TYPE_INT && got == CONFIG_TYPE_INT64) ||
		(want == CONFIG_TYPE_ARRAY && got == CONFIG_TYPE_LIST);
}


static int check_field(struct loader *ld, const config_setting_t *grp,
		       const char *gpath, const struct field *f,
		       const config_setting_t *s)
{
	if (!s && f->required) {
		return fail(ld, grp, "missing required setting '%s.%s'; add"
			    " %s inside the %s group", gpath, f->name,
			    f->example, gpath);
	}
	if (!s)
		return 0;

	if (!type_ok(f->type, config_setting_type(s))) {
		return fail(ld, s, "%s.%s must be %s (got %s); write e.g. %s",
			    gpath, f->name, type_name(f->type),
			    type_name(config_setting_type(s)), f->example);
	}
	if (f->type == CONFIG_TYPE_STRING &&
	    !*config_setting_get_string(s)) {
		return fail(ld, s, "%s.%s must not be empty; write e.g. %s",
			    gpath, f->name, f->example);
	}
	return 0;
}


/* Validates group GRP (path GPATH) against FV: no unknown keys, required
 * members present, types right.  got[i] is member FV[i] or NULL. */
static int collect(struct loader *ld, const config_setting_t *grp,
		   const char *gpath, const struct field *fv, size_t fc,
		   const config_setting_t **got)
{
	const char *names[MAX_FIELDS];
	int err;

	if (fc > MAX_FIELDS)
		return ENOTSUP;

	for (size_t i = 0; i < fc; i++)
		names[i] = fv[i].name;

	err = check_keys(ld, grp, gpath, names, fc);
	if (err)
		return err;

	for (size_t i = 0; i < fc; i++) {
		got[i] = config_setting_get_member(grp, fv[i].name);
		err = check_field(ld, grp, gpath, &fv[i], got[i]);
		if (err)
			return err;
	}
	return 0;
}


/* An integer member within [lo, hi], or its default when absent.
 * libconfig 1.5 wraps an unsuffixed integer beyond 32 bits without an
 * error; the range check catches most such wraps, not all. */
static int int_field(struct loader *ld, const char *gpath,
		     const struct field *f, const config_setting_t *s,
		     uint32_t *valp)
{
	long long v;

	if (!s) {
		*valp = f->def;
		return 0;
	}

	v = config_setting_get_int64(s);
	if (v < f->lo || v > f->hi) {
		return fail(ld, s, "%s.%s must be between %u and %u (got %lld);"
			    " change it to a value in that range, e.g. %s",
			    gpath, f->name, f->lo, f->hi, v, f->example);
	}
	*valp = (uint32_t)v;
	return 0;
}


static int absolute_in_dir(char **outp, const char *dir, const char *path)
{
	if (path[0] == '/')
		return str_dup(outp, path);

	return re_sdprintf(outp, "%s/%s", dir, path);
}


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
		return fail(ld, e, "domains[%u] must be a string (got %s);"
			    " write e.g. \"example.com\"", idx,
			    type_name(config_setting_type(e)));
	}
	if (!*name) {
		return fail(ld, e, "domains[%u] is empty; write a domain such"
			    " as \"example.com\"", idx);
	}
	if (!host_plausible(name)) {
		return fail(ld, e, "domains[%u] '%s' is not a plausible host"
			    " name; use only letters, digits, '-' and '.'"
			    " (no scheme, user or port), e.g. \"example.com\"",
			    idx, name);
	}

	if (str_dup(&d, name))
		return ENOMEM;
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);

	for (size_t j = 0; j < cfg->domainc; j++) {
		if (0 == strcmp(d, cfg->domains[j])) {
			mem_deref(d);
			return fail(ld, e, "domains[%u] '%s' repeats domains"
				    "[%zu] (names are case-insensitive);"
				    " remove one of them", idx, name, j);
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
		return fail(ld, s, "domains must be an array of strings (got"
			    " %s); write e.g. domains = [ \"example.com\" ];",
			    type_name(config_setting_type(s)));
	}
	n = config_setting_length(s);
	if (n == 0) {
		return fail(ld, s, "domains is empty; list at least one, e.g."
			    " domains = [ \"example.com\" ];");
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


/* ---- listen --------------------------------------------------------- */

static const struct field listen_fields[] = {
	{"transport", CONFIG_TYPE_STRING, true, "transport = \"udp\";"},
	{"address",   CONFIG_TYPE_STRING, true,
	 "address = \"127.0.0.1:5060\";"},
	{"certificate", CONFIG_TYPE_STRING, false,
	 "certificate = \"tls/cert.pem\";"},
	{"key",       CONFIG_TYPE_STRING, false, "key = \"tls/key.pem\";"},
};

static const struct {
	const char *name;
	enum sip_transp tp;
} transports[] = {
	{"udp", SIP_TRANSP_UDP},
	{"tcp", SIP_TRANSP_TCP},
	{"tls", SIP_TRANSP_TLS},
	{"ws",  SIP_TRANSP_WS},     /* RFC 7118 */
	{"wss", SIP_TRANSP_WSS},
};

#define LISTEN_EXAMPLE \
	"{ transport = \"udp\"; address = \"127.0.0.1:5060\"; }"


static int parse_transport(struct loader *ld, const config_setting_t *s,
			   const char *gpath, enum sip_transp *tpp)
{
	const char *name = config_setting_get_string(s);
	char list[64] = "";
	size_t len = 0;

	for (size_t i = 0; i < ARRAY_SIZE(transports); i++) {
		if (0 == strcmp(name, transports[i].name)) {
			*tpp = transports[i].tp;
			return 0;
		}
		if (len < sizeof(list))
			len += snprintf(list + len, sizeof(list) - len,
					"%s\"%s\"", i ? ", " : "",
					transports[i].name);
	}
	return fail(ld, s, "%s.transport '%s' is not supported; use one of:"
		    " %s", gpath, name, list);
}


/* Returns NULL if STR is a usable listen address, else "problem; fix". */
static const char *addr_problem(struct sa *sa, const char *str)
{
	const char *rbracket = str[0] == '[' ? strchr(str, ']') : NULL;
	const char *colon = rbracket ? rbracket + 1 : strrchr(str, ':');
	const char *port;
	size_t digits;

	if (str[0] == '[' && !rbracket)
		return "has no closing ']'; write [IPv6]:port, e.g."
			" \"[::1]:5060\"";
	if (!colon || *colon != ':')
		return "has no port; write IPv4:port or [IPv6]:port, e.g."
			" \"127.0.0.1:5060\"";
	if (!rbracket && memchr(str, ':', colon - str))
		return "is ambiguous; put IPv6 addresses in brackets, e.g."
			" \"[::1]:5060\"";

	/* sa_decode() would wrap 70000 to 4464 and read "x" as 0 */
	port = colon + 1;
	digits = strspn(port, "0123456789");
	if (!digits || port[digits] || digits > 5 ||
	    atoi(port) < 1 || atoi(port) > 65535)
		return "has no valid port; use a port from 1 to 65535, e.g."
			" \"127.0.0.1:5060\"";

	if (sa_decode(sa, str, strlen(str)))
		return "is not a literal IP address; write IPv4:port or"
			" [IPv6]:port (no host names), e.g. \"127.0.0.1:5060\"";

	/* libre 1.1.0 picks the socket to send from by transport and
	 * address family, never by destination, and writes that socket's
	 * address as the Via sent-by. */
	if (sa_is_any(sa))
		return "is a wildcard address; use a concrete IP such as"
			" \"127.0.0.1:5060\" (libre picks sockets by address"
			" family and the Via sent-by is the socket address, so"
			" it must be one peers can reach)";
	return NULL;
}


static int parse_listen_addr(struct loader *ld, const config_setting_t *s,
			     const char *gpath, struct sa *sa)
{
	const char *str = config_setting_get_string(s);
	const char *problem = addr_problem(sa, str);

	if (problem)
		return fail(ld, s, "%s.address '%s' %s", gpath, str, problem);
	return 0;
}


static bool transport_secure(enum sip_transp tp)
{
	return tp == SIP_TRANSP_TLS || tp == SIP_TRANSP_WSS;
}


/* UDP has sockets of its own; the others each need a TCP port. */
static bool transport_stream(enum sip_transp tp)
{
	return tp != SIP_TRANSP_UDP;
}


/* A TLS or WSS listener names its certificate chain and key (PEM files,
 * relative to the configuration's directory); other transports have none.
 * The files are read when the listener starts. */
static int load_tls_files(struct loader *ld, const config_setting_t *e,
			  const config_setting_t **got, const char *gpath,
			  struct listen_cfg *lc)
{
	int err;

	lc->certificate = lc->key = NULL;
	if (!transport_secure(lc->tp)) {
		const config_setting_t *extra = got[2] ? got[2] : got[3];

		if (extra)
			return fail(ld, extra, "%s.%s is only for transports"
				    " \"tls\" and \"wss\"; remove it", gpath,
				    config_setting_name(extra));
		return 0;
	}
	for (int i = 2; i <= 3; i++) {
		if (!got[i])
			return fail(ld, e, "%s has transport \"%s\" but no %s;"
				    " add %s", gpath,
				    config_setting_get_string(got[0]),
				    listen_fields[i].name,
				    listen_fields[i].example);
	}
	err = absolute_in_dir(&lc->certificate, ld->dir,
			      config_setting_get_string(got[2]));
	if (!err)
		err = absolute_in_dir(&lc->key, ld->dir,
				      config_setting_get_string(got[3]));
	if (err) {
		lc->certificate = mem_deref(lc->certificate);
		lc->key = mem_deref(lc->key);
	}
	return err;
}


static int load_listen_entry(struct loader *ld, const config_setting_t *e,
			     unsigned idx)
{
	struct locus_config *cfg = ld->cfg;
	const config_setting_t *got[MAX_FIELDS];
	struct listen_cfg lc;
	char gpath[32];
	int err;

	(void)snprintf(gpath, sizeof(gpath), "listen[%u]", idx);
	if (!config_setting_is_group(e)) {
		return fail(ld, e, "%s must be a group (got %s); write e.g. %s",
			    gpath, type_name(config_setting_type(e)),
			    LISTEN_EXAMPLE);
	}

	err = collect(ld, e, gpath, listen_fields,
		      ARRAY_SIZE(listen_fields), got);
	err = err ? err : parse_transport(ld, got[0], gpath, &lc.tp);
	err = err ? err : parse_listen_addr(ld, got[1], gpath, &lc.addr);
	err = err ? err : load_tls_files(ld, e, got, gpath, &lc);
	if (err)
		return err;

	for (size_t j = 0; j < cfg->listenc; j++) {
		const struct listen_cfg *o = &cfg->listen[j];

		if (!sa_cmp(&o->addr, &lc.addr, SA_ALL))
			continue;
		if (o->tp == lc.tp || (transport_stream(o->tp) &&
				       transport_stream(lc.tp))) {
			mem_deref(lc.certificate);
			mem_deref(lc.key);
			return fail(ld, got[1], "%s uses the address of"
				    " listen[%zu]%s; give one of them another"
				    " port", gpath, j, o->tp == lc.tp ? ""
				    : " (tcp, tls, ws and wss each need a TCP"
				    " port of their own)");
		}
	}
	cfg->listen[cfg->listenc++] = lc;
	return 0;
}


static int load_listen(struct loader *ld, const config_setting_t *s,
		       const config_setting_t **got)
{
	int n, err;

	if (!config_setting_is_list(s)) {
		return fail(ld, s, "listen must be a list of groups (got %s);"
			    " write e.g. listen = ( " LISTEN_EXAMPLE " );",
			    type_name(config_setting_type(s)));
	}
	n = config_setting_length(s);
	if (n == 0) {
		return fail(ld, s, "listen is empty; add at least one socket,"
			    " e.g. listen = ( " LISTEN_EXAMPLE " );");
	}

	ld->cfg->listen = mem_zalloc(n * sizeof(struct listen_cfg), NULL);
	if (!ld->cfg->listen)
		return ENOMEM;

	for (int i = 0; i < n; i++) {
		err = load_listen_entry(ld, config_setting_get_elem(s, i), i);
		if (err)
			return err;
	}
	return 0;
}


/* ---- database ------------------------------------------------------- */

static const struct field database_fields[] = {
	{"conninfo", CONFIG_TYPE_STRING, true,
	 "conninfo = \"host=/path/to/socketdir dbname=locus\";"},
};


/* A conninfo value is split on spaces and quotes; a directory holding
 * them would silently turn into a different connection string. */
static int check_dir_usable(struct loader *ld, const config_setting_t *s)
{
	if (!strpbrk(ld->dir, " \t'\"\\"))
		return 0;

	return fail(ld, s, "database.conninfo uses " CONFIG_DIR_VAR ", but"
		    " it expands to '%s', which holds a space, quote or"
		    " backslash; write the socket directory as an absolute"
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

			return fail(ld, s, "unknown variable '%.*s' in"
				    " database.conninfo; the only one"
				    " supported is " CONFIG_DIR_VAR, len, v);
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


/* ---- registrar ------------------------------------------------------ */

#define REG_FIELD(n, lo, hi, def) \
	{#n, CONFIG_TYPE_INT, false, #n " = " #def ";", lo, hi, def, \
	 offsetof(struct locus_config, n)}

static const struct field registrar_fields[] = {
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

	return fail(ld, blame, "registrar.%s (%u%s) must not exceed"
		    " registrar.%s (%u%s); raise %s or lower %s",
		    registrar_fields[lo].name, v[lo],
		    got[lo] ? "" : ", the default",
		    registrar_fields[hi].name, v[hi],
		    got[hi] ? "" : ", the default",
		    registrar_fields[hi].name, registrar_fields[lo].name);
}


static int load_registrar(struct loader *ld, const config_setting_t *s,
			  const config_setting_t **got)
{
	uint32_t v[ARRAY_SIZE(registrar_fields)];
	int err;

	for (size_t i = 0; i < ARRAY_SIZE(registrar_fields); i++) {
		const struct field *f = &registrar_fields[i];

		err = int_field(ld, "registrar", f, got[i], &v[i]);
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


/* ---- proxy ---------------------------------------------------------- */

/* RFC 3261 §16.8: Timer C "MUST be set for a value greater than 3
 * minutes"; a shorter one is allowed here for labs, but never below the
 * 32 s of Timer B. */
static const struct field proxy_fields[] = {
	{"relay", CONFIG_TYPE_BOOL, false, "relay = false;"},
	{"timer_c", CONFIG_TYPE_INT, false, "timer_c = 180;", 32, 3600, 180,
	 offsetof(struct locus_config, timer_c)},
};


static int load_proxy(struct loader *ld, const config_setting_t *s,
		      const config_setting_t **got)
{
	ld->cfg->relay = got[0] ? config_setting_get_bool(got[0]) : false;
	return int_field(ld, "proxy", &proxy_fields[1], got[1],
			 &ld->cfg->timer_c);
}


/* ---- auth ----------------------------------------------------------- */

static const struct field auth_fields[] = {
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
		return fail(ld, s, "auth.algorithms must name one or two of"
			    " \"SHA-256\" and \"MD5\"; write e.g. %s",
			    auth_fields[1].example);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *name = config_setting_get_string(e);
		int alg = !name ? -1 : !strcasecmp(name, "SHA-256") ?
			DIGEST_SHA256 : !strcasecmp(name, "MD5") ?
			DIGEST_MD5 : -1;

		if (alg < 0 || (i == 1 && cfg->auth_algs[0] == alg))
			return fail(ld, e, "auth.algorithms[%d] must be"
				    " \"SHA-256\" or \"MD5\", each once; write"
				    " e.g. %s", i, auth_fields[1].example);
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
			return fail(ld, e, "auth.trusted[%d] must be an IP"
				    " address; write it as a string without port"
				    " or name, e.g. %s", i, auth_fields[3].example);
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
		err = int_field(ld, "auth", &auth_fields[2], got[2],
				&ld->cfg->nonce_lifetime);
	if (!err)
		err = load_trusted(ld, got[3]);
	if (!err)
		err = int_field(ld, "auth", &auth_fields[4], got[4],
				&ld->cfg->fail_limit);
	if (!err)
		err = int_field(ld, "auth", &auth_fields[5], got[5],
				&ld->cfg->fail_window);
	return err;
}


/* ---- gruu, log ------------------------------------------------------ */

static const struct field gruu_fields[] = {
	{"key_file", CONFIG_TYPE_STRING, true,
	 "key_file = \"gruu.key\";"},
};


static int load_gruu(struct loader *ld, const config_setting_t *s,
		     const config_setting_t **got)
{
	return absolute_in_dir(&ld->cfg->gruu_key_file, ld->dir,
			       config_setting_get_string(got[0]));
}


static const struct field log_fields[] = {
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
		return fail(ld, got[0], "log.level '%s' is not a log level;"
			    " use one of: \"%s\", \"%s\", \"%s\", \"%s\"", name,
			    log_level_name(LOG_LEVEL_DEBUG),
			    log_level_name(LOG_LEVEL_INFO),
			    log_level_name(LOG_LEVEL_WARN),
			    log_level_name(LOG_LEVEL_ERROR));
	}
	ld->cfg->log_level = (enum log_level)level;
	return 0;
}


/* ---- the file ------------------------------------------------------- */

#define FIELDS(t) t, ARRAY_SIZE(t)

/* The order of this table is the order errors are looked for. */
static const struct section sections[] = {
	{"domains", true, "domains = [ \"example.com\" ];",
	 NULL, 0, load_domains},
	{"listen", true, "listen = ( " LISTEN_EXAMPLE " );",
	 NULL, 0, load_listen},
	{"database", true, "database = { conninfo = \"host=/path/to/socketdir"
	 " dbname=locus\"; };", FIELDS(database_fields), load_database},
	{"registrar", false, "registrar = { min_expires = 60; };",
	 FIELDS(registrar_fields), load_registrar},
	{"proxy", false, "proxy = { relay = false; timer_c = 180; };",
	 FIELDS(proxy_fields), load_proxy},
	{"auth", false, "auth = { enabled = true; };",
	 FIELDS(auth_fields), load_auth},
	{"gruu", true, "gruu = { key_file = \"gruu.key\"; };",
	 FIELDS(gruu_fields), load_gruu},
	{"log", false, "log = { level = \"info\"; };",
	 FIELDS(log_fields), load_log},
};


static int load_section(struct loader *ld, const config_setting_t *root,
			const struct section *sec)
{
	const config_setting_t *got[MAX_FIELDS] = {NULL};
	const config_setting_t *s = config_setting_get_member(root, sec->name);
	int err;

	if (!s && sec->required) {
		return fail(ld, NULL, "missing required setting '%s'; add %s",
			    sec->name, sec->example);
	}
	if (s && sec->fields && !config_setting_is_group(s)) {
		return fail(ld, s, "%s must be a group (got %s); write e.g. %s",
			    sec->name, type_name(config_setting_type(s)),
			    sec->example);
	}
	if (s && sec->fields) {
		err = collect(ld, s, sec->name, sec->fields, sec->fieldc, got);
		if (err)
			return err;
	}
	return sec->load(ld, s, got);
}


static int load_all(struct loader *ld)
{
	const config_setting_t *root = config_root_setting(&ld->lc);
	const char *names[ARRAY_SIZE(sections)];
	int err;

	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		names[i] = sections[i].name;

	err = check_keys(ld, root, NULL, names, ARRAY_SIZE(names));

	for (size_t i = 0; !err && i < ARRAY_SIZE(sections); i++)
		err = load_section(ld, root, &sections[i]);

	return err;
}


/* Checked before libconfig sees the file: libconfig reports only "file
 * I/O error", with no errno and no file name. */
static int check_readable(struct loader *ld)
{
	struct stat st;
	FILE *f;
	int err = 0;

	f = fopen(ld->path, "r");
	if (!f)
		err = errno;
	else if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode))
		err = EISDIR;
	if (f)
		(void)fclose(f);

	if (err && ld->errbuf && ld->errsz) {
		(void)snprintf(ld->errbuf, ld->errsz, "%s: cannot read: %s;"
			       " pass an existing file with -f", ld->path,
			       strerror(err));
		one_line(ld->errbuf);
	}
	return err;
}


static int find_dir(struct loader *ld)
{
	char *copy = strdup(ld->path);
	int err = 0;

	if (!copy)
		return ENOMEM;

	ld->dir = realpath(dirname(copy), NULL);
	if (!ld->dir) {
		err = errno;
		if (ld->errbuf && ld->errsz)
			(void)snprintf(ld->errbuf, ld->errsz, "%s: cannot"
				       " resolve its directory: %s; pass an"
				       " existing file with -f", ld->path,
				       strerror(err));
	}
	free(copy);
	return err;
}


static int parse_file(struct loader *ld)
{
	const char *file;

	config_set_include_dir(&ld->lc, ld->dir);
	if (config_read_file(&ld->lc, ld->path))
		return 0;

	if (!ld->errbuf || !ld->errsz)
		return EINVAL;

	file = config_error_file(&ld->lc);
	(void)snprintf(ld->errbuf, ld->errsz, "%s:%d: syntax error: %s; fix"
		       " the libconfig syntax at or just before that line",
		       file ? file : ld->path, config_error_line(&ld->lc),
		       config_error_text(&ld->lc));
	one_line(ld->errbuf);
	return EINVAL;
}


static void config_destructor(void *arg)
{
	struct locus_config *cfg = arg;

	for (size_t i = 0; i < cfg->domainc; i++)
		mem_deref(cfg->domains[i]);
	for (size_t i = 0; i < cfg->listenc; i++) {
		mem_deref(cfg->listen[i].certificate);
		mem_deref(cfg->listen[i].key);
	}
	mem_deref(cfg->domains);
	mem_deref(cfg->listen);
	mem_deref(cfg->db_conninfo);
	mem_deref(cfg->gruu_key_file);
	mem_deref(cfg->trusted);
	mem_deref(cfg->path);
}


int config_load(struct locus_config **cfgp, const char *path,
		char *errbuf, size_t errsz)
{
	struct loader ld = {.path = path, .errbuf = errbuf, .errsz = errsz};
	int err;

	if (errbuf && errsz)
		errbuf[0] = '\0';
	if (!cfgp || !path || !*path) {
		if (errbuf && errsz)
			(void)snprintf(errbuf, errsz, "no configuration file"
				       " given; pass one with -f");
		return EINVAL;
	}

	err = check_readable(&ld);
	err = err ? err : find_dir(&ld);
	if (err)
		goto out;

	ld.cfg = mem_zalloc(sizeof(*ld.cfg), config_destructor);
	if (!ld.cfg || str_dup(&ld.cfg->path, path)) {
		err = ENOMEM;
		goto out;
	}

	config_init(&ld.lc);
	err = parse_file(&ld);
	err = err ? err : load_all(&ld);
	config_destroy(&ld.lc);

 out:
	if (err == ENOMEM && errbuf && errsz && !errbuf[0])
		(void)snprintf(errbuf, errsz, "%s: out of memory", path);
	if (err)
		mem_deref(ld.cfg);
	else
		*cfgp = ld.cfg;
	free(ld.dir);
	return err;
}


/* RFC 3261 §19.1.4 compares hosts case-insensitively; a fully qualified
 * name with its trailing dot ("example.com.") is the same DNS name. */
const char *config_our_domain(const struct locus_config *cfg,
			      const struct pl *domain)
{
	struct pl name;

	if (!cfg || !pl_isset(domain))
		return NULL;
	name = *domain;
	if (name.l > 1 && name.p[name.l - 1] == '.')
		--name.l;

	for (size_t i = 0; i < cfg->domainc; i++) {
		if (0 == pl_strcasecmp(&name, cfg->domains[i]))
			return cfg->domains[i];
	}
	return NULL;
}


bool config_is_our_domain(const struct locus_config *cfg,
			  const struct pl *domain)
{
	return config_our_domain(cfg, domain) != NULL;
}


bool config_is_trusted(const struct locus_config *cfg, const struct sa *src)
{
	for (size_t i = 0; i < cfg->trustedc; i++)
		if (sa_cmp(&cfg->trusted[i], src, SA_ADDR))
			return true;
	return false;
}

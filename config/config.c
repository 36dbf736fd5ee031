/* Reads one libconfig file into a validated struct locus_config: opens
 * and parses the file, then hands each top-level setting to the section
 * that reads it (listen.c, sections.c), checked by the table-driven
 * validator (validator.c).  Also answers the questions the rest of locus
 * asks of the result.
 *
 * The loader is strict on purpose: a misspelt key or a value of the wrong
 * type is an error, never a silent fall-back to a default, because a
 * registrar that quietly runs with max_expires = 3600 when the operator
 * wrote "max_expire = 60" is worse than one that refuses to start.  Every
 * error is one line, "FILE:LINE: what is wrong; what to change", and the
 * first error found is the one reported, in a fixed order: unknown
 * top-level keys, then the sections in the order of the sections[] table.
 * The config file's directory is libconfig's @include directory, and
 * relative paths in the file (TLS files, gruu.key_file) are taken
 * relative to it: the file works from any working directory.
 *
 * Adding a setting: add a row to the section's fields[] table (name, type,
 * example); registrar integers are then stored by the table alone, others
 * are read in the section's loader.  Adding a section (say, presence): a
 * fields[] table, a loader and a struct section next to them, declared in
 * section.h, and a row in sections[] below.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <libconfig.h>
#include <re.h>
#include "config/config.h"
#include "config/section.h"


/* ---- for the sections ----------------------------------------------- */

int loader_path(struct loader *ld, char **outp, const char *path)
{
	if (path[0] == '/')
		return str_dup(outp, path);

	return re_sdprintf(outp, "%s/%s", ld->dir, path);
}


/* ---- the file ------------------------------------------------------- */

/* The order of this table is the order errors are looked for. */
static const struct section *const sections[] = {
	&section_domains,
	&section_listen,
	&section_database,
	&section_registrar,
	&section_proxy,
	&section_auth,
	&section_gruu,
	&section_log,
	&section_features,
	&section_intercom,
	&section_metrics,
	&section_trace,
};


static int load_section(struct loader *ld, const config_setting_t *root,
			const struct section *sec)
{
	const config_setting_t *got[VALIDATOR_MAX_FIELDS] = {NULL};
	const config_setting_t *s = config_setting_get_member(root, sec->name);
	int err;

	if (!s && sec->required) {
		return validator_fail(&ld->v, NULL, "missing required setting"
				      " '%s'; add %s", sec->name,
				      sec->example);
	}
	if (s && sec->fields && !config_setting_is_group(s)) {
		return validator_fail(&ld->v, s, "%s must be a group (got %s);"
				      " write e.g. %s", sec->name,
				      validator_type_name(
					      config_setting_type(s)),
				      sec->example);
	}
	if (s && sec->fields) {
		err = validator_group(&ld->v, s, sec->name, sec->fields,
				      sec->fieldc, got);
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
		names[i] = sections[i]->name;

	err = validator_keys(&ld->v, root, NULL, names, ARRAY_SIZE(names));

	for (size_t i = 0; !err && i < ARRAY_SIZE(sections); i++)
		err = load_section(ld, root, sections[i]);

	return err;
}


/* Checked before libconfig sees the file: libconfig reports only "file
 * I/O error", with no errno and no file name. */
static int check_readable(struct loader *ld)
{
	struct stat st;
	FILE *f;
	int err = 0;

	f = fopen(ld->v.path, "r");
	if (!f)
		err = errno;
	else if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode))
		err = EISDIR;
	if (f)
		(void)fclose(f);

	if (err)
		(void)validator_report(&ld->v, ld->v.path, 0, "cannot read:"
				       " %s; pass an existing file with -f",
				       strerror(err));
	return err;
}


static int find_dir(struct loader *ld)
{
	char *copy = strdup(ld->v.path);
	int err = 0;

	if (!copy)
		return ENOMEM;

	ld->dir = realpath(dirname(copy), NULL);
	if (!ld->dir) {
		err = errno;
		(void)validator_report(&ld->v, ld->v.path, 0, "cannot resolve"
				       " its directory: %s; pass an existing"
				       " file with -f", strerror(err));
	}
	free(copy);
	return err;
}


static int parse_file(struct loader *ld)
{
	const char *file;

	config_set_include_dir(&ld->lc, ld->dir);
	if (config_read_file(&ld->lc, ld->v.path))
		return 0;

	file = config_error_file(&ld->lc);
	return validator_report(&ld->v, file ? file : ld->v.path,
				(unsigned)config_error_line(&ld->lc),
				"syntax error: %s; fix the libconfig syntax"
				" at or just before that line",
				config_error_text(&ld->lc));
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
	mem_deref(cfg->park.auto_number);
	mem_deref(cfg->trusted);
	config_intercom_free(cfg);
	mem_deref(cfg->edge_registrar);
	mem_deref(cfg->dns_servers);
	mem_deref(cfg->path);
}


int config_load(struct locus_config **cfgp, const char *path,
		char *errbuf, size_t errsz)
{
	struct loader ld = {
		.v = {.path = path, .errbuf = errbuf, .errsz = errsz}
	};
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

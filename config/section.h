/* One top-level setting of the locus configuration ("listen", "auth",
 * ...) as config.c hands it to the file that reads it: each section
 * describes itself with a struct section and fills its part of struct
 * locus_config through struct loader.  Internal to config/. */
#ifndef LOCUS_CONFIG_SECTION_H
#define LOCUS_CONFIG_SECTION_H

#include <libconfig.h>
#include "config/config.h"
#include "config/validator.h"

/* The state of one config_load(). */
struct loader {
	struct validator v;     /* v.path: the file as given */
	char *dir;              /* absolute directory of the file (malloc) */
	config_t lc;
	struct locus_config *cfg;
};

/* Reads section S (NULL when absent and optional) into ld->cfg.  When
 * the section has fields, S has been checked against them and got[i] is
 * the member for fields[i], or NULL. */
typedef int (section_load_h)(struct loader *ld, const config_setting_t *s,
			     const config_setting_t **got);

/* If fields is set, the setting must be a group and its members are
 * checked against fields before load is called. */
struct section {
	const char *name;
	bool required;
	const char *example;    /* what to write, quoted in errors */
	const struct field_rule *fields;
	size_t fieldc;
	section_load_h *load;
};

extern const struct section section_domains;    /* sections.c */
extern const struct section section_listen;     /* listen.c   */
extern const struct section section_database;   /* sections.c */
extern const struct section section_registrar;
extern const struct section section_proxy;
extern const struct section section_auth;
extern const struct section section_gruu;
extern const struct section section_log;
extern const struct section section_features;   /* intercom.c */
extern const struct section section_intercom;

/* Frees what section_features and section_intercom allocated. */
void config_intercom_free(struct locus_config *cfg);

/* features.park (park.c): S is the park group. */
int config_park_load(struct loader *ld, const config_setting_t *s);

extern const struct section section_metrics;    /* ops.c      */
extern const struct section section_trace;

/* PATH as is if absolute, else relative to the config file's directory
 * (a mem_deref()-able string in *outp). */
int loader_path(struct loader *ld, char **outp, const char *path);

/* NULL when STR is "IPv4:port" or "[IPv6]:port" with a literal address
 * and a port from 1 to 65535 (then in *SA); else what is wrong and how to
 * write it, for "<setting> '<STR>' <problem>".  Wildcards pass. */
const char *loader_addr_problem(struct sa *sa, const char *str);

#endif

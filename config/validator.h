/* A table-driven validator for libconfig groups: unknown keys (with a
 * "did you mean" for close typos), required members, types and integer
 * ranges, each rejection one line "FILE:LINE: what is wrong; what to
 * change".  It knows nothing of locus's settings: callers describe a
 * group with a table of struct field_rule and read the values it let
 * through. */
#ifndef LOCUS_CONFIG_VALIDATOR_H
#define LOCUS_CONFIG_VALIDATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libconfig.h>

/* The most members a table may describe (the size of a got[] array). */
#define VALIDATOR_MAX_FIELDS 8

/* Where rejections go: the first one is written to errbuf (if given) and
 * every check returns EINVAL once it has written it. */
struct validator {
	const char *path;       /* blamed when a setting names no file */
	char *errbuf;
	size_t errsz;
};

/* One member of a group.  Integers also carry their range, the value
 * used when the member is absent and, for callers that store through
 * the table, the offset of a uint32_t in the struct being filled. */
struct field_rule {
	const char *name;
	int type;               /* CONFIG_TYPE_STRING, _INT, _BOOL, _ARRAY */
	bool required;
	const char *example;    /* what to write, quoted in errors */
	uint32_t lo, hi, def;
	size_t off;
};

/* Writes "FILE:LINE: " (or "FILE: " when LINE is 0) and the message
 * into v->errbuf, on one line whatever the message quotes.  Returns
 * EINVAL. */
int validator_report(struct validator *v, const char *file, unsigned line,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* As validator_report(), blaming setting S (its file and line), or line 1
 * of v->path when S is NULL. */
int validator_fail(struct validator *v, const config_setting_t *s,
		   const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "an integer", "a string", ...: for "must be X (got Y)". */
const char *validator_type_name(int type);

/* Rejects the first member of GRP, in file order, whose name is not one
 * of KNOWN; the message lists KNOWN and suggests the closest if it is
 * within a typo or two.  GPATH names the group ("registrar", "listen[1]")
 * or is NULL for the top level. */
int validator_keys(struct validator *v, const config_setting_t *grp,
		   const char *gpath, const char *const *known, size_t n);

/* Checks GRP against the FC rules of FV: no unknown keys, required
 * members present, types right, strings not empty.  got[i] is then the
 * member for FV[i], or NULL when absent. */
int validator_group(struct validator *v, const config_setting_t *grp,
		    const char *gpath, const struct field_rule *fv,
		    size_t fc, const config_setting_t **got);

/* The integer S (a member validator_group() let through) within
 * [f->lo, f->hi], or f->def when S is NULL. */
int validator_int(struct validator *v, const char *gpath,
		  const struct field_rule *f, const config_setting_t *s,
		  uint32_t *valp);

#endif

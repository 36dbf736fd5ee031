/* The table-driven validator of config/validator.h.
 *
 * Strict on purpose: a misspelt key or a value of the wrong type is an
 * error, never a silent fall-back to a default.  The first error found is
 * the one reported, so every check returns as soon as it has written one.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <re.h>
#include "config/validator.h"

#define MAX_EDIT_DIST 2         /* "did you mean" only for close typos */


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


static int vreport(struct validator *v, const char *file, unsigned line,
		   const char *fmt, va_list ap)
{
	int n;

	if (!v->errbuf || !v->errsz)
		return EINVAL;

	n = line ? snprintf(v->errbuf, v->errsz, "%s:%u: ", file, line)
		: snprintf(v->errbuf, v->errsz, "%s: ", file);
	if (n >= 0 && (size_t)n < v->errsz)
		(void)vsnprintf(v->errbuf + n, v->errsz - n, fmt, ap);
	one_line(v->errbuf);
	return EINVAL;
}


int validator_report(struct validator *v, const char *file, unsigned line,
		     const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = vreport(v, file, line, fmt, ap);
	va_end(ap);
	return err;
}


int validator_fail(struct validator *v, const config_setting_t *s,
		   const char *fmt, ...)
{
	const char *file = v->path;
	unsigned line = 1;      /* no setting to blame: the top of the file */
	va_list ap;
	int err;

	if (s && config_setting_source_file(s))
		file = config_setting_source_file(s);
	if (s && config_setting_source_line(s))
		line = config_setting_source_line(s);

	va_start(ap, fmt);
	err = vreport(v, file, line, fmt, ap);
	va_end(ap);
	return err;
}


const char *validator_type_name(int type)
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


/* ---- unknown keys --------------------------------------------------- */

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
			size_t val, cost;

			if (!i || !j) {
				d[i][j] = (unsigned char)(i + j);
				continue;
			}
			cost = a[i-1] != b[j-1];
			val = MIN(d[i-1][j] + 1u, d[i][j-1] + 1u);
			val = MIN(val, d[i-1][j-1] + cost);
			if (i > 1 && j > 1 && a[i-1] == b[j-2]
			    && a[i-2] == b[j-1])
				val = MIN(val, d[i-2][j-2] + 1u);
			d[i][j] = (unsigned char)val;
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


static int unknown_key(struct validator *v, const config_setting_t *s,
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

	return validator_fail(v, s, "unknown setting '%s'%s%s; known"
			      " settings here are: %s%s%s%s", name,
			      gpath ? " in " : "", gpath ? gpath : "", list,
			      best ? "; did you mean '" : "",
			      best ? best : "", best ? "'?" : "");
}


int validator_keys(struct validator *v, const config_setting_t *grp,
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
			return unknown_key(v, s, gpath, known, n);
	}
	return 0;
}


/* ---- members of a group --------------------------------------------- */

static bool type_ok(int want, int got)
{
	return want == got ||
		(want == CONFIG_TYPE_INT && got == CONFIG_TYPE_INT64) ||
		(want == CONFIG_TYPE_ARRAY && got == CONFIG_TYPE_LIST);
}


static int check_member(struct validator *v, const config_setting_t *grp,
			const char *gpath, const struct field_rule *f,
			const config_setting_t *s)
{
	if (!s && f->required) {
		return validator_fail(v, grp, "missing required setting"
				      " '%s.%s'; add %s inside the %s group",
				      gpath, f->name, f->example, gpath);
	}
	if (!s)
		return 0;

	if (!type_ok(f->type, config_setting_type(s))) {
		return validator_fail(v, s, "%s.%s must be %s (got %s);"
				      " write e.g. %s", gpath, f->name,
				      validator_type_name(f->type),
				      validator_type_name(
					      config_setting_type(s)),
				      f->example);
	}
	if (f->type == CONFIG_TYPE_STRING &&
	    !*config_setting_get_string(s)) {
		return validator_fail(v, s, "%s.%s must not be empty; write"
				      " e.g. %s", gpath, f->name, f->example);
	}
	return 0;
}


int validator_group(struct validator *v, const config_setting_t *grp,
		    const char *gpath, const struct field_rule *fv,
		    size_t fc, const config_setting_t **got)
{
	/* all of it set: only fc are read, but gcc cannot see that through
	 * the const pointer handed to validator_keys() */
	const char *names[VALIDATOR_MAX_FIELDS] = {NULL};
	int err;

	if (fc > VALIDATOR_MAX_FIELDS)
		return ENOTSUP;

	for (size_t i = 0; i < fc; i++)
		names[i] = fv[i].name;

	err = validator_keys(v, grp, gpath, names, fc);
	if (err)
		return err;

	for (size_t i = 0; i < fc; i++) {
		got[i] = config_setting_get_member(grp, fv[i].name);
		err = check_member(v, grp, gpath, &fv[i], got[i]);
		if (err)
			return err;
	}
	return 0;
}


/* libconfig 1.5 wraps an unsuffixed integer beyond 32 bits without an
 * error; the range check catches most such wraps, not all. */
int validator_int(struct validator *v, const char *gpath,
		  const struct field_rule *f, const config_setting_t *s,
		  uint32_t *valp)
{
	long long val;

	if (!s) {
		*valp = f->def;
		return 0;
	}

	val = config_setting_get_int64(s);
	if (val < f->lo || val > f->hi) {
		return validator_fail(v, s, "%s.%s must be between %u and %u"
				      " (got %lld); change it to a value in"
				      " that range, e.g. %s", gpath, f->name,
				      f->lo, f->hi, val, f->example);
	}
	*valp = (uint32_t)val;
	return 0;
}

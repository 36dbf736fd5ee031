/* Header and URI parameter lists (";name[=value]...", RFC 3261 §25.1
 * generic-param and uri-parameter) read as SIP writes them: quoted
 * strings honoured, names compared without case. */
#ifndef LOCUS_PARAM_H
#define LOCUS_PARAM_H

#include <re.h>

/* Called for each ";name[=value]" of a parameter list.  VAL is empty
 * (pl_isset false) for a parameter without a value; quoted values keep
 * their quotes.  Return non-zero to stop the iteration. */
typedef int (sipparam_h)(const struct pl *name, const struct pl *val,
			 void *arg);

/*
 * Iterates the parameters in PARAMS (";a=1;b;c=\"x;y\"").  Unlike
 * msg_param_decode() it honours quoted strings, so a ';' inside quotes does
 * not split.  Returns EBADMSG for an empty parameter name or an unclosed
 * quote, otherwise the first non-zero value returned by H, or 0.
 */
int sipparam_apply(const struct pl *params, sipparam_h *h, void *arg);

/* Finds parameter NAME (case-insensitive) in PARAMS; 0 and *val set, or
 * ENOENT. */
int sipparam_get(const struct pl *params, const char *name, struct pl *val);

#endif

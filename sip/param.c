#include <ctype.h>
#include <re.h>
#include "sip/param.h"


/* Splits one ";name[=value]" off the front of *rest.  Quoted strings are
 * skipped as a whole so that ';' or '=' inside them do not count. */
static int param_next(struct pl *rest, struct pl *name, struct pl *val)
{
	const char *p = rest->p, *end = rest->p + rest->l;
	const char *eq = NULL;
	bool quoted = false;

	while (p < end && (*p == ';' || isspace((unsigned char)*p)))
		++p;
	const char *start = p;

	for (; p < end; ++p) {
		if (quoted) {
			if (*p == '\\' && p + 1 < end)
				++p;
			else if (*p == '"')
				quoted = false;
			continue;
		}
		if (*p == '"')
			quoted = true;
		else if (*p == '=' && !eq)
			eq = p;
		else if (*p == ';')
			break;
	}
	if (quoted)
		return EBADMSG;

	const char *name_end = eq ? eq : p;
	name->p = start;
	name->l = (size_t)(name_end - start);
	while (name->l && isspace((unsigned char)name->p[name->l - 1]))
		--name->l;

	if (eq) {
		val->p = eq + 1;
		val->l = (size_t)(p - val->p);
		while (val->l && isspace((unsigned char)*val->p))
			pl_advance(val, 1);
		while (val->l && isspace((unsigned char)val->p[val->l - 1]))
			--val->l;
	}
	else {
		*val = pl_null;
	}

	rest->l = (size_t)(end - p);
	rest->p = p;

	return name->l ? 0 : EBADMSG;
}


int sipparam_apply(const struct pl *params, sipparam_h *h, void *arg)
{
	struct pl rest, name, val;

	if (!params || !params->p)
		return 0;

	rest = *params;
	for (;;) {
		/* trailing ";" and whitespace are tolerated, as UAs send them */
		while (rest.l && (*rest.p == ';' || isspace((unsigned char)*rest.p)))
			pl_advance(&rest, 1);
		if (!rest.l)
			return 0;

		int err = param_next(&rest, &name, &val);
		if (err)
			return err;
		err = h(&name, &val, arg);
		if (err)
			return err;
	}
}


struct param_lookup {
	const char *name;
	struct pl *val;
};


static int lookup_handler(const struct pl *name, const struct pl *val,
			  void *arg)
{
	struct param_lookup *lk = arg;

	if (pl_strcasecmp(name, lk->name))
		return 0;
	*lk->val = *val;
	return EEXIST;   /* found: stop */
}


int sipparam_get(const struct pl *params, const char *name, struct pl *val)
{
	struct param_lookup lk = {name, val};

	return sipparam_apply(params, lookup_handler, &lk) == EEXIST
		? 0 : ENOENT;
}

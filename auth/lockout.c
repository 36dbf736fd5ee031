#include <re.h>
#include "common/aging.h"
#include "auth/limiter.h"
#include "auth/lockout.h"

enum {
	/* an address, a space and an AOR: the user name is at most a
	 * digest field (1024), the domain at most 253 characters */
	KEY_MAX = 1400,
	TRUST_BUCKETS = 1u << 14,
};

struct lockout {
	struct limiter *pairs;       /* "address AOR" */
	struct limiter *sources;     /* "address"     */
	struct limiter *aors;        /* "AOR"         */
	struct aging *trusted;       /* "address AOR" that authenticated */
};

struct trust {
	struct aging_entry ae;
};


static void lockout_destructor(void *arg)
{
	struct lockout *lo = arg;

	mem_deref(lo->pairs);
	mem_deref(lo->sources);
	mem_deref(lo->aors);
	mem_deref(lo->trusted);
}


static uint32_t aor_limit(uint32_t limit)
{
	return (uint32_t)MIN((uint64_t)limit * LOCKOUT_AOR_FACTOR, UINT32_MAX);
}


int lockout_alloc(struct lockout **lop, uint32_t limit, uint32_t window,
		  uint32_t max_keys)
{
	struct lockout *lo = mem_zalloc(sizeof(*lo), lockout_destructor);
	int err;

	if (!lo)
		return ENOMEM;
	err = limiter_alloc(&lo->pairs, limit, window, max_keys);
	if (!err)
		err = limiter_alloc(&lo->sources, limit, window, max_keys);
	if (!err)
		err = limiter_alloc(&lo->aors, aor_limit(limit), window,
				    max_keys);
	if (!err)
		err = aging_alloc(&lo->trusted, TRUST_BUCKETS, max_keys);
	if (err)
		mem_deref(lo);
	else
		*lop = lo;
	return err;
}


void lockout_set_limits(struct lockout *lo, uint32_t limit, uint32_t window)
{
	limiter_set(lo->pairs, limit, window);
	limiter_set(lo->sources, limit, window);
	limiter_set(lo->aors, aor_limit(limit), window);
}


static void keys_print(char src[KEY_MAX], char pair[KEY_MAX],
		       const char *aor, const struct sa *from)
{
	(void)re_snprintf(src, KEY_MAX, "%j", from);
	(void)re_snprintf(pair, KEY_MAX, "%s %s", src, aor);
}


static bool trusted(struct lockout *lo, const char *pair, uint64_t now)
{
	struct pl key;

	pl_set_str(&key, pair);
	return aging_find(lo->trusted, &key, now) != NULL;
}


enum lockout_rule lockout_check(struct lockout *lo, const char *aor,
				const struct sa *src, uint64_t now,
				bool *first)
{
	char source[KEY_MAX], pair[KEY_MAX];

	keys_print(source, pair, aor, src);
	if (limiter_blocked(lo->pairs, pair, now, first))
		return LOCKOUT_PAIR;
	if (trusted(lo, pair, now))
		return LOCKOUT_NONE;
	if (limiter_blocked(lo->sources, source, now, first))
		return LOCKOUT_SOURCE;
	if (limiter_blocked(lo->aors, aor, now, first))
		return LOCKOUT_AOR;
	return LOCKOUT_NONE;
}


void lockout_attempt(struct lockout *lo, const char *aor,
		     const struct sa *src, uint64_t now)
{
	char source[KEY_MAX], pair[KEY_MAX];

	keys_print(source, pair, aor, src);
	limiter_fail(lo->pairs, pair, now);
	limiter_fail(lo->sources, source, now);
	limiter_fail(lo->aors, aor, now);
}


void lockout_forgive(struct lockout *lo, const char *aor,
		     const struct sa *src, uint64_t now)
{
	char source[KEY_MAX], pair[KEY_MAX];

	keys_print(source, pair, aor, src);
	limiter_forgive(lo->pairs, pair, now);
	limiter_forgive(lo->sources, source, now);
	limiter_forgive(lo->aors, aor, now);
}


static void trust_destructor(void *arg)
{
	struct trust *t = arg;

	aging_entry_unlink(&t->ae);
}


/* A success renews the exemption once half of it has passed: the entry
 * is then added again, so that the table stays in the order its entries
 * fall due, but not for every request of a busy device. */
void lockout_success(struct lockout *lo, const char *aor,
		     const struct sa *src, uint64_t now)
{
	char source[KEY_MAX], pair[KEY_MAX];
	struct trust *t;
	struct pl key;

	lockout_forgive(lo, aor, src, now);
	keys_print(source, pair, aor, src);
	pl_set_str(&key, pair);
	t = aging_find(lo->trusted, &key, now);
	if (t && t->ae.until - now > LOCKOUT_TRUST_TIME / 2)
		return;
	mem_deref(t);
	t = mem_zalloc(sizeof(*t), trust_destructor);
	if (!t || aging_add(lo->trusted, &t->ae, t, &key,
			    now + LOCKOUT_TRUST_TIME))
		mem_deref(t);
}

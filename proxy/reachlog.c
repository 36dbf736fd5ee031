#include <re.h>
#include "common/aging.h"
#include "proxy/reachlog.h"

enum {
	REACHLOG_BUCKETS = 1u << 10,
	REACHLOG_MAX = 10000,          /* the oldest are forgotten first   */
	REACHLOG_SECONDS = 86400,
};

struct reachlog {
	struct aging *table;
};

struct failure {
	struct aging_entry ae;         /* keyed by the binding             */
};


static void reachlog_destructor(void *arg)
{
	struct reachlog *rl = arg;

	mem_deref(rl->table);
}


int reachlog_alloc(struct reachlog **rlp)
{
	struct reachlog *rl = mem_zalloc(sizeof(*rl), reachlog_destructor);
	int err;

	if (!rl)
		return ENOMEM;
	err = aging_alloc(&rl->table, REACHLOG_BUCKETS, REACHLOG_MAX);
	if (err)
		mem_deref(rl);
	else
		*rlp = rl;
	return err;
}


static void failure_destructor(void *arg)
{
	struct failure *f = arg;

	aging_entry_unlink(&f->ae);
}


bool reachlog_first(struct reachlog *rl, const char *binding)
{
	uint64_t now = tmr_jiffies() / 1000;
	struct failure *f;
	struct pl key;

	if (!rl || !binding)
		return true;
	pl_set_str(&key, binding);
	if (aging_find(rl->table, &key, now))
		return false;
	f = mem_zalloc(sizeof(*f), failure_destructor);
	if (f && aging_add(rl->table, &f->ae, f, &key,
			   now + REACHLOG_SECONDS))
		mem_deref(f);
	return true;
}

#include <string.h>
#include <time.h>
#include <re.h>
#include "location/location.h"
#include "location/expiry.h"

/* A bucket per AOR up to a million (16 MB; libre wants a power of 2).
 * With a quarter of that, loading 1,000,000 AORs at start-up spent 23%
 * of its CPU walking buckets: each AOR in one is a cache miss. */
enum { AOR_HASH_BUCKETS = 1u << 20 };

struct location {
	struct hash *aors;          /* struct aor, by key                   */
	struct expiry_heap heap;    /* every binding, soonest expiry first  */
	uint32_t aorc;
	uint32_t bindingc;
};


static void location_destructor(void *arg)
{
	struct location *loc = arg;

	/* AORs are owned by the hash; the heap only points at bindings. */
	expiry_heap_reset(&loc->heap);
	hash_flush(loc->aors);
	mem_deref(loc->aors);
}


int location_alloc(struct location **locp)
{
	struct location *loc;
	int err;

	loc = mem_zalloc(sizeof(*loc), location_destructor);
	if (!loc)
		return ENOMEM;

	err = hash_alloc(&loc->aors, AOR_HASH_BUCKETS);
	if (err) {
		mem_deref(loc);
		return err;
	}

	*locp = loc;
	return 0;
}


static void binding_path_destructor(void *arg)
{
	struct binding_path *path = arg;

	for (size_t i = 0; i < path->n; i++)
		mem_deref(path->v[i]);
}


int binding_path_alloc(struct binding_path **pathp, size_t n)
{
	struct binding_path *path;

	if (!pathp || !n)
		return EINVAL;
	path = mem_zalloc(sizeof(*path) + n * sizeof(path->v[0]),
			  binding_path_destructor);
	if (!path)
		return ENOMEM;
	path->n = n;
	*pathp = path;
	return 0;
}


int binding_path_print(struct re_printf *pf, const struct binding_path *path)
{
	int err = 0;

	for (size_t i = 0; path && i < path->n && !err; i++)
		err = re_hprintf(pf, "%s%s", i ? ", " : "", path->v[i]);
	return err;
}


static void binding_destructor(void *arg)
{
	struct binding *b = arg;

	list_unlink(&b->le);
	mem_deref(b->key);
	mem_deref(b->uri);
	mem_deref(b->params);
	mem_deref(b->instance);
	mem_deref(b->callid);
	mem_deref(b->path);
	mem_deref(b->user_agent);
}


int binding_alloc(struct binding **bp)
{
	struct binding *b = mem_zalloc(sizeof(*b), binding_destructor);

	if (!b)
		return ENOMEM;
	b->q = -1;
	b->heap_idx = (size_t)-1;
	*bp = b;
	return 0;
}


int binding_key_make(char **keyp, const char *instance, uint32_t reg_id,
		     const char *uri)
{
	if (instance)
		return re_sdprintf(keyp, "<%s>;reg-id=%u", instance, reg_id);
	return str_dup(keyp, uri);
}


static void instance_destructor(void *arg)
{
	struct instance_state *is = arg;

	list_unlink(&is->le);
	mem_deref(is->instance);
	mem_deref(is->callid);
}


static void aor_destructor(void *arg)
{
	struct aor *aor = arg;

	/* Reached for an AOR left empty (aor_release_if_empty), or when the
	 * whole location is torn down, after its heap. */
	hash_unlink(&aor->he);
	list_flush(&aor->bindings);
	list_flush(&aor->instances);
}


struct aor_probe {
	const char *key;
	uint32_t hash;
};


/* A million AORs are a million blocks scattered over the heap: every AOR
 * in a bucket that is compared costs a cache miss.  The hash, beside the
 * list links, turns away the others without reading their keys. */
static bool aor_key_cmp(struct le *le, void *arg)
{
	const struct aor *aor = le->data;
	const struct aor_probe *probe = arg;

	return aor->hash == probe->hash && 0 == strcmp(aor->key, probe->key);
}


static struct aor *aor_lookup(const struct location *loc,
			      const struct aor_probe *probe)
{
	struct le *le;

	le = hash_lookup(loc->aors, probe->hash, aor_key_cmp, (void *)probe);
	return le ? le->data : NULL;
}


struct aor *location_aor_find(const struct location *loc, const char *key)
{
	const struct aor_probe probe = {key, hash_joaat_str(key)};

	return aor_lookup(loc, &probe);
}


int location_aor_get(struct aor **aorp, struct location *loc,
		     const char *key)
{
	const struct aor_probe probe = {key, hash_joaat_str(key)};
	struct aor *aor = aor_lookup(loc, &probe);
	size_t len;

	if (!aor) {
		len = strlen(key);
		aor = mem_zalloc(sizeof(*aor) + len + 1, aor_destructor);
		if (!aor)
			return ENOMEM;
		memcpy(aor->key, key, len + 1);
		aor->hash = probe.hash;
		hash_append(loc->aors, probe.hash, &aor->he, aor);
		++loc->aorc;
	}

	*aorp = aor;
	return 0;
}


uint32_t location_aor_count(const struct location *loc)
{
	return loc->aorc;
}


uint32_t location_binding_count(const struct location *loc)
{
	return loc->bindingc;
}


/* An AOR that holds neither bindings nor GRUU state is forgotten. */
static void aor_release_if_empty(struct location *loc, struct aor *aor)
{
	if (aor->bindings.head || aor->instances.head)
		return;
	--loc->aorc;
	mem_deref(aor);
}


struct binding *aor_binding_find(const struct aor *aor, const char *key)
{
	for (struct le *le = aor->bindings.head; le; le = le->next) {
		struct binding *b = le->data;
		if (0 == strcmp(b->key, key))
			return b;
	}
	return NULL;
}


static void binding_unlink(struct location *loc, struct binding *b)
{
	expiry_heap_remove(&loc->heap, b);
	list_unlink(&b->le);
	b->aor = NULL;
	--loc->bindingc;
}


/* Most recently updated first: the proxy's GRUU routing takes the first
 * binding of an instance (RFC 5627 §5.3 "most recently refreshed"). */
static void insert_by_recency(struct aor *aor, struct binding *b)
{
	struct le *le;

	for (le = aor->bindings.head; le; le = le->next) {
		const struct binding *o = le->data;
		if (o->updated_ms < b->updated_ms)
			break;
	}
	if (le)
		list_insert_before(&aor->bindings, le, &b->le, b);
	else
		list_append(&aor->bindings, &b->le, b);
}


int location_binding_put(struct location *loc, struct aor *aor,
			 struct binding *b)
{
	struct binding *old = aor_binding_find(aor, b->key);
	int err;

	err = expiry_heap_push(&loc->heap, b);
	if (err)
		return err;

	if (old) {
		binding_unlink(loc, old);
		mem_deref(old);
	}

	b->aor = aor;
	insert_by_recency(aor, b);
	++loc->bindingc;
	return 0;
}


void location_binding_remove(struct location *loc, struct binding *b)
{
	struct aor *aor = b->aor;

	if (!aor)
		return;
	binding_unlink(loc, b);
	mem_deref(b);
	aor_release_if_empty(loc, aor);
}


struct instance_state *aor_instance_find(const struct aor *aor,
					 const char *instance)
{
	for (struct le *le = aor->instances.head; le; le = le->next) {
		struct instance_state *is = le->data;
		if (0 == strcmp(is->instance, instance))
			return is;
	}
	return NULL;
}


int location_instance_put(struct aor *aor, const char *instance,
			  uint64_t generation, const char *callid)
{
	struct instance_state *is = aor_instance_find(aor, instance);
	char *cid = NULL;
	int err;

	err = str_dup(&cid, callid ? callid : "");
	if (err)
		return err;

	if (!is) {
		is = mem_zalloc(sizeof(*is), instance_destructor);
		if (!is || str_dup(&is->instance, instance)) {
			mem_deref(is);
			mem_deref(cid);
			return ENOMEM;
		}
		list_append(&aor->instances, &is->le, is);
	}

	mem_deref(is->callid);
	is->callid = cid;
	is->generation = generation;
	return 0;
}


void location_aor_clear(struct location *loc, const char *key)
{
	struct aor *aor = location_aor_find(loc, key);
	struct le *le;

	if (!aor)
		return;
	list_flush(&aor->instances);
	while ((le = list_head(&aor->bindings))) {
		struct binding *b = le->data;
		binding_unlink(loc, b);
		mem_deref(b);
	}
	aor_release_if_empty(loc, aor);
}


struct aor_apply {
	location_aor_h *h;
	void *arg;
};


static bool aor_apply_handler(struct le *le, void *arg)
{
	struct aor_apply *ap = arg;

	return ap->h(le->data, ap->arg);
}


void location_aors_apply(const struct location *loc, location_aor_h *h,
			 void *arg)
{
	struct aor_apply ap = {h, arg};

	(void)hash_apply(loc->aors, aor_apply_handler, &ap);
}


uint32_t location_expire_each(struct location *loc, int64_t now,
			      location_expired_h *expiredh, void *arg)
{
	struct binding *b;
	uint32_t n = 0;

	while ((b = expiry_heap_top(&loc->heap)) && b->expires <= now) {
		if (expiredh)
			expiredh(b, arg);
		location_binding_remove(loc, b);
		++n;
	}
	return n;
}


uint32_t location_expire(struct location *loc, int64_t now)
{
	return location_expire_each(loc, now, NULL, NULL);
}


/* From the same clock as location_now_ms(): glibc's time() reads the
 * coarse clock, up to a tick behind, so near a second's turn a binding
 * stored at now_ms / 1000 = T+1 was listed at time() = T as expiring a
 * second later than max_expires allows. */
int64_t location_now(void)
{
	return location_now_ms() / 1000;
}


int64_t location_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Unit tests for location/expiry.c (the binary min-heap of bindings by
 * expiry) and location/location.c (the in-memory AOR index). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "location/expiry.h"
#include "location/location.h"
#include "unit_support.h"


/* Deterministic xorshift64*: the same sequence on every run. */
static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
	rng_state = seed ? seed : 0x9e3779b97f4a7c15ull;
}

static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}


/* ---- expiry heap ------------------------------------------------------ */

/* Every element knows its slot, and no child expires before its parent. */
static void heap_check(const struct expiry_heap *h)
{
	for (size_t i = 0; i < h->n; i++) {
		assert_ptr_equal(h->v[i], h->v[h->v[i]->heap_idx]);
		assert_int_equal(i, h->v[i]->heap_idx);
		if (i > 0)
			assert_true(h->v[(i - 1) / 2]->expires <=
				    h->v[i]->expires);
	}
}


/* Pops everything; checks non-decreasing order; returns how many. */
static size_t heap_drain(struct expiry_heap *h, int64_t *sum)
{
	int64_t last = INT64_MIN;
	size_t n = 0;
	struct binding *b;

	*sum = 0;
	while ((b = expiry_heap_top(h))) {
		assert_true(b->expires >= last);
		last = b->expires;
		*sum += b->expires;
		expiry_heap_remove(h, b);
		++n;
	}
	assert_int_equal(0, h->n);
	return n;
}


static struct binding *bindings_new(size_t n)
{
	struct binding *v = calloc(n, sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		v[i].heap_idx = (size_t)-1;
	return v;
}


static void test_heap_empty(void **state)
{
	struct expiry_heap h = {0};
	struct binding b = {.heap_idx = (size_t)-1, .expires = 5};
	(void)state;

	assert_null(expiry_heap_top(&h));
	/* removing what is not in the heap is a no-op */
	expiry_heap_remove(&h, &b);
	assert_int_equal(0, h.n);

	assert_int_equal(0, expiry_heap_push(&h, &b));
	assert_ptr_equal(&b, expiry_heap_top(&h));
	assert_int_equal(0, b.heap_idx);
	expiry_heap_remove(&h, &b);
	assert_null(expiry_heap_top(&h));
	/* removing twice is harmless */
	expiry_heap_remove(&h, &b);
	assert_int_equal(0, h.n);

	expiry_heap_reset(&h);
	assert_null(h.v);
	assert_int_equal(0, h.n);
	assert_int_equal(0, h.cap);
}


enum { HEAP_N = 20000 };

static void test_heap_random_order(void **state)
{
	struct expiry_heap h = {0};
	struct binding *v = bindings_new(HEAP_N);
	int64_t sum = 0, drained;
	int64_t min = INT64_MAX;
	(void)state;

	rng_seed(12345);
	for (size_t i = 0; i < HEAP_N; i++) {
		/* a small range, so that there are many ties */
		v[i].expires = 1700000000 + (int64_t)(rng_next() % 5000);
		sum += v[i].expires;
		if (v[i].expires < min)
			min = v[i].expires;
		assert_int_equal(0, expiry_heap_push(&h, &v[i]));
		assert_true(expiry_heap_top(&h)->expires <= v[i].expires);
	}
	assert_int_equal(HEAP_N, h.n);
	heap_check(&h);
	assert_int_equal(min, expiry_heap_top(&h)->expires);

	assert_int_equal(HEAP_N, heap_drain(&h, &drained));
	assert_true(sum == drained);

	expiry_heap_reset(&h);
	free(v);
}


static void test_heap_sorted_inputs(void **state)
{
	struct expiry_heap h = {0};
	struct binding *v = bindings_new(3000);
	int64_t drained;
	(void)state;

	/* descending input: every push sifts to the root */
	for (size_t i = 0; i < 3000; i++) {
		v[i].expires = 3000 - (int64_t)i;
		assert_int_equal(0, expiry_heap_push(&h, &v[i]));
		assert_ptr_equal(&v[i], expiry_heap_top(&h));
	}
	heap_check(&h);
	assert_int_equal(3000, heap_drain(&h, &drained));
	assert_true(drained == 3000 * 3001 / 2);

	/* ascending input: the first stays on top */
	for (size_t i = 0; i < 3000; i++) {
		v[i].expires = (int64_t)i;
		assert_int_equal(0, expiry_heap_push(&h, &v[i]));
		assert_ptr_equal(&v[0], expiry_heap_top(&h));
	}
	heap_check(&h);
	assert_int_equal(3000, heap_drain(&h, &drained));

	expiry_heap_reset(&h);
	free(v);
}


static void test_heap_remove_middle(void **state)
{
	enum { N = 12000 };
	struct expiry_heap h = {0};
	struct binding *v = bindings_new(N);
	bool *removed = calloc(N, sizeof(*removed));
	int64_t sum = 0, drained;
	size_t kept = N;
	(void)state;

	assert_non_null(removed);
	rng_seed(777);
	for (size_t i = 0; i < N; i++) {
		v[i].expires = (int64_t)(rng_next() % 100000);
		assert_int_equal(0, expiry_heap_push(&h, &v[i]));
	}

	/* remove a third, at random positions (root, leaves, middle) */
	for (size_t k = 0; k < N / 3; k++) {
		size_t i = (size_t)(rng_next() % N);
		if (removed[i])
			continue;
		expiry_heap_remove(&h, &v[i]);
		removed[i] = true;
		--kept;
		if (k % 1000 == 0)
			heap_check(&h);
	}
	/* the current root and the last slot explicitly */
	struct binding *top = expiry_heap_top(&h);
	removed[top - v] = true;
	expiry_heap_remove(&h, top);
	--kept;
	struct binding *last = h.v[h.n - 1];
	removed[last - v] = true;
	expiry_heap_remove(&h, last);
	--kept;

	assert_int_equal(kept, h.n);
	heap_check(&h);
	for (size_t i = 0; i < N; i++) {
		if (!removed[i])
			sum += v[i].expires;
	}

	/* what comes out is exactly what was kept, in order */
	assert_int_equal(kept, heap_drain(&h, &drained));
	assert_true(sum == drained);

	expiry_heap_reset(&h);
	free(removed);
	free(v);
}


static void test_heap_update(void **state)
{
	enum { N = 10000 };
	struct expiry_heap h = {0};
	struct binding *v = bindings_new(N);
	int64_t sum = 0, drained;
	(void)state;

	rng_seed(4242);
	for (size_t i = 0; i < N; i++) {
		v[i].expires = 1000 + (int64_t)(rng_next() % 100000);
		assert_int_equal(0, expiry_heap_push(&h, &v[i]));
	}

	/* the top moves far out: the next smallest takes its place */
	struct binding *top = expiry_heap_top(&h);
	top->expires = 10000000;
	expiry_heap_update(&h, top);
	assert_ptr_not_equal(top, expiry_heap_top(&h));
	heap_check(&h);

	/* a leaf becomes the soonest: it rises to the top */
	struct binding *leaf = h.v[h.n - 1];
	leaf->expires = 1;
	expiry_heap_update(&h, leaf);
	assert_ptr_equal(leaf, expiry_heap_top(&h));
	assert_int_equal(0, leaf->heap_idx);
	heap_check(&h);

	/* many random changes, both directions */
	for (size_t k = 0; k < 5000; k++) {
		struct binding *b = &v[rng_next() % N];
		b->expires = (int64_t)(rng_next() % 200000);
		expiry_heap_update(&h, b);
	}
	heap_check(&h);

	/* unchanged value: update is harmless */
	expiry_heap_update(&h, &v[17]);
	heap_check(&h);

	for (size_t i = 0; i < N; i++)
		sum += v[i].expires;
	assert_int_equal(N, heap_drain(&h, &drained));
	assert_true(sum == drained);

	expiry_heap_reset(&h);
	free(v);
}


/* ---- location ---------------------------------------------------------- */

static struct binding *mkbinding(const char *key, int64_t expires,
				 int64_t updated_ms)
{
	struct binding *b = NULL;

	assert_int_equal(0, binding_alloc(&b));
	assert_int_equal(-1, b->q);
	assert_int_equal((size_t)-1, b->heap_idx);
	assert_null(b->aor);
	assert_int_equal(0, str_dup(&b->key, key));
	assert_int_equal(0, str_dup(&b->uri, key));
	assert_int_equal(0, str_dup(&b->params, ""));
	assert_int_equal(0, str_dup(&b->callid, "cid"));
	b->cseq = 1;
	b->expires = expires;
	b->updated_ms = updated_ms;
	return b;
}


static struct aor *aor_get(struct location *loc, const char *key)
{
	struct aor *aor = NULL;

	assert_int_equal(0, location_aor_get(&aor, loc, key));
	assert_non_null(aor);
	assert_string_equal(key, aor->key);
	return aor;
}


static void put(struct location *loc, struct aor *aor, const char *key,
		int64_t expires, int64_t updated_ms)
{
	struct binding *b = mkbinding(key, expires, updated_ms);

	assert_int_equal(0, location_binding_put(loc, aor, b));
	assert_ptr_equal(aor, b->aor);
}


static struct location *loc_new(void)
{
	struct location *loc = NULL;

	assert_int_equal(0, location_alloc(&loc));
	assert_non_null(loc);
	assert_int_equal(0, location_aor_count(loc));
	assert_int_equal(0, location_binding_count(loc));
	return loc;
}


static void test_binding_key_make(void **state)
{
	char *key = NULL;
	(void)state;

	assert_int_equal(0, binding_key_make(&key, UT_UUID1, 2,
					     "sip:a@192.0.2.1"));
	assert_string_equal("<" UT_UUID1 ">;reg-id=2", key);
	key = mem_deref(key);

	assert_int_equal(0, binding_key_make(&key, UT_UUID1, 0,
					     "sip:a@192.0.2.1"));
	assert_string_equal("<" UT_UUID1 ">;reg-id=0", key);
	key = mem_deref(key);

	assert_int_equal(0, binding_key_make(&key, NULL, 7,
					     "sip:a@192.0.2.1;ob"));
	assert_string_equal("sip:a@192.0.2.1;ob", key);
	mem_deref(key);
}


static void test_aor_get_find(void **state)
{
	struct location *loc = loc_new();
	struct aor *a, *b;
	(void)state;

	assert_null(location_aor_find(loc, "alice@example.com"));
	a = aor_get(loc, "alice@example.com");
	assert_int_equal(1, location_aor_count(loc));
	/* the same AOR on the second get; keys are case-sensitive */
	assert_ptr_equal(a, aor_get(loc, "alice@example.com"));
	assert_int_equal(1, location_aor_count(loc));
	b = aor_get(loc, "Alice@example.com");
	assert_ptr_not_equal(a, b);
	assert_int_equal(2, location_aor_count(loc));
	assert_ptr_equal(a, location_aor_find(loc, "alice@example.com"));
	assert_ptr_equal(b, location_aor_find(loc, "Alice@example.com"));
	assert_null(location_aor_find(loc, "bob@example.com"));
	assert_null(a->bindings.head);
	assert_null(a->instances.head);

	mem_deref(loc);
}


static void test_put_replaces_by_key(void **state)
{
	struct location *loc = loc_new();
	struct aor *aor = aor_get(loc, "alice@example.com");
	struct binding *old, *nb;
	(void)state;

	put(loc, aor, "sip:a@192.0.2.1", 100, 1000);
	put(loc, aor, "sip:b@192.0.2.2", 200, 2000);
	assert_int_equal(2, location_binding_count(loc));
	assert_int_equal(1, location_aor_count(loc));

	old = aor_binding_find(aor, "sip:a@192.0.2.1");
	assert_non_null(old);
	assert_int_equal(100, old->expires);
	mem_ref(old);   /* keep it alive to see what the location did */

	nb = mkbinding("sip:a@192.0.2.1", 5000, 3000);
	assert_int_equal(0, location_binding_put(loc, aor, nb));

	/* replaced: same count, the new object found, the old unlinked and
	 * released by the location */
	assert_int_equal(2, location_binding_count(loc));
	assert_int_equal(2, list_count(&aor->bindings));
	assert_ptr_equal(nb, aor_binding_find(aor, "sip:a@192.0.2.1"));
	assert_null(old->aor);
	assert_null(old->le.list);
	assert_int_equal(1, mem_nrefs(old));
	mem_deref(old);

	/* the old expiry is gone from the heap: nothing expires at 100,
	 * and 200 is now the soonest */
	assert_int_equal(0, location_expire(loc, 199));
	assert_int_equal(2, location_binding_count(loc));
	assert_int_equal(1, location_expire(loc, 1000));
	assert_int_equal(1, location_binding_count(loc));
	assert_ptr_equal(nb, aor_binding_find(aor, "sip:a@192.0.2.1"));
	assert_null(aor_binding_find(aor, "sip:b@192.0.2.2"));
	/* the new one expires at its own time, not before */
	assert_int_equal(0, location_expire(loc, 4999));
	assert_int_equal(1, location_expire(loc, 5000));
	assert_int_equal(0, location_binding_count(loc));

	mem_deref(loc);
}


static const char *key_at(const struct aor *aor, unsigned n)
{
	struct le *le = aor->bindings.head;

	while (le && n--)
		le = le->next;
	assert_non_null(le);
	return ((const struct binding *)le->data)->key;
}


static void test_order_most_recent_first(void **state)
{
	struct location *loc = loc_new();
	struct aor *aor = aor_get(loc, "alice@example.com");
	(void)state;

	put(loc, aor, "k100", 9000, 100);
	put(loc, aor, "k300", 9000, 300);
	put(loc, aor, "k200", 9000, 200);
	put(loc, aor, "k050", 9000, 50);
	assert_int_equal(4, list_count(&aor->bindings));
	assert_string_equal("k300", key_at(aor, 0));
	assert_string_equal("k200", key_at(aor, 1));
	assert_string_equal("k100", key_at(aor, 2));
	assert_string_equal("k050", key_at(aor, 3));

	/* a refresh moves the binding to the front */
	put(loc, aor, "k100", 9000, 400);
	assert_int_equal(4, list_count(&aor->bindings));
	assert_string_equal("k100", key_at(aor, 0));
	assert_string_equal("k300", key_at(aor, 1));
	assert_string_equal("k200", key_at(aor, 2));
	assert_string_equal("k050", key_at(aor, 3));

	mem_deref(loc);
}


static void test_expire_exact(void **state)
{
	struct location *loc = loc_new();
	struct aor *a = aor_get(loc, "a@example.com");
	struct aor *b = aor_get(loc, "b@example.com");
	struct aor *c = aor_get(loc, "c@example.com");
	(void)state;

	put(loc, a, "a1", 10, 1);
	put(loc, a, "a2", 20, 2);
	put(loc, b, "b1", 25, 3);
	put(loc, b, "b2", 40, 4);
	put(loc, c, "c1", 50, 5);
	assert_int_equal(5, location_binding_count(loc));
	assert_int_equal(3, location_aor_count(loc));

	assert_int_equal(0, location_expire(loc, 9));
	assert_int_equal(5, location_binding_count(loc));

	/* expiry is "at or before now" */
	assert_int_equal(3, location_expire(loc, 25));
	assert_int_equal(2, location_binding_count(loc));
	/* a lost everything and had no instance state: released */
	assert_null(location_aor_find(loc, "a@example.com"));
	assert_int_equal(2, location_aor_count(loc));
	assert_ptr_equal(b, location_aor_find(loc, "b@example.com"));
	assert_null(aor_binding_find(b, "b1"));
	assert_non_null(aor_binding_find(b, "b2"));

	/* nothing more at the same time, nor before the next, at 40 */
	assert_int_equal(0, location_expire(loc, 25));
	assert_int_equal(0, location_expire(loc, 39));
	assert_int_equal(2, location_binding_count(loc));

	assert_int_equal(2, location_expire(loc, 1000));
	assert_int_equal(0, location_binding_count(loc));
	assert_int_equal(0, location_aor_count(loc));
	assert_null(location_aor_find(loc, "b@example.com"));
	assert_null(location_aor_find(loc, "c@example.com"));
	assert_int_equal(0, location_expire(loc, 100000));

	mem_deref(loc);
}


/* What location_expire_each() tells of each binding that expires. */
struct expired_seen {
	char list[128];
	struct location *loc;
};


static void expired_note(const struct binding *b, void *arg)
{
	struct expired_seen *seen = arg;
	size_t len = strlen(seen->list);

	/* told before it leaves: still in its AOR, and counted */
	assert_ptr_equal(b, aor_binding_find(b->aor, b->key));
	re_snprintf(seen->list + len, sizeof(seen->list) - len, "%s%s/%s",
		    len ? " " : "", b->aor->key, b->key);
}


/* Each binding that expires is told, with its AOR and key, in order of
 * expiry; none that does not. */
static void test_expire_each_tells(void **state)
{
	struct location *loc = loc_new();
	struct aor *a = aor_get(loc, "a@example.com");
	struct aor *b = aor_get(loc, "b@example.com");
	struct expired_seen seen = {"", loc};
	(void)state;

	put(loc, a, "a1", 10, 1);
	put(loc, b, "b1", 20, 2);
	put(loc, a, "a2", 30, 3);

	assert_int_equal(0, location_expire_each(loc, 9, expired_note,
						 &seen));
	assert_string_equal("", seen.list);
	assert_int_equal(2, location_expire_each(loc, 20, expired_note,
						 &seen));
	assert_string_equal("a@example.com/a1 b@example.com/b1", seen.list);
	assert_int_equal(1, location_binding_count(loc));
	assert_int_equal(1, location_expire_each(loc, 30, NULL, NULL));
	assert_int_equal(0, location_binding_count(loc));

	mem_deref(loc);
}


static void test_aor_kept_with_instance_state(void **state)
{
	struct location *loc = loc_new();
	struct aor *a = aor_get(loc, "a@example.com");
	struct instance_state *is;
	(void)state;

	put(loc, a, "<" UT_UUID1 ">;reg-id=0", 10, 1);
	assert_int_equal(0, location_instance_put(a, UT_UUID1, 3, "cid-1"));

	assert_int_equal(1, location_expire(loc, 10));
	assert_int_equal(0, location_binding_count(loc));
	/* the pub-gruu outlives the binding (RFC 5627 §5.3) */
	assert_ptr_equal(a, location_aor_find(loc, "a@example.com"));
	assert_int_equal(1, location_aor_count(loc));
	assert_null(a->bindings.head);
	is = aor_instance_find(a, UT_UUID1);
	assert_non_null(is);
	assert_int_equal(3, is->generation);
	assert_string_equal("cid-1", is->callid);

	/* the instance registers again: same AOR object */
	put(loc, a, "<" UT_UUID1 ">;reg-id=0", 100, 2);
	assert_int_equal(1, location_binding_count(loc));
	assert_ptr_equal(a, location_aor_find(loc, "a@example.com"));

	mem_deref(loc);
}


static void test_instance_put(void **state)
{
	struct location *loc = loc_new();
	struct aor *a = aor_get(loc, "a@example.com");
	struct instance_state *is;
	(void)state;

	assert_null(aor_instance_find(a, UT_UUID1));
	assert_int_equal(0, location_instance_put(a, UT_UUID1, 1, "c1"));
	assert_int_equal(0, location_instance_put(a, UT_UUID2, 7, NULL));
	assert_int_equal(2, list_count(&a->instances));

	is = aor_instance_find(a, UT_UUID1);
	assert_non_null(is);
	assert_int_equal(1, is->generation);
	assert_string_equal("c1", is->callid);

	/* overwritten in place, not duplicated */
	assert_int_equal(0, location_instance_put(a, UT_UUID1, 2, "c2"));
	assert_int_equal(2, list_count(&a->instances));
	assert_ptr_equal(is, aor_instance_find(a, UT_UUID1));
	assert_int_equal(2, is->generation);
	assert_string_equal("c2", is->callid);

	is = aor_instance_find(a, UT_UUID2);
	assert_non_null(is);
	assert_int_equal(7, is->generation);
	assert_string_equal("", is->callid);

	assert_null(aor_instance_find(a, UT_UUID3));
	mem_deref(loc);
}


static void test_binding_remove(void **state)
{
	struct location *loc = loc_new();
	struct aor *a = aor_get(loc, "a@example.com");
	struct binding *b;
	(void)state;

	put(loc, a, "x", 10, 1);
	put(loc, a, "y", 20, 2);

	b = aor_binding_find(a, "x");
	assert_non_null(b);
	location_binding_remove(loc, b);
	assert_int_equal(1, location_binding_count(loc));
	assert_null(aor_binding_find(a, "x"));
	/* its expiry went with it: nothing is due at 10 */
	assert_int_equal(0, location_expire(loc, 19));
	assert_int_equal(1, location_binding_count(loc));

	b = aor_binding_find(a, "y");
	location_binding_remove(loc, b);
	assert_int_equal(0, location_binding_count(loc));
	assert_int_equal(0, location_aor_count(loc));
	assert_null(location_aor_find(loc, "a@example.com"));
	assert_int_equal(0, location_expire(loc, INT64_MAX));

	mem_deref(loc);
}


/* Many bindings over many AORs, expired in steps: each step removes
 * exactly the bindings due, as counted independently. */
static void test_location_many(void **state)
{
	enum { N = 12000, AORS = 300, SPAN = 3600 };
	struct location *loc = loc_new();
	int64_t *exp = calloc(N, sizeof(*exp));
	uint32_t *per_aor = calloc(AORS, sizeof(*per_aor));
	uint32_t remaining = N;
	(void)state;

	assert_non_null(exp);
	assert_non_null(per_aor);
	rng_seed(99);
	for (size_t i = 0; i < N; i++) {
		char akey[32], bkey[32];
		size_t a = i % AORS;

		re_snprintf(akey, sizeof(akey), "u%zu@example.com", a);
		re_snprintf(bkey, sizeof(bkey), "sip:d%zu@192.0.2.1", i);
		exp[i] = 1000 + (int64_t)(rng_next() % SPAN);
		put(loc, aor_get(loc, akey), bkey, exp[i], (int64_t)i);
		++per_aor[a];
	}
	assert_int_equal(N, location_binding_count(loc));
	assert_int_equal(AORS, location_aor_count(loc));

	for (int64_t now = 1000; now <= 1000 + SPAN; now += 97) {
		uint32_t due = 0;
		int64_t soonest = INT64_MAX;

		for (size_t i = 0; i < N; i++) {
			if (exp[i] >= 0 && exp[i] <= now) {
				++due;
				exp[i] = -1;
				--per_aor[i % AORS];
			}
			else if (exp[i] >= 0 && exp[i] < soonest) {
				soonest = exp[i];
			}
		}
		assert_int_equal(due, location_expire(loc, now));
		remaining -= due;
		assert_int_equal(remaining, location_binding_count(loc));
		/* none of the rest is due before the soonest of them */
		if (soonest != INT64_MAX)
			assert_int_equal(0, location_expire(loc, soonest - 1));

		uint32_t live_aors = 0;
		for (size_t a = 0; a < AORS; a++) {
			char akey[32];
			re_snprintf(akey, sizeof(akey), "u%zu@example.com", a);
			struct aor *aor = location_aor_find(loc, akey);
			if (per_aor[a]) {
				++live_aors;
				assert_non_null(aor);
				assert_int_equal(per_aor[a],
						 list_count(&aor->bindings));
			}
			else {
				assert_null(aor);
			}
		}
		assert_int_equal(live_aors, location_aor_count(loc));
	}

	assert_int_equal(remaining, location_expire(loc, INT64_MAX));
	assert_int_equal(0, location_binding_count(loc));
	assert_int_equal(0, location_aor_count(loc));

	free(per_aor);
	free(exp);
	mem_deref(loc);
}


struct hashed_key {
	uint32_t hash;
	uint32_t n;
};

static int cmp_hashed_key(const void *a, const void *b)
{
	const struct hashed_key *x = a, *y = b;

	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* Two AOR keys whose whole 32-bit hash is the same (found among
 * "c<n>@example.com" by sorting 200,000 of them: about four such pairs
 * are expected, and the search is deterministic). */
static void colliding_keys(char a[32], char b[32])
{
	enum { KEYS = 200000 };
	struct hashed_key *k = malloc(KEYS * sizeof(*k));

	assert_non_null(k);
	for (uint32_t n = 0; n < KEYS; n++) {
		re_snprintf(a, 32, "c%u@example.com", n);
		k[n] = (struct hashed_key){hash_joaat_str(a), n};
	}
	qsort(k, KEYS, sizeof(*k), cmp_hashed_key);
	for (size_t i = 1; i < KEYS; i++) {
		if (k[i].hash != k[i - 1].hash)
			continue;
		re_snprintf(a, 32, "c%u@example.com", k[i - 1].n);
		re_snprintf(b, 32, "c%u@example.com", k[i].n);
		free(k);
		return;
	}
	free(k);
	fail_msg("no two keys with the same hash");
}


/* The lookup compares the stored hash before the key: keys with the same
 * hash are still told apart by the key. */
static void test_aor_same_hash_different_keys(void **state)
{
	struct location *loc = loc_new();
	char ka[32], kb[32];
	struct aor *a, *b;
	(void)state;

	colliding_keys(ka, kb);
	assert_string_not_equal(ka, kb);
	assert_int_equal(hash_joaat_str(ka), hash_joaat_str(kb));

	a = aor_get(loc, ka);
	assert_null(location_aor_find(loc, kb));
	b = aor_get(loc, kb);
	assert_ptr_not_equal(a, b);
	assert_int_equal(2, location_aor_count(loc));
	assert_ptr_equal(a, location_aor_find(loc, ka));
	assert_ptr_equal(b, location_aor_find(loc, kb));
	assert_string_equal(kb, b->key);

	mem_deref(loc);
}


/* Tearing down a populated location frees everything (valgrind). */
static void test_location_teardown_populated(void **state)
{
	struct location *loc = loc_new();
	(void)state;

	for (int i = 0; i < 50; i++) {
		char akey[32], bkey[32];
		re_snprintf(akey, sizeof(akey), "u%d@example.com", i % 7);
		re_snprintf(bkey, sizeof(bkey), "k%d", i);
		struct aor *aor = aor_get(loc, akey);
		put(loc, aor, bkey, 100 + i, i);
		assert_int_equal(0, location_instance_put(aor, UT_UUID1, 1,
							  "c"));
	}
	assert_int_equal(50, location_binding_count(loc));
	assert_int_equal(7, location_aor_count(loc));
	mem_deref(loc);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heap_empty),
		cmocka_unit_test(test_heap_random_order),
		cmocka_unit_test(test_heap_sorted_inputs),
		cmocka_unit_test(test_heap_remove_middle),
		cmocka_unit_test(test_heap_update),
		cmocka_unit_test(test_binding_key_make),
		cmocka_unit_test(test_aor_get_find),
		cmocka_unit_test(test_aor_same_hash_different_keys),
		cmocka_unit_test(test_put_replaces_by_key),
		cmocka_unit_test(test_order_most_recent_first),
		cmocka_unit_test(test_expire_exact),
		cmocka_unit_test(test_expire_each_tells),
		cmocka_unit_test(test_aor_kept_with_instance_state),
		cmocka_unit_test(test_instance_put),
		cmocka_unit_test(test_binding_remove),
		cmocka_unit_test(test_location_many),
		cmocka_unit_test(test_location_teardown_populated),
	};

	return cmocka_run_group_tests(tests, ut_group_setup,
				      ut_group_teardown);
}

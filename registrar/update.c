#include <string.h>
#include <re.h>
#include "config/config.h"
#include "sip/uri.h"
#include "location/location.h"
#include "location/persist.h"
#include "registrar/regreq.h"
#include "registrar/update.h"

struct reg_put {
	struct le le;
	struct binding *b;       /* new binding, not yet in the location */
};

struct reg_del {
	struct le le;
	char *key;
};

struct reg_gen {
	struct le le;
	char *instance;
	uint64_t generation;
	char *callid;
};


static void put_destructor(void *arg)
{
	struct reg_put *p = arg;

	list_unlink(&p->le);
	mem_deref(p->b);
}


static void del_destructor(void *arg)
{
	struct reg_del *d = arg;

	list_unlink(&d->le);
	mem_deref(d->key);
}


static void gen_destructor(void *arg)
{
	struct reg_gen *g = arg;

	list_unlink(&g->le);
	mem_deref(g->instance);
	mem_deref(g->callid);
}


static void update_destructor(void *arg)
{
	struct reg_update *up = arg;

	list_flush(&up->puts);
	list_flush(&up->dels);
	list_flush(&up->gens);
	mem_deref(up->aor);
}


/* The binding a contact refers to (RFC 5627 §5.1: by instance and reg-id
 * when it has an instance, else RFC 3261 §10.3 step 7: by URI). */
static struct binding *existing_binding(const struct aor *aor,
					const struct reg_contact *rc)
{
	if (!aor)
		return NULL;

	for (struct le *le = aor->bindings.head; le; le = le->next) {
		struct binding *b = le->data;
		struct uri u;

		if (rc->instance || b->instance) {
			if (rc->instance && b->instance &&
			    b->reg_id == rc->reg_id &&
			    0 == strcmp(b->instance, rc->instance))
				return b;
			continue;
		}
		if (0 == uri_decode(&u, &(struct pl){b->uri, strlen(b->uri)})
		    && sipuri_equal(&u, &rc->parsed))
			return b;
	}
	return NULL;
}


/* RFC 3261 §10.3 step 7: same Call-ID with a CSeq not higher than the
 * stored one is an out-of-order or replayed request. */
static bool is_stale(const struct binding *b, const struct regreq *req)
{
	return 0 == strcmp(b->callid, req->callid) && req->cseq <= b->cseq;
}


static int add_del(struct reg_update *up, const char *key)
{
	struct reg_del *d = mem_zalloc(sizeof(*d), del_destructor);

	if (!d || str_dup(&d->key, key)) {
		mem_deref(d);
		return ENOMEM;
	}
	list_append(&up->dels, &d->le, d);
	return 0;
}


static int binding_from_contact(struct binding **bp,
				const struct reg_contact *rc,
				const struct regreq *req,
				const struct binding *old, int64_t now_ms)
{
	struct binding *b;
	int err;

	err = binding_alloc(&b);
	if (err)
		return err;

	err = old ? str_dup(&b->key, old->key)
		  : binding_key_make(&b->key, rc->instance, rc->reg_id,
				     rc->uri);
	err |= str_dup(&b->uri, rc->uri);
	err |= str_dup(&b->params, rc->params);
	err |= str_dup(&b->callid, req->callid);
	if (rc->instance)
		err |= str_dup(&b->instance, rc->instance);
	b->path = mem_ref(req->path);   /* shared: a Path is read-only */
	if (req->user_agent)
		err |= str_dup(&b->user_agent, req->user_agent);
	if (err) {
		mem_deref(b);
		return ENOMEM;
	}

	b->reg_id = rc->reg_id;
	b->q = rc->q;
	b->cseq = req->cseq;
	b->expires = now_ms / 1000 + rc->expires;
	b->received = req->src;
	b->tp = req->tp;
	b->nat = rc->nat;
	b->updated_ms = now_ms;
	*bp = b;
	return 0;
}


static int add_put(struct reg_update *up, const struct reg_contact *rc,
		   const struct regreq *req, const struct binding *old,
		   int64_t now_ms)
{
	struct reg_put *p = mem_zalloc(sizeof(*p), put_destructor);
	int err;

	if (!p)
		return ENOMEM;
	err = binding_from_contact(&p->b, rc, req, old, now_ms);
	if (err) {
		mem_deref(p);
		return err;
	}
	list_append(&up->puts, &p->le, p);
	return 0;
}


static int wildcard_removal(struct reg_update *up, const struct regreq *req,
			    const struct aor *aor, struct reg_error *rerr)
{
	for (struct le *le = aor ? aor->bindings.head : NULL; le;
	     le = le->next) {
		const struct binding *b = le->data;
		int err;

		if (is_stale(b, req))
			return reg_refuse(rerr, 500, "Stale CSeq: Out-of-Order "
				      "REGISTER Not Applied");
		err = add_del(up, b->key);
		if (err)
			return err;
	}
	return 0;
}


/* True if a put or a del of UP already concerns binding KEY. */
static bool key_touched(const struct reg_update *up, const char *key)
{
	for (struct le *le = up->puts.head; le; le = le->next) {
		const struct reg_put *p = le->data;
		if (0 == strcmp(p->b->key, key))
			return true;
	}
	for (struct le *le = up->dels.head; le; le = le->next) {
		const struct reg_del *d = le->data;
		if (0 == strcmp(d->key, key))
			return true;
	}
	return false;
}


static int contacts_update(struct reg_update *up, const struct regreq *req,
			   const struct aor *aor, int64_t now_ms,
			   struct reg_error *rerr)
{
	for (struct le *le = req->contacts.head; le; le = le->next) {
		const struct reg_contact *rc = le->data;
		const struct binding *old = existing_binding(aor, rc);
		int err = 0;

		if (old && is_stale(old, req))
			return reg_refuse(rerr, 500, "Stale CSeq: Out-of-Order "
					  "REGISTER Not Applied");
		/* URI equivalence is not transitive (a;x=1 and a;x=2 both
		 * equal a): two Contacts may still name one binding */
		if (old && key_touched(up, old->key))
			return reg_refuse(rerr, 400, "Duplicate Contact");
		if (rc->expires == 0) {
			if (old)
				err = add_del(up, old->key);
		}
		else {
			err = add_put(up, rc, req, old, now_ms);
		}
		if (err)
			return err;
	}
	return 0;
}


static bool gen_listed(const struct reg_update *up, const char *instance)
{
	for (struct le *le = up->gens.head; le; le = le->next) {
		const struct reg_gen *g = le->data;
		if (0 == strcmp(g->instance, instance))
			return true;
	}
	return false;
}


/* The most recently refreshed live binding of INSTANCE; of its flow
 * REG_ID too unless REG_ID is 0. */
static const struct binding *latest_binding(const struct aor *aor,
					    const char *instance,
					    uint32_t reg_id, int64_t now)
{
	/* the list is in most-recently-updated-first order */
	for (struct le *le = aor ? aor->bindings.head : NULL; le;
	     le = le->next) {
		const struct binding *b = le->data;

		if (b->instance && 0 == strcmp(b->instance, instance) &&
		    (!reg_id || b->reg_id == reg_id) && b->expires > now)
			return b;
	}
	return NULL;
}


/* RFC 5627 §5.1: compare the Call-ID with that of the most recent
 * contact of the same instance (and flow, RFC 5626 §4.2: each flow has
 * its own Call-ID); if it differs, every temp-gruu issued before is void.
 * A new flow of an instance that is registered voids nothing.  An
 * instance that is not registered at all starts a new registration
 * period, unless it comes back with the Call-ID that started the current
 * generation (instance_state.callid). */
static bool new_generation(const struct aor *aor, const struct reg_contact *rc,
			   const struct regreq *req,
			   const struct instance_state *is, int64_t now)
{
	const struct binding *b;

	b = latest_binding(aor, rc->instance, rc->reg_id, now);
	if (b)
		return 0 != strcmp(b->callid, req->callid);
	if (latest_binding(aor, rc->instance, 0, now))
		return false;
	return !is || 0 != strcmp(is->callid, req->callid);
}


static int generation_update(struct reg_update *up, const struct regreq *req,
			     const struct aor *aor, int64_t now)
{
	for (struct le *le = req->contacts.head; le; le = le->next) {
		const struct reg_contact *rc = le->data;
		const struct instance_state *is;
		struct reg_gen *g;
		bool bump;

		if (!rc->instance || !rc->expires ||
		    gen_listed(up, rc->instance))
			continue;

		is = aor ? aor_instance_find(aor, rc->instance) : NULL;
		bump = new_generation(aor, rc, req, is, now);
		if (is && !bump)
			continue;   /* nothing to write */

		g = mem_zalloc(sizeof(*g), gen_destructor);
		if (!g || str_dup(&g->instance, rc->instance) ||
		    str_dup(&g->callid, req->callid)) {
			mem_deref(g);
			return ENOMEM;
		}
		g->generation = is ? is->generation + 1 : 1;
		list_append(&up->gens, &g->le, g);
	}
	return 0;
}


/* Bindings the AOR will have once the update is applied: those it keeps
 * and those added, counted by key. */
static uint32_t resulting_count(const struct reg_update *up,
				const struct aor *aor)
{
	uint32_t n = 0;

	for (struct le *le = aor ? aor->bindings.head : NULL; le;
	     le = le->next) {
		const struct binding *b = le->data;
		if (!key_touched(up, b->key))
			++n;
	}
	return n + list_count(&up->puts);
}


int reg_update_compute(struct reg_update **upp, const struct regreq *req,
		       const struct aor *aor, const struct locus_config *cfg,
		       int64_t now_ms, struct reg_error *rerr)
{
	struct reg_update *up;
	int err;

	up = mem_zalloc(sizeof(*up), update_destructor);
	if (!up)
		return ENOMEM;
	err = str_dup(&up->aor, req->aor);

	if (!err && req->wildcard)
		err = wildcard_removal(up, req, aor, rerr);
	else if (!err)
		err = contacts_update(up, req, aor, now_ms, rerr);
	if (!err)
		err = generation_update(up, req, aor, now_ms / 1000);

	if (!err && resulting_count(up, aor) > cfg->max_contacts) {
		char reason[64];
		re_snprintf(reason, sizeof(reason),
			    "Too Many Contacts (max %u)", cfg->max_contacts);
		err = reg_refuse(rerr, 403, reason);
	}

	if (err)
		mem_deref(up);
	else
		*upp = up;
	return err;
}


bool reg_update_is_empty(const struct reg_update *up)
{
	return !up->puts.head && !up->dels.head && !up->gens.head;
}


int reg_update_persist(const struct reg_update *up, struct db_txn *tx)
{
	int err = 0;

	for (struct le *le = up->gens.head; le && !err; le = le->next) {
		const struct reg_gen *g = le->data;
		err = persist_instance_upsert(tx, up->aor, g->instance,
					      g->generation, g->callid);
	}
	for (struct le *le = up->dels.head; le && !err; le = le->next) {
		const struct reg_del *d = le->data;
		err = persist_binding_delete(tx, up->aor, d->key);
	}
	for (struct le *le = up->puts.head; le && !err; le = le->next) {
		const struct reg_put *p = le->data;
		err = persist_binding_upsert(tx, up->aor, p->b);
	}
	/* the other nodes reload the AOR after the commit */
	if (!err && !reg_update_is_empty(up))
		err = persist_notify(tx, up->aor);
	return err;
}


int reg_update_apply(struct reg_update *up, struct location *loc)
{
	struct aor *aor;
	struct le *le;
	int err = 0;

	/* GRUU state first: it keeps the AOR alive while bindings go. */
	for (le = up->gens.head; le && !err; le = le->next) {
		const struct reg_gen *g = le->data;
		err = location_aor_get(&aor, loc, up->aor);
		if (!err)
			err = location_instance_put(aor, g->instance,
						    g->generation, g->callid);
	}
	for (le = up->dels.head; le && !err; le = le->next) {
		const struct reg_del *d = le->data;
		aor = location_aor_find(loc, up->aor);
		struct binding *b = aor ? aor_binding_find(aor, d->key) : NULL;
		if (b)
			location_binding_remove(loc, b);
	}
	while (!err && (le = list_head(&up->puts))) {
		struct reg_put *p = le->data;
		struct binding *b = mem_ref(p->b);

		err = location_aor_get(&aor, loc, up->aor);
		if (!err)
			err = location_binding_put(loc, aor, b);
		if (err)
			mem_deref(b);
		mem_deref(p);
	}
	return err;
}

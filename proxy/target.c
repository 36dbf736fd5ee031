#include <string.h>
#include <re.h>
#include "common/metrics.h"
#include "config/config.h"
#include "sip/param.h"
#include "sip/uri.h"
#include "location/gruu.h"
#include "location/location.h"
#include "transport/flows.h"
#include "proxy/route.h"
#include "proxy/target.h"

enum { Q_UNSPECIFIED = 1000 };   /* no q: as good as the best */


static void target_destructor(void *arg)
{
	struct target *t = arg;

	list_unlink(&t->le);
	mem_deref(t->ruri);
	mem_deref(t->hop);
	mem_deref(t->routes);
}


static int target_add(struct target_set *ts, struct target **tp)
{
	struct target *t = mem_zalloc(sizeof(*t), target_destructor);

	if (!t)
		return ENOMEM;
	t->q = Q_UNSPECIFIED;
	list_append(&ts->targets, &t->le, t);
	*tp = t;
	return 0;
}


static int answer(struct target_set *ts, uint16_t scode, const char *reason)
{
	ts->scode = scode;
	ts->reason = reason;
	return 0;
}


/* The URI of a Path's first value: the next hop. */
static int path_first_hop(char **hopp, const struct binding_path *path)
{
	struct sip_addr addr;
	struct pl first;

	pl_set_str(&first, path->v[0]);
	if (0 == sip_addr_decode(&addr, &first))
		return pl_strdup(hopp, &addr.auri);
	return EBADMSG;
}


/* RFC 3327 §5.4: the Path is pushed as Route.  RFC 5627 §6 discards it
 * only when Route values beyond ours remain, and then no binding is
 * looked up at all (TARGET_ROUTE).  Without Path, the request goes to
 * where the REGISTER came from (NAT), over the same transport, reusing
 * its connection. */
/* The next hop for a static binding's Contact.  libre 1.1.0 sends only
 * to sip: routes (sip_request() refuses others with ENOSYS), so a sips:
 * Contact is reached through sip:host:port;transport=tls, TLS all the same
 * (RFC 3261 §26.2.2: 5061 when no port is given). */
static int static_hop(char **hopp, const char *contact)
{
	struct uri uri;
	struct pl pl;

	pl_set_str(&pl, contact);
	if (uri_decode(&uri, &pl) || pl_strcasecmp(&uri.scheme, "sips"))
		return str_dup(hopp, contact);
	return re_sdprintf(hopp, "sip:%s%r%s:%u;transport=tls",
			   uri.af == AF_INET6 ? "[" : "", &uri.host,
			   uri.af == AF_INET6 ? "]" : "",
			   uri.port ? uri.port : 5061);
}


static int target_from_binding(struct target_set *ts, const struct binding *b)
{
	struct target *t;
	int err;

	err = target_add(ts, &t);
	if (err)
		return err;
	t->q = b->q >= 0 ? b->q : Q_UNSPECIFIED;
	err = str_dup(&t->ruri, b->uri);
	if (!err && b->path) {
		err = re_sdprintf(&t->routes, "%H", binding_path_print,
				  b->path);
		if (!err)
			err = path_first_hop(&t->hop, b->path);
	}
	else if (!err && !sa_isset(&b->received, SA_ADDR)) {
		/* a static binding (psql): reached at its Contact */
		err = static_hop(&t->hop, b->uri);
	}
	else if (!err) {
		err = re_sdprintf(&t->hop, "sip:%J;transport=%s", &b->received,
				  sip_transp_name(b->tp));
	}
	return err;
}


/* Not expired, and its flow open if it needs one (transport/flows.c). */
static bool binding_live(const struct target_deps *d, const struct binding *b,
			 int64_t now)
{
	return b->expires > now && flows_reachable(d->flows, b);
}


/* list_sort() handler: higher q first.  list_sort() swaps neighbours
 * until none is out of order, so equal q must count as in order (else it
 * never ends); it also keeps the sort stable: within a q, the bindings'
 * order (most recently refreshed first) stays. */
static bool q_descending(struct le *le1, struct le *le2, void *arg)
{
	const struct target *a = le1->data, *b = le2->data;

	(void)arg;
	return a->q >= b->q;
}


static int resolve_aor(struct target_set *ts, const struct target_deps *d,
		       const struct uri *uri)
{
	const struct aor *aor;
	int64_t now = location_now();
	char *key;
	int err;

	err = sipuri_aor_key(&key, uri);
	if (err)
		return answer(ts, 404, "Not Found");
	aor = location_aor_find(d->loc, key);
	mem_deref(key);

	if (!aor)
		return answer(ts, 404, "Not Found");

	ts->kind = TARGET_AOR;
	for (struct le *le = aor->bindings.head; le && !err; le = le->next) {
		const struct binding *b = le->data;
		if (binding_live(d, b, now))
			err = target_from_binding(ts, b);
	}
	if (!err && !ts->targets.head)
		return answer(ts, 480, "Temporarily Unavailable");
	list_sort(&ts->targets, q_descending, NULL);
	return err;
}


/* RFC 5627 §5.3: every binding of the instance, most recently refreshed
 * first; never another instance of the AOR.  *REGISTERED: an unexpired
 * binding of it exists, reachable or not (its flow may be closed until it
 * registers again: 480, not 404). */
static int instance_targets(struct target_set *ts, const struct target_deps *d,
			    const struct aor *aor, const char *instance,
			    bool *registered)
{
	int64_t now = location_now();
	int err = 0;

	ts->kind = TARGET_GRUU;
	*registered = false;
	for (struct le *le = aor->bindings.head; le && !err; le = le->next) {
		const struct binding *b = le->data;
		if (!b->instance || 0 != strcmp(b->instance, instance) ||
		    b->expires <= now)
			continue;
		*registered = true;
		if (binding_live(d, b, now))
			err = target_from_binding(ts, b);
	}
	return err;
}


static int resolve_pub_gruu(struct target_set *ts, const struct target_deps *d,
			    const struct uri *uri, const struct pl *gr)
{
	const struct aor *aor;
	char *key = NULL, *instance = NULL;
	bool registered;
	int err;

	if (sipuri_aor_key(&key, uri) || pl_strdup(&instance, gr)) {
		mem_deref(key);
		return answer(ts, 404, "Unknown GRUU");
	}
	aor = location_aor_find(d->loc, key);
	if (!aor || !aor_instance_find(aor, instance)) {
		err = answer(ts, 404, "Unknown GRUU");
		goto out;
	}
	err = instance_targets(ts, d, aor, instance, &registered);
	/* §5.3: a valid public GRUU of a device that is offline */
	if (!err && !ts->targets.head)
		err = answer(ts, 480, "Temporarily Unavailable");
 out:
	mem_deref(key);
	mem_deref(instance);
	return err;
}


static int resolve_temp_gruu(struct target_set *ts,
			     const struct target_deps *d,
			     const struct uri *uri)
{
	const struct instance_state *is;
	const struct aor *aor;
	char *aor_key = NULL, *instance = NULL;
	struct pl token = uri->user;
	uint64_t generation;
	bool registered = false;
	int err = 0;

	pl_advance(&token, strlen(GRUU_TEMP_PREFIX));
	if (gruu_token_decode(d->gruu_key, &token, &aor_key, &instance,
			      &generation))
		return answer(ts, 404, "Unknown GRUU");

	aor = location_aor_find(d->loc, aor_key);
	is = aor ? aor_instance_find(aor, instance) : NULL;

	/* §5.3: temp-gruus of an older generation (the device registered
	 * with a new Call-ID since) and of unregistered devices are gone. */
	if (!is || is->generation != generation)
		err = answer(ts, 404, "GRUU No Longer Valid");
	else
		err = instance_targets(ts, d, aor, instance, &registered);
	if (!err && !ts->scode && !ts->targets.head)
		err = registered
			? answer(ts, 480, "Temporarily Unavailable")
			: answer(ts, 404, "GRUU No Longer Valid");

	mem_deref(aor_key);
	mem_deref(instance);
	return err;
}


static int forward_to(struct target_set *ts, enum target_kind kind,
		      const struct pl *ruri, const struct pl *hop)
{
	struct target *t;
	int err;

	ts->kind = kind;
	err = target_add(ts, &t);
	if (!err)
		err = pl_strdup(&t->ruri, ruri);
	if (!err)
		err = pl_strdup(&t->hop, hop);
	return err;
}


/* A request to a GRUU resolved (ERR 0): counted by its result. */
static int gruu_counted(const struct target_set *ts, int err)
{
	if (!err)
		++metrics.gruu_lookups[ts->scode == 480 ?
				       METRICS_GRUU_UNAVAILABLE : ts->scode ?
				       METRICS_GRUU_NOT_FOUND :
				       METRICS_GRUU_ROUTED];
	return err;
}


/* The Request-URI is in one of our domains (after §16.4). */
static int resolve_ours(struct target_set *ts, const struct target_deps *d,
			const struct uri *uri)
{
	struct pl gr;

	if (0 == sipparam_get(&uri->params, "gr", &gr)) {
		if (pl_isset(&gr))
			return gruu_counted(ts, resolve_pub_gruu(ts, d, uri,
								 &gr));
		if (gruu_is_temp_user(&uri->user))
			return gruu_counted(ts, resolve_temp_gruu(ts, d, uri));
		return gruu_counted(ts, answer(ts, 404, "Unknown GRUU"));
	}
	if (!pl_isset(&uri->user)) {
		ts->kind = TARGET_LOCAL;
		return 0;
	}
	return resolve_aor(ts, d, uri);
}


int target_resolve(struct target_set *ts, const struct target_deps *deps,
		   const struct sip_msg *msg, const struct route_info *ri)
{
	memset(ts, 0, sizeof(*ts));
	list_init(&ts->targets);

	/* A Route beyond ours leads elsewhere: fine within a dialog we
	 * record-routed (another proxy's Record-Route), else relaying. */
	if (pl_isset(&ri->next_route)) {
		struct sip_addr addr;
		if (!ri->in_dialog && !deps->cfg->relay)
			return answer(ts, 403, "Relaying Denied");
		if (sip_addr_decode(&addr, &ri->next_route))
			return answer(ts, 400, "Malformed Route");
		return forward_to(ts, TARGET_ROUTE, &ri->ruri, &addr.auri);
	}
	if (!sipuri_is_sip(&ri->uri))
		return answer(ts, 416, "Unsupported URI Scheme");
	if (route_uri_is_us(deps->cfg, &ri->uri))
		return resolve_ours(ts, deps, &ri->uri);

	/* A foreign Request-URI: the other party of a dialog we
	 * record-routed (proxy/dialog.c), or a relay, which is off unless
	 * configured. */
	if (ri->in_dialog || deps->cfg->relay)
		return forward_to(ts, TARGET_URI, &ri->ruri, &ri->ruri);
	return answer(ts, 403, "Relaying Denied");
}


void target_set_flush(struct target_set *ts)
{
	list_flush(&ts->targets);
}


int target_top_q(const struct list *targets)
{
	int q = -1;

	for (struct le *le = targets->head; le; le = le->next) {
		const struct target *t = le->data;
		if (t->q > q)
			q = t->q;
	}
	return q;
}

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
#include "proxy/stamp.h"
#include "proxy/target.h"

enum { Q_UNSPECIFIED = 1000 };   /* no q: as good as the best */


static void target_destructor(void *arg)
{
	struct target *t = arg;

	list_unlink(&t->le);
	list_flush(&t->alts);
	mem_deref(t->ruri);
	mem_deref(t->hop);
	mem_deref(t->routes);
	mem_deref(t->user_agent);
	mem_deref(t->headers);
	mem_deref(t->binding);
	mem_deref(t->instance);
	mem_deref(t->path_token);
}


int target_alloc(struct target **tp)
{
	struct target *t = mem_zalloc(sizeof(*t), target_destructor);

	if (!t)
		return ENOMEM;
	t->q = Q_UNSPECIFIED;
	list_init(&t->alts);
	*tp = t;
	return 0;
}


static int target_add(struct target_set *ts, struct target **tp)
{
	int err = target_alloc(tp);

	if (!err)
		list_append(&ts->targets, &(*tp)->le, *tp);
	return err;
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


/* The next hop for a Contact.  libre 1.1.0 sends only
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


/* Whether B is reached where its REGISTER came from, over the transport
 * it came on: a flow (RFC 5626 §7: an outbound binding, or a WebSocket
 * device whose Contact is no address, RFC 7118 §5), a device the
 * registrar found NATed, or one whose connection is still open (libre
 * then sends over it, found by its peer address).  Any other is reached
 * at its Contact: a third party may have registered it (RFC 3261 §10.2),
 * and a TCP device's connection closed is dialled there, where it
 * listens, not at the ephemeral port it connected from. */
static bool by_source(const struct target_deps *d, const struct binding *b)
{
	if (!sa_isset(&b->received, SA_ADDR))
		return false;   /* a static binding (psql) */
	return b->reg_id || b->nat || flows_required(b->tp, b->reg_id, false) ||
		flows_connected(d->flows, b);
}


/* RFC 3327 §5.4: the Path is pushed as Route and its first value is the
 * next hop, whatever else the binding says.  RFC 5627 §6 discards it
 * only when Route values beyond ours remain, and then no binding is
 * looked up at all (TARGET_ROUTE). */
static int binding_target(struct target **tp, const struct target_deps *d,
			  const struct binding *b)
{
	struct target *t;
	int err;

	err = target_alloc(&t);
	if (err)
		return err;
	t->q = b->q >= 0 ? b->q : Q_UNSPECIFIED;
	err = str_dup(&t->ruri, b->uri);
	if (!err && b->user_agent)
		err = str_dup(&t->user_agent, b->user_agent);
	if (!err && b->instance)
		err = str_dup(&t->instance, b->instance);
	if (!err)
		err = re_sdprintf(&t->binding, "%s %s %lld",
				  b->aor ? b->aor->key : "", b->key,
				  (long long)b->updated_ms);
	if (!err && b->path) {
		err = re_sdprintf(&t->routes, "%H", binding_path_print,
				  b->path);
		if (!err)
			err = path_first_hop(&t->hop, b->path);
	}
	else if (!err && by_source(d, b)) {
		err = re_sdprintf(&t->hop, "sip:%J;transport=%s", &b->received,
				  sip_transp_name(b->tp));
	}
	else if (!err) {
		err = static_hop(&t->hop, b->uri);
	}
	if (err)
		mem_deref(t);
	else
		*tp = t;
	return err;
}


static struct target *instance_target(const struct target_set *ts,
				      const char *instance)
{
	for (struct le *le = ts->targets.head; le; le = le->next) {
		struct target *t = le->data;
		if (t->instance && 0 == strcmp(t->instance, instance))
			return t;
	}
	return NULL;
}


/* RFC 5626 §7: one target per instance at a time.  The bindings come
 * most recently refreshed first: the first of an instance is its target,
 * its other flows wait behind it, to replace it if it fails. */
static int target_from_binding(struct target_set *ts,
			       const struct target_deps *d,
			       const struct binding *b)
{
	struct target *first = b->instance ? instance_target(ts, b->instance)
					   : NULL;
	struct target *t;
	int err = binding_target(&t, d, b);

	if (err)
		return err;
	if (first)
		list_append(&first->alts, &t->le, t);
	else
		list_append(&ts->targets, &t->le, t);
	return 0;
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
			err = target_from_binding(ts, d, b);
	}
	if (!err && !ts->targets.head)
		return answer(ts, 480, "Temporarily Unavailable");
	list_sort(&ts->targets, q_descending, NULL);
	return err;
}


/* RFC 5627 §5.3: the binding of the instance most recently refreshed,
 * the others behind it; never another instance of the AOR.  *REGISTERED: an unexpired
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
			err = target_from_binding(ts, d, b);
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


/* RFC 5626 §5.3.1: a request whose topmost Route is our Path with a flow
 * token goes down that flow, unless it came up it ("outgoing", §5.3.2:
 * it is then routed as any other). */
static bool resolve_flow(struct target_set *ts, const struct target_deps *d,
			 const struct sip_msg *msg, const struct route_info *ri)
{
	struct stamp_flow f;
	struct pl hop;
	char buf[96];

	if (!d->cfg->edge_registrar || !pl_isset(&ri->flow) || !d->stamp)
		return false;
	if (stamp_flow_check(&f, d->stamp, &ri->flow)) {
		(void)answer(ts, 403, "Forbidden: Invalid Flow Token");
		return true;
	}
	if (f.tp == msg->tp && sa_cmp(&f.peer, &msg->src, SA_ALL))
		return false;
	if (!flows_alive(d->flows, f.tp, &f.peer, f.id)) {
		(void)answer(ts, 430, "Flow Failed");
		return true;
	}
	re_snprintf(buf, sizeof(buf), "sip:%J;transport=%s", &f.peer,
		    sip_transp_name(f.tp));
	pl_set_str(&hop, buf);
	if (forward_to(ts, TARGET_FLOW, &ri->ruri, &hop))
		(void)answer(ts, 500, "Server Internal Error");
	return true;
}


int target_resolve(struct target_set *ts, const struct target_deps *deps,
		   const struct sip_msg *msg, const struct route_info *ri)
{
	memset(ts, 0, sizeof(*ts));
	list_init(&ts->targets);

	if (resolve_flow(ts, deps, msg, ri))
		return 0;

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
	/* An edge proxy sends what its devices start to the registrar it
	 * stands in front of, which knows where the callee is; only what
	 * is addressed to locus itself stays. */
	if (deps->cfg->edge_registrar && !ri->in_dialog &&
	    (pl_isset(&ri->uri.user) ||
	     !route_uri_is_us(deps->cfg, &ri->uri))) {
		struct pl hop;
		pl_set_str(&hop, deps->cfg->edge_registrar);
		return forward_to(ts, TARGET_ROUTE, &ri->ruri, &hop);
	}
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

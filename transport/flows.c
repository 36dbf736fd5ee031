/*
 * Open flows (RFC 5626 §3.1): the connections devices registered over.
 *
 * A WebSocket device's Contact ("*.invalid", RFC 7118 §5) can be reached
 * through its own connection only, and an outbound device (reg-id) asks
 * to be reached through the flow it registered over.  When libre closes
 * such a connection (peer close, error, idle), its bindings stop being
 * targets: an INVITE to the AOR leaves them out, their GRUU answers 480,
 * until the device registers again over a new connection.  The table is
 * of connections, not of bindings, so it stays right whatever the
 * location index reloads from PostgreSQL.
 *
 * A TCP or TLS device without outbound is watched too: while the
 * connection it registered over is open, requests to it take that
 * connection; once closed, the device is reached at its Contact, on a
 * connection of our making (proxy/target.c).  And an edge proxy's flow
 * tokens (RFC 5626 §5.2) name a flow watched here: a token outlives its
 * connection, and must not lead to the next one from the same address.
 *
 * A flow serves the AORs registered over it, no others: bindings are
 * found by their source address, and the device that held an address
 * and port before may not be the one that holds them now (a NAT hands
 * them on).  Whoever registers as one user from another user's old
 * address must not receive that user's calls.
 */
#include <string.h>
#include <re.h>
#include "common/log.h"
#include "common/metrics.h"
#include "location/location.h"
#include "transport/flows.h"
#include "transport/sipws.h"

enum {
	FLOW_BUCKETS = 1u << 12,
	/* sip_keepalive_start() is libre 1.1.0's only close notification
	 * for TCP/TLS; it also sends CRLF pings every INTERVAL seconds
	 * (times 0.8..1.0, in 32-bit ms).  The largest that does not wrap:
	 * about 40 days, i.e. never.  The devices ping us (RFC 5626 §4.4). */
	NO_PING_INTERVAL = UINT32_MAX / 1000,
};

struct flows {
	struct sip *sip;
	struct hash *ht;      /* struct flow by transport and peer address */
};

struct flow {
	struct le he;
	enum sip_transp tp;
	struct sa peer;
	uint64_t id;          /* random: not that of a later connection    */
	struct list aors;     /* struct flow_aor, registered over it       */
	void *watch;          /* libre's close notification, NULL once fired */
};

struct flow_aor {
	struct le le;
	char key[];           /* canonical AOR, "user@host"                */
};


static void flows_destructor(void *arg)
{
	struct flows *fl = arg;

	hash_flush(fl->ht);
	mem_deref(fl->ht);
}


int flows_alloc(struct flows **flp, struct sip *sip)
{
	struct flows *fl = mem_zalloc(sizeof(*fl), flows_destructor);
	int err;

	if (!fl)
		return ENOMEM;
	fl->sip = sip;
	err = hash_alloc(&fl->ht, FLOW_BUCKETS);
	if (err)
		mem_deref(fl);
	else
		*flp = fl;
	return err;
}


static void flow_destructor(void *arg)
{
	struct flow *f = arg;

	--metrics.flows[f->tp];
	hash_unlink(&f->he);
	list_flush(&f->aors);
	mem_deref(f->watch);
}


static uint32_t flow_hash(enum sip_transp tp, const struct sa *peer)
{
	return sa_hash(peer, SA_ALL) ^ (uint32_t)tp;
}


struct flow_key {
	enum sip_transp tp;
	const struct sa *peer;
};


static bool flow_cmp(struct le *le, void *arg)
{
	const struct flow *f = le->data;
	const struct flow_key *k = arg;

	return f->tp == k->tp && sa_cmp(&f->peer, k->peer, SA_ALL);
}


static struct flow *flow_find(const struct flows *fl, enum sip_transp tp,
			      const struct sa *peer)
{
	struct flow_key k = {tp, peer};
	struct le *le = hash_lookup(fl->ht, flow_hash(tp, peer), flow_cmp, &k);

	return le ? le->data : NULL;
}


/* libre closed the connection (and already freed the watch). */
static void flow_closed(int err, void *arg)
{
	struct flow *f = arg;

	log_info("flow: %s connection of %J closed (%m); its bindings are"
		 " reached as if it never was until they register again",
		 sip_transp_name(f->tp), &f->peer, err);
	mem_deref(f);
}


static bool flow_serves(const struct flow *f, const char *aor)
{
	for (struct le *le = f->aors.head; le; le = le->next) {
		const struct flow_aor *fa = le->data;
		if (0 == strcmp(fa->key, aor))
			return true;
	}
	return false;
}


static int flow_serve(struct flow *f, const char *aor)
{
	size_t len = strlen(aor);
	struct flow_aor *fa;

	if (flow_serves(f, aor))
		return 0;
	fa = mem_zalloc(sizeof(*fa) + len + 1, NULL);
	if (!fa)
		return ENOMEM;
	memcpy(fa->key, aor, len + 1);
	list_append(&f->aors, &fa->le, fa);
	return 0;
}


static int flow_open(struct flow **fp, struct flows *fl,
		     const struct sip_msg *msg)
{
	struct flow *f;
	int err;

	f = mem_zalloc(sizeof(*f), flow_destructor);
	if (!f)
		return ENOMEM;
	f->tp = msg->tp;
	++metrics.flows[f->tp];   /* until flow_destructor() */
	f->peer = msg->src;
	f->id = rand_u64() | 1;   /* never 0, the id of UDP */
	if (msg->tp == SIP_TRANSP_WS || msg->tp == SIP_TRANSP_WSS)
		err = sipws_watch(&f->watch, fl->sip, msg, flow_closed, f);
	else
		err = sip_keepalive_start((struct sip_keepalive **)&f->watch,
					  fl->sip, msg, NO_PING_INTERVAL,
					  flow_closed, f);
	if (err) {
		mem_deref(f);
		return err;
	}
	hash_append(fl->ht, flow_hash(f->tp, &f->peer), &f->he, f);
	*fp = f;
	return 0;
}


/* The flow of MSG's connection, watched from now on if it was not. */
static int flow_get(struct flow **fp, struct flows *fl,
		    const struct sip_msg *msg)
{
	*fp = flow_find(fl, msg->tp, &msg->src);
	return *fp ? 0 : flow_open(fp, fl, msg);
}


int flows_track(struct flows *fl, const struct sip_msg *msg, const char *aor)
{
	struct flow *f;
	int err;

	if (!fl || !msg || !aor)
		return EINVAL;
	if (msg->tp == SIP_TRANSP_UDP)
		return 0;

	err = flow_get(&f, fl, msg);
	return err ? err : flow_serve(f, aor);
}


int flows_watch(struct flows *fl, const struct sip_msg *msg, uint64_t *idp)
{
	struct flow *f;
	int err;

	if (!fl || !msg || !idp)
		return EINVAL;
	*idp = 0;
	if (msg->tp == SIP_TRANSP_UDP)
		return 0;
	err = flow_get(&f, fl, msg);
	if (!err)
		*idp = f->id;
	return err;
}


bool flows_alive(const struct flows *fl, enum sip_transp tp,
		 const struct sa *peer, uint64_t id)
{
	const struct flow *f;

	if (tp == SIP_TRANSP_UDP)
		return id == 0;
	f = fl ? flow_find(fl, tp, peer) : NULL;
	return f && f->id == id;
}


bool flows_required(enum sip_transp tp, uint32_t reg_id, bool has_path)
{
	/* with a Path, the edge proxy holds the flow (RFC 5626 §5) */
	if (has_path)
		return false;
	switch (tp) {

	case SIP_TRANSP_WS:
	case SIP_TRANSP_WSS:
		return true;

	case SIP_TRANSP_TCP:
	case SIP_TRANSP_TLS:
		return reg_id != 0;

	default:
		return false;
	}
}


bool flows_connected(const struct flows *fl, const struct binding *b)
{
	const struct flow *f;

	if (!fl || b->tp == SIP_TRANSP_UDP || !sa_isset(&b->received, SA_ADDR))
		return false;
	f = flow_find(fl, b->tp, &b->received);
	return f && b->aor && flow_serves(f, b->aor->key);
}


bool flows_reachable(const struct flows *fl, const struct binding *b)
{
	if (!fl || !sa_isset(&b->received, SA_ADDR) ||
	    !flows_required(b->tp, b->reg_id, b->path != NULL))
		return true;
	return flows_connected(fl, b);
}

/*
 * REGISTER processing, asynchronous and durable.
 *
 * Requests for one AOR are serialised in a "lane": each is computed
 * against the state its predecessor committed, so two REGISTERs racing for
 * an AOR cannot both pass a CSeq or max_contacts check.  Different AORs
 * proceed in parallel, their writes pipelined on one connection.
 *
 * Over UDP a slot of the replay cache (registrar/replay.c) exists before
 * the database is involved, so that retransmissions arriving meanwhile
 * are absorbed and those after the answer get it again, instead of being
 * processed twice.  Only answers to requests that got past
 * authentication, or needed none, are kept: the others (malformed,
 * challenged, refused) changed nothing and are given afresh, and whoever
 * can send a REGISTER could otherwise make us hold its answers for 40 s.
 */
#include <string.h>
#include <re.h>
#include "auth/auth.h"
#include "common/log.h"
#include "common/metrics.h"
#include "sip/sipmsg.h"
#include "sip/uri.h"
#include "config/config.h"
#include "db/db.h"
#include "location/location.h"
#include "location/persist.h"
#include "location/sync.h"
#include "transport/flows.h"
#include "registrar/registrar.h"
#include "registrar/replay.h"
#include "registrar/regreq.h"
#include "registrar/reply.h"
#include "registrar/update.h"

enum {
	LANE_BUCKETS = 1u << 12,
};

struct registrar {
	struct registrar_deps deps;
	struct replay *replay;       /* answers kept for retransmissions   */
	struct hash *lanes;          /* struct reg_lane by AOR key         */
	struct registrar_stats stats;
};

struct reg_lane {
	struct le he;
	char *aor;
	struct list queue;           /* struct reg_ctx; head is running    */
};

struct reg_ctx {
	struct le le;                /* in lane->queue                     */
	struct registrar *reg;
	struct reg_lane *lane;
	const struct sip_msg *msg;
	struct replay_slot *slot;    /* UDP: where the answer is kept      */
	struct regreq *req;
	struct reg_update *up;
	uint64_t received_ms;
	int64_t now;                 /* seconds the new expiries count from */
};

static void lane_advance(struct reg_lane *lane);


static void registrar_destructor(void *arg)
{
	struct registrar *reg = arg;

	hash_flush(reg->lanes);
	mem_deref(reg->lanes);
	mem_deref(reg->replay);
}


int registrar_alloc(struct registrar **regp,
		    const struct registrar_deps *deps)
{
	struct registrar *reg = mem_zalloc(sizeof(*reg), registrar_destructor);
	int err;

	if (!reg)
		return ENOMEM;
	reg->deps = *deps;
	err = hash_alloc(&reg->lanes, LANE_BUCKETS);
	if (!err)
		err = replay_alloc(&reg->replay, deps->sip);
	if (err) {
		mem_deref(reg);
		return err;
	}
	*regp = reg;
	return 0;
}


static void ctx_destructor(void *arg)
{
	struct reg_ctx *ctx = arg;

	--metrics.register_transactions;
	list_unlink(&ctx->le);
	mem_deref(ctx->slot);
	mem_deref((void *)ctx->msg);
	mem_deref(ctx->req);
	mem_deref(ctx->up);
	mem_deref(ctx->reg);
}


static void lane_destructor(void *arg)
{
	struct reg_lane *lane = arg;

	hash_unlink(&lane->he);
	list_flush(&lane->queue);
	mem_deref(lane->aor);
}


static bool lane_cmp(struct le *le, void *arg)
{
	const struct reg_lane *lane = le->data;

	return 0 == strcmp(lane->aor, arg);
}


static struct reg_lane *lane_get(struct registrar *reg, const char *aor)
{
	struct le *le = hash_lookup(reg->lanes, hash_joaat_str(aor), lane_cmp,
				    (void *)aor);
	struct reg_lane *lane;

	if (le)
		return le->data;

	lane = mem_zalloc(sizeof(*lane), lane_destructor);
	if (!lane || str_dup(&lane->aor, aor))
		return mem_deref(lane);
	hash_append(reg->lanes, hash_joaat_str(aor), &lane->he, lane);
	return lane;
}


/* Sends MB, the final answer to MSG: through SLOT over UDP, which keeps
 * it for retransmissions; straight over TCP, which has none. */
static void answer_send(struct registrar *reg, struct replay_slot *slot,
			const struct sip_msg *msg, struct mbuf *mb)
{
	struct sa dst;
	int err;

	if (slot) {
		err = replay_answer(slot, msg, mb);
	}
	else {
		sipmsg_reply_addr(&dst, msg);
		mb->pos = 0;
		err = sip_send(reg->deps.sip, msg->sock, msg->tp, &dst, mb);
	}
	if (err)
		log_warn("registrar: sending a response to %J failed: %m",
			 &msg->src, err);
}


static void answer_error(struct registrar *reg, struct replay_slot *slot,
			 const struct sip_msg *msg,
			 const struct reg_error *rerr)
{
	struct mbuf *mb = mbuf_alloc(512);

	++metrics.registers[metrics_register_outcome(rerr->scode)];
	if (mb && !reg_reply_write(mb, msg, rerr->scode, rerr->reason, "%s",
				   rerr->headers))
		answer_send(reg, slot, msg, mb);
	mem_deref(mb);
}


/* Time from the REGISTER's arrival to its 2xx, for the statistics. */
static void latency_note(struct reg_ctx *ctx)
{
	uint64_t ms = tmr_jiffies() - ctx->received_ms;
	struct registrar_stats *st = &ctx->reg->stats;

	++st->answered;
	st->latency_ms_max = MAX(st->latency_ms_max, ms);
	if (ms >= 100)
		++st->over_100ms;
}


/* A device that registered over a connection of its own (TCP, TLS,
 * WebSocket; no Path) is reached through it while it is open, and one
 * that must be (WebSocket, RFC 5626 outbound) is a target only then:
 * watch it once a REGISTER over it has bound the device, never before.
 * A connection watched on an unauthenticated or refused REGISTER would
 * make bindings with its source address targets: whoever holds a
 * device's old address and port could receive its calls. */
static void flow_track(struct registrar *reg, const struct regreq *req,
		       const struct sip_msg *msg)
{
	bool needed = false;
	int err;

	for (struct le *le = req->contacts.head; le; le = le->next) {
		const struct reg_contact *rc = le->data;
		needed |= rc->expires > 0;
	}
	if (!needed || !reg->deps.flows || req->tp == SIP_TRANSP_UDP ||
	    req->path)
		return;
	err = flows_track(reg->deps.flows, msg, req->aor);
	if (err)
		log_warn("registrar: cannot watch the %s connection of %J for"
			 " %s (%m): its bindings will not be reachable",
			 sip_transp_name(msg->tp), &msg->src, req->aor, err);
}


static void reply_ok(struct reg_ctx *ctx)
{
	const struct registrar_deps *d = &ctx->reg->deps;
	const struct regreq *req = ctx->req;
	struct reg_listing listing = {
		.aor = location_aor_find(d->loc, req->aor),
		.key = d->gruu_key,
		.gruu = req->gruu,
		.outbound = req->outbound,
		/* RFC 5626 §6: a registrar with a direct flow (no Path) over
		 * a connection may say how often it wants keep-alives */
		.flow_timer = req->tp != SIP_TRANSP_UDP && !req->path ?
			d->cfg->flow_timer : 0,
		/* the clock the expiries were computed with: a second that
		 * turns during the commit must not take one off them */
		.now = ctx->now ? ctx->now : location_now(),
	};
	struct mbuf *mb = mbuf_alloc(1024);
	int err = mb ? 0 : ENOMEM;

	++metrics.registers[METRICS_REG_OK];
	if (!err)
		err = reg_reply_ok_write(mb, ctx->msg, &listing, req->path);
	if (!err) {
		answer_send(ctx->reg, ctx->slot, ctx->msg, mb);
		flow_track(ctx->reg, req, ctx->msg);
	}
	else
		log_warn("registrar: writing the 200 for %s failed: %m",
			 req->aor, err);
	mem_deref(mb);
	latency_note(ctx);
}


static void ctx_fail(struct reg_ctx *ctx, uint16_t scode, const char *reason,
		     const char *headers)
{
	struct reg_error rerr = {.scode = scode};

	str_ncpy(rerr.reason, reason, sizeof(rerr.reason));
	str_ncpy(rerr.headers, headers ? headers : "", sizeof(rerr.headers));
	answer_error(ctx->reg, ctx->slot, ctx->msg, &rerr);
}


static void committed(int err, const char *sqlstate, const char *errmsg,
		      void *arg)
{
	struct reg_ctx *ctx = arg;
	struct reg_lane *lane = ctx->lane;

	if (err == ECONNRESET || err == ENOTCONN) {
		log_warn("registrar: %s not stored: database connection "
			 "lost", ctx->req->aor);
		ctx_fail(ctx, 503, "Database Unavailable",
			 DB_DOWN_RETRY_AFTER);
		/* it may have committed before the connection went: memory
		 * follows the database once it is back */
		if (err == ECONNRESET)
			sync_reload(ctx->reg->deps.sync, ctx->req->aor);
	}
	else if (err && persist_is_stale_cseq(sqlstate)) {
		/* another node stored a newer CSeq of this Call-ID first:
		 * ours is out of order after all (sql/schema.sql) */
		log_info("registrar: %s: %s", ctx->req->aor, errmsg);
		ctx_fail(ctx, 500, "Stale CSeq: Out-of-Order REGISTER Not "
			 "Applied", NULL);
		sync_reload(ctx->reg->deps.sync, ctx->req->aor);
	}
	else if (err) {
		log_error("registrar: %s not stored: %s", ctx->req->aor,
			  errmsg ? errmsg : "database error");
		ctx_fail(ctx, 500, "Database Write Failed", NULL);
	}
	else if ((err = reg_update_apply(ctx->up, ctx->reg->deps.loc))) {
		/* Committed but not in memory: only on ENOMEM; the next
		 * start-up will load it. */
		log_error("registrar: %s committed but not indexed: %m",
			  ctx->req->aor, err);
		ctx_fail(ctx, 500, "Server Out of Memory", NULL);
		sync_reload(ctx->reg->deps.sync, ctx->req->aor);
	}
	else {
		reply_ok(ctx);
	}

	mem_deref(ctx);
	lane_advance(lane);
}


/* Returns true when the request is finished, false while it waits for
 * the database. */
static bool ctx_start(struct reg_ctx *ctx)
{
	const struct registrar_deps *d = &ctx->reg->deps;
	const struct aor *aor = location_aor_find(d->loc, ctx->req->aor);
	struct reg_error rerr = {0};
	struct db_txn *tx = NULL;
	int64_t now_ms = location_now_ms();
	int err;

	ctx->now = now_ms / 1000;
	err = reg_update_compute(&ctx->up, ctx->req, aor, d->cfg, now_ms,
				 &rerr);
	if (err == EPROTO) {
		answer_error(ctx->reg, ctx->slot, ctx->msg, &rerr);
		return true;
	}
	if (!err && reg_update_is_empty(ctx->up)) {
		reply_ok(ctx);   /* a query, or nothing to change */
		return true;
	}

	if (!err)
		err = db_txn_alloc(&tx, committed, ctx);
	if (!err)
		err = reg_update_persist(ctx->up, tx);
	if (!err)
		err = db_txn_submit(d->db, tx);
	mem_deref(tx);

	if (err == ENOTCONN) {
		ctx_fail(ctx, 503, "Database Unavailable", DB_DOWN_RETRY_AFTER);
		return true;
	}
	if (err) {
		ctx_fail(ctx, 500, "Server Internal Error", NULL);
		return true;
	}
	return false;
}


/* Runs queued requests of the lane until one has to wait. */
static void lane_advance(struct reg_lane *lane)
{
	struct le *le;

	while ((le = list_head(&lane->queue))) {
		struct reg_ctx *ctx = le->data;

		if (!ctx_start(ctx))
			return;
		mem_deref(ctx);
	}
	mem_deref(lane);
}


const struct registrar_stats *registrar_stats(const struct registrar *reg)
{
	return &reg->stats;
}


bool registrar_active(const struct registrar *reg)
{
	return !reg->deps.cfg->edge_registrar;
}


/* Queues CTX (the caller's reference passes to the lane) in its AOR's
 * lane; it runs at once if the lane was idle. */
static void ctx_enqueue(struct reg_ctx *ctx)
{
	ctx->lane = lane_get(ctx->reg, ctx->req->aor);
	if (!ctx->lane) {
		ctx_fail(ctx, 500, "Server Internal Error", NULL);
		mem_deref(ctx);
		return;
	}
	list_append(&ctx->lane->queue, &ctx->le, ctx);
	if (ctx->lane->queue.head == &ctx->le)
		lane_advance(ctx->lane);
}


/* RFC 3261 §10.3 step 4: the authenticated user must own the AOR.  The
 * realm is the AOR's domain, so the usernames must be equal. */
static bool user_owns_aor(const struct pl *user, const char *aor)
{
	const char *domain = sipuri_aor_domain(aor);

	/* domain == aor: there is no '@', hence no user part */
	return domain > aor && user->l == (size_t)(domain - 1 - aor) &&
		0 == memcmp(user->p, aor, user->l);
}


static void challenge_send(struct reg_ctx *ctx,
			   const struct auth_challenge *ch)
{
	struct mbuf *mb = mbuf_alloc(768);

	++metrics.registers[METRICS_REG_CHALLENGED];
	if (mb && !reg_reply_write(mb, ctx->msg, 401, "Unauthorized", "%H",
				   auth_challenge_print, ch))
		answer_send(ctx->reg, ctx->slot, ctx->msg, mb);
	mem_deref(mb);
}


static void auth_resolved(struct reg_ctx *ctx, const struct auth_result *res)
{
	const struct registrar_deps *d = &ctx->reg->deps;
	struct pl realm;
	struct auth_challenge ch = {d->auth, AUTH_WWW, &realm, res->stale};

	pl_set_str(&realm, sipuri_aor_domain(ctx->req->aor));
	switch (res->verdict) {

	case AUTH_OK:
		/* kept, whatever the answer: its nonce count is used up, and
		 * the request again would look like a replay */
		if (!user_owns_aor(&res->user, ctx->req->aor))
			ctx_fail(ctx, 403, "Forbidden: Credentials Are Not "
				 "for This AOR", NULL);
		else
			ctx_enqueue(mem_ref(ctx));
		return;
	case AUTH_CHALLENGE:
		challenge_send(ctx, &ch);
		break;
	case AUTH_BAD:
		ctx_fail(ctx, 400, res->reason, NULL);
		break;
	case AUTH_BLOCKED:
		ctx_fail(ctx, 403, "Forbidden: Too Many Failed "
			 "Authentications", NULL);
		break;
	default:
		ctx_fail(ctx, 503, "Database Unavailable", DB_DOWN_RETRY_AFTER);
		break;
	}
	replay_forget(ctx->slot);   /* not authenticated: not kept */
}


static void auth_done(const struct auth_result *res, void *arg)
{
	auth_resolved(arg, res);
}


void registrar_handle(struct registrar *reg, const struct sip_msg *msg)
{
	struct replay_slot *slot = NULL;
	struct auth_result res;
	struct reg_error rerr;
	struct reg_ctx *ctx;
	struct regreq *req;
	struct pl realm;
	bool auth_exempt = !reg->deps.auth ||
		config_is_trusted(reg->deps.cfg, &msg->src);
	int err;

	/* a retransmission is answered again, never processed twice */
	if (msg->tp == SIP_TRANSP_UDP &&
	    replay_check(reg->replay, msg, &slot))
		return;

	err = regreq_decode(&req, msg, reg->deps.cfg, &rerr);
	ctx = err ? NULL : mem_zalloc(sizeof(*ctx), ctx_destructor);
	if (!ctx) {
		if (!err)
			mem_deref(req);
		if (err != EPROTO) {
			rerr = (struct reg_error){.scode = 500};
			str_ncpy(rerr.reason, "Server Internal Error",
				 sizeof(rerr.reason));
		}
		answer_error(reg, slot, msg, &rerr);
		if (!auth_exempt)
			replay_forget(slot);   /* not authenticated: not kept */
		mem_deref(slot);
		return;
	}
	ctx->reg = mem_ref(reg);
	++metrics.register_transactions;   /* until ctx_destructor() */
	ctx->req = req;
	ctx->received_ms = tmr_jiffies();
	ctx->msg = mem_ref((void *)msg);
	ctx->slot = slot;

	if (auth_exempt) {
		ctx_enqueue(ctx);
		return;
	}
	pl_set_str(&realm, sipuri_aor_domain(req->aor));
	auth_check(reg->deps.auth, msg, AUTH_WWW, &realm, &res, auth_done,
		   ctx);
	if (res.verdict != AUTH_PENDING)
		auth_resolved(ctx, &res);
	mem_deref(ctx);
}

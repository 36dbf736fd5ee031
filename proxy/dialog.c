/*
 * Which requests within a dialog may go where.
 *
 * A request with a To tag is relayed to a host that is not ours only when
 * it belongs to a dialog locus record-routed and goes to that dialog's
 * other party: its remote target, as last refreshed.  Two things tell:
 *
 *  - The stamp ("ls") on our Record-Route, which every request of the
 *    dialog carries back in its Route (RFC 3261 §12.2.1.1).  The request
 *    that makes the dialog carries a stamp for the callee's requests: it
 *    binds the Call-ID, the caller's tag and the next hop to the caller
 *    (the nearest proxy that record-routed before us, or the caller's
 *    Contact).  In every response going upstream our stamp is replaced
 *    (§16.7 step 4) by one for the caller's requests: it binds the
 *    Call-ID, both tags and the next hop to the callee.  So a stamp only
 *    ever reaches the party it lets send, and it lets that party send to
 *    the other one and nowhere else.
 *  - The dialogs in memory hold what no stamp can, because a route set
 *    never changes once the dialog is made (§12.2.1.2): the callee's tag
 *    for the callee's requests (it did not exist when the stamp was
 *    made), and a remote target moved by a target-refresh request (a
 *    re-INVITE, UPDATE (RFC 3311), SUBSCRIBE or NOTIFY (RFC 6665)).
 *
 * Why stamps and not dialog state alone: calls last hours and must
 * survive a restart of locus.  State in memory alone is lost in a
 * restart; state in PostgreSQL would cost a write per call for what a
 * MAC carries for free, in the messages themselves, valid on every node
 * that shares the key and for as long as the dialog lasts.  What a
 * restart loses is only what memory adds: after it, a callee's request is
 * held to the caller's tag and hop but not to its own tag (harmless: the
 * caller answers 481 to a tag it does not know), and a dialog whose target
 * moved before the restart reaches only its stamped target again.
 * Memory is bounded: dialogs idle for a day, or the oldest beyond
 * DIALOG_MAX, are forgotten and fall back to their stamps.
 */
#include <string.h>
#include <re.h>
#include "config/config.h"
#include "location/location.h"
#include "proxy/dialog.h"

enum {
	DIALOG_BUCKETS = 1u << 16,
	DIALOG_MAX     = 1u << 19,
	LEGS_MAX       = 16,       /* callees of one dialog kept in memory */
	DIALOG_IDLE    = 24 * 3600,      /* seconds */
};

/* Where one party's requests go (the next hop to the other party). */
struct side {
	char *stamped;       /* the hop its stamp binds                     */
	char *now;           /* the hop as last refreshed                   */
	bool by_contact;     /* the hop is a UA's Contact: refreshes move it */
};

/* One callee of a dialog (a forked request makes one per callee). */
struct leg {
	struct le le;
	char *tag;
	struct side callee;  /* the caller's requests to this callee        */
	bool confirmed;      /* a 2xx made it; else an early dialog          */
};

struct dialog {
	struct le he;
	struct le lru;
	struct dialogs *ds;
	char *callid;
	char *caller_tag;
	struct side caller;  /* the callees' requests to the caller         */
	struct list legs;
	int64_t used;
};

struct dialogs {
	const struct stamp *stamp;
	const struct locus_config *cfg;
	struct hash *ht;
	struct list lru;     /* least recently used first                   */
	uint32_t n;
};


static void side_reset(struct side *s)
{
	s->stamped = mem_deref(s->stamped);
	s->now = mem_deref(s->now);
}


static int side_set(struct side *s, const char *hop, bool by_contact)
{
	side_reset(s);
	s->by_contact = by_contact;
	if (str_dup(&s->stamped, hop))
		return ENOMEM;
	s->now = mem_ref(s->stamped);
	return 0;
}


static void leg_destructor(void *arg)
{
	struct leg *leg = arg;

	list_unlink(&leg->le);
	mem_deref(leg->tag);
	side_reset(&leg->callee);
}


static void dialog_destructor(void *arg)
{
	struct dialog *d = arg;

	hash_unlink(&d->he);
	list_unlink(&d->lru);
	if (d->ds)
		--d->ds->n;
	list_flush(&d->legs);
	mem_deref(d->callid);
	mem_deref(d->caller_tag);
	side_reset(&d->caller);
}


static void dialogs_destructor(void *arg)
{
	struct dialogs *ds = arg;

	list_flush(&ds->lru);
	mem_deref(ds->ht);
}


int dialogs_alloc(struct dialogs **dsp, const struct stamp *stamp,
		  const struct locus_config *cfg)
{
	struct dialogs *ds = mem_zalloc(sizeof(*ds), dialogs_destructor);
	int err;

	if (!ds)
		return ENOMEM;
	ds->stamp = stamp;
	ds->cfg = cfg;
	err = hash_alloc(&ds->ht, DIALOG_BUCKETS);
	if (err)
		mem_deref(ds);
	else
		*dsp = ds;
	return err;
}


uint32_t dialogs_count(const struct dialogs *ds)
{
	return ds->n;
}


/* ---- the table ------------------------------------------------------ */

static uint32_t key_hash(const struct pl *callid, const struct pl *tag)
{
	return hash_joaat_pl(callid) * 31u + hash_joaat_pl(tag);
}


struct key {
	const struct pl *callid;
	const struct pl *tag;
};


static bool key_cmp(struct le *le, void *arg)
{
	const struct dialog *d = le->data;
	const struct key *k = arg;

	return 0 == pl_strcmp(k->callid, d->callid) &&
		0 == pl_strcmp(k->tag, d->caller_tag);
}


/* Forgets the dialogs idle too long, and the oldest beyond DIALOG_MAX. */
static void trim(struct dialogs *ds, int64_t now)
{
	struct le *le;

	while ((le = list_head(&ds->lru))) {
		struct dialog *d = le->data;
		if (d->used + DIALOG_IDLE > now && ds->n <= DIALOG_MAX)
			break;
		mem_deref(d);
	}
}


static struct dialog *dialog_find(struct dialogs *ds, const struct pl *callid,
				  const struct pl *caller_tag)
{
	struct key k = {callid, caller_tag};

	trim(ds, location_now());
	return list_ledata(hash_lookup(ds->ht, key_hash(callid, caller_tag),
				       key_cmp, &k));
}


static void touch(struct dialog *d)
{
	d->used = location_now();
	list_unlink(&d->lru);
	list_append(&d->ds->lru, &d->lru, d);
}


static struct leg *leg_find(const struct dialog *d, const struct pl *tag)
{
	for (struct le *le = d->legs.head; le; le = le->next) {
		struct leg *leg = le->data;
		if (0 == pl_strcmp(tag, leg->tag))
			return leg;
	}
	return NULL;
}


static struct dialog *dialog_add(struct dialogs *ds, const struct sip_msg *m,
				 const struct dialog_origin *orig)
{
	struct dialog *d = mem_zalloc(sizeof(*d), dialog_destructor);

	if (!d)
		return NULL;
	if (pl_strdup(&d->callid, &m->callid) ||
	    pl_strdup(&d->caller_tag, &m->from.tag) ||
	    side_set(&d->caller, orig->hop, orig->by_contact))
		return mem_deref(d);
	d->ds = ds;
	++ds->n;
	hash_append(ds->ht, key_hash(&m->callid, &m->from.tag), &d->he, d);
	list_append(&ds->lru, &d->lru, d);
	touch(d);
	return d;
}


/* ---- requests ------------------------------------------------------- */

int dialog_request_stamp(char out[STAMP_DIALOG_LEN + 1],
			 struct dialog_origin *orig,
			 const struct dialogs *ds, const struct sip_msg *req)
{
	struct stamp_dialog_fields f = {.callid = req->callid,
					.caller_tag = req->from.tag};
	char caller[STAMP_PARTY_SIZE], callee[STAMP_PARTY_SIZE];

	route_upstream_hop(orig->hop, &orig->by_contact, req, ds->cfg);
	pl_set_str(&f.hop, orig->hop);
	stamp_party(caller, &f.caller, &req->from);
	stamp_party(callee, &f.callee, &req->to);
	return stamp_dialog(out, ds->stamp, STAMP_TO_CALLER, &f);
}


static bool stamp_with_hop(const struct dialogs *ds,
			   const struct sip_msg *req, const struct pl *stamp,
			   const char *hop)
{
	enum stamp_dir dir;
	struct pl pl;

	pl_set_str(&pl, hop);
	return stamp_dialog_check(ds->stamp, stamp, req, &pl, &dir);
}


/* A callee's request to the caller of a dialog in memory: from one of
 * its callees (a NOTIFY may make a new one, RFC 6665 §4.1.2.4), to the
 * caller's target as last refreshed, with the stamp of the first. */
static bool vouch_to_caller(const struct dialogs *ds, const struct dialog *d,
			    const struct sip_msg *req,
			    const struct route_info *ri)
{
	if (d->legs.head && !leg_find(d, &req->from.tag) &&
	    pl_strcmp(&req->met, "NOTIFY"))
		return false;
	return 0 == strcmp(ri->hop, d->caller.now) &&
		stamp_with_hop(ds, req, &ri->stamp, d->caller.stamped);
}


/* The caller's request to a callee: the callee as last refreshed when
 * the leg is in memory, else wherever the stamp says. */
static bool vouch_to_callee(const struct dialogs *ds, const struct dialog *d,
			    const struct sip_msg *req,
			    const struct route_info *ri)
{
	const struct leg *leg = d ? leg_find(d, &req->to.tag) : NULL;

	if (!leg)
		return stamp_with_hop(ds, req, &ri->stamp, ri->hop);
	return 0 == strcmp(ri->hop, leg->callee.now) &&
		stamp_with_hop(ds, req, &ri->stamp, leg->callee.stamped);
}


bool dialog_vouch(struct dialogs *ds, const struct sip_msg *req,
		  struct route_info *ri)
{
	struct dialog *d;

	ri->in_dialog = false;
	if (!pl_isset(&req->to.tag) || ri->stamp.l != STAMP_DIALOG_LEN ||
	    !ri->hop[0])
		return false;

	switch (ri->stamp.p[0]) {

	case STAMP_TO_CALLER:
		d = dialog_find(ds, &req->callid, &req->to.tag);
		ri->in_dialog = d ? vouch_to_caller(ds, d, req, ri)
				  : stamp_with_hop(ds, req, &ri->stamp, ri->hop);
		break;
	case STAMP_TO_CALLEE:
		d = dialog_find(ds, &req->callid, &req->from.tag);
		ri->in_dialog = vouch_to_callee(ds, d, req, ri);
		break;
	default:
		return false;
	}
	if (ri->in_dialog && d)
		touch(d);
	return ri->in_dialog;
}


/* ---- responses ------------------------------------------------------ */

/* Our Record-Route values in a response: the topmost run of them that
 * starts with a stamp for requests to the caller (a spiral's later pass
 * has rewritten its own run already). */
struct run {
	const struct locus_config *cfg;
	struct fwd_edit *edits;      /* the spans of their stamps          */
	size_t n;
	const struct sip_hdr *prev;
	const struct sip_hdr *above; /* the value above the run, if any: the
					next hop downstream                */
};


/* libre lists each value of a comma-separated Record-Route on its own
 * only through sip_msg_hdr_apply(), in order. */
static bool run_value(const struct sip_hdr *hdr, const struct sip_msg *msg,
		      void *arg)
{
	struct run *r = arg;
	struct sip_addr addr;
	struct pl ls = PL_INIT;
	bool ours;

	(void)msg;
	ours = 0 == sip_addr_decode(&addr, &hdr->val) &&
		route_uri_is_us(r->cfg, &addr.uri) &&
		0 == msg_param_decode(&addr.uri.params, "ls", &ls);
	if (r->n) {
		if (!ours || r->n == DIALOG_EDITS_MAX)
			return true;
		r->edits[r->n++].span = ls;
	}
	else if (ours && ls.l && ls.p[0] == STAMP_TO_CALLER) {
		r->above = r->prev;
		r->edits[r->n++].span = ls;
	}
	else {
		r->prev = hdr;
	}
	return false;
}


static size_t our_run(struct fwd_edit *edits, const struct sip_hdr **above,
		      const struct sip_msg *resp,
		      const struct locus_config *cfg)
{
	struct run r = {.cfg = cfg, .edits = edits};

	(void)sip_msg_hdr_apply(resp, true, SIP_HDR_RECORD_ROUTE, run_value,
				&r);
	*above = r.above;
	return r.n;
}


/* The next hop of the caller's requests to the callee that sent RESP. */
static void downstream_hop(char hop[ROUTE_HOP_SIZE], bool *by_contact,
			   const struct sip_hdr *above,
			   const struct sip_msg *resp)
{
	const struct sip_hdr *hdr = above ? above
					  : sip_msg_hdr(resp, SIP_HDR_CONTACT);
	struct sip_addr addr;

	hop[0] = '\0';
	*by_contact = !above;
	if (hdr && 0 == sip_addr_decode(&addr, &hdr->val))
		route_hop_print(hop, &addr.uri);
}


static bool makes_dialog(const struct sip_msg *req)
{
	return !pl_isset(&req->to.tag) &&
		(0 == pl_strcmp(&req->met, "INVITE") ||
		 0 == pl_strcmp(&req->met, "SUBSCRIBE") ||
		 0 == pl_strcmp(&req->met, "REFER"));
}


/* A response with a To tag that made (or confirmed) a leg of a dialog.
 * D is NULL when its caller's side is unknown (the transaction is gone
 * and memory never had it): then only the stamps know it. */
static void leg_learn(struct dialog *d, const struct sip_msg *resp,
		      const char *hop, bool by_contact)
{
	struct leg *leg = leg_find(d, &resp->to.tag);

	/* a callee that answers with ever new tags (or forged responses)
	 * would grow the dialog and the search of every request in it;
	 * legs beyond these are reached by their stamps alone */
	if (!leg && list_count(&d->legs) >= LEGS_MAX)
		return;
	if (!leg) {
		leg = mem_zalloc(sizeof(*leg), leg_destructor);
		if (!leg || pl_strdup(&leg->tag, &resp->to.tag) ||
		    side_set(&leg->callee, hop, by_contact)) {
			mem_deref(leg);
			return;
		}
		list_append(&d->legs, &leg->le, leg);
	}
	if (resp->scode >= 200)
		leg->confirmed = true;
	touch(d);
}


/* RFC 3261 §12.3 / §13.2.2.3: a non-2xx final to the INVITE ends every
 * early dialog it made. */
static void early_legs_end(struct dialog *d)
{
	struct le *le = d->legs.head;

	while (le) {
		struct leg *leg = le->data;
		le = le->next;
		if (!leg->confirmed)
			mem_deref(leg);
	}
	if (!d->legs.head)
		mem_deref(d);
}


static void side_refresh(struct side *s, const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	char hop[ROUTE_HOP_SIZE], *now = NULL;
	struct sip_addr addr;

	if (!s->by_contact || !hdr || sip_addr_decode(&addr, &hdr->val))
		return;
	route_hop_print(hop, &addr.uri);
	if (!hop[0] || 0 == strcmp(hop, s->now))
		return;
	/* out of memory: the hop stays as it was */
	if (0 == str_dup(&now, hop)) {
		mem_deref(s->now);
		s->now = now;
	}
}


static bool is_target_refresh(const struct pl *met)
{
	return 0 == pl_strcmp(met, "INVITE") || 0 == pl_strcmp(met, "UPDATE") ||
		0 == pl_strcmp(met, "SUBSCRIBE") ||
		0 == pl_strcmp(met, "NOTIFY");
}


/* A final response to REQ, a request within a dialog of method MET: a
 * BYE's ends a leg (2xx, or 481: it was gone already); a target
 * refresh's 2xx moves the targets its request and its own Contact name
 * (§12.2.1.2, §12.2.2).  REQ may be the response itself (a request
 * forwarded statelessly): its Call-ID and tags are the request's. */
static void in_dialog_final(struct dialogs *ds, const struct pl *met,
			    const struct sip_msg *req,
			    const struct sip_msg *resp, bool vouched)
{
	bool bye = 0 == pl_strcmp(met, "BYE");
	bool from_caller = true;
	struct dialog *d;
	struct leg *leg;

	if (!(bye && (resp->scode < 300 || resp->scode == 481)) &&
	    !(vouched && resp->scode < 300 && is_target_refresh(met)))
		return;
	d = dialog_find(ds, &req->callid, &req->from.tag);
	if (!d) {
		from_caller = false;
		d = dialog_find(ds, &req->callid, &req->to.tag);
	}
	if (!d)
		return;
	leg = leg_find(d, from_caller ? &req->to.tag : &req->from.tag);
	if (bye) {
		mem_deref(leg);
		if (!d->legs.head)
			mem_deref(d);
		return;
	}
	if (from_caller)
		side_refresh(&d->caller, req);
	else if (leg)
		side_refresh(&leg->callee, req);
	if (leg)
		side_refresh(from_caller ? &leg->callee : &d->caller, resp);
}


static void learn(struct dialogs *ds, const struct sip_msg *resp,
		  const struct sip_msg *req, const struct dialog_origin *orig,
		  const char *hop, bool by_contact, bool vouched)
{
	struct dialog *d;

	if (req && !makes_dialog(req)) {
		if (resp->scode >= 200)
			in_dialog_final(ds, &req->met, req, resp, vouched);
		return;
	}
	/* a BYE goes statelessly (proxy.c): its response alone says the
	 * dialog ended */
	if (!req && 0 == pl_strcmp(&resp->cseq.met, "BYE")) {
		if (resp->scode >= 200)
			in_dialog_final(ds, &resp->cseq.met, resp, resp, false);
		return;
	}
	if (!hop || resp->scode == 100 || resp->scode >= 300 ||
	    !pl_isset(&resp->to.tag))
		return;
	d = dialog_find(ds, &resp->callid, &resp->from.tag);
	if (!d && req && orig)
		d = dialog_add(ds, resp, orig);
	if (d)
		leg_learn(d, resp, hop, by_contact);
}


void dialog_request_failed(struct dialogs *ds, const struct sip_msg *req)
{
	struct dialog *d = dialog_find(ds, &req->callid, &req->from.tag);

	if (d && 0 == pl_strcmp(&req->met, "INVITE"))
		early_legs_end(d);
}


/* Is the stamp in RESP's run of our Record-Route values the one we gave
 * the request that made the dialog?  ISSUED is it when the transaction
 * kept it; otherwise memory's dialog says the hop it bound.  Anything
 * else (a forged response, or a stamp copied from another dialog) would
 * have us sign a stamp for the caller's side of a dialog we never
 * record-routed. */
static bool run_is_issued(struct dialogs *ds, const struct dialog_edits *ed,
			  const struct sip_msg *resp, const char *issued)
{
	struct stamp_dialog_fields f = {.callid = resp->callid,
					.caller_tag = resp->from.tag};
	char want[STAMP_DIALOG_LEN + 1];
	char caller[STAMP_PARTY_SIZE], callee[STAMP_PARTY_SIZE];

	stamp_party(caller, &f.caller, &resp->from);
	stamp_party(callee, &f.callee, &resp->to);
	if (!issued) {
		const struct dialog *d = dialog_find(ds, &resp->callid,
						     &resp->from.tag);

		if (!d || !d->caller.stamped)
			return false;
		pl_set_str(&f.hop, d->caller.stamped);
		if (stamp_dialog(want, ds->stamp, STAMP_TO_CALLER, &f))
			return false;
		issued = want;
	}
	for (size_t i = 0; i < ed->n; i++) {
		if (pl_strcmp(&ed->edit[i].span, issued))
			return false;
	}
	return true;
}


int dialog_response(struct dialogs *ds, struct dialog_edits *ed,
		    const struct sip_msg *resp, const struct sip_msg *req,
		    const struct dialog_origin *orig, bool vouched,
		    const char *issued)
{
	struct stamp_dialog_fields f = {.callid = resp->callid,
					.caller_tag = resp->from.tag,
					.callee_tag = resp->to.tag};
	const struct sip_hdr *above = NULL;
	char hop[ROUTE_HOP_SIZE];
	char caller[STAMP_PARTY_SIZE], callee[STAMP_PARTY_SIZE];
	bool by_contact = false;
	int err;

	stamp_party(caller, &f.caller, &resp->from);
	stamp_party(callee, &f.callee, &resp->to);
	ed->n = our_run(ed->edit, &above, resp, ds->cfg);
	if (ed->n && !run_is_issued(ds, ed, resp, issued)) {
		log_info("proxy: a %u for Call-ID %r carries a Record-Route"
			 " stamp we did not give its dialog: relayed with no"
			 " stamp of ours", resp->scode, &resp->callid);
		ed->n = 0;
		return 0;
	}
	if (!ed->n) {
		learn(ds, resp, req, orig, NULL, false, vouched);
		return 0;
	}
	downstream_hop(hop, &by_contact, above, resp);
	pl_set_str(&f.hop, hop);
	err = stamp_dialog(ed->stamp, ds->stamp, STAMP_TO_CALLEE, &f);
	if (err)
		return err;
	for (size_t i = 0; i < ed->n; i++)
		ed->edit[i].text = ed->stamp;
	learn(ds, resp, req, orig, hop, by_contact, vouched);
	return 0;
}

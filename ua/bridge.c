/*
 * A request relayed from one leg to the other keeps its method, its body
 * and the headers that carry its meaning (RELAYED below); the other
 * leg's final response goes back with its status and body.  A re-INVITE's
 * 2xx from the other party is acknowledged when the asking party's ACK
 * comes, with that ACK's body: an offerless re-INVITE gets its answer
 * there (RFC 3264 §4).  An offer while the other leg has one outstanding
 * gets 491 (RFC 3261 §14.2, RFC 3311 §5.2).
 *
 * Session timers (RFC 4028) are the parties' own: Session-Expires and
 * Min-SE pass through both ways, and so do the refreshes, like any
 * re-INVITE or UPDATE.  When a 2xx names an interval, locus watches it
 * too: a session not refreshed within it is over (§10), and both legs
 * end with BYE, so that neither stays up alone when the other party is
 * gone without a word.
 */
#include <string.h>
#include <re.h>
#include "common/log.h"
#include "ua/bridge.h"
#include "ua/leg.h"

struct bridge {
	struct leg *a, *b;
	bridge_end_h *endh;
	void *arg;
	struct tmr session;          /* RFC 4028 §10                     */
};

/* A request of one party's in flight to the other. */
struct relay {
	struct bridge *br;
	struct leg *from;
	const struct sip_msg *req;
};

/* Headers that say what a relayed request means (RFC 3515 REFER, RFC
 * 6665 NOTIFY, RFC 6086 INFO, RFC 3892 Referred-By, RFC 3326 Reason), and
 * the session timer the parties agree on between them (RFC 4028). */
static const char *const relayed[] = {
	"Event", "Subscription-State", "Refer-To", "Referred-By",
	"Content-Disposition", "Info-Package", "Reason", "Session-Expires",
	"Min-SE",
};

/* ... and of a response. */
static const char *const relayed_resp[] = {
	"Session-Expires", "Min-SE",
};

static const struct leg_events bridge_events;


static struct leg *other(const struct bridge *br, const struct leg *leg)
{
	return leg == br->a ? br->b : br->a;
}


static void relay_destructor(void *arg)
{
	struct relay *r = arg;

	mem_deref((void *)r->req);
	mem_deref(r->from);
	mem_deref(r->br);
}


static void session_expired(void *arg)
{
	struct bridge *br = arg;

	log_info("ua: %s: session not refreshed in time (RFC 4028)",
		 leg_callid(br->a));
	if (br->endh)
		br->endh(br->a, 408, "Session Timer Expired", br->arg);
}


/* The start, or a refresh through leg TO: the session lasts, from now,
 * the interval TO's last 2xx named; at the start, the shortest either
 * leg's 2xx named (RFC 4028 §10). */
static void session_watch(struct bridge *br, const struct leg *to)
{
	uint32_t a = leg_session_expires(br->a);
	uint32_t b = leg_session_expires(br->b);
	uint32_t se = to ? leg_session_expires(to) :
		!a ? b : !b ? a : MIN(a, b);

	if (se && br->endh)   /* a closed bridge watches nothing */
		tmr_start(&br->session, se * 1000, session_expired, br);
	else
		tmr_cancel(&br->session);
}


static void bridge_destructor(void *arg)
{
	struct bridge *br = arg;

	tmr_cancel(&br->session);
	leg_events_reset(br->a, br);
	leg_events_reset(br->b, br);
	mem_deref(br->a);
	mem_deref(br->b);
}


static bool hdr_print(const struct sip_hdr *hdr, const struct sip_msg *msg,
		      void *arg)
{
	(void)msg;
	return 0 != mbuf_printf(arg, "%r: %r\r\n", &hdr->name, &hdr->val);
}


/* The headers NAMES of MSG, "Name: value\r\n" each, and a NUL. */
static int relayed_print(struct mbuf *mb, const struct sip_msg *msg,
			 const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (sip_msg_xhdr_apply(msg, true, names[i], hdr_print, mb))
			return ENOMEM;
	}
	return mbuf_write_u8(mb, 0);
}


static void body_of(const struct sip_msg *msg, struct pl *body, char *ctype,
		    size_t sz)
{
	*body = pl_null;
	ctype[0] = '\0';
	if (!msg || !mbuf_get_left(msg->mb))
		return;
	pl_set_mbuf(body, msg->mb);
	(void)re_snprintf(ctype, sz, "%r/%r%r", &msg->ctyp.type,
			  &msg->ctyp.subtype, &msg->ctyp.params);
}


static void relay_resp(struct leg *to, int err, const struct sip_msg *msg,
		       void *arg)
{
	struct relay *r = arg;
	char ctype[128];
	struct pl body;

	if (msg && msg->scode < 200)
		return;
	if (err || !msg) {
		(void)leg_reply(r->from, r->req, 408, "Request Timeout", NULL,
				NULL, NULL);
	}
	else {
		struct mbuf *hdrs = mbuf_alloc(128);
		char reason[128];

		body_of(msg, &body, ctype, sizeof(ctype));
		(void)pl_strcpy(&msg->reason, reason, sizeof(reason));
		if (hdrs && relayed_print(hdrs, msg, relayed_resp,
					  ARRAY_SIZE(relayed_resp)))
			hdrs = mem_deref(hdrs);
		(void)leg_reply(r->from, r->req, msg->scode, reason,
				hdrs ? (const char *)hdrs->buf : NULL,
				ctype[0] ? ctype : NULL, &body);
		mem_deref(hdrs);
		/* an offer and its answer went through: a refresh, with
		 * the interval its 2xx names (leg.c took note of it) */
		if (msg->scode < 300 &&
		    (0 == pl_strcmp(&r->req->met, "INVITE") ||
		     0 == pl_strcmp(&r->req->met, "UPDATE")))
			session_watch(r->br, to);
	}
	mem_deref(r);
}


static void on_request(struct leg *leg, const struct sip_msg *msg, void *arg)
{
	struct bridge *br = arg;
	struct leg *to = other(br, leg);
	bool offer = 0 == pl_strcmp(&msg->met, "INVITE") ||
		0 == pl_strcmp(&msg->met, "UPDATE");
	struct mbuf *hdrs = mbuf_alloc(256);
	char method[32], ctype[128];
	struct relay *r = NULL;
	struct pl body;
	int err = ENOMEM;

	if (offer && leg_busy(to)) {
		(void)leg_reply(leg, msg, 491, "Request Pending", NULL, NULL,
				NULL);
		mem_deref(hdrs);
		return;
	}
	r = mem_zalloc(sizeof(*r), relay_destructor);
	if (hdrs && r &&
	    !relayed_print(hdrs, msg, relayed, ARRAY_SIZE(relayed))) {
		r->br = mem_ref(br);
		r->from = mem_ref(leg);
		r->req = mem_ref((void *)msg);
		body_of(msg, &body, ctype, sizeof(ctype));
		(void)pl_strcpy(&msg->met, method, sizeof(method));
		err = leg_request(to, method, (const char *)hdrs->buf,
				  ctype[0] ? ctype : NULL, &body, relay_resp,
				  r);
	}
	if (err) {
		log_info("ua: %r not relayed: %m", &msg->met, err);
		(void)leg_reply(leg, msg, 500, "Server Internal Error", NULL,
				NULL, NULL);
		mem_deref(r);
	}
	mem_deref(hdrs);
}


/* The ACK of the asking party: the other party's 2xx is acknowledged
 * with its body. */
static void on_ack(struct leg *leg, const struct sip_msg *msg, void *arg)
{
	struct bridge *br = arg;
	struct pl body = PL_INIT;

	if (mbuf_get_left(msg->mb))
		pl_set_mbuf(&body, msg->mb);
	(void)leg_ack(other(br, leg), &body);
}


static void on_ended(struct leg *leg, uint16_t scode, const char *reason,
		     void *arg)
{
	struct bridge *br = arg;

	if (br->endh)
		br->endh(leg, scode, reason, br->arg);
}


static const struct leg_events bridge_events = {
	.request = on_request,
	.ack = on_ack,
	.ended = on_ended,
};


int bridge_alloc(struct bridge **bp, struct leg *a, struct leg *b,
		 bridge_end_h *endh, void *arg)
{
	struct bridge *br = mem_zalloc(sizeof(*br), bridge_destructor);

	if (!br)
		return ENOMEM;
	br->a = mem_ref(a);
	br->b = mem_ref(b);
	br->endh = endh;
	br->arg = arg;
	tmr_init(&br->session);
	leg_events_set(a, &bridge_events, br);
	leg_events_set(b, &bridge_events, br);
	session_watch(br, NULL);
	*bp = br;
	return 0;
}


struct bridge *bridge_close(struct bridge *br)
{
	if (!br)
		return NULL;
	br->endh = NULL;
	br->arg = NULL;
	tmr_cancel(&br->session);
	return mem_deref(br);
}

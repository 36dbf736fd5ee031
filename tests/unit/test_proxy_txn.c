/*
 * Unit tests for proxy/txn.c, the stateful proxy transaction, on libre's
 * real SIP stack over loopback UDP, all in this process: a caller (a
 * libre client transaction), the proxy (txn_start() from a request
 * listener, with a target set the test gives) and the devices (one libre
 * stack whose server transactions answer by a plan per user).
 *
 * What is checked is what the caller gets and what the devices saw, in
 * order (an event log): forking to a q group, sequential groups, the best
 * response of RFC 3261 §16.7 step 6, CANCEL (§16.10), Timer C (§16.8),
 * and GRUU targets (RFC 5627 §5.3).  Timer C is 1 s; every run of the
 * loop is bounded, and nothing asserts on durations.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include "config/config.h"
#include "keys/nodekey.h"
#include "proxy/dialog.h"
#include "proxy/route.h"
#include "proxy/stamp.h"
#include "proxy/target.h"
#include "proxy/txn.h"

enum {
	TIMER_C_S = 1,            /* proxy.timer_c of the fixture         */
	SETTLE_MS = 300,          /* after the caller's final: let CANCELs
				     and their 487s happen                */
	RUN_BOUND_MS = 8000,      /* a call that takes longer has failed  */
	STEPS_MAX = 6,
};

/* What a device does with an INVITE: answers SCODE at AT_MS after it
 * arrived, step by step; no steps: it never answers.  A CANCEL is
 * answered 487 while no final was sent. */
struct step {
	uint32_t at_ms;
	uint16_t scode;
	const char *reason;       /* NULL: a default one                 */
};

/* A device's target: any target, or a registered device's flow: the
 * first of its instance, or the next flow of the flow listed before it
 * (RFC 5626 §7). */
enum flow_role { NOT_A_FLOW, FIRST_FLOW, NEXT_FLOW };

struct device {
	const char *user;
	int q;                    /* q * 1000 of its target             */
	struct step steps[STEPS_MAX];
	enum flow_role flow;
	const char *hop;          /* NULL: the devices' UDP socket      */
};

/* Rings, keeping Timer C from firing, and answers after 1.6 s. */
#define RINGS_THEN_ANSWERS \
	{{0, 180}, {400, 183}, {800, 183}, {1200, 183}, {1600, 200}}

/* An INVITE a device is answering.  Kept until the test ends, so that
 * its server transaction absorbs retransmissions. */
struct call {
	struct le le;
	const struct device *dev;
	const struct sip_msg *msg;
	struct sip_strans *st;
	struct tmr tmr;
	unsigned next;            /* next step                           */
	bool final_sent;
};

struct fixture {
	struct locus_config cfg;
	struct listen_cfg listen;
	struct node_key *key;
	struct stamp *stamp;
	struct dialogs *dialogs;
	struct sip *caller, *proxy, *uas;
	struct sip_lsnr *proxy_lsnr, *uas_lsnr;
	struct sa proxy_addr, uas_addr;
	struct txn_env env;

	/* one call */
	enum target_kind kind;
	const struct device *devices;
	size_t devicec;
	struct list calls;          /* struct call, at the devices       */
	struct sip_request *req;    /* the caller's INVITE                */
	const struct sip_msg *final; /* what the caller got               */
	struct tmr cancel_tmr, settle_tmr, bound_tmr;
	bool timed_out;
	unsigned callno;
	unsigned tryings;           /* 100s the caller got                */
	char log[2048];
};

static struct fixture fx;


/* The log is "|event|event|...|". */
static void ev(const char *fmt, ...)
{
	size_t n = strlen(fx.log);
	va_list ap;

	va_start(ap, fmt);
	(void)re_vsnprintf(fx.log + n, sizeof(fx.log) - n, fmt, ap);
	va_end(ap);
	(void)str_ncpy(fx.log + strlen(fx.log), "|",
		       sizeof(fx.log) - strlen(fx.log));
}


static bool logged(const char *event)
{
	char pat[64];

	re_snprintf(pat, sizeof(pat), "|%s|", event);
	return NULL != strstr(fx.log, pat);
}


/* EARLIER and LATER both logged, in that order. */
static bool logged_before(const char *earlier, const char *later)
{
	const char *a = strstr(fx.log, earlier), *b = strstr(fx.log, later);

	return a && b && a < b;
}


/* ---- the devices ---------------------------------------------------- */

static const char *default_reason(uint16_t scode)
{
	static const struct { uint16_t scode; const char *reason; } r[] = {
		{180, "Ringing"}, {183, "Session Progress"}, {200, "OK"},
		{302, "Moved Temporarily"}, {401, "Unauthorized"},
		{404, "Not Found"}, {407, "Proxy Authentication Required"},
		{415, "Unsupported Media Type"}, {430, "Flow Failed"},
		{486, "Busy Here"}, {487, "Request Terminated"},
		{503, "Service Unavailable"}, {603, "Decline"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
		if (r[i].scode == scode)
			return r[i].reason;
	}
	return "Whatever";
}


static void device_reply(struct call *c, uint16_t scode, const char *reason)
{
	const char *extra =
		scode == 401 ? "WWW-Authenticate: Digest realm=\"a.example\","
			       " nonce=\"n1\"\r\n" :
		scode == 407 ? "Proxy-Authenticate: Digest realm=\"b.example\","
			       " nonce=\"n2\"\r\n" :
		scode == 302 ? "Contact: <sip:elsewhere@192.0.2.50>\r\n" : "";

	ev("%s>%u", c->dev->user, scode);
	c->final_sent = scode >= 200;
	assert_int_equal(0, sip_treplyf(&c->st, NULL, fx.uas, c->msg, true,
					scode, reason ? reason :
					default_reason(scode),
					"%sContent-Length: 0\r\n\r\n", extra));
}


static void step_due(void *arg)
{
	struct call *c = arg;
	const struct step *s = &c->dev->steps[c->next++];

	if (c->final_sent)
		return;
	device_reply(c, s->scode, s->reason);
	if (c->next < STEPS_MAX && c->dev->steps[c->next].scode)
		tmr_start(&c->tmr, c->dev->steps[c->next].at_ms - s->at_ms,
			  step_due, c);
}


static void device_cancelled(void *arg)
{
	struct call *c = arg;

	ev("%s:CANCEL", c->dev->user);
	tmr_cancel(&c->tmr);
	if (!c->final_sent)
		device_reply(c, 487, NULL);
}


static void call_destructor(void *arg)
{
	struct call *c = arg;

	tmr_cancel(&c->tmr);
	list_unlink(&c->le);
	mem_deref(c->st);
	mem_deref((void *)c->msg);
}


static const struct device *device_find(const struct pl *user)
{
	for (size_t i = 0; i < fx.devicec; i++) {
		if (0 == pl_strcmp(user, fx.devices[i].user))
			return &fx.devices[i];
	}
	return NULL;
}


static bool uas_request(const struct sip_msg *msg, void *arg)
{
	const struct device *dev = device_find(&msg->uri.user);
	struct call *c;

	(void)arg;
	if (pl_strcmp(&msg->met, "INVITE") || !dev) {
		if (pl_strcmp(&msg->met, "ACK"))
			ev("unexpected %r to %r", &msg->met, &msg->uri.user);
		return true;
	}
	ev("%s:INVITE", dev->user);
	c = mem_zalloc(sizeof(*c), call_destructor);
	assert_non_null(c);
	c->dev = dev;
	c->msg = mem_ref((void *)msg);
	tmr_init(&c->tmr);
	list_append(&fx.calls, &c->le, c);
	assert_int_equal(0, sip_strans_alloc(&c->st, fx.uas, msg,
					     device_cancelled, c));
	if (dev->steps[0].scode)
		tmr_start(&c->tmr, dev->steps[0].at_ms, step_due, c);
	return true;
}


/* ---- the proxy ------------------------------------------------------ */

static bool proxy_request(const struct sip_msg *msg, void *arg)
{
	struct target_set ts = {.kind = fx.kind};
	struct route_info ri;

	(void)arg;
	if (0 == pl_strcmp(&msg->met, "ACK"))
		return true;
	list_init(&ts.targets);
	for (size_t i = 0; i < fx.devicec; i++) {
		const struct device *dev = &fx.devices[i];
		struct target *t = NULL;

		assert_int_equal(0, target_alloc(&t));
		t->q = dev->q;
		assert_int_equal(0, re_sdprintf(&t->ruri, "sip:%s@%J",
						dev->user, &fx.uas_addr));
		if (dev->hop)
			assert_int_equal(0, str_dup(&t->hop, dev->hop));
		else
			assert_int_equal(0, re_sdprintf(&t->hop,
					 "sip:%J;transport=udp", &fx.uas_addr));
		if (dev->flow != NOT_A_FLOW)
			assert_int_equal(0, str_dup(&t->binding, dev->user));
		if (dev->flow == NEXT_FLOW) {
			struct target *first = list_ledata(
				list_tail(&ts.targets));
			assert_non_null(first);
			list_append(&first->alts, &t->le, t);
		}
		else {
			list_append(&ts.targets, &t->le, t);
		}
	}
	assert_int_equal(0, route_preprocess(&ri, msg, &fx.cfg));
	assert_int_equal(0, txn_start(&fx.env, msg, &ri, &ts, "looph"));
	assert_int_equal(0, list_count(&ts.targets));   /* taken over */
	return true;
}


/* ---- the caller ----------------------------------------------------- */

static void settled(void *arg)
{
	(void)arg;
	re_cancel();
}


static void bound_reached(void *arg)
{
	(void)arg;
	fx.timed_out = true;
	re_cancel();
}


static void caller_response(int err, const struct sip_msg *msg, void *arg)
{
	(void)arg;
	if (err || !msg) {
		ev("caller error %m", err);
		tmr_start(&fx.settle_tmr, 0, settled, NULL);
		return;
	}
	if (msg->scode == 100) {
		++fx.tryings;
		return;
	}
	ev("caller<%u", msg->scode);
	if (msg->scode < 200)
		return;
	fx.final = mem_ref((void *)msg);
	tmr_start(&fx.settle_tmr, SETTLE_MS, settled, NULL);
}


static void caller_cancel(void *arg)
{
	(void)arg;
	ev("caller:CANCEL");
	sip_request_cancel(fx.req);
}


/*
 * One call: the caller's INVITE through the proxy to DEVICES (targets of
 * KIND, in this order), cancelled by the caller at CANCEL_MS unless 0.
 * Returns once the caller has its final response and things settled.
 */
static void call_run(enum target_kind kind, const struct device *devices,
		     size_t devicec, uint32_t cancel_ms)
{
	struct uri route;
	char route_str[64];
	struct pl pl;

	fx.kind = kind;
	fx.devices = devices;
	fx.devicec = devicec;
	fx.final = mem_deref((void *)fx.final);
	str_ncpy(fx.log, "|", sizeof(fx.log));
	fx.timed_out = false;
	fx.tryings = 0;
	++fx.callno;

	re_snprintf(route_str, sizeof(route_str), "sip:%J", &fx.proxy_addr);
	pl_set_str(&pl, route_str);
	assert_int_equal(0, uri_decode(&route, &pl));
	assert_int_equal(0, sip_requestf(&fx.req, fx.caller, true, "INVITE",
		"sip:bob@example.com", &route, NULL, NULL, caller_response,
		NULL,
		"To: <sip:bob@example.com>\r\n"
		"From: <sip:alice@example.com>;tag=caller%u\r\n"
		"Call-ID: txn-test-%u\r\n"
		"CSeq: 1 INVITE\r\n"
		"Contact: <sip:alice@127.0.0.1:5999>\r\n"
		"Content-Length: 0\r\n\r\n", fx.callno, fx.callno));
	if (cancel_ms)
		tmr_start(&fx.cancel_tmr, cancel_ms, caller_cancel, NULL);
	tmr_start(&fx.bound_tmr, RUN_BOUND_MS, bound_reached, NULL);
	(void)re_main(NULL);
	tmr_cancel(&fx.bound_tmr);
	tmr_cancel(&fx.cancel_tmr);
	print_message("  %s\n", fx.log);
	assert_false(fx.timed_out);
	assert_non_null(fx.final);
}


static void assert_final(uint16_t scode, const char *reason)
{
	char buf[64];

	assert_int_equal(scode, fx.final->scode);
	assert_string_equal(reason, (pl_strcpy(&fx.final->reason, buf,
					       sizeof(buf)), buf));
}


/* ---- set-up --------------------------------------------------------- */

static void stack_new(struct sip **sipp, struct sa *addr)
{
	struct sa any;

	assert_int_equal(0, sip_alloc(sipp, NULL, 32, 32, 32, "txn-test",
				      NULL, NULL));
	assert_int_equal(0, sa_set_str(&any, "127.0.0.1", 0));
	assert_int_equal(0, sip_transp_add(*sipp, SIP_TRANSP_UDP, &any));
	if (addr)
		assert_int_equal(0, sip_transp_laddr(*sipp, addr,
						     SIP_TRANSP_UDP, NULL));
}


static int setup(void **state)
{
	static char dom[] = "example.com";
	static char *domains[] = {dom};
	uint8_t raw[32] = {3, 1, 4};

	(void)state;
	memset(&fx, 0, sizeof(fx));
	assert_int_equal(0, libre_init());
	stack_new(&fx.caller, NULL);
	stack_new(&fx.proxy, &fx.proxy_addr);
	stack_new(&fx.uas, &fx.uas_addr);
	assert_int_equal(0, sip_listen(&fx.proxy_lsnr, fx.proxy, true,
				       proxy_request, NULL));
	assert_int_equal(0, sip_listen(&fx.uas_lsnr, fx.uas, true,
				       uas_request, NULL));

	fx.cfg.domains = domains;
	fx.cfg.domainc = 1;
	fx.listen.tp = SIP_TRANSP_UDP;
	fx.listen.addr = fx.proxy_addr;
	fx.cfg.listen = &fx.listen;
	fx.cfg.listenc = 1;
	fx.cfg.log_level = LOG_LEVEL_ERROR;
	fx.cfg.timer_c = TIMER_C_S;
	assert_int_equal(0, node_key_from_bytes(&fx.key, raw));
	assert_int_equal(0, stamp_alloc(&fx.stamp, fx.key));
	assert_int_equal(0, dialogs_alloc(&fx.dialogs, fx.stamp, &fx.cfg));
	fx.env = (struct txn_env){fx.proxy, &fx.cfg, fx.stamp, fx.dialogs};
	list_init(&fx.calls);
	tmr_init(&fx.cancel_tmr);
	tmr_init(&fx.settle_tmr);
	tmr_init(&fx.bound_tmr);
	return 0;
}


static int teardown(void **state)
{
	(void)state;
	tmr_cancel(&fx.settle_tmr);
	list_flush(&fx.calls);
	/* every transaction still open ends now (ECONNABORTED) */
	sip_close(fx.caller, true);
	sip_close(fx.proxy, true);
	fx.req = mem_deref(fx.req);
	fx.final = mem_deref((void *)fx.final);
	fx.proxy_lsnr = mem_deref(fx.proxy_lsnr);
	fx.uas_lsnr = mem_deref(fx.uas_lsnr);
	fx.caller = mem_deref(fx.caller);
	fx.proxy = mem_deref(fx.proxy);
	fx.uas = mem_deref(fx.uas);
	fx.dialogs = mem_deref(fx.dialogs);
	fx.stamp = mem_deref(fx.stamp);
	fx.key = mem_deref(fx.key);
	libre_close();
	return 0;
}


/* ---- the tests ------------------------------------------------------ */

/* §16.6: every target of the best q at once; a provisional goes up at
 * once; a 2xx goes up whatever the others said. */
static void test_q_group_forked_in_parallel(void **state)
{
	static const struct device devs[] = {
		{"a", 1000, {{100, 486}}},
		{"b", 1000, {{0, 180}, {250, 200}}},
	};

	call_run(TARGET_AOR, devs, 2, 0);
	assert_final(200, "OK");
	assert_true(logged_before("b:INVITE", "a>486"));
	assert_true(logged_before("a:INVITE", "a>486"));
	assert_true(logged_before("caller<180", "caller<200"));
}


/* §16.6: the next q group only once the previous one failed; a 2xx ends
 * the search. */
static void test_q_groups_tried_in_turn(void **state)
{
	static const struct device devs[] = {
		{"low", 300, {{0, 200}}},
		{"high", 1000, {{50, 486}}},
		{"mid", 500, {{50, 200}}},
	};

	call_run(TARGET_AOR, devs, 3, 0);
	assert_final(200, "OK");
	assert_string_equal("|high:INVITE|high>486|mid:INVITE|mid>200|"
			    "caller<200|", fx.log);
}


/* §16.7 step 5: a 6xx ends the search: the other branches are cancelled,
 * no further group is tried, the 6xx goes up. */
static void test_6xx_cancels_the_rest(void **state)
{
	static const struct device devs[] = {
		{"ringing", 1000, RINGS_THEN_ANSWERS},
		{"challenger", 1000, {{50, 401}}},
		{"decliner", 1000, {{100, 603}}},
		{"later", 500, {{0, 200}}},
	};

	call_run(TARGET_AOR, devs, 4, 0);
	assert_final(603, "Decline");
	assert_true(logged_before("decliner>603", "ringing:CANCEL"));
	assert_true(logged("ringing>487"));
	assert_false(logged("later:INVITE"));
}


/* §16.7 step 6: a device saying the user is busy tells more than one
 * not knowing the user; a redirection beats both. */
static void test_best_response_ranked(void **state)
{
	static const struct device busy_then_unknown[] = {
		{"busy", 1000, {{50, 486}}},
		{"unknown", 1000, {{150, 404}}},
	};
	static const struct device unknown_then_busy[] = {
		{"unknown", 1000, {{50, 404}}},
		{"busy", 1000, {{150, 486}}},
	};
	static const struct device with_redirect[] = {
		{"busy", 1000, {{50, 486}}},
		{"moved", 1000, {{150, 302}}},
		{"unknown", 1000, {{100, 404}}},
	};
	static const struct device media[] = {
		{"busy", 1000, {{50, 486}}},
		{"media", 1000, {{150, 415}}},
	};

	call_run(TARGET_AOR, busy_then_unknown, 2, 0);
	assert_final(486, "Busy Here");
	call_run(TARGET_AOR, unknown_then_busy, 2, 0);
	assert_final(486, "Busy Here");
	call_run(TARGET_AOR, with_redirect, 3, 0);
	assert_final(302, "Moved Temporarily");
	/* 401, 407, 415, 420, 484 are preferred among the 4xx */
	call_run(TARGET_AOR, media, 2, 0);
	assert_final(415, "Unsupported Media Type");
}


/* §16.7 steps 6 and 7: a 401 or 407 goes up with the challenges of every
 * 401 and 407 the branches got. */
static void test_challenges_collected(void **state)
{
	static const struct device devs[] = {
		{"busy", 1000, {{20, 486}}},
		{"www", 1000, {{60, 401}}},
		{"proxy", 1000, {{120, 407}}},
	};
	const struct sip_hdr *www, *prx;

	call_run(TARGET_AOR, devs, 3, 0);
	assert_final(401, "Unauthorized");
	www = sip_msg_hdr(fx.final, SIP_HDR_WWW_AUTHENTICATE);
	prx = sip_msg_hdr(fx.final, SIP_HDR_PROXY_AUTHENTICATE);
	assert_non_null(www);
	assert_non_null(prx);
	assert_int_equal(0, pl_strcmp(&prx->val, "Digest realm=\"b.example\","
				      " nonce=\"n2\""));
}


/* §16.7 step 6: a 503 is not passed on as such (the caller would take it
 * for this proxy being unavailable). */
static void test_503_goes_up_as_500(void **state)
{
	static const struct device devs[] = {
		{"overloaded", 1000, {{20, 503}}},
	};

	call_run(TARGET_AOR, devs, 1, 0);
	assert_final(500, "Downstream Service Unavailable");
}


/* §16.8: a branch that never answers is given up at Timer C as a 408 we
 * make up; a real response of the class, even one that says little,
 * beats it. */
static void test_made_up_timeout_loses_to_real_response(void **state)
{
	static const struct device silent[] = {
		{"silent", 1000, {{0}}},
	};
	static const struct device silent_and_unknown[] = {
		{"silent", 1000, {{0}}},
		{"unknown", 1000, {{100, 404, "Not Here"}}},
	};

	call_run(TARGET_AOR, silent, 1, 0);
	assert_final(408, "Request Timeout");
	assert_false(logged("silent:CANCEL"));

	call_run(TARGET_AOR, silent_and_unknown, 2, 0);
	assert_final(404, "Not Here");
}


/* §16.8: a branch that rings past Timer C is cancelled: 487. */
static void test_timer_c_cancels_a_ringing_branch(void **state)
{
	static const struct device devs[] = {
		{"ringing", 1000, {{0, 180}}},
	};

	call_run(TARGET_AOR, devs, 1, 0);
	assert_final(487, "Request Terminated");
	assert_true(logged_before("ringing:CANCEL", "caller<487"));
}


/* §16.8: every provisional but 100 starts Timer C afresh: a device that
 * keeps reporting progress is let ring until it answers. */
static void test_timer_c_restarts_on_each_provisional(void **state)
{
	static const struct device devs[] = {
		{"progress", 1000, RINGS_THEN_ANSWERS},
	};

	call_run(TARGET_AOR, devs, 1, 0);
	assert_final(200, "OK");
	assert_false(logged("progress:CANCEL"));
}


/* Timer C is proxy.timer_c as the configuration says when the branch
 * starts: raised by a reload (the same struct, new contents), a device
 * that rings longer than the old value without reporting progress is no
 * longer cancelled. */
static void test_timer_c_follows_the_configuration(void **state)
{
	static const struct device devs[] = {
		{"slow", 1000, {{0, 180}, {1500, 200}}},
	};

	fx.cfg.timer_c = 3 * TIMER_C_S;
	call_run(TARGET_AOR, devs, 1, 0);
	assert_final(200, "OK");
	assert_false(logged("slow:CANCEL"));
}


/* §16.10: the caller's CANCEL cancels every pending branch, no further
 * group starts, and 487 goes up. */
static void test_cancel_ends_every_branch(void **state)
{
	static const struct device devs[] = {
		{"a", 1000, {{0, 180}}},
		{"b", 1000, RINGS_THEN_ANSWERS},
		{"next", 500, {{0, 200}}},
	};

	call_run(TARGET_AOR, devs, 3, 300);
	assert_final(487, "Request Terminated");
	assert_true(logged_before("caller:CANCEL", "a:CANCEL"));
	assert_true(logged_before("caller:CANCEL", "b:CANCEL"));
	assert_false(logged("next:INVITE"));
}


/* §16.10: cancelled, the request ends with 487 even when a branch was
 * given up at Timer C rather than answering the CANCEL (a CANCEL cannot
 * be sent before a provisional response). */
static void test_cancelled_silent_branch_still_487(void **state)
{
	static const struct device devs[] = {
		{"silent", 1000, {{0}}},
	};

	call_run(TARGET_AOR, devs, 1, 200);
	assert_final(487, "Request Terminated");
}


/* RFC 5627 §5.3: a GRUU tries its instance's next binding only when the
 * flow is dead (430, 408); any other failure is the device's answer. */
static void test_gruu_next_binding_only_after_dead_flow(void **state)
{
	static const struct device dead_flow[] = {
		{"flow1", 1000, {{20, 430}}},
		{"flow2", 1000, {{20, 200}}},
	};
	static const struct device busy[] = {
		{"flow1", 1000, {{20, 486}}},
		{"flow2", 1000, {{20, 200}}},
	};

	call_run(TARGET_GRUU, dead_flow, 2, 0);
	assert_final(200, "OK");
	assert_string_equal("|flow1:INVITE|flow1>430|flow2:INVITE|flow2>200|"
			    "caller<200|", fx.log);

	call_run(TARGET_GRUU, busy, 2, 0);
	assert_final(486, "Busy Here");
	assert_false(logged("flow2:INVITE"));
}


/* RFC 5626 §7: an instance's flows are tried one at a time, the next
 * when one fails with 430 or 408, and no failure goes upstream while a
 * flow is left.  The other targets fork as ever. */
static void test_next_flow_after_failed_flow(void **state)
{
	static const struct device dead_flow[] = {
		{"flow1", 1000, {{20, 430}}, FIRST_FLOW, NULL},
		{"flow2", 1000, {{20, 180}, {40, 200}}, NEXT_FLOW, NULL},
	};
	static const struct device timeout_then_busy[] = {
		{"other", 1000, {{0, 180}, {300, 486}}, NOT_A_FLOW, NULL},
		{"flow1", 1000, {{20, 408}}, FIRST_FLOW, NULL},
		{"flow2", 1000, {{20, 408}}, NEXT_FLOW, NULL},
		{"flow3", 1000, {{20, 486}}, NEXT_FLOW, NULL},
	};

	call_run(TARGET_AOR, dead_flow, 2, 0);
	assert_final(200, "OK");
	assert_string_equal("|flow1:INVITE|flow1>430|flow2:INVITE|flow2>180|"
			    "caller<180|flow2>200|caller<200|", fx.log);

	call_run(TARGET_AOR, timeout_then_busy, 4, 0);
	assert_final(486, "Busy Here");
	assert_true(logged_before("flow1>408", "flow2:INVITE"));
	assert_true(logged_before("flow2>408", "flow3:INVITE"));
	assert_true(logged("other>486"));
}


/* A flow that cannot even be sent on (here: a transport the proxy does
 * not have) is a dead flow too; a device none of whose flows work is
 * unavailable, 480, and its edge's 430 does not go upstream. */
static void test_device_without_working_flow_is_480(void **state)
{
	static const struct device unsendable[] = {
		{"flow1", 1000, {{0}}, FIRST_FLOW,
		 "sip:127.0.0.1:9;transport=tcp"},
		{"flow2", 1000, {{20, 200}}, NEXT_FLOW, NULL},
	};
	static const struct device all_dead[] = {
		{"flow1", 1000, {{20, 430}}, FIRST_FLOW, NULL},
		{"flow2", 1000, {{0}}, NEXT_FLOW,
		 "sip:127.0.0.1:9;transport=tcp"},
	};

	call_run(TARGET_AOR, unsendable, 2, 0);
	assert_final(200, "OK");
	assert_string_equal("|flow2:INVITE|flow2>200|caller<200|", fx.log);

	call_run(TARGET_GRUU, all_dead, 2, 0);
	assert_final(480, "Temporarily Unavailable");
	assert_string_equal("|flow1:INVITE|flow1>430|caller<480|", fx.log);
}


/* RFC 3261 §17.2.1: our 100 (Trying) goes up only when no response has
 * within trying_ms; a device that rings or answers at once spares it.  (A
 * long trying_ms, so that how fast this machine is does not matter.) */
static void test_trying_only_when_nothing_went_up(void **state)
{
	static const struct device rings[] = {
		{"ringing", 1000, {{0, 180}, {50, 486}}},
	};
	static const struct device answers[] = {
		{"answering", 1000, {{0, 200}}},
	};
	static const struct device slow[] = {
		{"slow", 1000, {{600, 486}}},
	};

	fx.env.trying_ms = 5000;
	call_run(TARGET_AOR, rings, 1, 0);
	assert_final(486, "Busy Here");
	assert_int_equal(0, fx.tryings);
	call_run(TARGET_AOR, answers, 1, 0);
	assert_final(200, "OK");
	assert_int_equal(0, fx.tryings);

	fx.env.trying_ms = 50;
	call_run(TARGET_AOR, slow, 1, 0);
	assert_final(486, "Busy Here");
	assert_true(fx.tryings >= 1);
	assert_string_equal("|slow:INVITE|slow>486|caller<486|", fx.log);
}


int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_q_group_forked_in_parallel),
		T(test_q_groups_tried_in_turn),
		T(test_6xx_cancels_the_rest),
		T(test_best_response_ranked),
		T(test_challenges_collected),
		T(test_503_goes_up_as_500),
		T(test_made_up_timeout_loses_to_real_response),
		T(test_timer_c_cancels_a_ringing_branch),
		T(test_timer_c_restarts_on_each_provisional),
		T(test_timer_c_follows_the_configuration),
		T(test_cancel_ends_every_branch),
		T(test_cancelled_silent_branch_still_487),
		T(test_gruu_next_binding_only_after_dead_flow),
		T(test_next_flow_after_failed_flow),
		T(test_device_without_working_flow_is_480),
		T(test_trying_only_when_nothing_went_up),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}

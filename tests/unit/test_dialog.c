/* Unit tests for proxy/dialog.c: which in-dialog requests a stamp and the
 * dialogs in memory let through, and what responses teach the memory.
 * locus listens on 192.0.2.1:5060; the caller is at 192.0.2.10:5062, the
 * callee (bob's device) at 198.51.100.2:5070. */
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

#define US      "192.0.2.1:5060"
#define CALLER  "sip:alice@192.0.2.10:5062"
#define CALLEE  "sip:dev@198.51.100.2:5070"
#define MOVED   "sip:alice@192.0.2.99:5062"
#define FOREIGN "sip:victim@203.0.113.5"

struct fixture {
	struct locus_config cfg;
	struct listen_cfg listen;
	struct node_key *key;
	struct stamp *stamp;
	struct dialogs *ds;
	struct dialog_origin orig;
	char up[STAMP_DIALOG_LEN + 1];     /* in the INVITE's Record-Route */
	char down[STAMP_DIALOG_LEN + 1];   /* in the caller's 200          */
	const char *from_user;   /* request(): a From other than the party's */
};

static struct fixture fx;


static struct sip_msg *decode(const char *fmt, ...)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(1024);
	va_list ap;

	assert_non_null(mb);
	va_start(ap, fmt);
	assert_int_equal(0, mbuf_vprintf(mb, fmt, ap));
	va_end(ap);
	mb->pos = 0;
	assert_int_equal(0, sip_msg_decode(&msg, mb));
	mem_deref(mb);
	return msg;
}


static struct sip_msg *invite(void)
{
	return decode("INVITE sip:bob@example.com SIP/2.0\r\n"
		      "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKi1\r\n"
		      "From: <sip:alice@example.com>;tag=ta\r\n"
		      "To: <sip:bob@example.com>\r\n"
		      "Call-ID: c1\r\nCSeq: 1 INVITE\r\n"
		      "Contact: <" CALLER ">\r\nContent-Length: 0\r\n\r\n");
}


/* RESP to the INVITE from bob's device (To tag TAG), with our
 * Record-Route (stamp STAMP) below the value ABOVE, if any. */
static struct sip_msg *response(uint16_t scode, const char *tag,
				const char *above, const char *stamp)
{
	return decode("SIP/2.0 %u Whatever\r\n"
		      "Via: SIP/2.0/UDP " US ";branch=z9hG4bKours\r\n"
		      "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKi1\r\n"
		      "From: <sip:alice@example.com>;tag=ta\r\n"
		      "To: <sip:bob@example.com>;tag=%s\r\n"
		      "Call-ID: c1\r\nCSeq: 1 INVITE\r\n"
		      "Record-Route: %s%s<sip:" US ";lr;ls=%s>\r\n"
		      "Contact: <" CALLEE ">\r\nContent-Length: 0\r\n\r\n",
		      scode, tag, above ? above : "", above ? ", " : "",
		      stamp);
}


static const char *party(const char *tag)
{
	return 0 == strcmp(tag, "ta") ? "alice" : "bob";
}


/* A request of the dialog: METHOD to RURI routed by STAMP (and a Route
 * value NEXT after ours, if any). */
static struct sip_msg *request(const char *method, const char *ruri,
			       const char *stamp, const char *next,
			       const char *from_tag, const char *to_tag,
			       const char *contact)
{
	/* the dialog's parties keep their URIs: alice's tag is ta */
	return decode("%s %s SIP/2.0\r\n"
		      "Via: SIP/2.0/UDP 192.0.2.77:5062;branch=z9hG4bKr\r\n"
		      "Route: <sip:" US ";lr;ls=%s>%s%s\r\n"
		      "From: <sip:%s@example.com>;tag=%s\r\n"
		      "To: <sip:%s@example.com>;tag=%s\r\n"
		      "Call-ID: c1\r\nCSeq: 5 %s\r\n%s%s%s"
		      "Content-Length: 0\r\n\r\n", method, ruri, stamp,
		      next ? ", " : "", next ? next : "",
		      fx.from_user ? fx.from_user : party(from_tag), from_tag,
		      party(to_tag), to_tag,
		      method, contact ? "Contact: <" : "",
		      contact ? contact : "", contact ? ">\r\n" : "");
}


static bool vouched(struct sip_msg *req)
{
	struct route_info ri;
	bool ok;

	assert_int_equal(0, route_preprocess(&ri, req, &fx.cfg));
	ok = dialog_vouch(fx.ds, req, &ri);
	assert_int_equal(ok, ri.in_dialog);
	mem_deref(req);
	return ok;
}


/* A final response to an in-dialog request REQ (vouched or not). */
static void in_dialog_answer(struct sip_msg *req, uint16_t scode,
			     const char *from_tag, const char *to_tag,
			     const char *contact, bool was_vouched)
{
	struct sip_msg *resp = decode(
		"SIP/2.0 %u X\r\n"
		"Via: SIP/2.0/UDP " US ";branch=z9hG4bKo2\r\n"
		"Via: SIP/2.0/UDP 192.0.2.77:5062;branch=z9hG4bKr\r\n"
		"From: <sip:x@example.com>;tag=%s\r\n"
		"To: <sip:y@example.com>;tag=%s\r\n"
		"Call-ID: c1\r\nCSeq: 5 %r\r\n%s%s%s"
		"Content-Length: 0\r\n\r\n", scode, from_tag, to_tag,
		&req->met, contact ? "Contact: <" : "",
		contact ? contact : "", contact ? ">\r\n" : "");
	struct dialog_edits ed;

	assert_int_equal(0, dialog_response(fx.ds, &ed, resp, req, NULL,
					    was_vouched, NULL));
	assert_int_equal(0, ed.n);
	mem_deref(resp);
	mem_deref(req);
}


/* A final response to a METHOD request of the dialog that was forwarded
 * statelessly: no transaction, the response alone. */
static void stateless_answer(const char *method, uint16_t scode,
			     const char *from_tag, const char *to_tag)
{
	struct sip_msg *resp = decode(
		"SIP/2.0 %u X\r\n"
		"Via: SIP/2.0/UDP " US ";branch=z9hG4bKsl0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.77:5062;branch=z9hG4bKr\r\n"
		"From: <sip:x@example.com>;tag=%s\r\n"
		"To: <sip:y@example.com>;tag=%s\r\n"
		"Call-ID: c1\r\nCSeq: 5 %s\r\n"
		"Content-Length: 0\r\n\r\n", scode, from_tag, to_tag, method);
	struct dialog_edits ed;

	assert_int_equal(0, dialog_response(fx.ds, &ed, resp, NULL, NULL,
					    false, NULL));
	assert_int_equal(0, ed.n);
	mem_deref(resp);
}


/* The call: INVITE stamped, 180 and 200 from bob (tag tb) rewritten. */
static void call(const char *above)
{
	struct sip_msg *inv = invite();
	struct dialog_edits ed;

	assert_int_equal(0, dialog_request_stamp(fx.up, &fx.orig, fx.ds,
						 inv));
	assert_int_equal('u', fx.up[0]);
	for (uint16_t scode = 180; scode <= 200; scode += 20) {
		struct sip_msg *resp = response(scode, "tb", above, fx.up);

		assert_int_equal(0, dialog_response(fx.ds, &ed, resp, inv,
						    &fx.orig, false, fx.up));
		assert_int_equal(1, ed.n);
		assert_int_equal(STAMP_DIALOG_LEN, ed.edit[0].span.l);
		assert_memory_equal(fx.up, ed.edit[0].span.p,
				    STAMP_DIALOG_LEN);
		assert_int_equal('d', ed.stamp[0]);
		strcpy(fx.down, ed.stamp);
		mem_deref(resp);
	}
	mem_deref(inv);
}


static int setup(void **state)
{
	static char dom[] = "example.com";
	static char *domains[] = {dom};
	uint8_t raw[32] = {7};

	(void)state;
	memset(&fx, 0, sizeof(fx));
	fx.cfg.domains = domains;
	fx.cfg.domainc = 1;
	fx.listen.tp = SIP_TRANSP_UDP;
	assert_int_equal(0, sa_set_str(&fx.listen.addr, "192.0.2.1", 5060));
	fx.cfg.listen = &fx.listen;
	fx.cfg.listenc = 1;
	assert_int_equal(0, node_key_from_bytes(&fx.key, raw));
	assert_int_equal(0, stamp_alloc(&fx.stamp, fx.key));
	assert_int_equal(0, dialogs_alloc(&fx.ds, fx.stamp, &fx.cfg));
	return 0;
}


static int teardown(void **state)
{
	(void)state;
	mem_deref(fx.ds);
	mem_deref(fx.stamp);
	mem_deref(fx.key);
	return 0;
}


static void test_each_side_reaches_the_other_only(void **state)
{
	(void)state;
	call(NULL);
	assert_int_equal(1, dialogs_count(fx.ds));
	assert_string_equal("192.0.2.10:5062", fx.orig.hop);
	assert_true(fx.orig.by_contact);

	/* the caller, by the 200's stamp, to bob's device */
	assert_true(vouched(request("BYE", CALLEE, fx.down, NULL, "ta", "tb",
				    NULL)));
	assert_false(vouched(request("BYE", FOREIGN, fx.down, NULL, "ta",
				     "tb", NULL)));
	assert_false(vouched(request("BYE", CALLEE, fx.down, NULL, "ta",
				     "other", NULL)));
	/* a party speaking as someone else under its stamp */
	fx.from_user = "ceo";
	assert_false(vouched(request("MESSAGE", CALLEE, fx.down, NULL, "ta",
				     "tb", NULL)));
	assert_false(vouched(request("MESSAGE", CALLER, fx.up, NULL, "tb",
				     "ta", NULL)));
	fx.from_user = NULL;
	assert_false(vouched(request("BYE", CALLEE, fx.down, NULL, "other",
				     "tb", NULL)));
	/* bob, by the INVITE's stamp, to the caller */
	assert_true(vouched(request("INFO", CALLER, fx.up, NULL, "tb", "ta",
				    NULL)));
	assert_false(vouched(request("INFO", FOREIGN, fx.up, NULL, "tb",
				     "ta", NULL)));
	/* memory knows bob's tag: another callee tag is no callee */
	assert_false(vouched(request("INFO", CALLER, fx.up, NULL, "tx",
				     "ta", NULL)));
	/* a stamp used in the other direction */
	assert_false(vouched(request("INFO", CALLEE, fx.up, NULL, "ta", "tb",
				     NULL)));
	assert_false(vouched(request("INFO", CALLER, fx.down, NULL, "tb",
				     "ta", NULL)));
}


static void test_target_refresh_moves_the_target(void **state)
{
	struct sip_msg *reinvite;

	(void)state;
	call(NULL);
	reinvite = request("INVITE", CALLEE, fx.down, NULL, "ta", "tb", MOVED);
	in_dialog_answer(reinvite, 200, "ta", "tb", CALLEE, true);

	assert_false(vouched(request("INFO", CALLER, fx.up, NULL, "tb", "ta",
				     NULL)));
	assert_true(vouched(request("INFO", MOVED, fx.up, NULL, "tb", "ta",
				    NULL)));
	/* a refresh that failed, or was not vouched for, moves nothing */
	reinvite = request("INVITE", CALLEE, fx.down, NULL, "ta", "tb",
			   CALLER);
	in_dialog_answer(reinvite, 488, "ta", "tb", NULL, true);
	reinvite = request("INVITE", CALLEE, fx.down, NULL, "ta", "tb",
			   CALLER);
	in_dialog_answer(reinvite, 200, "ta", "tb", NULL, false);
	assert_true(vouched(request("INFO", MOVED, fx.up, NULL, "tb", "ta",
				    NULL)));
}


static void test_bye_forgets_the_dialog(void **state)
{
	(void)state;
	call(NULL);
	in_dialog_answer(request("BYE", CALLEE, fx.down, NULL, "ta", "tb",
				 NULL), 200, "ta", "tb", NULL, true);
	assert_int_equal(0, dialogs_count(fx.ds));
	/* the stamps alone still hold it to its parties, as after a restart:
	 * the callee's own tag is then not checked */
	assert_true(vouched(request("INFO", CALLER, fx.up, NULL, "tx", "ta",
				    NULL)));
	assert_false(vouched(request("INFO", FOREIGN, fx.up, NULL, "tb",
				     "ta", NULL)));
}


/* A BYE forwarded statelessly: its 2xx alone ends the dialog, whichever
 * side hung up; other answers and other methods do not. */
static void test_stateless_bye_forgets_the_dialog(void **state)
{
	(void)state;
	call(NULL);
	stateless_answer("BYE", 486, "ta", "tb");
	stateless_answer("INFO", 200, "ta", "tb");
	assert_int_equal(1, dialogs_count(fx.ds));
	stateless_answer("BYE", 200, "ta", "tb");
	assert_int_equal(0, dialogs_count(fx.ds));

	call(NULL);
	stateless_answer("BYE", 200, "tb", "ta");
	assert_int_equal(0, dialogs_count(fx.ds));
}


static void test_failed_invite_ends_early_dialogs(void **state)
{
	struct sip_msg *inv = invite(), *resp;
	struct dialog_edits ed;

	(void)state;
	assert_int_equal(0, dialog_request_stamp(fx.up, &fx.orig, fx.ds,
						 inv));
	resp = response(183, "tb", NULL, fx.up);
	assert_int_equal(0, dialog_response(fx.ds, &ed, resp, inv, &fx.orig,
					    false, fx.up));
	assert_int_equal(1, dialogs_count(fx.ds));
	dialog_request_failed(fx.ds, inv);
	assert_int_equal(0, dialogs_count(fx.ds));
	mem_deref(resp);
	mem_deref(inv);
}


/* A proxy downstream record-routed too: the caller's requests go to it,
 * not to the device, after locus. */
static void test_downstream_proxy_is_the_next_hop(void **state)
{
	const char *proxy = "<sip:203.0.113.9:5080;lr>";

	(void)state;
	call(proxy);
	assert_true(vouched(request("BYE", CALLEE, fx.down, proxy, "ta",
				    "tb", NULL)));
	assert_false(vouched(request("BYE", CALLEE, fx.down, NULL, "ta", "tb",
				     NULL)));
}


/* A response without a To tag, or a final error, still never takes the
 * upstream stamp upstream. */
static void test_every_response_loses_the_upstream_stamp(void **state)
{
	struct sip_msg *inv = invite(), *resp;
	struct dialog_edits ed;

	(void)state;
	assert_int_equal(0, dialog_request_stamp(fx.up, &fx.orig, fx.ds,
						 inv));
	resp = response(486, "tb", NULL, fx.up);
	assert_int_equal(0, dialog_response(fx.ds, &ed, resp, inv, &fx.orig,
					    false, fx.up));
	assert_int_equal(1, ed.n);
	assert_int_equal('d', ed.stamp[0]);
	assert_int_equal(0, dialogs_count(fx.ds));
	mem_deref(resp);
	mem_deref(inv);
}


/* A response carrying a stamp we did not give its dialog's request
 * (forged after one of ours was seen, or copied from another call) gets
 * no stamp for the caller's side, with or without a transaction; a stray
 * 2xx of a dialog memory knows still does. */
static void test_no_stamp_for_a_forged_response(void **state)
{
	struct sip_msg *inv = invite(), *resp;
	struct dialog_edits ed;
	char other[STAMP_DIALOG_LEN + 1];

	(void)state;
	assert_int_equal(0, dialog_request_stamp(fx.up, &fx.orig, fx.ds,
						 inv));
	strcpy(other, fx.up);
	other[1] = other[1] == '0' ? '1' : '0';

	resp = response(200, "tb", NULL, other);
	assert_int_equal(0, dialog_response(fx.ds, &ed, resp, inv, &fx.orig,
					    false, fx.up));
	assert_int_equal(0, ed.n);
	mem_deref(resp);
	resp = response(200, "tb", NULL, other);
	assert_int_equal(0, dialog_response(fx.ds, &ed, resp, NULL, NULL,
					    false, NULL));
	assert_int_equal(0, ed.n);
	mem_deref(resp);
	/* our own stamp, but for a dialog memory does not know */
	resp = response(200, "tb", NULL, fx.up);
	assert_int_equal(0, dialog_response(fx.ds, &ed, resp, NULL, NULL,
					    false, NULL));
	assert_int_equal(0, ed.n);
	mem_deref(resp);

	/* the real 180, then a stray 200 of another fork */
	resp = response(180, "tb", NULL, fx.up);
	assert_int_equal(0, dialog_response(fx.ds, &ed, resp, inv, &fx.orig,
					    false, fx.up));
	assert_int_equal(1, ed.n);
	mem_deref(resp);
	resp = response(200, "tc", NULL, fx.up);
	assert_int_equal(0, dialog_response(fx.ds, &ed, resp, NULL, NULL,
					    false, NULL));
	assert_int_equal(1, ed.n);
	assert_int_equal('d', ed.stamp[0]);
	mem_deref(resp);
	mem_deref(inv);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_each_side_reaches_the_other_only, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_target_refresh_moves_the_target, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_bye_forgets_the_dialog, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_stateless_bye_forgets_the_dialog, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_failed_invite_ends_early_dialogs, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_downstream_proxy_is_the_next_hop, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_every_response_loses_the_upstream_stamp, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_no_stamp_for_a_forged_response, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

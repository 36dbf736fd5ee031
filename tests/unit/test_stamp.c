/* Unit tests for proxy/stamp.c: a stamp is HMAC-SHA256 under a key derived
 * from the node key with HKDF, cut to 64 bits (Via) or 128 bits (dialog),
 * the same on every node (a node verifies what another made). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <re.h>
#include "keys/hkdf.h"
#include "keys/nodekey.h"
#include "proxy/stamp.h"

struct fixture {
	uint8_t raw[32];             /* the node key's bytes */
	struct node_key *key;
	struct stamp *stamp;
};

static int setup(void **state)
{
	static struct fixture f;

	for (int i = 0; i < 32; i++)
		f.raw[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(0, node_key_from_bytes(&f.key, f.raw));
	assert_int_equal(0, stamp_alloc(&f.stamp, f.key));
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	mem_deref(f->stamp);
	mem_deref(f->key);
	return 0;
}

/* The key for LABEL, computed from the node key's bytes: HKDF-SHA256
 * (RFC 5869, the primitive test_nodekey checks against the RFC's test
 * vectors), no salt, the label as the info. */
static void derive(uint8_t out[32], const uint8_t raw[32], const char *label)
{
	assert_int_equal(0, hkdf_sha256(out, 32, raw, 32, NULL, 0,
					(const uint8_t *)label,
					strlen(label)));
}

/* The stamp computed the plain way: HMAC() with the derived key. */
static void expected(char out[STAMP_VIA_LEN + 1], const uint8_t raw[32],
		     const char *label, const char *msg)
{
	uint8_t derived[32], md[32];
	unsigned len = sizeof(md);

	derive(derived, raw, label);
	assert_non_null(HMAC(EVP_sha256(), derived, 32, (const uint8_t *)msg,
			     strlen(msg), md, &len));
	assert_int_equal(STAMP_VIA_LEN,
			 re_snprintf(out, STAMP_VIA_LEN + 1, "%w", md,
				     (size_t)STAMP_VIA_LEN / 2));
}

static void test_via_stamp_is_hmac_of_derived_key(void **state)
{
	struct fixture *f = *state;
	char got[STAMP_VIA_LEN + 1], want[STAMP_VIA_LEN + 1];
	struct pl branch = PL("z9hG4bK-abc123");

	/* twice: the context is reused, the second must equal the first */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(0, stamp_via(got, f->stamp, &branch));
		expected(want, f->raw, "locus via stamp", "z9hG4bK-abc123");
		assert_string_equal(want, got);
	}
}

/* HMAC over the letter, then each field with its 16-bit length first. */
static void expected_dialog(char out[STAMP_DIALOG_LEN + 1],
			    const uint8_t raw[32], char letter,
			    const char *const *fields, size_t n)
{
	uint8_t derived[32], md[32], buf[1024];
	unsigned len = sizeof(md);
	size_t used = 0;

	buf[used++] = 0;
	buf[used++] = 1;
	buf[used++] = (uint8_t)letter;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(fields[i]);
		buf[used++] = (uint8_t)(l >> 8);
		buf[used++] = (uint8_t)l;
		memcpy(buf + used, fields[i], l);
		used += l;
	}
	derive(derived, raw, "locus dialog stamp");
	assert_non_null(HMAC(EVP_sha256(), derived, 32, buf, used, md, &len));
	out[0] = letter;
	assert_int_equal(STAMP_DIALOG_LEN - 1,
			 re_snprintf(out + 1, STAMP_DIALOG_LEN, "%w", md,
				     (size_t)(STAMP_DIALOG_LEN - 1) / 2));
}

static void test_dialog_stamp_is_hmac_of_fields(void **state)
{
	struct fixture *f = *state;
	char got[STAMP_DIALOG_LEN + 1], want[STAMP_DIALOG_LEN + 1];
	struct stamp_dialog_fields fl = {
		.callid = PL("a84b4c76e66710@pc33.example.com"),
		.caller_tag = PL("1928301774"),
		.callee_tag = PL("a6c85cf"),
		.hop = PL("192.0.2.4:5060"),
		.caller = PL("alice@example.com"),
		.callee = PL("bob@example.com"),
	};
	const char *up[] = {"a84b4c76e66710@pc33.example.com", "1928301774",
			    "192.0.2.4:5060", "alice@example.com",
			    "bob@example.com"};
	const char *down[] = {"a84b4c76e66710@pc33.example.com",
			      "1928301774", "192.0.2.4:5060",
			      "alice@example.com", "bob@example.com",
			      "a6c85cf"};

	/* the callee's tag does not exist yet when the upstream stamp is
	 * made: it is not part of it */
	assert_int_equal(0, stamp_dialog(got, f->stamp, STAMP_TO_CALLER, &fl));
	expected_dialog(want, f->raw, 'u', up, 5);
	assert_string_equal(want, got);
	assert_int_equal(0, stamp_dialog(got, f->stamp, STAMP_TO_CALLEE, &fl));
	expected_dialog(want, f->raw, 'd', down, 6);
	assert_string_equal(want, got);
}

/* A request decoded by libre, as the proxy sees it. */
/* The dialog's parties keep their URIs: alice made it (tag "caller"),
 * bob answered. */
static const char *party(const char *tag)
{
	return 0 == strcmp(tag, "caller") ? "alice" : "bob";
}


static struct sip_msg *request(const char *from_tag, const char *to_tag)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(512);

	assert_non_null(mb);
	assert_int_equal(0, mbuf_printf(mb,
		"BYE sip:bob@192.0.2.4 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK776asdhds\r\n"
		"Max-Forwards: 70\r\n"
		"To: <sip:%s@Example.COM>;tag=%s\r\n"
		"From: <sip:%s@example.com>;tag=%s\r\n"
		"Call-ID: a84b4c76e66710@pc33.example.com\r\n"
		"CSeq: 2 BYE\r\n"
		"Content-Length: 0\r\n\r\n", party(to_tag), to_tag,
		party(from_tag), from_tag));
	mb->pos = 0;
	assert_int_equal(0, sip_msg_decode(&msg, mb));
	mem_deref(mb);
	return msg;
}

static void test_dialog_check_binds_tags_and_hop(void **state)
{
	struct fixture *f = *state;
	char up[STAMP_DIALOG_LEN + 1], down[STAMP_DIALOG_LEN + 1];
	struct stamp_dialog_fields fl = {
		.callid = PL("a84b4c76e66710@pc33.example.com"),
		.caller_tag = PL("caller"),
		.callee_tag = PL("callee"),
		.hop = PL("192.0.2.4:5060"),
		.caller = PL("alice@example.com"),
		.callee = PL("bob@example.com"),
	};
	struct pl hop = PL("192.0.2.4:5060"), other = PL("198.51.100.7:5060");
	struct sip_msg *to_callee = request("caller", "callee");
	struct sip_msg *to_caller = request("callee", "caller");
	struct sip_msg *wrong_tag = request("caller", "someone");
	enum stamp_dir dir;
	struct pl t;

	assert_int_equal(0, stamp_dialog(up, f->stamp, STAMP_TO_CALLER, &fl));
	assert_int_equal(0, stamp_dialog(down, f->stamp, STAMP_TO_CALLEE,
					 &fl));

	/* the callee's request to the caller's hop */
	pl_set_str(&t, up);
	assert_true(stamp_dialog_check(f->stamp, &t, to_caller, &hop, &dir));
	assert_int_equal(STAMP_TO_CALLER, dir);
	assert_false(stamp_dialog_check(f->stamp, &t, to_caller, &other,
					&dir));
	/* the caller's tag is the To tag of such a request, nothing else */
	assert_false(stamp_dialog_check(f->stamp, &t, to_callee, &hop, &dir));

	/* the caller's request to the callee's hop: both tags bound */
	pl_set_str(&t, down);
	assert_true(stamp_dialog_check(f->stamp, &t, to_callee, &hop, &dir));
	assert_int_equal(STAMP_TO_CALLEE, dir);
	assert_false(stamp_dialog_check(f->stamp, &t, to_callee, &other,
					&dir));
	assert_false(stamp_dialog_check(f->stamp, &t, wrong_tag, &hop, &dir));
	assert_false(stamp_dialog_check(f->stamp, &t, to_caller, &hop, &dir));

	/* the parties are bound: a request with the right tags but another
	 * From is nobody's the stamp vouches for */
	struct sip_msg *spoofed = request("caller", "callee");
	spoofed->from.uri.user = (struct pl)PL("ceo");
	assert_false(stamp_dialog_check(f->stamp, &t, spoofed, &hop, &dir));
	mem_deref(spoofed);

	/* the letter is bound: an upstream stamp relabelled is no downstream
	 * one, a shortened one is nothing */
	up[0] = 'd';
	pl_set_str(&t, up);
	assert_false(stamp_dialog_check(f->stamp, &t, to_caller, &hop, &dir));
	pl_set_str(&t, down);
	t.l--;
	assert_false(stamp_dialog_check(f->stamp, &t, to_callee, &hop, &dir));

	mem_deref(to_callee);
	mem_deref(to_caller);
	mem_deref(wrong_tag);
}

/* A MAC that cannot be computed (here: a field too long to be prefixed
 * with its length) is an error, never a stamp of zeros that anyone could
 * write and that would then be accepted. */
static void test_mac_failure_fails_closed(void **state)
{
	struct fixture *f = *state;
	char out[STAMP_DIALOG_LEN + 1], via[STAMP_VIA_LEN + 1];
	static char huge[70000];
	struct stamp_dialog_fields fl = {.caller_tag = PL("x"),
					 .hop = PL("192.0.2.4:5060"),
					 .caller = PL("alice@example.com"),
					 .callee = PL("bob@example.com")};
	struct pl branch = {huge, sizeof(huge)}, zeros;

	memset(huge, 'z', sizeof(huge));
	fl.callid = branch;
	assert_int_not_equal(0, stamp_dialog(out, f->stamp, STAMP_TO_CALLER,
					     &fl));
	assert_int_not_equal(0, stamp_via(via, f->stamp, &branch));
	pl_set_str(&zeros, "0000000000000000");
	assert_false(stamp_via_check(f->stamp, &branch, &zeros));
}

static void test_via_tag_is_no_dialog_stamp(void **state)
{
	struct fixture *f = *state;
	char tag[STAMP_VIA_LEN + 1];
	struct pl branch = PL("z9hG4bK-1"), t, hop = PL("192.0.2.4:5060");
	struct sip_msg *msg = request("caller", "callee");
	enum stamp_dir dir;

	assert_int_equal(0, stamp_via(tag, f->stamp, &branch));
	pl_set_str(&t, tag);
	assert_false(stamp_dialog_check(f->stamp, &t, msg, &hop, &dir));
	mem_deref(msg);
}

static void test_check_accepts_own_rejects_others(void **state)
{
	struct fixture *f = *state;
	char tag[STAMP_VIA_LEN + 1];
	struct pl branch = PL("z9hG4bK-1"), other = PL("z9hG4bK-2"), t;

	assert_int_equal(0, stamp_via(tag, f->stamp, &branch));
	pl_set_str(&t, tag);
	assert_true(stamp_via_check(f->stamp, &branch, &t));
	assert_false(stamp_via_check(f->stamp, &other, &t));
	tag[0] = tag[0] == '0' ? '1' : '0';
	assert_false(stamp_via_check(f->stamp, &branch, &t));
	t.l = STAMP_VIA_LEN - 1;
	assert_false(stamp_via_check(f->stamp, &branch, &t));
}

/* RFC 5626 §5.2: a flow token names the flow it was made for, back to
 * the last bit (IPv4 and IPv6, the connection's identity), is 128 bits of
 * HMAC under the "locus flow token" key, and nothing else passes: not a
 * token with one character changed, nor one of another node key. */
static void test_flow_token_round_trip_and_tamper(void **state)
{
	struct fixture *f = *state;
	struct stamp_flow in[2] = {
		{.tp = SIP_TRANSP_TCP, .id = 0x0123456789abcdefULL},
		{.tp = SIP_TRANSP_UDP, .id = 0},
	}, out;
	uint8_t other_raw[32] = {1};
	struct node_key *other_key;
	struct stamp *other;
	char token[STAMP_FLOW_SIZE];
	struct pl pl;

	assert_int_equal(0, sa_set_str(&in[0].peer, "203.0.113.7", 40123));
	assert_int_equal(0, sa_set_str(&in[1].peer, "2001:db8::7", 5060));
	assert_int_equal(0, node_key_from_bytes(&other_key, other_raw));
	assert_int_equal(0, stamp_alloc(&other, other_key));

	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(0, stamp_flow(token, f->stamp, &in[i]));
		assert_int_equal(strlen(token), i ? 59 : 43);
		assert_int_equal(strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					"abcdefghijklmnopqrstuvwxyz0123456789-_"),
				 strlen(token));
		pl_set_str(&pl, token);
		assert_int_equal(0, stamp_flow_check(&out, f->stamp, &pl));
		assert_int_equal(in[i].tp, out.tp);
		assert_true(sa_cmp(&in[i].peer, &out.peer, SA_ALL));
		assert_true(in[i].id == out.id);

		assert_int_equal(EBADMSG, stamp_flow_check(&out, other, &pl));
		token[5] = token[5] == 'A' ? 'B' : 'A';
		assert_int_equal(EBADMSG, stamp_flow_check(&out, f->stamp,
							   &pl));
		pl.l -= 1;
		assert_int_equal(EBADMSG, stamp_flow_check(&out, f->stamp,
							   &pl));
	}
	pl_set_str(&pl, "alice");
	assert_int_equal(EBADMSG, stamp_flow_check(&out, f->stamp, &pl));
	mem_deref(other);
	mem_deref(other_key);
}

/* An INVITE locus's user agent sends: the origin stamp binds its method,
 * Request-URI, From and To URIs, and an expiry within the lifetime of
 * the transaction. */
static struct sip_msg *invite(const char *ruri, const char *from)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(512);

	assert_non_null(mb);
	assert_int_equal(0, mbuf_printf(mb,
		"INVITE %s SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK776asdhds\r\n"
		"Max-Forwards: 70\r\n"
		"To: <sip:alice@example.com>\r\n"
		"From: <%s>;tag=1\r\n"
		"Call-ID: c1\r\n"
		"CSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n", ruri, from));
	mb->pos = 0;
	assert_int_equal(0, sip_msg_decode(&msg, mb));
	mem_deref(mb);
	return msg;
}

static void test_origin_stamp_binds_request_and_time(void **state)
{
	struct fixture *f = *state;
	char tag[STAMP_ORIGIN_LEN + 1];
	struct stamp_origin_fields fl = {
		.method = PL("INVITE"), .ruri = PL("sip:alice@example.com"),
		.from_uri = PL("sip:bob@example.com"),
		.to_uri = PL("sip:alice@example.com"),
	};
	struct sip_msg *ok = invite("sip:alice@example.com",
				    "sip:bob@example.com");
	struct sip_msg *other_ruri = invite("sip:alice@example.com;gr=x",
					    "sip:bob@example.com");
	struct sip_msg *other_from = invite("sip:alice@example.com",
					    "sip:eve@example.com");
	const uint32_t now = 1000000;
	struct pl t;

	assert_int_equal(0, stamp_origin(tag, f->stamp, &fl,
					 now + STAMP_ORIGIN_LIFETIME));
	assert_int_equal(STAMP_ORIGIN_LEN, strlen(tag));
	pl_set_str(&t, tag);
	assert_true(stamp_origin_check(f->stamp, &t, ok, now));
	assert_true(stamp_origin_check(f->stamp, &t, ok,
				       now + STAMP_ORIGIN_LIFETIME));
	/* expired, or from too far ahead */
	assert_false(stamp_origin_check(f->stamp, &t, ok,
					now + STAMP_ORIGIN_LIFETIME + 1));
	assert_false(stamp_origin_check(f->stamp, &t, ok, now - 1));
	/* another request */
	assert_false(stamp_origin_check(f->stamp, &t, other_ruri, now));
	assert_false(stamp_origin_check(f->stamp, &t, other_from, now));
	/* a later expiry written over the stamp's */
	tag[7] = tag[7] == '0' ? '1' : '0';
	assert_false(stamp_origin_check(f->stamp, &t, ok, now));
	/* zeros, what a MAC that failed would leave, are no stamp */
	pl_set_str(&t, "00000000000000000000000000000000000000");
	assert_false(stamp_origin_check(f->stamp, &t, ok, now));
	mem_deref(ok);
	mem_deref(other_ruri);
	mem_deref(other_from);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_via_stamp_is_hmac_of_derived_key),
		cmocka_unit_test(test_dialog_stamp_is_hmac_of_fields),
		cmocka_unit_test(test_dialog_check_binds_tags_and_hop),
		cmocka_unit_test(test_mac_failure_fails_closed),
		cmocka_unit_test(test_via_tag_is_no_dialog_stamp),
		cmocka_unit_test(test_check_accepts_own_rejects_others),
		cmocka_unit_test(test_flow_token_round_trip_and_tamper),
		cmocka_unit_test(test_origin_stamp_binds_request_and_time),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

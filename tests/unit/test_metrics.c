/* Unit tests for the counters (common/metrics.c), their exposition
 * (daemon/metrics_http.c), the counting of raw SIP messages
 * (transport/wire.c) and HEP v3 packets (transport/hep.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>
#include <re.h>
#include "common/metrics.h"
#include "config/config.h"
#include "daemon/metrics_http.h"
#include "location/location.h"
#include "transport/hep.h"
#include "transport/wire.h"


static void test_histogram_buckets(void **state)
{
	static const uint64_t bounds[] = {1, 2, 4};
	struct metrics_histogram h = {bounds, 3};

	(void)state;
	metrics_observe(&h, 0);
	metrics_observe(&h, 1);    /* le="1": a bound is inclusive */
	metrics_observe(&h, 3);
	metrics_observe(&h, 4);
	metrics_observe(&h, 5);    /* +Inf */
	assert_int_equal(h.bucket[0], 2);
	assert_int_equal(h.bucket[1], 0);
	assert_int_equal(h.bucket[2], 2);
	assert_int_equal(h.bucket[3], 1);
	assert_int_equal(h.count, 5);
	assert_int_equal(h.sum, 13);
}


static void test_labels(void **state)
{
	(void)state;
	assert_int_equal(metrics_register_outcome(200), METRICS_REG_OK);
	assert_int_equal(metrics_register_outcome(401), METRICS_REG_CHALLENGED);
	assert_int_equal(metrics_register_outcome(423), METRICS_REG_REFUSED);
	assert_int_equal(metrics_register_outcome(603), METRICS_REG_REFUSED);
	assert_int_equal(metrics_register_outcome(503), METRICS_REG_FAILED);
	assert_int_equal(metrics_method("INVITE", 6), METRICS_INVITE);
	assert_int_equal(metrics_method("invite", 6), METRICS_OTHER);
	assert_int_equal(metrics_method("INVITEX", 7), METRICS_OTHER);
	assert_int_equal(metrics_method("INV", 3), METRICS_OTHER);
	assert_string_equal(metrics_method_name(METRICS_OTHER), "other");
	assert_string_equal(metrics_transport_name(SIP_TRANSP_WSS), "wss");
}


static bool classify(const char *text, struct wire_kind *k)
{
	return wire_classify((const uint8_t *)text, strlen(text), k);
}


static void test_wire_classify(void **state)
{
	struct wire_kind k;

	(void)state;
	assert_true(classify("INVITE sip:bob@example.com SIP/2.0\r\n"
			     "CSeq: 1 BYE\r\n\r\n", &k));
	assert_true(k.request);
	assert_int_equal(k.method, METRICS_INVITE);   /* the request line */

	assert_true(classify("FROB sip:x SIP/2.0\r\n\r\n", &k));
	assert_int_equal(k.method, METRICS_OTHER);

	/* a version glued to the URI is no request line (the fuzzer's find:
	 * the space before the version was read at a wrapped offset) */
	assert_false(classify("REGISTEP siTlSIP/2.0\r\n\r\n", &k));

	assert_true(classify("SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h\r\n"
			     "cseq  :  12 INVITE\r\n\r\n", &k));
	assert_false(k.request);
	assert_int_equal(k.sclass, 1);
	assert_int_equal(k.method, METRICS_INVITE);

	assert_true(classify("SIP/2.0 603 Decline\r\nCSeq:7\tPRACK\r\n", &k));
	assert_int_equal(k.sclass, 6);
	assert_int_equal(k.method, METRICS_PRACK);

	/* a CSeq in the body is no header */
	assert_true(classify("SIP/2.0 200 OK\r\nTo: <sip:a@b>\r\n\r\n"
			     "CSeq: 1 INVITE\r\n", &k));
	assert_int_equal(k.method, METRICS_OTHER);
	/* nor a header whose name only starts with CSeq */
	assert_true(classify("SIP/2.0 200 OK\r\nCSeqX: 1 INVITE\r\n\r\n", &k));
	assert_int_equal(k.method, METRICS_OTHER);

	assert_false(classify("\r\n\r\n", &k));              /* keep-alive */
	assert_false(classify("SIP/2.0 999 Odd\r\n\r\n", &k));
	assert_false(classify("SIP/2.0 ", &k));
	assert_false(classify("GET / HTTP/1.1\r\n\r\n", &k));
	assert_false(classify("hello", &k));
	assert_false(classify(" INVITE sip:x SIP/2.0\r\n", &k));
}


static void test_wire_count(void **state)
{
	const char req[] = "BYE sip:a@b SIP/2.0\r\n\r\n";
	const char resp[] = "SIP/2.0 481 No\r\nCSeq: 2 BYE\r\n\r\n";
	uint64_t r0 = metrics.requests[METRICS_RECEIVED][METRICS_BYE];
	uint64_t s0 = metrics.responses[METRICS_SENT][METRICS_BYE][3];

	(void)state;
	wire_count(false, (const uint8_t *)req, strlen(req));
	wire_count(true, (const uint8_t *)resp, strlen(resp));
	wire_count(true, (const uint8_t *)"\r\n\r\n", 4);
	assert_int_equal(metrics.requests[METRICS_RECEIVED][METRICS_BYE],
			 r0 + 1);
	assert_int_equal(metrics.responses[METRICS_SENT][METRICS_BYE][3],
			 s0 + 1);
}


/* The chunk of TYPE in the HEP packet MB, or NULL. */
static const uint8_t *chunk(const struct mbuf *mb, uint16_t type,
			    size_t *len)
{
	size_t pos = 6;

	while (pos + 6 <= mb->end) {
		const uint8_t *c = mb->buf + pos;
		size_t clen = (size_t)(c[4] << 8 | c[5]);

		assert_int_equal(c[0] << 8 | c[1], 0);   /* vendor */
		assert_true(clen >= 6 && pos + clen <= mb->end);
		if ((c[2] << 8 | c[3]) == type) {
			*len = clen - 6;
			return c + 6;
		}
		pos += clen;
	}
	assert_int_equal(pos, mb->end);   /* lengths add up exactly */
	return NULL;
}


static void test_hep_ipv4(void **state)
{
	const char msg[] = "OPTIONS sip:a@b SIP/2.0\r\n\r\n";
	struct sa src, dst;
	struct mbuf *mb = mbuf_alloc(256);
	const uint8_t *v;
	size_t len;

	(void)state;
	assert_int_equal(0, sa_set_str(&src, "192.0.2.1", 5060));
	assert_int_equal(0, sa_set_str(&dst, "192.0.2.2", 5070));
	assert_int_equal(0, hep_encode(mb, &(struct hep_capture){
		SIP_TRANSP_TCP, &src, &dst, 1700000000123456ULL, 9,
		(const uint8_t *)msg, strlen(msg)}));
	assert_memory_equal(mb->buf, "HEP3", 4);
	assert_int_equal(mb->buf[4] << 8 | mb->buf[5], mb->end);

	v = chunk(mb, 1, &len);
	assert_non_null(v);
	assert_int_equal(len, 1);
	assert_int_equal(v[0], 2);                  /* IPv4 */
	v = chunk(mb, 2, &len);
	assert_int_equal(v[0], 6);                  /* TCP */
	v = chunk(mb, 3, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(v, "\xc0\x00\x02\x01", 4);
	v = chunk(mb, 4, &len);
	assert_memory_equal(v, "\xc0\x00\x02\x02", 4);
	v = chunk(mb, 7, &len);
	assert_int_equal(v[0] << 8 | v[1], 5060);
	v = chunk(mb, 8, &len);
	assert_int_equal(v[0] << 8 | v[1], 5070);
	v = chunk(mb, 9, &len);
	assert_int_equal((uint32_t)(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]),
			 1700000000u);
	v = chunk(mb, 10, &len);
	assert_int_equal(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3], 123456);
	v = chunk(mb, 11, &len);
	assert_int_equal(v[0], 1);                  /* SIP */
	v = chunk(mb, 12, &len);
	assert_int_equal(v[3], 9);
	v = chunk(mb, 15, &len);
	assert_int_equal(len, strlen(msg));
	assert_memory_equal(v, msg, len);
	assert_null(chunk(mb, 5, &len));            /* no IPv6 */
	mem_deref(mb);
}


static void test_hep_ipv6_and_refusals(void **state)
{
	static uint8_t big[65535];
	struct sa src6, dst6, dst4;
	struct mbuf *mb = mbuf_alloc(256);
	const uint8_t *v;
	size_t len;

	(void)state;
	assert_int_equal(0, sa_set_str(&src6, "2001:db8::1", 5060));
	assert_int_equal(0, sa_set_str(&dst6, "2001:db8::2", 5061));
	assert_int_equal(0, sa_set_str(&dst4, "192.0.2.2", 5070));
	assert_int_equal(0, hep_encode(mb, &(struct hep_capture){
		SIP_TRANSP_UDP, &src6, &dst6, 0, 1, (const uint8_t *)"x", 1}));
	v = chunk(mb, 1, &len);
	assert_int_equal(v[0], 10);
	v = chunk(mb, 2, &len);
	assert_int_equal(v[0], 17);                 /* UDP */
	v = chunk(mb, 6, &len);
	assert_int_equal(len, 16);
	assert_int_equal(v[15], 2);
	assert_null(chunk(mb, 3, &len));

	mb->pos = mb->end = 0;
	assert_int_equal(EAFNOSUPPORT, hep_encode(mb, &(struct hep_capture){
		SIP_TRANSP_UDP, &src6, &dst4, 0, 1, (const uint8_t *)"x", 1}));
	assert_int_equal(EMSGSIZE, hep_encode(mb, &(struct hep_capture){
		SIP_TRANSP_UDP, &src6, &dst6, 0, 1, big, sizeof(big)}));
	mem_deref(mb);
}


/* Every line a comment or "name[{labels}] value"; every family with HELP
 * and TYPE; counters named _total. */
static void test_exposition(void **state)
{
	struct locus_config cfg;
	struct location *loc = NULL;
	struct metrics_http *mh = NULL;
	char errbuf[128];
	char *text = NULL, *line, *save = NULL;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(0, location_alloc(&loc));
	assert_int_equal(0, metrics_http_alloc(&mh, &cfg, loc, errbuf,
					       sizeof(errbuf)));
	++metrics.gruu_lookups[METRICS_GRUU_UNAVAILABLE];
	metrics_observe(&metrics.commit_us, 1500);
	assert_int_equal(0, re_sdprintf(&text, "%H", metrics_http_print, mh));

	assert_non_null(strstr(text, "\nlocus_gruu_lookups_total{result="
			       "\"unavailable\"} 1\n"));
	assert_non_null(strstr(text, "\nlocus_db_commit_duration_seconds_bucket"
			       "{le=\"0.001000\"} 0\n"));
	assert_non_null(strstr(text, "\nlocus_db_commit_duration_seconds_bucket"
			       "{le=\"0.002500\"} 1\n"));
	assert_non_null(strstr(text, "\nlocus_db_commit_duration_seconds_sum"
			       " 0.001500\n"));
	assert_non_null(strstr(text, "\nlocus_bindings 0\n"));
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# TYPE ", 7)) {
			char *name = line + 7, *type = strchr(name, ' ');
			size_t n;

			assert_non_null(type);
			n = (size_t)(type - name);
			if (!strcmp(type + 1, "counter"))
				assert_memory_equal(name + n - 6, "_total", 6);
			continue;
		}
		if (line[0] == '#') {
			assert_memory_equal(line, "# HELP locus_", 13);
			continue;
		}
		assert_memory_equal(line, "locus_", 6);
		assert_non_null(strrchr(line, ' '));
	}
	mem_deref(text);
	mem_deref(mh);
	mem_deref(loc);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_histogram_buckets),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_wire_classify),
		cmocka_unit_test(test_wire_count),
		cmocka_unit_test(test_hep_ipv4),
		cmocka_unit_test(test_hep_ipv6_and_refusals),
		cmocka_unit_test(test_exposition),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

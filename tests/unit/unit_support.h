/* Shared helpers for the registrar/location unit tests: a hand-filled
 * configuration, SIP messages decoded from text, REGISTER builders.
 * Include after <cmocka.h>.  Everything is static inline so that a test
 * that uses only some of it compiles without unused-function warnings. */
#ifndef LOCUS_UNIT_SUPPORT_H
#define LOCUS_UNIT_SUPPORT_H

#include <string.h>
#include <re.h>
#include "config/config.h"
#include "registrar/regreq.h"

#define UT_DOMAIN   "example.com"
#define UT_AOR_URI  "sip:alice@example.com"
#define UT_AOR_KEY  "alice@example.com"
#define UT_SRC_IP   "192.0.2.10"
#define UT_SRC_PORT 5062
#define UT_UUID1    "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
#define UT_UUID2    "urn:uuid:00000000-0000-1000-8000-000000000002"
#define UT_UUID3    "urn:uuid:00000000-0000-1000-8000-000000000003"


/* domains {"example.com"}, min 60, default 3600, max 7200, 4 contacts. */
static inline void ut_config(struct locus_config *cfg)
{
	static char dom[] = UT_DOMAIN;
	static char *domains[] = {dom};

	memset(cfg, 0, sizeof(*cfg));
	cfg->domains = domains;
	cfg->domainc = 1;
	cfg->min_expires = 60;
	cfg->default_expires = 3600;
	cfg->max_expires = 7200;
	cfg->max_contacts = 4;
	cfg->log_level = LOG_LEVEL_ERROR;
}


/* Decodes TEXT as a SIP message received over UDP from UT_SRC_IP. */
static inline struct sip_msg *ut_msg_decode(const char *text)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(strlen(text) + 1);

	assert_non_null(mb);
	assert_int_equal(0, mbuf_write_str(mb, text));
	mb->pos = 0;
	assert_int_equal(0, sip_msg_decode(&msg, mb));
	mem_deref(mb);   /* the message holds its own reference */
	assert_non_null(msg);
	assert_int_equal(0, sa_set_str(&msg->src, UT_SRC_IP, UT_SRC_PORT));
	msg->tp = SIP_TRANSP_UDP;
	return msg;
}


/*
 * A REGISTER to RURI for AOR TO with Call-ID CALLID and CSeq CSEQ.  HDRS
 * are extra header lines, each ending in CRLF (Contact, Expires, ...).
 * Returns a mem_deref()-able string.
 */
static inline char *ut_register_text(const char *ruri, const char *to,
				     const char *callid, uint32_t cseq,
				     const char *hdrs)
{
	char *text = NULL;

	assert_int_equal(0, re_sdprintf(&text,
		"REGISTER %s SIP/2.0\r\n"
		"Via: SIP/2.0/UDP " UT_SRC_IP ":5062;branch=z9hG4bK-%s-%u\r\n"
		"Max-Forwards: 70\r\n"
		"To: <%s>\r\n"
		"From: <%s>;tag=ft-%s\r\n"
		"Call-ID: %s\r\n"
		"CSeq: %u REGISTER\r\n"
		"User-Agent: unit-test/1.0\r\n"
		"%s"
		"Content-Length: 0\r\n"
		"\r\n",
		ruri, callid, cseq, to, to, callid, callid, cseq, hdrs));
	return text;
}


/* regreq_decode() of a complete message text; returns its result. */
static inline int ut_decode_text(struct regreq **reqp, struct reg_error *rerr,
				 const struct locus_config *cfg,
				 const char *text)
{
	struct sip_msg *msg = ut_msg_decode(text);
	int err;

	*reqp = NULL;
	err = regreq_decode(reqp, msg, cfg, rerr);
	mem_deref(msg);
	if (err)
		assert_null(*reqp);
	else
		assert_non_null(*reqp);
	return err;
}


/* regreq_decode() of a REGISTER sip:example.com for alice@example.com
 * with the given Call-ID, CSeq and extra header lines. */
static inline int ut_decode(struct regreq **reqp, struct reg_error *rerr,
			    const struct locus_config *cfg,
			    const char *callid, uint32_t cseq,
			    const char *hdrs)
{
	char *text = ut_register_text("sip:" UT_DOMAIN, "sip:" UT_AOR_KEY,
				      callid, cseq, hdrs);
	int err = ut_decode_text(reqp, rerr, cfg, text);

	mem_deref(text);
	return err;
}


/* The Nth (0-based) contact of REQ, or a test failure. */
static inline const struct reg_contact *ut_contact(const struct regreq *req,
						   unsigned n)
{
	struct le *le = list_head(&req->contacts);

	while (le && n--)
		le = le->next;
	assert_non_null(le);
	return le->data;
}


static inline int ut_group_setup(void **state)
{
	(void)state;
	return libre_init();
}


static inline int ut_group_teardown(void **state)
{
	(void)state;
	libre_close();
	return 0;
}

#endif

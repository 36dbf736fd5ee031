/* A REGISTER request, decoded and checked against RFC 3261 §10.3 steps
 * 1-5 and RFC 5627 §5.1, before anything is looked up or stored. */
#ifndef LOCUS_REGREQ_H
#define LOCUS_REGREQ_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

struct binding_path;
struct locus_config;

/* Why a request is refused: the response to send. */
struct reg_error {
	uint16_t scode;
	char reason[128];
	char headers[256];      /* extra header lines, each ending in CRLF */
};

/* What a binding may hold.  Longer values are refused (400): the keys
 * must fit PostgreSQL's index rows and the AOR a notification payload. */
enum {
	AOR_MAX = 256,
	CALLID_MAX = 256,
	USER_AGENT_MAX = 512,
	CONTACT_URI_MAX = 1024,
	CONTACT_PARAMS_MAX = 1024,
	PATH_MAX_LEN = 4096,
};

/* Fills RERR with SCODE and REASON; returns EPROTO, "refuse the request". */
int reg_refuse(struct reg_error *rerr, uint16_t scode, const char *reason);

struct reg_contact {
	struct le le;
	char *uri;              /* the Contact URI                          */
	struct uri parsed;      /* slices of uri                            */
	char *params;           /* params to store: all but expires, q,
				   +sip.instance, reg-id, pub-gruu, temp-gruu */
	char *instance;         /* URN without quotes and <>, or NULL       */
	uint32_t reg_id;        /* 0 when absent (or without an instance)   */
	int q;                  /* q * 1000, -1 when absent                 */
	uint32_t expires;       /* after clamping; 0 removes the binding    */
	bool nat;               /* reached at the source (registrar/nat.h)  */
};

struct regreq {
	char *aor;              /* canonical key, "user@host"               */
	bool wildcard;          /* Contact: * (with Expires: 0)             */
	struct list contacts;   /* struct reg_contact, in request order     */
	bool gruu;              /* Supported: gruu                          */
	bool outbound;          /* RFC 5626 §6 applies: Require: outbound  */
	struct binding_path *path; /* the Path, or NULL                    */
	char *callid;
	uint32_t cseq;
	char *user_agent;       /* or NULL                                  */
	struct sa src;          /* where it came from                       */
	enum sip_transp tp;
};

/*
 * Decodes MSG.  On success returns 0 and *reqp.  When the request must be
 * refused returns EPROTO with *rerr filled in (400, 403, 404, 420, 423).
 */
int regreq_decode(struct regreq **reqp, const struct sip_msg *msg,
		  const struct locus_config *cfg, struct reg_error *rerr);

/*
 * Expiry of one Contact (RFC 3261 §10.2.1.1, §10.3 step 7): its expires
 * parameter, else the Expires header, else the default; clamped to the
 * maximum.  0 stays 0 (removal).  Returns 0, EINVAL for a malformed value,
 * or ERANGE when 0 < requested < min_expires (423).
 */
int regreq_expires(uint32_t *expiresp, const struct pl *param,
		   const struct pl *header, const struct locus_config *cfg);

/* "0.5" -> 500; returns EINVAL unless 0 <= q <= 1 with <= 3 decimals. */
int regreq_qvalue(int *qp, const struct pl *val);

#endif

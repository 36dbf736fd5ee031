/* The 200 OK to REGISTER (RFC 3261 §10.3 step 8) with the GRUUs of RFC
 * 5627 §5.2. */
#ifndef LOCUS_REG_REPLY_H
#define LOCUS_REG_REPLY_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

struct binding_path;
struct aor;
struct gruu_key;

struct reg_listing {
	const struct aor *aor;        /* NULL: no bindings                 */
	const struct gruu_key *key;
	bool gruu;                    /* the REGISTER said Supported: gruu */
	bool outbound;                /* RFC 5626 §6 applied: Require it   */
	uint32_t flow_timer;          /* Flow-Timer to send, 0: none       */
	int64_t now;                  /* seconds, for expires=<remaining>  */
};

/* The whole response to MSG into MB: the headers copied from the
 * request, one Contact per current binding, PATH (or NULL) echoed. */
int reg_reply_ok_write(struct mbuf *mb, const struct sip_msg *msg,
		       const struct reg_listing *l,
		       const struct binding_path *path);

/* Any other final response to MSG into MB: status line, the copied
 * headers, Server, the headers FMT (re_printf, each ending in CRLF; may be
 * NULL) and an empty body. */
int reg_reply_write(struct mbuf *mb, const struct sip_msg *msg,
		    uint16_t scode, const char *reason, const char *fmt, ...);

#endif

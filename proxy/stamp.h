/* Tags only a locus node can make: an HMAC-SHA256 (keyed from the shared
 * GRUU key, so every node verifies what another made) cut to 64 bits.
 *
 *  - on our Via ("lt"): a response that no transaction claims is relayed
 *    only if its top Via carries our tag (RFC 6026 §3: otherwise a proxy
 *    reflects forged 2xx to anyone);
 *  - on our Record-Route ("ls", over the Call-ID): a request routed by
 *    it is one of a dialog we record-routed, and may go to a foreign
 *    Request-URI; without it that would be relaying. */
#ifndef LOCUS_STAMP_H
#define LOCUS_STAMP_H

#include <stdbool.h>
#include <re.h>

#define STAMP_LEN 16     /* hex digits */

struct gruu_key;
struct stamp;

int  stamp_alloc(struct stamp **sp, const struct gruu_key *key);

/* OUT gets STAMP_LEN hex digits and a NUL. */
void stamp_via(char out[STAMP_LEN + 1], const struct stamp *s,
	       const struct pl *branch);
bool stamp_via_check(const struct stamp *s, const struct pl *branch,
		     const struct pl *tag);
void stamp_dialog(char out[STAMP_LEN + 1], const struct stamp *s,
		  const struct pl *callid);
bool stamp_dialog_check(const struct stamp *s, const struct pl *callid,
			const struct pl *tag);

#endif

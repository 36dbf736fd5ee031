/* The Contact list of a 2xx to REGISTER (RFC 3261 §10.3 step 8) with the
 * GRUUs of RFC 5627 §5.2. */
#ifndef LOCUS_REG_REPLY_H
#define LOCUS_REG_REPLY_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

struct aor;
struct gruu_key;

struct reg_listing {
	const struct aor *aor;        /* NULL: no bindings                 */
	const struct gruu_key *key;
	bool gruu;                    /* the REGISTER said Supported: gruu */
	int64_t now;                  /* seconds, for expires=<remaining>  */
};

/* One "Contact: ...\r\n" line per current binding.  Use with "%H". */
int reg_contacts_print(struct re_printf *pf, const struct reg_listing *l);

#endif

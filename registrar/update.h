/* What one REGISTER changes: RFC 3261 §10.3 steps 6-8 and the GRUU
 * generation rule of RFC 5627 §5.1, computed against the AOR's committed
 * state without touching it.  The update is persisted first and applied
 * to memory only once PostgreSQL has committed it. */
#ifndef LOCUS_UPDATE_H
#define LOCUS_UPDATE_H

#include <stdint.h>
#include <re.h>

struct aor;
struct db_txn;
struct location;
struct locus_config;
struct reg_error;
struct regreq;

struct reg_update {
	char *aor;              /* canonical key                          */
	struct list puts;       /* struct reg_put: new or refreshed       */
	struct list dels;       /* struct reg_del: bindings removed       */
	struct list gens;       /* struct reg_gen: GRUU state to write    */
};

/*
 * Computes the update REQ makes to AOR (NULL when the AOR has no state).
 * Returns EPROTO with *rerr set when the request must fail as a whole
 * (stale CSeq, too many contacts): a REGISTER is applied entirely or not
 * at all.
 */
int reg_update_compute(struct reg_update **upp, const struct regreq *req,
		       const struct aor *aor, const struct locus_config *cfg,
		       int64_t now_ms, struct reg_error *rerr);

bool reg_update_is_empty(const struct reg_update *up);

/* Adds the update's statements to TX. */
int reg_update_persist(const struct reg_update *up, struct db_txn *tx);

/* Makes memory match what was committed. */
int reg_update_apply(struct reg_update *up, struct location *loc);

#endif

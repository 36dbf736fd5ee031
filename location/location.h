/* location/: the location service.  Bindings and GRUU state in memory
 * (this header), expiry, temp-GRUU tokens (location/gruu.h), and their
 * rows in PostgreSQL: the SQL (location/persist.h), loading, following
 * other writers through LISTEN (location/sync.h) and deleting expired rows
 * (location/sweeper.h).  Below the registrar and the proxy; above db/ and
 * keys/.
 *
 * The location service's memory: AOR -> bindings and (AOR, instance) ->
 * GRUU state.  PostgreSQL is the source of truth; this index mirrors what
 * has been committed, so the call path never waits for the database. */
#ifndef LOCUS_LOCATION_H
#define LOCUS_LOCATION_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

struct location;
struct aor;

/* The Path of a binding (RFC 3327 §5.3): the REGISTER's Path header
 * values in order, each one value as received ("<sip:e.example.net;lr>").
 * Made whole once, then only read: a REGISTER and the bindings it makes
 * share it by reference. */
struct binding_path {
	size_t n;               /* at least 1                                */
	char *v[];              /* mem_alloc'd strings, freed with the Path  */
};

/* A Path of N values, each NULL until the caller sets it. */
int  binding_path_alloc(struct binding_path **pathp, size_t n);
/* The values as one header value, ", "-separated: "%H". */
int  binding_path_print(struct re_printf *pf, const struct binding_path *path);

/* One Contact bound to an AOR (RFC 3261 §10.3). */
struct binding {
	struct le le;           /* in aor->bindings                          */
	struct aor *aor;        /* owner; not referenced                     */
	size_t heap_idx;        /* position in the expiry heap               */

	char *key;              /* identity: see binding_key_make()          */
	char *uri;              /* Contact URI                               */
	char *params;           /* other Contact params (";+sip.ice;..."), "" */
	char *instance;         /* +sip.instance URN without <>, or NULL     */
	uint32_t reg_id;        /* RFC 5626 reg-id, 0 when absent            */
	int q;                  /* q * 1000, or -1 when the UA sent none     */
	char *callid;
	uint32_t cseq;
	int64_t expires;        /* absolute, seconds since the epoch         */
	struct binding_path *path; /* or NULL; shared, read-only             */
	struct sa received;     /* where the REGISTER came from              */
	enum sip_transp tp;     /* ... over which transport                  */
	bool nat;               /* reached at RECEIVED, not at its Contact:
				   the registrar's decision (registrar/nat.h) */
	char *user_agent;       /* or NULL                                   */
	int64_t updated_ms;     /* last refresh, ms since the epoch          */
};

/* GRUU state of one (AOR, instance): exists once the instance registered
 * (RFC 5627 §5.3: its pub-gruu stays valid while it is offline). */
struct instance_state {
	struct le le;           /* in aor->instances                         */
	char *instance;
	uint64_t generation;    /* temp-gruus of older generations are void  */
	char *callid;           /* Call-ID of its latest REGISTER            */
};

struct aor {
	struct le he;           /* in location's hash                        */
	struct list bindings;   /* struct binding, most recently updated first */
	struct list instances;  /* struct instance_state                     */
	uint32_t hash;          /* of key, compared first in a lookup        */
	char key[];             /* canonical "user@host", in the same block  */
};

int  location_alloc(struct location **locp);

/* The AOR with canonical KEY, or NULL. */
struct aor *location_aor_find(const struct location *loc, const char *key);
/* Finds or creates the AOR. */
int  location_aor_get(struct aor **aorp, struct location *loc,
		      const char *key);
uint32_t location_aor_count(const struct location *loc);
uint32_t location_binding_count(const struct location *loc);

/* Binding identity (RFC 5627 §5.1 / RFC 5626 §6): "<instance>;reg-id=N"
 * when an instance is present, else the Contact URI as first registered.
 */
int  binding_key_make(char **keyp, const char *instance, uint32_t reg_id,
		      const char *uri);

/* A new, unlinked binding with all strings empty; fill it, then insert. */
int  binding_alloc(struct binding **bp);

/*
 * Inserts B (taking the caller's reference) into AOR, replacing any
 * binding with the same key, which is freed.  Keeps the AOR's list in
 * most-recently-updated-first order and the expiry heap current.
 */
int  location_binding_put(struct location *loc, struct aor *aor,
			  struct binding *b);
struct binding *aor_binding_find(const struct aor *aor, const char *key);
void location_binding_remove(struct location *loc, struct binding *b);

struct instance_state *aor_instance_find(const struct aor *aor,
					 const char *instance);
/* Sets the GRUU state of (AOR, instance), creating it if needed. */
int  location_instance_put(struct aor *aor, const char *instance,
			   uint64_t generation, const char *callid);

/* Forgets everything about the AOR with KEY (bindings and GRUU state):
 * before its state is loaded afresh from the database. */
void location_aor_clear(struct location *loc, const char *key);

/* Calls H for every AOR; H returns true to stop. */
typedef bool (location_aor_h)(const struct aor *aor, void *arg);
void location_aors_apply(const struct location *loc, location_aor_h *h,
			 void *arg);

/* Removes every binding whose expiry is at or before NOW; returns how many. */
uint32_t location_expire(struct location *loc, int64_t now);
/* The same, telling EXPIREDH (if not NULL) of each binding before it
 * leaves memory. */
typedef void (location_expired_h)(const struct binding *b, void *arg);
uint32_t location_expire_each(struct location *loc, int64_t now,
			      location_expired_h *expiredh, void *arg);

int64_t location_now(void);       /* wall clock, seconds               */
int64_t location_now_ms(void);    /* wall clock, milliseconds          */

#endif

/* registrar/: REGISTER (RFC 3261 §10.3, GRUU RFC 5627, Path RFC 3327,
 * outbound RFC 5626): decoding (regreq.h), whether the device is behind a
 * NAT (nat.h), the binding set it makes (update.h), the answer and its
 * retransmissions (reply.h, replay.h).
 *
 * The registrar: REGISTER in, 2xx out only after PostgreSQL committed. */
#ifndef LOCUS_REGISTRAR_H
#define LOCUS_REGISTRAR_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

struct auth;
struct db;
struct gruu_key;
struct location;
struct locus_config;
struct registrar;
struct sync;

struct registrar_deps {
	struct sip *sip;
	const struct locus_config *cfg;
	struct location *loc;
	struct db *db;
	struct sync *sync;
	const struct gruu_key *gruu_key;
	struct auth *auth;           /* NULL: no authentication (auth off) */
	struct flows *flows;         /* connections devices registered over */
};

struct registrar_stats {
	uint64_t answered;        /* 2xx sent                                */
	uint64_t over_100ms;      /* of them, 100 ms or more after arrival   */
	uint64_t latency_ms_max;
};

int  registrar_alloc(struct registrar **regp,
		     const struct registrar_deps *deps);
/* Handles a REGISTER that already passed sipmsg_request_problem(). */
void registrar_handle(struct registrar *reg, const struct sip_msg *msg);
const struct registrar_stats *registrar_stats(const struct registrar *reg);
/* Whether REGISTERs are the registrar's: not when locus is the edge
 * proxy of another registrar (proxy.edge_registrar, proxy/proxy.c). */
bool registrar_active(const struct registrar *reg);

#endif

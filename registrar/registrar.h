/* The registrar: REGISTER in, 2xx out only after PostgreSQL committed. */
#ifndef LOCUS_REGISTRAR_H
#define LOCUS_REGISTRAR_H

#include <re.h>

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
};

int  registrar_alloc(struct registrar **regp,
		     const struct registrar_deps *deps);
/* Handles a REGISTER that already passed sipmsg_request_problem(). */
void registrar_handle(struct registrar *reg, const struct sip_msg *msg);

#endif

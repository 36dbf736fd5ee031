/* Replay protection for digest credentials (RFC 7616 §3.4: the nonce
 * count).  A (nonce, nc) pair is accepted once.  Counts may arrive out of
 * order (requests sent in parallel), so each nonce keeps the highest count
 * seen and a 64-wide window below it, as IPsec does for sequence numbers
 * (RFC 4303 §3.4.3).  Entries leave when their nonce has expired. */
#ifndef LOCUS_NONCE_COUNT_H
#define LOCUS_NONCE_COUNT_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

struct nonce_counts;

int nonce_counts_alloc(struct nonce_counts **ncp, uint32_t max_entries);

/* Records NC for NONCE, whose lifetime ends at EXPIRES (seconds).  False
 * when that count was used before, or is older than the window. */
bool nonce_count_use(struct nonce_counts *t, const struct pl *nonce,
		     uint32_t nc, uint64_t expires, uint64_t now);

#endif

/* REGISTERs answered over UDP, with their answers, for Timer J (RFC 3261
 * §17.2.2: 64*T1 = 32 s): a retransmission is answered again, byte for
 * byte, and never processed twice (§10.3 step 7 would refuse its CSeq).
 * One held while its request is still being processed absorbs the
 * retransmissions meanwhile (the Trying state, §17.2.2).
 *
 * Lighter than libre's server transactions, which keep the whole decoded
 * request for those 32 s: here only the key and the answer's bytes, and
 * no more than REPLAY_MAX_BYTES of them, oldest forgotten first.
 *
 * The bound: 64 MiB hold the full 40 s of answers up to about 1,500
 * REGISTERs a second (answers of about 1 KB with the key; a million
 * devices refreshing every ten minutes make 1,700), and at higher rates
 * still several seconds, more than the 4 s (T2) between a client's
 * retransmissions once its timer has backed off (§17.1.2.2). */
#ifndef LOCUS_REPLAY_H
#define LOCUS_REPLAY_H

#include <stdbool.h>
#include <re.h>

#define REPLAY_MAX_BYTES ((size_t)64 << 20)

struct replay;
struct replay_slot;

int  replay_alloc(struct replay **rpp, struct sip *sip);

/* True when MSG (a REGISTER over UDP) repeats one held here: it has been
 * answered again, or is absorbed while the first is processed.  Else
 * *SLOTP is a new slot (a reference for the caller) to answer through. */
bool replay_check(struct replay *rp, const struct sip_msg *msg,
		  struct replay_slot **slotp);

/* Sends MB, the complete answer to MSG, and keeps it in SLOT. */
int  replay_answer(struct replay_slot *slot, const struct sip_msg *msg,
		   struct mbuf *mb);

/* The cache lets go of SLOT (NULL: no-op): a retransmission of its
 * request is processed afresh.  For answers that cost nothing to give
 * again and that anyone can have, such as a challenge: an
 * unauthenticated sender must not make us hold memory for 40 s. */
void replay_forget(struct replay_slot *slot);

#endif

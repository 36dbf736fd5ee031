/* The registered devices locus failed to reach, so that each failure is
 * logged once per registration rather than once per request: a device
 * that went away without deregistering would otherwise write a line for
 * every call to it until its binding expires.  Bounded in memory. */
#ifndef LOCUS_REACHLOG_H
#define LOCUS_REACHLOG_H

#include <stdbool.h>

struct reachlog;

int  reachlog_alloc(struct reachlog **rlp);

/* Whether this is the first failure to reach BINDING (a target's
 * binding: AOR, key and refresh time) in a day; notes it.  True when RL
 * is NULL. */
bool reachlog_first(struct reachlog *rl, const char *binding);

#endif

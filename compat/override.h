/* What the start-up checks of compat/ share; see override.c. */
#ifndef LOCUS_COMPAT_OVERRIDE_H
#define LOCUS_COMPAT_OVERRIDE_H

#include <stddef.h>

/*
 * Says in ERRBUF, on one line, that libre's calls of SYMBOL do not reach
 * DEFINITION, the one in FILE (e.g. "compat/random.c"); CONSEQUENCE is
 * what that would do to locus.  The advice depends on why: not exported
 * by the executable, or exported and bypassed by libre.  Returns ENOSYS.
 */
int compat_override_fail(char *errbuf, size_t errsz, const char *file,
			 const char *symbol, const void *definition,
			 const char *consequence);

#endif

/*
 * The message of the start-up checks of compat/ when an override is not
 * in effect.
 *
 * compat/'s definitions take the place of libre's only while libre calls
 * them through its PLT and finds them first in the executable's dynamic
 * symbol table.  A libre linked with -Bsymbolic-functions, or built with
 * hidden aliases for its internal calls, binds its own instead, and so
 * does any libre when the executable does not export the name: nothing
 * fails, libre just quietly keeps its own (measured: without the export
 * of tmr_poll, libre's loop polls its own empty list and locus's timers,
 * the database flush among them, never fire).  So each file of compat/
 * has a check, called from daemon/main.c before anything is served, that
 * makes libre itself call its definitions; this file words the refusal.
 *
 * Upstream: nothing to fix.  Drop this file with the last override.
 */
#define _GNU_SOURCE   /* RTLD_DEFAULT */
#include <dlfcn.h>
#include <re.h>
#include "compat/override.h"


int compat_override_fail(char *errbuf, size_t errsz, const char *file,
			 const char *symbol, const void *definition,
			 const char *consequence)
{
	if (dlsym(RTLD_DEFAULT, symbol) != definition)
		re_snprintf(errbuf, errsz, "%s is not in effect: libre calls "
			    "its own %s(), so %s; export %s from the "
			    "executable (link it with locus_link_runtime(), "
			    "CMakeLists.txt)", file, symbol, consequence,
			    symbol);
	else
		re_snprintf(errbuf, errsz, "%s is not in effect: libre calls "
			    "its own %s(), so %s; use a libre that calls its "
			    "own functions through its PLT (one not linked "
			    "with -Bsymbolic-functions)", file, symbol,
			    consequence);
	return ENOSYS;
}

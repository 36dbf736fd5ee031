/* libre's timers on a timing wheel; see timer_wheel.c. */
#ifndef LOCUS_COMPAT_TIMER_WHEEL_H
#define LOCUS_COMPAT_TIMER_WHEEL_H

#include <stddef.h>

/*
 * Proves that libre's own calls of tmr_start(), tmr_cancel(),
 * tmr_next_timeout() and tmr_poll() reach the wheel (it takes libre's
 * place through the executable's dynamic symbol table): 0, or an error
 * with the reason in ERRBUF.  Runs one round of libre's loop: call it
 * once at start-up, before re_main().
 */
int compat_timer_check(char *errbuf, size_t errsz);

#endif

/*
 * Preloaded into sipp by the benchmarks (bench/lib.sh): sipp 3.6 reads
 * its clock with CLOCK_MONOTONIC_COARSE, which advances once per kernel
 * tick (4 ms here), so every response time it records is a multiple of
 * 4 ms -- useless for a p99 target of 2 ms.  This maps the coarse clocks
 * to their precise counterparts; sipp then records response times to
 * the microsecond.  Both servers are measured through it alike.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <time.h>

int clock_gettime(clockid_t id, struct timespec *tp)
{
	static int (*next)(clockid_t, struct timespec *);

	if (!next)
		next = (int (*)(clockid_t, struct timespec *))
			dlsym(RTLD_NEXT, "clock_gettime");
	if (id == CLOCK_MONOTONIC_COARSE)
		id = CLOCK_MONOTONIC;
	else if (id == CLOCK_REALTIME_COARSE)
		id = CLOCK_REALTIME;
	return next(id, tp);
}

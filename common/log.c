#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <re.h>
#include "common/log.h"

static enum log_level current_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};


void log_set_level(enum log_level level)
{
	current_level = level;
}


enum log_level log_get_level(void)
{
	return current_level;
}


int log_level_parse(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (name && 0 == strcmp(name, level_names[i]))
			return (int)i;
	}
	return -1;
}


const char *log_level_name(enum log_level level)
{
	return level_names[level];
}


void log_write(enum log_level level, const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32];
	va_list ap;

	if (level < current_level)
		return;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

	(void)re_fprintf(stderr, "%s.%03ldZ %-5s ", stamp,
			 ts.tv_nsec / 1000000, level_names[level]);
	va_start(ap, fmt);
	(void)re_vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
}

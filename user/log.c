#include <stdarg.h>
#include <stdio.h>
#include "log.h"

static enum tv_log_level current = TV_LOG_WARN;

void log_set_level(enum tv_log_level level)
{
	current = level;
}

enum tv_log_level log_level(void)
{
	return current;
}

void tv_log(enum tv_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > current)
		return;
	fputs("tcpvitals: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

int error_line(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

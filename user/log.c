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
	char line[1024];
	va_list ap;
	int n;

	if (level > current)
		return;
	/* one write a line: threads' lines and a journal's records stay whole */
	n = snprintf(line, sizeof(line), "tcpvitals: ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fputs(line, stderr);
}

int error_line(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

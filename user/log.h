/* One logging mechanism for the collector: stderr, prefixed "tcpvitals: ". */
#ifndef TV_LOG_H
#define TV_LOG_H

#include <stddef.h>

enum tv_log_level { TV_LOG_WARN = 0, TV_LOG_INFO = 1, TV_LOG_DEBUG = 2 };

void log_set_level(enum tv_log_level level);
enum tv_log_level log_level(void);
void tv_log(enum tv_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The one-line error a caller hands back: formats it into err, returns code. */
int error_line(char *err, size_t errlen, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define pr_warn(...) tv_log(TV_LOG_WARN, __VA_ARGS__)
#define pr_info(...) tv_log(TV_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) tv_log(TV_LOG_DEBUG, __VA_ARGS__)

#endif

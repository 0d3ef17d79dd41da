/* Kernel monotonic timestamps to wall-clock text. */
#ifndef TV_CLOCK_H
#define TV_CLOCK_H

#include <stddef.h>
#include <stdint.h>

struct tv_clock {
	int64_t mono_to_real_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC at start */
};

void clock_init(struct tv_clock *clk);
uint64_t clock_mono_now_ns(void);
/* RFC 3339, UTC, microseconds, 'Z': 2026-11-26T17:40:26.123456Z */
void clock_format_rfc3339(const struct tv_clock *clk, uint64_t mono_ns, char *buf, size_t len);
void clock_format_real(int64_t real_ns, char *buf, size_t len);

#endif

#include <stdio.h>
#include <string.h>
#include <time.h>
#include "clock.h"

static int64_t ts_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void clock_init(struct tv_clock *clk)
{
	int64_t m1 = ts_ns(CLOCK_MONOTONIC), r = ts_ns(CLOCK_REALTIME), m2 = ts_ns(CLOCK_MONOTONIC);

	clk->mono_to_real_ns = r - (m1 + (m2 - m1) / 2);
}

uint64_t clock_mono_now_ns(void)
{
	return (uint64_t)ts_ns(CLOCK_MONOTONIC);
}

void clock_format_real(int64_t real_ns, char *buf, size_t len)
{
	/* records come in bursts within one second: format that second once */
	static __thread time_t cached_sec = -1;
	static __thread char cached[48];
	time_t sec = (time_t)(real_ns / 1000000000LL);
	long usec = (long)((real_ns % 1000000000LL) / 1000);

	if (usec < 0) {
		usec += 1000000;
		sec--;
	}
	if (sec != cached_sec) {
		struct tm tm;

		gmtime_r(&sec, &tm);
		snprintf(cached, sizeof(cached), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		cached_sec = sec;
	}
	/* "YYYY-MM-DDTHH:MM:SS" ".uuuuuu" "Z": by hand, six of these go into a close */
	if (len < 28) { /* every caller has room: never a cut timestamp */
		if (len)
			buf[0] = '\0';
		return;
	}
	memcpy(buf, cached, 19);
	buf[19] = '.';
	for (int i = 25; i >= 20; i--, usec /= 10)
		buf[i] = (char)('0' + usec % 10);
	buf[26] = 'Z';
	buf[27] = '\0';
}

void clock_format_rfc3339(const struct tv_clock *clk, uint64_t mono_ns, char *buf, size_t len)
{
	clock_format_real((int64_t)mono_ns + clk->mono_to_real_ns, buf, len);
}

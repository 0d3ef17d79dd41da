/* A minimal unit-test harness: CHECK prints "ok - ..." or "not ok - ..." per
 * check; tests/run.sh counts the lines. */
#ifndef TV_UNIT_H
#define TV_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed;

#define CHECK(cond, name)                                                    \
	do {                                                                 \
		if (cond) {                                                  \
			printf("ok - %s\n", name);                           \
		} else {                                                     \
			printf("not ok - %s (%s:%d: %s)\n", name, __FILE__, __LINE__, #cond); \
			unit_failed = 1;                                     \
		}                                                            \
	} while (0)

#define CHECK_STR(actual, expected, name)                                    \
	do {                                                                 \
		const char *a_ = (actual), *e_ = (expected);                 \
		if (a_ && !strcmp(a_, e_)) {                                 \
			printf("ok - %s\n", name);                           \
		} else {                                                     \
			printf("not ok - %s: expected \"%s\", got \"%s\"\n", name, e_, a_ ? a_ : "(null)"); \
			unit_failed = 1;                                     \
		}                                                            \
	} while (0)

#define UNIT_EXIT() return unit_failed

#endif

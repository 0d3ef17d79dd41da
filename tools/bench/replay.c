/*
 * The collector alone: feeds a file of ring-buffer records (tcpvitals
 * --record FILE) through decode, connection table, verdicts and a format,
 * with TLS checks off and the output to /dev/null, and prints
 * "RECORDS SECONDS RECORDS_PER_S" for the fastest of ROUNDS passes, then
 * "SECONDS RECORDS_PER_S" of the first.
 *
 * Each pass starts with an empty collector. The heap is kept between passes
 * (glibc would give it back at each collector_free), so that the passes after
 * the first measure a collector that has run a while, as one that traces for
 * longer than a few seconds has: its connection table's memory is in place.
 * The first pass also pays the page faults of that memory.
 *
 *   replay FILE [json|text] [ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <malloc.h>
#include "cli.h"
#include "collector.h"
#include "names.h"
#include "output.h"
#include "record.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *format = argc > 2 ? argv[2] : "json";
	int rounds = argc > 3 ? atoi(argv[3]) : 5;
	struct tv_config cfg = { .tls_off = true };
	struct reason_names *names = reason_names_load(NULL);
	double best = 1e9, first = 0;
	size_t len, nrec = 0;
	uint8_t *buf;
	FILE *f;

	if (argc < 2 || !(f = fopen(argv[1], "rb"))) {
		fprintf(stderr, "usage: replay FILE [json|text] [ROUNDS]\n");
		return 2;
	}
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	rewind(f);
	buf = malloc(len);
	if (!buf || fread(buf, 1, len, f) != len) {
		fprintf(stderr, "replay: cannot read %s\n", argv[1]);
		return 1;
	}
	fclose(f);
	cfg.all = !strcmp(format, "text");
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	for (int r = 0; r < rounds; r++) {
		struct output out = { .ops = strcmp(format, "text") ? &output_json_ops : &output_text_ops,
				      .f = fopen("/dev/null", "w"), .names = names, .all = cfg.all };
		struct collector col;
		const void *data;
		size_t pos = 0, rlen;
		double t0;
		static char obuf[TV_OUTPUT_BUF];

		clock_init(&out.clk);
		if (out.f)
			setvbuf(out.f, obuf, _IOFBF, sizeof(obuf)); /* as main.c's */
		if (!out.f || (out.ops->init && out.ops->init(&out)) || collector_init(&col, &cfg, &out, NULL, 65536))
			return 1;
		nrec = 0;
		t0 = now_s();
		while (record_file_next(buf, len, &pos, &data, &rlen)) {
			collector_raw(&col, data, rlen);
			/* the run loop ticks every poll: here, on the records' own clock */
			if (++nrec % 1024 == 0 && rlen >= sizeof(struct tv_hdr))
				collector_tick(&col, ((const struct tv_hdr *)data)->ts_ns);
		}
		collector_finish(&col);
		fflush(out.f);
		if (now_s() - t0 < best)
			best = now_s() - t0;
		if (r == 0)
			first = now_s() - t0;
		collector_free(&col);
		if (out.ops->fini)
			out.ops->fini(&out);
		fclose(out.f);
	}
	printf("%zu %.4f %.0f %.4f %.0f\n", nrec, best, nrec / best, first, nrec / first);
	reason_names_free(names);
	free(buf);
	return 0;
}

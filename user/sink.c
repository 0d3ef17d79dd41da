#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "sink.h"

#define SINK_STDIO_BUF (64u << 10)

int output_file_open(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0640);

	if (fd >= 0)
		fchmod(fd, 0640);
	else if (errno == EEXIST)
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		error_line(err, errlen, -1, "--output %s: %s", path, strerror(errno));
	return fd;
}

static bool sink_grow(struct sink *s, size_t need)
{
	size_t n = s->alloc ? s->alloc : SINK_STDIO_BUF;
	char *b;

	while (n < need)
		n *= 2;
	if (n > TV_SINK_MAX)
		n = TV_SINK_MAX;
	if (n < need || !(b = realloc(s->buf, n)))
		return false;
	s->buf = b;
	s->alloc = n;
	return true;
}

static uint64_t count_lines(const char *p, size_t n)
{
	uint64_t lines = 0;

	for (const char *end = p + n; (p = memchr(p, '\n', (size_t)(end - p))); p++)
		lines++;
	return lines;
}

/* Writes the whole lines out; 0, or the errno of the write that failed. A
 * line cut by a short write stays: its rest goes out first next time. */
static int sink_drain(struct sink *s)
{
	size_t off = 0;
	int e = 0;

	while (off < s->whole && !e) {
		ssize_t w = write(s->fd, s->buf + off, s->whole - off);

		if (w > 0)
			off += (size_t)w;
		else if (w == 0 || errno != EINTR)
			e = w < 0 ? errno : EIO;
	}
	s->written += count_lines(s->buf, off);
	memmove(s->buf, s->buf + off, s->len - off);
	s->len -= off;
	s->whole -= off;
	if (e && !s->error && !(e == EPIPE && !s->path))
		pr_warn("writing %s failed: %s; up to %u MiB of records wait, and writing is retried\n",
			s->path ? s->path : "stdout", strerror(e), TV_SINK_MAX >> 20);
	s->error = e;
	return e;
}

/* stdio hands over its buffer in pieces that need not end with a line. */
static ssize_t sink_write(void *cookie, const char *data, size_t n)
{
	struct sink *s = cookie;
	size_t done = 0;

	while (done < n) {
		const char *p = data + done, *nl = memchr(p, '\n', n - done);
		size_t piece = nl ? (size_t)(nl - p) + 1 : n - done;

		if (s->dropping) {
			if (nl) {
				s->dropping = false;
				s->dropped++;
				s->gap++;
			}
			done += piece;
			continue;
		}
		/* a full buffer goes out first, unless the output is failing */
		if (s->len + piece > TV_SINK_MAX && s->whole && !s->error)
			sink_drain(s);
		if (s->len + piece > s->alloc && !sink_grow(s, s->len + piece)) {
			s->len = s->whole; /* the line's beginning goes with it */
			s->dropping = true;
			continue;
		}
		memcpy(s->buf + s->len, p, piece);
		s->len += piece;
		if (nl)
			s->whole = s->len;
		done += piece;
	}
	return (ssize_t)n;
}

int sink_open(struct sink *s, const char *path, char *err, size_t errlen)
{
	cookie_io_functions_t io = { .write = sink_write };

	memset(s, 0, sizeof(*s));
	s->path = path;
	s->fd = path ? output_file_open(path, err, errlen) : STDOUT_FILENO;
	if (s->fd < 0)
		return -1;
	if (!sink_grow(s, SINK_STDIO_BUF) || !(s->stdio = malloc(SINK_STDIO_BUF)) ||
	    !(s->f = fopencookie(s, "w", io))) {
		error_line(err, errlen, -1, "out of memory for the output buffer");
		if (path)
			close(s->fd);
		free(s->buf);
		free(s->stdio);
		return -1;
	}
	setvbuf(s->f, s->stdio, _IOFBF, SINK_STDIO_BUF);
	return 0;
}

enum sink_flush_result sink_flush(struct sink *s)
{
	bool was = s->error != 0;

	fflush(s->f);
	if (sink_drain(s) == EPIPE && !s->path)
		return SINK_GONE;
	if (s->error)
		return SINK_FAILING;
	return was || s->gap ? SINK_RECOVERED : SINK_OK;
}

int sink_reopen(struct sink *s, char *err, size_t errlen)
{
	int fd;

	if (!s->path)
		return 0;
	sink_flush(s); /* the old file gets every whole line it can take */
	fd = output_file_open(s->path, err, errlen);
	if (fd < 0)
		return -1;
	close(s->fd);
	s->fd = fd;
	return 0;
}

int sink_close(struct sink *s)
{
	int rc = 0;

	if (!s->f)
		return 0;
	fflush(s->f);
	if (s->len > s->whole) { /* never ended: cannot happen with whole records */
		s->len = s->whole;
		s->dropped++;
	}
	if (sink_flush(s) != SINK_OK || s->whole)
		rc = -1;
	s->dropped += count_lines(s->buf, s->whole);
	fclose(s->f);
	if (s->path)
		close(s->fd);
	free(s->buf);
	free(s->stdio);
	s->f = NULL;
	return rc;
}

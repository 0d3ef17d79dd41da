#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "notify.h"

int notify_open(struct notify *n, char *err, size_t errlen)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int e;

	n->fd = -1;
	if (!path || !*path)
		return 0;
	len = strlen(path);
	/* a path, or '@' for the abstract namespace (systemd's own form) */
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "NOTIFY_SOCKET '%s' is no socket path; systemd will not hear that tracing began",
			 path);
		unsetenv("NOTIFY_SOCKET");
		return -EINVAL;
	}
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	/* connected now, while the path is reachable: privileges may go later */
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n->fd < 0 || connect(n->fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len))) {
		e = errno;
		snprintf(err, errlen, "cannot reach NOTIFY_SOCKET %s (%s); systemd will not hear that tracing began",
			 path, strerror(e));
		notify_close(n);
		unsetenv("NOTIFY_SOCKET");
		return -e;
	}
	unsetenv("NOTIFY_SOCKET");
	return 0;
}

void notify_send(struct notify *n, const char *state)
{
	/* a failure means systemd went away: nobody is left to tell */
	if (n->fd >= 0)
		(void)send(n->fd, state, strlen(state), MSG_NOSIGNAL);
}

void notify_close(struct notify *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}

/* The host's open TCP connections, from the kernel's socket diagnostics
 * (NETLINK_SOCK_DIAG) in every network namespace, with their owners from
 * /proc. Used at start (connections older than tracing) and at stop
 * (healthy connections still open, which never crossed the ring buffer). */
#ifndef TV_SOCKETS_H
#define TV_SOCKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "report.h"
#include "tcpvitals.h"

struct open_sock {
	struct tv_conn id; /* cookie, netns, addresses; dir from the listening ports; owner when found */
	struct sock_snapshot snap;
};

typedef void (*open_sock_fn)(void *arg, const struct open_sock *s);

/* Calls fn for every TCP connection (not listening, not TIME_WAIT) in the
 * namespace only_netns, or in every namespace when it is 0. Returns how many,
 * or -1 with a line in err. */
int sockets_enumerate(uint32_t only_netns, open_sock_fn fn, void *arg, char *err, size_t errlen);

#endif

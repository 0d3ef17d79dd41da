#ifndef TCPVITALS_NOTIFY_H
#define TCPVITALS_NOTIFY_H

/*
 * systemd's readiness protocol (sd_notify(3)) without libsystemd: a service
 * of Type=notify learns that tracing has begun (READY=1) and that it is
 * stopping (STOPPING=1) from one datagram each on the socket NOTIFY_SOCKET
 * names. The lab's tests wait on the same signal.
 */
struct notify {
	int fd; /* connected to NOTIFY_SOCKET; -1: none */
};

/* Connects to NOTIFY_SOCKET, if set, and unsets it so that COMMAND does not
 * inherit it. 0, or -errno with one line in err (tracing goes on). */
int notify_open(struct notify *n, char *err, size_t errlen);
/* Sends STATE (e.g. "READY=1"); nothing without a socket. */
void notify_send(struct notify *n, const char *state);
void notify_close(struct notify *n);

#endif

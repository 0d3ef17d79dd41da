/*
 * Sockets in other network namespaces, for the TLS checks (a check connects
 * from the traced connection's namespace) and the socket table.
 *
 * Entering a namespace needs CAP_SYS_ADMIN, and finding it through another
 * user's /proc/PID/ns/net needs ptrace access: nearly root. A run that gives
 * up its privileges (--agent, --user) first forks a small helper that keeps
 * only CAP_SYS_ADMIN and CAP_SYS_PTRACE and does nothing but this: it
 * creates the socket inside the namespace and passes it back over a Unix
 * socket (SCM_RIGHTS). The collector then connects it without privilege (a
 * socket stays in the namespace it was made in).
 */
#ifndef TV_NETNS_H
#define TV_NETNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The namespace with this inode, found through the owner's /proc/PID/ns/net
 * (pid 0: none known) or /run/netns; an fd, or -1 (it is gone). */
int netns_find(uint32_t inode, uint32_t pid);
/* socket(domain, type, proto) inside the namespace of nsfd, from this
 * thread (needs CAP_SYS_ADMIN); an fd, or -errno. */
int netns_socket_at(int nsfd, int domain, int type, int proto);
/* The same for the namespace with this inode: through the helper where one
 * runs, else from this thread. An fd, or -errno (-ENOENT: it is gone). */
int netns_socket(uint32_t inode, uint32_t pid, int domain, int type, int proto);

/* Forks the helper; call before any thread exists. 0, or -1 with err set. */
int netns_helper_start(char *err, size_t errlen);
/* The helper's pid, 0 when none runs. */
pid_t netns_helper_pid(void);
void netns_helper_stop(void);

#endif

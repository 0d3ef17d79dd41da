/*
 * Least privilege: once the programs are attached and the ring buffer and
 * the output are open, an agent (or any run with --user) keeps nothing it
 * does not need. The ring buffer, the kernel side's counters (.bss) and the
 * output are already open or mapped; the only later need for privilege is
 * a TLS check from another network namespace, which the namespace helper
 * (netns.h) serves. So the collector keeps no capability at all.
 */
#ifndef TV_PRIVS_H
#define TV_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TV_PRIVS_MAX_CAPS 64

struct privs {
	bool dropped;
	const char *user;            /* --user as given; NULL: none */
	uid_t uid;
	gid_t gid;
	const char *caps[TV_PRIVS_MAX_CAPS]; /* the effective capabilities now */
	int ncaps;
};

/* --user NAME (looked up in /etc/passwd, without NSS, so that a static build
 * works) or UID[:GID]; 0, or -1 with err set. */
int privs_lookup_user(const char *spec, uid_t *uid, gid_t *gid, char *err, size_t errlen);
/* Gives up every capability, and switches to uid/gid when user is set.
 * Call with no other thread running: capabilities are per thread. 0, or -1
 * with err set. */
int privs_drop(struct privs *p, const char *user, uid_t uid, gid_t gid, char *err, size_t errlen);
/* The process's ids and effective capabilities, into p. */
void privs_read(struct privs *p);

#endif

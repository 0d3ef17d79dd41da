#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <cap-ng.h>
#include "log.h"
#include "privs.h"

static bool parse_id(const char *s, size_t n, unsigned long *out)
{
	char buf[16], *end;

	if (!n || n >= sizeof(buf) || s[0] < '0' || s[0] > '9')
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	*out = strtoul(buf, &end, 10);
	return !errno && !*end && *out < UINT_MAX;
}

int privs_lookup_user(const char *spec, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	const char *colon = strchr(spec, ':');
	unsigned long u, g;
	struct passwd *pw;
	FILE *f;

	if (parse_id(spec, colon ? (size_t)(colon - spec) : strlen(spec), &u)) {
		if (colon && !parse_id(colon + 1, strlen(colon + 1), &g))
			return error_line(err, errlen, -1, "--user %s: the group after ':' must be a number", spec);
		*uid = (uid_t)u;
		*gid = colon ? (gid_t)g : (gid_t)u;
		return 0;
	}
	f = fopen("/etc/passwd", "re");
	if (!f)
		return error_line(err, errlen, -1, "--user %s: cannot read /etc/passwd (%s); give UID:GID",
				  spec, strerror(errno));
	while ((pw = fgetpwent(f))) {
		if (!strcmp(pw->pw_name, spec)) {
			*uid = pw->pw_uid;
			*gid = pw->pw_gid;
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return error_line(err, errlen, -1, "--user %s: no such user in /etc/passwd; give a user name or UID:GID",
			  spec);
}

void privs_read(struct privs *p)
{
	p->uid = getuid();
	p->gid = getgid();
	p->ncaps = 0;
	capng_get_caps_process();
	for (unsigned c = 0; c <= CAP_LAST_CAP && p->ncaps < TV_PRIVS_MAX_CAPS; c++)
		if (capng_have_capability(CAPNG_EFFECTIVE, c))
			p->caps[p->ncaps++] = capng_capability_to_name(c);
}

int privs_drop(struct privs *p, const char *user, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	int rc;

	capng_clear(CAPNG_SELECT_BOTH);
	if (user) {
		rc = capng_change_id((int)uid, (int)gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
		if (rc)
			return error_line(err, errlen, -1, "--user %s: cannot switch to uid %u gid %u (libcap-ng: %d)",
					  user, (unsigned)uid, (unsigned)gid, rc);
	} else if (capng_apply(CAPNG_SELECT_BOTH) && capng_apply(CAPNG_SELECT_CAPS)) {
		/* the bounding set needs CAP_SETPCAP to change; the sets themselves do not */
		return error_line(err, errlen, -1, "cannot give up capabilities: %s", strerror(errno));
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	privs_read(p);
	p->dropped = true;
	p->user = user;
	if (p->ncaps)
		return error_line(err, errlen, -1, "capabilities remain after giving them up (%s, ...)", p->caps[0]);
	return 0;
}

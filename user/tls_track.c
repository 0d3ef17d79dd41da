#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "tls_track.h"

/* The IANA TLS service ports the issue lists; --tls-port adds more. */
const uint16_t tls_default_ports[] = { 443, 465, 563, 636, 853, 989, 990, 992, 993, 994, 995, 5061, 6443, 8443 };
const int tls_default_nports = sizeof(tls_default_ports) / sizeof(tls_default_ports[0]);

#define MAX_ENTRIES 4096  /* cached results */
#define MAX_PER_DEST 4     /* checks running against one address and port */

struct entry {
	struct tls_key key;
	struct tls_result *res; /* NULL while the check runs */
	int64_t expires_ms;
	uint64_t *waiters;
	int nwaiters, cap;
	struct entry *next;
};

struct tls_track {
	const struct tv_config *cfg;
	struct tls_checker *tc;
	uint8_t ports[65536 / 8];
	struct entry *entries;
	int nentries;
	uint32_t own_netns;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void port_set(struct tls_track *tt, uint16_t p)
{
	tt->ports[p / 8] |= (uint8_t)(1 << (p % 8));
}

bool tls_track_port(const struct tls_track *tt, uint16_t p)
{
	return tt && (tt->ports[p / 8] & (1 << (p % 8)));
}

struct tls_track *tls_track_new(const struct tv_config *cfg, char *err, size_t errlen)
{
	struct tls_options opt = { .ca_file = cfg->ca_file, .timeout_ms = cfg->tls_timeout_ms,
				   .workers = 4, .queue = 256 };
	struct tls_track *tt = calloc(1, sizeof(*tt));
	struct stat st;

	if (!tt) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	tt->cfg = cfg;
	for (int i = 0; i < tls_default_nports; i++)
		port_set(tt, tls_default_ports[i]);
	for (int i = 0; i < cfg->ntls_ports; i++)
		port_set(tt, cfg->tls_ports[i]);
	if (stat("/proc/self/ns/net", &st) == 0)
		tt->own_netns = (uint32_t)st.st_ino;
	tt->tc = tls_checker_new(&opt, err, errlen);
	if (!tt->tc) {
		free(tt);
		return NULL;
	}
	return tt;
}

static void entry_free(struct entry *e)
{
	free(e->res);
	free(e->waiters);
	free(e);
}

void tls_track_free(struct tls_track *tt)
{
	if (!tt)
		return;
	tls_checker_free(tt->tc);
	while (tt->entries) {
		struct entry *e = tt->entries;

		tt->entries = e->next;
		entry_free(e);
	}
	free(tt);
}

const char *tls_track_option_name(const struct tls_track *tt, const struct tv_conn *id)
{
	const char *any_port = NULL;

	for (int i = 0; i < tt->cfg->ntls_names; i++) {
		const struct tv_tls_name *n = &tt->cfg->tls_names[i];

		if (!prefix_match(&n->addr, id->family, id->daddr))
			continue;
		if (n->port == id->dport)
			return n->name;
		if (!n->port && !any_port)
			any_port = n->name;
	}
	return any_port;
}

/* Never the cloud metadata service, whatever port it answers on. */
static bool forbidden(const struct tv_conn *id)
{
	static const uint8_t md4[4] = { 169, 254, 169, 254 };
	static const uint8_t md6[16] = { 0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54 }; /* fd00:ec2::254 */
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (id->family == 4)
		return !memcmp(id->daddr, md4, 4);
	return !memcmp(id->daddr, md6, 16) || (!memcmp(id->daddr, mapped, 12) && !memcmp(id->daddr + 12, md4, 4));
}

/* An fd for the connection's namespace, -1 for our own; -2 if it is gone. */
static int netns_fd(const struct tls_track *tt, const struct tv_conn *id)
{
	char path[300];
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd;

	if (id->netns == tt->own_netns)
		return -1;
	if (id->owner_flags & TV_OWNER_KNOWN) {
		snprintf(path, sizeof(path), "/proc/%u/ns/net", id->pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && fstat(fd, &st) == 0 && st.st_ino == id->netns)
			return fd;
		if (fd >= 0)
			close(fd);
	}
	/* the owner is gone: a named namespace may still be there */
	d = opendir("/run/netns");
	while (d && (de = readdir(d))) {
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		if (stat(path, &st) == 0 && st.st_ino == id->netns) {
			closedir(d);
			return open(path, O_RDONLY | O_CLOEXEC);
		}
	}
	if (d)
		closedir(d);
	return -2;
}

static bool key_eq(const struct tls_key *a, const struct tls_key *b)
{
	return a->netns == b->netns && a->family == b->family && a->port == b->port &&
	       !memcmp(a->addr, b->addr, 16) && !strcmp(a->sni, b->sni);
}

static void add_waiter(struct entry *e, uint64_t cookie)
{
	if (e->nwaiters == e->cap) {
		int cap = e->cap ? e->cap * 2 : 4;
		uint64_t *w = realloc(e->waiters, (size_t)cap * sizeof(*w));

		if (!w)
			return;
		e->waiters = w;
		e->cap = cap;
	}
	e->waiters[e->nwaiters++] = cookie;
}

/* Drops expired results, and the oldest ones past MAX_ENTRIES. */
static void expire(struct tls_track *tt, int64_t now)
{
	struct entry **pp = &tt->entries;

	while (*pp) {
		struct entry *e = *pp;

		if (e->res && (now >= e->expires_ms || tt->nentries > MAX_ENTRIES)) {
			*pp = e->next;
			tt->nentries--;
			entry_free(e);
		} else {
			pp = &e->next;
		}
	}
}

static struct tls_result *failure(const struct tls_key *key, const char *why)
{
	struct tls_result *r = calloc(1, sizeof(*r));

	if (r) {
		r->key = *key;
		r->result = TLS_RESULT_ERROR;
		snprintf(r->error, sizeof(r->error), "%s", why);
	}
	return r;
}

enum tls_request tls_track_request(struct tls_track *tt, const struct tv_conn *id, const char *sni,
				   const struct tls_result **res)
{
	struct tls_key key = { .netns = id->netns, .family = id->family, .port = id->dport };
	int64_t now = mono_ms();
	struct tls_job job;
	struct entry *e;
	int same_dest = 0;

	if (!tt || id->dir != TV_DIR_OUT || !tls_track_port(tt, id->dport) || forbidden(id))
		return TLS_REQ_NONE;
	memcpy(key.addr, id->daddr, 16);
	snprintf(key.sni, sizeof(key.sni), "%s", sni ? sni : "");
	expire(tt, now);
	for (e = tt->entries; e; e = e->next) {
		if (key_eq(&e->key, &key)) {
			if (e->res) {
				*res = e->res;
				return TLS_REQ_CACHED;
			}
			add_waiter(e, id->cookie);
			return TLS_REQ_PENDING;
		}
		if (!e->res && e->key.netns == key.netns && e->key.port == key.port &&
		    !memcmp(e->key.addr, key.addr, 16))
			same_dest++;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return TLS_REQ_NONE;
	e->key = key;
	e->next = tt->entries;
	tt->entries = e;
	tt->nentries++;
	if (same_dest >= MAX_PER_DEST) {
		e->res = failure(&key, "not checked: too many checks of this address already running");
	} else {
		job = (struct tls_job){ .key = key, .netns_fd = netns_fd(tt, id) };
		if (job.netns_fd == -2)
			e->res = failure(&key, "not checked: the connection's network namespace is gone");
		else if (!tls_checker_submit(tt->tc, &job))
			e->res = failure(&key, "not checked: the check queue is full");
	}
	if (e->res) {
		e->expires_ms = now; /* failures to start are not cached */
		*res = e->res;
		return TLS_REQ_FAILED;
	}
	add_waiter(e, id->cookie);
	return TLS_REQ_PENDING;
}

void tls_track_poll(struct tls_track *tt, tls_deliver_fn deliver, void *arg)
{
	struct tls_result *res;
	uint64_t tag;

	if (!tt)
		return;
	while (tls_checker_take(tt->tc, &res, &tag)) {
		struct entry *e;

		for (e = tt->entries; e && !(!e->res && key_eq(&e->key, &res->key)); e = e->next)
			;
		if (!e) {
			free(res);
			continue;
		}
		e->res = res;
		e->expires_ms = mono_ms() + (int64_t)tt->cfg->tls_ttl_s * 1000;
		for (int i = 0; i < e->nwaiters; i++)
			deliver(arg, e->waiters[i], res);
		e->nwaiters = 0;
	}
}

int tls_track_busy(struct tls_track *tt)
{
	return tt ? tls_checker_busy(tt->tc) : 0;
}

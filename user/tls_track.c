#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "clock.h"
#include "exitcodes.h"
#include "tls_check.h"
#include "tls_track.h"

/* The IANA TLS service ports; --tls-port adds more. */
const uint16_t tls_default_ports[] = { 443, 465, 563, 636, 853, 989, 990, 992, 993, 994, 995, 5061, 6443, 8443 };
const int tls_default_nports = sizeof(tls_default_ports) / sizeof(tls_default_ports[0]);

#define DEFAULT_CACHE_MAX 4096
#define DEFAULT_WORKERS 4
#define DEFAULT_QUEUE 256
#define MAX_PER_DEST 4 /* checks running against one address and port */

struct tls_entry {
	struct tls_key key;
	struct tls_result *res; /* NULL while the check runs */
	int64_t expires_ms;
	struct tls_waiter *waiters;
	struct tls_entry *next; /* oldest first */
};

struct tls_track {
	struct tls_track_options opt;
	struct tls_checker *tc;
	uint8_t ports[65536 / 8];
	struct tls_entry *oldest, *newest;
	int nentries;
	struct tls_entry *ready; /* a finished check whose waiters are being handed out */
	uint32_t own_netns;
};

static int64_t mono_ms(void)
{
	return (int64_t)(clock_mono_now_ns() / 1000000);
}

void tls_port_bits(uint8_t bits[65536 / 8], const uint16_t *extra, int nextra)
{
	memset(bits, 0, 65536 / 8);
	for (int i = 0; i < tls_default_nports + nextra; i++) {
		uint16_t p = i < tls_default_nports ? tls_default_ports[i] : extra[i - tls_default_nports];

		bits[p / 8] |= (uint8_t)(1 << (p % 8));
	}
}

bool tls_track_port(const struct tls_track *tt, uint16_t p)
{
	return tt && (tt->ports[p / 8] & (1 << (p % 8)));
}

int tls_track_new(struct tls_track **out, const struct tls_track_options *opt, char *err, size_t errlen)
{
	struct tls_track *tt = calloc(1, sizeof(*tt));
	struct tls_options co;
	struct stat st;
	int rc;

	*out = NULL;
	if (!tt) {
		snprintf(err, errlen, "out of memory");
		return TV_EXIT_RUNTIME;
	}
	tt->opt = *opt;
	if (!tt->opt.cache_max)
		tt->opt.cache_max = DEFAULT_CACHE_MAX;
	co = (struct tls_options){ .ca_file = opt->ca_file, .timeout_ms = opt->timeout_ms,
				   .workers = opt->workers ? opt->workers : DEFAULT_WORKERS,
				   .queue = opt->queue ? opt->queue : DEFAULT_QUEUE };
	tls_port_bits(tt->ports, opt->extra_ports, opt->nextra_ports);
	if (stat("/proc/self/ns/net", &st) == 0)
		tt->own_netns = (uint32_t)st.st_ino;
	rc = tls_checker_new(&tt->tc, &co, err, errlen);
	if (rc) {
		free(tt);
		return rc;
	}
	*out = tt;
	return 0;
}

int tls_track_start(struct tls_track *tt, char *err, size_t errlen)
{
	return tt ? tls_checker_start(tt->tc, err, errlen) : 0;
}

static void entry_free(struct tls_entry *e)
{
	for (struct tls_waiter *w = e->waiters; w; w = w->next)
		w->entry = NULL;
	free(e->res);
	free(e);
}

void tls_track_free(struct tls_track *tt)
{
	if (!tt)
		return;
	tls_checker_free(tt->tc);
	while (tt->oldest) {
		struct tls_entry *e = tt->oldest;

		tt->oldest = e->next;
		entry_free(e);
	}
	free(tt);
}

const char *tls_track_option_name(const struct tls_track *tt, const struct tv_conn *id)
{
	const char *any_port = NULL;

	for (int i = 0; i < tt->opt.nnames; i++) {
		const struct tv_tls_name *n = &tt->opt.names[i];

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

static bool key_eq(const struct tls_key *a, const struct tls_key *b)
{
	return a->netns == b->netns && a->family == b->family && a->port == b->port &&
	       !memcmp(a->addr, b->addr, 16) && !strcmp(a->sni, b->sni);
}

static void add_waiter(struct tls_entry *e, struct tls_waiter *w, uint64_t cookie)
{
	w->cookie = cookie;
	w->entry = e;
	w->next = e->waiters;
	e->waiters = w;
}

void tls_track_cancel(struct tls_waiter *w)
{
	struct tls_waiter **pp;

	if (!w->entry)
		return;
	for (pp = &w->entry->waiters; *pp && *pp != w; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = w->next;
	w->entry = NULL;
}

/* Drops expired results, then the oldest ones past the cache's size. Checks
 * still running, and the one whose waiters are being handed out, stay. */
static void expire(struct tls_track *tt, int64_t now)
{
	struct tls_entry **pp = &tt->oldest, *prev = NULL;

	while (*pp) {
		struct tls_entry *e = *pp;

		if (e->res && e != tt->ready && !e->waiters &&
		    (now >= e->expires_ms || tt->nentries > tt->opt.cache_max)) {
			*pp = e->next;
			tt->nentries--;
			entry_free(e);
		} else {
			prev = e;
			pp = &e->next;
		}
	}
	tt->newest = prev;
}

static struct tls_entry *entry_add(struct tls_track *tt, const struct tls_key *key)
{
	struct tls_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->key = *key;
	if (tt->newest)
		tt->newest->next = e;
	else
		tt->oldest = e;
	tt->newest = e;
	tt->nentries++;
	return e;
}

static struct tls_result *failure(const struct tls_key *key, const char *why)
{
	struct tls_result *r = calloc(1, sizeof(*r));

	if (r) {
		r->key = *key;
		snprintf(r->rep.server_name, sizeof(r->rep.server_name), "%s", key->sni);
		r->rep.result = TLS_RESULT_ERROR;
		snprintf(r->rep.error, sizeof(r->rep.error), "%s", why);
	}
	return r;
}

/* Why a check cannot start now, or NULL once it is queued. */
static const char *start_check(struct tls_track *tt, const struct tls_key *key, const struct tv_conn *id,
			       int same_dest)
{
	struct tls_job job = { .key = *key };

	if (same_dest >= MAX_PER_DEST)
		return "not checked: too many checks of this address already running";
	job.other_netns = id->netns != tt->own_netns;
	job.owner_pid = id->owner_flags & TV_OWNER_KNOWN ? id->pid : 0;
	if (!tls_checker_submit(tt->tc, &job))
		return "not checked: the check queue is full";
	return NULL;
}

enum tls_request tls_track_request(struct tls_track *tt, const struct tv_conn *id, const char *sni,
				   struct tls_waiter *w, const struct tls_report **res)
{
	struct tls_key key = { .netns = id->netns, .family = id->family, .port = id->dport };
	int64_t now = mono_ms();
	struct tls_entry *e;
	const char *why;
	int same_dest = 0;

	if (!tt || id->dir != TV_DIR_OUT || !tls_track_port(tt, id->dport) || forbidden(id))
		return TLS_REQ_NONE;
	memcpy(key.addr, id->daddr, 16);
	snprintf(key.sni, sizeof(key.sni), "%s", sni ? sni : "");
	expire(tt, now);
	for (e = tt->oldest; e; e = e->next) {
		if (key_eq(&e->key, &key)) {
			if (e->res) {
				*res = &e->res->rep;
				return TLS_REQ_CACHED;
			}
			add_waiter(e, w, id->cookie);
			return TLS_REQ_PENDING;
		}
		if (!e->res && e->key.netns == key.netns && e->key.port == key.port &&
		    !memcmp(e->key.addr, key.addr, 16))
			same_dest++;
	}
	e = entry_add(tt, &key);
	if (!e)
		return TLS_REQ_NONE;
	why = start_check(tt, &key, id, same_dest);
	if (why) {
		e->res = failure(&key, why);
		e->expires_ms = now; /* failures to start are not cached */
		if (!e->res)
			return TLS_REQ_NONE;
		*res = &e->res->rep;
		return TLS_REQ_FAILED;
	}
	add_waiter(e, w, id->cookie);
	return TLS_REQ_PENDING;
}

bool tls_track_next(struct tls_track *tt, uint64_t *cookie, const struct tls_report **res)
{
	struct tls_result *r;

	if (!tt)
		return false;
	for (;;) {
		struct tls_entry *e = tt->ready;

		if (e && e->waiters) {
			struct tls_waiter *w = e->waiters;

			e->waiters = w->next;
			w->entry = NULL;
			*cookie = w->cookie;
			*res = &e->res->rep;
			return true;
		}
		tt->ready = NULL;
		if (!tls_checker_take(tt->tc, &r))
			return false;
		for (e = tt->oldest; e && !(!e->res && key_eq(&e->key, &r->key)); e = e->next)
			;
		if (!e) {
			free(r);
			continue;
		}
		e->res = r;
		e->expires_ms = mono_ms() + (int64_t)tt->opt.ttl_s * 1000;
		tt->ready = e;
	}
}

const char *tls_track_ca_store(const struct tls_track *tt)
{
	return tt ? tls_checker_ca_store(tt->tc) : NULL;
}

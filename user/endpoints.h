/* The endpoint report: when tracing stops, connections grouped by what they
 * talked to (outgoing: the remote address, port and server name; accepted:
 * the local service), each group with its verdict counts and one paragraph
 * of diagnosis that also says what it rules out. Bounded: past
 * TV_ENDPOINTS_MAX groups, the rest are counted together as "other". */
#ifndef TV_ENDPOINTS_H
#define TV_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "report.h"

#define TV_ENDPOINTS_MAX 256

struct endpoint_key {
	uint8_t dir;    /* enum tv_dir: TV_DIR_IN groups by the local end, the others by the remote */
	uint8_t family; /* 4 or 6 */
	uint16_t port;
	uint8_t addr[16];
	char server_name[TV_SNI_MAX + 1]; /* the TLS check's, for outgoing; empty: none */
};

struct endpoint {
	struct endpoint_key key;
	bool other;        /* the groups past the limit, together */
	uint32_t conns, healthy, still_open;
	uint32_t verdicts[TV_V_COUNT]; /* connections with each verdict */
	uint64_t retrans_segs, dupacks, ofo_segs;
	uint32_t longest_stall_n;      /* timeouts in a row, the most in the group */
	uint64_t longest_stall_ns;
	bool tls_checked;
	enum tls_result_kind tls_result; /* the latest check's */
	int64_t earliest_expiry;         /* over the group's checks; 0: none */
};

struct endpoints {
	struct endpoint groups[TV_ENDPOINTS_MAX];
	uint32_t n;
	struct endpoint other;
	uint16_t slots[2 * TV_ENDPOINTS_MAX]; /* open addressing: index + 1, 0 free */
};

void endpoints_init(struct endpoints *eps);
/* Counts one finished connection (its verdicts already judged) in its group. */
void endpoints_add(struct endpoints *eps, const struct conn_ref *c, const struct conn_end *e);
/* The groups, most troubled first (then the most connections); the "other"
 * group last if it has any. Calls fn for each. */
void endpoints_each(struct endpoints *eps, void (*fn)(void *arg, const struct endpoint *ep), void *arg);
/* "to 203.0.113.7:443 (media.example)", "accepted on 10.0.0.1:80" */
void endpoint_label(const struct endpoint *ep, char *buf, size_t len);
/* One paragraph: how many connections had which trouble, with the numbers,
 * and what the facts rule out. */
void endpoint_diagnosis(const struct endpoint *ep, char *buf, size_t len);

#endif

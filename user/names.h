/* Names for the numbers the kernel sends: TCP states, kinds, and the reason
 * enums, which are read from the running kernel's BTF (their numbers differ
 * between kernels). */
#ifndef TV_NAMES_H
#define TV_NAMES_H

#include <stdint.h>

const char *tcp_state_name(unsigned int state);
const char *retrans_kind_name(unsigned int kind);
/* An errno as its symbol ("ECONNREFUSED"); "E<number>" for one libc cannot name. */
const char *errno_name(int err);
/* A TLS alert description (RFC 8446 6, and the older ones of RFC 5246 7.2):
 * "bad_certificate"; NULL for a number no RFC assigns. */
const char *tls_alert_name(unsigned int description);

struct reason_names;
/* Loads enum skb_drop_reason and enum sk_rst_reason from BTF (NULL btf: the
 * running kernel's). Never fails: missing enums give "unknown". */
struct reason_names *reason_names_load(const char *btf_path);
void reason_names_free(struct reason_names *rn);
const char *drop_reason_name(const struct reason_names *rn, uint32_t value);
const char *reset_reason_name(const struct reason_names *rn, uint32_t value);

#endif

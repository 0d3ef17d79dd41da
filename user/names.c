#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "names.h"
#include "tcpvitals.h"

/* include/net/tcp_states.h: the numbers are user ABI (inet_diag), stable. */
static const char *const tcp_states[] = {
	[1] = "ESTABLISHED", [2] = "SYN_SENT",   [3] = "SYN_RECV",    [4] = "FIN_WAIT1",
	[5] = "FIN_WAIT2",   [6] = "TIME_WAIT",  [7] = "CLOSE",       [8] = "CLOSE_WAIT",
	[9] = "LAST_ACK",    [10] = "LISTEN",    [11] = "CLOSING",    [12] = "NEW_SYN_RECV",
	[13] = "BOUND_INACTIVE",
};

const char *tcp_state_name(unsigned int state)
{
	if (state < sizeof(tcp_states) / sizeof(tcp_states[0]) && tcp_states[state])
		return tcp_states[state];
	return "UNKNOWN";
}

const char *retrans_kind_name(unsigned int kind)
{
	switch (kind) {
	case TV_RETRANS_SYN: return "syn";
	case TV_RETRANS_RTO: return "rto";
	case TV_RETRANS_FAST: return "fast";
	case TV_RETRANS_TLP: return "tlp";
	case TV_RETRANS_SYNACK: return "synack";
	default: return "other";
	}
}

const char *errno_name(int err)
{
	static __thread char other[16];
	const char *n = err > 0 ? strerrorname_np(err) : NULL;

	if (n)
		return n;
	snprintf(other, sizeof(other), "E%d", err);
	return other;
}

const char *tls_alert_name(unsigned int description)
{
	static const char *const names[256] = {
		[0] = "close_notify", [10] = "unexpected_message", [20] = "bad_record_mac",
		[21] = "decryption_failed", [22] = "record_overflow", [30] = "decompression_failure",
		[40] = "handshake_failure", [41] = "no_certificate", [42] = "bad_certificate",
		[43] = "unsupported_certificate", [44] = "certificate_revoked", [45] = "certificate_expired",
		[46] = "certificate_unknown", [47] = "illegal_parameter", [48] = "unknown_ca",
		[49] = "access_denied", [50] = "decode_error", [51] = "decrypt_error",
		[60] = "export_restriction", [70] = "protocol_version", [71] = "insufficient_security",
		[80] = "internal_error", [86] = "inappropriate_fallback", [90] = "user_canceled",
		[100] = "no_renegotiation", [109] = "missing_extension", [110] = "unsupported_extension",
		[111] = "certificate_unobtainable", [112] = "unrecognized_name",
		[113] = "bad_certificate_status_response", [114] = "bad_certificate_hash_value",
		[115] = "unknown_psk_identity", [116] = "certificate_required", [120] = "no_application_protocol",
	};

	return description < sizeof(names) / sizeof(names[0]) ? names[description] : NULL;
}

struct enum_names {
	char **names; /* indexed by value; NULL where the kernel has none */
	uint32_t n;
};

struct reason_names {
	struct enum_names drop;
	struct enum_names reset;
};

/* Enum constants as lower-case names without their common prefix. */
static void enum_load(const struct btf *btf, const char *enum_name, const char *prefix,
		      struct enum_names *out)
{
	const struct btf_type *t;
	const struct btf_enum *e;
	size_t plen = strlen(prefix);
	uint32_t max = 0;
	int id, i, vlen;

	memset(out, 0, sizeof(*out));
	if (!btf)
		return;
	id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
	if (id < 0)
		return;
	t = btf__type_by_id(btf, id);
	vlen = btf_vlen(t);
	e = btf_enum(t);
	for (i = 0; i < vlen; i++)
		if ((uint32_t)e[i].val > max && e[i].val >= 0 && e[i].val < 4096)
			max = (uint32_t)e[i].val;
	out->n = max + 1;
	out->names = calloc(out->n, sizeof(char *));
	if (!out->names) {
		out->n = 0;
		return;
	}
	for (i = 0; i < vlen; i++) {
		const char *name = btf__name_by_offset(btf, e[i].name_off);
		char *copy, *p;

		if (e[i].val < 0 || (uint32_t)e[i].val >= out->n || !name || out->names[e[i].val])
			continue;
		if (!strncmp(name, prefix, plen))
			name += plen;
		copy = strdup(name);
		if (!copy)
			continue;
		for (p = copy; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		out->names[e[i].val] = copy;
	}
}

static void enum_free(struct enum_names *en)
{
	for (uint32_t i = 0; i < en->n; i++)
		free(en->names[i]);
	free(en->names);
}

static const char *enum_name(const struct enum_names *en, uint32_t value)
{
	if (value < en->n && en->names[value])
		return en->names[value];
	return "unknown";
}

struct reason_names *reason_names_load(const char *btf_path)
{
	struct reason_names *rn = calloc(1, sizeof(*rn));
	struct btf *btf;

	if (!rn)
		return NULL;
	btf = btf_path ? btf__parse(btf_path, NULL) : btf__load_vmlinux_btf();
	if (libbpf_get_error(btf))
		btf = NULL;
	enum_load(btf, "skb_drop_reason", "SKB_DROP_REASON_", &rn->drop);
	enum_load(btf, "sk_rst_reason", "SK_RST_REASON_", &rn->reset);
	btf__free(btf);
	return rn;
}

void reason_names_free(struct reason_names *rn)
{
	if (!rn)
		return;
	enum_free(&rn->drop);
	enum_free(&rn->reset);
	free(rn);
}

const char *drop_reason_name(const struct reason_names *rn, uint32_t value)
{
	return rn ? enum_name(&rn->drop, value) : "unknown";
}

const char *reset_reason_name(const struct reason_names *rn, uint32_t value)
{
	return rn ? enum_name(&rn->reset, value) : "unknown";
}

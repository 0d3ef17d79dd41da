/*
 * The check an expert would run by hand (openssl s_client -connect ADDR:PORT
 * -servername NAME), from the network namespace of the connection it checks,
 * with one hard deadline, recording every verification error with its depth.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "clock.h"
#include "exitcodes.h"
#include "log.h"
#include "netns.h"
#include "tls_check.h"

#define MAX_CERT_LIST (100 * 1024) /* bytes of certificates a server may send */
#define MAX_VERIFY_DEPTH 8

struct queued {
	struct tls_job job;
};

struct done {
	struct tls_result *res;
	struct done *next;
};

struct tls_checker {
	SSL_CTX *ctx;
	struct tls_options opt;
	pthread_t *threads;
	int nthreads;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct queued *q; /* ring of opt.queue jobs */
	int qhead, qlen, running;
	bool stopping;
	struct done *done_head, *done_tail;
	char ca_store[256]; /* the trusted certificates used; empty: none found */
};

static int ex_result_idx = -1;

/*
 * The system's trusted certificates. A static build's OpenSSL knows only the
 * build host's default paths, so look where the common distributions keep
 * them, after the variables OpenSSL itself honours.
 */
static const char *const ca_files[] = {
	"/etc/ssl/certs/ca-certificates.crt",                /* Debian, Ubuntu, Arch, Alpine, Gentoo */
	"/etc/pki/tls/certs/ca-bundle.crt",                  /* RHEL, Fedora, CentOS */
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* RHEL, Fedora (the source of the above) */
	"/etc/ssl/ca-bundle.pem",                            /* openSUSE, SLES */
	"/etc/ssl/cert.pem",                                 /* Alpine, macOS, the BSDs */
};
static const char *const ca_dirs[] = { "/etc/ssl/certs", "/etc/pki/tls/certs" };

/* Loads the first store found; tc->ca_store names it. False if none. */
static bool ca_store_load(struct tls_checker *tc)
{
	const char *file = getenv("SSL_CERT_FILE"), *dir = getenv("SSL_CERT_DIR");

	if ((file && *file) || (dir && *dir)) {
		if (!SSL_CTX_load_verify_locations(tc->ctx, file && *file ? file : NULL, dir && *dir ? dir : NULL))
			return false;
		snprintf(tc->ca_store, sizeof(tc->ca_store), "%s", file && *file ? file : dir);
		return true;
	}
	for (size_t i = 0; i < sizeof(ca_files) / sizeof(ca_files[0]); i++)
		if (access(ca_files[i], R_OK) == 0 && SSL_CTX_load_verify_locations(tc->ctx, ca_files[i], NULL)) {
			snprintf(tc->ca_store, sizeof(tc->ca_store), "%s", ca_files[i]);
			return true;
		}
	for (size_t i = 0; i < sizeof(ca_dirs) / sizeof(ca_dirs[0]); i++)
		if (access(ca_dirs[i], R_OK) == 0 && SSL_CTX_load_verify_locations(tc->ctx, NULL, ca_dirs[i])) {
			snprintf(tc->ca_store, sizeof(tc->ca_store), "%s", ca_dirs[i]);
			return true;
		}
	return false;
}

const char *tls_checker_ca_store(const struct tls_checker *tc)
{
	return tc && tc->ca_store[0] ? tc->ca_store : NULL;
}

static int64_t now_ms(void)
{
	return (int64_t)(clock_mono_now_ns() / 1000000);
}

/* Keeps going after a verification error so that every error is recorded. */
static int verify_cb(int ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_report *res = ssl ? SSL_get_ex_data(ssl, ex_result_idx) : NULL;
	int code = X509_STORE_CTX_get_error(store);

	if (!ok && res && res->nerrors < TLS_MAX_ERRORS) {
		struct tls_verify_error *e = &res->errors[res->nerrors++];

		e->depth = X509_STORE_CTX_get_error_depth(store);
		e->code = code;
		snprintf(e->text, sizeof(e->text), "%s", X509_verify_cert_error_string(code));
	}
	return 1;
}

static void info_cb(const SSL *ssl, int where, int ret)
{
	struct tls_report *res = SSL_get_ex_data(ssl, ex_result_idx);

	/* close_notify is the orderly end, not a complaint */
	if (!res || !(where & SSL_CB_ALERT) || res->has_alert || (ret & 0xff) == SSL_AD_CLOSE_NOTIFY)
		return;
	res->has_alert = true;
	snprintf(res->alert_side, sizeof(res->alert_side), "%s", (where & SSL_CB_READ) ? "received" : "sent");
	snprintf(res->alert, sizeof(res->alert), "%s", SSL_alert_desc_string_long(ret));
}

static void name_text(X509_NAME *name, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n;

	buf[0] = '\0';
	if (!b)
		return;
	X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	n = BIO_read(b, buf, (int)len - 1);
	buf[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

static int64_t asn1_unix(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

static void cert_info(X509 *x, struct tls_cert *c)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	BIGNUM *bn;
	char *hex;

	memset(c, 0, sizeof(*c));
	name_text(X509_get_subject_name(x), c->subject, sizeof(c->subject));
	name_text(X509_get_issuer_name(x), c->issuer, sizeof(c->issuer));
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	hex = bn ? BN_bn2hex(bn) : NULL;
	snprintf(c->serial, sizeof(c->serial), "%s", hex ? hex : "");
	OPENSSL_free(hex);
	BN_free(bn);
	c->not_before = asn1_unix(X509_get0_notBefore(x));
	c->not_after = asn1_unix(X509_get0_notAfter(x));
	if (X509_digest(x, EVP_sha256(), md, &mdlen))
		for (unsigned i = 0; i < mdlen && i < 32; i++)
			sprintf(c->sha256 + 2 * i, "%02x", md[i]);
	c->self_signed = X509_self_signed(x, 0) == 1;
}

/* Waits for fd until the deadline; 0 ready, -1 timed out. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		struct pollfd p = { .fd = fd, .events = events };
		int n;

		if (left <= 0)
			return -1;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static int connect_deadline(const struct tls_job *job, int64_t deadline, struct tls_report *res)
{
	const struct tls_key *k = &job->key;
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd, err = 0;
	socklen_t el = sizeof(err);

	if (k->family == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, k->addr, 16);
		s6->sin6_port = htons(k->port);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, k->addr, 4);
		s4->sin_port = htons(k->port);
		sl = sizeof(*s4);
	}
	/* from the traced connection's namespace: its routes, its view of the server */
	fd = job->other_netns ? netns_socket(k->netns, job->owner_pid, ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0)
			      : socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int e = job->other_netns ? -fd : errno;

		res->result = TLS_RESULT_ERROR;
		if (job->other_netns && e == ENOENT)
			snprintf(res->error, sizeof(res->error), "the connection's network namespace is gone");
		else if (job->other_netns)
			snprintf(res->error, sizeof(res->error),
				 "cannot make a socket in the connection's network namespace: %s", strerror(e));
		else
			snprintf(res->error, sizeof(res->error), "socket: %s", strerror(e));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		err = errno;
	} else if (wait_fd(fd, POLLOUT, deadline)) {
		res->result = TLS_RESULT_TIMEOUT;
		snprintf(res->error, sizeof(res->error), "no TCP connection within the deadline");
		close(fd);
		return -1;
	} else {
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	}
	if (!err)
		return fd;
	res->result = err == ECONNREFUSED ? TLS_RESULT_REFUSED : TLS_RESULT_HANDSHAKE_FAILED;
	snprintf(res->error, sizeof(res->error), "connect: %s", strerror(err));
	close(fd);
	return -1;
}

/* The handshake failed before the server said anything TLS-like. */
static bool reason_is_not_tls(unsigned long e)
{
	int r = ERR_GET_REASON(e);

	return r == SSL_R_WRONG_VERSION_NUMBER || r == SSL_R_PACKET_LENGTH_TOO_LONG ||
	       r == SSL_R_UNKNOWN_PROTOCOL || r == SSL_R_HTTP_REQUEST || r == SSL_R_RECORD_LENGTH_MISMATCH;
}

static void handshake(struct tls_checker *tc, const struct tls_job *job, int fd, int64_t deadline,
		      struct tls_report *res)
{
	const struct tls_key *k = &job->key;
	SSL *ssl = SSL_new(tc->ctx);
	X509_VERIFY_PARAM *param;
	STACK_OF(X509) *chain;
	X509 *leaf;
	int r;

	if (!ssl) {
		res->result = TLS_RESULT_ERROR;
		snprintf(res->error, sizeof(res->error), "out of memory");
		return;
	}
	SSL_set_fd(ssl, fd);
	SSL_set_ex_data(ssl, ex_result_idx, res);
	SSL_set_info_callback(ssl, info_cb);
	param = SSL_get0_param(ssl);
	if (k->sni[0]) {
		SSL_set_tlsext_host_name(ssl, k->sni);
		X509_VERIFY_PARAM_set1_host(param, k->sni, 0);
	} else {
		X509_VERIFY_PARAM_set1_ip(param, k->addr, k->family == 6 ? 16 : 4);
	}
	ERR_clear_error();
	for (;;) {
		r = SSL_connect(ssl);
		if (r == 1)
			break;
		int e = SSL_get_error(ssl, r);

		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (wait_fd(fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline) == 0)
				continue;
			res->result = TLS_RESULT_TIMEOUT;
			snprintf(res->error, sizeof(res->error), "no TLS handshake within the deadline");
			break;
		}
		unsigned long ee = ERR_peek_last_error();

		if (ee) {
			res->result = reason_is_not_tls(ee) && !res->nchain ? TLS_RESULT_NOT_TLS
									  : TLS_RESULT_HANDSHAKE_FAILED;
			ERR_error_string_n(ee, res->error, sizeof(res->error));
		} else {
			res->result = TLS_RESULT_HANDSHAKE_FAILED;
			snprintf(res->error, sizeof(res->error), "%s",
				 e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN
					 ? "the server closed the connection during the handshake"
					 : "handshake failed");
		}
		break;
	}
	/* the chain as sent is there even when the handshake failed after it */
	chain = SSL_get_peer_cert_chain(ssl);
	for (int i = 0; chain && i < sk_X509_num(chain) && res->nchain < TLS_MAX_CHAIN; i++)
		cert_info(sk_X509_value(chain, i), &res->chain[res->nchain++]);
	leaf = SSL_get0_peer_certificate(ssl);
	if (leaf)
		res->hostname_match = k->sni[0] ? X509_check_host(leaf, k->sni, 0, 0, NULL) == 1
						: X509_check_ip(leaf, k->addr, k->family == 6 ? 16 : 4, 0) == 1;
	if (r == 1) {
		snprintf(res->version, sizeof(res->version), "%s", SSL_get_version(ssl));
		snprintf(res->cipher, sizeof(res->cipher), "%s", SSL_get_cipher_name(ssl));
		if (res->nerrors == 0 && SSL_get_verify_result(ssl) == X509_V_OK) {
			STACK_OF(X509) *v = SSL_get0_verified_chain(ssl);

			res->result = TLS_RESULT_OK;
			res->has_verified = true;
			for (int i = 0; v && i < sk_X509_num(v) && res->nverified < TLS_MAX_CHAIN; i++)
				cert_info(sk_X509_value(v, i), &res->verified[res->nverified++]);
		} else {
			res->result = TLS_RESULT_VERIFY_FAILED;
		}
		SSL_shutdown(ssl);
	}
	SSL_free(ssl);
}

static void check_one(struct tls_checker *tc, const struct tls_job *job, struct tls_result *out)
{
	int64_t start = now_ms(), deadline = start + tc->opt.timeout_ms;
	struct tls_report *res = &out->rep;
	int fd;

	out->key = job->key;
	snprintf(res->server_name, sizeof(res->server_name), "%s", job->key.sni);
	fd = connect_deadline(job, deadline, res);
	if (fd >= 0) {
		handshake(tc, job, fd, deadline, res);
		close(fd);
	}
	res->duration_ms = (double)(now_ms() - start);
}

static void *worker(void *arg)
{
	struct tls_checker *tc = arg;

	for (;;) {
		struct tls_job job;
		struct tls_result *res;
		struct done *d;

		pthread_mutex_lock(&tc->lock);
		while (!tc->qlen && !tc->stopping)
			pthread_cond_wait(&tc->wake, &tc->lock);
		if (tc->stopping) {
			pthread_mutex_unlock(&tc->lock);
			return NULL;
		}
		job = tc->q[tc->qhead].job;
		tc->qhead = (tc->qhead + 1) % tc->opt.queue;
		tc->qlen--;
		tc->running++;
		pthread_mutex_unlock(&tc->lock);

		res = calloc(1, sizeof(*res));
		d = calloc(1, sizeof(*d));
		if (res && d)
			check_one(tc, &job, res);

		pthread_mutex_lock(&tc->lock);
		tc->running--;
		if (res && d) {
			d->res = res;
			if (tc->done_tail)
				tc->done_tail->next = d;
			else
				tc->done_head = d;
			tc->done_tail = d;
		} else {
			free(res);
			free(d);
		}
		pthread_mutex_unlock(&tc->lock);
	}
}

int tls_checker_new(struct tls_checker **out, const struct tls_options *opt, char *err, size_t errlen)
{
	struct tls_checker *tc = calloc(1, sizeof(*tc));

	*out = NULL;
	if (!tc) {
		snprintf(err, errlen, "out of memory");
		return TV_EXIT_RUNTIME;
	}
	tc->opt = *opt;
	pthread_mutex_init(&tc->lock, NULL);
	pthread_cond_init(&tc->wake, NULL);
	tc->ctx = SSL_CTX_new(TLS_client_method());
	tc->q = calloc((size_t)opt->queue, sizeof(*tc->q));
	tc->threads = calloc((size_t)opt->workers, sizeof(*tc->threads));
	if (ex_result_idx < 0)
		ex_result_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (!tc->ctx || !tc->q || !tc->threads) {
		snprintf(err, errlen, "cannot set up the TLS checker");
		tls_checker_free(tc);
		return TV_EXIT_RUNTIME;
	}
	SSL_CTX_set_verify(tc->ctx, SSL_VERIFY_PEER, verify_cb);
	SSL_CTX_set_verify_depth(tc->ctx, MAX_VERIFY_DEPTH);
	SSL_CTX_set_max_cert_list(tc->ctx, MAX_CERT_LIST);
	if (opt->ca_file) {
		if (!SSL_CTX_load_verify_locations(tc->ctx, opt->ca_file, NULL)) {
			snprintf(err, errlen, "cannot load trusted certificates from %s; --ca-file takes a PEM file",
				 opt->ca_file);
			tls_checker_free(tc);
			return TV_EXIT_USAGE;
		}
		snprintf(tc->ca_store, sizeof(tc->ca_store), "%s", opt->ca_file);
	} else if (!ca_store_load(tc)) {
		pr_warn("no trusted certificates found (tried SSL_CERT_FILE, SSL_CERT_DIR and the usual "
			"places); every TLS check will fail verification; use --ca-file\n");
	}
	*out = tc;
	return 0;
}

int tls_checker_start(struct tls_checker *tc, char *err, size_t errlen)
{
	int start_err = 0;

	for (int i = 0; i < tc->opt.workers; i++) {
		int e = pthread_create(&tc->threads[tc->nthreads], NULL, worker, tc);

		if (e) {
			start_err = e;
			continue;
		}
		tc->nthreads++;
	}
	if (!tc->nthreads)
		return error_line(err, errlen, TV_EXIT_RUNTIME, "cannot start a TLS check thread: %s; use --tls-check off",
				  strerror(start_err));
	if (tc->nthreads < tc->opt.workers)
		pr_warn("started %d of %d TLS check threads: %s\n", tc->nthreads, tc->opt.workers,
			strerror(start_err));
	return 0;
}

bool tls_checker_submit(struct tls_checker *tc, struct tls_job *job)
{
	bool ok = false;

	pthread_mutex_lock(&tc->lock);
	if (tc->qlen < tc->opt.queue) {
		tc->q[(tc->qhead + tc->qlen) % tc->opt.queue].job = *job;
		tc->qlen++;
		ok = true;
		pthread_cond_signal(&tc->wake);
	}
	pthread_mutex_unlock(&tc->lock);
	return ok;
}

bool tls_checker_take(struct tls_checker *tc, struct tls_result **res)
{
	struct done *d;

	pthread_mutex_lock(&tc->lock);
	d = tc->done_head;
	if (d) {
		tc->done_head = d->next;
		if (!tc->done_head)
			tc->done_tail = NULL;
	}
	pthread_mutex_unlock(&tc->lock);
	if (!d)
		return false;
	*res = d->res;
	free(d);
	return true;
}

void tls_checker_free(struct tls_checker *tc)
{
	if (!tc)
		return;
	if (tc->nthreads) {
		pthread_mutex_lock(&tc->lock);
		tc->stopping = true;
		pthread_cond_broadcast(&tc->wake);
		pthread_mutex_unlock(&tc->lock);
		for (int i = 0; i < tc->nthreads; i++)
			pthread_join(tc->threads[i], NULL);
	}
	while (tc->qlen) {
		tc->qhead = (tc->qhead + 1) % tc->opt.queue;
		tc->qlen--;
	}
	for (struct tls_result *r; tls_checker_take(tc, &r);)
		free(r);
	SSL_CTX_free(tc->ctx);
	free(tc->q);
	free(tc->threads);
	free(tc);
}

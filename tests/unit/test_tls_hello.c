#include <ctype.h>
/* ClientHello parsing: real hellos from curl, openssl and Python; truncated,
 * malformed and randomly mutated ones must neither crash nor invent a name. */
#include <stdlib.h>
#include "tls_hello.h"
#include "unit.h"

static size_t load(const char *name, uint8_t *buf, size_t cap)
{
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "tests/unit/data/%s", name);
	f = fopen(path, "rb");
	if (!f)
		return 0;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static enum tls_hello_result parse(const uint8_t *d, size_t n, char *name)
{
	return tls_hello_sni(d, n, name);
}

/* A ClientHello with a 1,500-byte extension (a post-quantum key share) before SNI. */
static size_t build_big_hello(uint8_t *out, const char *host)
{
	uint8_t body[4096];
	size_t b = 0, hl = strlen(host), exts_len = (4 + 1500) + (4 + 5 + hl);

	body[b++] = 3; body[b++] = 3;                      /* legacy_version */
	memset(body + b, 0xab, 32); b += 32;               /* random */
	body[b++] = 0;                                     /* session id */
	body[b++] = 0; body[b++] = 2; body[b++] = 0x13; body[b++] = 0x01; /* one suite */
	body[b++] = 1; body[b++] = 0;                      /* null compression */
	body[b++] = (uint8_t)(exts_len >> 8); body[b++] = (uint8_t)exts_len;
	body[b++] = 0; body[b++] = 51;                     /* key_share */
	body[b++] = 1500 >> 8; body[b++] = 1500 & 0xff;
	memset(body + b, 0x5a, 1500); b += 1500;
	body[b++] = 0; body[b++] = 0;                      /* server_name */
	body[b++] = 0; body[b++] = (uint8_t)(5 + hl);
	body[b++] = 0; body[b++] = (uint8_t)(3 + hl);
	body[b++] = 0; body[b++] = 0; body[b++] = (uint8_t)hl;
	memcpy(body + b, host, hl); b += hl;
	out[0] = 22; out[1] = 3; out[2] = 1;
	out[3] = (uint8_t)((b + 4) >> 8); out[4] = (uint8_t)(b + 4);
	out[5] = 1; out[6] = 0; out[7] = (uint8_t)(b >> 8); out[8] = (uint8_t)b;
	memcpy(out + 9, body, b);
	return b + 9;
}

int main(void)
{
	static const struct { const char *file, *sni; } real[] = {
		{ "hello_curl.bin", "media.example.test" },
		{ "hello_openssl.bin", "shop.example.org" },
		{ "hello_python.bin", "api.example.net" },
	};
	uint8_t buf[4096], m[4096];
	char name[TV_SNI_MAX + 1], label[128];
	size_t n;

	for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		n = load(real[i].file, buf, sizeof(buf));
		snprintf(label, sizeof(label), "%s: server name %s", real[i].file, real[i].sni);
		CHECK(n > 100 && parse(buf, n, name) == TLS_HELLO_SNI && !strcmp(name, real[i].sni), label);
		/* every shorter capture: truncated or found, never malformed or a wrong name */
		int bad = 0;
		for (size_t cut = 0; cut < n; cut++) {
			enum tls_hello_result r = parse(buf, cut, name);

			if (r == TLS_HELLO_MALFORMED || (r == TLS_HELLO_NOT_TLS && cut > 0) ||
			    (r == TLS_HELLO_SNI && strcmp(name, real[i].sni)))
				bad++;
		}
		snprintf(label, sizeof(label), "%s: every truncation is reported as truncated", real[i].file);
		CHECK(bad == 0, label);
	}
	n = load("hello_nosni.bin", buf, sizeof(buf));
	CHECK(n > 100 && parse(buf, n, name) == TLS_HELLO_NO_SNI && name[0] == 0,
	      "openssl -noservername: no server name");

	n = build_big_hello(buf, "cdn.example.com");
	CHECK(parse(buf, n, name) == TLS_HELLO_SNI && !strcmp(name, "cdn.example.com"),
	      "server name behind a 1,500-byte key share");
	CHECK(n < 2048 && parse(buf, n - 3, name) == TLS_HELLO_TRUNCATED,
	      "the same, cut inside the name: truncated");

	CHECK(parse((const uint8_t *)"GET / HTTP/1.1\r\n", 16, name) == TLS_HELLO_NOT_TLS, "HTTP is not TLS");
	CHECK(parse((const uint8_t *)"", 0, name) == TLS_HELLO_NOT_TLS, "nothing is not TLS");
	memcpy(m, buf, n);
	m[5] = 2; /* ServerHello */
	CHECK(parse(m, n, name) == TLS_HELLO_NOT_TLS, "a handshake that is not a ClientHello");
	memcpy(m, buf, n);
	m[8] += 1; /* handshake longer than its record */
	CHECK(parse(m, n, name) == TLS_HELLO_MALFORMED, "handshake length past the record");
	memcpy(m, buf, n);
	m[9 + 2 + 32] = 33; /* session id longer than 32 */
	CHECK(parse(m, n, name) == TLS_HELLO_MALFORMED, "session id over 32 bytes");
	n = build_big_hello(buf, "bad host\"name");
	CHECK(parse(buf, n, name) == TLS_HELLO_MALFORMED && name[0] == 0, "a server name that is no DNS name");

	/* deterministic mutation fuzzing of the real hellos: no crash (run under
	 * ASan in make test); any name found is bytes of the hello itself, each a
	 * visible ASCII character (isgraph: no control byte, space or 8-bit byte
	 * gets through; a looser test than the parser's own, so not a copy of it) */
	unsigned seed = 12345, found_bad = 0, runs = 0;
	for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		size_t len = load(real[i].file, buf, sizeof(buf));

		for (int k = 0; k < 20000; k++, runs++) {
			size_t mlen = len;

			memcpy(m, buf, len);
			for (int f = 0; f < 1 + (int)(rand_r(&seed) % 4); f++)
				m[rand_r(&seed) % len] = (uint8_t)rand_r(&seed);
			if (rand_r(&seed) % 4 == 0)
				mlen = rand_r(&seed) % (len + 1);
			if (parse(m, mlen, name) == TLS_HELLO_SNI) {
				found_bad += !memmem(m, mlen, name, strlen(name));
				for (const char *p = name; *p; p++)
					found_bad += !isgraph((unsigned char)*p);
			}
		}
	}
	snprintf(label, sizeof(label), "%u mutated hellos: no crash, no implausible name", runs);
	CHECK(found_bad == 0, label);
	UNIT_EXIT();
}

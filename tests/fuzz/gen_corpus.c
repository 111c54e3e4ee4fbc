/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gen_corpus.c - writes the seed inputs of the fuzz targets: every byte
 * example of the Cyrus protocol reference (section 1: the captured
 * libsasl2 request, both dialects, the replies, the limits and errors), and
 * valid and invalid IPC frames. The bytes are built here by hand, not with
 * the encoders under test.
 *
 * Usage: fuzz_gen_corpus DIR   writes DIR/<target>/seed-<name>; run it
 * over tests/fuzz/corpus when a seed is added, then commit the files.
 * Fuzzing adds its own finds beside them (tests/fuzz/run.sh --merge).
 *
 * SECURITY: test code only.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "proto_saslauthd.h"

#define GEN_MAX (64 * 1024)

struct gen {
	uint8_t b[GEN_MAX];
	size_t n;
};

static const char *gen_dir;

static void
gen_bytes(struct gen *g, const void *p, size_t n)
{
	if (GEN_MAX - g->n < n) {
		(void)fprintf(stderr, "gen_corpus: seed too large\n");
		exit(1);
	}
	memcpy(g->b + g->n, p, n);
	g->n += n;
}

/* A saslauthd counted string: 2-byte big-endian length, the bytes. */
static void
gen_counted(struct gen *g, const char *s, size_t n)
{
	uint8_t len[2] = {(uint8_t)(n >> 8), (uint8_t)(n & 0xff)};

	gen_bytes(g, len, sizeof(len));
	gen_bytes(g, s, n);
}

static void
gen_cstr(struct gen *g, const char *s)
{
	gen_counted(g, s, strlen(s));
}

/* An IPC counted string: 2-byte host-order length (ipc.h). */
static void
gen_ipc_str(struct gen *g, const char *s, size_t n)
{
	uint16_t len = (uint16_t)n;

	gen_bytes(g, &len, sizeof(len));
	gen_bytes(g, s, n);
}

static void
gen_u32(struct gen *g, uint32_t v)
{
	gen_bytes(g, &v, sizeof(v));
}

static void
gen_hdr(struct gen *g, uint16_t type, uint16_t flags, uint32_t id)
{
	struct ipc_hdr h;

	h.type = type;
	h.flags = flags;
	h.id = id;
	gen_bytes(g, &h, sizeof(h));
}

static void
gen_write(const char *target, const char *name, const struct gen *g)
{
	char path[4096];
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/%s", gen_dir, target);
	if (mkdir(path, 0755) == -1 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	(void)snprintf(
	    path, sizeof(path), "%s/%s/seed-%s", gen_dir, target, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(g->b, 1, g->n, f) != g->n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/*
 * fuzz_saslauthd_request: control bytes (limit selector, split seed; see
 * fuzz_saslauthd_request.c), then the request. Each request is written
 * once in one piece and once split.
 */
#define SEL_DEFAULT 0
#define SEL_CYRUS 1
#define SEL_CEILING 2
#define SEL_SMALL(n) (3 | ((n) << 2))

static void
gen_request(const char *name, uint8_t sel, const struct gen *req)
{
	static const uint8_t seeds[][3] = {
	    {0, 0, 0}, {0x01, 0x20, 0x03}, {0x06, 0x11, 0x00}};
	static const char *const tags[] = {"whole", "bytewise", "split"};
	struct gen g;
	char full[256];
	size_t i;

	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		/* Byte by byte only for the short ones. */
		if (i == 1 && req->n > 64)
			continue;
		g.n = 0;
		gen_bytes(&g, &sel, 1);
		gen_bytes(&g, seeds[i], 3);
		gen_bytes(&g, req->b, req->n);
		(void)snprintf(full, sizeof(full), "%s-%s", name, tags[i]);
		gen_write("saslauthd_request", full, &g);
	}
}

static void
gen_requests(void)
{
	static char big[SASLD_MAX_FIELD_LIMIT + 1];
	static const uint8_t cyrus_hex[] = {0x00, 0x05, 0x61, 0x6c, 0x69, 0x63,
	    0x65, 0x00, 0x06, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74, 0x00, 0x04,
	    0x73, 0x6d, 0x74, 0x70, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70,
	    0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d};
	static const uint8_t addr_hex[] = {0x00, 0x0c, 0x31, 0x39, 0x32, 0x2e,
	    0x30, 0x2e, 0x32, 0x2e, 0x31, 0x3b, 0x32, 0x35};
	struct gen r;

	memset(big, 'x', sizeof(big));

	/* 1.4: libsasl2 2.1.28's sasl_checkpass("alice@example.com"). */
	r.n = 0;
	gen_bytes(&r, cyrus_hex, sizeof(cyrus_hex));
	gen_request("ref-1.4-4field", SEL_DEFAULT, &r);
	gen_request("ref-1.4-4field-cyrus", SEL_CYRUS, &r);
	/* 1.4: master's fifth field. */
	gen_bytes(&r, addr_hex, sizeof(addr_hex));
	gen_request("ref-1.4-5field", SEL_DEFAULT, &r);
	/* 1.2: five fields and then more bytes. */
	gen_bytes(&r, "\x00\x01z", 3);
	gen_request("5field-trailing", SEL_DEFAULT, &r);

	/* 1.4: a plain userid, realm NULL sent as 00 00. */
	r.n = 0;
	gen_cstr(&r, "alice");
	gen_cstr(&r, "secret");
	gen_cstr(&r, "smtp");
	gen_cstr(&r, "");
	gen_request("ref-1.4-norealm", SEL_DEFAULT, &r);
	/* 1.5: Postfix through a 5-field client: empty client_addr. */
	gen_cstr(&r, "");
	gen_request("5field-empty-addr", SEL_DEFAULT, &r);

	/* 1.2: testsaslauthd's default service, IPv6 address. */
	r.n = 0;
	gen_cstr(&r, "bob");
	gen_cstr(&r, "pa ss\r\nword");
	gen_cstr(&r, "imap");
	gen_cstr(&r, "example.org");
	gen_cstr(&r, "2001:db8::1;143");
	gen_request("5field-ipv6-crlf-password", SEL_DEFAULT, &r);

	/* 1.2: empty login, then empty password. */
	r.n = 0;
	gen_cstr(&r, "");
	gen_cstr(&r, "secret");
	gen_cstr(&r, "smtp");
	gen_cstr(&r, "");
	gen_request("ref-1.2-null-login", SEL_DEFAULT, &r);
	r.n = 0;
	gen_cstr(&r, "alice");
	gen_cstr(&r, "");
	gen_cstr(&r, "smtp");
	gen_cstr(&r, "");
	gen_request("ref-1.2-null-password", SEL_DEFAULT, &r);

	/* 1.2: a 256-byte login is accepted, 257 is refused (Cyrus). */
	r.n = 0;
	gen_counted(&r, big, SASLD_CYRUS_MAX_FIELD);
	gen_cstr(&r, "secret");
	gen_cstr(&r, "smtp");
	gen_cstr(&r, "");
	gen_request("ref-1.2-login-256-cyrus", SEL_CYRUS, &r);
	r.n = 0;
	gen_counted(&r, big, SASLD_CYRUS_MAX_FIELD + 1);
	gen_cstr(&r, "secret");
	gen_cstr(&r, "smtp");
	gen_cstr(&r, "");
	gen_request("ref-1.2-login-257-cyrus", SEL_CYRUS, &r);
	gen_request("login-257-default", SEL_DEFAULT, &r);
	/* 1.5: libsasl2 sends long passwords; our default takes 1024. */
	r.n = 0;
	gen_cstr(&r, "alice");
	gen_counted(&r, big, SASLD_DEFAULT_MAX_FIELD);
	gen_cstr(&r, "smtp");
	gen_cstr(&r, "");
	gen_request("password-1024-default", SEL_DEFAULT, &r);
	r.n = 0;
	gen_cstr(&r, "alice");
	gen_counted(&r, big, SASLD_DEFAULT_MAX_FIELD + 1);
	gen_request("password-1025-default", SEL_DEFAULT, &r);
	/* The --max-field ceiling, and a tiny limit. */
	r.n = 0;
	gen_cstr(&r, "alice");
	gen_counted(&r, big, SASLD_MAX_FIELD_LIMIT);
	gen_cstr(&r, "smtp");
	gen_cstr(&r, "");
	gen_request("password-8192-ceiling", SEL_CEILING, &r);
	r.n = 0;
	gen_cstr(&r, "al");
	gen_cstr(&r, "pw");
	gen_cstr(&r, "s");
	gen_cstr(&r, "");
	gen_request("limit-2", SEL_SMALL(2), &r);
	gen_request("limit-1", SEL_SMALL(1), &r);

	/* 1.2: a NUL inside a field (Cyrus silently truncated). */
	r.n = 0;
	gen_counted(&r, "ali\0ce", 6);
	gen_cstr(&r, "secret");
	gen_cstr(&r, "smtp");
	gen_cstr(&r, "");
	gen_request("nul-in-login", SEL_DEFAULT, &r);
	/* CR or LF outside the password. */
	r.n = 0;
	gen_cstr(&r, "alice\n");
	gen_cstr(&r, "secret");
	gen_cstr(&r, "smtp");
	gen_cstr(&r, "");
	gen_request("lf-in-login", SEL_DEFAULT, &r);
	r.n = 0;
	gen_cstr(&r, "alice");
	gen_cstr(&r, "secret");
	gen_cstr(&r, "smtp");
	gen_cstr(&r, "example.com\r");
	gen_request("cr-in-realm", SEL_DEFAULT, &r);
	/* Services PAM must not be handed. */
	r.n = 0;
	gen_cstr(&r, "alice");
	gen_cstr(&r, "secret");
	gen_cstr(&r, "../../etc/shadow");
	gen_cstr(&r, "");
	gen_request("service-path", SEL_DEFAULT, &r);
	r.n = 0;
	gen_cstr(&r, "alice");
	gen_cstr(&r, "secret");
	gen_cstr(&r, ".hidden");
	gen_cstr(&r, "");
	gen_cstr(&r, "192.0.2.1");
	gen_request("service-dot-addr-noport", SEL_DEFAULT, &r);
	r.n = 0;
	gen_cstr(&r, "alice");
	gen_cstr(&r, "secret");
	gen_cstr(&r, "pam/smtp");
	gen_cstr(&r, "");
	gen_cstr(&r, "10.0.0.1;25");
	gen_request("service-slash-addr-8", SEL_DEFAULT, &r);
	r.n = 0;
	gen_cstr(&r, "alice");
	gen_cstr(&r, "secret");
	gen_cstr(&r, "smtp");
	gen_cstr(&r, "");
	gen_cstr(&r, "192.0.2.1 ;25");
	gen_request("addr-space", SEL_DEFAULT, &r);
	/* Bytes a log line must escape. */
	r.n = 0;
	gen_cstr(&r, "al\\x41\"ice\x7f\xc3\xa9");
	gen_cstr(&r, "secret");
	gen_cstr(&r, "smtp");
	gen_cstr(&r, "\x1b[31mred");
	gen_request("log-escapes", SEL_DEFAULT, &r);

	/* 1.7: a length word and 2 of its 5 bytes, then nothing. */
	r.n = 0;
	gen_bytes(&r,
	    "\x00\x05"
	    "al",
	    4);
	gen_request("ref-1.7-partial", SEL_DEFAULT, &r);
	r.n = 0;
	gen_bytes(&r, "\x00", 1);
	gen_request("half-length-word", SEL_DEFAULT, &r);
	r.n = 0;
	gen_request("empty", SEL_DEFAULT, &r);
	/* A length word at the maximum a 2-byte count can say. */
	r.n = 0;
	gen_bytes(&r,
	    "\xff\xff"
	    "x",
	    3);
	gen_request("length-65535", SEL_CEILING, &r);
}

static void
gen_reply(const char *name, const void *p, size_t n)
{
	struct gen g;

	g.n = 0;
	gen_bytes(&g, p, n);
	gen_write("saslauthd_reply", name, &g);
}

static void
gen_text_reply(const char *name, const char *text)
{
	struct gen g;

	g.n = 0;
	gen_cstr(&g, text);
	gen_write("saslauthd_reply", name, &g);
}

static void
gen_replies(void)
{
	/* 1.4, byte for byte. */
	gen_reply("ref-1.4-ok", "\x00\x02\x4f\x4b", 4);
	gen_reply("ref-1.4-auth-error",
	    "\x00\x11\x4e\x4f\x20\x50\x41\x4d\x20\x61\x75\x74\x68\x20\x65\x72"
	    "\x72\x6f\x72",
	    19);
	gen_reply("ref-1.4-oversize", "\x00\x03\x4e\x4f\x20", 5);
	/* 1.3: Cyrus' first write is the length alone. */
	gen_reply("ref-1.3-length-only", "\x00\x02", 2);
	gen_reply("ref-1.3-length-half", "\x00", 1);
	/* 1.3: the texts of the PAM backend. */
	gen_text_reply("ref-1.3-acct-error", "NO PAM acct error");
	gen_text_reply("ref-1.3-start-error", "NO PAM start error");
	gen_text_reply("ref-1.3-null-login", "NO NULL login received");
	gen_text_reply("ref-1.3-null-password", "NO NULL password received");
	gen_text_reply(
	    "ref-1.3-null-response", "NO NULL response from mechanism");
	gen_text_reply("ref-1.3-internal", "NO internal mechanism failure");
	/* 1.5: count < 2 is "bad response"; OKAY counts, "ok" does not. */
	gen_reply("ref-1.5-count-0", "\x00\x00", 2);
	gen_reply("ref-1.5-count-1",
	    "\x00\x01"
	    "O",
	    3);
	gen_text_reply("ref-1.5-okay", "OKAY");
	gen_text_reply("ref-1.5-lower-ok", "ok");
	gen_reply("just-o", "O", 1);
	/* A short read inside the text, and bytes after the reply. */
	gen_reply("short-text",
	    "\x00\x05"
	    "NO P",
	    6);
	gen_reply("trailing",
	    "\x00\x02"
	    "OKxyz",
	    7);
	gen_reply("nul-in-text",
	    "\x00\x04"
	    "NO\0x",
	    6);
	gen_reply("count-65535",
	    "\xff\xff"
	    "NO",
	    4);
}

static void
gen_frame(const char *name, const struct gen *g)
{
	gen_write("ipc_frame", name, g);
}

static void
gen_auth_body(struct gen *g, const char *login, const char *password,
    const char *service, const char *realm, const char *rhost)
{
	gen_ipc_str(g, login, strlen(login));
	gen_ipc_str(g, password, strlen(password));
	gen_ipc_str(g, service, strlen(service));
	gen_ipc_str(g, realm, strlen(realm));
	gen_ipc_str(g, rhost, strlen(rhost));
}

/* Auth frames go to both IPC targets: the worker decodes them. */
static void
gen_auth(const char *name, const struct gen *g)
{
	gen_write("ipc_frame", name, g);
	gen_write("worker_frame", name, g);
}

static void
gen_frames(void)
{
	static char big[IPC_MAX_STR + 1];
	struct gen g;
	uint32_t r;

	memset(big, 'y', sizeof(big));

	/* IPC_FRONT_AUTH: valid ones. */
	g.n = 0;
	gen_hdr(&g, IPC_FRONT_AUTH, 0, 1);
	gen_auth_body(&g, "alice", "secret", "smtp", "example.com", "");
	gen_auth("auth-ok", &g);
	g.n = 0;
	gen_hdr(&g, IPC_FRONT_AUTH, 0, 7);
	gen_auth_body(&g, "alice@example.com", "pa ss\r\nword", "imap",
	    "example.com", "192.0.2.1");
	gen_auth("auth-rhost-realm", &g);
	g.n = 0;
	gen_hdr(&g, IPC_FRONT_AUTH, 0, 2);
	gen_auth_body(&g, "", "", "", "", "");
	gen_auth("auth-all-empty", &g);
	g.n = 0;
	gen_hdr(&g, IPC_FRONT_AUTH, 0, 3);
	gen_ipc_str(&g, big, IPC_MAX_STR);
	gen_ipc_str(&g, "pw", 2);
	gen_ipc_str(&g, "smtp", 4);
	gen_ipc_str(&g, "", 0);
	gen_ipc_str(&g, "", 0);
	gen_auth("auth-login-max", &g);
	/* IPC_FRONT_AUTH: malformed ones. */
	g.n = 0;
	gen_hdr(&g, IPC_FRONT_AUTH, 0, 4);
	gen_ipc_str(&g, big, IPC_MAX_STR + 1);
	gen_ipc_str(&g, "pw", 2);
	gen_ipc_str(&g, "smtp", 4);
	gen_ipc_str(&g, "", 0);
	gen_ipc_str(&g, "", 0);
	gen_auth("auth-login-over-max", &g);
	g.n = 0;
	gen_hdr(&g, IPC_FRONT_AUTH, 0, 5);
	gen_ipc_str(&g, "ali\0ce", 6);
	gen_ipc_str(&g, "pw", 2);
	gen_ipc_str(&g, "smtp", 4);
	gen_ipc_str(&g, "", 0);
	gen_ipc_str(&g, "", 0);
	gen_auth("auth-nul", &g);
	g.n = 0;
	gen_hdr(&g, IPC_FRONT_AUTH, 0, 6);
	gen_auth_body(&g, "alice", "secret", "smtp", "", "");
	gen_bytes(&g, "z", 1);
	gen_auth("auth-trailing", &g);
	g.n = 0;
	gen_hdr(&g, IPC_FRONT_AUTH, 0, 6);
	gen_ipc_str(&g, "alice", 5);
	gen_ipc_str(&g, "secret", 6);
	gen_auth("auth-truncated", &g);
	g.n = 0;
	gen_hdr(&g, IPC_FRONT_AUTH, 0, 6);
	gen_bytes(&g, "\x05", 1);
	gen_auth("auth-half-count", &g);
	/* The wrong type, the right body: the worker refuses it. */
	g.n = 0;
	gen_hdr(&g, IPC_WORKER_RESULT, 0, 1);
	gen_auth_body(&g, "alice", "secret", "smtp", "", "");
	gen_auth("result-type-auth-body", &g);

	/* IPC_WORKER_RESULT, each result, a reason at its limit and over. */
	for (r = 0; r <= AUTH_RESULT_MAX; r++) {
		char name[64];

		g.n = 0;
		gen_hdr(
		    &g, IPC_WORKER_RESULT, r == AUTH_FAIL ? IPC_F_LAST : 0, r);
		gen_u32(&g, r);
		gen_u32(&g, r == AUTH_FAIL ? 2000000 : 0);
		gen_u32(&g, r == AUTH_OK ? 0 : 7);
		gen_ipc_str(&g, "Authentication failure", 22);
		(void)snprintf(name, sizeof(name), "result-%u", (unsigned)r);
		gen_frame(name, &g);
	}
	g.n = 0;
	gen_hdr(&g, IPC_WORKER_RESULT, 0, 9);
	gen_u32(&g, AUTH_FAIL);
	gen_u32(&g, 0);
	gen_u32(&g, 7);
	gen_ipc_str(&g, big, IPC_MAX_REASON);
	gen_frame("result-reason-max", &g);
	g.n = 0;
	gen_hdr(&g, IPC_WORKER_RESULT, 0, 9);
	gen_u32(&g, AUTH_FAIL);
	gen_u32(&g, 0);
	gen_u32(&g, 7);
	gen_ipc_str(&g, big, IPC_MAX_REASON + 1);
	gen_frame("result-reason-over-max", &g);
	g.n = 0;
	gen_hdr(&g, IPC_WORKER_RESULT, 0, 9);
	gen_u32(&g, AUTH_OK);
	gen_u32(&g, 0);
	gen_frame("result-truncated", &g);

	/* HELLO and KILL carry a u32; PARENT_WORKER an id and a pid. */
	g.n = 0;
	gen_hdr(&g, IPC_WORKER_HELLO, 0, 0);
	gen_u32(&g, IPC_VERSION);
	gen_frame("hello", &g);
	gen_write("worker_frame", "hello", &g);
	g.n = 0;
	gen_hdr(&g, IPC_FRONT_KILL, 0, 0);
	gen_u32(&g, 12);
	gen_frame("kill", &g);
	g.n = 0;
	gen_hdr(&g, IPC_FRONT_KILL, 0, 0);
	gen_bytes(&g, "\x01\x02\x03", 3);
	gen_frame("kill-short", &g);
	g.n = 0;
	gen_hdr(&g, IPC_PARENT_WORKER, 0, 0);
	gen_u32(&g, 3);
	gen_u32(&g, 4242);
	gen_frame("worker", &g);
	g.n = 0;
	gen_hdr(&g, IPC_PARENT_WORKER, 0, 0);
	gen_u32(&g, 3);
	gen_u32(&g, 0);
	gen_frame("worker-pid-0", &g);
	g.n = 0;
	gen_hdr(&g, IPC_PARENT_WORKER, 0, 0);
	gen_u32(&g, 3);
	gen_u32(&g, 0xffffffffU);
	gen_frame("worker-pid-negative", &g);
	/* FRONT_LOG: a level in the flags, a line as the body. */
	g.n = 0;
	gen_hdr(&g, IPC_FRONT_LOG, 6, 0);
	gen_bytes(&g, "auth failure: [user=alice]", 26);
	gen_frame("log", &g);
	/* Bodiless frames, an unknown type, type 0, a short header. */
	g.n = 0;
	gen_hdr(&g, IPC_FRONT_READY, 0, 0);
	gen_frame("ready", &g);
	g.n = 0;
	gen_hdr(&g, IPC_PARENT_SHUTDOWN, 0, 0);
	gen_frame("shutdown", &g);
	gen_write("worker_frame", "shutdown", &g);
	g.n = 0;
	gen_hdr(&g, IPC_TYPE_MAX, 0, 0);
	gen_frame("type-max", &g);
	g.n = 0;
	gen_hdr(&g, 0, 0, 0);
	gen_frame("type-0", &g);
	g.n = 0;
	gen_bytes(&g, "\x02\x00\x00", 3);
	gen_frame("short-header", &g);
	gen_write("worker_frame", "short-header", &g);
	g.n = 0;
	gen_frame("empty", &g);
}

int
main(int argc, char *argv[])
{
	if (argc != 2) {
		(void)fprintf(stderr, "usage: fuzz_gen_corpus DIR\n");
		return 2;
	}
	gen_dir = argv[1];
	if (mkdir(gen_dir, 0755) == -1 && errno != EEXIST) {
		perror(gen_dir);
		return 1;
	}
	gen_requests();
	gen_replies();
	gen_frames();
	return 0;
}

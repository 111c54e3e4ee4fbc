/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ipc.c - unit tests for the frames between parent, front and PAM
 * workers (saslauthd-ng/ipc.c): every body codec, and ipc_send/ipc_recv
 * over a real socketpair(AF_UNIX, SOCK_SEQPACKET), fd passing included.
 *
 * The decoders are the trust boundary between processes, so beside round
 * trips every truncation, stray NUL, trailing byte and out-of-range value
 * must be refused, and a refused frame must not leak a passed descriptor.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "ipc.h"

#define HDRSZ sizeof(struct ipc_hdr)
#define MAX_BODY (IPC_MAX_FRAME - HDRSZ)

/* A counted string from a literal, NUL bytes included. */
#define STR(s)                                                                 \
	{                                                                      \
		(const uint8_t *)(s), sizeof(s) - 1                            \
	}

static uint8_t big[IPC_MAX_STR + 1]; /* 'b' * (IPC_MAX_STR + 1) */

static int
setup_big(void **state)
{
	(void)state;
	memset(big, 'b', sizeof(big));
	return 0;
}

static void
make_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fail_msg("socketpair: got %s, want success", strerror(errno));
}

static void
close_pair(int sv[2])
{
	if (sv[0] != -1)
		(void)close(sv[0]);
	if (sv[1] != -1)
		(void)close(sv[1]);
	sv[0] = sv[1] = -1;
}

/* Open descriptors of this process, to catch one leaked by ipc_recv. */
static int
count_fds(void)
{
	struct dirent *de;
	DIR *d = NULL;
	int n = 0;

	d = opendir("/proc/self/fd");
	if (d == NULL)
		fail_msg("opendir /proc/self/fd: got %s, want success",
		    strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	(void)closedir(d);
	return n;
}

/* Send raw bytes as one frame, with nfds copies of passfd. */
static void
send_raw(int fd, const void *p, size_t n, int passfd, int nfds)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int) * 8)];
	} cm;
	int fds[8];
	struct cmsghdr *c;
	struct msghdr mh;
	struct iovec iov;
	int i;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)p;
	iov.iov_len = n;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		assert_true(nfds <= 8);
		for (i = 0; i < nfds; i++)
			fds[i] = passfd;
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)n)
		fail_msg("sendmsg of %zu bytes: got %s, want success", n,
		    strerror(errno));
}

static void
put_hdr(uint8_t *out, uint16_t type, uint16_t flags, uint32_t id)
{
	struct ipc_hdr h;

	h.type = type;
	h.flags = flags;
	h.id = id;
	memcpy(out, &h, sizeof(h));
}

static void
check_str(const char *name, const char *what, const struct ipc_str *got,
    const struct ipc_str *want, const uint8_t *body, size_t bodylen)
{
	CHECK_BYTES(name, what, got->ptr, got->len, want->ptr, want->len);
	if (got->len > 0 &&
	    (got->ptr < body || got->ptr + got->len > body + bodylen))
		fail_msg("%s: %s: got a pointer outside the body, want one "
			 "into it",
		    name, what);
}

/* IPC_FRONT_AUTH bodies. */
struct auth_case {
	const char *name;
	struct ipc_auth_req req;
};

static struct auth_case auth_cases[] = {
    {"typical",
	{STR("alice"), STR("secret"), STR("smtp"), STR("example.com"),
	    STR("192.0.2.1")}},
    {"all empty", {STR(""), STR(""), STR(""), STR(""), STR("")}},
    {"NULL pointers, empty",
	{{NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}}},
    {"login@realm, no rhost",
	{STR("alice@example.com"), STR("pa ss\r\nword"), STR("imap"),
	    STR("example.com"), STR("")}},
    {"8-bit password",
	{STR("j\xc3\xb6rg"), STR("\xff\xfe\x01\x7f\x80"), STR("smtp"), STR(""),
	    STR("2001:db8::1")}},
    /* Filled in by test_auth_roundtrip: 5 strings of IPC_MAX_STR. */
    {"five maximal strings",
	{{NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}}},
};

#define AUTH_MAXIMAL (sizeof(auth_cases) / sizeof(auth_cases[0]) - 1)

static void
fill_maximal(struct ipc_auth_req *r)
{
	r->login.ptr = r->password.ptr = r->service.ptr = r->realm.ptr =
	    r->rhost.ptr = big;
	r->login.len = r->password.len = r->service.len = r->realm.len =
	    r->rhost.len = IPC_MAX_STR;
}

static size_t
auth_size(const struct ipc_auth_req *r)
{
	return 5 * 2 + r->login.len + r->password.len + r->service.len +
	    r->realm.len + r->rhost.len;
}

static void
check_auth(const char *name, const struct ipc_auth_req *got,
    const struct ipc_auth_req *want, const uint8_t *body, size_t len)
{
	check_str(name, "login", &got->login, &want->login, body, len);
	check_str(name, "password", &got->password, &want->password, body, len);
	check_str(name, "service", &got->service, &want->service, body, len);
	check_str(name, "realm", &got->realm, &want->realm, body, len);
	check_str(name, "rhost", &got->rhost, &want->rhost, body, len);
}

static void
test_auth_roundtrip(void **state)
{
	struct ipc_auth_req got;
	const struct auth_case *tc;
	uint8_t *out = NULL;
	size_t i, n;

	(void)state;
	fill_maximal(&auth_cases[AUTH_MAXIMAL].req);
	out = malloc(IPC_MAX_FRAME);
	assert_non_null(out);
	for (i = 0; i < sizeof(auth_cases) / sizeof(auth_cases[0]); i++) {
		tc = &auth_cases[i];
		n = ipc_encode_auth(out, IPC_MAX_FRAME, &tc->req);
		CHECK_UINT(tc->name, "encoded length", n, auth_size(&tc->req));
		CHECK_UINT(tc->name, "encoded length fits a frame body",
		    n <= MAX_BODY, 1);
		memset(&got, 0, sizeof(got));
		CHECK_INT(tc->name, "decode", ipc_decode_auth(out, n, &got), 0);
		check_auth(tc->name, &got, &tc->req, out, n);
		/* Exactly enough room works, one byte less does not. */
		CHECK_UINT(tc->name, "encode into exact size",
		    ipc_encode_auth(out, n, &tc->req), n);
		if (n > 0)
			CHECK_UINT(tc->name, "encode into one byte less",
			    ipc_encode_auth(out, n - 1, &tc->req), 0);
	}
	free(out);
}

/* Strings longer than IPC_MAX_STR are refused by the encoder. */
static void
test_auth_encode_too_long(void **state)
{
	struct ipc_auth_req r;
	struct ipc_str *s[5];
	uint8_t *out = NULL;
	char name[64];
	size_t i;

	(void)state;
	out = malloc(IPC_MAX_FRAME + IPC_MAX_STR);
	assert_non_null(out);
	for (i = 0; i < 5; i++) {
		struct ipc_auth_req ok = {
		    STR("alice"), STR("secret"), STR("smtp"), STR(""), STR("")};

		r = ok;
		s[0] = &r.login;
		s[1] = &r.password;
		s[2] = &r.service;
		s[3] = &r.realm;
		s[4] = &r.rhost;
		s[i]->ptr = big;
		s[i]->len = IPC_MAX_STR + 1;
		(void)snprintf(
		    name, sizeof(name), "string %zu of %d", i, IPC_MAX_STR + 1);
		CHECK_UINT(name, "encoded length",
		    ipc_encode_auth(out, IPC_MAX_FRAME + IPC_MAX_STR, &r), 0);
	}
	free(out);
}

/* Every proper prefix of an encoded auth body fails to decode. */
static void
test_auth_truncated(void **state)
{
	const struct auth_case *tc;
	struct ipc_auth_req got;
	uint8_t *out = NULL;
	char what[64];
	size_t i, n, k;

	(void)state;
	fill_maximal(&auth_cases[AUTH_MAXIMAL].req);
	out = malloc(IPC_MAX_FRAME);
	assert_non_null(out);
	for (i = 0; i < sizeof(auth_cases) / sizeof(auth_cases[0]); i++) {
		tc = &auth_cases[i];
		n = ipc_encode_auth(out, IPC_MAX_FRAME, &tc->req);
		assert_true(n > 0);
		for (k = 0; k < n; k++) {
			(void)snprintf(what, sizeof(what),
			    "decode of %zu of %zu bytes", k, n);
			CHECK_INT(
			    tc->name, what, ipc_decode_auth(out, k, &got), -1);
		}
		/* One byte more, and a whole second body, are refused. */
		out[n] = 0;
		CHECK_INT(tc->name, "decode with a trailing byte",
		    ipc_decode_auth(out, n + 1, &got), -1);
		if (2 * n <= IPC_MAX_FRAME) {
			memcpy(out + n, out, n);
			CHECK_INT(tc->name, "decode of two bodies",
			    ipc_decode_auth(out, 2 * n, &got), -1);
		}
	}
	free(out);
}

/* A NUL anywhere inside any of the five strings fails the decode. */
static void
test_auth_nul(void **state)
{
	struct ipc_auth_req r, got;
	struct ipc_str *s[5];
	uint8_t val[5][8], out[128];
	char name[64];
	size_t i, pos, n;

	(void)state;
	for (i = 0; i < 5; i++) {
		for (pos = 0; pos < sizeof(val[i]); pos++) {
			memset(val, 'v', sizeof(val));
			val[i][pos] = '\0';
			s[0] = &r.login;
			s[1] = &r.password;
			s[2] = &r.service;
			s[3] = &r.realm;
			s[4] = &r.rhost;
			for (n = 0; n < 5; n++) {
				s[n]->ptr = val[n];
				s[n]->len = sizeof(val[n]);
			}
			(void)snprintf(name, sizeof(name),
			    "NUL at %zu of string %zu", pos, i);
			n = ipc_encode_auth(out, sizeof(out), &r);
			CHECK_UINT(name, "encoded length", n,
			    5 * (2 + sizeof(val[0])));
			CHECK_INT(
			    name, "decode", ipc_decode_auth(out, n, &got), -1);
		}
	}
}

/* A string length word above IPC_MAX_STR, with the bytes present. */
static void
test_auth_string_too_long(void **state)
{
	struct ipc_auth_req got;
	uint8_t *body = NULL;
	uint16_t n16;
	size_t off = 0, i;

	(void)state;
	body = malloc(IPC_MAX_FRAME + IPC_MAX_STR);
	assert_non_null(body);
	n16 = IPC_MAX_STR + 1;
	memcpy(body + off, &n16, sizeof(n16));
	off += sizeof(n16);
	memset(body + off, 'a', IPC_MAX_STR + 1);
	off += IPC_MAX_STR + 1;
	n16 = 0;
	for (i = 0; i < 4; i++) {
		memcpy(body + off, &n16, sizeof(n16));
		off += sizeof(n16);
	}
	CHECK_INT("login of IPC_MAX_STR + 1", "decode",
	    ipc_decode_auth(body, off, &got), -1);
	/* The same body with the limit itself decodes: the test can fail. */
	n16 = IPC_MAX_STR;
	memcpy(body, &n16, sizeof(n16));
	memmove(body + 2 + IPC_MAX_STR, body + 2 + IPC_MAX_STR + 1, 8);
	CHECK_INT("login of IPC_MAX_STR", "decode",
	    ipc_decode_auth(body, off - 1, &got), 0);
	CHECK_UINT(
	    "login of IPC_MAX_STR", "login length", got.login.len, IPC_MAX_STR);
	free(body);
}

/* IPC_WORKER_RESULT bodies. */
struct result_case {
	const char *name;
	enum auth_result result;
	uint32_t delay_us;
	int32_t pam_rc;
	const char *reason;
};

static const struct result_case result_cases[] = {
    {"OK", AUTH_OK, 0, 0, ""},
    {"FAIL", AUTH_FAIL, 2000000, 7, "Authentication failure"},
    {"FAIL_ACCT", AUTH_FAIL_ACCT, 0, 13, "User account has expired"},
    {"FAIL_START", AUTH_FAIL_START, 0, 4, "System error"},
    {"TEMPFAIL", AUTH_TEMPFAIL, UINT32_MAX, -1, "x"},
    {"TEMPFAIL, INT32_MIN", AUTH_TEMPFAIL, 1, INT32_MIN, "Critical error"},
    {"FAIL, INT32_MAX", AUTH_FAIL, 1, INT32_MAX, "8-bit \xc3\xa9 reason"},
};

static void
check_result(const char *name, const struct ipc_auth_res *got,
    enum auth_result result, uint32_t delay_us, int32_t pam_rc,
    const char *reason)
{
	CHECK_INT(name, "result", got->result, result);
	CHECK_UINT(name, "delay_us", got->delay_us, delay_us);
	CHECK_INT(name, "pam_rc", got->pam_rc, pam_rc);
	if (memchr(got->reason, '\0', sizeof(got->reason)) == NULL ||
	    strcmp(got->reason, reason) != 0)
		fail_msg("%s: reason: got \"%.*s\", want \"%s\"", name,
		    (int)sizeof(got->reason), got->reason, reason);
}

static void
test_result_roundtrip(void **state)
{
	const struct result_case *tc;
	struct ipc_auth_res res, got;
	uint8_t out[512];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(result_cases) / sizeof(result_cases[0]); i++) {
		tc = &result_cases[i];
		memset(&res, 0, sizeof(res));
		res.result = tc->result;
		res.delay_us = tc->delay_us;
		res.pam_rc = tc->pam_rc;
		(void)snprintf(
		    res.reason, sizeof(res.reason), "%s", tc->reason);
		n = ipc_encode_result(out, sizeof(out), &res);
		CHECK_UINT(tc->name, "encoded length", n,
		    4 + 4 + 4 + 2 + strlen(tc->reason));
		memset(&got, 0x5a, sizeof(got));
		CHECK_INT(
		    tc->name, "decode", ipc_decode_result(out, n, &got), 0);
		check_result(tc->name, &got, tc->result, tc->delay_us,
		    tc->pam_rc, tc->reason);
		CHECK_UINT(tc->name, "encode into one byte less",
		    ipc_encode_result(out, n - 1, &res), 0);
	}
}

/*
 * The longest reason, and a reason buffer with no NUL at all: the encoder
 * sends at most IPC_MAX_REASON bytes.
 */
static void
test_result_reason_max(void **state)
{
	char want[IPC_MAX_REASON + 1];
	struct ipc_auth_res res, got;
	uint8_t out[512];
	size_t n;

	(void)state;
	memset(want, 'r', IPC_MAX_REASON);
	want[IPC_MAX_REASON] = '\0';

	memset(&res, 0, sizeof(res));
	res.result = AUTH_FAIL;
	memcpy(res.reason, want, sizeof(want));
	n = ipc_encode_result(out, sizeof(out), &res);
	CHECK_UINT("reason of IPC_MAX_REASON", "encoded length", n,
	    14 + IPC_MAX_REASON);
	CHECK_INT("reason of IPC_MAX_REASON", "decode",
	    ipc_decode_result(out, n, &got), 0);
	check_result("reason of IPC_MAX_REASON", &got, AUTH_FAIL, 0, 0, want);

	memset(res.reason, 'r', sizeof(res.reason)); /* no NUL */
	n = ipc_encode_result(out, sizeof(out), &res);
	CHECK_UINT(
	    "unterminated reason", "encoded length", n, 14 + IPC_MAX_REASON);
	CHECK_INT("unterminated reason", "decode",
	    ipc_decode_result(out, n, &got), 0);
	check_result("unterminated reason", &got, AUTH_FAIL, 0, 0, want);
}

/* Build a result body by hand: what a broken or hostile worker could send. */
static size_t
raw_result(uint8_t *out, uint32_t r, const void *reason, size_t rlen)
{
	uint32_t delay = 0;
	int32_t rc = 0;
	uint16_t n16 = (uint16_t)rlen;
	size_t off = 0;

	memcpy(out + off, &r, 4);
	off += 4;
	memcpy(out + off, &delay, 4);
	off += 4;
	memcpy(out + off, &rc, 4);
	off += 4;
	memcpy(out + off, &n16, 2);
	off += 2;
	memcpy(out + off, reason, rlen);
	return off + rlen;
}

struct bad_result_case {
	const char *name;
	uint32_t result;
	size_t reasonlen; /* of 'r' */
	int nulat; /* -1, or a NUL at this index of the reason */
	int want;
};

static const struct bad_result_case bad_result_cases[] = {
    {"control: TEMPFAIL", AUTH_TEMPFAIL, 3, -1, 0},
    {"control: reason of IPC_MAX_REASON", AUTH_OK, IPC_MAX_REASON, -1, 0},
    {"result AUTH_RESULT_MAX", AUTH_RESULT_MAX, 3, -1, -1},
    {"result AUTH_RESULT_MAX + 1", AUTH_RESULT_MAX + 1, 3, -1, -1},
    {"result 0xffffffff (-1)", UINT32_MAX, 3, -1, -1},
    {"result 0x80000000", 0x80000000u, 3, -1, -1},
    {"reason of IPC_MAX_REASON + 1", AUTH_FAIL, IPC_MAX_REASON + 1, -1, -1},
    {"reason of 1000", AUTH_FAIL, 1000, -1, -1},
    {"NUL in reason", AUTH_FAIL, 5, 2, -1},
    {"reason of one NUL", AUTH_FAIL, 1, 0, -1},
};

static void
test_result_bad(void **state)
{
	const struct bad_result_case *tc;
	uint8_t reason[1000], out[1100];
	struct ipc_auth_res got;
	char what[64];
	size_t i, n, k;

	(void)state;
	for (i = 0; i < sizeof(bad_result_cases) / sizeof(bad_result_cases[0]);
	     i++) {
		tc = &bad_result_cases[i];
		memset(reason, 'r', sizeof(reason));
		if (tc->nulat >= 0)
			reason[tc->nulat] = '\0';
		n = raw_result(out, tc->result, reason, tc->reasonlen);
		CHECK_INT(tc->name, "decode", ipc_decode_result(out, n, &got),
		    tc->want);
		if (tc->want != 0)
			continue;
		/* A good body cut anywhere, or with a byte more, fails. */
		for (k = 0; k < n; k++) {
			(void)snprintf(what, sizeof(what),
			    "decode of %zu of %zu bytes", k, n);
			CHECK_INT(tc->name, what,
			    ipc_decode_result(out, k, &got), -1);
		}
		out[n] = 'r';
		CHECK_INT(tc->name, "decode with a trailing byte",
		    ipc_decode_result(out, n + 1, &got), -1);
	}
}

/* IPC_PARENT_WORKER and the u32 bodies. */
struct worker_case {
	const char *name;
	uint32_t id;
	int32_t pid;
	int want; /* decode */
};

static const struct worker_case worker_cases[] = {
    {"typical", 1, 4242, 0},
    {"id 0, pid 1", 0, 1, 0},
    {"largest", UINT32_MAX, INT32_MAX, 0},
    {"pid 0", 7, 0, -1},
    {"pid -1", 7, -1, -1},
    {"pid INT32_MIN", 7, INT32_MIN, -1},
};

static void
test_worker(void **state)
{
	const struct worker_case *tc;
	struct ipc_worker w, got;
	uint8_t out[16];
	char what[64];
	size_t i, n, k;

	(void)state;
	memset(out, 0, sizeof(out));
	for (i = 0; i < sizeof(worker_cases) / sizeof(worker_cases[0]); i++) {
		tc = &worker_cases[i];
		w.id = tc->id;
		w.pid = tc->pid;
		n = ipc_encode_worker(out, sizeof(out), &w);
		CHECK_UINT(tc->name, "encoded length", n, 8);
		CHECK_UINT(tc->name, "encode into 7 bytes",
		    ipc_encode_worker(out, 7, &w), 0);
		memset(&got, 0, sizeof(got));
		CHECK_INT(tc->name, "decode", ipc_decode_worker(out, n, &got),
		    tc->want);
		if (tc->want != 0)
			continue;
		CHECK_UINT(tc->name, "id", got.id, tc->id);
		CHECK_INT(tc->name, "pid", got.pid, tc->pid);
		for (k = 0; k < n; k++) {
			(void)snprintf(what, sizeof(what),
			    "decode of %zu of %zu bytes", k, n);
			CHECK_INT(tc->name, what,
			    ipc_decode_worker(out, k, &got), -1);
		}
		CHECK_INT(tc->name, "decode with a trailing byte",
		    ipc_decode_worker(out, n + 1, &got), -1);
	}
}

static const uint32_t u32_cases[] = {0, 1, IPC_VERSION, 0x01020304, UINT32_MAX};

static void
test_u32(void **state)
{
	uint8_t out[8];
	uint32_t got;
	char name[32];
	size_t i, n, k;

	(void)state;
	memset(out, 0, sizeof(out));
	for (i = 0; i < sizeof(u32_cases) / sizeof(u32_cases[0]); i++) {
		(void)snprintf(
		    name, sizeof(name), "u32 %#x", (unsigned)u32_cases[i]);
		n = ipc_encode_u32(out, sizeof(out), u32_cases[i]);
		CHECK_UINT(name, "encoded length", n, 4);
		CHECK_UINT(name, "encode into 3 bytes",
		    ipc_encode_u32(out, 3, u32_cases[i]), 0);
		got = ~u32_cases[i];
		CHECK_INT(name, "decode", ipc_decode_u32(out, n, &got), 0);
		CHECK_UINT(name, "value", got, u32_cases[i]);
		for (k = 0; k < n; k++)
			CHECK_INT(name, "decode of a prefix",
			    ipc_decode_u32(out, k, &got), -1);
		CHECK_INT(name, "decode with a trailing byte",
		    ipc_decode_u32(out, n + 1, &got), -1);
	}
}

/* Frames through a real SEQPACKET socketpair arrive whole and intact. */
struct frame_case {
	const char *name;
	enum ipc_type type;
	uint16_t flags;
	uint32_t id;
	size_t bodylen; /* of a patterned body */
};

static const struct frame_case frame_cases[] = {
    {"HELLO", IPC_WORKER_HELLO, 0, 0, 4},
    {"AUTH", IPC_FRONT_AUTH, 0, 1, 40},
    {"RESULT, IPC_F_LAST", IPC_WORKER_RESULT, IPC_F_LAST, 0xdeadbeef, 30},
    {"SHUTDOWN, no body", IPC_PARENT_SHUTDOWN, 0, 0, 0},
    {"STATS, every flag", IPC_PARENT_STATS, 0xffff, UINT32_MAX, 1},
    {"largest body", IPC_FRONT_AUTH, 0, 77, MAX_BODY},
};

static void
test_send_recv(void **state)
{
	const struct frame_case *tc;
	uint8_t *body = NULL, *buf = NULL;
	struct ipc_msg m;
	int sv[2] = {-1, -1};
	size_t i, k;
	int rc;

	(void)state;
	body = malloc(IPC_MAX_FRAME);
	buf = malloc(IPC_MAX_FRAME);
	assert_non_null(body);
	assert_non_null(buf);
	for (k = 0; k < IPC_MAX_FRAME; k++)
		body[k] = (uint8_t)(k * 7 + 1);
	make_pair(sv);
	for (i = 0; i < sizeof(frame_cases) / sizeof(frame_cases[0]); i++) {
		tc = &frame_cases[i];
		rc = ipc_send(
		    sv[0], tc->type, tc->flags, tc->id, body, tc->bodylen, -1);
		if (rc != 0)
			fail_msg("%s: ipc_send: got %d (%s), want 0", tc->name,
			    rc, strerror(errno));
		memset(&m, 0, sizeof(m));
		rc = ipc_recv(sv[1], buf, IPC_MAX_FRAME, &m);
		if (rc != 1)
			fail_msg("%s: ipc_recv: got %d (%s), want 1", tc->name,
			    rc, strerror(errno));
		CHECK_INT(tc->name, "type", m.type, tc->type);
		CHECK_UINT(tc->name, "flags", m.flags, tc->flags);
		CHECK_UINT(tc->name, "id", m.id, tc->id);
		CHECK_INT(tc->name, "fd", m.fd, -1);
		CHECK_BYTES(
		    tc->name, "body", m.body, m.bodylen, body, tc->bodylen);
		if (m.body != buf + HDRSZ)
			fail_msg("%s: body: got buf+%td, want buf+%zu",
			    tc->name, m.body - buf, HDRSZ);
	}
	/* Frames queue and come out one at a time, in order. */
	for (i = 0; i < 3; i++)
		assert_int_equal(ipc_send(sv[1], IPC_FRONT_KILL, 0, (uint32_t)i,
				     body, i, -1),
		    0);
	for (i = 0; i < 3; i++) {
		rc = ipc_recv(sv[0], buf, IPC_MAX_FRAME, &m);
		CHECK_INT("three queued frames", "ipc_recv", rc, 1);
		CHECK_UINT("three queued frames", "id", m.id, i);
		CHECK_UINT("three queued frames", "body length", m.bodylen, i);
	}
	close_pair(sv);
	free(body);
	free(buf);
}

/* A body above IPC_MAX_FRAME is refused before anything is sent. */
static void
test_send_too_big(void **state)
{
	uint8_t *body = NULL, buf[64];
	int sv[2] = {-1, -1};
	int rc;

	(void)state;
	body = calloc(1, IPC_MAX_FRAME + 1);
	assert_non_null(body);
	make_pair(sv);
	errno = 0;
	rc = ipc_send(sv[0], IPC_FRONT_AUTH, 0, 1, body, MAX_BODY + 1, -1);
	CHECK_INT("body of MAX_BODY + 1", "ipc_send", rc, -1);
	CHECK_INT("body of MAX_BODY + 1", "errno", errno, EMSGSIZE);
	/* Nothing was sent: the socket is empty. */
	CHECK_INT("body of MAX_BODY + 1", "bytes queued",
	    recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), -1);
	CHECK_INT("body of MAX_BODY + 1", "recv errno", errno, EAGAIN);
	close_pair(sv);
	free(body);
}

static volatile sig_atomic_t sigpipes;

static void
on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

/*
 * A closed peer gives -1/EPIPE and no SIGPIPE. (Linux does not raise
 * SIGPIPE for SEQPACKET at all; the count guards other kernels.)
 */
static void
test_send_closed_peer(void **state)
{
	struct sigaction sa, old;
	int sv[2] = {-1, -1};
	int rc;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigpipe;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGPIPE, &sa, &old), 0);
	sigpipes = 0;
	make_pair(sv);
	(void)close(sv[1]);
	sv[1] = -1;
	errno = 0;
	rc = ipc_send(sv[0], IPC_PARENT_SHUTDOWN, 0, 0, NULL, 0, -1);
	CHECK_INT("closed peer", "ipc_send", rc, -1);
	CHECK_INT("closed peer", "errno", errno, EPIPE);
	CHECK_INT("closed peer", "SIGPIPEs", sigpipes, 0);
	(void)sigaction(SIGPIPE, &old, NULL);
	close_pair(sv);
}

/* A passed descriptor arrives usable and close-on-exec. */
static void
test_pass_fd(void **state)
{
	static const char msg[] = "through the passed fd";
	uint8_t buf[IPC_MAX_FRAME];
	char got[sizeof(msg)];
	int sv[2] = {-1, -1}, p[2] = {-1, -1};
	struct ipc_msg m;
	uint8_t body[8];
	size_t n;
	int rc, fl, before;

	(void)state;
	make_pair(sv);
	/* A pipe without O_CLOEXEC: the flag must come from ipc_recv. */
	assert_int_equal(pipe(p), 0);
	n = ipc_encode_u32(body, sizeof(body), 99);
	before = count_fds();
	rc = ipc_send(sv[0], IPC_PARENT_WORKER, 0, 5, body, n, p[1]);
	CHECK_INT("pass fd", "ipc_send", rc, 0);
	rc = ipc_recv(sv[1], buf, sizeof(buf), &m);
	CHECK_INT("pass fd", "ipc_recv", rc, 1);
	CHECK_INT("pass fd", "type", m.type, IPC_PARENT_WORKER);
	CHECK_UINT("pass fd", "id", m.id, 5);
	CHECK_UINT("pass fd", "body length", m.bodylen, n);
	CHECK_INT(
	    "pass fd", "open fds after receiving", count_fds(), before + 1);
	if (m.fd < 0 || m.fd == p[1])
		fail_msg("pass fd: fd: got %d, want a new descriptor", m.fd);
	fl = fcntl(m.fd, F_GETFD);
	if (fl == -1 || !(fl & FD_CLOEXEC))
		fail_msg("pass fd: F_GETFD: got %#x, want FD_CLOEXEC set", fl);
	/* Same pipe: what goes into the received fd comes out of p[0]. */
	assert_int_equal(close(p[1]), 0);
	p[1] = -1;
	CHECK_INT(
	    "pass fd", "write", write(m.fd, msg, sizeof(msg)), sizeof(msg));
	CHECK_INT("pass fd", "read", read(p[0], got, sizeof(got)), sizeof(msg));
	CHECK_BYTES("pass fd", "data", got, sizeof(got), msg, sizeof(msg));
	(void)close(m.fd);
	(void)close(p[0]);
	close_pair(sv);
}

/* Two fds on one frame: the first is kept, the other closed, none leak. */
static void
test_pass_two_fds(void **state)
{
	uint8_t frame[HDRSZ], buf[IPC_MAX_FRAME];
	int sv[2] = {-1, -1}, p[2] = {-1, -1};
	struct ipc_msg m;
	int rc, before;

	(void)state;
	make_pair(sv);
	assert_int_equal(pipe(p), 0);
	put_hdr(frame, IPC_PARENT_WORKER, 0, 3);
	before = count_fds();
	send_raw(sv[0], frame, sizeof(frame), p[1], 2);
	rc = ipc_recv(sv[1], buf, sizeof(buf), &m);
	CHECK_INT("two fds", "ipc_recv", rc, 1);
	if (m.fd < 0)
		fail_msg("two fds: fd: got %d, want a descriptor", m.fd);
	CHECK_INT(
	    "two fds", "open fds after receiving", count_fds(), before + 1);
	(void)close(m.fd);
	(void)close(p[0]);
	(void)close(p[1]);
	close_pair(sv);
}

static void
test_recv_eof(void **state)
{
	uint8_t buf[IPC_MAX_FRAME];
	int sv[2] = {-1, -1};
	struct ipc_msg m;
	int rc;

	(void)state;
	make_pair(sv);
	/* A frame still queued is delivered before the EOF. */
	assert_int_equal(
	    ipc_send(sv[0], IPC_FRONT_READY, 0, 0, NULL, 0, -1), 0);
	(void)close(sv[0]);
	sv[0] = -1;
	rc = ipc_recv(sv[1], buf, sizeof(buf), &m);
	CHECK_INT("frame before EOF", "ipc_recv", rc, 1);
	CHECK_INT("frame before EOF", "type", m.type, IPC_FRONT_READY);
	rc = ipc_recv(sv[1], buf, sizeof(buf), &m);
	CHECK_INT("EOF", "ipc_recv", rc, 0);
	close_pair(sv);
}

/* Nothing queued on a non-blocking socket: -1/EAGAIN, not EOF. */
static void
test_recv_eagain(void **state)
{
	uint8_t buf[IPC_MAX_FRAME];
	int sv[2] = {-1, -1};
	struct ipc_msg m;
	int rc;

	(void)state;
	make_pair(sv);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	errno = 0;
	rc = ipc_recv(sv[1], buf, sizeof(buf), &m);
	CHECK_INT("empty non-blocking socket", "ipc_recv", rc, -1);
	CHECK_INT("empty non-blocking socket", "errno", errno, EAGAIN);
	close_pair(sv);
}

/*
 * Malformed frames (sent raw, with and without an fd): -1/EBADMSG, no fd
 * leaked, and the channel stays aligned for the next frame.
 */
struct bad_frame_case {
	const char *name;
	size_t len; /* frame bytes: the header (or its start), then 'f's */
	uint16_t type; /* in the header */
	size_t bufsz; /* given to ipc_recv; 0: IPC_MAX_FRAME */
	int nfds; /* copies of a pipe fd attached */
	int want;
};

static const struct bad_frame_case bad_frame_cases[] = {
    {"control: header only", HDRSZ, IPC_FRONT_READY, 0, 0, 1},
    {"control: frame of exactly bufsz", 32, IPC_FRONT_LOG, 32, 0, 1},
    /* A valid type up front: only the length can refuse these. */
    {"1 byte", 1, IPC_FRONT_READY, 0, 0, -1},
    {"type and flags only", 4, IPC_FRONT_READY, 0, 0, -1},
    {"header less one byte", HDRSZ - 1, IPC_FRONT_READY, 0, 0, -1},
    {"header less one byte, with an fd", HDRSZ - 1, IPC_FRONT_READY, 0, 1, -1},
    {"type 0", HDRSZ + 4, 0, 0, 0, -1},
    {"type 0, with an fd", HDRSZ, 0, 0, 1, -1},
    {"type IPC_TYPE_MAX", HDRSZ, IPC_TYPE_MAX, 0, 0, -1},
    {"type 0xffff", HDRSZ + 1, 0xffff, 0, 0, -1},
    {"bufsz + 1", 33, IPC_FRONT_LOG, 32, 0, -1},
    {"bufsz + 1, with an fd", 33, IPC_FRONT_LOG, 32, 1, -1},
    {"IPC_MAX_FRAME + 1", IPC_MAX_FRAME + 1, IPC_FRONT_AUTH, 0, 0, -1},
    {"5 fds (control truncated)", HDRSZ, IPC_PARENT_WORKER, 0, 5, -1},
};

static void
test_recv_bad_frames(void **state)
{
	const struct bad_frame_case *tc;
	uint8_t *frame = NULL, *buf = NULL;
	int sv[2] = {-1, -1}, p[2] = {-1, -1};
	struct ipc_msg m;
	int before, rc;
	size_t i, bufsz;

	(void)state;
	frame = calloc(1, IPC_MAX_FRAME + 1);
	buf = malloc(IPC_MAX_FRAME);
	assert_non_null(frame);
	assert_non_null(buf);
	make_pair(sv);
	assert_int_equal(pipe(p), 0);
	for (i = 0; i < sizeof(bad_frame_cases) / sizeof(bad_frame_cases[0]);
	     i++) {
		tc = &bad_frame_cases[i];
		bufsz = tc->bufsz == 0 ? IPC_MAX_FRAME : tc->bufsz;
		memset(frame, 'f', tc->len > HDRSZ ? tc->len : HDRSZ);
		put_hdr(frame, tc->type, 0, 42);
		/* What ipc_recv may find past a short frame: a valid one. */
		put_hdr(buf, IPC_FRONT_READY, 0, 42);
		before = count_fds();
		send_raw(sv[0], frame, tc->len, p[1], tc->nfds);
		errno = 0;
		m.fd = -1;
		rc = ipc_recv(sv[1], buf, bufsz, &m);
		CHECK_INT(tc->name, "ipc_recv", rc, tc->want);
		if (rc == -1)
			CHECK_INT(tc->name, "errno", errno, EBADMSG);
		if (rc == 1) {
			CHECK_INT(tc->name, "type", m.type, tc->type);
			CHECK_UINT(tc->name, "body length", m.bodylen,
			    tc->len - HDRSZ);
			if (m.fd != -1)
				(void)close(m.fd);
		}
		CHECK_INT(tc->name, "open fds afterwards", count_fds(), before);
		/* The next frame is read whole: nothing was left behind. */
		assert_int_equal(
		    ipc_send(sv[0], IPC_FRONT_SPAWN, 0, 1234, "next", 4, -1),
		    0);
		rc = ipc_recv(sv[1], buf, IPC_MAX_FRAME, &m);
		CHECK_INT(tc->name, "next frame", rc, 1);
		CHECK_INT(tc->name, "next frame type", m.type, IPC_FRONT_SPAWN);
		CHECK_UINT(tc->name, "next frame id", m.id, 1234);
		CHECK_BYTES(
		    tc->name, "next frame body", m.body, m.bodylen, "next", 4);
	}
	(void)close(p[0]);
	(void)close(p[1]);
	close_pair(sv);
	free(frame);
	free(buf);
}

/*
 * KNOWN BUG (reported to the lead, fails until ipc.c is fixed): a
 * zero-length SEQPACKET frame makes recvmsg() return 0, and ipc_recv()
 * returns "EOF" before it looks at the control data, so a descriptor that
 * came with that frame stays open in the receiver, unowned. EOF or
 * EBADMSG are both fine answers; the leak is not.
 */
static void
test_recv_empty_frame_fd(void **state)
{
	uint8_t buf[IPC_MAX_FRAME];
	int sv[2] = {-1, -1}, p[2] = {-1, -1};
	struct ipc_msg m;
	int before, rc;

	(void)state;
	make_pair(sv);
	assert_int_equal(pipe(p), 0);
	before = count_fds();
	send_raw(sv[0], "", 0, p[1], 1);
	m.fd = -1;
	rc = ipc_recv(sv[1], buf, sizeof(buf), &m);
	if (rc != 0 && rc != -1)
		fail_msg("empty frame with an fd: ipc_recv: got %d, want 0 "
			 "or -1",
		    rc);
	CHECK_INT("empty frame with an fd", "open fds afterwards", count_fds(),
	    before);
	(void)close(p[0]);
	(void)close(p[1]);
	close_pair(sv);
}

struct allowed_case {
	const char *name;
	enum ipc_type t;
	const enum ipc_type *allow;
	size_t n;
	int want;
};

/* The worker's allow-list, and the front's list from the parent. */
static const enum ipc_type worker_allow[] = {IPC_FRONT_AUTH};
static const enum ipc_type front_allow[] = {IPC_PARENT_WORKER,
    IPC_PARENT_SHUTDOWN, IPC_PARENT_RECYCLE, IPC_PARENT_STATS};

static const struct allowed_case allowed_cases[] = {
    {"worker: AUTH", IPC_FRONT_AUTH, worker_allow, 1, 1},
    {"worker: RESULT", IPC_WORKER_RESULT, worker_allow, 1, 0},
    {"worker: SHUTDOWN", IPC_PARENT_SHUTDOWN, worker_allow, 1, 0},
    {"front: WORKER", IPC_PARENT_WORKER, front_allow, 4, 1},
    {"front: STATS (last)", IPC_PARENT_STATS, front_allow, 4, 1},
    {"front: STATS outside n", IPC_PARENT_STATS, front_allow, 3, 0},
    {"front: AUTH", IPC_FRONT_AUTH, front_allow, 4, 0},
    {"front: HELLO", IPC_WORKER_HELLO, front_allow, 4, 0},
    {"empty list", IPC_FRONT_AUTH, NULL, 0, 0},
};

static void
test_allowed(void **state)
{
	const struct allowed_case *tc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(allowed_cases) / sizeof(allowed_cases[0]); i++) {
		tc = &allowed_cases[i];
		CHECK_INT(tc->name, "ipc_allowed",
		    ipc_allowed(tc->t, tc->allow, tc->n), tc->want);
	}
}

static void
test_type_name(void **state)
{
	const char *got;
	int t;

	(void)state;
	for (t = 1; t < IPC_TYPE_MAX; t++) {
		got = ipc_type_name((enum ipc_type)t);
		if (got == NULL || strcmp(got, "UNKNOWN") == 0)
			fail_msg("type %d: name: got %s, want a name", t,
			    got == NULL ? "NULL" : got);
	}
	got = ipc_type_name(IPC_FRONT_AUTH);
	if (strcmp(got, "FRONT_AUTH") != 0)
		fail_msg("IPC_FRONT_AUTH: name: got %s, want FRONT_AUTH", got);
	got = ipc_type_name((enum ipc_type)0);
	if (strcmp(got, "UNKNOWN") != 0)
		fail_msg("type 0: name: got %s, want UNKNOWN", got);
	got = ipc_type_name(IPC_TYPE_MAX);
	if (strcmp(got, "UNKNOWN") != 0)
		fail_msg("IPC_TYPE_MAX: name: got %s, want UNKNOWN", got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_auth_roundtrip),
	    cmocka_unit_test(test_auth_encode_too_long),
	    cmocka_unit_test(test_auth_truncated),
	    cmocka_unit_test(test_auth_nul),
	    cmocka_unit_test(test_auth_string_too_long),
	    cmocka_unit_test(test_result_roundtrip),
	    cmocka_unit_test(test_result_reason_max),
	    cmocka_unit_test(test_result_bad),
	    cmocka_unit_test(test_worker),
	    cmocka_unit_test(test_u32),
	    cmocka_unit_test(test_send_recv),
	    cmocka_unit_test(test_send_too_big),
	    cmocka_unit_test(test_send_closed_peer),
	    cmocka_unit_test(test_pass_fd),
	    cmocka_unit_test(test_pass_two_fds),
	    cmocka_unit_test(test_recv_eof),
	    cmocka_unit_test(test_recv_eagain),
	    cmocka_unit_test(test_recv_bad_frames),
	    cmocka_unit_test(test_recv_empty_frame_fd),
	    cmocka_unit_test(test_allowed),
	    cmocka_unit_test(test_type_name),
	};

	return cmocka_run_group_tests_name("ipc", tests, setup_big, NULL);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_ipc_frame.c - libFuzzer target for the frames between the parent,
 * the front and the PAM workers (saslauthd-ng/ipc.c): ipc_decode_frame()
 * (header and type), the same frame through a real SOCK_SEQPACKET pair and
 * ipc_recv(), and every body decoder (auth, result, worker, u32) with
 * encode -> decode and decode -> encode round trips.
 *
 * Input: one frame as a sibling process would send it (struct ipc_hdr in
 * host order, then the body). The body decoders also see the whole input
 * as a body, so that they are fuzzed without a valid header in front.
 *
 * Invariants: each decoder accepts exactly what a reference walk of the
 * layout in ipc.h accepts (lengths within the bytes present and the
 * limits, no NUL in strings, nothing left over, values in range), never
 * reads past the length given, and a decoded body encodes back to the
 * same bytes; ipc_recv() agrees with ipc_decode_frame().
 *
 * SECURITY: test code only.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "ipc.h"

#define HDRSZ sizeof(struct ipc_hdr)
#define NSTR 5 /* strings in an IPC_FRONT_AUTH body */
/* A frame larger than this is not sent through the socket pair. */
#define SOCKET_MAX (4 * IPC_MAX_FRAME)

struct walk {
	const uint8_t *b;
	size_t off, len;
	int err;
};

static void
walk_get(struct walk *w, void *p, size_t n)
{
	if (w->err || w->len - w->off < n) {
		w->err = 1;
		return;
	}
	memcpy(p, w->b + w->off, n);
	w->off += n;
}

/* A counted string: 2-byte host-order count <= IPC_MAX_STR, no NUL. */
static void
walk_str(struct walk *w, size_t *ret_off, size_t *ret_len)
{
	uint16_t n = 0;

	walk_get(w, &n, sizeof(n));
	if (w->err || n > IPC_MAX_STR || w->len - w->off < n ||
	    (n > 0 && memchr(w->b + w->off, '\0', n) != NULL)) {
		w->err = 1;
		return;
	}
	*ret_off = w->off;
	*ret_len = n;
	w->off += n;
}

static void
check_auth(const uint8_t *body, size_t len)
{
	struct ipc_auth_req req;
	const struct ipc_str *s[NSTR];
	struct walk w = {.b = body, .len = len};
	size_t off[NSTR], slen[NSTR];
	uint8_t *copy, *out;
	int i, want, got;

	for (i = 0; i < NSTR; i++)
		walk_str(&w, &off[i], &slen[i]);
	want = !w.err && w.off == len ? 0 : -1;

	copy = fuzz_dup(body, len);
	got = ipc_decode_auth(copy, len, &req);
	FUZZ_CHECK(got == want);
	if (got == 0) {
		s[0] = &req.login;
		s[1] = &req.password;
		s[2] = &req.service;
		s[3] = &req.realm;
		s[4] = &req.rhost;
		for (i = 0; i < NSTR; i++)
			FUZZ_CHECK(
			    s[i]->ptr == copy + off[i] && s[i]->len == slen[i]);
		out = fuzz_dup(body, len);
		memset(out, 0, len);
		FUZZ_CHECK(ipc_encode_auth(out, len, &req) == len);
		FUZZ_CHECK(memcmp(out, body, len) == 0);
		FUZZ_CHECK(ipc_encode_auth(out, len - 1, &req) == 0);
		free(out);
	}
	free(copy);
	copy = fuzz_dup_guard(body, len, 0x00);
	FUZZ_CHECK(ipc_decode_auth(copy, len, &req) == got);
	free(copy);
	copy = fuzz_dup_guard(body, len, 0xff);
	FUZZ_CHECK(ipc_decode_auth(copy, len, &req) == got);
	free(copy);
}

static void
check_result(const uint8_t *body, size_t len)
{
	struct ipc_auth_res res;
	struct walk w = {.b = body, .len = len};
	uint32_t r = 0, delay = 0;
	int32_t rc = 0;
	size_t roff = 0, rlen = 0;
	uint8_t *copy, *out;
	int want, got;

	walk_get(&w, &r, sizeof(r));
	walk_get(&w, &delay, sizeof(delay));
	walk_get(&w, &rc, sizeof(rc));
	walk_str(&w, &roff, &rlen);
	want = !w.err && w.off == len && r < AUTH_RESULT_MAX &&
		rlen <= IPC_MAX_REASON
	    ? 0
	    : -1;

	copy = fuzz_dup(body, len);
	got = ipc_decode_result(copy, len, &res);
	free(copy);
	FUZZ_CHECK(got == want);
	if (got == 0) {
		FUZZ_CHECK((uint32_t)res.result == r);
		FUZZ_CHECK(res.delay_us == delay && res.pam_rc == rc);
		FUZZ_CHECK(strnlen(res.reason, sizeof(res.reason)) == rlen);
		FUZZ_CHECK(memcmp(res.reason, body + roff, rlen) == 0);
		out = fuzz_dup(body, len);
		memset(out, 0, len);
		FUZZ_CHECK(ipc_encode_result(out, len, &res) == len);
		FUZZ_CHECK(memcmp(out, body, len) == 0);
		FUZZ_CHECK(ipc_encode_result(out, len - 1, &res) == 0);
		free(out);
	}
	copy = fuzz_dup_guard(body, len, 0x00);
	FUZZ_CHECK(ipc_decode_result(copy, len, &res) == got);
	free(copy);
	copy = fuzz_dup_guard(body, len, 0xff);
	FUZZ_CHECK(ipc_decode_result(copy, len, &res) == got);
	free(copy);
}

static void
check_worker(const uint8_t *body, size_t len)
{
	struct ipc_worker w, ref;
	uint8_t out[sizeof(w.id) + sizeof(w.pid)];
	uint8_t *copy;
	int want, got;

	memset(&ref, 0, sizeof(ref));
	if (len == sizeof(out)) {
		memcpy(&ref.id, body, sizeof(ref.id));
		memcpy(&ref.pid, body + sizeof(ref.id), sizeof(ref.pid));
	}
	want = len == sizeof(out) && ref.pid > 0 ? 0 : -1;
	copy = fuzz_dup(body, len);
	got = ipc_decode_worker(copy, len, &w);
	free(copy);
	FUZZ_CHECK(got == want);
	if (got == 0) {
		FUZZ_CHECK(w.id == ref.id && w.pid == ref.pid);
		FUZZ_CHECK(ipc_encode_worker(out, sizeof(out), &w) == len);
		FUZZ_CHECK(memcmp(out, body, len) == 0);
		FUZZ_CHECK(ipc_encode_worker(out, sizeof(out) - 1, &w) == 0);
	}
}

static void
check_u32(const uint8_t *body, size_t len)
{
	uint8_t out[sizeof(uint32_t)];
	uint8_t *copy;
	uint32_t v = 0;
	int got;

	copy = fuzz_dup(body, len);
	got = ipc_decode_u32(copy, len, &v);
	free(copy);
	FUZZ_CHECK(got == (len == sizeof(v) ? 0 : -1));
	if (got == 0) {
		FUZZ_CHECK(ipc_encode_u32(out, sizeof(out), v) == len);
		FUZZ_CHECK(memcmp(out, body, len) == 0);
		FUZZ_CHECK(ipc_encode_u32(out, sizeof(out) - 1, v) == 0);
	}
}

static void
check_bodies(const uint8_t *body, size_t len)
{
	check_auth(body, len);
	check_result(body, len);
	check_worker(body, len);
	check_u32(body, len);
}

/*
 * Encode -> decode: an auth request cut from the input at lengths it
 * chooses (one of them possibly just over IPC_MAX_STR), and a result made
 * of its bytes, come back as they went in, or are refused as they must be.
 */
static void
check_encoders(const uint8_t *data, size_t size)
{
	static uint8_t big[IPC_MAX_STR + 1];
	struct ipc_auth_req req, back;
	struct ipc_auth_res res, rback;
	struct ipc_str *s[NSTR] = {
	    &req.login, &req.password, &req.service, &req.realm, &req.rhost};
	struct ipc_str *b[NSTR] = {&back.login, &back.password, &back.service,
	    &back.realm, &back.rhost};
	uint8_t *out;
	size_t off = NSTR + 1, n, enc, i, want;
	uint32_t r;
	int nul = 0, over = 0;

	if (size < off)
		return;
	memset(big, 'b', sizeof(big));
	for (i = 0; i < NSTR; i++) {
		n = data[i];
		if (n > size - off)
			n = size - off;
		s[i]->ptr = data + off;
		s[i]->len = n;
		off += n;
		if (n > 0 && memchr(s[i]->ptr, '\0', n) != NULL)
			nul = 1;
	}
	if (data[NSTR] & 1) {
		/* The longest string allowed, or one byte over. */
		i = (data[NSTR] >> 1) % NSTR;
		s[i]->ptr = big;
		s[i]->len = IPC_MAX_STR + ((data[NSTR] >> 4) & 1);
		over = s[i]->len > IPC_MAX_STR;
		nul = 0;
		for (i = 0; i < NSTR; i++)
			if (s[i]->len > 0 &&
			    memchr(s[i]->ptr, '\0', s[i]->len) != NULL)
				nul = 1;
	}
	out = malloc(IPC_MAX_FRAME);
	FUZZ_CHECK(out != NULL);
	for (want = 0, i = 0; i < NSTR; i++)
		want += 2 + s[i]->len;
	enc = ipc_encode_auth(out, IPC_MAX_FRAME, &req);
	FUZZ_CHECK(enc == (over ? 0 : want));
	if (enc > 0) {
		FUZZ_CHECK(ipc_decode_auth(out, enc, &back) == (nul ? -1 : 0));
		for (i = 0; !nul && i < NSTR; i++)
			FUZZ_CHECK(b[i]->len == s[i]->len &&
			    memcmp(b[i]->ptr, s[i]->ptr, s[i]->len) == 0);
	}

	memset(&res, 0, sizeof(res));
	memcpy(&r, data, sizeof(r));
	res.result = (enum auth_result)(r % (AUTH_RESULT_MAX + 2));
	res.delay_us = (uint32_t)size * 977;
	res.pam_rc = -(int32_t)data[0];
	n = size - (NSTR + 1);
	if (n > sizeof(res.reason) - 1)
		n = sizeof(res.reason) - 1;
	memcpy(res.reason, data + NSTR + 1, n);
	enc = ipc_encode_result(out, IPC_MAX_FRAME, &res);
	FUZZ_CHECK(enc == 3 * sizeof(uint32_t) + 2 + strlen(res.reason));
	if ((unsigned)res.result >= AUTH_RESULT_MAX)
		FUZZ_CHECK(ipc_decode_result(out, enc, &rback) == -1);
	else {
		FUZZ_CHECK(ipc_decode_result(out, enc, &rback) == 0);
		FUZZ_CHECK(rback.result == res.result &&
		    rback.delay_us == res.delay_us &&
		    rback.pam_rc == res.pam_rc &&
		    strcmp(rback.reason, res.reason) == 0);
	}
	free(out);
}

/* The same frame through a socket pair: ipc_recv() must agree. */
static void
check_recv(
    const uint8_t *data, size_t size, int frame_ok, const struct ipc_msg *want)
{
	static int sv[2] = {-1, -1};
	struct ipc_msg m;
	uint8_t *buf;
	int r, e;

	if (size > SOCKET_MAX)
		return;
	if (sv[0] == -1) {
		FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
			       sv) == 0);
		e = 4 * SOCKET_MAX;
		(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &e, sizeof(e));
	}
	FUZZ_CHECK(send(sv[0], data, size, MSG_NOSIGNAL) == (ssize_t)size);
	buf = malloc(IPC_MAX_FRAME);
	FUZZ_CHECK(buf != NULL);
	r = ipc_recv(sv[1], buf, IPC_MAX_FRAME, &m);
	e = errno;
	if (size == 0)
		FUZZ_CHECK(r == 0); /* reads as EOF */
	else if (!frame_ok || size > IPC_MAX_FRAME)
		FUZZ_CHECK(r == -1 && e == EBADMSG);
	else {
		FUZZ_CHECK(r == 1);
		FUZZ_CHECK(m.type == want->type && m.flags == want->flags &&
		    m.id == want->id && m.bodylen == want->bodylen &&
		    m.body == buf + HDRSZ && m.fd == -1);
		FUZZ_CHECK(memcmp(m.body, want->body, m.bodylen) == 0);
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_hdr hdr;
	struct ipc_msg m;
	enum ipc_type allow[4];
	const char *name;
	uint8_t *copy;
	size_t i, nallow;
	int ok, want, found;

	memset(&hdr, 0, sizeof(hdr));
	if (size >= HDRSZ)
		memcpy(&hdr, data, HDRSZ);
	want = size >= HDRSZ && hdr.type > 0 && hdr.type < IPC_TYPE_MAX;
	copy = fuzz_dup(data, size);
	memset(&m, 0, sizeof(m));
	ok = ipc_decode_frame(copy, size, &m) == 0;
	FUZZ_CHECK(ok == want);
	if (ok) {
		FUZZ_CHECK(m.type == hdr.type && m.flags == hdr.flags &&
		    m.id == hdr.id && m.fd == -1);
		FUZZ_CHECK(m.body == copy + HDRSZ && m.bodylen == size - HDRSZ);
		name = ipc_type_name(m.type);
		FUZZ_CHECK(name != NULL && strcmp(name, "UNKNOWN") != 0);
		check_bodies(m.body, m.bodylen);
		m.body = data + HDRSZ;
	} else {
		name = ipc_type_name((enum ipc_type)hdr.type);
		FUZZ_CHECK(size < HDRSZ || strcmp(name, "UNKNOWN") == 0);
	}
	check_recv(data, size, ok, &m);
	free(copy);

	/* An allow-list taken from the input. */
	nallow = size < sizeof(allow) / sizeof(allow[0])
	    ? size
	    : sizeof(allow) / sizeof(allow[0]);
	for (i = 0; i < nallow; i++)
		allow[i] = (enum ipc_type)(data[i] % (IPC_TYPE_MAX + 1));
	for (found = 0, i = 0; i < nallow; i++)
		found |= allow[i] == (enum ipc_type)hdr.type;
	FUZZ_CHECK(
	    ipc_allowed((enum ipc_type)hdr.type, allow, nallow) == found);

	check_bodies(data, size);
	check_encoders(data, size);
	return 0;
}

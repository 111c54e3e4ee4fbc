/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_worker_frame.c - libFuzzer target for what the PAM worker does with
 * a frame it received, short of calling PAM: ipc_decode_frame() as in
 * ipc_recv(), then workreq_decode() (pam/workreq.c), with and without a
 * passed descriptor.
 *
 * Input: one frame as the front would send it (struct ipc_hdr in host
 * order, then an IPC_FRONT_AUTH body).
 *
 * Invariants: a frame carrying a descriptor, of another type, or whose body
 * ipc_decode_auth() refuses, is refused for that reason and leaves the
 * output untouched; an accepted one gives login, password, service and
 * rhost NUL-terminated, each exactly its counted string, within its
 * buffer; workreq_decode() never reads past the frame.
 *
 * SECURITY: test code only.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ipc.h"
#include "workreq.h"

/* Any number but -1: workreq_decode() must refuse it, never touch it. */
#define FAKE_FD 1000
#define CANARY 0x5a

static struct workreq out;
static struct workreq canary; /* all CANARY */

static int
untouched(void)
{
	return memcmp(&out, &canary, sizeof(out)) == 0;
}

/* dst holds exactly s[0..len) and its terminator; the rest is canary. */
static int
holds(const char *dst, size_t dstsz, const struct ipc_str *s)
{
	return s->len < dstsz && memcmp(dst, s->ptr, s->len) == 0 &&
	    dst[s->len] == '\0' &&
	    memcmp(dst + s->len + 1, canary.login, dstsz - s->len - 1) == 0;
}

static void
check_msg(const struct ipc_msg *msg)
{
	struct ipc_auth_req areq;
	struct ipc_msg m = *msg;
	enum workreq_status st;
	int decodes;

	decodes = ipc_decode_auth(msg->body, msg->bodylen, &areq) == 0;

	m.fd = FAKE_FD;
	memset(&out, CANARY, sizeof(out));
	FUZZ_CHECK(workreq_decode(&m, &out) == WORKREQ_ERR_FD);
	FUZZ_CHECK(untouched());

	m.fd = -1;
	memset(&out, CANARY, sizeof(out));
	st = workreq_decode(&m, &out);
	if (m.type != IPC_FRONT_AUTH) {
		FUZZ_CHECK(st == WORKREQ_ERR_TYPE);
		FUZZ_CHECK(untouched());
	} else if (!decodes) {
		FUZZ_CHECK(st == WORKREQ_ERR_MALFORMED);
		FUZZ_CHECK(untouched());
	} else {
		FUZZ_CHECK(st == WORKREQ_OK);
		FUZZ_CHECK(holds(out.login, sizeof(out.login), &areq.login));
		FUZZ_CHECK(
		    holds(out.password, sizeof(out.password), &areq.password));
		FUZZ_CHECK(
		    holds(out.service, sizeof(out.service), &areq.service));
		FUZZ_CHECK(holds(out.rhost, sizeof(out.rhost), &areq.rhost));
		/* NUL-free, so PAM sees every byte the front sent. */
		FUZZ_CHECK(strlen(out.login) == areq.login.len);
		FUZZ_CHECK(strlen(out.password) == areq.password.len);
		FUZZ_CHECK(strlen(out.service) == areq.service.len);
		FUZZ_CHECK(strlen(out.rhost) == areq.rhost.len);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_msg msg;
	uint8_t *frame;

	if (canary.login[0] != CANARY)
		memset(&canary, CANARY, sizeof(canary));
	/* An exact-size copy: ASan sees any read past the frame. */
	frame = fuzz_dup(data, size);
	if (ipc_decode_frame(frame, size, &msg) == 0) {
		FUZZ_CHECK(msg.fd == -1);
		check_msg(&msg);
	}
	free(frame);
	return 0;
}

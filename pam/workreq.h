/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * workreq.h - the PAM worker's check of a received frame: the one type it
 * accepts, no descriptor, a body that decodes, and the strings copied out
 * NUL-terminated for PAM. Pure: no I/O, no logging, no libpam, so the
 * fuzzers drive it as the worker does (tests/fuzz/fuzz_worker_frame.c).
 *
 * SECURITY: the frame comes from the front, which handles clients; a frame
 * this refuses means the front is broken or compromised, and the worker
 * exits. The decoded request holds the password: the caller wipes it.
 */
#ifndef SASLD_WORKREQ_H
#define SASLD_WORKREQ_H

#include "ipc.h"

/* A check as PAM takes it: ipc_decode_auth() bounds every string by
 * IPC_MAX_STR and refuses NUL bytes, so each fits with its terminator. */
struct workreq {
	char login[IPC_MAX_STR + 1];
	char password[IPC_MAX_STR + 1];
	char service[IPC_MAX_STR + 1];
	char rhost[IPC_MAX_STR + 1];
};

enum workreq_status {
	WORKREQ_OK,
	WORKREQ_ERR_FD, /* the frame carries a descriptor */
	WORKREQ_ERR_TYPE, /* not IPC_FRONT_AUTH */
	WORKREQ_ERR_MALFORMED, /* the body does not decode */
};

/*
 * Check msg (from ipc_recv()) and, on WORKREQ_OK, copy its strings into
 * *ret_req. On an error *ret_req is untouched; msg->fd is neither closed
 * nor kept (the caller closes it). The caller wipes msg's buffer and
 * ret_req->password.
 */
enum workreq_status
workreq_decode(const struct ipc_msg *msg, struct workreq *ret_req);

#endif

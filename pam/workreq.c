/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * workreq.c - the PAM worker's check of a received frame (see workreq.h).
 * Linked into saslauthd-ng-pam and into the fuzz targets.
 *
 * SECURITY: input is a frame from the front, trusted only after every
 * check here: type against the worker's allow-list, no descriptor, and
 * ipc_decode_auth(), which bounds every length. Copies are bounded by
 * IPC_MAX_STR, the size of the destination minus its terminator. Runs as
 * root in the worker; does no I/O.
 */
#include <string.h>

#include "ipc.h"
#include "workreq.h"

static void
workreq_copy(char *dst, const struct ipc_str *s)
{
	/* ipc_decode_auth() bounded s->len by IPC_MAX_STR, NUL-free. */
	if (s->len > 0)
		memcpy(dst, s->ptr, s->len);
	dst[s->len] = '\0';
}

enum workreq_status
workreq_decode(const struct ipc_msg *msg, struct workreq *ret_req)
{
	static const enum ipc_type allow[] = {IPC_FRONT_AUTH};
	struct ipc_auth_req areq;

	if (msg->fd != -1)
		return WORKREQ_ERR_FD;
	if (!ipc_allowed(msg->type, allow, sizeof(allow) / sizeof(allow[0])))
		return WORKREQ_ERR_TYPE;
	if (ipc_decode_auth(msg->body, msg->bodylen, &areq) == -1)
		return WORKREQ_ERR_MALFORMED;
	workreq_copy(ret_req->login, &areq.login);
	workreq_copy(ret_req->password, &areq.password);
	workreq_copy(ret_req->service, &areq.service);
	workreq_copy(ret_req->rhost, &areq.rhost);
	explicit_bzero(&areq, sizeof(areq));
	return WORKREQ_OK;
}

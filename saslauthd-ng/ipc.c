/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ipc.c - frames between the parent, the front and the PAM workers (see
 * ipc.h). Linked into the daemon and into the PAM worker executable.
 *
 * SECURITY: decoders trust nothing: every count is checked against the
 * bytes present, strings must be free of NUL, and a body must be consumed
 * exactly. Runs in every role; holds no privilege of its own.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"

int
ipc_send(int fd, enum ipc_type type, uint16_t flags, uint32_t id,
    const void *body, size_t bodylen, int passfd)
{
	struct ipc_hdr hdr;
	struct iovec iov[2];
	struct msghdr mh;
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct cmsghdr *c;
	ssize_t n;

	if (bodylen > IPC_MAX_FRAME - sizeof(hdr)) {
		errno = EMSGSIZE;
		return -1;
	}
	hdr.type = (uint16_t)type;
	hdr.flags = flags;
	hdr.id = id;
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)body;
	iov[1].iov_len = bodylen;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = bodylen > 0 ? 2 : 1;
	if (passfd >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &passfd, sizeof(int));
	}
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != sizeof(hdr) + bodylen) {
		/* SEQPACKET sends all or nothing; anything else is a bug. */
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int
ipc_decode_frame(const uint8_t *buf, size_t len, struct ipc_msg *ret_msg)
{
	struct ipc_hdr hdr;

	if (len < sizeof(hdr))
		return -1;
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.type == 0 || hdr.type >= IPC_TYPE_MAX)
		return -1;
	ret_msg->type = (enum ipc_type)hdr.type;
	ret_msg->flags = hdr.flags;
	ret_msg->id = hdr.id;
	ret_msg->body = buf + sizeof(hdr);
	ret_msg->bodylen = len - sizeof(hdr);
	ret_msg->fd = -1;
	return 0;
}

int
ipc_recv(int fd, uint8_t *buf, size_t bufsz, struct ipc_msg *ret_msg)
{
	struct iovec iov;
	struct msghdr mh;
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct cmsghdr *c;
	ssize_t n;
	int got = -1, extra, i;
	int fds[4];

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = bufsz;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (n == -1)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		extra = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		if (extra > 4)
			extra = 4;
		memcpy(fds, CMSG_DATA(c), (size_t)extra * sizeof(int));
		for (i = 0; i < extra; i++) {
			if (got == -1)
				got = fds[i];
			else
				(void)close(fds[i]); /* one fd per frame */
		}
	}
	if (n == 0) {
		/* EOF, or an empty frame that smuggled a descriptor. */
		if (got != -1)
			(void)close(got);
		return 0;
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    ipc_decode_frame(buf, (size_t)n, ret_msg) == -1)
		goto bad;
	ret_msg->fd = got;
	return 1;
bad:
	if (got != -1)
		(void)close(got);
	errno = EBADMSG;
	return -1;
}

int
ipc_allowed(enum ipc_type t, const enum ipc_type *allow, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (allow[i] == t)
			return 1;
	return 0;
}

/* put/get helpers over a bounded cursor */
struct cur {
	uint8_t *w;
	const uint8_t *r;
	size_t off, len;
	int err;
};

static void
put(struct cur *c, const void *p, size_t n)
{
	if (c->err || c->len - c->off < n) {
		c->err = 1;
		return;
	}
	memcpy(c->w + c->off, p, n);
	c->off += n;
}

static void
put_str(struct cur *c, const struct ipc_str *s)
{
	uint16_t n;

	if (s->len > IPC_MAX_STR) {
		c->err = 1;
		return;
	}
	n = (uint16_t)s->len;
	put(c, &n, sizeof(n));
	if (s->len > 0)
		put(c, s->ptr, s->len);
}

static void
get(struct cur *c, void *p, size_t n)
{
	if (c->err || c->len - c->off < n) {
		c->err = 1;
		return;
	}
	memcpy(p, c->r + c->off, n);
	c->off += n;
}

static void
get_str(struct cur *c, struct ipc_str *s)
{
	uint16_t n = 0;

	get(c, &n, sizeof(n));
	if (c->err || n > IPC_MAX_STR || c->len - c->off < n) {
		c->err = 1;
		return;
	}
	s->ptr = c->r + c->off;
	s->len = n;
	if (memchr(s->ptr, '\0', n) != NULL)
		c->err = 1;
	c->off += n;
}

static int
get_end(struct cur *c)
{
	return c->err || c->off != c->len ? -1 : 0;
}

size_t
ipc_encode_auth(uint8_t *out, size_t outsz, const struct ipc_auth_req *req)
{
	struct cur c = {.w = out, .len = outsz};

	put_str(&c, &req->login);
	put_str(&c, &req->password);
	put_str(&c, &req->service);
	put_str(&c, &req->realm);
	put_str(&c, &req->rhost);
	return c.err ? 0 : c.off;
}

int
ipc_decode_auth(const uint8_t *body, size_t len, struct ipc_auth_req *ret_req)
{
	struct cur c = {.r = body, .len = len};
	struct ipc_auth_req req;

	get_str(&c, &req.login);
	get_str(&c, &req.password);
	get_str(&c, &req.service);
	get_str(&c, &req.realm);
	get_str(&c, &req.rhost);
	if (get_end(&c) == -1)
		return -1;
	*ret_req = req;
	return 0;
}

size_t
ipc_encode_result(uint8_t *out, size_t outsz, const struct ipc_auth_res *res)
{
	struct cur c = {.w = out, .len = outsz};
	struct ipc_str reason;
	uint32_t r = (uint32_t)res->result;

	reason.ptr = (const uint8_t *)res->reason;
	reason.len = strnlen(res->reason, sizeof(res->reason) - 1);
	put(&c, &r, sizeof(r));
	put(&c, &res->delay_us, sizeof(res->delay_us));
	put(&c, &res->pam_rc, sizeof(res->pam_rc));
	put_str(&c, &reason);
	return c.err ? 0 : c.off;
}

int
ipc_decode_result(const uint8_t *body, size_t len, struct ipc_auth_res *ret_res)
{
	struct cur c = {.r = body, .len = len};
	struct ipc_auth_res res;
	struct ipc_str reason = {NULL, 0};
	uint32_t r = 0;

	memset(&res, 0, sizeof(res));
	get(&c, &r, sizeof(r));
	get(&c, &res.delay_us, sizeof(res.delay_us));
	get(&c, &res.pam_rc, sizeof(res.pam_rc));
	get_str(&c, &reason);
	if (get_end(&c) == -1 || r >= AUTH_RESULT_MAX ||
	    reason.len > IPC_MAX_REASON)
		return -1;
	res.result = (enum auth_result)r;
	if (reason.len > 0)
		memcpy(res.reason, reason.ptr, reason.len);
	res.reason[reason.len] = '\0';
	*ret_res = res;
	return 0;
}

size_t
ipc_encode_worker(uint8_t *out, size_t outsz, const struct ipc_worker *w)
{
	struct cur c = {.w = out, .len = outsz};

	put(&c, &w->id, sizeof(w->id));
	put(&c, &w->pid, sizeof(w->pid));
	return c.err ? 0 : c.off;
}

int
ipc_decode_worker(const uint8_t *body, size_t len, struct ipc_worker *ret_w)
{
	struct cur c = {.r = body, .len = len};
	struct ipc_worker w;

	get(&c, &w.id, sizeof(w.id));
	get(&c, &w.pid, sizeof(w.pid));
	if (get_end(&c) == -1 || w.pid <= 0)
		return -1;
	*ret_w = w;
	return 0;
}

size_t
ipc_encode_u32(uint8_t *out, size_t outsz, uint32_t v)
{
	struct cur c = {.w = out, .len = outsz};

	put(&c, &v, sizeof(v));
	return c.err ? 0 : c.off;
}

int
ipc_decode_u32(const uint8_t *body, size_t len, uint32_t *ret_v)
{
	struct cur c = {.r = body, .len = len};
	uint32_t v = 0;

	get(&c, &v, sizeof(v));
	if (get_end(&c) == -1)
		return -1;
	*ret_v = v;
	return 0;
}

const char *
ipc_type_name(enum ipc_type t)
{
	static const char *const names[IPC_TYPE_MAX] = {
	    [IPC_WORKER_HELLO] = "WORKER_HELLO",
	    [IPC_FRONT_AUTH] = "FRONT_AUTH",
	    [IPC_WORKER_RESULT] = "WORKER_RESULT",
	    [IPC_FRONT_READY] = "FRONT_READY",
	    [IPC_FRONT_LOG] = "FRONT_LOG",
	    [IPC_FRONT_KILL] = "FRONT_KILL",
	    [IPC_FRONT_SPAWN] = "FRONT_SPAWN",
	    [IPC_PARENT_WORKER] = "PARENT_WORKER",
	    [IPC_PARENT_SHUTDOWN] = "PARENT_SHUTDOWN",
	    [IPC_PARENT_RECYCLE] = "PARENT_RECYCLE",
	    [IPC_PARENT_STATS] = "PARENT_STATS",
	    [IPC_WORKER_STARTED] = "WORKER_STARTED",
	    [IPC_FRONT_WORKER_UP] = "FRONT_WORKER_UP",
	};

	if ((int)t <= 0 || t >= IPC_TYPE_MAX)
		return "UNKNOWN";
	return names[t];
}

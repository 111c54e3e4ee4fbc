/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ipc.h - typed, length-checked frames between the parent, the front and
 * the PAM workers. Every channel is an AF_UNIX SOCK_SEQPACKET socketpair, so
 * one send is one frame and a frame is never split or merged.
 *
 * Frame: struct ipc_hdr (type, flags, id; host order, same machine), then a
 * body whose layout the type fixes. Strings in bodies are counted (2-byte
 * length + bytes, no NUL) and decoders reject NUL bytes inside them.
 *
 * SECURITY: a frame comes from a sibling process. Each receiver checks the
 * type against its own allow-list (ipc_allowed()) and decodes with the
 * functions here, which check every length; a frame that fails either check
 * means the sender is broken or compromised, and the receiver treats it as
 * fatal for that channel (OpenSMTPD's rule). Auth frames carry a password:
 * callers wipe the buffers they received or built them in.
 */
#ifndef SASLD_IPC_H
#define SASLD_IPC_H

#include <stddef.h>
#include <stdint.h>

/* 2: the worker says IPC_WORKER_STARTED before a check reaches PAM. */
#define IPC_VERSION 2
/* Longest string in a frame: a login@realm made of two maximal fields. */
#define IPC_MAX_STR 8192
#define IPC_MAX_REASON 255
/* Five maximal strings and their headers fit. */
#define IPC_MAX_FRAME (8 + 5 * (2 + IPC_MAX_STR) + 64)

/* Worker fd number the parent sets up before exec'ing a PAM worker. */
#define IPC_WORKER_FD 3

enum ipc_type {
	IPC_WORKER_HELLO = 1, /* worker -> front: body u32 IPC_VERSION */
	IPC_FRONT_AUTH, /* front -> worker: one check (password!) */
	IPC_WORKER_RESULT, /* worker -> front: the answer */
	IPC_FRONT_READY, /* front -> parent: sandboxed, serving */
	IPC_FRONT_LOG, /* front -> parent: u8 level + line */
	IPC_FRONT_KILL, /* front -> parent: worker id past deadline */
	IPC_FRONT_SPAWN, /* front -> parent: one fresh worker (-n 0) */
	IPC_PARENT_WORKER, /* parent -> front: worker id, pid + its fd */
	IPC_PARENT_SHUTDOWN, /* parent -> front: finish and exit */
	IPC_PARENT_RECYCLE, /* parent -> front: retire every worker (HUP) */
	IPC_PARENT_STATS, /* parent -> front: log statistics (USR1) */
	/*
	 * worker -> front, id = the request's, no body: the check is about
	 * to reach PAM. Until then the front keeps the request, and a worker
	 * that dies before saying it has cost nothing: the check goes to
	 * another worker. After it, the check is never tried again.
	 */
	IPC_WORKER_STARTED,
	IPC_FRONT_WORKER_UP, /* front -> parent: worker id said hello */
	IPC_TYPE_MAX
};

/* flags */
#define IPC_F_LAST 0x0001 /* RESULT: the worker exits after this frame */

enum auth_result {
	AUTH_OK, /* pam_authenticate and pam_acct_mgmt succeeded */
	AUTH_FAIL, /* pam_authenticate refused: "NO PAM auth error" */
	AUTH_FAIL_ACCT, /* pam_acct_mgmt refused: "NO PAM acct error" */
	AUTH_FAIL_START, /* pam_start failed: "NO PAM start error" */
	AUTH_TEMPFAIL, /* backend unavailable or a system error */
	AUTH_RESULT_MAX
};

struct ipc_hdr {
	uint16_t type;
	uint16_t flags;
	uint32_t id;
};

struct ipc_msg {
	enum ipc_type type;
	uint16_t flags;
	uint32_t id;
	const uint8_t *body; /* into the receive buffer */
	size_t bodylen;
	int fd; /* passed descriptor (CLOEXEC) or -1 */
};

struct ipc_str {
	const uint8_t *ptr;
	size_t len;
};

/* IPC_FRONT_AUTH body */
struct ipc_auth_req {
	struct ipc_str login; /* after -r: login@realm */
	struct ipc_str password;
	struct ipc_str service; /* the PAM service */
	struct ipc_str realm;
	struct ipc_str rhost; /* PAM_RHOST, empty when unknown */
};

/* IPC_WORKER_RESULT body */
struct ipc_auth_res {
	enum auth_result result;
	uint32_t delay_us; /* PAM_FAIL_DELAY asked for this; not slept */
	int32_t pam_rc; /* the failing PAM call's return code */
	char reason[IPC_MAX_REASON + 1]; /* for the log: pam_strerror() */
};

/* IPC_PARENT_WORKER body */
struct ipc_worker {
	uint32_t id;
	int32_t pid;
};

/*
 * Send one frame on fd (blocking or not, as fd is); with passfd >= 0 the
 * descriptor travels along (SCM_RIGHTS). Returns 0, or -1 with errno.
 * Never raises SIGPIPE.
 */
int ipc_send(int fd, enum ipc_type type, uint16_t flags, uint32_t id,
    const void *body, size_t bodylen, int passfd);

/*
 * Receive one frame into buf (size bufsz >= IPC_MAX_FRAME). Returns 1 and
 * fills *ret_msg, 0 on EOF, -1 with errno (EAGAIN, EINTR, or EBADMSG for a
 * truncated, short or unknown frame). A received fd is CLOEXEC and owned by
 * the caller.
 */
int ipc_recv(int fd, uint8_t *buf, size_t bufsz, struct ipc_msg *ret_msg);

/*
 * Split one whole received frame buf[0..len) into header and body: fills
 * *ret_msg (body points into buf, fd -1) and returns 0, or returns -1 for a
 * frame shorter than the header or of an unknown type. ipc_recv() uses it;
 * pure, so the fuzzers drive it directly.
 */
int ipc_decode_frame(const uint8_t *buf, size_t len, struct ipc_msg *ret_msg);

/* 1 if t is one of the n types in allow. */
int ipc_allowed(enum ipc_type t, const enum ipc_type *allow, size_t n);

/* Encode/decode bodies. encode returns the length or 0 if it does not fit;
 * decode returns 0 or -1 on any malformation. */
size_t
ipc_encode_auth(uint8_t *out, size_t outsz, const struct ipc_auth_req *req);
int
ipc_decode_auth(const uint8_t *body, size_t len, struct ipc_auth_req *ret_req);
size_t
ipc_encode_result(uint8_t *out, size_t outsz, const struct ipc_auth_res *res);
int ipc_decode_result(
    const uint8_t *body, size_t len, struct ipc_auth_res *ret_res);
size_t
ipc_encode_worker(uint8_t *out, size_t outsz, const struct ipc_worker *w);
int
ipc_decode_worker(const uint8_t *body, size_t len, struct ipc_worker *ret_w);
/* A body of one u32 (HELLO version, KILL worker id). */
size_t ipc_encode_u32(uint8_t *out, size_t outsz, uint32_t v);
int ipc_decode_u32(const uint8_t *body, size_t len, uint32_t *ret_v);

const char *ipc_type_name(enum ipc_type t);

#endif

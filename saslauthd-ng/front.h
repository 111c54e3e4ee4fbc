/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * front.h - the front process: the only one that touches client sockets.
 * Single threaded, non-blocking, epoll; unprivileged and chrooted. It
 * decodes requests (proto_saslauthd.c), hands checks to PAM workers
 * (pool.c) and answers, with a deadline on every state.
 *
 * SECURITY: everything a client sends arrives here, in a process that has
 * no uid 0, no capabilities, no filesystem and no libpam. Passwords live in
 * a connection's buffer only until the worker says the check is starting
 * (IPC_WORKER_STARTED), and are wiped then, when the check ends or when the
 * connection dies.
 */
#ifndef SASLD_FRONT_H
#define SASLD_FRONT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "config.h"
#include "ipc.h"
#include "proto_saslauthd.h"
#include "timer.h"

/* glibc's sys/queue.h predates the _SAFE iterators. */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)                             \
	for ((var) = TAILQ_FIRST((head));                                      \
	     (var) && ((tvar) = TAILQ_NEXT((var), field), 1); (var) = (tvar))
#endif

#define SASLD_DRAIN_MS 1000 /* after the reply, wait this for EOF */
#define SASLD_DRAIN_MAX 4096 /* and discard at most this many bytes */
#define SASLD_ACCEPT_PAUSE_MS 100 /* back off when out of descriptors */
#define SASLD_MAX_RHOST 64 /* an IPv6 address with zone fits */
/* A check whose worker died before starting it is tried again this many
 * times: an idle worker's death must not cost a request, and a worker
 * that dies on receipt again and again must not hold it forever. */
#define SASLD_AUTH_RETRIES 1
/* Refused connections are logged at most once per this, then counted. */
#define SASLD_REFUSE_LOG_MS 10000
/* The reply's and the log's reason for a refusal by --fail-limit. */
#define SASLD_FAIL_LIMIT_REASON "too many failures"
/* Throttled logins and addresses: one line per this, then counted. */
#define SASLD_THROTTLE_LOG_MS 10000

enum ev_kind { EV_LISTEN, EV_CONN, EV_WORKER, EV_PARENT, EV_DOVECOT };

/* First member of everything registered with epoll. */
struct evsrc {
	enum ev_kind kind;
	int fd;
};

/* What the event loop shares with pool.c. */
struct loop {
	int epfd;
	int ctlfd; /* to the parent */
	struct timer_heap timers;
	const struct config *cfg;
	struct cache *cache; /* -c; NULL without */
};

struct worker;

enum check_kind {
	CHECK_SASLAUTHD, /* owner: struct conn */
	CHECK_DOVECOT, /* owner: a Dovecot request (front_dovecot.c) */
};

enum check_state {
	CHECK_IDLE, /* not in the pool */
	CHECK_QUEUED, /* waiting for an idle worker */
	CHECK_PAM, /* a worker is checking */
};

/*
 * One PAM check, the pool's unit of work: a saslauthd connection embeds
 * one, a Dovecot connection has one per pending request. The pool sets
 * state, worker, reqid and retries; the front owns the rest.
 */
struct check {
	enum check_kind kind;
	enum check_state state;
	void *owner;
	struct timer timer; /* waiting for a worker ends at deadline */
	TAILQ_ENTRY(check) qlink; /* pool's wait queue (CHECK_QUEUED) */
	struct worker *worker;
	uint32_t reqid;
	int retries; /* times the check went back to the queue */
	uint64_t deadline; /* queue wait ends at this */
	/* 0: the worker has --pam-timeout from dispatch; else the check
	 * ends at this at the latest, whatever --pam-timeout says. */
	uint64_t pam_deadline;
};

enum conn_state {
	CONN_READ, /* reading the request */
	CONN_CHECK, /* its check is queued or with a worker */
	CONN_DELAY, /* failure delay before the reply */
	CONN_DRAIN, /* replied and half-closed; waiting for EOF */
};

struct conn {
	struct evsrc ev;
	enum conn_state state;
	struct timer timer;
	TAILQ_ENTRY(conn) link; /* front's list of open connections */
	struct check chk;
	uint64_t t_start;
	uid_t peer_uid;
	pid_t peer_pid;
	struct proto_request req; /* points into buf */
	char rhost[SASLD_MAX_RHOST];
	size_t drained;
	uint32_t events; /* registered with epoll, when registered */
	int registered;
	/* -c: the check's cache tag while PAM decides (none: -1) */
	int cache_state; /* -1, CACHE_MISS or CACHE_STALE */
	uint8_t cache_tag[CACHE_TAG_LEN];
	size_t replylen;
	uint8_t reply[SASLD_MAX_REPLY + 2];
	size_t len, cap;
	uint8_t buf[]; /* the request, password included */
};

TAILQ_HEAD(conn_list, conn);

/* Run the front; never returns. listen_fds are open listening sockets. */
void front_main(const struct config *cfg, int ctlfd, const int *listen_fds,
    int nlisten, uid_t uid, gid_t gid, const char *chroot_dir)
    __attribute__((noreturn));

/* RLIMIT_NOFILE the front needs for cfg's limits (the parent sets it). */
unsigned long front_fd_need(const struct config *cfg);

/*
 * Called by pool.c when check ch can go to a worker: build the
 * IPC_FRONT_AUTH body into out (the caller wipes it). The owner keeps the
 * password until front_auth_wipe(). Returns the body length, or 0 when it
 * does not fit (then the check is answered NO).
 */
size_t front_encode_auth(struct check *ch, uint8_t *out, size_t outsz);

/* The worker started ch (or it ended): wipe its owner's password. */
void front_auth_wipe(struct check *ch);

/* Arm ch's queue deadline (ch->deadline) and give it to the pool. */
void front_submit(struct check *ch);

/* pool.c put ch back in the queue: arm its original queue deadline. */
void front_requeued(struct check *ch);

/*
 * Called before a connection or a worker is freed: later events of the
 * batch being handled still point to it and are dropped.
 */
void front_forget(const struct evsrc *ev);

/*
 * Called by pool.c with a worker's answer for ch, which is out of the
 * pool again (CHECK_IDLE). When text is non-NULL the check did not
 * complete (timeout, worker died) and text is the reason.
 */
void front_auth_done(
    struct check *ch, const struct ipc_auth_res *res, const char *text);

/*
 * -c: look the check (key, password) up; CACHE_HIT means answer OK now.
 * Otherwise *state and tag are set for front_cache_done() (state -1: not
 * cacheable or no cache).
 */
enum cache_result
front_cache_lookup(const struct cache_key *key, const uint8_t *password,
    size_t password_len, int *state, uint8_t tag[CACHE_TAG_LEN]);

/* PAM answered the check looked up as state/tag: store on OK, drop on a
 * NO; wipes tag. text non-NULL: the check did not complete. */
void front_cache_done(const struct cache_key *key, int *state,
    uint8_t tag[CACHE_TAG_LEN], const struct ipc_auth_res *res,
    const char *text);

/*
 * Failure throttling (throttle.h) for both protocols. login is the user
 * name PAM gets, addr the client's address ("" or NULL: unknown). For
 * PAM's answer res to a check (text non-NULL: the check did not complete,
 * which counts nothing): a success resets login's and addr's failure
 * counts, an auth or acct error grows them (logging when a key starts
 * being throttled), a temporary failure does neither. Returns how long
 * the reply waits in ms: PAM's delay, grown, at most --fail-delay-max.
 */
unsigned front_throttle_result(const char *login, size_t loginlen,
    const char *addr, const struct ipc_auth_res *res, const char *text);

/*
 * --fail-limit: 1 when login has had too many failures to ask PAM at all;
 * then the refusal is counted as a failure and *ret_delay_ms is its delay.
 */
int front_throttle_refuse(const char *login, size_t loginlen, const char *addr,
    unsigned *ret_delay_ms);

/* A connection of any protocol closed: release its slot and uid count. */
void front_conn_released(uid_t peer_uid);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * front.c - the front process (see front.h): accepts on every listening
 * socket, reads each request with a deadline, decodes it with the codec,
 * queues the check for a PAM worker (pool.c), and answers in one write,
 * after the failure delay PAM asked for. Then it closes, or, when the
 * client sent more than its request, half-closes and drains for a
 * bounded time. One request per connection, as Cyrus. A cache hit (-c)
 * is answered right there, without a worker.
 *
 * SECURITY: the only process that reads client bytes. It is forked by the
 * root parent and immediately chroots into an empty directory, drops to
 * --user with no groups, capabilities or environment, sets NO_NEW_PRIVS
 * and RLIMIT_NPROC 0, and loads its seccomp allow-list (sandbox.c) before
 * its first accept(). Every resource a client can hold has a limit:
 * connections (--max-connections, and --max-connections-per-uid by the
 * kernel's SO_PEERCRED), bytes (--max-field), time (read deadline, PAM
 * deadline, drain deadline). Peers outside --allow-uid/--allow-gid are
 * closed before a byte is read. Malformed input is answered NO and closed,
 * never fatal. Passwords are never logged.
 */
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cache.h"
#include "front.h"
#include "front_dovecot.h"
#include "ipc.h"
#include "log.h"
#include "peer.h"
#include "pool.h"
#include "privsep.h"
#include "sandbox.h"
#include "throttle.h"

#define FRONT_MAX_LISTEN 16
/*
 * Descriptors the front holds besides client connections: stdio (3), the
 * epoll fd, the parent channel, one in flight from the parent, and slack
 * (8 in all); the listeners; and worker channels, twice the pool (after
 * HUP, retiring workers' channels stay open until their checks end).
 */
#define FRONT_FDS_FIXED 8
#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59 /* Linux 4.13; older headers lack the name */
#endif
#define FRONT_MAX_EVENTS 64
#define FRONT_ACCEPT_BATCH 32 /* connections per listener event */
#define FRONT_LOG_FIELD 128 /* sanitized user/service/realm in log lines */
#define FRONT_OK_CACHED 2 /* log_outcome(): OK from the -c cache */

struct listen_src {
	struct evsrc ev;
	enum listen_proto proto;
};

static struct loop loop;
static const struct config *cfg;
static struct listen_src listeners[FRONT_MAX_LISTEN];
static int nlisteners;
static struct evsrc parent_src;
static struct conn_list conns = TAILQ_HEAD_INITIALIZER(conns);
static unsigned nconns;
static int accepting_paused, shutting_down;
static struct timer accept_timer, shutdown_timer, silent_timer;
static struct peer_table peers; /* open connections per peer uid */
static struct peer_ratelog refuse_uid_log, refuse_allow_log;
static struct throttle thr; /* failure counts (throttle.h) */
static struct peer_ratelog throttle_log, limit_log;
static gid_t peer_groups[PEER_MAX_GROUPS]; /* SO_PEERGROUPS answer */
static int peergroups_warned;
static struct {
	unsigned long accepted, ok, failed, tempfail, rejected, timeouts,
	    overload, log_dropped, refused_uid, refused_allow, cached,
	    throttled, limited;
} st;

/* The epoll batch being handled, from the next event on (front_forget). */
static struct epoll_event *batch;
static int batch_next, batch_n;

static void conn_close(struct conn *c);
static void conn_auth_wipe(struct conn *c);
static void throttle_start(void);
static void
front_throttle_ok(const char *login, size_t loginlen, const char *addr);
static unsigned front_throttle_fail(const char *login, size_t loginlen,
    const char *addr, unsigned pam_delay_ms);
static size_t conn_pam_login(const struct conn *c, uint8_t *login);
static void
conn_pam_service(const struct conn *c, const uint8_t **svc, size_t *len);

/* Log lines go to the parent: the chroot has no /dev/log. */
static void
front_log_forward(int level, const char *line)
{
	if (ipc_send(loop.ctlfd, IPC_FRONT_LOG, (uint16_t)level, 0, line,
		strlen(line), -1) == -1)
		st.log_dropped++;
}

static void
set_listening(int on)
{
	struct epoll_event ee;
	int i;

	for (i = 0; i < nlisteners; i++) {
		memset(&ee, 0, sizeof(ee));
		ee.events = on ? EPOLLIN : 0;
		ee.data.ptr = &listeners[i].ev;
		(void)epoll_ctl(
		    loop.epfd, EPOLL_CTL_MOD, listeners[i].ev.fd, &ee);
	}
}

static void
conn_events(struct conn *c, uint32_t events)
{
	struct epoll_event ee;

	if (c->registered && c->events == events)
		return;
	memset(&ee, 0, sizeof(ee));
	ee.events = events;
	ee.data.ptr = &c->ev;
	if (epoll_ctl(loop.epfd, c->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
		c->ev.fd, &ee) == -1) {
		/* Its timer still closes it. */
		log_warn("epoll_ctl conn");
		return;
	}
	c->registered = 1;
	c->events = events;
}

static struct conn *
timer_conn(struct timer *t)
{
	return (struct conn *)((char *)t - offsetof(struct conn, timer));
}

static void
conn_set_timer(struct conn *c, unsigned ms, timer_fn fn)
{
	if (timer_set(&loop.timers, &c->timer, timer_now() + ms, fn) == -1)
		fatal("timer");
}

static void
drain_timeout(struct timer *t)
{
	conn_close(timer_conn(t));
}

/*
 * Send the encoded reply in c->reply as one write. A client that has sent
 * nothing more (every known client: the request is one write or, Exim,
 * one per field, and then it reads) is closed at once: on a UNIX socket
 * the reply stays readable in its queue, then EOF. Anything else unread
 * would turn that close into ECONNRESET for the client, so then the
 * front half-closes and drains, as Cyrus does.
 */
static void
conn_send_reply(struct conn *c)
{
	uint8_t b;
	ssize_t w;

	w = send(c->ev.fd, c->reply, c->replylen, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w != (ssize_t)c->replylen) {
		/* Nothing was queued before, so a short send means the
		 * client is gone. */
		conn_close(c);
		return;
	}
	if (recv(c->ev.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) != 1) {
		conn_close(c); /* nothing unread, EOF or an error */
		return;
	}
	(void)shutdown(c->ev.fd, SHUT_WR);
	c->state = CONN_DRAIN;
	c->drained = 0;
	conn_events(c, EPOLLIN);
	conn_set_timer(c, SASLD_DRAIN_MS, drain_timeout);
}

static void
conn_encode_reply(struct conn *c, const char *text)
{
	c->replylen = proto_encode_reply(c->reply, sizeof(c->reply), text);
	if (c->replylen == 0)
		c->replylen =
		    proto_encode_reply(c->reply, sizeof(c->reply), "NO");
}

static void
conn_reply(struct conn *c, const char *text)
{
	conn_encode_reply(c, text);
	conn_send_reply(c);
}

void
front_forget(const struct evsrc *ev)
{
	int i;

	for (i = batch_next; i < batch_n; i++)
		if (batch[i].data.ptr == ev)
			batch[i].data.ptr = NULL;
}

void
front_conn_released(uid_t peer_uid)
{
	nconns--;
	peer_release(&peers, peer_uid);
	if (accepting_paused && !shutting_down && nconns < cfg->max_conns) {
		accepting_paused = 0;
		set_listening(1);
	}
	if (shutting_down && nconns == 0)
		timer_set(&loop.timers, &shutdown_timer, 0, shutdown_timer.fn);
}

static void
conn_close(struct conn *c)
{
	uid_t uid;

	timer_cancel(&loop.timers, &c->timer);
	pool_cancel(&c->chk);
	/* close() takes fd out of the epoll set: nothing else refers to
	 * its file (the front never duplicates or passes a client fd). */
	(void)close(c->ev.fd);
	TAILQ_REMOVE(&conns, c, link);
	explicit_bzero(c->buf, c->len);
	explicit_bzero(c->cache_tag, sizeof(c->cache_tag));
	uid = c->peer_uid;
	/* A worker's answer can close c while c's hang-up waits in the
	 * same batch. */
	front_forget(&c->ev);
	free(c);
	front_conn_released(uid);
}

static const char *
field_str(const struct conn *c, enum proto_field f, char *dst, size_t dstsz)
{
	return log_sanitize(
	    dst, dstsz, (const char *)c->req.f[f].ptr, c->req.f[f].len);
}

/* The Cyrus failure line fail2ban and log watchers know. */
static void
log_outcome(const struct conn *c, const char *reason, int ok)
{
	char user[FRONT_LOG_FIELD], realm[FRONT_LOG_FIELD];
	char svc[FRONT_LOG_FIELD], remote[SASLD_MAX_RHOST + 16];
	char login[2 * FRONT_LOG_FIELD + 2];

	field_str(c, PROTO_LOGIN, user, sizeof(user));
	field_str(c, PROTO_REALM, realm, sizeof(realm));
	if (cfg->pam_service[0] != '\0')
		(void)snprintf(svc, sizeof(svc), "%s", cfg->pam_service);
	else
		field_str(c, PROTO_SERVICE, svc, sizeof(svc));
	if (cfg->realm_append && c->req.f[PROTO_REALM].len > 0)
		(void)snprintf(login, sizeof(login), "%s@%s", user, realm);
	else
		(void)snprintf(login, sizeof(login), "%s", user);
	remote[0] = '\0';
	if (c->rhost[0] != '\0')
		(void)snprintf(
		    remote, sizeof(remote), " [remote=%s]", c->rhost);
	if (ok)
		log_debug("auth success%s: [user=%s] [service=%s] "
			  "[realm=%s]%s [mech=pam] (%llu ms, peer uid %ld)",
		    ok == FRONT_OK_CACHED ? " (cached)" : "", login, svc, realm,
		    remote, (unsigned long long)(timer_now() - c->t_start),
		    (long)c->peer_uid);
	else
		log_info("auth failure: [user=%s] [service=%s] [realm=%s]%s "
			 "[mech=pam] [reason=%s]",
		    login, svc, realm, remote, reason);
}

/* Reject a request that never reached PAM. */
static void
conn_reject(struct conn *c, const char *reason, int decoded)
{
	char text[SASLD_MAX_REPLY];

	st.rejected++;
	if (decoded)
		log_outcome(c, reason, 0);
	else
		log_info("bad request from peer uid %ld pid %ld: %s",
		    (long)c->peer_uid, (long)c->peer_pid, reason);
	(void)snprintf(text, sizeof(text), "NO %s", reason);
	explicit_bzero(c->buf, c->len);
	conn_reply(c, text);
}

static void
read_timeout(struct timer *t)
{
	struct conn *c = timer_conn(t);

	st.timeouts++;
	conn_reject(c,
	    c->len == 0 ? "timeout waiting for request"
			: "timeout reading request",
	    0);
}

static void
queue_timeout(struct conn *c)
{
	st.timeouts++;
	st.overload++;
	pool_cancel(&c->chk);
	log_warnx("no PAM worker free within %u ms", cfg->pam_timeout_ms);
	log_outcome(c, "server busy", 0);
	explicit_bzero(c->buf, c->len);
	conn_reply(c, "NO server busy");
}

/* -c: c's cache key, what goes to PAM: login from conn_pam_login(). */
static struct cache_key
conn_cache_key(const struct conn *c, const uint8_t *login, size_t loginlen)
{
	struct cache_key k;

	k.login = login;
	k.login_len = loginlen;
	k.realm = c->req.f[PROTO_REALM].ptr;
	k.realm_len = c->req.f[PROTO_REALM].len;
	conn_pam_service(c, &k.service, &k.service_len);
	return k;
}

enum cache_result
front_cache_lookup(const struct cache_key *key, const uint8_t *password,
    size_t password_len, int *state, uint8_t tag[CACHE_TAG_LEN])
{
	enum cache_result r;

	*state = -1;
	if (loop.cache == NULL ||
	    cache_tag(loop.cache, key, password, password_len, tag) == -1)
		return CACHE_MISS;
	r = cache_lookup(loop.cache, key, tag, timer_now());
	if (r == CACHE_HIT)
		explicit_bzero(tag, CACHE_TAG_LEN);
	else
		*state = (int)r;
	return r;
}

void
front_cache_done(const struct cache_key *key, int *state,
    uint8_t tag[CACHE_TAG_LEN], const struct ipc_auth_res *res,
    const char *text)
{
	if (*state == -1 || loop.cache == NULL)
		return;
	/* Only PAM's own yes or no counts; a failure to ask is neither. */
	if (text == NULL && res->result == AUTH_OK)
		cache_store(loop.cache, key, tag, timer_now());
	else if (text == NULL &&
	    (res->result == AUTH_FAIL || res->result == AUTH_FAIL_ACCT))
		cache_drop(loop.cache, key, tag);
	*state = -1;
	explicit_bzero(tag, CACHE_TAG_LEN);
}

/* -c: answer c from the cache if it can; 1 when it did. */
static int
conn_cache_lookup(struct conn *c, const uint8_t *login, size_t loginlen)
{
	struct cache_key k;

	c->cache_state = -1;
	if (loop.cache == NULL)
		return 0;
	k = conn_cache_key(c, login, loginlen);
	if (front_cache_lookup(&k, c->req.f[PROTO_PASSWORD].ptr,
		c->req.f[PROTO_PASSWORD].len, &c->cache_state,
		c->cache_tag) != CACHE_HIT)
		return 0;
	conn_auth_wipe(c);
	st.ok++;
	st.cached++;
	front_throttle_ok((const char *)login, loginlen, c->rhost);
	log_outcome(c, NULL, FRONT_OK_CACHED);
	conn_reply(c, "OK");
	return 1;
}

static void
delay_done(struct timer *t)
{
	conn_send_reply(timer_conn(t));
}

/* Reply text after delay_ms, holding nothing but c. */
static void
conn_reply_after(struct conn *c, const char *text, unsigned delay_ms)
{
	if (delay_ms == 0) {
		conn_reply(c, text);
		return;
	}
	conn_encode_reply(c, text);
	c->state = CONN_DELAY;
	conn_set_timer(c, delay_ms, delay_done);
}

/* --fail-limit: 1 when c was answered without asking PAM. */
static int
conn_refuse(struct conn *c, const uint8_t *login, size_t loginlen)
{
	unsigned delay_ms;

	if (!front_throttle_refuse(
		(const char *)login, loginlen, c->rhost, &delay_ms))
		return 0;
	log_outcome(c, SASLD_FAIL_LIMIT_REASON, 0);
	explicit_bzero(c->buf, c->len);
	conn_reply_after(c, "NO " SASLD_FAIL_LIMIT_REASON, delay_ms);
	return 1;
}

/* conn_read() decoded a whole request into c->req with status ps: check
 * it and queue the PAM check. */
static void
conn_request(struct conn *c, enum proto_status ps)
{
	uint8_t login[IPC_MAX_STR];
	size_t loginlen;

	if (ps != PROTO_COMPLETE) {
		/* Empty login or password: Cyrus' texts. */
		conn_reject(c, proto_status_reason(ps), 0);
		return;
	}
	if (c->req.nfields == 5 && c->req.f[PROTO_ADDR].len > 0 &&
	    proto_addr_host(
		&c->req.f[PROTO_ADDR], c->rhost, sizeof(c->rhost)) == -1) {
		log_debug("ignoring malformed client address");
		c->rhost[0] = '\0';
	}
	/* Empty is passed on as Cyrus does (PAM then uses "other"). */
	if (cfg->pam_service[0] == '\0' && c->req.f[PROTO_SERVICE].len > 0 &&
	    !proto_valid_service(
		c->req.f[PROTO_SERVICE].ptr, c->req.f[PROTO_SERVICE].len)) {
		conn_reject(c, "invalid service name", 1);
		return;
	}
	loginlen = c->req.f[PROTO_LOGIN].len;
	if (cfg->realm_append && c->req.f[PROTO_REALM].len > 0)
		loginlen += 1 + c->req.f[PROTO_REALM].len;
	if (loginlen > IPC_MAX_STR) {
		conn_reject(c, "login too long", 1);
		return;
	}
	loginlen = conn_pam_login(c, login);
	/* A login refused by --fail-limit stays refused, cached or not. */
	if (cfg->fail_limit > 0 && conn_refuse(c, login, loginlen))
		return;
	/* A hit is answered here, in the loop, with no worker. */
	if (conn_cache_lookup(c, login, loginlen))
		return;
	conn_events(c, 0); /* only HUP/ERR until the answer */
	c->state = CONN_CHECK;
	c->chk.kind = CHECK_SASLAUTHD;
	c->chk.owner = c;
	c->chk.deadline = timer_now() + cfg->pam_timeout_ms;
	c->chk.pam_deadline = 0;
	front_submit(&c->chk);
}

static void
check_queue_timeout(struct timer *t)
{
	struct check *ch =
	    (struct check *)((char *)t - offsetof(struct check, timer));

	if (ch->kind == CHECK_DOVECOT)
		front_dovecot_queue_timeout(ch);
	else
		queue_timeout(ch->owner);
}

void
front_submit(struct check *ch)
{
	if (timer_set(&loop.timers, &ch->timer, ch->deadline,
		check_queue_timeout) == -1)
		fatal("timer");
	pool_submit(ch);
}

void
front_requeued(struct check *ch)
{
	/* The first deadline still holds: queue and PAM together stay
	 * within twice --pam-timeout. A deadline already past fires at
	 * once, unless an idle worker takes the check first. */
	if (timer_set(&loop.timers, &ch->timer, ch->deadline,
		check_queue_timeout) == -1)
		fatal("timer");
}

unsigned long
front_fd_need(const struct config *c)
{
	unsigned long workers = (unsigned long)c->nworkers;

	if (c->nworkers == 0)
		workers = (unsigned long)c->fork_limit;
	return (unsigned long)c->max_conns + FRONT_FDS_FIXED +
	    FRONT_MAX_LISTEN + 2 * workers;
}

/* The user name PAM gets for c, into login (IPC_MAX_STR bytes; checked
 * by conn_request()); returns its length. */
static size_t
conn_pam_login(const struct conn *c, uint8_t *login)
{
	const struct proto_field_ref *lf = &c->req.f[PROTO_LOGIN];
	const struct proto_field_ref *rf = &c->req.f[PROTO_REALM];
	size_t ll = lf->len;

	memcpy(login, lf->ptr, lf->len);
	if (cfg->realm_append && rf->len > 0) {
		/* Cyrus -r: login@realm whenever the realm is non-empty. */
		login[ll++] = '@';
		memcpy(login + ll, rf->ptr, rf->len);
		ll += rf->len;
	}
	return ll;
}

/* The PAM service for c: --pam-service, else the request's. */
static void
conn_pam_service(const struct conn *c, const uint8_t **svc, size_t *len)
{
	if (cfg->pam_service[0] != '\0') {
		*svc = (const uint8_t *)cfg->pam_service;
		*len = strlen(cfg->pam_service);
	} else {
		*svc = c->req.f[PROTO_SERVICE].ptr;
		*len = c->req.f[PROTO_SERVICE].len;
	}
}

static size_t
conn_encode_auth(struct conn *c, uint8_t *out, size_t outsz)
{
	struct ipc_auth_req r;
	uint8_t login[IPC_MAX_STR];
	const struct proto_field_ref *rf = &c->req.f[PROTO_REALM];
	size_t n;

	r.login.ptr = login;
	r.login.len = conn_pam_login(c, login);
	r.password.ptr = c->req.f[PROTO_PASSWORD].ptr;
	r.password.len = c->req.f[PROTO_PASSWORD].len;
	conn_pam_service(c, &r.service.ptr, &r.service.len);
	r.realm.ptr = rf->ptr;
	r.realm.len = rf->len;
	r.rhost.ptr = (const uint8_t *)c->rhost;
	r.rhost.len = strlen(c->rhost);
	n = ipc_encode_auth(out, outsz, &r);
	/* c keeps the password until the worker says it started: should
	 * the worker die first, the check goes to another one. */
	return n;
}

static void
conn_auth_wipe(struct conn *c)
{
	if (c->req.f[PROTO_PASSWORD].ptr != NULL)
		explicit_bzero((void *)c->req.f[PROTO_PASSWORD].ptr,
		    c->req.f[PROTO_PASSWORD].len);
}

size_t
front_encode_auth(struct check *ch, uint8_t *out, size_t outsz)
{
	if (ch->kind == CHECK_DOVECOT)
		return front_dovecot_encode_auth(ch, out, outsz);
	return conn_encode_auth(ch->owner, out, outsz);
}

void
front_auth_wipe(struct check *ch)
{
	if (ch->kind == CHECK_DOVECOT)
		front_dovecot_auth_wipe(ch);
	else
		conn_auth_wipe(ch->owner);
}

static void
conn_auth_done(struct conn *c, const struct ipc_auth_res *res, const char *text)
{
	const char *reason = NULL;
	char reply[SASLD_MAX_REPLY];
	uint8_t login[IPC_MAX_STR];
	struct cache_key k;
	unsigned delay_ms;
	size_t ll;

	conn_auth_wipe(c);
	timer_cancel(&loop.timers, &c->chk.timer);
	ll = conn_pam_login(c, login);
	if (c->cache_state != -1) {
		k = conn_cache_key(c, login, ll);
		front_cache_done(&k, &c->cache_state, c->cache_tag, res, text);
	}
	delay_ms =
	    front_throttle_result((const char *)login, ll, c->rhost, res, text);
	if (text != NULL) {
		reason = text;
		st.tempfail++;
	} else {
		switch (res->result) {
		case AUTH_OK:
			st.ok++;
			log_outcome(c, NULL, 1);
			conn_reply(c, "OK");
			return;
		case AUTH_FAIL:
			reason = "PAM auth error";
			break;
		case AUTH_FAIL_ACCT:
			reason = "PAM acct error";
			break;
		case AUTH_FAIL_START:
			reason = "PAM start error";
			break;
		case AUTH_TEMPFAIL:
		case AUTH_RESULT_MAX:
			reason = "PAM temporary failure";
			break;
		}
		if (res->result == AUTH_TEMPFAIL)
			st.tempfail++;
		else
			st.failed++;
	}
	log_outcome(c, reason, 0);
	if (res->reason[0] != '\0')
		log_debug("PAM said: %s", res->reason);
	(void)snprintf(reply, sizeof(reply), "NO %s", reason);
	/* The reply waits, not a worker. */
	conn_reply_after(c, reply, delay_ms);
}

void
front_auth_done(
    struct check *ch, const struct ipc_auth_res *res, const char *text)
{
	if (ch->kind == CHECK_DOVECOT)
		front_dovecot_auth_done(ch, res, text);
	else
		conn_auth_done(ch->owner, res, text);
}

static void
conn_read(struct conn *c)
{
	enum proto_status st_;
	ssize_t n;
	size_t want;
	int eof = 0;

	for (;;) {
		if (c->len == c->cap) {
			/* More than the largest valid request. */
			conn_reject(c, "request too long", 0);
			return;
		}
		want = c->cap - c->len;
		n = read(c->ev.fd, c->buf + c->len, want);
		if (n > 0) {
			c->len += (size_t)n;
			/* Less than asked for: a UNIX stream read takes all
			 * that is queued, so the queue is empty now and a
			 * further read would only say EAGAIN. */
			if ((size_t)n < want)
				break;
			continue;
		}
		if (n == 0) {
			eof = 1;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			break;
		conn_close(c);
		return;
	}
	/* Everything the client had sent is in: decide now, never wait
	 * for a fifth field (proto_saslauthd.h). */
	st_ = proto_decode_request(c->buf, c->len, cfg->max_field, &c->req);
	switch (st_) {
	case PROTO_INCOMPLETE:
		if (!eof)
			conn_events(c, EPOLLIN);
		else if (c->len == 0)
			conn_close(c); /* connected and left */
		else
			conn_reject(c, "truncated request", 0);
		return;
	case PROTO_ERR_EMPTY_LOGIN:
	case PROTO_ERR_EMPTY_PASSWORD:
	case PROTO_COMPLETE:
		timer_cancel(&loop.timers, &c->timer);
		conn_request(c, st_);
		return;
	default:
		conn_reject(c, proto_status_reason(st_), 0);
		return;
	}
}

static void
conn_drain(struct conn *c)
{
	uint8_t junk[512];
	ssize_t n;

	for (;;) {
		n = read(c->ev.fd, junk, sizeof(junk));
		if (n > 0) {
			c->drained += (size_t)n;
			if (c->drained > SASLD_DRAIN_MAX) {
				conn_close(c);
				return;
			}
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		conn_close(c);
		return;
	}
}

static void
conn_event(struct conn *c, uint32_t events)
{
	switch (c->state) {
	case CONN_READ:
		conn_read(c);
		break;
	case CONN_DRAIN:
		conn_drain(c);
		break;
	case CONN_CHECK:
	case CONN_DELAY:
		/* Only HUP/ERR are enabled: the client is gone. */
		if (events & (EPOLLHUP | EPOLLERR)) {
			log_debug("client left before its answer");
			conn_close(c);
		}
		break;
	}
}

static void
accept_resume(struct timer *t)
{
	(void)t;
	if (!shutting_down && nconns < cfg->max_conns) {
		accepting_paused = 0;
		set_listening(1);
	}
}

/* ", and N more since the last report", or "". */
static const char *
more_since(char *dst, size_t dstsz, unsigned long more)
{
	dst[0] = '\0';
	if (more > 0)
		(void)snprintf(
		    dst, dstsz, "; %lu more since the last report", more);
	return dst;
}

/* The failure tables, with a key no one outside this process knows. */
static void
throttle_start(void)
{
	struct throttle_params p;
	uint8_t key[THROTTLE_KEY_LEN];

	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
		fatal("front: getrandom");
	memset(&p, 0, sizeof(p));
	p.entries = THROTTLE_DEFAULT_ENTRIES;
	p.window_ms = (uint64_t)SASLD_FAIL_WINDOW_MIN * 60 * 1000;
	p.delay_max_ms = cfg->fail_delay_max_ms;
	p.fail_limit = cfg->fail_limit;
	if (throttle_init(&thr, &p, key) == -1)
		fatal("front: failure tables");
	explicit_bzero(key, sizeof(key));
}

static unsigned
front_throttle_fail(
    const char *login, size_t loginlen, const char *addr, unsigned pam_delay_ms)
{
	struct throttle_who w = {login, loginlen, addr};
	char user[FRONT_LOG_FIELD], remote[SASLD_MAX_RHOST + 16], tail[64];
	uint64_t now = timer_now();
	unsigned long more;
	uint32_t delay, grown;
	unsigned flags;

	delay = throttle_fail(&thr, &w, pam_delay_ms, now, &grown, &flags);
	if (grown > 0)
		st.throttled++;
	if ((flags &
		(THROTTLE_F_LOGIN_START | THROTTLE_F_ADDR_START |
		    THROTTLE_F_LIMIT_START)) == 0)
		return delay;
	log_sanitize(user, sizeof(user), login, loginlen);
	remote[0] = '\0';
	if (addr != NULL && addr[0] != '\0')
		(void)snprintf(remote, sizeof(remote), " [remote=%s]", addr);
	if ((flags & THROTTLE_F_LIMIT_START) &&
	    peer_ratelog(&limit_log, now, SASLD_THROTTLE_LOG_MS, &more))
		log_warnx("[user=%s]%s: %u failures in a row (--fail-limit): "
			  "refused without PAM until %d min pass without an "
			  "attempt%s",
		    user, remote, cfg->fail_limit, SASLD_FAIL_WINDOW_MIN,
		    more_since(tail, sizeof(tail), more));
	else if ((flags & (THROTTLE_F_LOGIN_START | THROTTLE_F_ADDR_START)) &&
	    peer_ratelog(&throttle_log, now, SASLD_THROTTLE_LOG_MS, &more))
		log_info("[user=%s]%s: repeated failures %s%s%s: each "
			 "further failure waits longer (up to %u ms)%s",
		    user, remote,
		    (flags & THROTTLE_F_LOGIN_START) ? "for this user" : "",
		    (flags & THROTTLE_F_LOGIN_START) &&
			    (flags & THROTTLE_F_ADDR_START)
			? " and "
			: "",
		    (flags & THROTTLE_F_ADDR_START) ? "from this address" : "",
		    cfg->fail_delay_max_ms,
		    more_since(tail, sizeof(tail), more));
	return delay;
}

static void
front_throttle_ok(const char *login, size_t loginlen, const char *addr)
{
	struct throttle_who w = {login, loginlen, addr};

	throttle_success(&thr, &w);
}

unsigned
front_throttle_result(const char *login, size_t loginlen, const char *addr,
    const struct ipc_auth_res *res, const char *text)
{
	unsigned pam_ms;

	if (text != NULL)
		return 0; /* PAM was not asked to the end */
	pam_ms = res->delay_us / 1000;
	switch (res->result) {
	case AUTH_OK:
		front_throttle_ok(login, loginlen, addr);
		return 0;
	case AUTH_FAIL:
	case AUTH_FAIL_ACCT:
		return front_throttle_fail(login, loginlen, addr, pam_ms);
	default:
		/* A temporary failure neither counts nor resets. */
		return pam_ms < cfg->fail_delay_max_ms ? pam_ms
						       : cfg->fail_delay_max_ms;
	}
}

int
front_throttle_refuse(const char *login, size_t loginlen, const char *addr,
    unsigned *ret_delay_ms)
{
	struct throttle_who w = {login, loginlen, addr};

	if (!throttle_limited(&thr, &w, timer_now()))
		return 0;
	st.limited++;
	*ret_delay_ms = front_throttle_fail(login, loginlen, addr, 0);
	return 1;
}

/*
 * May a new connection with these kernel credentials (NULL: unknown)
 * stay? 0: yes, and it is counted for its uid; -1: refuse it.
 */
static int
conn_admit(int fd, const struct ucred *cred)
{
	struct peer_cred pc;
	unsigned long more;
	socklen_t len;
	char tail[64];

	memset(&pc, 0, sizeof(pc));
	pc.uid = (uid_t)-1;
	pc.gid = (gid_t)-1;
	if (cred != NULL) {
		pc.known = 1;
		pc.uid = cred->uid;
		pc.gid = cred->gid;
	}
	if (cred != NULL && cfg->allow_gid.n > 0) {
		/* SO_PEERCRED has the primary group only; Postfix's smtpd
		 * reaches the socket through its supplementary sasl group. */
		len = sizeof(peer_groups);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, peer_groups,
			&len) == 0) {
			pc.groups = peer_groups;
			pc.ngroups = len / sizeof(peer_groups[0]);
		} else if (!peergroups_warned) {
			peergroups_warned = 1;
			log_warn("SO_PEERGROUPS: --allow-gid can only match "
				 "primary groups");
		}
	}
	if (!peer_allowed(&cfg->allow_uid, &cfg->allow_gid, &pc)) {
		st.refused_allow++;
		if (peer_ratelog(&refuse_allow_log, timer_now(),
			SASLD_REFUSE_LOG_MS, &more))
			log_warnx("refused a connection from uid %ld gid %ld "
				  "pid %ld: not in --allow-uid/--allow-gid%s",
			    (long)pc.uid, (long)pc.gid,
			    cred != NULL ? (long)cred->pid : -1L,
			    more_since(tail, sizeof(tail), more));
		return -1;
	}
	if (peer_take(&peers, pc.uid) == -1) {
		st.refused_uid++;
		if (peer_ratelog(&refuse_uid_log, timer_now(),
			SASLD_REFUSE_LOG_MS, &more))
			log_warnx("refused a connection from uid %ld pid %ld: "
				  "it holds %u (--max-connections-per-uid)%s",
			    (long)pc.uid, cred != NULL ? (long)cred->pid : -1L,
			    peer_count(&peers, pc.uid),
			    more_since(tail, sizeof(tail), more));
		return -1;
	}
	return 0;
}

static void
do_accept(struct listen_src *ls)
{
	struct evsrc *ev = &ls->ev;
	struct ucred cred;
	socklen_t cl;
	struct conn *c;
	size_t cap;
	int fd, have_cred, batch_left;

	/* A batch at a time: requests are served right here (a cache hit
	 * in full), so an endless stream of clients must not starve the
	 * workers' answers and the timers. */
	for (batch_left = FRONT_ACCEPT_BATCH;
	     batch_left > 0 && nconns < cfg->max_conns; batch_left--) {
		fd = accept4(ev->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("accept: pausing %d ms",
				    SASLD_ACCEPT_PAUSE_MS);
				accepting_paused = 1;
				set_listening(0);
				if (timer_set(&loop.timers, &accept_timer,
					timer_now() + SASLD_ACCEPT_PAUSE_MS,
					accept_resume) == -1)
					fatal("timer");
			} else if (errno != EAGAIN)
				log_warn("accept");
			return;
		}
		cl = sizeof(cred);
		have_cred =
		    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0;
		if (conn_admit(fd, have_cred ? &cred : NULL) == -1) {
			/*
			 * Closed before a byte is read or sent. Clients take
			 * that as a temporary failure (libsasl2 SASL_FAIL,
			 * Postfix "454 4.7.0", Exim defers), not as a wrong
			 * password, which is right for a limit or a policy;
			 * and no reply exists that a client could misread.
			 */
			(void)close(fd);
			continue;
		}
		if (ls->proto == LISTEN_DOVECOT) {
			if (front_dovecot_accept(fd,
				have_cred ? cred.uid : (uid_t)-1,
				have_cred ? cred.pid : 0) == -1) {
				peer_release(
				    &peers, have_cred ? cred.uid : (uid_t)-1);
				(void)close(fd);
				return;
			}
			nconns++;
			st.accepted++;
			continue;
		}
		/* The largest valid request plus one byte, to see excess. */
		cap = PROTO_NFIELDS * (2 + cfg->max_field) + 1;
		if ((c = calloc(1, sizeof(*c) + cap)) == NULL) {
			log_warn("calloc");
			peer_release(&peers, have_cred ? cred.uid : (uid_t)-1);
			(void)close(fd);
			return;
		}
		c->ev.kind = EV_CONN;
		c->ev.fd = fd;
		c->cap = cap;
		c->state = CONN_READ;
		c->t_start = timer_now();
		c->peer_uid = (uid_t)-1;
		if (have_cred) {
			c->peer_uid = cred.uid;
			c->peer_pid = cred.pid;
		}
		TAILQ_INSERT_TAIL(&conns, c, link);
		nconns++;
		st.accepted++;
		conn_set_timer(c, cfg->read_timeout_ms, read_timeout);
		/* Clients write at once after connect(): the request is
		 * often here already, and a cache hit is answered without
		 * epoll. conn_read() registers c when it has to wait. */
		conn_read(c);
	}
	if (nconns < cfg->max_conns)
		return; /* batch done; epoll reports the listener again */
	if (!accepting_paused) {
		st.overload++;
		log_warnx("%u connections open (--max-connections): not "
			  "accepting until one closes",
		    nconns);
		accepting_paused = 1;
		set_listening(0);
	}
}

static void
front_cache_stats(void)
{
	struct cache_stats cs;

	if (loop.cache == NULL)
		return;
	cache_get_stats(loop.cache, &cs);
	log_info("cache: %lu entries of %lu, %lu hits (%lu saslauthd), %lu "
		 "misses, %lu revalidations, %lu stores, %lu dropped when PAM "
		 "said NO, %lu evictions, %lu expired, %lu too long to cache, "
		 "%lu flushes",
	    cs.entries, cs.capacity, cs.hits, st.cached, cs.misses, cs.stale,
	    cs.stores, cs.dropped, cs.evictions, cs.expired, cs.uncacheable,
	    cs.flushes);
}

static void
front_stats(void)
{
	log_info("front: %u connections open, %lu accepted, %lu OK, %lu "
		 "failed, %lu temporary failures, %lu rejected, %lu timeouts, "
		 "%lu overloads, %lu log lines dropped, %lu refused over "
		 "--max-connections-per-uid, %lu refused by "
		 "--allow-uid/--allow-gid, %lu failures throttled, %lu "
		 "refused by --fail-limit",
	    nconns, st.accepted, st.ok, st.failed, st.tempfail, st.rejected,
	    st.timeouts, st.overload, st.log_dropped, st.refused_uid,
	    st.refused_allow, st.throttled, st.limited);
	front_dovecot_stats();
	front_cache_stats();
	pool_stats();
}

static void
shutdown_now(struct timer *t)
{
	(void)t;
	if (nconns > 0)
		log_warnx("exiting with %u connections still open", nconns);
	pool_shutdown();
	_exit(0);
}

/*
 * Stopping: a client that has not sent a byte has no check in flight, and
 * would hold the stop until its read deadline; it goes now, as one that
 * connects after the stop does. Run from a timer, after the event batch,
 * so no pending event refers to a connection closed here.
 */
static void
close_silent(struct timer *t)
{
	struct conn *c, *tc;
	unsigned n = 0;

	(void)t;
	TAILQ_FOREACH_SAFE(c, &conns, link, tc) {
		if (c->state == CONN_READ && c->len == 0) {
			conn_close(c);
			n++;
		}
	}
	if (n > 0)
		log_debug(
		    "stopping: closed %u connections that sent nothing", n);
}

static void
begin_shutdown(void)
{
	int i;

	if (shutting_down)
		return;
	shutting_down = 1;
	for (i = 0; i < nlisteners; i++) {
		(void)epoll_ctl(
		    loop.epfd, EPOLL_CTL_DEL, listeners[i].ev.fd, NULL);
		(void)close(listeners[i].ev.fd);
	}
	nlisteners = 0;
	shutdown_timer.fn = shutdown_now;
	/* Dovecot clients keep their connection: close it once answered. */
	front_dovecot_shutdown();
	/* In-flight requests finish, within their own deadlines. */
	if (timer_set(&loop.timers, &shutdown_timer,
		nconns == 0 ? 0
			    : timer_now() + cfg->read_timeout_ms +
			2 * cfg->pam_timeout_ms + cfg->fail_delay_max_ms +
			SASLD_DRAIN_MS,
		shutdown_now) == -1 ||
	    timer_set(&loop.timers, &silent_timer, 0, close_silent) == -1)
		fatal("timer");
}

static const enum ipc_type parent_allow[] = {IPC_PARENT_WORKER,
    IPC_PARENT_SHUTDOWN, IPC_PARENT_RECYCLE, IPC_PARENT_STATS};

static void
parent_event(void)
{
	uint8_t buf[IPC_MAX_FRAME];
	struct ipc_worker w;
	struct ipc_msg m;
	int r;

	r = ipc_recv(loop.ctlfd, buf, sizeof(buf), &m);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r == 0)
		_exit(0); /* the parent is gone: so are we */
	if (r == -1)
		fatal("front: parent channel");
	if (!ipc_allowed(m.type, parent_allow,
		sizeof(parent_allow) / sizeof(parent_allow[0])))
		fatalx("front: parent sent %s", ipc_type_name(m.type));
	switch (m.type) {
	case IPC_PARENT_WORKER:
		if (m.fd == -1 ||
		    ipc_decode_worker(m.body, m.bodylen, &w) == -1)
			fatalx("front: malformed worker frame");
		if (shutting_down)
			(void)close(m.fd);
		else
			pool_add(&w, m.fd);
		return;
	case IPC_PARENT_SHUTDOWN:
		log_debug("front: shutting down");
		begin_shutdown();
		break;
	case IPC_PARENT_RECYCLE:
		pool_recycle();
		if (loop.cache != NULL) {
			/* HUP: PAM's configuration may have changed too. */
			cache_flush(loop.cache);
			log_info("front: cache flushed");
		}
		break;
	case IPC_PARENT_STATS:
		front_stats();
		break;
	default:
		break;
	}
	if (m.fd != -1)
		(void)close(m.fd);
}

void
front_main(const struct config *c, int ctlfd, const int *listen_fds,
    int nlisten, uid_t uid, gid_t gid, const char *chroot_dir)
{
	struct epoll_event ee, evs[FRONT_MAX_EVENTS];
	struct evsrc *ev;
	int i, n;

	cfg = c;
	if (nlisten > FRONT_MAX_LISTEN)
		fatalx("front: too many listeners");
	/* The parent orchestrates; a terminal's ^C is not for us. */
	(void)signal(SIGINT, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGTERM, SIG_IGN);
	(void)signal(SIGUSR1, SIG_IGN);
	(void)signal(SIGPIPE, SIG_IGN);
	loop.cfg = c;
	loop.ctlfd = ctlfd;
	if ((loop.epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	closelog();
	/* Before the chroot and the filter: sodium_init() may want
	 * /dev/urandom, and the whole cache is allocated now. */
	if (cfg->cache &&
	    (loop.cache = cache_new(
		 cache_capacity_for_kb((unsigned long)cfg->cache_kb),
		 (uint64_t)cfg->cache_ttl * 1000,
		 (uint64_t)cfg->cache_revalidate * 1000)) == NULL)
		fatal("front: cache of %ld KiB", cfg->cache_kb);
	/* Nothing of the parent's environment stays in our memory. */
	privsep_clear_env(NULL);
	privsep_drop(chroot_dir, uid, gid);
	log_set_forward(front_log_forward);
	pool_init(&loop);
	front_dovecot_init(&loop);
	if (peer_table_init(&peers, cfg->max_conns, cfg->max_conns_per_uid) ==
	    -1)
		fatal("front: per-uid table");
	throttle_start();

	parent_src.kind = EV_PARENT;
	parent_src.fd = ctlfd;
	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLIN;
	ee.data.ptr = &parent_src;
	if (epoll_ctl(loop.epfd, EPOLL_CTL_ADD, ctlfd, &ee) == -1)
		fatal("epoll_ctl parent");
	for (i = 0; i < nlisten; i++) {
		listeners[i].ev.kind = EV_LISTEN;
		listeners[i].ev.fd = listen_fds[i];
		/* main.c passes the fds in cfg->listen's order. */
		listeners[i].proto =
		    i < cfg->nlisten ? cfg->listen[i].proto : LISTEN_SASLAUTHD;
		ee.events = EPOLLIN;
		ee.data.ptr = &listeners[i].ev;
		if (epoll_ctl(loop.epfd, EPOLL_CTL_ADD, listen_fds[i], &ee) ==
		    -1)
			fatal("epoll_ctl listener");
	}
	nlisteners = nlisten;
	/* Last step of the sandbox: the parent reports the daemon ready
	 * only once the filter is in place. */
	sandbox_front();
	if (ipc_send(ctlfd, IPC_FRONT_READY, 0, 0, NULL, 0, -1) == -1)
		fatal("front: ready");
	log_debug("front: serving as uid %ld in an empty chroot", (long)uid);

	for (;;) {
		n = epoll_wait(loop.epfd, evs, FRONT_MAX_EVENTS,
		    timer_timeout(&loop.timers, timer_now()));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait");
		}
		batch = evs;
		batch_n = n;
		for (i = 0; i < n; i++) {
			batch_next = i + 1;
			if ((ev = evs[i].data.ptr) == NULL)
				continue; /* freed by an earlier event */
			switch (ev->kind) {
			case EV_LISTEN:
				if (!shutting_down)
					do_accept((struct listen_src *)ev);
				break;
			case EV_DOVECOT:
				front_dovecot_event(ev, evs[i].events);
				break;
			case EV_CONN:
				conn_event((struct conn *)ev, evs[i].events);
				break;
			case EV_WORKER:
				pool_event(ev, evs[i].events);
				break;
			case EV_PARENT:
				parent_event();
				break;
			}
		}
		batch_n = 0;
		timer_run(&loop.timers, timer_now());
	}
}

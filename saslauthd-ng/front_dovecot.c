/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * front_dovecot.c - Dovecot auth protocol connections in the front (see
 * front_dovecot.h), driven as proto_dovecot.h's DESIGN block describes:
 * the handshake at once on accept, lines split and handed to the codec,
 * its CHECKs sent to the PAM pool as one struct check each, its replies
 * queued in a bounded output buffer, failure replies held by a timer
 * (never by a worker), abandoned requests expired by a timer.
 *
 * Unlike a saslauthd connection, a Dovecot connection lives long (Postfix
 * keeps one per smtpd process) and has several requests at once: the
 * pending ones Postfix abandoned after an SMTP "*" and the current one.
 *
 * A PAM temporary failure (backend down, PAM timeout, worker crash, no
 * worker free) is answered FAIL code=temp_fail with a reason saying so,
 * as Dovecot does. Postfix shows every FAIL as 535 5.7.8 and only a lost
 * connection as 454 4.7.0 (reference A.6); closing the connection instead
 * would make Postfix say 454, but it would also end the other requests on
 * the connection and depend on how each Postfix version reconnects, so
 * the protocol's own answer is kept and the reason tells the user.
 *
 * SECURITY: the front is unprivileged and chrooted; every byte from the
 * client goes through the codec. A connection is freed only from a timer
 * (dv_kill marks it dead first), so no callback ever runs on freed memory.
 * Passwords are copied out of the codec into the check, wiped when the
 * worker starts (IPC_WORKER_STARTED), when the check ends and when the
 * connection dies; the input buffer is wiped as lines are consumed.
 */
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "front_dovecot.h"
#include "log.h"
#include "pool.h"
#include "proto_dovecot.h"

#define DV_LOG_FIELD 128 /* sanitized user/service in log lines */
/*
 * Linux-PAM's PAM_NEW_AUTHTOK_REQD and PAM_ACCT_EXPIRED: an account that
 * may not log in until its password is changed; Dovecot answers
 * code=pass_expired. The front does not include libpam's headers.
 */
#define DV_PAM_NEW_AUTHTOK_REQD 12
#define DV_PAM_ACCT_EXPIRED 13

struct dvconn;

/* One request of a Dovecot connection at PAM. */
struct dv_check {
	struct check chk; /* kind CHECK_DOVECOT, owner this */
	struct dvconn *conn;
	uint32_t ticket; /* the codec's, for dovecot_result() */
	uint64_t t_start; /* the line that completed the request */
	size_t passlen;
	char user[DOVECOT_MAX_USER + 1];
	char service[DOVECOT_MAX_SERVICE + 1];
	char rip[DOVECOT_MAX_IP + 1];
	char password[DOVECOT_MAX_PASS + 1];
	int cache_state; /* -c: see front_cache_lookup() */
	uint8_t cache_tag[CACHE_TAG_LEN];
};

/* A FAIL held for its failure delay. */
struct dv_delayed {
	struct timer timer;
	struct dvconn *conn;
	TAILQ_ENTRY(dv_delayed) link;
	size_t len;
	uint8_t line[];
};

TAILQ_HEAD(dv_delayed_list, dv_delayed);

struct dvconn {
	struct evsrc ev; /* kind EV_DOVECOT */
	TAILQ_ENTRY(dvconn) link;
	struct timer timer; /* expiry, idle, stalled output; then free */
	uid_t peer_uid;
	pid_t peer_pid;
	uint32_t cuid;
	int dead; /* torn down; freed by the timer */
	int closing; /* shutdown: close once nothing is in flight */
	int want_out; /* EPOLLOUT is on */
	int got_line; /* the client's first line (VERSION) arrived */
	uint64_t t_accept;
	uint64_t last_input; /* time of the last line */
	uint64_t out_since; /* output waiting since (progress resets it) */
	struct dv_check *checks[DOVECOT_MAX_PENDING];
	unsigned nchecks;
	struct dv_delayed_list delayed;
	unsigned ndelayed;
	size_t inlen;
	size_t outoff, outlen;
	uint8_t in[DOVECOT_MAX_LINE];
	uint8_t out[FRONT_DV_OUT_MAX];
	struct dovecot_conn dc;
};

TAILQ_HEAD(dvconn_list, dvconn);

static struct loop *lp;
static struct dvconn_list dvconns = TAILQ_HEAD_INITIALIZER(dvconns);
static unsigned ndvconns;
static uint32_t next_cuid;
static struct {
	unsigned long accepted, requests, ok, failed, tempfail, protocol,
	    expired, cut_off;
} st;

static void dv_after(struct dvconn *d);

void
front_dovecot_init(struct loop *l)
{
	lp = l;
}

static struct dvconn *
timer_dvconn(struct timer *t)
{
	return (struct dvconn *)((char *)t - offsetof(struct dvconn, timer));
}

static void
dv_free(struct timer *t)
{
	struct dvconn *d = timer_dvconn(t);

	explicit_bzero(d, sizeof(*d));
	free(d);
}

/* -c: dv's cache key, what goes to PAM (front_dovecot_encode_auth). */
static struct cache_key
dv_cache_key(const struct dv_check *dv)
{
	struct cache_key k;

	k.login = (const uint8_t *)dv->user;
	k.login_len = strlen(dv->user);
	k.realm = (const uint8_t *)"";
	k.realm_len = 0;
	k.service = (const uint8_t *)dv->service;
	k.service_len = strlen(dv->service);
	return k;
}

static void
dv_check_free(struct dv_check *dv)
{
	explicit_bzero(dv, sizeof(*dv));
	free(dv);
}

/*
 * Tear d down now (fd, checks, delayed replies, credentials) and free it
 * from a timer, after whatever call chain got here has returned: callers
 * test d->dead after anything that may send.
 */
static void
dv_kill(struct dvconn *d)
{
	struct dv_delayed *x;
	unsigned i;

	if (d->dead)
		return;
	d->dead = 1;
	for (i = 0; i < DOVECOT_MAX_PENDING; i++) {
		if (d->checks[i] == NULL)
			continue;
		pool_cancel(&d->checks[i]->chk);
		dv_check_free(d->checks[i]);
		d->checks[i] = NULL;
	}
	d->nchecks = 0;
	while ((x = TAILQ_FIRST(&d->delayed)) != NULL) {
		TAILQ_REMOVE(&d->delayed, x, link);
		timer_cancel(&lp->timers, &x->timer);
		explicit_bzero(x, sizeof(*x) + x->len);
		free(x);
	}
	d->ndelayed = 0;
	dovecot_reset(&d->dc);
	explicit_bzero(d->in, sizeof(d->in));
	(void)epoll_ctl(lp->epfd, EPOLL_CTL_DEL, d->ev.fd, NULL);
	(void)close(d->ev.fd);
	d->ev.fd = -1;
	TAILQ_REMOVE(&dvconns, d, link);
	ndvconns--;
	front_conn_released(d->peer_uid);
	if (timer_set(&lp->timers, &d->timer, 0, dv_free) == -1)
		fatal("timer");
}

static void
dv_events(struct dvconn *d, int want_out)
{
	struct epoll_event ee;

	if (d->dead || d->want_out == want_out)
		return;
	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLIN | (want_out ? EPOLLOUT : 0);
	ee.data.ptr = &d->ev;
	if (epoll_ctl(lp->epfd, EPOLL_CTL_MOD, d->ev.fd, &ee) == -1)
		log_warn("epoll_ctl dovecot");
	d->want_out = want_out;
}

/* Write what is queued; -1 when the connection died doing it. */
static int
dv_flush(struct dvconn *d)
{
	ssize_t w;

	while (d->outlen > d->outoff) {
		w = send(d->ev.fd, d->out + d->outoff, d->outlen - d->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			d->outoff += (size_t)w;
			d->out_since = timer_now();
			continue;
		}
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno == EAGAIN)
			break;
		log_debug("dovecot client uid %ld pid %ld: write: %s",
		    (long)d->peer_uid, (long)d->peer_pid,
		    w == -1 ? strerror(errno) : "nothing written");
		dv_kill(d);
		return -1;
	}
	if (d->outoff == d->outlen)
		d->outoff = d->outlen = 0;
	dv_events(d, d->outlen > 0);
	return 0;
}

/* Queue one line and write; -1 when the connection died. */
static int
dv_send(struct dvconn *d, const uint8_t *line, size_t len)
{
	if (d->dead)
		return -1;
	if (d->outoff > 0) {
		memmove(d->out, d->out + d->outoff, d->outlen - d->outoff);
		d->outlen -= d->outoff;
		d->outoff = 0;
	}
	if (len > sizeof(d->out) - d->outlen) {
		st.cut_off++;
		log_warnx("dovecot client uid %ld pid %ld does not read its "
			  "replies (%zu bytes unread): closing",
		    (long)d->peer_uid, (long)d->peer_pid, d->outlen);
		dv_kill(d);
		return -1;
	}
	if (d->outlen == 0)
		d->out_since = timer_now();
	memcpy(d->out + d->outlen, line, len);
	d->outlen += len;
	return dv_flush(d);
}

static void
delayed_fire(struct timer *t)
{
	struct dv_delayed *x = (struct dv_delayed *)((char *)t -
	    offsetof(struct dv_delayed, timer));
	struct dvconn *d = x->conn;

	TAILQ_REMOVE(&d->delayed, x, link);
	d->ndelayed--;
	(void)dv_send(d, x->line, x->len);
	explicit_bzero(x->line, x->len);
	free(x);
	dv_after(d);
}

/* Send line after ms, without holding anything but the bytes. */
static int
dv_send_later(struct dvconn *d, const uint8_t *line, size_t len, uint64_t ms)
{
	struct dv_delayed *x;

	if (ms == 0)
		return dv_send(d, line, len);
	if (d->ndelayed >= FRONT_DV_MAX_DELAYED) {
		st.cut_off++;
		log_warnx("dovecot client uid %ld pid %ld has %u failed "
			  "requests waiting: closing",
		    (long)d->peer_uid, (long)d->peer_pid, d->ndelayed);
		dv_kill(d);
		return -1;
	}
	if ((x = calloc(1, sizeof(*x) + len)) == NULL) {
		log_warn("calloc");
		return dv_send(d, line, len);
	}
	x->conn = d;
	x->len = len;
	memcpy(x->line, line, len);
	TAILQ_INSERT_TAIL(&d->delayed, x, link);
	d->ndelayed++;
	if (timer_set(&lp->timers, &x->timer, timer_now() + ms, delayed_fire) ==
	    -1)
		fatal("timer");
	return 0;
}

/* The Cyrus failure line (fail2ban), or the debug success line. */
static void
dv_log(const char *user, const char *service, const char *rip,
    const char *reason, uint64_t ms, const struct dvconn *d)
{
	char u[DV_LOG_FIELD], s[DV_LOG_FIELD], remote[DOVECOT_MAX_IP + 16];

	log_sanitize(u, sizeof(u), user, strlen(user));
	log_sanitize(s, sizeof(s), service, strlen(service));
	remote[0] = '\0';
	if (rip[0] != '\0')
		(void)snprintf(remote, sizeof(remote), " [remote=%s]", rip);
	if (reason == NULL)
		log_debug("auth success: [user=%s] [service=%s] [realm=]%s "
			  "[mech=pam] (dovecot, %llu ms, peer uid %ld)",
		    u, s, remote, (unsigned long long)ms, (long)d->peer_uid);
	else
		log_info("auth failure: [user=%s] [service=%s] [realm=]%s "
			 "[mech=pam] [reason=%s]",
		    u, s, remote, reason);
}

/* Send or hold a reply from the codec; -1 when the connection died. */
static int
dv_reply(struct dvconn *d, const struct dovecot_action *act, uint64_t delay)
{
	if (act->type != DOVECOT_ACT_REPLY)
		return 0;
	return dv_send_later(d, act->reply, act->replylen, delay);
}

static const char *
dv_service(const struct dovecot_req *r)
{
	return lp->cfg->pam_service[0] != '\0' ? lp->cfg->pam_service
					       : r->service;
}

/* A CHECK from the codec: copy it out and give it to the pool. */
static int
dv_check_start(struct dvconn *d, const struct dovecot_action *act)
{
	struct dovecot_action res;
	struct dv_check *dv = NULL;
	struct ipc_auth_res ok;
	struct cache_key key;
	unsigned pam_ms, i, delay;
	uint64_t now = timer_now();

	if (lp->cfg->fail_limit > 0 &&
	    front_throttle_refuse(act->req->user, strlen(act->req->user),
		act->req->rip, &delay)) {
		/* --fail-limit: answered without PAM, within the budget. */
		dovecot_wipe_secret(&d->dc);
		st.failed++;
		dv_log(act->req->user, dv_service(act->req), act->req->rip,
		    SASLD_FAIL_LIMIT_REASON, 0, d);
		dovecot_result(
		    &d->dc, act->ticket, DOVECOT_FAIL, NULL, NULL, &res);
		if (delay > FRONT_DV_ANSWER_MS)
			delay = FRONT_DV_ANSWER_MS;
		return dv_reply(d, &res, delay);
	}
	for (i = 0; i < DOVECOT_MAX_PENDING; i++)
		if (d->checks[i] == NULL)
			break;
	if (i == DOVECOT_MAX_PENDING || act->passlen > DOVECOT_MAX_PASS ||
	    (dv = calloc(1, sizeof(*dv))) == NULL) {
		/* The codec bounds the checks to its slots; memory may run
		 * out. Either way the request ends as a temporary failure. */
		if (dv == NULL && i < DOVECOT_MAX_PENDING)
			log_warn("calloc");
		dovecot_wipe_secret(&d->dc);
		st.tempfail++;
		dovecot_result(
		    &d->dc, act->ticket, DOVECOT_TEMPFAIL, NULL, NULL, &res);
		return dv_reply(d, &res, 0);
	}
	dv->conn = d;
	dv->ticket = act->ticket;
	dv->t_start = now;
	(void)snprintf(dv->user, sizeof(dv->user), "%s", act->req->user);
	(void)snprintf(
	    dv->service, sizeof(dv->service), "%s", dv_service(act->req));
	(void)snprintf(dv->rip, sizeof(dv->rip), "%s", act->req->rip);
	memcpy(dv->password, act->password, act->passlen);
	dv->passlen = act->passlen;
	dovecot_wipe_secret(&d->dc);
	d->checks[i] = dv;
	d->nchecks++;
	st.requests++;
	pam_ms = lp->cfg->pam_timeout_ms;
	if (pam_ms > FRONT_DV_PAM_MS)
		pam_ms = FRONT_DV_PAM_MS;
	dv->chk.kind = CHECK_DOVECOT;
	dv->chk.owner = dv;
	dv->chk.deadline = now + pam_ms;
	dv->chk.pam_deadline = now + pam_ms;
	key = dv_cache_key(dv);
	if (front_cache_lookup(&key, (const uint8_t *)dv->password, dv->passlen,
		&dv->cache_state, dv->cache_tag) == CACHE_HIT) {
		/* Answered from the cache, in the loop, with no worker. */
		memset(&ok, 0, sizeof(ok));
		ok.result = AUTH_OK;
		front_dovecot_auth_done(&dv->chk, &ok, NULL);
		return d->dead ? -1 : 0;
	}
	/* May answer at once (no worker can take it): d may die. */
	front_submit(&dv->chk);
	return d->dead ? -1 : 0;
}

/* One action from dovecot_input(); -1 when the connection died. */
static int
dv_action(struct dvconn *d, const struct dovecot_action *act)
{
	switch (act->type) {
	case DOVECOT_ACT_NONE:
		return 0;
	case DOVECOT_ACT_CHECK:
		return dv_check_start(d, act);
	case DOVECOT_ACT_CLOSE:
		st.protocol++;
		log_info("dovecot client uid %ld pid %ld broke the protocol "
			 "(%s): closing",
		    (long)d->peer_uid, (long)d->peer_pid, act->reason);
		dv_kill(d);
		return -1;
	case DOVECOT_ACT_REPLY:
		break;
	}
	if (!act->authfail) {
		if (act->reason != NULL)
			log_debug("dovecot client uid %ld pid %ld: request "
				  "%u: %s",
			    (long)d->peer_uid, (long)d->peer_pid, act->id,
			    act->reason);
		return dv_reply(d, act, 0);
	}
	/* Bad credentials found before PAM: a failure like PAM's. */
	st.failed++;
	dv_log(act->req != NULL ? act->req->user : "",
	    act->req != NULL ? dv_service(act->req) : "",
	    act->req != NULL ? act->req->rip : "",
	    act->reason != NULL ? act->reason : "invalid response", 0, d);
	return dv_reply(d, act,
	    FRONT_DV_FAIL_DELAY_MS < lp->cfg->fail_delay_max_ms
		? FRONT_DV_FAIL_DELAY_MS
		: lp->cfg->fail_delay_max_ms);
}

/* Hand every complete line to the codec; -1 when the connection died. */
static int
dv_lines(struct dvconn *d)
{
	struct dovecot_action act;
	size_t off = 0, linelen, used;
	int r = 0;

	while (!d->closing) {
		r = dovecot_next_line(d->in + off, d->inlen - off,
		    DOVECOT_MAX_LINE, &linelen, &used);
		if (r == 0)
			break;
		if (r == -1) {
			st.protocol++;
			log_info("dovecot client uid %ld pid %ld sent a line "
				 "longer than %d bytes: closing",
			    (long)d->peer_uid, (long)d->peer_pid,
			    DOVECOT_MAX_LINE);
			dv_kill(d);
			return -1;
		}
		d->last_input = timer_now();
		d->got_line = 1;
		dovecot_input(
		    &d->dc, d->in + off, linelen, d->last_input, &act);
		explicit_bzero(d->in + off, used);
		off += used;
		if (dv_action(d, &act) == -1)
			return -1;
	}
	if (off > 0) {
		memmove(d->in, d->in + off, d->inlen - off);
		d->inlen -= off;
		/* The moved bytes' old copies may be base64 passwords. */
		explicit_bzero(d->in + d->inlen, off);
	}
	return 0;
}

static void
dv_read(struct dvconn *d)
{
	uint8_t junk[512];
	ssize_t n;

	for (;;) {
		if (!d->closing && d->inlen == sizeof(d->in)) {
			/* dv_lines() consumes or refuses a full buffer. */
			dv_kill(d);
			return;
		}
		if (d->closing) {
			/* Shutting down: no new requests; see EOF. */
			n = read(d->ev.fd, junk, sizeof(junk));
			explicit_bzero(junk, sizeof(junk));
		} else
			n = read(d->ev.fd, d->in + d->inlen,
			    sizeof(d->in) - d->inlen);
		if (n > 0) {
			if (d->closing)
				continue;
			d->inlen += (size_t)n;
			if (dv_lines(d) == -1)
				return;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		/* EOF or an error: the client is gone; a partial line and
		 * pending requests go with it. */
		dv_kill(d);
		return;
	}
	dv_after(d);
}

void
front_dovecot_event(struct evsrc *ev, uint32_t events)
{
	struct dvconn *d = (struct dvconn *)ev;

	if (d->dead)
		return;
	if ((events & EPOLLOUT) && dv_flush(d) == -1)
		return;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		dv_read(d);
	else
		dv_after(d);
}

/* Nothing pending, delayed or unsent. */
static int
dv_quiet(struct dvconn *d)
{
	return d->nchecks == 0 && d->ndelayed == 0 && d->outlen == 0 &&
	    dovecot_pending(&d->dc) == 0;
}

static void
dv_tick(struct timer *t)
{
	struct dvconn *d = timer_dvconn(t);
	uint64_t now = timer_now();

	if (!d->got_line && now >= d->t_accept + lp->cfg->read_timeout_ms) {
		/* Postfix and Exim send VERSION at once; only a client that
		 * holds a connection for nothing waits longer. */
		st.protocol++;
		log_info("dovecot client uid %ld pid %ld sent no VERSION "
			 "within %u ms: closing",
		    (long)d->peer_uid, (long)d->peer_pid,
		    lp->cfg->read_timeout_ms);
		dv_kill(d);
		return;
	}
	if (d->outlen > 0 && now >= d->out_since + FRONT_DV_WRITE_MS) {
		st.cut_off++;
		log_warnx("dovecot client uid %ld pid %ld took no reply for "
			  "%d ms: closing",
		    (long)d->peer_uid, (long)d->peer_pid, FRONT_DV_WRITE_MS);
		dv_kill(d);
		return;
	}
	if (dv_quiet(d) && now >= d->last_input + FRONT_DV_IDLE_MS) {
		log_debug("dovecot client uid %ld pid %ld idle for %d s: "
			  "closing",
		    (long)d->peer_uid, (long)d->peer_pid,
		    FRONT_DV_IDLE_MS / 1000);
		dv_kill(d);
		return;
	}
	dv_after(d);
}

/* The next of: abandoned request expiry, stalled output, idle. */
static void
dv_rearm(struct dvconn *d)
{
	uint64_t now = timer_now(), next = 0, when;
	size_t n;

	n = dovecot_expire(&d->dc, now, DOVECOT_PENDING_IDLE_MS, &next);
	if (n > 0) {
		st.expired += n;
		log_debug("dovecot client uid %ld pid %ld: %zu abandoned "
			  "request%s dropped",
		    (long)d->peer_uid, (long)d->peer_pid, n, n == 1 ? "" : "s");
	}
	if (!d->got_line)
		next = d->t_accept + lp->cfg->read_timeout_ms;
	if (d->outlen > 0) {
		when = d->out_since + FRONT_DV_WRITE_MS;
		if (next == 0 || when < next)
			next = when;
	}
	if (dv_quiet(d)) {
		when = d->last_input + FRONT_DV_IDLE_MS;
		if (next == 0 || when < next)
			next = when;
	}
	if (next == 0) {
		timer_cancel(&lp->timers, &d->timer);
		return;
	}
	if (timer_set(&lp->timers, &d->timer, next, dv_tick) == -1)
		fatal("timer");
}

/* After anything happened on d: close it when stopping and done. */
static void
dv_after(struct dvconn *d)
{
	if (d->dead)
		return;
	if (d->closing && d->nchecks == 0 && d->ndelayed == 0 &&
	    d->outlen == 0) {
		dv_kill(d);
		return;
	}
	dv_rearm(d);
}

int
front_dovecot_accept(int fd, uid_t peer_uid, pid_t peer_pid)
{
	uint8_t cookie[DOVECOT_COOKIE_LEN], hs[DOVECOT_MAX_HANDSHAKE];
	struct epoll_event ee;
	struct dvconn *d;
	size_t n;

	/* A per-connection cookie, as Dovecot; no one checks it here. */
	if (getrandom(cookie, sizeof(cookie), 0) != (ssize_t)sizeof(cookie)) {
		log_warn("getrandom");
		return -1;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		log_warn("calloc");
		return -1;
	}
	d->ev.kind = EV_DOVECOT;
	d->ev.fd = fd;
	d->peer_uid = peer_uid;
	d->peer_pid = peer_pid;
	d->cuid = ++next_cuid;
	d->t_accept = d->last_input = timer_now();
	TAILQ_INIT(&d->delayed);
	dovecot_init(
	    &d->dc, lp->cfg->dovecot_secured ? DOVECOT_F_REQUIRE_SECURED : 0);
	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLIN;
	ee.data.ptr = &d->ev;
	if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, fd, &ee) == -1) {
		log_warn("epoll_ctl");
		free(d);
		return -1;
	}
	TAILQ_INSERT_TAIL(&dvconns, d, link);
	ndvconns++;
	st.accepted++;
	/* At once, before reading: Postfix pipelines, Exim waits. */
	n = dovecot_handshake(
	    hs, sizeof(hs), (uint32_t)getpid(), d->cuid, cookie);
	if (dv_send(d, hs, n) == 0)
		dv_after(d);
	return 0;
}

size_t
front_dovecot_encode_auth(struct check *ch, uint8_t *out, size_t outsz)
{
	struct dv_check *dv = ch->owner;
	struct ipc_auth_req r;

	memset(&r, 0, sizeof(r));
	r.login.ptr = (const uint8_t *)dv->user;
	r.login.len = strlen(dv->user);
	r.password.ptr = (const uint8_t *)dv->password;
	r.password.len = dv->passlen;
	r.service.ptr = (const uint8_t *)dv->service;
	r.service.len = strlen(dv->service);
	r.realm.ptr = (const uint8_t *)"";
	r.rhost.ptr = (const uint8_t *)dv->rip;
	r.rhost.len = strlen(dv->rip);
	return ipc_encode_auth(out, outsz, &r);
}

void
front_dovecot_auth_wipe(struct check *ch)
{
	struct dv_check *dv = ch->owner;

	explicit_bzero(dv->password, sizeof(dv->password));
}

void
front_dovecot_auth_done(
    struct check *ch, const struct ipc_auth_res *res, const char *text)
{
	struct dv_check *dv = ch->owner;
	struct dvconn *d = dv->conn;
	struct dovecot_action act;
	struct cache_key key;
	enum dovecot_outcome outcome;
	const char *why = text;
	uint64_t now = timer_now(), delay = 0, left;
	unsigned i;

	front_dovecot_auth_wipe(ch);
	timer_cancel(&lp->timers, &ch->timer);
	key = dv_cache_key(dv);
	front_cache_done(&key, &dv->cache_state, dv->cache_tag, res, text);
	for (i = 0; i < DOVECOT_MAX_PENDING; i++)
		if (d->checks[i] == dv)
			d->checks[i] = NULL;
	d->nchecks--;
	if (text != NULL)
		outcome = DOVECOT_TEMPFAIL;
	else
		switch (res->result) {
		case AUTH_OK:
			outcome = DOVECOT_OK;
			break;
		case AUTH_FAIL:
			outcome = DOVECOT_FAIL;
			why = "PAM auth error";
			break;
		case AUTH_FAIL_ACCT:
			outcome = res->pam_rc == DV_PAM_NEW_AUTHTOK_REQD ||
				res->pam_rc == DV_PAM_ACCT_EXPIRED
			    ? DOVECOT_PASS_EXPIRED
			    : DOVECOT_FAIL;
			why = "PAM acct error";
			break;
		case AUTH_FAIL_START:
			outcome = DOVECOT_TEMPFAIL;
			why = "PAM start error";
			break;
		case AUTH_TEMPFAIL:
		case AUTH_RESULT_MAX:
		default:
			outcome = DOVECOT_TEMPFAIL;
			why = "PAM temporary failure";
			break;
		}
	if (outcome == DOVECOT_OK)
		st.ok++;
	else if (outcome == DOVECOT_TEMPFAIL)
		st.tempfail++;
	else
		st.failed++;
	dv_log(dv->user, dv->service, dv->rip,
	    outcome == DOVECOT_OK ? NULL : why, now - dv->t_start, d);
	if (text == NULL && res->reason[0] != '\0' && outcome != DOVECOT_OK)
		log_debug("PAM said: %s", res->reason);
	dovecot_result(&d->dc, dv->ticket, outcome, NULL, NULL, &act);
	/* Counted even when the client cancelled the request: the guess
	 * was made. */
	delay = front_throttle_result(
	    dv->user, strlen(dv->user), dv->rip, res, text);
	if (act.type == DOVECOT_ACT_REPLY && act.authfail && text == NULL) {
		/* The failure delay, within the answer budget. */
		left = dv->t_start + FRONT_DV_ANSWER_MS > now
		    ? dv->t_start + FRONT_DV_ANSWER_MS - now
		    : 0;
		if (delay > left)
			delay = left;
	} else {
		delay = 0;
		if (act.type == DOVECOT_ACT_NONE && act.reason != NULL)
			log_debug("dovecot client uid %ld pid %ld: result "
				  "dropped: %s",
			    (long)d->peer_uid, (long)d->peer_pid, act.reason);
	}
	dv_check_free(dv);
	if (dv_reply(d, &act, delay) == 0)
		dv_after(d);
}

void
front_dovecot_queue_timeout(struct check *ch)
{
	struct ipc_auth_res res;

	pool_cancel(ch);
	log_warnx("no PAM worker free within %llu ms",
	    (unsigned long long)(ch->deadline -
		((struct dv_check *)ch->owner)->t_start));
	memset(&res, 0, sizeof(res));
	res.result = AUTH_TEMPFAIL;
	front_dovecot_auth_done(ch, &res, "server busy");
}

void
front_dovecot_shutdown(void)
{
	struct dvconn *d, *td;

	TAILQ_FOREACH_SAFE(d, &dvconns, link, td) {
		d->closing = 1;
		dv_after(d);
	}
}

void
front_dovecot_stats(void)
{
	if (st.accepted == 0)
		return;
	log_info("dovecot: %u connections open, %lu accepted, %lu checks, "
		 "%lu OK, %lu failed, %lu temporary failures, %lu protocol "
		 "errors, %lu abandoned requests expired, %lu clients cut off",
	    ndvconns, st.accepted, st.requests, st.ok, st.failed, st.tempfail,
	    st.protocol, st.expired, st.cut_off);
}

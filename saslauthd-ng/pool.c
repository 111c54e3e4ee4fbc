/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pool.c - the front's side of the PAM worker pool (see pool.h): dispatch
 * to idle workers, a FIFO of waiting checks, a deadline per running check,
 * and asking the parent to kill a worker past it (the front cannot: the
 * workers run as root).
 *
 * A check whose worker dies before it says IPC_WORKER_STARTED never reached
 * PAM, and goes back to the head of the queue: once (SASLD_AUTH_RETRIES)
 * when the frame was delivered, every time when the send itself found the
 * worker gone (each such send removes a dead worker, so this ends). A check
 * that started is never tried again, so a PAM stack that crashes costs only
 * its own request and never sees a password twice.
 *
 * SECURITY: runs in the unprivileged front. Frames from workers are
 * checked against an allow-list; a worker that breaks the protocol is cut
 * off and killed. Auth frames carry the password and are wiped after send;
 * the connection's copy is wiped when the worker starts the check.
 */
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "pool.h"

enum worker_state {
	W_STARTING, /* waiting for its HELLO */
	W_IDLE,
	W_BUSY,
};

struct worker {
	struct evsrc ev;
	enum worker_state state;
	int retiring; /* close once idle (HUP, or it said IPC_F_LAST) */
	uint32_t id;
	pid_t pid;
	struct check *check; /* NULL when idle, or when the client left */
	uint32_t reqid;
	int started; /* it said IPC_WORKER_STARTED for this check */
	struct timer timer;
	uint64_t t_dispatch;
	TAILQ_ENTRY(worker) link;
};

TAILQ_HEAD(worker_list, worker);

static struct loop *lp;
static struct worker_list workers = TAILQ_HEAD_INITIALIZER(workers);
static TAILQ_HEAD(check_list, check) waitq = TAILQ_HEAD_INITIALIZER(waitq);
static unsigned nwaiting, nbusy, nworkers, spawns_pending;
static struct {
	unsigned long dispatched, timeouts, deaths, protocol_errors, retried;
} st;

/* What worker_fail() may do with a check the worker had not started. */
enum retry {
	RETRY_NO, /* answer it: the worker broke a rule or timed out */
	RETRY_ONCE, /* delivered, then the worker died: once */
	RETRY_FREE, /* never delivered: the worker was gone */
};

static const enum ipc_type worker_allow[] = {
    IPC_WORKER_HELLO, IPC_WORKER_STARTED, IPC_WORKER_RESULT};

static void pool_kick(void);

void
pool_init(struct loop *l)
{
	lp = l;
}

static void
worker_free(struct worker *w, int kill_it)
{
	uint8_t body[8];
	size_t n;

	if (kill_it) {
		n = ipc_encode_u32(body, sizeof(body), w->id);
		if (ipc_send(lp->ctlfd, IPC_FRONT_KILL, 0, 0, body, n, -1) ==
		    -1)
			log_warn("cannot ask the parent to kill worker %ld",
			    (long)w->pid);
	}
	timer_cancel(&lp->timers, &w->timer);
	(void)epoll_ctl(lp->epfd, EPOLL_CTL_DEL, w->ev.fd, NULL);
	(void)close(w->ev.fd);
	if (w->state == W_BUSY)
		nbusy--;
	TAILQ_REMOVE(&workers, w, link);
	nworkers--;
	front_forget(&w->ev);
	free(w);
}

/*
 * ch never reached PAM: put it back at the head of the queue, with its
 * first queue deadline. Returns 0, or -1 when RETRY_ONCE was used up.
 */
static int
requeue(struct check *ch, enum retry retry)
{
	if (retry == RETRY_NO ||
	    (retry == RETRY_ONCE && ch->retries >= SASLD_AUTH_RETRIES))
		return -1;
	if (retry == RETRY_ONCE)
		ch->retries++;
	ch->worker = NULL;
	ch->state = CHECK_QUEUED;
	TAILQ_INSERT_HEAD(&waitq, ch, qlink);
	nwaiting++;
	st.retried++;
	front_requeued(ch);
	return 0;
}

/*
 * The check on w did not complete: drop the worker and answer its client
 * with text; or, as retry allows, put a check the worker had not started
 * back in the queue. Callers outside pool_kick() kick the queue
 * afterwards; pool_kick() itself must not recurse while it walks the
 * worker list.
 */
static void
worker_fail(struct worker *w, const char *text, int kill_it, enum retry retry)
{
	struct check *ch = w->check;
	struct ipc_auth_res res;
	int unstarted = w->state == W_BUSY && !w->started;
	pid_t pid = w->pid;

	w->check = NULL;
	worker_free(w, kill_it);
	if (ch == NULL)
		return;
	ch->worker = NULL;
	if (unstarted && requeue(ch, retry) == 0) {
		log_info("PAM worker %ld is gone and had not started the "
			 "check: it goes to another worker",
		    (long)pid);
		return;
	}
	ch->state = CHECK_IDLE;
	memset(&res, 0, sizeof(res));
	res.result = AUTH_TEMPFAIL;
	front_auth_done(ch, &res, text);
}

static void
worker_deadline(struct timer *t)
{
	struct worker *w =
	    (struct worker *)((char *)t - offsetof(struct worker, timer));

	st.timeouts++;
	log_warnx("PAM worker %ld: no answer within %u ms, killing it",
	    (long)w->pid, lp->cfg->pam_timeout_ms);
	worker_fail(w, "PAM timeout", 1, RETRY_NO);
	pool_kick();
}

static void
dispatch(struct worker *w, struct check *ch)
{
	static uint32_t next_reqid;
	uint8_t body[IPC_MAX_FRAME];
	uint64_t deadline;
	size_t n;
	int r, gone;

	n = front_encode_auth(ch, body, sizeof(body));
	if (n == 0) {
		struct ipc_auth_res res;

		explicit_bzero(body, sizeof(body));
		memset(&res, 0, sizeof(res));
		res.result = AUTH_FAIL;
		ch->state = CHECK_IDLE;
		front_auth_done(ch, &res, "request too long");
		return;
	}
	ch->reqid = ++next_reqid;
	r = ipc_send(w->ev.fd, IPC_FRONT_AUTH, 0, ch->reqid, body, n, -1);
	explicit_bzero(body, n);
	w->check = ch;
	ch->worker = w;
	ch->state = CHECK_PAM;
	w->state = W_BUSY;
	w->started = 0;
	nbusy++;
	if (r == -1) {
		/* SEQPACKET: the frame went whole or not at all, so this
		 * worker never saw the password. */
		gone = errno == EPIPE || errno == ECONNRESET ||
		    errno == ENOTCONN || errno == ECONNREFUSED;
		log_warn("send to PAM worker %ld", (long)w->pid);
		worker_fail(w, "PAM worker unavailable", 1,
		    gone ? RETRY_FREE : RETRY_ONCE);
		return;
	}
	st.dispatched++;
	w->reqid = ch->reqid;
	w->t_dispatch = timer_now();
	deadline = w->t_dispatch + lp->cfg->pam_timeout_ms;
	if (ch->pam_deadline != 0 && ch->pam_deadline < deadline)
		deadline = ch->pam_deadline;
	if (timer_set(&lp->timers, &w->timer, deadline, worker_deadline) == -1)
		fatal("timer");
}

/* Match waiting checks with idle workers; ask for workers with -n 0. */
static void
pool_kick(void)
{
	struct worker *w, *tw;
	struct check *ch;
	unsigned idle = 0, starting = 0, want;

	TAILQ_FOREACH_SAFE(w, &workers, link, tw) {
		if (w->state == W_STARTING) {
			starting++;
			continue;
		}
		if (w->state != W_IDLE)
			continue;
		if (w->retiring) {
			worker_free(w, 0);
			continue;
		}
		if ((ch = TAILQ_FIRST(&waitq)) == NULL) {
			idle++;
			continue;
		}
		TAILQ_REMOVE(&waitq, ch, qlink);
		nwaiting--;
		timer_cancel(&lp->timers, &ch->timer);
		dispatch(w, ch);
	}
	if (lp->cfg->nworkers != 0 || nwaiting <= idle + starting)
		return;
	/* -n 0: one fresh worker per waiting check, within the limit. */
	want = nwaiting - idle - starting;
	while (want > 0 && spawns_pending < want &&
	    nworkers + spawns_pending < (unsigned)lp->cfg->fork_limit) {
		if (ipc_send(lp->ctlfd, IPC_FRONT_SPAWN, 0, 0, NULL, 0, -1) ==
		    -1) {
			log_warn("cannot ask the parent for a worker");
			break;
		}
		spawns_pending++;
	}
}

void
pool_add(const struct ipc_worker *iw, int fd)
{
	struct worker *w;
	struct epoll_event ee;

	if (spawns_pending > 0)
		spawns_pending--;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		log_warn("calloc");
		(void)close(fd);
		return;
	}
	w->ev.kind = EV_WORKER;
	w->ev.fd = fd;
	w->id = iw->id;
	w->pid = iw->pid;
	w->state = W_STARTING;
	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLIN;
	ee.data.ptr = &w->ev;
	if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, fd, &ee) == -1)
		fatal("epoll_ctl worker");
	TAILQ_INSERT_TAIL(&workers, w, link);
	nworkers++;
	log_debug("PAM worker %ld (id %u) attached", (long)w->pid, w->id);
}

static void
worker_result(struct worker *w, const struct ipc_msg *m)
{
	struct ipc_auth_res res;
	struct check *ch;

	if (w->state != W_BUSY || !w->started || m->id != w->reqid ||
	    ipc_decode_result(m->body, m->bodylen, &res) == -1) {
		st.protocol_errors++;
		log_warnx("PAM worker %ld: unexpected or malformed result",
		    (long)w->pid);
		worker_fail(w, "PAM worker error", 1, RETRY_NO);
		pool_kick();
		return;
	}
	timer_cancel(&lp->timers, &w->timer);
	ch = w->check;
	w->check = NULL;
	w->state = W_IDLE;
	nbusy--;
	if (m->flags & IPC_F_LAST)
		w->retiring = 1;
	if (ch != NULL) {
		ch->worker = NULL;
		ch->state = CHECK_IDLE;
		front_auth_done(ch, &res, NULL);
	}
	pool_kick();
}

void
pool_event(struct evsrc *ev, uint32_t events)
{
	struct worker *w = (struct worker *)ev;
	uint8_t buf[IPC_MAX_FRAME], up[8];
	struct ipc_msg m;
	uint32_t version = 0;
	size_t n;
	int r;

	r = ipc_recv(ev->fd, buf, sizeof(buf), &m);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		/* EOF or error: the worker exited (recycled, crashed or
		 * killed); the parent reaps and replaces it. */
		if (w->state == W_BUSY && w->started) {
			st.deaths++;
			log_warnx(
			    "PAM worker %ld died during a check", (long)w->pid);
		}
		worker_fail(w, "PAM worker died", 0, RETRY_ONCE);
		pool_kick();
		return;
	}
	if (m.fd != -1)
		(void)close(m.fd);
	if (!ipc_allowed(m.type, worker_allow,
		sizeof(worker_allow) / sizeof(worker_allow[0]))) {
		st.protocol_errors++;
		log_warnx("PAM worker %ld sent %s, not allowed", (long)w->pid,
		    ipc_type_name(m.type));
		worker_fail(w, "PAM worker error", 1, RETRY_NO);
		pool_kick();
		return;
	}
	if (m.type == IPC_WORKER_STARTED) {
		if (w->state != W_BUSY || w->started || m.id != w->reqid ||
		    m.bodylen != 0) {
			st.protocol_errors++;
			log_warnx("PAM worker %ld: unexpected %s", (long)w->pid,
			    ipc_type_name(m.type));
			worker_fail(w, "PAM worker error", 1, RETRY_NO);
			pool_kick();
			return;
		}
		/* From here on the check is PAM's: never tried again. */
		w->started = 1;
		if (w->check != NULL)
			front_auth_wipe(w->check);
		return;
	}
	if (m.type == IPC_WORKER_HELLO) {
		if (w->state != W_STARTING ||
		    ipc_decode_u32(m.body, m.bodylen, &version) == -1 ||
		    version != IPC_VERSION) {
			log_warnx("PAM worker %ld: bad hello (version %u, "
				  "want %u)",
			    (long)w->pid, version, IPC_VERSION);
			worker_fail(w, "PAM worker error", 1, RETRY_NO);
			return;
		}
		w->state = W_IDLE;
		/* Up: from now on its death is a check's, and the parent
		 * replaces it without the start-up backoff. */
		n = ipc_encode_u32(up, sizeof(up), w->id);
		if (ipc_send(lp->ctlfd, IPC_FRONT_WORKER_UP, 0, 0, up, n, -1) ==
		    -1)
			log_warn("cannot report PAM worker %ld", (long)w->pid);
		pool_kick();
		return;
	}
	worker_result(w, &m);
}

void
pool_submit(struct check *ch)
{
	ch->state = CHECK_QUEUED;
	ch->worker = NULL;
	ch->retries = 0;
	TAILQ_INSERT_TAIL(&waitq, ch, qlink);
	nwaiting++;
	pool_kick();
}

void
pool_cancel(struct check *ch)
{
	if (ch->state == CHECK_QUEUED) {
		TAILQ_REMOVE(&waitq, ch, qlink);
		nwaiting--;
	} else if (ch->worker != NULL) {
		/* Let the check finish; its answer goes nowhere. */
		ch->worker->check = NULL;
		ch->worker = NULL;
	}
	ch->state = CHECK_IDLE;
	timer_cancel(&lp->timers, &ch->timer);
}

void
pool_recycle(void)
{
	struct worker *w, *tw;

	TAILQ_FOREACH_SAFE(w, &workers, link, tw) {
		w->retiring = 1;
		if (w->state != W_BUSY)
			worker_free(w, 0);
	}
	log_info("recycling PAM workers");
}

unsigned
pool_pending(void)
{
	return nwaiting + nbusy;
}

void
pool_stats(void)
{
	log_info("pool: %u workers (%u busy), %u waiting, %lu dispatched, "
		 "%lu timeouts, %lu died in a check, %lu protocol errors, %lu "
		 "retried (worker gone before the check started)",
	    nworkers, nbusy, nwaiting, st.dispatched, st.timeouts, st.deaths,
	    st.protocol_errors, st.retried);
}

void
pool_shutdown(void)
{
	struct worker *w, *tw;

	TAILQ_FOREACH_SAFE(w, &workers, link, tw)
		worker_free(w, 0);
}

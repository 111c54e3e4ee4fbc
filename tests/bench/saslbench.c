/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * saslbench.c - the benchmark's load generator and its "floor" server.
 *
 *   saslbench -f SOCKET [-c CLIENTS] [-d MS | -n COUNT] [-t MS]
 *             [-w PERCENT -W LOGIN:PASSWORD] [-A MAX] [-R RATE]
 *             LOGIN PASSWORD SERVICE REALM
 *       CLIENTS threads (default 8), each sending one request per fresh
 *       connection, as libsasl2 does, one after the other, for MS
 *       milliseconds (default 5000) or until COUNT requests were sent in
 *       all. -t is one request's timeout from connect to reply (default
 *       10000). With -w, PERCENT of the requests (spread evenly) use the
 *       second login and password (e.g. a wrong password), the rest the
 *       first.
 *       -A MAX: the second credentials' requests are asynchronous: the
 *       client connects, sends, hands the connection to a collector
 *       thread (epoll) that waits for the reply (up to -t) and goes on at
 *       once, as if another SMTP session had sent it; at most MAX such
 *       requests are outstanding (1..512), and a client that finds MAX
 *       waits (counted as "held").
 *       -R RATE: open loop: the clients together send RATE requests/s on
 *       a fixed schedule whatever the answers, every one asynchronous
 *       (-A MAX, default 64).
 *       After the -d window the collector waits for the outstanding
 *       replies. Prints a human summary and one machine-readable line:
 *         bench clients=.. elapsed_ms=.. requests=.. ok=.. no=.. eof=..
 *           timeout=.. error=.. rate=.. p50_ms=.. p90_ms=.. p99_ms=..
 *           max_ms=.. sent_rate=.. async_max=.. async_peak=.. held=..
 *           held_ms=.. a_n=.. a_ok=.. a_no=.. a_timeout=.. a_other=..
 *           a_rate=.. a_p50_ms=.. a_p99_ms=.. a_max_ms=.. b_n=.. (b_*
 *           as a_*)
 *       rate is answered checks (OK + NO) per second (with -d, those
 *       answered within the MS window, over MS); sent_rate the requests
 *       sent per second; a_* are the first credentials', b_* the
 *       second's (-w); latencies (from connect to reply) cover every
 *       request, answered or not; a_other/b_other count eof and error.
 *   saslbench -E SOCKET [-c THREADS]
 *       the floor: a bare UNIX-socket server with the same framing that
 *       answers every complete request "OK" at once and closes, with
 *       THREADS (default 2) accept loops, until SIGTERM or SIGINT.
 * Exit: 0, or 1 on a usage or set-up error.
 *
 * SECURITY: benchmark code; never installed. The passwords are on the
 * command line: throw-away test accounts only.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto_saslauthd.h"

#define BENCH_MAX_CLIENTS 256
#define BENCH_REQ_MAX (4 * (2 + SASLD_DEFAULT_MAX_FIELD))
#define BENCH_RETRY_US 1000 /* after a failed connect, not a busy loop */
#define BENCH_ECHO_READ_MS 5000 /* the floor server's read timeout */
/* -A: outstanding asynchronous requests, each an open fd; the limit keeps
 * them under the default 1024 open files. */
#define BENCH_ASYNC_DEFAULT 64
#define BENCH_ASYNC_LIMIT 512
#define BENCH_RATE_LIMIT 1000000 /* -R: a schedule step of at least 1 us */
#define BENCH_EPOLL_BATCH 64
/* The collector's wake-up: how late a -t timeout may be seen, and how
 * often a held client looks at the -d deadline. */
#define BENCH_TICK_MS 10

enum outcome { OUT_OK, OUT_NO, OUT_EOF, OUT_TIMEOUT, OUT_ERROR, OUT_N };

struct lat {
	uint32_t *us; /* latencies in microseconds */
	size_t n, cap;
};

/* One thread's outcomes, per credentials: [0] first, [1] second (-w). */
struct stats {
	long counts[2][OUT_N];
	long in_window[2]; /* answered (OK/NO) within the -d window */
	struct lat lat[2];
	int failed; /* out of memory */
};

struct client {
	pthread_t tid;
	int index;
	struct stats st; /* requests that failed before the hand-over too */
	long held; /* times the -A bound made this client wait */
	int64_t held_us;
};

/* An asynchronous request: sent by a client, answered to the collector. */
enum slot_state { SLOT_FREE, SLOT_RESERVED, SLOT_ACTIVE };

struct slot {
	enum slot_state state;
	int fd, alt;
	int64_t t_us, deadline_us;
	size_t got;
	unsigned char buf[2 + SASLD_MAX_REPLY];
};

/* The collector: one thread with an epoll set of the -A requests. */
struct async {
	pthread_mutex_t mu;
	pthread_cond_t freed; /* a slot went back to SLOT_FREE */
	struct slot *slot;
	long used, peak; /* slots not SLOT_FREE; their most at once */
	int epfd, done;
	struct stats st;
	pthread_t tid;
};

struct bench {
	struct sockaddr_un sun;
	unsigned char req[2][BENCH_REQ_MAX];
	size_t reqlen[2];
	long clients, duration_ms, count, timeout_ms, percent;
	long async_max; /* 0: every request synchronous */
	long rate; /* -R: open loop, requests/s in all; 0: closed loop */
	int64_t t0_us;
	atomic_long issued;
	struct async as;
};

static struct bench B;

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long
num(const char *s)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0) {
		fprintf(stderr, "saslbench: bad number '%s'\n", s);
		exit(1);
	}
	return v;
}

static int
lat_add(struct lat *l, int64_t us)
{
	uint32_t *p;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		p = realloc(l->us, l->cap * sizeof(*p));
		if (p == NULL)
			return -1;
		l->us = p;
	}
	l->us[l->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	return 0;
}

/* Has the run ended (-d window over, or -n requests all issued)? With -n
 * this takes one of the COUNT requests: call it once per request. */
static int
run_over(void)
{
	if (B.count > 0)
		return atomic_fetch_add(&B.issued, 1) >= B.count;
	return now_us() - B.t0_us >= B.duration_ms * 1000;
}

/* Record one finished request of credentials alt started at t_us. */
static void
stats_add(struct stats *st, int alt, enum outcome o, int64_t t_us)
{
	int64_t now = now_us();

	if (lat_add(&st->lat[alt], now - t_us) == -1)
		st->failed = 1;
	st->counts[alt][o]++;
	if ((o == OUT_OK || o == OUT_NO) &&
	    (B.count > 0 || now - B.t0_us <= B.duration_ms * 1000))
		st->in_window[alt]++;
}

/* Read n bytes before deadline (us): 1, 0 on EOF or error, -1 timeout. */
static int
read_full(int fd, unsigned char *p, size_t n, int64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t got = 0;
	int64_t left;
	ssize_t r;

	while (got < n) {
		left = deadline - now_us();
		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, (int)((left + 999) / 1000)) <= 0)
			continue;
		r = read(fd, p + got, n - got);
		if (r == 0)
			return 0;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		got += (size_t)r;
	}
	return 1;
}

/* Connect and send req: OUT_OK with *fdp open, or the failure. */
static enum outcome
send_request(const unsigned char *req, size_t n, int *fdp)
{
	struct timeval tv = {.tv_sec = B.timeout_ms / 1000,
	    .tv_usec = (B.timeout_ms % 1000) * 1000};
	int fd, e;

	*fdp = -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return OUT_ERROR;
	/* Bounds a connect to a full backlog, and the send. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)&B.sun, sizeof(B.sun)) == -1) {
		e = errno;
		(void)close(fd);
		return e == EAGAIN || e == EINPROGRESS ? OUT_TIMEOUT
						       : OUT_ERROR;
	}
	if (send(fd, req, n, MSG_NOSIGNAL) != (ssize_t)n) {
		(void)close(fd);
		return OUT_ERROR;
	}
	*fdp = fd;
	return OUT_OK;
}

/* The reply's frame length from its 2-byte header, or 0 when no
 * saslauthd would send it. */
static size_t
reply_len(const unsigned char hdr[2])
{
	size_t flen = ((size_t)hdr[0] << 8) | hdr[1];

	return flen < 2 || flen > SASLD_MAX_REPLY ? 0 : flen;
}

/* One request on a fresh connection, waiting for its reply. */
static enum outcome
one_request(const unsigned char *req, size_t n)
{
	unsigned char hdr[2] = {0, 0}, text[SASLD_MAX_REPLY];
	int64_t deadline = now_us() + B.timeout_ms * 1000;
	enum outcome o;
	size_t flen;
	int fd, r;

	o = send_request(req, n, &fd);
	if (o != OUT_OK)
		return o;
	r = read_full(fd, hdr, 2, deadline);
	flen = reply_len(hdr);
	if (r == 1 && flen == 0)
		r = 0; /* not a reply a saslauthd sends */
	if (r == 1)
		r = read_full(fd, text, flen, deadline);
	(void)close(fd);
	if (r == -1)
		return OUT_TIMEOUT;
	if (r == 0)
		return OUT_EOF;
	return proto_reply_is_ok(text, flen) ? OUT_OK : OUT_NO;
}

/* Collector side, under B.as.mu: record s's outcome, free it. */
static void
slot_finish(struct slot *s, enum outcome o)
{
	stats_add(&B.as.st, s->alt, o, s->t_us);
	(void)close(s->fd); /* also takes it out of the epoll set */
	s->fd = -1;
	s->state = SLOT_FREE;
	B.as.used--;
	(void)pthread_cond_signal(&B.as.freed);
}

/* Collector side, under B.as.mu: s is readable. */
static void
slot_read(struct slot *s)
{
	size_t want, flen = 0;
	ssize_t r;

	for (;;) {
		want = 2;
		if (s->got >= 2) {
			flen = reply_len(s->buf);
			if (flen == 0) {
				slot_finish(s, OUT_EOF);
				return;
			}
			want = 2 + flen;
		}
		if (s->got == want) {
			slot_finish(s,
			    proto_reply_is_ok(s->buf + 2, flen) ? OUT_OK
								: OUT_NO);
			return;
		}
		r = recv(s->fd, s->buf + s->got, want - s->got, MSG_DONTWAIT);
		if (r > 0) {
			s->got += (size_t)r;
			continue;
		}
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		slot_finish(s, OUT_EOF);
		return;
	}
}

static void *
collector_main(void *arg)
{
	struct epoll_event ev[BENCH_EPOLL_BATCH];
	int64_t now;
	long i;
	int n, j, over;

	(void)arg;
	do {
		n = epoll_wait(B.as.epfd, ev, BENCH_EPOLL_BATCH, BENCH_TICK_MS);
		(void)pthread_mutex_lock(&B.as.mu);
		/* A slot is ACTIVE once its fd is in the set (the client
		 * does both under the lock) and only this thread frees it,
		 * so every event of this batch is for a live slot. */
		for (j = 0; j < n; j++)
			slot_read(ev[j].data.ptr);
		now = now_us();
		for (i = 0; i < B.async_max; i++)
			if (B.as.slot[i].state == SLOT_ACTIVE &&
			    B.as.slot[i].deadline_us <= now)
				slot_finish(&B.as.slot[i], OUT_TIMEOUT);
		over = B.as.done && B.as.used == 0;
		(void)pthread_mutex_unlock(&B.as.mu);
	} while (!over);
	return NULL;
}

/* Client side: wait for a free slot (the -A bound) and reserve it; NULL
 * when the -d window closed while waiting. */
static struct slot *
async_reserve(struct client *c)
{
	struct timespec ts;
	int64_t t = 0, end = B.t0_us + B.duration_ms * 1000;
	struct slot *s = NULL;
	long i;

	(void)pthread_mutex_lock(&B.as.mu);
	if (B.as.used == B.async_max) {
		c->held++;
		t = now_us();
	}
	while (B.as.used == B.async_max) {
		if (B.count == 0 && now_us() >= end)
			goto out;
		/* The cond's clock is CLOCK_MONOTONIC, as now_us(). */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += BENCH_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&B.as.freed, &B.as.mu, &ts);
	}
	for (i = 0; i < B.async_max; i++)
		if (B.as.slot[i].state == SLOT_FREE)
			break;
	s = &B.as.slot[i]; /* used < async_max: there is one */
	s->state = SLOT_RESERVED;
	B.as.used++;
	if (B.as.used > B.as.peak)
		B.as.peak = B.as.used;
out:
	if (t != 0)
		c->held_us += now_us() - t;
	(void)pthread_mutex_unlock(&B.as.mu);
	return s;
}

/* Client side: send one request of credentials alt and hand its
 * connection to the collector; -1 when the run is over. */
static int
async_request(struct client *c, int alt)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct slot *s;
	enum outcome o;
	int64_t t;
	int fd, e = 0;

	s = async_reserve(c);
	if (s == NULL)
		return -1;
	t = now_us();
	o = send_request(B.req[alt], B.reqlen[alt], &fd);
	(void)pthread_mutex_lock(&B.as.mu);
	if (o == OUT_OK) {
		s->fd = fd;
		s->alt = alt;
		s->t_us = t;
		s->deadline_us = t + B.timeout_ms * 1000;
		s->got = 0;
		ev.data.ptr = s;
		if (epoll_ctl(B.as.epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			e = errno;
			(void)close(fd);
			o = OUT_ERROR;
		}
	}
	if (o == OUT_OK) {
		s->state = SLOT_ACTIVE;
	} else {
		s->fd = -1;
		s->state = SLOT_FREE;
		B.as.used--;
		(void)pthread_cond_signal(&B.as.freed);
	}
	(void)pthread_mutex_unlock(&B.as.mu);
	if (e != 0) {
		fprintf(stderr, "saslbench: epoll_ctl: %s\n", strerror(e));
		exit(1);
	}
	if (o != OUT_OK) {
		stats_add(&c->st, alt, o, t);
		if (o == OUT_ERROR)
			usleep(BENCH_RETRY_US);
	}
	return 0;
}

/* Is request k of a client one of the -w PERCENT (spread evenly)? */
static int
is_alt(long k)
{
	return B.percent > 0 &&
	    ((k + 1) * B.percent) / 100 != (k * B.percent) / 100;
}

/* Closed loop: each request waits for its reply, but with -A the -w
 * ones are handed to the collector and the client goes on at once. */
static void *
client_main(void *arg)
{
	struct client *c = arg;
	/* Each client starts at another point of the -w pattern. */
	long k = c->index * 7L;
	enum outcome o;
	int64_t t;
	int alt;

	while (!run_over() && !c->st.failed) {
		alt = is_alt(k++);
		if (alt && B.async_max > 0) {
			if (async_request(c, alt) == -1)
				break;
			continue;
		}
		t = now_us();
		o = one_request(B.req[alt], B.reqlen[alt]);
		stats_add(&c->st, alt, o, t);
		if (o == OUT_ERROR)
			usleep(BENCH_RETRY_US);
	}
	return NULL;
}

/* Open loop (-R): requests leave on a fixed schedule, whatever the
 * answers, all through the collector; only the -A bound holds them. */
static void *
client_open_main(void *arg)
{
	struct client *c = arg;
	long k = c->index * 7L;
	/* The clients take turns: together RATE requests/s. */
	int64_t step = (int64_t)B.clients * 1000000 / B.rate;
	int64_t next = B.t0_us + (int64_t)c->index * 1000000 / B.rate, now;

	for (;;) {
		now = now_us();
		if (next > now)
			usleep((useconds_t)(next - now));
		if (run_over() || c->st.failed)
			break;
		if (async_request(c, is_alt(k++)) == -1)
			break;
		next += step;
		/* Held by the bound: carry on from now, no burst after. */
		if (next < now_us() - step)
			next = now_us();
	}
	return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The q-th quantile (nearest rank) of sorted l, in ms. */
static double
quantile_ms(const struct lat *l, double q)
{
	size_t i;

	if (l->n == 0)
		return 0.0;
	i = (size_t)(q * (double)l->n + 0.999999);
	if (i < 1)
		i = 1;
	if (i > l->n)
		i = l->n;
	return l->us[i - 1] / 1000.0;
}

/* Merge the latencies of credentials a (both when a < 0) of n stats. */
static int
merge(struct stats **st, long n, int a, struct lat *out)
{
	long i;
	int j;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++)
		for (j = 0; j < 2; j++)
			if (a < 0 || j == a)
				out->cap += st[i]->lat[j].n;
	out->us = malloc((out->cap ? out->cap : 1) * sizeof(uint32_t));
	if (out->us == NULL)
		return -1;
	for (i = 0; i < n; i++)
		for (j = 0; j < 2; j++) {
			if (a >= 0 && j != a)
				continue;
			memcpy(out->us + out->n, st[i]->lat[j].us,
			    st[i]->lat[j].n * sizeof(uint32_t));
			out->n += st[i]->lat[j].n;
		}
	qsort(out->us, out->n, sizeof(uint32_t), cmp_u32);
	return 0;
}

static int
async_start(void)
{
	pthread_condattr_t ca;
	long i;

	B.as.slot = calloc((size_t)B.async_max, sizeof(*B.as.slot));
	B.as.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (B.as.slot == NULL || B.as.epfd == -1)
		return -1;
	for (i = 0; i < B.async_max; i++)
		B.as.slot[i].fd = -1;
	if (pthread_mutex_init(&B.as.mu, NULL) != 0 ||
	    pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&B.as.freed, &ca) != 0)
		return -1;
	return pthread_create(&B.as.tid, NULL, collector_main, NULL) == 0 ? 0
									  : -1;
}

/* One credentials' summary: "x_n=.. x_ok=.. ..." (x is a or b). */
static void
print_cred(char x, struct stats **st, long n, int alt, const struct lat *l,
    double window_s)
{
	long c[OUT_N] = {0}, w = 0, i;
	int j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < OUT_N; j++)
			c[j] += st[i]->counts[alt][j];
		w += st[i]->in_window[alt];
	}
	printf(" %c_n=%zu %c_ok=%ld %c_no=%ld %c_timeout=%ld %c_other=%ld "
	       "%c_rate=%.1f %c_p50_ms=%.2f %c_p99_ms=%.2f %c_max_ms=%.2f",
	    x, l->n, x, c[OUT_OK], x, c[OUT_NO], x, c[OUT_TIMEOUT], x,
	    c[OUT_EOF] + c[OUT_ERROR], x, (double)w / window_s, x,
	    quantile_ms(l, 0.5), x, quantile_ms(l, 0.99), x,
	    quantile_ms(l, 1.0));
}

static int
run_load(void)
{
	static struct client cl[BENCH_MAX_CLIENTS];
	static struct stats *st[BENCH_MAX_CLIENTS + 1];
	long i, n, sum[OUT_N] = {0}, elapsed_us, in_window = 0, held = 0;
	int64_t held_us = 0;
	struct lat all, a, b;
	double window_s, rate;
	int j, o, bad = 0;

	B.t0_us = now_us();
	if (B.async_max > 0 && async_start() == -1) {
		fprintf(stderr, "saslbench: cannot start the collector\n");
		exit(1);
	}
	for (i = 0; i < B.clients; i++) {
		cl[i].index = (int)i;
		if (pthread_create(&cl[i].tid, NULL,
			B.rate > 0 ? client_open_main : client_main,
			&cl[i]) != 0) {
			fprintf(stderr, "saslbench: pthread_create failed\n");
			exit(1);
		}
	}
	for (i = 0; i < B.clients; i++) {
		(void)pthread_join(cl[i].tid, NULL);
		held += cl[i].held;
		held_us += cl[i].held_us;
		st[i] = &cl[i].st;
	}
	n = B.clients;
	if (B.async_max > 0) {
		/* The clients are done: the collector waits for the replies
		 * still outstanding (each until its own -t) and ends. */
		(void)pthread_mutex_lock(&B.as.mu);
		B.as.done = 1;
		(void)pthread_mutex_unlock(&B.as.mu);
		(void)pthread_join(B.as.tid, NULL);
		st[n++] = &B.as.st;
	}
	elapsed_us = (long)(now_us() - B.t0_us);
	for (i = 0; i < n; i++) {
		bad |= st[i]->failed;
		for (j = 0; j < 2; j++) {
			in_window += st[i]->in_window[j];
			for (o = 0; o < OUT_N; o++)
				sum[o] += st[i]->counts[j][o];
		}
	}
	if (bad || merge(st, n, -1, &all) == -1 || merge(st, n, 0, &a) == -1 ||
	    merge(st, n, 1, &b) == -1) {
		fprintf(stderr, "saslbench: out of memory\n");
		return 1;
	}
	/* With -d, answers that came after the deadline (a request still
	 * waiting out a failure delay) are not counted: rate is what the
	 * window held, not diluted by the drain. */
	window_s = B.count > 0
	    ? (double)(elapsed_us > 0 ? elapsed_us : 1) / 1e6
	    : (double)(B.duration_ms > 0 ? B.duration_ms : 1) / 1e3;
	rate = (double)in_window / window_s;
	printf("%ld clients, %.2f s: %zu requests, %ld OK, %ld NO, %ld eof, "
	       "%ld timeout, %ld error\n"
	       "%.0f checks/s; latency ms p50 %.2f p90 %.2f p99 %.2f max "
	       "%.2f\n",
	    B.clients, elapsed_us / 1e6, all.n, sum[OUT_OK], sum[OUT_NO],
	    sum[OUT_EOF], sum[OUT_TIMEOUT], sum[OUT_ERROR], rate,
	    quantile_ms(&all, 0.5), quantile_ms(&all, 0.9),
	    quantile_ms(&all, 0.99), quantile_ms(&all, 1.0));
	if (B.percent > 0)
		printf("first credentials: %zu, p50 %.2f p99 %.2f ms; second: "
		       "%zu, p50 %.2f p99 %.2f ms\n",
		    a.n, quantile_ms(&a, 0.5), quantile_ms(&a, 0.99), b.n,
		    quantile_ms(&b, 0.5), quantile_ms(&b, 0.99));
	if (B.async_max > 0)
		printf("async: at most %ld outstanding (bound %ld); clients "
		       "held by the bound %ld times, %.2f s in all; %.1f "
		       "requests sent/s\n",
		    B.as.peak, B.async_max, held, held_us / 1e6,
		    (double)all.n / window_s);
	printf("bench clients=%ld elapsed_ms=%ld requests=%zu ok=%ld no=%ld "
	       "eof=%ld timeout=%ld error=%ld rate=%.0f p50_ms=%.2f "
	       "p90_ms=%.2f p99_ms=%.2f max_ms=%.2f sent_rate=%.1f "
	       "async_max=%ld async_peak=%ld held=%ld held_ms=%ld",
	    B.clients, elapsed_us / 1000, all.n, sum[OUT_OK], sum[OUT_NO],
	    sum[OUT_EOF], sum[OUT_TIMEOUT], sum[OUT_ERROR], rate,
	    quantile_ms(&all, 0.5), quantile_ms(&all, 0.9),
	    quantile_ms(&all, 0.99), quantile_ms(&all, 1.0),
	    (double)all.n / window_s, B.async_max, B.as.peak, held,
	    (long)(held_us / 1000));
	print_cred('a', st, n, 0, &a, window_s);
	print_cred('b', st, n, 1, &b, window_s);
	printf("\n");
	return 0;
}

/* The floor: read one complete request, answer "OK", close. */
static void
echo_one(int fd)
{
	unsigned char buf[BENCH_REQ_MAX + PROTO_NFIELDS * 2 + 2];
	unsigned char out[8];
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct proto_request req;
	enum proto_status st = PROTO_INCOMPLETE;
	size_t got = 0, n;
	ssize_t r;

	while (st == PROTO_INCOMPLETE && got < sizeof(buf)) {
		r = read(fd, buf + got, sizeof(buf) - got);
		if (r == -1 && errno == EAGAIN) {
			if (poll(&pfd, 1, BENCH_ECHO_READ_MS) <= 0)
				return;
			continue;
		}
		if (r <= 0)
			return;
		got += (size_t)r;
		st = proto_decode_request(
		    buf, got, SASLD_DEFAULT_MAX_FIELD, &req);
	}
	if (st != PROTO_COMPLETE)
		return;
	n = proto_encode_reply(out, sizeof(out), "OK");
	(void)send(fd, out, n, MSG_NOSIGNAL);
}

static void *
echo_main(void *arg)
{
	int lfd = *(int *)arg, fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE || errno == ENFILE)
				continue;
			perror("saslbench: accept");
			exit(1);
		}
		echo_one(fd);
		(void)close(fd);
	}
	return NULL;
}

static int
run_echo(void)
{
	static pthread_t tid[BENCH_MAX_CLIENTS];
	static int lfd;
	sigset_t set;
	long i;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	(void)pthread_sigmask(SIG_BLOCK, &set, NULL);
	(void)unlink(B.sun.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd == -1 ||
	    bind(lfd, (const struct sockaddr *)&B.sun, sizeof(B.sun)) == -1 ||
	    chmod(B.sun.sun_path, 0666) == -1 || listen(lfd, SOMAXCONN) == -1) {
		perror("saslbench: listen");
		return 1;
	}
	for (i = 0; i < B.clients; i++)
		if (pthread_create(&tid[i], NULL, echo_main, &lfd) != 0) {
			fprintf(stderr, "saslbench: pthread_create failed\n");
			return 1;
		}
	printf("echo ready on %s\n", B.sun.sun_path);
	(void)fflush(stdout);
	while (sigwait(&set, &sig) != 0)
		;
	(void)unlink(B.sun.sun_path);
	return 0;
}

static int
set_request(int which, const char *login, const char *pass, const char *service,
    const char *realm)
{
	const char *f[4] = {login, pass, service, realm};
	size_t lens[4];
	int i;

	for (i = 0; i < 4; i++) {
		lens[i] = strlen(f[i]);
		if (lens[i] > SASLD_DEFAULT_MAX_FIELD)
			return -1;
	}
	B.reqlen[which] = proto_encode_request(
	    B.req[which], sizeof(B.req[which]), f, lens, 4);
	return B.reqlen[which] == 0 ? -1 : 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: saslbench -f SOCKET [-c CLIENTS] [-d MS | -n COUNT] "
	    "[-t MS]\n"
	    "                 [-w PERCENT -W LOGIN:PASSWORD] [-A MAX] "
	    "[-R RATE]\n"
	    "                 LOGIN PASSWORD SERVICE REALM\n"
	    "       saslbench -E SOCKET [-c THREADS]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	static char alt[2 * SASLD_DEFAULT_MAX_FIELD + 2];
	const char *sock = NULL, *altarg = NULL;
	char *colon;
	int c, echo = 0, cset = 0, aset = 0;

	B.clients = 8;
	B.duration_ms = 5000;
	B.timeout_ms = 10000;
	while ((c = getopt(argc, argv, "f:E:c:d:n:t:w:W:A:R:")) != -1) {
		switch (c) {
		case 'E':
			echo = 1;
			/* FALLTHROUGH */
		case 'f':
			sock = optarg;
			break;
		case 'c':
			B.clients = num(optarg);
			cset = 1;
			break;
		case 'd':
			B.duration_ms = num(optarg);
			break;
		case 'n':
			B.count = num(optarg);
			break;
		case 't':
			B.timeout_ms = num(optarg);
			break;
		case 'w':
			B.percent = num(optarg);
			break;
		case 'W':
			altarg = optarg;
			break;
		case 'A':
			B.async_max = num(optarg);
			aset = 1;
			break;
		case 'R':
			B.rate = num(optarg);
			break;
		default:
			usage();
		}
	}
	if (sock == NULL || strlen(sock) >= sizeof(B.sun.sun_path) ||
	    B.clients < 1 || B.clients > BENCH_MAX_CLIENTS || B.percent > 100 ||
	    B.timeout_ms < 1 || B.timeout_ms > INT_MAX ||
	    (B.percent > 0) != (altarg != NULL))
		usage();
	if (B.rate > 0 && !aset)
		B.async_max = BENCH_ASYNC_DEFAULT;
	if (aset && (B.async_max < 1 || B.async_max > BENCH_ASYNC_LIMIT)) {
		fprintf(
		    stderr, "saslbench: -A wants 1..%d\n", BENCH_ASYNC_LIMIT);
		return 1;
	}
	if (aset && B.percent == 0 && B.rate == 0) {
		fprintf(stderr, "saslbench: -A needs -w or -R\n");
		return 1;
	}
	if (B.rate > BENCH_RATE_LIMIT) {
		fprintf(
		    stderr, "saslbench: -R wants 1..%d\n", BENCH_RATE_LIMIT);
		return 1;
	}
	B.sun.sun_family = AF_UNIX;
	memcpy(B.sun.sun_path, sock, strlen(sock) + 1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (echo) {
		if (!cset)
			B.clients = 2;
		return optind == argc ? run_echo() : (usage(), 1);
	}
	if (argc - optind != 4)
		usage();
	if (set_request(0, argv[optind], argv[optind + 1], argv[optind + 2],
		argv[optind + 3]) == -1) {
		fprintf(stderr, "saslbench: a field is too long\n");
		return 1;
	}
	if (altarg != NULL) {
		if (strlen(altarg) >= sizeof(alt) ||
		    (colon = strchr(altarg, ':')) == NULL) {
			fprintf(stderr, "saslbench: -W wants LOGIN:PASSWORD\n");
			return 1;
		}
		memcpy(alt, altarg, strlen(altarg) + 1);
		alt[colon - altarg] = '\0';
		if (set_request(1, alt, alt + (colon - altarg) + 1,
			argv[optind + 2], argv[optind + 3]) == -1) {
			fprintf(stderr, "saslbench: a field is too long\n");
			return 1;
		}
	}
	return run_load();
}

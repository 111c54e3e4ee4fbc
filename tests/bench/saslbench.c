/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * saslbench.c - the benchmark's load generator and its "floor" server.
 *
 *   saslbench -f SOCKET [-c CLIENTS] [-d MS | -n COUNT] [-t MS]
 *             [-w PERCENT -W LOGIN:PASSWORD] LOGIN PASSWORD SERVICE REALM
 *       CLIENTS threads (default 8), each sending one request per fresh
 *       connection, as libsasl2 does, one after the other, for MS
 *       milliseconds (default 5000) or until COUNT requests were sent in
 *       all. -t is one request's timeout from connect to reply (default
 *       10000). With -w, PERCENT of the requests (spread evenly) use the
 *       second login and password (e.g. a wrong password), the rest the
 *       first. Prints a human summary and one machine-readable line:
 *         bench clients=.. elapsed_ms=.. requests=.. ok=.. no=.. eof=..
 *           timeout=.. error=.. rate=.. p50_ms=.. p90_ms=.. p99_ms=..
 *           max_ms=.. a_n=.. a_p50_ms=.. a_p99_ms=.. b_n=.. b_p50_ms=..
 *           b_p99_ms=..
 *       rate is answered checks (OK + NO) per second (with -d, those
 *       answered within the MS window, over MS); a_* are the first
 *       credentials' latencies, b_* the second's (-w); latencies cover
 *       every request, answered or not.
 *   saslbench -E SOCKET [-c THREADS]
 *       the floor: a bare UNIX-socket server with the same framing that
 *       answers every complete request "OK" at once and closes, with
 *       THREADS (default 2) accept loops, until SIGTERM or SIGINT.
 * Exit: 0, or 1 on a usage or set-up error.
 *
 * SECURITY: benchmark code; never installed. The passwords are on the
 * command line: throw-away test accounts only.
 */
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

enum outcome { OUT_OK, OUT_NO, OUT_EOF, OUT_TIMEOUT, OUT_ERROR, OUT_N };

struct lat {
	uint32_t *us; /* latencies in microseconds */
	size_t n, cap;
};

struct client {
	pthread_t tid;
	int index;
	long counts[OUT_N];
	long in_window; /* answered (OK/NO) before the -d deadline */
	struct lat lat[2]; /* [0] first credentials, [1] second (-w) */
	int failed; /* out of memory */
};

struct bench {
	struct sockaddr_un sun;
	unsigned char req[2][BENCH_REQ_MAX];
	size_t reqlen[2];
	long clients, duration_ms, count, timeout_ms, percent;
	int64_t t0_us;
	atomic_long issued;
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

/* One request on a fresh connection. */
static enum outcome
one_request(const unsigned char *req, size_t n)
{
	unsigned char hdr[2] = {0, 0}, text[SASLD_MAX_REPLY];
	int64_t deadline = now_us() + B.timeout_ms * 1000;
	struct timeval tv = {.tv_sec = B.timeout_ms / 1000,
	    .tv_usec = (B.timeout_ms % 1000) * 1000};
	size_t flen;
	int fd, r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return OUT_ERROR;
	/* Bounds a connect to a full backlog, and the send. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)&B.sun, sizeof(B.sun)) == -1) {
		r = errno;
		(void)close(fd);
		return r == EAGAIN || r == EINPROGRESS ? OUT_TIMEOUT
						       : OUT_ERROR;
	}
	if (send(fd, req, n, MSG_NOSIGNAL) != (ssize_t)n) {
		(void)close(fd);
		return OUT_ERROR;
	}
	r = read_full(fd, hdr, 2, deadline);
	flen = ((size_t)hdr[0] << 8) | hdr[1];
	if (r == 1 && (flen < 2 || flen > sizeof(text)))
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

static void *
client_main(void *arg)
{
	struct client *c = arg;
	/* Each client starts at another point of the -w pattern. */
	long k = c->index * 7L, seq;
	enum outcome o;
	int64_t t;
	int alt;

	for (;;) {
		if (B.count > 0) {
			seq = atomic_fetch_add(&B.issued, 1);
			if (seq >= B.count)
				break;
		} else if (now_us() - B.t0_us >= B.duration_ms * 1000) {
			break;
		}
		alt = B.percent > 0 &&
		    ((k + 1) * B.percent) / 100 != (k * B.percent) / 100;
		k++;
		t = now_us();
		o = one_request(B.req[alt], B.reqlen[alt]);
		if (lat_add(&c->lat[alt], now_us() - t) == -1) {
			c->failed = 1;
			break;
		}
		c->counts[o]++;
		if ((o == OUT_OK || o == OUT_NO) &&
		    (B.count > 0 || now_us() - B.t0_us <= B.duration_ms * 1000))
			c->in_window++;
		if (o == OUT_ERROR)
			usleep(BENCH_RETRY_US);
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

/* Merge the clients' latencies of credentials a (or both when a < 0). */
static int
merge(struct client *cl, long n, int a, struct lat *out)
{
	long i;
	int j;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++)
		for (j = 0; j < 2; j++) {
			if (a >= 0 && j != a)
				continue;
			out->cap += cl[i].lat[j].n;
		}
	out->us = malloc((out->cap ? out->cap : 1) * sizeof(uint32_t));
	if (out->us == NULL)
		return -1;
	for (i = 0; i < n; i++)
		for (j = 0; j < 2; j++) {
			if (a >= 0 && j != a)
				continue;
			memcpy(out->us + out->n, cl[i].lat[j].us,
			    cl[i].lat[j].n * sizeof(uint32_t));
			out->n += cl[i].lat[j].n;
		}
	qsort(out->us, out->n, sizeof(uint32_t), cmp_u32);
	return 0;
}

static int
run_load(void)
{
	static struct client cl[BENCH_MAX_CLIENTS];
	long i, sum[OUT_N] = {0}, elapsed_us, in_window = 0;
	struct lat all, a, b;
	double rate;
	int j, bad = 0;

	B.t0_us = now_us();
	for (i = 0; i < B.clients; i++) {
		cl[i].index = (int)i;
		if (pthread_create(&cl[i].tid, NULL, client_main, &cl[i]) !=
		    0) {
			fprintf(stderr, "saslbench: pthread_create failed\n");
			exit(1);
		}
	}
	for (i = 0; i < B.clients; i++) {
		(void)pthread_join(cl[i].tid, NULL);
		bad |= cl[i].failed;
		in_window += cl[i].in_window;
		for (j = 0; j < OUT_N; j++)
			sum[j] += cl[i].counts[j];
	}
	elapsed_us = (long)(now_us() - B.t0_us);
	if (bad || merge(cl, B.clients, -1, &all) == -1 ||
	    merge(cl, B.clients, 0, &a) == -1 ||
	    merge(cl, B.clients, 1, &b) == -1) {
		fprintf(stderr, "saslbench: out of memory\n");
		return 1;
	}
	/* With -d, answers that came after the deadline (a request still
	 * waiting out a failure delay) are not counted: rate is what the
	 * window held, not diluted by the drain. */
	if (B.count > 0)
		rate = (double)in_window * 1e6 /
		    (double)(elapsed_us > 0 ? elapsed_us : 1);
	else
		rate = (double)in_window * 1000.0 /
		    (double)(B.duration_ms > 0 ? B.duration_ms : 1);
	printf("%ld clients, %.2f s: %zu requests, %ld OK, %ld NO, %ld eof, "
	       "%ld timeout, %ld error\n"
	       "%.0f checks/s; latency ms p50 %.2f p90 %.2f p99 %.2f max "
	       "%.2f\n",
	    B.clients, elapsed_us / 1e6, all.n, sum[OUT_OK], sum[OUT_NO],
	    sum[OUT_EOF], sum[OUT_TIMEOUT], sum[OUT_ERROR], rate,
	    quantile_ms(&all, 0.5), quantile_ms(&all, 0.9),
	    quantile_ms(&all, 0.99), quantile_ms(&all, 1.0));
	printf("bench clients=%ld elapsed_ms=%ld requests=%zu ok=%ld no=%ld "
	       "eof=%ld timeout=%ld error=%ld rate=%.0f p50_ms=%.2f "
	       "p90_ms=%.2f p99_ms=%.2f max_ms=%.2f a_n=%zu a_p50_ms=%.2f "
	       "a_p99_ms=%.2f b_n=%zu b_p50_ms=%.2f b_p99_ms=%.2f\n",
	    B.clients, elapsed_us / 1000, all.n, sum[OUT_OK], sum[OUT_NO],
	    sum[OUT_EOF], sum[OUT_TIMEOUT], sum[OUT_ERROR], rate,
	    quantile_ms(&all, 0.5), quantile_ms(&all, 0.9),
	    quantile_ms(&all, 0.99), quantile_ms(&all, 1.0), a.n,
	    quantile_ms(&a, 0.5), quantile_ms(&a, 0.99), b.n,
	    quantile_ms(&b, 0.5), quantile_ms(&b, 0.99));
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
	    "                 [-w PERCENT -W LOGIN:PASSWORD] LOGIN PASSWORD "
	    "SERVICE REALM\n"
	    "       saslbench -E SOCKET [-c THREADS]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	static char alt[2 * SASLD_DEFAULT_MAX_FIELD + 2];
	const char *sock = NULL, *altarg = NULL;
	char *colon;
	int c, echo = 0, cset = 0;

	B.clients = 8;
	B.duration_ms = 5000;
	B.timeout_ms = 10000;
	while ((c = getopt(argc, argv, "f:E:c:d:n:t:w:W:")) != -1) {
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
		default:
			usage();
		}
	}
	if (sock == NULL || strlen(sock) >= sizeof(B.sun.sun_path) ||
	    B.clients < 1 || B.clients > BENCH_MAX_CLIENTS || B.percent > 100 ||
	    B.timeout_ms < 1 || B.timeout_ms > INT_MAX ||
	    (B.percent > 0) != (altarg != NULL))
		usage();
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

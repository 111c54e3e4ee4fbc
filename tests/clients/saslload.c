/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * saslload.c - many saslauthd connections at once, for the tests that
 * measure throughput and hold limits (saslraw is the one-connection tool).
 *
 *   saslload -f SOCKET [-c N] [-d MS] [-t MS] LOGIN PASSWORD SERVICE REALM
 *       N processes (default 2), each sending the request on a fresh
 *       connection, one after the other, until MS (default 2000) have
 *       passed; -t is one request's reply timeout (default 10000). Prints
 *       "key: value" lines: requests, ok, no, eof (closed without a
 *       reply), timeout, error (connect or send failed), elapsed_ms,
 *       max_ms (slowest request), then "reply: COUNT TEXT" per NO text.
 *   saslload -f SOCKET -H N [-t MS]
 *       open N connections and send nothing; print "connected: N" and
 *       "failed: N" once all are tried (a connect waits at most 1 s), then
 *       wait until the server has closed each or -t passed; print
 *       "closed: N", "still_open: N" and "last_closed_ms: N" (the longest
 *       a connection stayed open).
 * Exit: 0, or 1 on a usage or set-up error.
 *
 * SECURITY: test code; never installed. The password is on the command
 * line: test accounts only.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto_saslauthd.h"

#define LOAD_MAX_PROCS 64
#define LOAD_MAX_HOLD 60000
#define LOAD_REQ_MAX (PROTO_NFIELDS * (2 + 65535))
#define LOAD_TEXTS 4 /* distinct NO texts counted; more are "other" */
#define LOAD_TEXT_MAX 64
#define LOAD_CONNECT_MS 1000 /* -H: a full backlog is a failed connect */
#define LOAD_RETRY_US 10000 /* after a failed connect, not a busy loop */

/* One process's counts; sent to the parent in one pipe write. */
struct tally {
	long requests, ok, no, eof, timeout, error, max_ms, other;
	struct {
		long n;
		char text[LOAD_TEXT_MAX];
	} texts[LOAD_TEXTS];
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static long
num(const char *s)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0) {
		fprintf(stderr, "saslload: bad number %s\n", s);
		exit(1);
	}
	return v;
}

static int
connect_to(const struct sockaddr_un *sun, long timeout_ms)
{
	struct timeval tv = {
	    .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* Bounds a connect to a full backlog, and every send. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == -1) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* Read n bytes before deadline: 1, 0 on EOF, -1 on timeout. */
static int
read_full(int fd, unsigned char *p, size_t n, long deadline)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t got = 0;
	ssize_t r;
	long left;

	while (got < n) {
		left = deadline - now_ms();
		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) <= 0)
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

static void
count_no(struct tally *t, const unsigned char *text, size_t len)
{
	int i;

	if (len >= LOAD_TEXT_MAX)
		len = LOAD_TEXT_MAX - 1;
	for (i = 0; i < LOAD_TEXTS; i++) {
		if (t->texts[i].n == 0) {
			memcpy(t->texts[i].text, text, len);
			t->texts[i].text[len] = '\0';
		}
		if (strlen(t->texts[i].text) == len &&
		    memcmp(t->texts[i].text, text, len) == 0) {
			t->texts[i].n++;
			return;
		}
	}
	t->other++;
}

/* One request on a fresh connection, counted in t. */
static void
one_request(const struct sockaddr_un *sun, const unsigned char *req, size_t n,
    long timeout, struct tally *t)
{
	unsigned char hdr[2] = {0, 0}, text[SASLD_MAX_REPLY];
	long t0 = now_ms(), dl = t0 + timeout, ms;
	size_t flen;
	int fd, r;

	t->requests++;
	if ((fd = connect_to(sun, timeout)) == -1) {
		t->error++;
		usleep(LOAD_RETRY_US);
		return;
	}
	if (send(fd, req, n, MSG_NOSIGNAL) != (ssize_t)n) {
		t->error++;
		(void)close(fd);
		return;
	}
	r = read_full(fd, hdr, 2, dl);
	flen = ((size_t)hdr[0] << 8) | hdr[1];
	if (r == 1 && (flen < 2 || flen > sizeof(text)))
		r = 0; /* not a reply this daemon sends */
	if (r == 1)
		r = read_full(fd, text, flen, dl);
	(void)close(fd);
	ms = now_ms() - t0;
	if (ms > t->max_ms)
		t->max_ms = ms;
	if (r == -1)
		t->timeout++;
	else if (r == 0)
		t->eof++;
	else if (proto_reply_is_ok(text, flen))
		t->ok++;
	else {
		t->no++;
		count_no(t, text, flen);
	}
}

static void
add_tally(struct tally *sum, const struct tally *t)
{
	int i, j;

	sum->requests += t->requests;
	sum->ok += t->ok;
	sum->no += t->no;
	sum->eof += t->eof;
	sum->timeout += t->timeout;
	sum->error += t->error;
	sum->other += t->other;
	if (t->max_ms > sum->max_ms)
		sum->max_ms = t->max_ms;
	for (i = 0; i < LOAD_TEXTS && t->texts[i].n > 0; i++) {
		for (j = 0; j < LOAD_TEXTS; j++) {
			if (sum->texts[j].n == 0)
				memcpy(sum->texts[j].text, t->texts[i].text,
				    LOAD_TEXT_MAX);
			if (strcmp(sum->texts[j].text, t->texts[i].text) == 0) {
				sum->texts[j].n += t->texts[i].n;
				break;
			}
		}
		if (j == LOAD_TEXTS)
			sum->other += t->texts[i].n;
	}
}

static int
run_load(const struct sockaddr_un *sun, const unsigned char *req, size_t n,
    long procs, long duration, long timeout)
{
	struct tally t, sum;
	long t0 = now_ms(), i;
	int p[2], status, bad = 0;
	pid_t pid;

	if (pipe(p) == -1) {
		perror("saslload: pipe");
		return 1;
	}
	for (i = 0; i < procs; i++) {
		if ((pid = fork()) == -1) {
			perror("saslload: fork");
			return 1;
		}
		if (pid == 0) {
			(void)close(p[0]);
			memset(&t, 0, sizeof(t));
			while (now_ms() - t0 < duration)
				one_request(sun, req, n, timeout, &t);
			/* Below PIPE_BUF: one atomic write. */
			_exit(write(p[1], &t, sizeof(t)) == sizeof(t) ? 0 : 1);
		}
	}
	(void)close(p[1]);
	memset(&sum, 0, sizeof(sum));
	for (i = 0; i < procs; i++) {
		if (read(p[0], &t, sizeof(t)) != sizeof(t)) {
			bad = 1;
			break;
		}
		add_tally(&sum, &t);
	}
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad = 1;
	printf("requests: %ld\nok: %ld\nno: %ld\neof: %ld\ntimeout: %ld\n"
	       "error: %ld\nelapsed_ms: %ld\nmax_ms: %ld\n",
	    sum.requests, sum.ok, sum.no, sum.eof, sum.timeout, sum.error,
	    now_ms() - t0, sum.max_ms);
	for (i = 0; i < LOAD_TEXTS && sum.texts[i].n > 0; i++)
		printf("reply: %ld %s\n", sum.texts[i].n, sum.texts[i].text);
	if (sum.other > 0)
		printf("reply: %ld (other texts)\n", sum.other);
	if (bad)
		fprintf(stderr, "saslload: a load process failed\n");
	return bad;
}

static int
run_hold(const struct sockaddr_un *sun, long n, long timeout)
{
	static struct pollfd pfd[LOAD_MAX_HOLD];
	static long opened[LOAD_MAX_HOLD];
	struct rlimit rl;
	long i, connected = 0, closed = 0, last = 0, t0, left;

	/* Our own descriptors: raise the soft limit if it is too low. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)n + 16) {
		rl.rlim_cur = (rlim_t)n + 16;
		if (rl.rlim_cur > rl.rlim_max ||
		    setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			fprintf(stderr, "saslload: cannot open %ld files\n", n);
			return 1;
		}
	}
	t0 = now_ms();
	for (i = 0; i < n; i++) {
		pfd[i].fd = connect_to(sun, LOAD_CONNECT_MS);
		pfd[i].events = 0; /* only HUP and ERR: the server closed */
		opened[i] = now_ms();
		if (pfd[i].fd != -1)
			connected++;
	}
	printf("connected: %ld\nfailed: %ld\n", connected, n - connected);
	(void)fflush(stdout);
	while (closed < connected && (left = t0 + timeout - now_ms()) > 0) {
		if (poll(pfd, (nfds_t)n,
			left > INT_MAX ? INT_MAX : (int)left) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if (now_ms() - opened[i] > last)
				last = now_ms() - opened[i];
			(void)close(pfd[i].fd);
			pfd[i].fd = -1; /* poll() skips negative fds */
			closed++;
		}
	}
	printf("closed: %ld\nstill_open: %ld\nlast_closed_ms: %ld\n", closed,
	    connected - closed, last);
	return 0;
}

int
main(int argc, char *argv[])
{
	static unsigned char req[LOAD_REQ_MAX];
	const char *sock = NULL, *fields[4];
	size_t lens[4], n = 0;
	struct sockaddr_un sun;
	long procs = 2, duration = 2000, timeout = 10000, hold = 0;
	int c, i;

	while ((c = getopt(argc, argv, "f:c:d:t:H:")) != -1) {
		switch (c) {
		case 'f':
			sock = optarg;
			break;
		case 'c':
			procs = num(optarg);
			break;
		case 'd':
			duration = num(optarg);
			break;
		case 't':
			timeout = num(optarg);
			break;
		case 'H':
			hold = num(optarg);
			break;
		default:
			return 1;
		}
	}
	if (sock == NULL || strlen(sock) >= sizeof(sun.sun_path) || procs < 1 ||
	    procs > LOAD_MAX_PROCS || hold > LOAD_MAX_HOLD) {
		fprintf(stderr, "saslload: bad arguments\n");
		return 1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sock, strlen(sock) + 1);
	if (hold > 0)
		return run_hold(&sun, hold, timeout);
	if (argc - optind != 4) {
		fprintf(
		    stderr, "saslload: need LOGIN PASSWORD SERVICE REALM\n");
		return 1;
	}
	for (i = 0; i < 4; i++) {
		fields[i] = argv[optind + i];
		lens[i] = strlen(fields[i]);
	}
	if ((n = proto_encode_request(req, sizeof(req), fields, lens, 4)) == 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	return run_load(&sun, req, n, procs, duration, timeout);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * holdconns.c - a test client that opens many idle connections to a
 * saslauthd socket from one process (as whatever uid runs it), reports
 * how many the server kept and how many it closed, and holds the kept ones
 * open. For the connection-limit tests: a local user flooding the socket.
 *
 * Usage: holdconns -f SOCKET -n N [-w MS] [-H MS]
 *   -n N   connections to open (non-blocking connect: a full backlog
 *          counts as "failed", it does not block)
 *   -w MS  after connecting, wait this long, then see which the server
 *          closed (EOF or reset) (default 500)
 *   -H MS  then hold the open ones this long (default 0), and exit
 * Output (stdout, flushed before holding):
 *   connected: N   open: N   closed: N   failed: N   first_errno: E
 * Exit: 0, or 1 on a usage or setup error.
 *
 * SECURITY: test code; never installed.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOLD_MAX 100000

static long
num(const char *s)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0) {
		fprintf(stderr, "holdconns: bad number %s\n", s);
		exit(1);
	}
	return v;
}

/* Room for n sockets: the soft limit up to the hard one. */
static void
raise_nofile(long n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur >= (rlim_t)n + 16)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)n + 16) {
		fprintf(stderr,
		    "holdconns: %ld sockets need more than the "
		    "hard limit of open files\n",
		    n);
		exit(1);
	}
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		perror("holdconns: setrlimit");
		exit(1);
	}
}

int
main(int argc, char *argv[])
{
	static int fds[HOLD_MAX];
	static struct pollfd pfd[HOLD_MAX];
	struct sockaddr_un sun;
	const char *sock = NULL;
	long n = -1, wait_ms = 500, hold_ms = 0, i;
	long connected = 0, open_ = 0, closed = 0, failed = 0;
	int c, r = 0, tries, first_errno = 0;
	char b;

	while ((c = getopt(argc, argv, "f:n:w:H:")) != -1) {
		switch (c) {
		case 'f':
			sock = optarg;
			break;
		case 'n':
			n = num(optarg);
			break;
		case 'w':
			wait_ms = num(optarg);
			break;
		case 'H':
			hold_ms = num(optarg);
			break;
		default:
			return 1;
		}
	}
	if (sock == NULL || strlen(sock) >= sizeof(sun.sun_path) || n < 1 ||
	    n > HOLD_MAX) {
		fprintf(stderr,
		    "usage: holdconns -f SOCKET -n N (1..%d) "
		    "[-w MS] [-H MS]\n",
		    HOLD_MAX);
		return 1;
	}
	raise_nofile(n);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sock, strlen(sock) + 1);
	for (i = 0; i < n; i++) {
		fds[i] = socket(
		    AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fds[i] == -1) {
			perror("holdconns: socket");
			return 1;
		}
		/* A full listen backlog says EAGAIN to a non-blocking
		 * connect; a blocking client (libsasl2) would wait: so do
		 * we, for up to 10 s, while the daemon accepts. */
		for (tries = 0; tries < 10000; tries++) {
			r = connect(
			    fds[i], (struct sockaddr *)&sun, sizeof(sun));
			if (r == 0 || errno != EAGAIN)
				break;
			usleep(1000);
		}
		if (r == -1) {
			if (first_errno == 0)
				first_errno = errno;
			failed++;
			(void)close(fds[i]);
			fds[i] = -1;
			continue;
		}
		connected++;
	}
	if (wait_ms > 0)
		usleep((useconds_t)wait_ms * 1000);
	/* Readable now means EOF or a reset: the server closed it. */
	for (i = 0; i < n; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	if (poll(pfd, (nfds_t)n, 0) == -1) {
		perror("holdconns: poll");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (fds[i] == -1)
			continue;
		if (pfd[i].revents != 0 && read(fds[i], &b, 1) <= 0) {
			closed++;
			(void)close(fds[i]);
			fds[i] = -1;
		} else
			open_++;
	}
	printf("connected: %ld\nopen: %ld\nclosed: %ld\nfailed: %ld\n"
	       "first_errno: %d\n",
	    connected, open_, closed, failed, first_errno);
	fflush(stdout);
	if (hold_ms > 0)
		usleep((useconds_t)hold_ms * 1000);
	return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * saslraw.c - a test client that speaks the saslauthd protocol the ways
 * real and hostile clients do: one write per field (Exim), 4 or 5 fields,
 * raw hex bytes, a partial request, an idle connection, a client that
 * never reads, one byte at a time, a flood, a client that keeps the socket
 * open. Prints the reply text, the latency and when the server closed.
 *
 * Usage: saslraw -f SOCKET [options] [LOGIN PASSWORD SERVICE REALM [ADDR]]
 *   -s          one write per field (Exim)
 *   -x HEX      send these bytes instead of fields
 *   -p N        send only the first N bytes of the request, then wait
 *   -i MS       connect, sleep MS, then send (0 with -n: just hold)
 *   -n          do not read the reply; hold the socket -H MS then close
 *   -H MS       after the reply (or with -n), keep the socket open MS
 *   -t MS       overall reply timeout (default 10000)
 *   -X          read everything up to EOF; also print "first_read: N",
 *               the bytes one read() got once the reply was readable (a
 *               reply sent in one write arrives whole), and "raw: HEX",
 *               every byte received (-H is not used with -X)
 * Output: "reply: <text>" and "latency_ms: N" on stdout.
 * Exit: 0 reply read, 2 EOF without reply, 3 timeout, 1 other error.
 *
 * SECURITY: test code; never installed.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto_saslauthd.h"

#define RAW_MAX 70000
/* With -X: a reply (2 + at most 65535 bytes) and anything after it. */
#define RAW_REPLY_MAX (2 + 65535 + 1024)
#define RAW_FLOOD_CHUNK 4096

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
		fprintf(stderr, "saslraw: bad number %s\n", s);
		exit(1);
	}
	return v;
}

static size_t
unhex(const char *s, unsigned char *out, size_t outsz)
{
	size_t n = 0;
	unsigned int b;

	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		if (n == outsz || sscanf(s, "%2x", &b) != 1) {
			fprintf(stderr, "saslraw: bad hex\n");
			exit(1);
		}
		out[n++] = (unsigned char)b;
		s += 2;
	}
	return n;
}

static int
send_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0) {
			if (w == -1 && errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read until n bytes or EOF or deadline. Returns bytes read, -1 on
 * timeout. */
static long
read_some(int fd, unsigned char *p, size_t n, long deadline)
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
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (size_t)r;
	}
	return (long)got;
}

/*
 * -X: after poll() says the reply is readable, one read() of everything
 * the socket holds (first_read), then read until EOF. Prints what was
 * received and returns the exit status.
 */
static int
read_raw(int fd, long t0, long deadline)
{
	static unsigned char all[RAW_REPLY_MAX];
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t got = 0, flen, i;
	long first = -1, left;
	ssize_t r;
	int timedout = 0;

	while (got < sizeof(all)) {
		left = deadline - now_ms();
		if (left <= 0) {
			timedout = 1;
			break;
		}
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		r = read(fd, all + got, sizeof(all) - got);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (first == -1)
			first = (long)r;
		got += (size_t)r;
	}
	if (got >= 2) {
		flen = ((size_t)all[0] << 8) | all[1];
		if (got >= 2 + flen)
			printf("reply: %.*s\n", (int)flen, (char *)all + 2);
	}
	printf("first_read: %ld\nraw: ", first);
	for (i = 0; i < got; i++)
		printf("%02x", all[i]);
	printf("\n%slatency_ms: %ld\n", timedout ? "timeout\n" : "",
	    now_ms() - t0);
	if (timedout)
		return 3;
	if (got < 2 || got < 2 + (((size_t)all[0] << 8) | all[1]))
		return 2;
	return 0;
}

/* -z: n filler bytes, each send bounded by SO_SNDTIMEO. */
static void
flood(int fd, long n, long timeout)
{
	static unsigned char fill[RAW_FLOOD_CHUNK];
	struct timeval tv = {
	    .tv_sec = timeout / 1000, .tv_usec = (timeout % 1000) * 1000};
	long sent = 0;
	ssize_t w;

	memset(fill, 'A', sizeof(fill));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (sent < n) {
		w = send(fd, fill,
		    n - sent < (long)sizeof(fill) ? (size_t)(n - sent)
						  : sizeof(fill),
		    MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		sent += w;
	}
	printf("flood_sent: %ld\n", sent);
}

/*
 * -c: the server closed its end once poll() reports POLLHUP (or an
 * error); with no events asked for, pending data and the server's
 * half-close do not wake us. Prints when, relative to t0.
 */
static int
wait_close(int fd, long t0, long deadline)
{
	struct pollfd pfd = {.fd = fd, .events = 0};
	long left;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0) {
			printf("closed_ms: -1\n");
			return 3;
		}
		if (poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left) > 0 &&
		    (pfd.revents & (POLLHUP | POLLERR)) != 0)
			break;
	}
	printf("closed_ms: %ld\n", now_ms() - t0);
	return 0;
}

int
main(int argc, char *argv[])
{
	static unsigned char req[RAW_MAX];
	const char *sock = NULL, *hex = NULL;
	const char *fields[5];
	size_t lens[5], n = 0, off, flen;
	unsigned char hdr[2], text[1024];
	struct sockaddr_un sun;
	struct pollfd cut = {.events = POLLIN}; /* -b: a reply, HUP, ERR */
	long partial = -1, idle = -1, hold = 0, timeout = 10000, t0, dl, r;
	long bytegap = -1, flood_n = 0;
	int split = 0, noread = 0, rawout = 0, eof = 0, waitclose = 0;
	int c, fd, nf = 0, i;

	while ((c = getopt(argc, argv, "f:sx:p:i:nH:t:Xb:z:ec")) != -1) {
		switch (c) {
		case 'f':
			sock = optarg;
			break;
		case 's':
			split = 1;
			break;
		case 'x':
			hex = optarg;
			break;
		case 'p':
			partial = num(optarg);
			break;
		case 'i':
			idle = num(optarg);
			break;
		case 'n':
			noread = 1;
			break;
		case 'H':
			hold = num(optarg);
			break;
		case 't':
			timeout = num(optarg);
			break;
		case 'X':
			rawout = 1;
			break;
		case 'b':
			bytegap = num(optarg);
			break;
		case 'z':
			flood_n = num(optarg);
			break;
		case 'e':
			eof = 1;
			break;
		case 'c':
			waitclose = 1;
			break;
		default:
			return 1;
		}
	}
	if (sock == NULL || strlen(sock) >= sizeof(sun.sun_path))
		return 1;
	if (hex != NULL)
		n = unhex(hex, req, sizeof(req));
	else {
		nf = argc - optind;
		if (nf != 4 && nf != 5) {
			fprintf(stderr, "saslraw: need 4 or 5 fields\n");
			return 1;
		}
		for (i = 0; i < nf; i++) {
			fields[i] = argv[optind + i];
			lens[i] = strlen(fields[i]);
		}
		n = proto_encode_request(req, sizeof(req), fields, lens, nf);
		if (n == 0)
			return 1;
	}
	if (partial >= 0 && (size_t)partial < n)
		n = (size_t)partial;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sock, strlen(sock) + 1);
	cut.fd = fd;
	t0 = now_ms();
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		perror("saslraw: connect");
		return 1;
	}
	if (idle > 0)
		usleep((useconds_t)idle * 1000);
	if (split && hex == NULL) {
		for (off = 0, i = 0; i < nf && off < n; i++) {
			flen = 2 + lens[i];
			if (off + flen > n)
				flen = n - off;
			if (send_all(fd, req + off, flen) == -1)
				break;
			off += flen;
			usleep(20000); /* separate segments, as Exim */
		}
	} else if (bytegap >= 0) {
		for (off = 0; off < n; off++) {
			if (send_all(fd, req + off, 1) == -1)
				break; /* the server cut us off */
			/* The gap, unless the server answers or closes. */
			if (off + 1 < n && poll(&cut, 1, (int)bytegap) > 0)
				break;
		}
	} else if (n > 0 && send_all(fd, req, n) == -1) {
		perror("saslraw: send");
	}
	if (flood_n > 0)
		flood(fd, flood_n, timeout);
	if (eof)
		(void)shutdown(fd, SHUT_WR);
	/* -c waits for the close until -t after connect. */
	dl = waitclose ? t0 + timeout : now_ms() + timeout;
	if (noread && waitclose)
		return wait_close(fd, t0, dl);
	if (noread) {
		if (hold > 0)
			usleep((useconds_t)hold * 1000);
		return 0;
	}
	if (rawout) {
		c = read_raw(fd, t0, dl);
		(void)close(fd);
		return c;
	}
	r = read_some(fd, hdr, 2, dl);
	if (r == -1) {
		printf("timeout\nlatency_ms: %ld\n", now_ms() - t0);
		return 3;
	}
	if (r < 2) {
		printf("eof\nlatency_ms: %ld\n", now_ms() - t0);
		return 2;
	}
	flen = ((size_t)hdr[0] << 8) | hdr[1];
	if (flen > sizeof(text))
		flen = sizeof(text);
	r = read_some(fd, text, flen, dl);
	if (r != (long)flen) {
		printf("short\nlatency_ms: %ld\n", now_ms() - t0);
		return 2;
	}
	printf("reply: %.*s\nlatency_ms: %ld\n", (int)flen, (char *)text,
	    now_ms() - t0);
	if (waitclose)
		return wait_close(fd, t0, dl);
	if (hold > 0)
		usleep((useconds_t)hold * 1000);
	(void)close(fd);
	return 0;
}

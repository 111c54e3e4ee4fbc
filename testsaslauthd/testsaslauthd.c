/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * testsaslauthd.c - testsaslauthd-ng, a drop-in for Cyrus' testsaslauthd.
 * Sends one saslauthd request per attempt, each on a new connection, and
 * prints the result with Cyrus' exact stdout, stderr and exit status. Adds
 * a password prompt (-p -), a timeout (-t), the reply text (-v) and the
 * fifth request field (-a). Runs as whoever invokes it.
 *
 * SECURITY: holds no privilege and trusts nothing from the socket: the
 * reply goes through the codec, is bounded and is printed escaped. The
 * password is copied once, erased from argv at once, never printed, and
 * wiped together with the request before exit; core dumps are disabled.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "proto_dovecot.h"
#include "proto_saslauthd.h"

#define SASLD_TEST_NAME "testsaslauthd-ng"
/*
 * Debian's compiled-in socket is /var/run/saslauthd/mux; /var/run is a
 * symlink to /run on every current distribution, so this is the same
 * socket, spelt as the daemon's default run directory.
 */
#ifndef SASLD_DEFAULT_SOCKET
#define SASLD_DEFAULT_SOCKET "/run/saslauthd/mux"
/* Where Postfix's smtpd_sasl_path = private/auth points (Dovecot's docs). */
#define SASLD_DEFAULT_DOVECOT_SOCKET "/var/spool/postfix/private/auth"
#endif
#define SASLD_TEST_SERVICE "imap" /* Cyrus testsaslauthd's default */
/* libsasl2's request buffer: no real client sends a larger request. */
#define SASLD_TEST_MAX_REQUEST 8192
/* Cyrus testsaslauthd's reply buffer: a longer reply is judged on this
 * prefix, as Cyrus does. */
#define SASLD_TEST_MAX_REPLY 1024
_Static_assert(SASLD_TEST_MAX_REPLY >= SASLD_MAX_REPLY,
    "every reply of saslauthd-ng is read whole");
/* The big-endian length word in front of the reply text. */
#define SASLD_TEST_LENWORD 2
/* Enough for a soak test; a mistyped count fails at once instead of
 * opening connections for hours. */
#define SASLD_TEST_MAX_REPEAT 100000
/* s; above the daemon's longest failure delay (--fail-delay-max, 8 s by
 * default), which a repeated wrong password earns, plus PAM's time. */
#define SASLD_TEST_TIMEOUT 15
#define SASLD_TEST_MAX_TIMEOUT 3600 /* s; slow LDAP/SSSD stacks fit */
/* How often connect() is retried while the listen backlog is full. */
#define SASLD_TEST_RETRY_NS (10 * 1000000LL)
#define SASLD_TEST_NS_PER_SEC 1000000000LL
#define SASLD_TEST_NS_PER_MS 1000000LL
/* Exit statuses, Cyrus': main() returns -1 for NO or a transport error. */
#define SASLD_TEST_EXIT_OK 0
#define SASLD_TEST_EXIT_USAGE 1
#define SASLD_TEST_EXIT_FAIL 255

struct tsa_opts {
	const char *user;
	const char *realm;
	const char *service;
	const char *path;
	const char *addr; /* NULL: the 4-field request */
	long repeat;
	long timeout; /* s, per attempt */
	int verbose;
	int password_stdin; /* -p - */
	int dovecot; /* -D: the Dovecot auth protocol */
};

enum tsa_io {
	TSA_IO_OK,
	TSA_IO_EOF,
	TSA_IO_ERR,
	TSA_IO_TIMEOUT,
};

/* Signals that would otherwise leave the terminal with echo off. */
static const int tsa_sigs[] = {
    SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU};
#define TSA_NSIGS (sizeof(tsa_sigs) / sizeof(tsa_sigs[0]))

static volatile sig_atomic_t tsa_signo;

static void
tsa_usage(FILE *fp)
{
	(void)fprintf(fp,
	    "%s: usage: %s -u username -p password\n"
	    "              [-r realm] [-s servicename]\n"
	    "              [-f socket path] [-R repeatnum]\n"
	    "              [-a clientaddr] [-t seconds] [-D] [-v] [-h]\n"
	    "  -u username  login, sent as given (no @ split)\n"
	    "  -p password  password; \"-\" reads the first line of standard\n"
	    "               input (prompting with echo off on a terminal)\n"
	    "  -r realm     realm (default: empty)\n"
	    "  -s service   service, i.e. the PAM service (default: %s)\n"
	    "  -f path      socket (default: %s)\n"
	    "  -R n         attempts, each on a new connection "
	    "(1..%d, default 1)\n"
	    "  -a addr      also send the client address \"ip;port\" "
	    "(5-field request)\n"
	    "  -t seconds   timeout for connect, write and reply, per attempt\n"
	    "               (1..%d, default %d)\n"
	    "  -D           speak the Dovecot auth protocol (AUTH PLAIN), as\n"
	    "               Postfix's smtpd_sasl_type = dovecot does (default\n"
	    "               socket " SASLD_DEFAULT_DOVECOT_SOCKET
	    "; a realm is\n"
	    "               sent as user@realm, -a as rip=)\n"
	    "  -v           print the reply text and latency on stderr\n"
	    "  -h           print this help on stdout and exit\n",
	    SASLD_TEST_NAME, SASLD_TEST_NAME, SASLD_TEST_SERVICE,
	    SASLD_DEFAULT_SOCKET, SASLD_TEST_MAX_REPEAT, SASLD_TEST_MAX_TIMEOUT,
	    SASLD_TEST_TIMEOUT);
}

/* Digits only: strtol alone would accept blanks, signs and "0x". */
static int
tsa_parse_long(const char *s, long min, long max, long *ret)
{
	char *end = NULL;
	long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*ret = v;
	return 0;
}

static int64_t
tsa_now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * SASLD_TEST_NS_PER_SEC + ts.tv_nsec;
}

/* A poll() timeout for ns nanoseconds, rounded up so we never spin. */
static int
tsa_poll_ms(int64_t ns)
{
	int64_t ms = (ns + SASLD_TEST_NS_PER_MS - 1) / SASLD_TEST_NS_PER_MS;

	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static enum tsa_io
tsa_wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left;
	int n;

	for (;;) {
		left = deadline - tsa_now_ns();
		if (left <= 0)
			return TSA_IO_TIMEOUT;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, tsa_poll_ms(left));
		if (n > 0)
			return TSA_IO_OK; /* the read/write says what it was */
		if (n == -1 && errno != EINTR)
			return TSA_IO_ERR;
	}
}

static enum tsa_io
tsa_connect(
    int fd, const struct sockaddr_un *sun, socklen_t sunlen, int64_t deadline)
{
	int64_t left;

	for (;;) {
		if (connect(fd, (const struct sockaddr *)sun, sunlen) == 0)
			return TSA_IO_OK;
		if (errno != EAGAIN)
			return TSA_IO_ERR;
		/*
		 * Linux refuses a non-blocking AF_UNIX connect with EAGAIN
		 * while the listen backlog is full, and no poll event says
		 * when a slot frees: retry until the deadline.
		 */
		left = deadline - tsa_now_ns();
		if (left <= 0)
			return TSA_IO_TIMEOUT;
		if (left > SASLD_TEST_RETRY_NS)
			left = SASLD_TEST_RETRY_NS;
		(void)poll(NULL, 0, tsa_poll_ms(left));
	}
}

/* The whole request in one write; a short write is continued. */
static enum tsa_io
tsa_write(int fd, const uint8_t *buf, size_t len, int64_t deadline)
{
	enum tsa_io st;
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return TSA_IO_ERR;
		if ((st = tsa_wait(fd, POLLOUT, deadline)) != TSA_IO_OK)
			return st;
	}
	return TSA_IO_OK;
}

static enum tsa_io
tsa_read(int fd, uint8_t *buf, size_t len, size_t *ret_n, int64_t deadline)
{
	enum tsa_io st;
	ssize_t n;

	for (;;) {
		n = read(fd, buf, len);
		if (n > 0) {
			*ret_n = (size_t)n;
			return TSA_IO_OK;
		}
		if (n == 0)
			return TSA_IO_EOF;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return TSA_IO_ERR;
		if ((st = tsa_wait(fd, POLLIN, deadline)) != TSA_IO_OK)
			return st;
	}
}

/* Cyrus' message for a failed step, or ours for a timeout. */
static void
tsa_report(enum tsa_io st, const char *msg, int with_errno)
{
	if (st == TSA_IO_TIMEOUT)
		(void)fputs("timeout waiting for saslauthd\n", stderr);
	else if (with_errno)
		perror(msg);
	else
		(void)fprintf(stderr, "%s\n", msg);
}

/* The reply is untrusted: quote it and escape what is not printable. */
static void
tsa_print_reply(const uint8_t *text, size_t len, int truncated, int64_t ns)
{
	size_t i;

	(void)fputs("reply: \"", stderr);
	for (i = 0; i < len; i++) {
		if (text[i] == '"' || text[i] == '\\')
			(void)fprintf(stderr, "\\%c", text[i]);
		else if (text[i] < 0x20 || text[i] >= 0x7f)
			(void)fprintf(stderr, "\\x%02x", text[i]);
		else
			(void)fputc(text[i], stderr);
	}
	(void)fprintf(stderr, "\"%s (%.3f ms)\n", truncated ? "..." : "",
	    (double)ns / (double)SASLD_TEST_NS_PER_MS);
}

/*
 * A new connection with the whole request written, as both protocols
 * start; Cyrus' messages on failure. Returns the socket or -1.
 */
static int
tsa_send(const struct sockaddr_un *sun, socklen_t sunlen, const uint8_t *req,
    size_t reqlen, int64_t deadline)
{
	enum tsa_io st;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		perror("socket() ");
		return -1;
	}
	st = tsa_connect(fd, sun, sunlen, deadline);
	if (st != TSA_IO_OK) {
		tsa_report(st, "connect() ", 1);
		(void)close(fd);
		return -1;
	}
	st = tsa_write(fd, req, reqlen, deadline);
	if (st != TSA_IO_OK) {
		tsa_report(st, "write failed", 0);
		(void)close(fd);
		return -1;
	}
	return fd;
}

/*
 * One attempt on a new connection. Prints the result as Cyrus does and
 * returns the exit status it stands for.
 */
static int
tsa_attempt(const struct tsa_opts *o, const struct sockaddr_un *sun,
    socklen_t sunlen, const uint8_t *req, size_t reqlen)
{
	uint8_t reply[SASLD_TEST_LENWORD + SASLD_TEST_MAX_REPLY];
	const uint8_t *text = NULL;
	size_t got = 0, n = 0, want, textlen = 0;
	int64_t start, deadline;
	enum tsa_io st;
	int fd = -1, r = 0, ok, truncated = 0, rv = SASLD_TEST_EXIT_FAIL;

	start = tsa_now_ns();
	deadline = start + o->timeout * SASLD_TEST_NS_PER_SEC;
	if ((fd = tsa_send(sun, sunlen, req, reqlen, deadline)) == -1)
		goto out;
	for (;;) {
		r = proto_decode_reply(reply, got, &text, &textlen);
		if (r != 0)
			break;
		if (got == sizeof(reply)) {
			truncated = 1;
			break;
		}
		/* The length word, then the text: a reply cut short in
		 * either is reported with Cyrus' message for it. */
		if (got < SASLD_TEST_LENWORD)
			want = SASLD_TEST_LENWORD - got;
		else
			want = sizeof(reply) - got;
		st = tsa_read(fd, reply + got, want, &n, deadline);
		if (st != TSA_IO_OK) {
			tsa_report(st,
			    got < SASLD_TEST_LENWORD ? "size read failed"
						     : "read failed",
			    0);
			goto out;
		}
		got += n;
	}
	if (r < 0) {
		(void)fputs("bad response from saslauthd\n", stderr);
		goto out;
	}
	if (truncated) {
		text = reply + SASLD_TEST_LENWORD;
		textlen = got - SASLD_TEST_LENWORD;
	}
	ok = proto_reply_is_ok(text, textlen);
	(void)fputs(ok ? "OK \"Success.\"\n" : "NO \"authentication failed\"\n",
	    stdout);
	(void)fflush(stdout);
	if (o->verbose)
		tsa_print_reply(text, textlen, truncated, tsa_now_ns() - start);
	rv = ok ? SASLD_TEST_EXIT_OK : SASLD_TEST_EXIT_FAIL;
out:
	if (fd != -1)
		(void)close(fd);
	return rv;
}

/*
 * Read from the Dovecot server until a line from *scan on is one of
 * prefixes, alone or followed by a TAB (the handshake's DONE, or the answer to request 1). Lines
 * before it stay in buf; *scan moves past it. Returns 0 with the line at
 * buf[*ret_off..*ret_off + *ret_len), or -1 after reporting why.
 */
static int
tsa_dovecot_line(int fd, uint8_t *buf, size_t bufsz, size_t *have, size_t *scan,
    size_t *ret_off, size_t *ret_len, const char *const *prefixes,
    int64_t deadline)
{
	size_t linelen, used, n, i;
	enum tsa_io st;
	int r;

	for (;;) {
		r = dovecot_next_line(buf + *scan, *have - *scan,
		    DOVECOT_MAX_LINE, &linelen, &used);
		if (r == -1) {
			(void)fputs("bad response from server (line too "
				    "long)\n",
			    stderr);
			return -1;
		}
		if (r == 1) {
			*ret_off = *scan;
			*ret_len = linelen;
			*scan += used;
			for (i = 0; prefixes[i] != NULL; i++) {
				n = strlen(prefixes[i]);
				if (linelen >= n &&
				    memcmp(buf + *ret_off, prefixes[i], n) ==
					0 &&
				    (linelen == n || buf[*ret_off + n] == '\t'))
					return 0;
			}
			continue;
		}
		if (*have == bufsz) {
			(void)fputs("bad response from server\n", stderr);
			return -1;
		}
		st = tsa_read(fd, buf + *have, bufsz - *have, &n, deadline);
		if (st != TSA_IO_OK) {
			tsa_report(st, "read failed", 0);
			return -1;
		}
		*have += n;
	}
}

/*
 * One check over the Dovecot auth protocol on a new connection: VERSION,
 * CPID and an AUTH PLAIN with the initial response sent at once (as
 * Postfix pipelines them), then the handshake up to DONE (which must offer
 * PLAIN), then OK or FAIL for request 1. Printed as the saslauthd mode.
 */
static int
tsa_attempt_dovecot(const struct tsa_opts *o, const struct sockaddr_un *sun,
    socklen_t sunlen, const uint8_t *req, size_t reqlen)
{
	static const char *const done[] = {"DONE", NULL};
	static const char *const answer[] = {
	    "OK\t1", "FAIL\t1", "CONT\t1", NULL};
	uint8_t buf[DOVECOT_MAX_LINE * 2];
	size_t have = 0, scan = 0, off, len, i;
	int64_t start, deadline;
	int fd = -1, ok, plain = 0, rv = SASLD_TEST_EXIT_FAIL;

	start = tsa_now_ns();
	deadline = start + o->timeout * SASLD_TEST_NS_PER_SEC;
	if ((fd = tsa_send(sun, sunlen, req, reqlen, deadline)) == -1)
		goto out;
	/* The handshake: it must say VERSION 1 and offer PLAIN. */
	if (tsa_dovecot_line(fd, buf, sizeof(buf), &have, &scan, &off, &len,
		done, deadline) == -1)
		goto out;
	for (i = 0; i + 11 <= off; i++)
		if (memcmp(buf + i, "MECH\tPLAIN", 10) == 0 &&
		    (buf[i + 10] == '\t' || buf[i + 10] == '\n'))
			plain = 1;
	if (have < 10 || memcmp(buf, "VERSION\t1\t", 10) != 0 || !plain) {
		(void)fputs("bad response from server (not a Dovecot auth "
			    "server offering PLAIN)\n",
		    stderr);
		goto out;
	}
	if (tsa_dovecot_line(fd, buf, sizeof(buf), &have, &scan, &off, &len,
		answer, deadline) == -1)
		goto out;
	if (buf[off] == 'C') {
		(void)fputs("bad response from server (CONT to a PLAIN "
			    "request with its initial response)\n",
		    stderr);
		goto out;
	}
	ok = buf[off] == 'O';
	(void)fputs(ok ? "OK \"Success.\"\n" : "NO \"authentication failed\"\n",
	    stdout);
	(void)fflush(stdout);
	if (o->verbose)
		tsa_print_reply(buf + off, len, 0, tsa_now_ns() - start);
	rv = ok ? SASLD_TEST_EXIT_OK : SASLD_TEST_EXIT_FAIL;
out:
	explicit_bzero(buf, sizeof(buf));
	if (fd != -1)
		(void)close(fd);
	return rv;
}

/*
 * The Dovecot request: VERSION, CPID and AUTH 1 PLAIN with resp= the
 * base64 of NUL user NUL password. Returns its length, 0 if it does not
 * fit or a field cannot be sent.
 */
static size_t
tsa_dovecot_request(const struct tsa_opts *o, const char *password,
    size_t passwordlen, uint8_t *out, size_t outsz)
{
	uint8_t plain[2 * DOVECOT_MAX_USER + DOVECOT_MAX_PASS + 2];
	uint8_t svc[2 * DOVECOT_MAX_SERVICE], rip[2 * DOVECOT_MAX_IP + 2];
	char b64[((sizeof(plain) + 2) / 3) * 4 + 1];
	size_t ul, rl, pl = 0, svclen, riplen = 0, b64len, iplen = 0;
	const char *semi = NULL;
	int n;

	ul = strlen(o->user);
	rl = strlen(o->realm);
	if (ul + rl + passwordlen + 3 > sizeof(plain))
		return 0;
	plain[pl++] = '\0'; /* no authzid */
	memcpy(plain + pl, o->user, ul);
	pl += ul;
	if (rl > 0) {
		plain[pl++] = '@';
		memcpy(plain + pl, o->realm, rl);
		pl += rl;
	}
	plain[pl++] = '\0';
	memcpy(plain + pl, password, passwordlen);
	pl += passwordlen;
	n = dovecot_b64_encode(plain, pl, b64, sizeof(b64), &b64len);
	explicit_bzero(plain, sizeof(plain));
	if (n == -1 ||
	    dovecot_escape((const uint8_t *)o->service, strlen(o->service), svc,
		sizeof(svc), &svclen) == -1)
		goto fail;
	if (o->addr != NULL) {
		/* "ip;port" as in the saslauthd mode: rip= gets the ip. */
		semi = strchr(o->addr, ';');
		iplen =
		    semi != NULL ? (size_t)(semi - o->addr) : strlen(o->addr);
		if (dovecot_escape((const uint8_t *)o->addr, iplen, rip,
			sizeof(rip), &riplen) == -1)
			goto fail;
	}
	n = snprintf((char *)out, outsz,
	    "VERSION\t1\t2\nCPID\t%ld\nAUTH\t1\tPLAIN\tservice=%.*s%s%.*s"
	    "\tresp=%s\n",
	    (long)getpid(), (int)svclen, (const char *)svc,
	    o->addr != NULL ? "\trip=" : "", (int)riplen, (const char *)rip,
	    b64);
	explicit_bzero(b64, sizeof(b64));
	if (n < 0 || (size_t)n >= outsz)
		return 0;
	return (size_t)n;
fail:
	explicit_bzero(b64, sizeof(b64));
	return 0;
}

static void
tsa_catch(int signo)
{
	tsa_signo = signo;
}

/* No SA_RESTART: a caught signal must end the blocking read. */
static void
tsa_sigs_catch(struct sigaction saved[])
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	(void)sigemptyset(&sa.sa_mask);
	sa.sa_handler = tsa_catch;
	for (i = 0; i < TSA_NSIGS; i++) {
		(void)sigaction(tsa_sigs[i], &sa, &saved[i]);
		if (saved[i].sa_handler == SIG_IGN)
			(void)sigaction(tsa_sigs[i], &saved[i], NULL);
	}
}

static void
tsa_sigs_restore(const struct sigaction saved[])
{
	size_t i;

	for (i = 0; i < TSA_NSIGS; i++)
		(void)sigaction(tsa_sigs[i], &saved[i], NULL);
}

/*
 * One line from fd, newline stripped, read a byte at a time without stdio
 * so that no copy is left in a buffer we cannot wipe and nothing past the
 * line is consumed. Returns 0, or -1 with errno set (0 for end of input
 * before any byte, EMSGSIZE for a line longer than bufsz).
 */
static int
tsa_read_line(int fd, char *buf, size_t bufsz, size_t *ret_len)
{
	size_t len = 0;
	ssize_t n;
	char c = '\0';
	int rv = -1;

	for (;;) {
		n = read(fd, &c, 1);
		if (n == -1)
			goto out;
		if (n == 0) {
			if (len == 0) {
				errno = 0;
				goto out;
			}
			break;
		}
		if (c == '\n')
			break;
		if (len == bufsz) {
			errno = EMSGSIZE;
			goto out;
		}
		buf[len++] = c;
	}
	*ret_len = len;
	rv = 0;
out:
	explicit_bzero(&c, sizeof(c));
	if (rv == -1)
		explicit_bzero(buf, len);
	return rv;
}

/*
 * With SIGTTOU blocked the restore succeeds even if we were moved to the
 * background meanwhile, instead of stopping with echo still off.
 */
static void
tsa_tty_restore(const struct termios *t)
{
	sigset_t ttou, saved;

	(void)sigemptyset(&ttou);
	(void)sigaddset(&ttou, SIGTTOU);
	(void)sigprocmask(SIG_BLOCK, &ttou, &saved);
	while (tcsetattr(STDIN_FILENO, TCSAFLUSH, t) == -1 && errno == EINTR)
		;
	(void)sigprocmask(SIG_SETMASK, &saved, NULL);
}

/*
 * The prompt on a terminal: echo off, and the terminal restored on every
 * path, including the usual signals, which are then re-raised. After a
 * stop signal the prompt starts again, as readpassphrase(3) does.
 */
static int
tsa_read_password_tty(char *buf, size_t bufsz, size_t *ret_len)
{
	struct sigaction saved[TSA_NSIGS];
	struct termios told, tnew;
	int rv, err, signo;

	do {
		tsa_signo = 0;
		rv = -1;
		tsa_sigs_catch(saved);
		if (tcgetattr(STDIN_FILENO, &told) == 0) {
			tnew = told;
			tnew.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
			if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &tnew) == 0) {
				(void)fputs("Password: ", stderr);
				rv = tsa_read_line(
				    STDIN_FILENO, buf, bufsz, ret_len);
				err = errno;
				(void)fputc('\n', stderr);
				tsa_tty_restore(&told);
				errno = err;
			}
		}
		err = errno;
		tsa_sigs_restore(saved);
		signo = tsa_signo;
		if (signo != 0) {
			if (rv == 0)
				explicit_bzero(buf, *ret_len);
			rv = -1;
			err = EINTR;
			/* Fatal ones end here, with the terminal restored. */
			(void)raise(signo);
		}
		errno = err;
	} while (signo == SIGTSTP || signo == SIGTTIN || signo == SIGTTOU);
	return rv;
}

/* -p -: the first line of standard input, with a prompt on a terminal. */
static int
tsa_read_password(char *buf, size_t bufsz, size_t *ret_len)
{
	int rv;

	if (isatty(STDIN_FILENO))
		rv = tsa_read_password_tty(buf, bufsz, ret_len);
	else
		rv = tsa_read_line(STDIN_FILENO, buf, bufsz, ret_len);
	if (rv == -1 && errno == 0)
		(void)fprintf(stderr, "%s: no password on standard input\n",
		    SASLD_TEST_NAME);
	else if (rv == -1 && errno == EMSGSIZE)
		(void)fprintf(stderr, "%s: password too long (max %zu bytes)\n",
		    SASLD_TEST_NAME, bufsz);
	else if (rv == -1)
		(void)fprintf(stderr, "%s: reading the password: %s\n",
		    SASLD_TEST_NAME, strerror(errno));
	return rv;
}

int
main(int argc, char *argv[])
{
	static const struct rlimit nocore = {0, 0};
	struct tsa_opts o;
	struct sockaddr_un sun;
	/* Our copy of the password (argv's is erased); req holds another. */
	char password[SASLD_TEST_MAX_REQUEST];
	uint8_t req[SASLD_TEST_MAX_REQUEST + DOVECOT_MAX_LINE];
	const char *fields[PROTO_NFIELDS];
	size_t lens[PROTO_NFIELDS];
	size_t passwordlen = 0, reqlen = 0, pathlen, arglen;
	socklen_t sunlen;
	long i;
	int c, have_password = 0, help = 0, bad = 0;
	int rv = SASLD_TEST_EXIT_USAGE;

	/* A core file would hold the password. */
	(void)setrlimit(RLIMIT_CORE, &nocore);

	memset(&o, 0, sizeof(o));
	o.realm = "";
	o.service = SASLD_TEST_SERVICE;
	o.path = NULL;
	o.repeat = 1;
	o.timeout = SASLD_TEST_TIMEOUT;

	opterr = 0; /* our messages name us as the usage text does */
	while ((c = getopt(argc, argv, ":u:p:r:s:f:R:a:t:vhD")) != -1) {
		switch (c) {
		case 'D':
			o.dovecot = 1;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'p':
			have_password = 1;
			o.password_stdin = strcmp(optarg, "-") == 0;
			if (o.password_stdin)
				break;
			/*
			 * Copy, then erase the argument in place, so that
			 * it vanishes from /proc/PID/cmdline; it was visible
			 * there from exec until now.
			 */
			arglen = strlen(optarg);
			explicit_bzero(password, passwordlen);
			passwordlen = 0;
			if (arglen > sizeof(password)) {
				(void)fprintf(stderr,
				    "%s: password too long (max %zu bytes)\n",
				    SASLD_TEST_NAME, sizeof(password));
				bad = 1;
			} else {
				memcpy(password, optarg, arglen);
				passwordlen = arglen;
			}
			explicit_bzero(optarg, arglen);
			break;
		case 'r':
			o.realm = optarg;
			break;
		case 's':
			o.service = optarg;
			break;
		case 'f':
			o.path = optarg;
			break;
		case 'a':
			o.addr = optarg;
			break;
		case 'R':
			if (tsa_parse_long(optarg, 1, SASLD_TEST_MAX_REPEAT,
				&o.repeat) == -1) {
				(void)fprintf(stderr,
				    "%s: -R: not a number in 1..%d: %s\n",
				    SASLD_TEST_NAME, SASLD_TEST_MAX_REPEAT,
				    optarg);
				bad = 1;
			}
			break;
		case 't':
			if (tsa_parse_long(optarg, 1, SASLD_TEST_MAX_TIMEOUT,
				&o.timeout) == -1) {
				(void)fprintf(stderr,
				    "%s: -t: not a number in 1..%d: %s\n",
				    SASLD_TEST_NAME, SASLD_TEST_MAX_TIMEOUT,
				    optarg);
				bad = 1;
			}
			break;
		case 'v':
			o.verbose = 1;
			break;
		case 'h':
			help = 1;
			break;
		case ':':
			(void)fprintf(stderr,
			    "%s: option requires an argument -- '%c'\n",
			    SASLD_TEST_NAME, optopt);
			bad = 1;
			break;
		default:
			(void)fprintf(stderr, "%s: invalid option -- '%c'\n",
			    SASLD_TEST_NAME, optopt);
			bad = 1;
			break;
		}
	}
	if (help) {
		tsa_usage(stdout);
		rv = SASLD_TEST_EXIT_OK;
		goto out;
	}
	/* Stray words are most likely a password with a space in it: refuse
	 * them, without echoing them. */
	if (optind < argc) {
		(void)fprintf(
		    stderr, "%s: unexpected argument\n", SASLD_TEST_NAME);
		bad = 1;
	}
	if (bad || o.user == NULL || !have_password) {
		tsa_usage(stderr);
		goto out;
	}

	if (o.path == NULL)
		o.path = o.dovecot ? SASLD_DEFAULT_DOVECOT_SOCKET
				   : SASLD_DEFAULT_SOCKET;
	pathlen = strlen(o.path);
	if (pathlen == 0 || pathlen >= sizeof(sun.sun_path)) {
		(void)fprintf(stderr,
		    "%s: socket path empty or too long (max %zu bytes): %s\n",
		    SASLD_TEST_NAME, sizeof(sun.sun_path) - 1, o.path);
		goto out;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, o.path, pathlen + 1);
	sunlen =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + pathlen + 1);

	if (o.password_stdin &&
	    tsa_read_password(password, sizeof(password), &passwordlen) == -1)
		goto out;

	if (o.dovecot) {
		reqlen = tsa_dovecot_request(
		    &o, password, passwordlen, req, sizeof(req));
		if (reqlen == 0) {
			(void)fprintf(stderr,
			    "%s: request too large or not sendable\n",
			    SASLD_TEST_NAME);
			goto out;
		}
		for (i = 0; i < o.repeat; i++) {
			(void)printf("%ld: ", i);
			(void)fflush(stdout);
			rv = tsa_attempt_dovecot(&o, &sun, sunlen, req, reqlen);
		}
		goto out;
	}
	fields[PROTO_LOGIN] = o.user;
	fields[PROTO_PASSWORD] = password;
	fields[PROTO_SERVICE] = o.service;
	fields[PROTO_REALM] = o.realm;
	fields[PROTO_ADDR] = o.addr;
	lens[PROTO_LOGIN] = strlen(o.user);
	lens[PROTO_PASSWORD] = passwordlen;
	lens[PROTO_SERVICE] = strlen(o.service);
	lens[PROTO_REALM] = strlen(o.realm);
	lens[PROTO_ADDR] = o.addr != NULL ? strlen(o.addr) : 0;
	/* Every released client sends 4 fields; the 5th only with -a. */
	reqlen = proto_encode_request(req, sizeof(req), fields, lens,
	    o.addr != NULL ? PROTO_NFIELDS : PROTO_NFIELDS - 1);
	if (reqlen == 0) {
		(void)fprintf(stderr, "%s: request too large (max %zu bytes)\n",
		    SASLD_TEST_NAME, sizeof(req));
		goto out;
	}

	/* Cyrus prints the prefix before each attempt and leaves it dangling
	 * on a transport error; flushed, so it precedes the error text. */
	for (i = 0; i < o.repeat; i++) {
		(void)printf("%ld: ", i);
		(void)fflush(stdout);
		rv = tsa_attempt(&o, &sun, sunlen, req, reqlen);
	}
out:
	explicit_bzero(password, sizeof(password));
	explicit_bzero(req, sizeof(req));
	return rv;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dvraw - a raw Dovecot auth protocol client for the tests: plays a
 * transcript from standard input against a UNIX socket and prints what
 * the server answered, normalised so that two servers (saslauthd-ng and
 * Dovecot's own auth) can be compared line by line. Test only.
 *
 * usage: dvraw [-t SECONDS] SOCKET < transcript
 * Transcript lines (anything else is an error, exit 2):
 *   # ...      comment; an empty line is ignored too
 *   > TEXT     send TEXT and a LF; escapes: \t TAB, \n LF, \r CR, \0 NUL,
 *              \xHH a byte, \\ a backslash
 *   >> TEXT    send TEXT without the LF
 *   > @N:C     send N bytes C (one character) and a LF: over-long lines
 *   H          read the handshake through DONE; print it with SPID, CUID
 *              and COOKIE values replaced and only the PLAIN and LOGIN
 *              MECH lines
 *   <          read one line and print it ("< " first, TAB as \t)
 *   E          the server must close: print "= EOF", or the lines that
 *              came first, or "= OPEN" after the timeout
 *   Q MS       nothing may come for MS ms: print "= QUIET" or the line
 *   W MS       sleep MS ms
 * Exit 0 when the transcript ran (whatever the server said), 1 on a
 * transport error or timeout (printed), 2 on a bad transcript.
 *
 * SECURITY: test code; transcripts hold test passwords only.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DVRAW_BUF 65536
#define DVRAW_MAX_SEND (1024 * 1024)

static int fd = -1;
static int timeout_ms = 15000;
static char in[DVRAW_BUF];
static size_t inlen;
static int eof;

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to ms for more bytes: 1 got some, 0 timeout, -1 EOF/error. */
static int
fill(int ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	ssize_t n;
	int r;

	if (eof)
		return -1;
	if (inlen == sizeof(in)) {
		fprintf(stderr, "dvraw: server line too long\n");
		exit(1);
	}
	r = poll(&p, 1, ms);
	if (r <= 0)
		return r == 0 ? 0 : -1;
	n = read(fd, in + inlen, sizeof(in) - inlen);
	if (n <= 0) {
		eof = 1;
		return -1;
	}
	inlen += (size_t)n;
	return 1;
}

/* One line (without LF) into line; 1, 0 timeout, -1 EOF. */
static int
get_line(char *line, size_t linesz, int ms)
{
	long long end = now_ms() + ms;
	char *lf;
	size_t n;
	int r;

	for (;;) {
		if ((lf = memchr(in, '\n', inlen)) != NULL) {
			n = (size_t)(lf - in);
			if (n >= linesz)
				n = linesz - 1;
			memcpy(line, in, n);
			line[n] = '\0';
			n = (size_t)(lf - in) + 1;
			memmove(in, in + n, inlen - n);
			inlen -= n;
			return 1;
		}
		ms = (int)(end - now_ms());
		if (ms < 0)
			ms = 0;
		r = fill(ms);
		if (r == 0)
			return 0;
		if (r == -1)
			return -1;
	}
}

static void
print_line(const char *prefix, const char *s)
{
	fputs(prefix, stdout);
	for (; *s != '\0'; s++) {
		if (*s == '\t')
			fputs("\\t", stdout);
		else if (*s == '\r')
			fputs("\\r", stdout);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			printf("\\x%02x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('\n');
}

static void
send_all(const char *buf, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = send(fd, buf, len, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* The server may close on bad input: say so once. */
			printf("= SEND FAILED (%s)\n",
			    w == -1 ? strerror(errno) : "0");
			return;
		}
		buf += w;
		len -= (size_t)w;
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode the escapes of s into out; returns the length or -1. */
static long
unescape(const char *s, char *out, size_t outsz)
{
	size_t o = 0;
	int h, l;

	for (; *s != '\0'; s++) {
		if (o + 1 >= outsz)
			return -1;
		if (*s != '\\') {
			out[o++] = *s;
			continue;
		}
		switch (*++s) {
		case 't':
			out[o++] = '\t';
			break;
		case 'n':
			out[o++] = '\n';
			break;
		case 'r':
			out[o++] = '\r';
			break;
		case '0':
			out[o++] = '\0';
			break;
		case '\\':
			out[o++] = '\\';
			break;
		case 'x':
			if ((h = hexval(s[1])) < 0 || (l = hexval(s[2])) < 0)
				return -1;
			out[o++] = (char)(h * 16 + l);
			s += 2;
			break;
		default:
			return -1;
		}
	}
	return (long)o;
}

static void
do_send(const char *arg, int newline)
{
	static char buf[DVRAW_MAX_SEND + 2];
	long n, count;
	char *end;

	if (arg[0] == '@') {
		count = strtol(arg + 1, &end, 10);
		if (count < 0 || count > DVRAW_MAX_SEND || *end != ':' ||
		    end[1] == '\0' || end[2] != '\0') {
			fprintf(stderr, "dvraw: bad @N:C\n");
			exit(2);
		}
		memset(buf, end[1], (size_t)count);
		n = count;
	} else if ((n = unescape(arg, buf, sizeof(buf) - 1)) < 0) {
		fprintf(stderr, "dvraw: bad escape in: %s\n", arg);
		exit(2);
	}
	if (newline)
		buf[n++] = '\n';
	send_all(buf, (size_t)n);
}

/* A small decimal number of a transcript or the command line. */
static long
num(const char *s)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < 0 || v > 3600 * 1000) {
		fprintf(stderr, "dvraw: bad number: %s\n", s);
		exit(2);
	}
	return v;
}

static void
normalize(char *line)
{
	static const char *const keys[] = {"SPID\t", "CUID\t", "COOKIE\t"};
	static const char *const repl[] = {
	    "SPID\t<pid>", "CUID\t<cuid>", "COOKIE\t<cookie>"};
	size_t i;

	for (i = 0; i < 3; i++)
		if (strncmp(line, keys[i], strlen(keys[i])) == 0 &&
		    line[strlen(keys[i])] != '\0') {
			/* Shorter than any real line it replaces. */
			memcpy(line, repl[i], strlen(repl[i]) + 1);
			return;
		}
}

static void
do_handshake(void)
{
	char line[DVRAW_BUF];
	int r;

	for (;;) {
		r = get_line(line, sizeof(line), timeout_ms);
		if (r != 1) {
			printf(
			    "= %s before DONE\n", r == 0 ? "TIMEOUT" : "EOF");
			exit(1);
		}
		if (strncmp(line, "MECH\t", 5) == 0 &&
		    strncmp(line, "MECH\tPLAIN\t", 11) != 0 &&
		    strncmp(line, "MECH\tLOGIN\t", 11) != 0)
			continue;
		normalize(line);
		print_line("< ", line);
		if (strcmp(line, "DONE") == 0)
			return;
	}
}

int
main(int argc, char *argv[])
{
	struct sockaddr_un sun;
	char cmd[DVRAW_MAX_SEND + 64], line[DVRAW_BUF];
	size_t n;
	int r, ms;

	if (argc == 4 && strcmp(argv[1], "-t") == 0) {
		timeout_ms = (int)num(argv[2]) * 1000;
		argv += 2;
		argc -= 2;
	}
	if (argc != 2 || timeout_ms <= 0) {
		fprintf(stderr, "usage: dvraw [-t SECONDS] SOCKET < script\n");
		return 2;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(argv[1]) >= sizeof(sun.sun_path))
		return 2;
	memcpy(sun.sun_path, argv[1], strlen(argv[1]) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		printf("= CONNECT FAILED (%s)\n", strerror(errno));
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(cmd, sizeof(cmd), stdin) != NULL) {
		n = strlen(cmd);
		if (n > 0 && cmd[n - 1] == '\n')
			cmd[--n] = '\0';
		if (n == 0 || cmd[0] == '#')
			continue;
		if (strncmp(cmd, ">> ", 3) == 0)
			do_send(cmd + 3, 0);
		else if (strncmp(cmd, "> ", 2) == 0)
			do_send(cmd + 2, 1);
		else if (strcmp(cmd, "H") == 0)
			do_handshake();
		else if (strcmp(cmd, "<") == 0) {
			r = get_line(line, sizeof(line), timeout_ms);
			if (r != 1) {
				printf("= %s\n", r == 0 ? "TIMEOUT" : "EOF");
				return 1;
			}
			print_line("< ", line);
		} else if (strcmp(cmd, "E") == 0) {
			while (
			    (r = get_line(line, sizeof(line), timeout_ms)) == 1)
				print_line("< ", line);
			printf("= %s\n", r == 0 ? "OPEN" : "EOF");
		} else if (strncmp(cmd, "Q ", 2) == 0) {
			ms = (int)num(cmd + 2);
			r = get_line(line, sizeof(line), ms);
			if (r == 1)
				print_line("< ", line);
			else
				printf("= %s\n", r == 0 ? "QUIET" : "EOF");
		} else if (strncmp(cmd, "W ", 2) == 0)
			usleep((useconds_t)num(cmd + 2) * 1000);
		else {
			fprintf(
			    stderr, "dvraw: bad transcript line: %s\n", cmd);
			return 2;
		}
	}
	close(fd);
	return 0;
}

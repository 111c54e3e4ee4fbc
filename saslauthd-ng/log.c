/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.c - syslog/stderr logging shared by the parent, the front and the PAM
 * workers (see log.h).
 *
 * SECURITY: lines are built with vsnprintf into a fixed buffer, so an
 * over-long argument truncates rather than overflows. Callers sanitize
 * untrusted strings first; this file never sees a password.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "saslauthd-ng";
static int log_to_stderr;
static int log_is_verbose;
static log_forward_fn log_forward;

void
log_init(const char *ident, int to_stderr, int verbose)
{
	log_ident = ident;
	log_to_stderr = to_stderr;
	log_is_verbose = verbose;
	/* LOG_NDELAY: open /dev/log now, before any chroot. */
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_AUTH);
}

void
log_set_verbose(int verbose)
{
	log_is_verbose = verbose;
}

int
log_verbose(void)
{
	return log_is_verbose;
}

void
log_set_stderr(int on)
{
	log_to_stderr = on;
}

void
log_set_forward(log_forward_fn fn)
{
	log_forward = fn;
}

void
log_emit(int level, const char *line)
{
	char buf[SASLD_LOG_LINE + 64];
	int n;

	if (level == LOG_DEBUG && !log_is_verbose)
		return;
	if (log_forward != NULL) {
		log_forward(level, line);
		return;
	}
	syslog(level, "%s", line);
	if (log_to_stderr) {
		/* One write per line so that lines of several processes
		 * sharing stderr do not interleave. */
		n = snprintf(buf, sizeof(buf), "%s[%ld]: %s\n", log_ident,
		    (long)getpid(), line);
		if (n > 0) {
			if ((size_t)n >= sizeof(buf))
				n = sizeof(buf) - 1;
			if (write(STDERR_FILENO, buf, (size_t)n) == -1)
				return; /* nowhere left to complain */
		}
	}
}

static void log_vlog(int, const char *, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
log_vlog(int level, const char *suffix, const char *fmt, va_list ap)
{
	char line[SASLD_LOG_LINE];
	size_t n;
	int r;

	if (level == LOG_DEBUG && !log_is_verbose)
		return;
	r = vsnprintf(line, sizeof(line), fmt, ap);
	if (r < 0)
		return;
	if (suffix != NULL) {
		n = strlen(line);
		if (n < sizeof(line))
			(void)snprintf(
			    line + n, sizeof(line) - n, ": %s", suffix);
	}
	log_emit(level, line);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	char err[128];
	int saved = errno;

	(void)snprintf(err, sizeof(err), "%s", strerror(saved));
	va_start(ap, fmt);
	log_vlog(LOG_WARNING, err, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	_exit(1);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	char err[128];

	(void)snprintf(err, sizeof(err), "%s", strerror(errno));
	va_start(ap, fmt);
	log_vlog(LOG_CRIT, err, fmt, ap);
	va_end(ap);
	_exit(1);
}

char *
log_sanitize(char *dst, size_t dstsz, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const char *ell = "...";
	size_t i, o = 0;
	unsigned char c;

	if (dstsz == 0)
		return dst;
	for (i = 0; i < len; i++) {
		c = (unsigned char)src[i];
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
			if (o + 1 + 4 >= dstsz)
				goto trunc;
			dst[o++] = (char)c;
		} else {
			if (o + 4 + 4 >= dstsz)
				goto trunc;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 0xf];
		}
	}
	dst[o] = '\0';
	return dst;
trunc:
	/* Room for "..." and the NUL was kept above. */
	for (i = 0; ell[i] != '\0' && o + 1 < dstsz; i++)
		dst[o++] = ell[i];
	dst[o] = '\0';
	return dst;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.h - logging for every saslauthd-ng process.
 *
 * The parent and the PAM workers log to syslog (LOG_AUTH) and, in the
 * foreground, to stderr. The front is chrooted and cannot reach /dev/log,
 * so it forwards each line to the parent over its control channel
 * (log_set_forward()).
 *
 * SECURITY: nothing here ever receives a password. Untrusted strings are
 * passed through log_sanitize() before they are formatted into a line.
 */
#ifndef SASLD_LOG_H
#define SASLD_LOG_H

#include <stdarg.h>
#include <stddef.h>

#define SASLD_LOG_LINE 1024 /* one syslog line; longer lines are truncated */

/*
 * Where a line goes besides syslog/stderr: the front installs a function
 * that frames it to the parent. level is a syslog priority.
 */
typedef void (*log_forward_fn)(int level, const char *line);

/* Opens syslog with ident, LOG_PID|LOG_NDELAY, facility LOG_AUTH. */
void log_init(const char *ident, int to_stderr, int verbose);
void log_set_verbose(int verbose);
int log_verbose(void);
void log_set_stderr(int on);
/* Instead of syslog and stderr, hand every line to fn (front only). */
void log_set_forward(log_forward_fn fn);
/* Emit an already formatted line at level (used by the parent for lines
 * forwarded by the front). */
void log_emit(int level, const char *line);

void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Copy up to len bytes of untrusted src into dst (size dstsz, always
 * NUL-terminated), escaping non-printable bytes, backslash and '"' as \xNN
 * and marking truncation with "...". Returns dst.
 */
char *log_sanitize(char *dst, size_t dstsz, const char *src, size_t len);

#endif

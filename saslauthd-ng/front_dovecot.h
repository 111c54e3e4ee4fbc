/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * front_dovecot.h - the front's Dovecot auth protocol connections
 * (--listen dovecot:PATH, --postfix-dovecot): Postfix's smtpd_sasl_type =
 * dovecot and Exim's dovecot authenticator. The bytes are the codec's
 * (proto_dovecot.c); this is the I/O, the timers and the PAM checks.
 *
 * SECURITY: runs in the unprivileged front, on untrusted bytes. Every
 * resource a client holds is bounded: a line (DOVECOT_MAX_LINE), pending
 * requests (DOVECOT_MAX_PENDING), unsent replies (FRONT_DV_OUT_MAX),
 * delayed failures (FRONT_DV_MAX_DELAYED) and time (--read-timeout for
 * the first line, idle, write stall, abandoned requests). Passwords live in a check until the worker starts
 * it, and are wiped then, when it ends or when the connection dies.
 */
#ifndef SASLD_FRONT_DOVECOT_H
#define SASLD_FRONT_DOVECOT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "front.h"
#include "ipc.h"
#include "proto_dovecot.h"

/*
 * Postfix gives every read of the auth stream 10 s (AUTH_TIMEOUT in
 * xsasl_dovecot_server.c) and then answers 454 "Connection lost": every
 * answer leaves within FRONT_DV_ANSWER_MS of the line that asked, the
 * second left for the write and a loaded machine. Queue wait and PAM
 * together end at FRONT_DV_PAM_MS (or --pam-timeout if shorter), so that
 * even a timeout is answered in time.
 */
#define FRONT_DV_ANSWER_MS 9000
#define FRONT_DV_PAM_MS 8000
/* Failures the codec finds itself (malformed PLAIN, empty password, ...)
 * wait as long as Dovecot's auth_failure_delay, like a PAM failure, so
 * their timing tells nothing. A PAM failure waits what PAM asked. */
#define FRONT_DV_FAIL_DELAY_MS 2000
/*
 * Postfix keeps one auth connection per smtpd process, across SMTP
 * sessions, for the life of the process (max_use 100 sessions, max_idle
 * 100 s without a client); an smtpd serving sessions without AUTH keeps it
 * idle meanwhile. Close a connection only after this long without a line:
 * Postfix reconnects by itself when its next write fails.
 */
#define FRONT_DV_IDLE_MS (1800 * 1000)
/* Replies not yet taken by the client; a client whose unread replies
 * outgrow this (the kernel's socket buffer full first) is cut off. */
#define FRONT_DV_OUT_MAX 8192
/* Output that makes no progress for this long: the client stopped
 * reading (Postfix reads within its 10 s or has gone). */
#define FRONT_DV_WRITE_MS 10000
/* Failure replies waiting out their delay; Postfix has at most one. */
#define FRONT_DV_MAX_DELAYED (2 * DOVECOT_MAX_PENDING)

void front_dovecot_init(struct loop *lp);

/*
 * A new connection on a Dovecot listener, already admitted (and counted)
 * by the front. Sends the handshake. Returns 0, or -1 when it could not be
 * set up (fd untouched: the caller closes it and releases the count).
 */
int front_dovecot_accept(int fd, uid_t peer_uid, pid_t peer_pid);

/* epoll events on a Dovecot connection (ev->kind == EV_DOVECOT). */
void front_dovecot_event(struct evsrc *ev, uint32_t events);

/* The pool's callbacks for a CHECK_DOVECOT check (front.h). */
size_t front_dovecot_encode_auth(struct check *ch, uint8_t *out, size_t outsz);
void front_dovecot_auth_wipe(struct check *ch);
void front_dovecot_auth_done(
    struct check *ch, const struct ipc_auth_res *res, const char *text);
/* ch waited for a worker until its deadline. */
void front_dovecot_queue_timeout(struct check *ch);

/* Stop: close idle connections now, the others once answered. */
void front_dovecot_shutdown(void);
/* USR1: one log line of counters. */
void front_dovecot_stats(void);

#endif

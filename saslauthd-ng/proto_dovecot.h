/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proto_dovecot.h - the server side of the Dovecot auth protocol ("auth
 * client" protocol, version 1.2) as Postfix (smtpd_sasl_type = dovecot) and
 * Exim use it: pure functions over bytes, no I/O, no logging, no clock, no
 * allocation. All state lives in a caller-provided struct dovecot_conn of
 * fixed size. Reference: ../shared/reference/dovecot-auth.md section A.
 *
 * DESIGN - how the front drives it, per connection:
 *
 *   accept:   dovecot_init(dc, flags);
 *             n = dovecot_handshake(out, sizeof(out), pid, cuid, cookie);
 *             send out[0..n) at once, before reading (Postfix pipelines its
 *             VERSION/CPID, Exim waits for DONE; both are then happy).
 *   readable: append to the connection's input buffer, then
 *             while ((r = dovecot_next_line(buf, len, DOVECOT_MAX_LINE,
 *                 &linelen, &used)) == 1) {
 *                     dovecot_input(dc, buf, linelen, now_ms, &act);
 *                     consume used bytes; handle act (below);
 *             }
 *             r == -1: a line longer than DOVECOT_MAX_LINE: log, close.
 *   act.type: DOVECOT_ACT_NONE   nothing to do;
 *             DOVECOT_ACT_REPLY  queue act.reply[0..act.replylen); when
 *                                act.authfail, hold it for the failure delay
 *                                first, as for a PAM failure; act.reason
 *                                says why a FAIL was sent (for the log);
 *             DOVECOT_ACT_CHECK  build the PAM request from act.req (user,
 *                                service, rip = PAM_RHOST and throttle key)
 *                                and act.password, remember act.ticket,
 *                                call dovecot_wipe_secret(dc), dispatch;
 *             DOVECOT_ACT_CLOSE  a client bug (Dovecot disconnects too): log
 *                                act.reason, dovecot_reset(dc), close.
 *   PAM done: dovecot_result(dc, ticket, outcome, canonical user, reason,
 *             &act) gives a REPLY (or NONE when the client cancelled the
 *             request meanwhile). To make Postfix say "454 4.7.0" for a
 *             temporary failure, a front may close the connection instead of
 *             sending that FAIL (A.6); the call is still needed to free the
 *             slot.
 *   timer:    dovecot_expire(dc, now_ms, DOVECOT_PENDING_IDLE_MS, &next)
 *             drops requests the client never continued (Postfix abandons
 *             them after an SMTP "*") and says when to call again.
 *   close:    dovecot_reset(dc); drop results that arrive later.
 *
 * Several requests may be pending per connection (DOVECOT_MAX_PENDING). A
 * request is answered at most once: the codec frees its slot when it emits
 * the final OK/FAIL, and a ticket whose slot was freed or reused gives NONE.
 *
 * SECURITY: every byte a client sends to a Dovecot-protocol socket is parsed
 * here and nowhere else. Decoded credentials are only ever in dc->scratch,
 * which every call wipes on entry; dovecot_input() wipes the caller's line
 * (it holds base64 passwords) before it returns. Nothing here ever produces
 * OK: only dovecot_result() with DOVECOT_OK does, for a request that was
 * handed out as CHECK. Values we send are tab-escaped and user names with
 * control bytes are refused, so a reply line can never be split or forged.
 */
#ifndef SASLD_PROTO_DOVECOT_H
#define SASLD_PROTO_DOVECOT_H

#include <stddef.h>
#include <stdint.h>

/* Dovecot's AUTH_CLIENT_MAX_LINE_LENGTH: a client line, LF included, is at
 * most this long; longer means a broken client and a disconnect. Postfix's
 * smtpd_sasl_response_limit (12288) keeps its lines below it. */
#define DOVECOT_MAX_LINE 16384
/* Requests pending per connection: Postfix has one at a time plus those it
 * abandoned after an SMTP "*"; the oldest abandoned one makes room. */
#define DOVECOT_MAX_PENDING 8
/* Dovecot's MASTER_AUTH_SERVER_TIMEOUT_SECS: how long a request may wait
 * for the client's CONT. smtpd itself waits up to smtpd_timeout (300 s) for
 * the SMTP client, so much shorter would fail slow typists. */
#define DOVECOT_PENDING_IDLE_MS (150 * 1000)
/* User name and password limits: the saslauthd side's default --max-field,
 * so the same accounts work over both protocols. */
#define DOVECOT_MAX_USER 1024
#define DOVECOT_MAX_PASS 1024
/* A PAM service names a file in /etc/pam.d (SASLD_MAX_SERVICE). */
#define DOVECOT_MAX_SERVICE 64
/* An IPv6 address as text (INET6_ADDRSTRLEN - 1). */
#define DOVECOT_MAX_IP 45
/* Longest decoded SASL response: PLAIN's authzid NUL authcid NUL password. */
#define DOVECOT_MAX_DECODED (2 * DOVECOT_MAX_USER + DOVECOT_MAX_PASS + 2)
/* Longest reason text we put in a FAIL (before escaping). */
#define DOVECOT_MAX_REASON 200
/* Longest reply line: FAIL, id, an escaped user, a code, an escaped reason. */
#define DOVECOT_MAX_REPLY (64 + 2 * DOVECOT_MAX_USER + 2 * DOVECOT_MAX_REASON)
/* The server handshake is about 150 bytes. */
#define DOVECOT_MAX_HANDSHAKE 256
#define DOVECOT_COOKIE_LEN 16 /* sent as 32 lowercase hex digits */
/* What TEMPFAIL replies say when the caller gives no reason: Postfix shows
 * only reason= to the SMTP client (535 5.7.8 ...: <reason>). */
#define DOVECOT_TEMPFAIL_REASON "Temporary authentication failure"

/* dovecot_init() flags */
/* Refuse AUTH without "secured" (no TLS between SMTP client and smtpd):
 * PLAIN and LOGIN are plaintext mechanisms. */
#define DOVECOT_F_REQUIRE_SECURED 0x01

enum dovecot_mech {
	DOVECOT_MECH_PLAIN = 1,
	DOVECOT_MECH_LOGIN,
};

enum dovecot_req_state {
	DOVECOT_REQ_FREE = 0,
	DOVECOT_REQ_CONT, /* we sent CONT and wait for the client's CONT */
	DOVECOT_REQ_CHECK, /* handed out as CHECK; waiting for the result */
	DOVECOT_REQ_ORPHAN, /* CHECK, then cancelled: the result is dropped */
};

enum dovecot_step {
	DOVECOT_STEP_RESP = 1, /* PLAIN: the whole response */
	DOVECOT_STEP_USER, /* LOGIN: "Username:" was sent */
	DOVECOT_STEP_PASS, /* LOGIN: "Password:" was sent */
};

/* One pending request. Strings are NUL-terminated; "" when unknown. */
struct dovecot_req {
	enum dovecot_req_state state;
	enum dovecot_mech mech;
	enum dovecot_step step;
	uint32_t id; /* the client's request id, never 0 */
	uint32_t ticket; /* slot and generation, for dovecot_result() */
	uint64_t since; /* caller's clock at the last client line */
	int secured; /* "secured": TLS between SMTP client and smtpd */
	int valid_client_cert; /* "valid-client-cert" (Exim) */
	int no_penalty; /* "no-penalty": the client asks not to throttle */
	uint16_t lport, rport; /* 0 when absent or unparsable */
	char service[DOVECOT_MAX_SERVICE + 1]; /* validated, never "" */
	char rip[DOVECOT_MAX_IP + 1]; /* a valid IPv4/IPv6 literal, or "" */
	char lip[DOVECOT_MAX_IP + 1];
	char user[DOVECOT_MAX_USER + 1]; /* once known; no control bytes */
};

/* Per-connection state. Treat as opaque; init with dovecot_init(). */
struct dovecot_conn {
	unsigned flags; /* DOVECOT_F_* */
	int dead; /* a CLOSE was returned: every later line closes again */
	int version_seen; /* the client's VERSION line */
	int cpid_seen;
	int auth_seen; /* an AUTH arrived: CPID is no longer allowed */
	uint32_t minor; /* client's minor version: empty resp= rule */
	uint32_t cpid; /* client's pid (0: not sent), for logs */
	uint32_t gen; /* ticket generation counter */
	struct dovecot_req req[DOVECOT_MAX_PENDING];
	/* Decoded SASL responses: credentials. Wiped on entry to every call
	 * and by dovecot_wipe_secret(). One byte more for a NUL. */
	uint8_t scratch[DOVECOT_MAX_DECODED + 1];
	uint8_t reply[DOVECOT_MAX_REPLY];
};

enum dovecot_act {
	DOVECOT_ACT_NONE,
	DOVECOT_ACT_REPLY, /* send reply[0..replylen) */
	DOVECOT_ACT_CHECK, /* check req->user / password with PAM */
	DOVECOT_ACT_CLOSE, /* protocol error: log reason, close */
};

/*
 * What to do after dovecot_input() or dovecot_result(). Pointers are into
 * the struct dovecot_conn and stay valid until the next call on it.
 */
struct dovecot_action {
	enum dovecot_act type;
	uint32_t id; /* the request concerned, or 0 */
	/* REPLY: exactly one LF-terminated line. */
	const uint8_t *reply;
	size_t replylen;
	/* REPLY: a FAIL for bad credentials (not for a client bug or a
	 * temporary failure): delay it as a PAM failure would be. */
	int authfail;
	/* CLOSE: why; REPLY with FAIL: why, for the log; static text. */
	const char *reason;
	/* CHECK: the request (user, service, rip, lip, flags); REPLY: the
	 * request that failed, NULL when none was set up. */
	const struct dovecot_req *req;
	uint32_t ticket; /* CHECK: give to dovecot_result() */
	/* CHECK: NUL-terminated, 1..DOVECOT_MAX_PASS bytes, no NUL inside;
	 * in dc->scratch, wiped by the next call or dovecot_wipe_secret(). */
	const char *password;
	size_t passlen;
};

enum dovecot_outcome {
	DOVECOT_OK, /* PAM said yes: OK with user= */
	DOVECOT_FAIL, /* wrong password, unknown user, account refused */
	DOVECOT_TEMPFAIL, /* backend unavailable: FAIL code=temp_fail */
	DOVECOT_PASS_EXPIRED, /* FAIL code=pass_expired */
	DOVECOT_USER_DISABLED, /* FAIL code=user_disabled */
};

/* Start a connection: everything zeroed, flags DOVECOT_F_*. */
void dovecot_init(struct dovecot_conn *dc, unsigned flags);

/* Wipe everything (pending requests, credentials) when closing. */
void dovecot_reset(struct dovecot_conn *dc);

/* Wipe the decoded credentials now (after copying a CHECK's password). */
void dovecot_wipe_secret(struct dovecot_conn *dc);

/*
 * The server handshake, in the order Postfix and Exim require (MECH before
 * SPID): VERSION 1 2, MECH PLAIN plaintext, MECH LOGIN plaintext, SPID,
 * CUID, COOKIE (cookie as hex), DONE; LF line ends. Returns its length, or 0
 * when outsz is too small (DOVECOT_MAX_HANDSHAKE always fits).
 */
size_t dovecot_handshake(uint8_t *out, size_t outsz, uint32_t spid,
    uint32_t cuid, const uint8_t cookie[DOVECOT_COOKIE_LEN]);

/*
 * Find the first line in buf[0..len). Returns 1 with *ret_linelen (without
 * the LF and one CR before it, as Dovecot's istream strips) and *ret_used
 * (bytes to consume, LF included); 0 when no LF yet and fewer than maxline
 * bytes are buffered; -1 when maxline bytes hold no LF (line too long).
 */
int dovecot_next_line(const uint8_t *buf, size_t len, size_t maxline,
    size_t *ret_linelen, size_t *ret_used);

/*
 * Handle one client line (no LF). now is the caller's clock in ms, stored
 * for dovecot_expire(). Always fills *act; wipes line[0..len) before
 * returning.
 */
void dovecot_input(struct dovecot_conn *dc, uint8_t *line, size_t len,
    uint64_t now, struct dovecot_action *act);

/*
 * The PAM result for a CHECK's ticket. user is the canonical name for OK
 * (NULL: the requested one); reason, if not NULL, goes into reason= of a
 * FAIL (cut at DOVECOT_MAX_REASON; keep it fixed ASCII). Fills *act with the
 * reply, or NONE when the request was cancelled or the ticket is stale. An
 * OK whose user cannot be sent becomes a TEMPFAIL.
 */
void dovecot_result(struct dovecot_conn *dc, uint32_t ticket,
    enum dovecot_outcome outcome, const char *user, const char *reason,
    struct dovecot_action *act);

/*
 * Drop, without a reply (as Dovecot), requests that have waited for the
 * client's CONT for idle ms or more at now. Returns how many; *ret_next is
 * the caller's time at which the next one expires, 0 if none waits.
 */
size_t dovecot_expire(
    struct dovecot_conn *dc, uint64_t now, uint64_t idle, uint64_t *ret_next);

/* Requests in use (waiting, being checked or orphaned). */
size_t dovecot_pending(const struct dovecot_conn *dc);

/*
 * Strict base64 (RFC 4648 alphabet, padding required, no whitespace).
 * Decode in[0..len) into out: 0 and *ret_len, -1 for invalid input, -2 when
 * it does not fit in outsz. Encode into out as a NUL-terminated string: 0
 * and *ret_len (without the NUL), -1 when it does not fit.
 */
int dovecot_b64_decode(
    const uint8_t *in, size_t len, uint8_t *out, size_t outsz, size_t *ret_len);
int dovecot_b64_encode(
    const uint8_t *in, size_t len, char *out, size_t outsz, size_t *ret_len);

/*
 * Dovecot's tab-escaping, escape byte 0x01: NUL -> 01 '0', 01 -> 01 '1',
 * TAB -> 01 't', CR -> 01 'r', LF -> 01 'n'. Both return 0 and *ret_len, or
 * -1 when out is too small; unescape also -1 for 01 followed by anything
 * else or at the end.
 */
int dovecot_escape(
    const uint8_t *in, size_t len, uint8_t *out, size_t outsz, size_t *ret_len);
int dovecot_unescape(
    const uint8_t *in, size_t len, uint8_t *out, size_t outsz, size_t *ret_len);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proto_saslauthd.h - the Cyrus saslauthd wire protocol: pure functions
 * over bytes, no I/O, no logging, no allocation.
 *
 * A request is 4 or 5 counted strings (2-byte big-endian length, then the
 * bytes, no NUL): login, password, service, realm [, client address]. A
 * reply is one counted string starting "OK" or "NO".
 *
 * SECURITY: every byte a client sends to a saslauthd socket is parsed here
 * and nowhere else. Decoded fields point into the caller's buffer, which
 * holds the password: the caller wipes it.
 */
#ifndef SASLD_PROTO_SASLAUTHD_H
#define SASLD_PROTO_SASLAUTHD_H

#include <stddef.h>
#include <stdint.h>

/* Cyrus' MAX_REQ_LEN; what 2.1.28 accepts for a field. */
#define SASLD_CYRUS_MAX_FIELD 256
/* Our default per-field limit: long passwords and tokens work, and the whole
 * request stays within libsasl2's 8 KiB request buffer. */
#define SASLD_DEFAULT_MAX_FIELD 1024
/* The hard ceiling for --max-field: a 2-byte length can say no more. */
#define SASLD_MAX_FIELD_LIMIT 8192
#define PROTO_NFIELDS 5 /* login, password, service, realm, address */
/* Longest reply we ever build ("NO " + a short reason). */
#define SASLD_MAX_REPLY 256
#define SASLD_MAX_SERVICE 64 /* a PAM service is a file name */

enum proto_field {
	PROTO_LOGIN,
	PROTO_PASSWORD,
	PROTO_SERVICE,
	PROTO_REALM,
	PROTO_ADDR,
};

struct proto_field_ref {
	const uint8_t *ptr; /* into the decoded buffer; not NUL-terminated */
	size_t len;
};

struct proto_request {
	struct proto_field_ref f[PROTO_NFIELDS];
	int nfields; /* 4 or 5 */
};

enum proto_status {
	PROTO_INCOMPLETE, /* need more bytes (or, after field 4, none) */
	PROTO_COMPLETE, /* a whole 4- or 5-field request */
	PROTO_ERR_TOOLONG, /* a length word above the limit */
	PROTO_ERR_NUL, /* a NUL byte inside a field */
	PROTO_ERR_CRLF, /* CR or LF outside the password */
	PROTO_ERR_EMPTY_LOGIN, /* "NO NULL login received" */
	PROTO_ERR_EMPTY_PASSWORD, /* "NO NULL password received" */
	PROTO_ERR_TRAILING, /* bytes after a complete 5-field request */
};

/*
 * Decode the request in buf[0..len). maxfield is the per-field limit.
 * Exactly four complete fields are PROTO_COMPLETE: a client that sends a
 * fifth field sends it in the same write as the others, so the caller
 * decodes only after it has read everything the socket held, and never
 * waits for a fifth field. A field cut short is PROTO_INCOMPLETE. Too long
 * fields are refused as soon as their length word is seen; the empty
 * login/password checks are made on a complete request only, as Cyrus does.
 * On PROTO_COMPLETE *ret_req points into buf.
 */
enum proto_status proto_decode_request(const uint8_t *buf, size_t len,
    size_t maxfield, struct proto_request *ret_req);

/* The reply text (without "NO ") that Cyrus-compatible servers send for a
 * decode error, e.g. "NULL login received". */
const char *proto_status_reason(enum proto_status st);

/*
 * Encode a reply "<text>" as a counted string into out (size outsz).
 * Returns the encoded length, or 0 if it does not fit or text is longer
 * than SASLD_MAX_REPLY.
 */
size_t proto_encode_reply(uint8_t *out, size_t outsz, const char *text);

/*
 * Encode a request (nfields 4 or 5; fields[i] may be NULL for empty) into
 * out. Returns the length, or 0 if a field exceeds 65535 bytes or out is too
 * small. Used by clients (testsaslauthd-ng, tests).
 */
size_t proto_encode_request(uint8_t *out, size_t outsz,
    const char *const fields[], const size_t lens[], int nfields);

/*
 * Decode a reply from buf[0..len). On success sets *ret_text and *ret_len to
 * the reply text and returns 1; returns 0 if more bytes are needed and -1
 * if the reply is malformed (length < 2, as libsasl2 rejects it).
 */
int proto_decode_reply(
    const uint8_t *buf, size_t len, const uint8_t **ret_text, size_t *ret_len);

/* 1 if the reply text starts with "OK" (libsasl2's exact test). */
int proto_reply_is_ok(const uint8_t *text, size_t len);

/*
 * From a client address "host;port" (the fifth field) copy the host part
 * into dst (NUL-terminated). Returns 0, or -1 when it is empty, too long
 * or holds bytes that are not printable ASCII.
 */
int
proto_addr_host(const struct proto_field_ref *addr, char *dst, size_t dstsz);

/*
 * 1 if s[0..len) can name a PAM service: 1..SASLD_MAX_SERVICE bytes of
 * [A-Za-z0-9._+@-], not starting with '.'. A service names a file in
 * /etc/pam.d and Linux-PAM strips everything up to a '/', so anything else
 * would let a client pick an arbitrary stack.
 */
int proto_valid_service(const uint8_t *s, size_t len);

#endif

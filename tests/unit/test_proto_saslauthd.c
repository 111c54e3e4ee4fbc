/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_proto_saslauthd.c - unit tests for the saslauthd wire codec
 * (saslauthd-ng/proto_saslauthd.c): the request decoder, the reply encoder
 * and decoder, the request encoder and proto_addr_host().
 *
 * The byte strings are those of cyrus-saslauthd.md 1.4, captured from
 * Debian's libsasl2 2.1.28: what a real client sends and what Cyrus answers.
 * The decoder is fed prefixes of every request, because a stream socket
 * (and Exim's one write per field) hands the front any split.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "proto_saslauthd.h"

/* A byte-string literal and its length, NUL bytes included. */
#define BYTES(s) (const uint8_t *)(s), (sizeof(s) - 1)

/* cyrus-saslauthd.md 1.4: sasl_checkpass("alice@example.com", "secret")
 * for service "smtp", 34 bytes. */
#define REQ_ALICE                                                              \
	"\x00\x05"                                                             \
	"alice"                                                                \
	"\x00\x06"                                                             \
	"secret"                                                               \
	"\x00\x04"                                                             \
	"smtp"                                                                 \
	"\x00\x0b"                                                             \
	"example.com"
/* The 5th field upstream master appends (SASL_IPREMOTEPORT). */
#define ADDR_FIELD                                                             \
	"\x00\x0c"                                                             \
	"192.0.2.1;25"
/* login, password and service of REQ_ALICE, without the realm. */
#define REQ_ALICE_3                                                            \
	"\x00\x05"                                                             \
	"alice"                                                                \
	"\x00\x06"                                                             \
	"secret"                                                               \
	"\x00\x04"                                                             \
	"smtp"

/* Wide enough for any limit tested here: 5 fields of 65535 bytes. */
#define BIGBUF (PROTO_NFIELDS * (2 + 0xffff))

static const char *
status_name(enum proto_status st)
{
	switch (st) {
	case PROTO_INCOMPLETE:
		return "PROTO_INCOMPLETE";
	case PROTO_COMPLETE:
		return "PROTO_COMPLETE";
	case PROTO_ERR_TOOLONG:
		return "PROTO_ERR_TOOLONG";
	case PROTO_ERR_NUL:
		return "PROTO_ERR_NUL";
	case PROTO_ERR_CRLF:
		return "PROTO_ERR_CRLF";
	case PROTO_ERR_EMPTY_LOGIN:
		return "PROTO_ERR_EMPTY_LOGIN";
	case PROTO_ERR_EMPTY_PASSWORD:
		return "PROTO_ERR_EMPTY_PASSWORD";
	case PROTO_ERR_TRAILING:
		return "PROTO_ERR_TRAILING";
	}
	return "(unknown status)";
}

static void
check_status(const char *name, const char *what, enum proto_status got,
    enum proto_status want)
{
	if (got != want)
		fail_msg("%s: %s: got %s, want %s", name, what,
		    status_name(got), status_name(want));
}

/*
 * Check a PROTO_COMPLETE request against want[0..nfields): each field's
 * bytes, and that it points into buf[0..len) as the header promises.
 */
static void
check_request(const char *name, const struct proto_request *req,
    const uint8_t *buf, size_t len, int nfields, const char *const want[],
    const size_t wantlen[])
{
	static const char *const fname[PROTO_NFIELDS] = {
	    "login", "password", "service", "realm", "address"};
	const struct proto_field_ref *f;
	int i;

	CHECK_INT(name, "nfields", req->nfields, nfields);
	for (i = 0; i < nfields; i++) {
		f = &req->f[i];
		CHECK_BYTES(
		    name, fname[i], f->ptr, f->len, want[i], wantlen[i]);
		if (f->ptr < buf || f->ptr + f->len > buf + len)
			fail_msg("%s: %s: got a pointer outside the buffer, "
				 "want one into it",
			    name, fname[i]);
	}
	/* A 4-field request must not leave a stale address behind. */
	if (nfields == 4)
		CHECK_UINT(name, "address length", req->f[PROTO_ADDR].len, 0);
}

/* Append one counted string to out at *off. */
static void
put_field(uint8_t *out, size_t *off, const void *p, size_t n)
{
	out[(*off)++] = (uint8_t)(n >> 8);
	out[(*off)++] = (uint8_t)(n & 0xff);
	memcpy(out + *off, p, n);
	*off += n;
}

/*
 * Literal requests: the reference capture, both dialects, and one row per
 * rejection rule. "want" is the status; on PROTO_COMPLETE the fields (their
 * C string lengths) must match.
 */
struct decode_case {
	const char *name;
	const uint8_t *buf;
	size_t len;
	size_t maxfield;
	enum proto_status want;
	int nfields;
	const char *f[PROTO_NFIELDS];
};

static const struct decode_case decode_cases[] = {
    {"reference 1.4, 4 fields", BYTES(REQ_ALICE), SASLD_CYRUS_MAX_FIELD,
	PROTO_COMPLETE, 4, {"alice", "secret", "smtp", "example.com"}},
    {"reference 1.4, 5 fields", BYTES(REQ_ALICE ADDR_FIELD),
	SASLD_CYRUS_MAX_FIELD, PROTO_COMPLETE, 5,
	{"alice", "secret", "smtp", "example.com", "192.0.2.1;25"}},
    {"default limit, 4 fields", BYTES(REQ_ALICE), SASLD_DEFAULT_MAX_FIELD,
	PROTO_COMPLETE, 4, {"alice", "secret", "smtp", "example.com"}},
    {"empty realm 00 00", BYTES(REQ_ALICE_3 "\x00\x00"), SASLD_CYRUS_MAX_FIELD,
	PROTO_COMPLETE, 4, {"alice", "secret", "smtp", ""}},
    {"empty service and realm",
	BYTES("\x00\x05"
	      "alice"
	      "\x00\x06"
	      "secret"
	      "\x00\x00\x00\x00"),
	SASLD_CYRUS_MAX_FIELD, PROTO_COMPLETE, 4, {"alice", "secret", "", ""}},
    {"empty 5th field (Postfix via master libsasl2)",
	BYTES(REQ_ALICE "\x00\x00"), SASLD_CYRUS_MAX_FIELD, PROTO_COMPLETE, 5,
	{"alice", "secret", "smtp", "example.com", ""}},
    {"8-bit login and password",
	BYTES("\x00\x05"
	      "j\xc3\xb6rg"
	      "\x00\x04"
	      "\xff\x01\x7f\x80"
	      "\x00\x00\x00\x00"),
	SASLD_CYRUS_MAX_FIELD, PROTO_COMPLETE, 4,
	{"j\xc3\xb6rg", "\xff\x01\x7f\x80", "", ""}},
    {"CR LF in password allowed",
	BYTES("\x00\x05"
	      "alice"
	      "\x00\x06"
	      "se\r\nrt"
	      "\x00\x04"
	      "smtp"
	      "\x00\x00"),
	SASLD_CYRUS_MAX_FIELD, PROTO_COMPLETE, 4,
	{"alice", "se\r\nrt", "smtp", ""}},
    {"password of CR only",
	BYTES("\x00\x05"
	      "alice"
	      "\x00\x01"
	      "\r"
	      "\x00\x00\x00\x00"),
	SASLD_CYRUS_MAX_FIELD, PROTO_COMPLETE, 4, {"alice", "\r", "", ""}},

    /* Need more bytes. */
    {"nothing", BYTES(""), SASLD_CYRUS_MAX_FIELD, PROTO_INCOMPLETE, 0, {0}},
    {"one byte", BYTES("\x00"), SASLD_CYRUS_MAX_FIELD, PROTO_INCOMPLETE, 0,
	{0}},
    {"three fields", BYTES(REQ_ALICE_3), SASLD_CYRUS_MAX_FIELD,
	PROTO_INCOMPLETE, 0, {0}},
    {"5th field: one byte of its length", BYTES(REQ_ALICE "\x00"),
	SASLD_CYRUS_MAX_FIELD, PROTO_INCOMPLETE, 0, {0}},
    {"5th field: length only", BYTES(REQ_ALICE "\x00\x0c"),
	SASLD_CYRUS_MAX_FIELD, PROTO_INCOMPLETE, 0, {0}},
    {"5th field: cut short",
	BYTES(REQ_ALICE "\x00\x0c"
			"192.0.2.1;2"),
	SASLD_CYRUS_MAX_FIELD, PROTO_INCOMPLETE, 0, {0}},
    {"length 65535, few bytes, huge limit",
	BYTES("\xff\xff"
	      "alice"),
	SIZE_MAX, PROTO_INCOMPLETE, 0, {0}},
    {"length 65535, few bytes, limit 65535",
	BYTES("\xff\xff"
	      "alice"),
	0xffff, PROTO_INCOMPLETE, 0, {0}},

    /* Too long: refused on the length word, before the payload. */
    {"length 257 alone, Cyrus limit", BYTES("\x01\x01"), SASLD_CYRUS_MAX_FIELD,
	PROTO_ERR_TOOLONG, 0, {0}},
    {"length 256 alone, Cyrus limit", BYTES("\x01\x00"), SASLD_CYRUS_MAX_FIELD,
	PROTO_INCOMPLETE, 0, {0}},
    {"length 65535, few bytes, Cyrus limit",
	BYTES("\xff\xff"
	      "alice"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_TOOLONG, 0, {0}},
    {"length 65535, few bytes, default limit",
	BYTES("\xff\xff"
	      "alice"),
	SASLD_DEFAULT_MAX_FIELD, PROTO_ERR_TOOLONG, 0, {0}},
    {"password length 257 alone",
	BYTES("\x00\x05"
	      "alice"
	      "\x01\x01"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_TOOLONG, 0, {0}},
    {"5th field length 65535 alone", BYTES(REQ_ALICE "\xff\xff"),
	SASLD_DEFAULT_MAX_FIELD, PROTO_ERR_TOOLONG, 0, {0}},
    {"limit 0 refuses a 1-byte login",
	BYTES("\x00\x01"
	      "a"),
	0, PROTO_ERR_TOOLONG, 0, {0}},

    /* Interior NUL, in each field. */
    {"NUL in login",
	BYTES("\x00\x05"
	      "al\0ce"
	      "\x00\x06"
	      "secret"
	      "\x00\x00\x00\x00"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_NUL, 0, {0}},
    {"NUL ending login",
	BYTES("\x00\x06"
	      "alice\0"
	      "\x00\x06"
	      "secret"
	      "\x00\x00\x00\x00"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_NUL, 0, {0}},
    {"NUL in password",
	BYTES("\x00\x05"
	      "alice"
	      "\x00\x06"
	      "sec\0et"
	      "\x00\x00\x00\x00"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_NUL, 0, {0}},
    {"NUL in service",
	BYTES("\x00\x05"
	      "alice"
	      "\x00\x06"
	      "secret"
	      "\x00\x04"
	      "sm\0p"
	      "\x00\x00"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_NUL, 0, {0}},
    {"NUL in realm",
	BYTES(REQ_ALICE_3 "\x00\x03"
			  "ex\0"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_NUL, 0, {0}},
    {"NUL in address",
	BYTES(REQ_ALICE "\x00\x04"
			"\0"
			";25"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_NUL, 0, {0}},
    {"NUL as the whole login, before the password arrives",
	BYTES("\x00\x01"
	      "\0"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_NUL, 0, {0}},

    /* CR or LF outside the password. */
    {"LF in login",
	BYTES("\x00\x06"
	      "alice\n"
	      "\x00\x06"
	      "secret"
	      "\x00\x00\x00\x00"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_CRLF, 0, {0}},
    {"CR in login",
	BYTES("\x00\x06"
	      "\ralice"
	      "\x00\x06"
	      "secret"
	      "\x00\x00\x00\x00"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_CRLF, 0, {0}},
    {"CR in service",
	BYTES("\x00\x05"
	      "alice"
	      "\x00\x06"
	      "secret"
	      "\x00\x05"
	      "sm\rtp"
	      "\x00\x00"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_CRLF, 0, {0}},
    {"LF in service",
	BYTES("\x00\x05"
	      "alice"
	      "\x00\x06"
	      "secret"
	      "\x00\x05"
	      "smtp\n"
	      "\x00\x00"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_CRLF, 0, {0}},
    {"CR in realm",
	BYTES(REQ_ALICE_3 "\x00\x03"
			  "ex\r"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_CRLF, 0, {0}},
    {"LF in realm",
	BYTES(REQ_ALICE_3 "\x00\x03"
			  "\nex"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_CRLF, 0, {0}},
    {"CR in address",
	BYTES(REQ_ALICE "\x00\x04"
			"a\r25"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_CRLF, 0, {0}},
    {"LF in address",
	BYTES(REQ_ALICE "\x00\x04"
			"a;2\n"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_CRLF, 0, {0}},

    /* Empty login / password, in Cyrus' order. */
    {"empty login",
	BYTES("\x00\x00"
	      "\x00\x06"
	      "secret"
	      "\x00\x04"
	      "smtp"
	      "\x00\x00"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_EMPTY_LOGIN, 0, {0}},
    {"empty password",
	BYTES("\x00\x05"
	      "alice"
	      "\x00\x00"
	      "\x00\x04"
	      "smtp"
	      "\x00\x00"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_EMPTY_PASSWORD, 0, {0}},
    {"empty login and password: login first",
	BYTES("\x00\x00\x00\x00\x00\x00\x00\x00"), SASLD_CYRUS_MAX_FIELD,
	PROTO_ERR_EMPTY_LOGIN, 0, {0}},
    {"empty login, 5 fields",
	BYTES("\x00\x00"
	      "\x00\x06"
	      "secret"
	      "\x00\x00\x00\x00" ADDR_FIELD),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_EMPTY_LOGIN, 0, {0}},
    {"empty login, more to come", BYTES("\x00\x00\x00\x06"),
	SASLD_CYRUS_MAX_FIELD, PROTO_INCOMPLETE, 0, {0}},

    /* Trailing bytes. */
    {"one byte after 5 fields", BYTES(REQ_ALICE ADDR_FIELD "x"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_TRAILING, 0, {0}},
    {"a 6th field", BYTES(REQ_ALICE ADDR_FIELD "\x00\x00"),
	SASLD_CYRUS_MAX_FIELD, PROTO_ERR_TRAILING, 0, {0}},
    {"a second request after 5 fields",
	BYTES(REQ_ALICE ADDR_FIELD REQ_ALICE ADDR_FIELD), SASLD_CYRUS_MAX_FIELD,
	PROTO_ERR_TRAILING, 0, {0}},
};

static void
test_decode_table(void **state)
{
	const struct decode_case *tc;
	struct proto_request req;
	size_t i, wantlen[PROTO_NFIELDS];
	enum proto_status st;
	int j;

	(void)state;
	for (i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
		tc = &decode_cases[i];
		memset(&req, 0xa5, sizeof(req));
		st = proto_decode_request(tc->buf, tc->len, tc->maxfield, &req);
		check_status(tc->name, "status", st, tc->want);
		if (st != PROTO_COMPLETE)
			continue;
		for (j = 0; j < tc->nfields; j++)
			wantlen[j] = strlen(tc->f[j]);
		check_request(tc->name, &req, tc->buf, tc->len, tc->nfields,
		    tc->f, wantlen);
	}
}

/*
 * Every prefix of a valid request: PROTO_INCOMPLETE until the last byte,
 * as when the client writes a byte (or, like Exim, a field) at a time. A
 * 5-field request is also a whole 4-field one at the end of its 4th field:
 * the decoder says so, and the caller only decodes after reading all the
 * socket held.
 */
struct prefix_case {
	const char *name;
	const uint8_t *buf;
	size_t len;
	int nfields;
	size_t end4; /* 5 fields: where the 4th ends */
	const char *f[PROTO_NFIELDS];
};

static const struct prefix_case prefix_cases[] = {
    {"reference 1.4, 4 fields", BYTES(REQ_ALICE), 4, 0,
	{"alice", "secret", "smtp", "example.com"}},
    {"reference 1.4, 5 fields", BYTES(REQ_ALICE ADDR_FIELD), 5,
	sizeof(REQ_ALICE) - 1,
	{"alice", "secret", "smtp", "example.com", "192.0.2.1;25"}},
    {"empty realm", BYTES(REQ_ALICE_3 "\x00\x00"), 4, 0,
	{"alice", "secret", "smtp", ""}},
    {"empty service, realm and address",
	BYTES("\x00\x01"
	      "a"
	      "\x00\x01"
	      "p"
	      "\x00\x00\x00\x00\x00\x00"),
	5, 10, {"a", "p", "", "", ""}},
};

static void
test_decode_prefixes(void **state)
{
	const struct prefix_case *tc;
	struct proto_request req;
	size_t i, n, wantlen[PROTO_NFIELDS];
	enum proto_status st;
	char what[64];
	int j;

	(void)state;
	for (i = 0; i < sizeof(prefix_cases) / sizeof(prefix_cases[0]); i++) {
		tc = &prefix_cases[i];
		for (j = 0; j < tc->nfields; j++)
			wantlen[j] = strlen(tc->f[j]);
		for (n = 0; n <= tc->len; n++) {
			(void)snprintf(what, sizeof(what), "prefix %zu of %zu",
			    n, tc->len);
			st = proto_decode_request(
			    tc->buf, n, SASLD_CYRUS_MAX_FIELD, &req);
			if (n == tc->len) {
				check_status(
				    tc->name, what, st, PROTO_COMPLETE);
				check_request(tc->name, &req, tc->buf, n,
				    tc->nfields, tc->f, wantlen);
			} else if (tc->end4 != 0 && n == tc->end4) {
				check_status(
				    tc->name, what, st, PROTO_COMPLETE);
				check_request(tc->name, &req, tc->buf, n, 4,
				    tc->f, wantlen);
			} else
				check_status(
				    tc->name, what, st, PROTO_INCOMPLETE);
		}
	}
}

/*
 * Field length limits: a field of exactly the limit is accepted, one byte
 * more is refused, and refused as soon as its length word is in, before
 * any of its payload (a client cannot make us wait for 64 KiB).
 */
static const size_t limit_cases[] = {
    SASLD_CYRUS_MAX_FIELD,
    SASLD_DEFAULT_MAX_FIELD,
    SASLD_MAX_FIELD_LIMIT,
    0xfffe,
};

static void
test_decode_limits(void **state)
{
	static const char *const base[PROTO_NFIELDS] = {
	    "alice", "secret", "smtp", "example.com", "192.0.2.1;25"};
	static const char *const fname[PROTO_NFIELDS] = {
	    "login", "password", "service", "realm", "address"};
	const char *want[PROTO_NFIELDS];
	size_t wantlen[PROTO_NFIELDS];
	struct proto_request req;
	size_t i, k, flen, off, lenword, max;
	uint8_t *buf = NULL, *fill = NULL;
	enum proto_status st;
	char name[96];
	int fi, j, nf;

	(void)state;
	buf = malloc(BIGBUF);
	fill = malloc(0xffff);
	assert_non_null(buf);
	assert_non_null(fill);
	memset(fill, 'a', 0xffff);
	for (i = 0; i < sizeof(limit_cases) / sizeof(limit_cases[0]); i++) {
		max = limit_cases[i];
		for (fi = 0; fi < PROTO_NFIELDS; fi++) {
			for (k = 0; k < 2; k++) {
				flen = max + k;
				(void)snprintf(name, sizeof(name),
				    "%s of %zu, limit %zu", fname[fi], flen,
				    max);
				nf = fi == PROTO_ADDR ? 5 : 4;
				off = lenword = 0;
				for (j = 0; j < nf; j++) {
					want[j] = j == fi ? (const char *)fill
							  : base[j];
					wantlen[j] =
					    j == fi ? flen : strlen(base[j]);
					if (j == fi)
						lenword = off;
					put_field(
					    buf, &off, want[j], wantlen[j]);
				}
				st = proto_decode_request(buf, off, max, &req);
				check_status(name, "whole request", st,
				    k == 0 ? PROTO_COMPLETE
					   : PROTO_ERR_TOOLONG);
				if (st == PROTO_COMPLETE)
					check_request(name, &req, buf, off, nf,
					    want, wantlen);
				/* Only the field's length word is in. */
				st = proto_decode_request(
				    buf, lenword + 2, max, &req);
				check_status(name, "up to the length word", st,
				    k == 0 ? PROTO_INCOMPLETE
					   : PROTO_ERR_TOOLONG);
				/* Half the length word: cannot tell yet. */
				st = proto_decode_request(
				    buf, lenword + 1, max, &req);
				check_status(name, "half the length word", st,
				    PROTO_INCOMPLETE);
			}
		}
	}
	free(buf);
	free(fill);
}

/* The 65535 maximum a length word can say, accepted when the limit is. */
static void
test_decode_max_length_word(void **state)
{
	struct proto_request req;
	uint8_t *buf = NULL;
	size_t off = 0;
	enum proto_status st;

	(void)state;
	buf = malloc(BIGBUF);
	assert_non_null(buf);
	memset(buf, 'p', BIGBUF);
	put_field(buf, &off, "alice", 5);
	buf[off++] = 0xff;
	buf[off++] = 0xff;
	off += 0xffff; /* 65535 'p's already there */
	put_field(buf, &off, "", 0);
	put_field(buf, &off, "", 0);
	st = proto_decode_request(buf, off, 0xffff, &req);
	check_status("password of 65535", "status", st, PROTO_COMPLETE);
	CHECK_UINT("password of 65535", "password length",
	    req.f[PROTO_PASSWORD].len, 0xffff);
	st = proto_decode_request(buf, off, SIZE_MAX, &req);
	check_status(
	    "password of 65535, limit SIZE_MAX", "status", st, PROTO_COMPLETE);
	st = proto_decode_request(buf, off - 5, SIZE_MAX, &req);
	check_status(
	    "password of 65535 cut short", "status", st, PROTO_INCOMPLETE);
	st = proto_decode_request(buf, off, 0xfffe, &req);
	check_status(
	    "password of 65535, limit 65534", "status", st, PROTO_ERR_TOOLONG);
	free(buf);
}

struct reason_case {
	enum proto_status st;
	const char *want;
};

/* The texts Cyrus sends after "NO " (fail2ban and logs match on them). */
static const struct reason_case reason_cases[] = {
    {PROTO_ERR_EMPTY_LOGIN, "NULL login received"},
    {PROTO_ERR_EMPTY_PASSWORD, "NULL password received"},
};

static void
test_status_reason(void **state)
{
	static const enum proto_status all[] = {PROTO_INCOMPLETE,
	    PROTO_COMPLETE, PROTO_ERR_TOOLONG, PROTO_ERR_NUL, PROTO_ERR_CRLF,
	    PROTO_ERR_EMPTY_LOGIN, PROTO_ERR_EMPTY_PASSWORD,
	    PROTO_ERR_TRAILING};
	const char *got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(reason_cases) / sizeof(reason_cases[0]); i++) {
		got = proto_status_reason(reason_cases[i].st);
		if (got == NULL || strcmp(got, reason_cases[i].want) != 0)
			fail_msg("%s: reason: got \"%s\", want \"%s\"",
			    status_name(reason_cases[i].st),
			    got == NULL ? "(null)" : got, reason_cases[i].want);
	}
	/* Every status has a text that fits a reply after "NO ". */
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		got = proto_status_reason(all[i]);
		if (got == NULL || got[0] == '\0' ||
		    strlen(got) + 3 > SASLD_MAX_REPLY ||
		    strpbrk(got, "\r\n") != NULL)
			fail_msg("%s: reason: got \"%s\", want a short "
				 "one-line text",
			    status_name(all[i]), got == NULL ? "(null)" : got);
	}
}

struct enc_reply_case {
	const char *name;
	const char *text;
	size_t outsz;
	const uint8_t *want; /* NULL: must fail (0) */
	size_t wantlen;
};

static const struct enc_reply_case enc_reply_cases[] = {
    {"OK", "OK", 64,
	BYTES("\x00\x02"
	      "OK")},
    {"OK, exact buffer", "OK", 4,
	BYTES("\x00\x02"
	      "OK")},
    {"OK, buffer one short", "OK", 3, NULL, 0},
    {"OK, no buffer", "OK", 0, NULL, 0},
    {"NO PAM auth error", "NO PAM auth error", 64,
	BYTES("\x00\x11\x4e\x4f\x20\x50\x41\x4d\x20\x61\x75\x74\x68\x20\x65"
	      "\x72\x72\x6f\x72")},
    {"NO (Cyrus oversize)", "NO ", 64, BYTES("\x00\x03\x4e\x4f\x20")},
    {"NO NULL login received", "NO NULL login received", 64,
	BYTES("\x00\x16"
	      "NO NULL login received")},
};

static void
test_encode_reply(void **state)
{
	const struct enc_reply_case *tc;
	uint8_t out[SASLD_MAX_REPLY + 64];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(enc_reply_cases) / sizeof(enc_reply_cases[0]);
	     i++) {
		tc = &enc_reply_cases[i];
		assert_true(tc->outsz <= sizeof(out));
		n = proto_encode_reply(out, tc->outsz, tc->text);
		if (tc->want == NULL) {
			CHECK_UINT(tc->name, "length", n, 0);
			continue;
		}
		CHECK_BYTES(tc->name, "reply", out, n, tc->want, tc->wantlen);
	}
}

/* Reply texts around SASLD_MAX_REPLY. */
struct reply_len_case {
	size_t textlen;
	size_t outsz;
	size_t want;
};

static const struct reply_len_case reply_len_cases[] = {
    {0, 2, 2},
    {0, 1, 0},
    {SASLD_MAX_REPLY, SASLD_MAX_REPLY + 2, SASLD_MAX_REPLY + 2},
    {SASLD_MAX_REPLY, SASLD_MAX_REPLY + 1, 0},
    {SASLD_MAX_REPLY + 1, SASLD_MAX_REPLY + 64, 0},
    {SASLD_MAX_REPLY + 60, SASLD_MAX_REPLY + 64, 0},
};

static void
test_encode_reply_lengths(void **state)
{
	char text[SASLD_MAX_REPLY + 61];
	uint8_t out[SASLD_MAX_REPLY + 64];
	const struct reply_len_case *tc;
	char name[64];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(reply_len_cases) / sizeof(reply_len_cases[0]);
	     i++) {
		tc = &reply_len_cases[i];
		(void)snprintf(name, sizeof(name), "text of %zu, outsz %zu",
		    tc->textlen, tc->outsz);
		memset(text, 'x', tc->textlen);
		text[tc->textlen] = '\0';
		memset(out, 0, sizeof(out));
		n = proto_encode_reply(out, tc->outsz, text);
		CHECK_UINT(name, "length", n, tc->want);
		if (tc->want == 0)
			continue;
		CHECK_UINT(
		    name, "length word", (out[0] << 8) | out[1], tc->textlen);
		CHECK_BYTES(name, "text", out + 2, n - 2, text, tc->textlen);
	}
}

struct dec_reply_case {
	const char *name;
	const uint8_t *buf;
	size_t len;
	int want;
	const char *text; /* on 1 */
	int ok; /* proto_reply_is_ok(text) on 1 */
};

static const struct dec_reply_case dec_reply_cases[] = {
    {"nothing", BYTES(""), 0, NULL, 0},
    {"half a length word", BYTES("\x00"), 0, NULL, 0},
    {"length only", BYTES("\x00\x02"), 0, NULL, 0},
    {"one byte of two",
	BYTES("\x00\x02"
	      "O"),
	0, NULL, 0},
    {"OK",
	BYTES("\x00\x02"
	      "OK"),
	1, "OK", 1},
    {"OK and more bytes",
	BYTES("\x00\x02"
	      "OKxyz"),
	1, "OK", 1},
    {"OKAY counts as OK",
	BYTES("\x00\x04"
	      "OKAY"),
	1, "OKAY", 1},
    {"ok is not OK",
	BYTES("\x00\x02"
	      "ok"),
	1, "ok", 0},
    {"NO PAM auth error",
	BYTES("\x00\x11\x4e\x4f\x20\x50\x41\x4d\x20\x61\x75\x74\x68\x20\x65"
	      "\x72\x72\x6f\x72"),
	1, "NO PAM auth error", 0},
    {"bare NO ", BYTES("\x00\x03\x4e\x4f\x20"), 1, "NO ", 0},
    {"NO PAM auth error, cut short",
	BYTES("\x00\x11"
	      "NO PAM auth erro"),
	0, NULL, 0},
    {"length 0", BYTES("\x00\x00"), -1, NULL, 0},
    {"length 1", BYTES("\x00\x01"), -1, NULL, 0},
    {"length 1 with its byte",
	BYTES("\x00\x01"
	      "O"),
	-1, NULL, 0},
    {"length 65535, few bytes",
	BYTES("\xff\xff"
	      "OK"),
	0, NULL, 0},
};

static void
test_decode_reply(void **state)
{
	const struct dec_reply_case *tc;
	const uint8_t *text;
	size_t i, tlen;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(dec_reply_cases) / sizeof(dec_reply_cases[0]);
	     i++) {
		tc = &dec_reply_cases[i];
		text = NULL;
		tlen = 0;
		rc = proto_decode_reply(tc->buf, tc->len, &text, &tlen);
		CHECK_INT(tc->name, "return", rc, tc->want);
		if (rc != 1)
			continue;
		CHECK_BYTES(
		    tc->name, "text", text, tlen, tc->text, strlen(tc->text));
		if (text != tc->buf + 2)
			fail_msg("%s: text: got buf+%td, want buf+2", tc->name,
			    text - tc->buf);
		CHECK_INT(tc->name, "proto_reply_is_ok",
		    proto_reply_is_ok(text, tlen), tc->ok);
	}
}

/* libsasl2: strncmp(response, "OK", 2) == 0. */
struct is_ok_case {
	const char *text;
	size_t len;
	int want;
};

static const struct is_ok_case is_ok_cases[] = {
    {"OK", 2, 1},
    {"OKAY", 4, 1},
    {"OK ", 3, 1},
    {"OK\0", 3, 1},
    {"ok", 2, 0},
    {"Ok", 2, 0},
    {"oK", 2, 0},
    {"NO", 2, 0},
    {"NO OK", 5, 0},
    {" OK", 3, 0},
    {"O", 1, 0},
    {"OK", 1, 0}, /* only the first byte is in the reply */
    {"", 0, 0},
};

static void
test_reply_is_ok(void **state)
{
	const struct is_ok_case *tc;
	size_t i;
	int got;

	(void)state;
	for (i = 0; i < sizeof(is_ok_cases) / sizeof(is_ok_cases[0]); i++) {
		tc = &is_ok_cases[i];
		got = proto_reply_is_ok((const uint8_t *)tc->text, tc->len);
		if (got != tc->want)
			fail_msg("\"%.*s\" (%zu bytes): got %d, want %d",
			    (int)tc->len, tc->text, tc->len, got, tc->want);
	}
}

/*
 * proto_encode_request: exact bytes, then back through the decoder. A NULL
 * field is sent empty whatever its length says (the table gives it 99).
 */
struct enc_req_case {
	const char *name;
	int nfields;
	const char *f[PROTO_NFIELDS];
	const uint8_t *want; /* NULL: must fail (0) */
	size_t wantlen;
	enum proto_status dec; /* decoding what was encoded */
};

static const struct enc_req_case enc_req_cases[] = {
    {"reference 1.4, 4 fields", 4, {"alice", "secret", "smtp", "example.com"},
	BYTES(REQ_ALICE), PROTO_COMPLETE},
    {"reference 1.4, 5 fields", 5,
	{"alice", "secret", "smtp", "example.com", "192.0.2.1;25"},
	BYTES(REQ_ALICE ADDR_FIELD), PROTO_COMPLETE},
    {"NULL realm", 4, {"alice", "secret", "smtp", NULL},
	BYTES(REQ_ALICE_3 "\x00\x00"), PROTO_COMPLETE},
    {"empty realm", 4, {"alice", "secret", "smtp", ""},
	BYTES(REQ_ALICE_3 "\x00\x00"), PROTO_COMPLETE},
    {"NULL address", 5, {"alice", "secret", "smtp", "example.com", NULL},
	BYTES(REQ_ALICE "\x00\x00"), PROTO_COMPLETE},
    {"NULL login", 4, {NULL, "secret", "smtp", NULL},
	BYTES("\x00\x00"
	      "\x00\x06"
	      "secret"
	      "\x00\x04"
	      "smtp"
	      "\x00\x00"),
	PROTO_ERR_EMPTY_LOGIN},
    {"all NULL, 5 fields", 5, {NULL, NULL, NULL, NULL, NULL},
	BYTES("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
	PROTO_ERR_EMPTY_LOGIN},
    {"3 fields", 3, {"alice", "secret", "smtp"}, NULL, 0, PROTO_COMPLETE},
    {"6 fields", 6, {"alice", "secret", "smtp", "", ""}, NULL, 0,
	PROTO_COMPLETE},
    {"0 fields", 0, {0}, NULL, 0, PROTO_COMPLETE},
    {"-1 fields", -1, {0}, NULL, 0, PROTO_COMPLETE},
};

static void
test_encode_request(void **state)
{
	const char *f[PROTO_NFIELDS + 1];
	size_t lens[PROTO_NFIELDS + 1], wantlen[PROTO_NFIELDS];
	const struct enc_req_case *tc;
	struct proto_request req;
	uint8_t out[256];
	enum proto_status st;
	char what[64];
	size_t i, n, sz;
	int j;

	(void)state;
	for (i = 0; i < sizeof(enc_req_cases) / sizeof(enc_req_cases[0]); i++) {
		tc = &enc_req_cases[i];
		for (j = 0; j < PROTO_NFIELDS + 1; j++) {
			f[j] = j < PROTO_NFIELDS ? tc->f[j] : "";
			lens[j] = f[j] == NULL ? 99 : strlen(f[j]);
		}
		n = proto_encode_request(
		    out, sizeof(out), f, lens, tc->nfields);
		if (tc->want == NULL) {
			CHECK_UINT(tc->name, "length", n, 0);
			continue;
		}
		CHECK_BYTES(tc->name, "request", out, n, tc->want, tc->wantlen);
		/* Any smaller buffer: 0, and no write past it (ASan). */
		for (sz = 0; sz < tc->wantlen; sz++) {
			(void)snprintf(what, sizeof(what), "outsz %zu", sz);
			CHECK_UINT(tc->name, what,
			    proto_encode_request(out, sz, f, lens, tc->nfields),
			    0);
		}
		st = proto_decode_request(out, n, 0xffff, &req);
		check_status(tc->name, "decoded", st, tc->dec);
		if (st != PROTO_COMPLETE)
			continue;
		for (j = 0; j < tc->nfields; j++) {
			if (f[j] == NULL)
				f[j] = "";
			wantlen[j] = strlen(f[j]);
		}
		check_request(tc->name, &req, out, n, tc->nfields, f, wantlen);
	}
}

/* A field of 65535 bytes is the most a length word can carry. */
static void
test_encode_request_field_max(void **state)
{
	const char *f[PROTO_NFIELDS];
	size_t lens[PROTO_NFIELDS], n, want;
	struct proto_request req;
	uint8_t *out = NULL;
	char *big = NULL;
	enum proto_status st;

	(void)state;
	out = malloc(BIGBUF);
	big = malloc(0x10000);
	assert_non_null(out);
	assert_non_null(big);
	memset(big, 'p', 0x10000);
	f[0] = "alice";
	f[1] = big;
	f[2] = "smtp";
	f[3] = NULL;
	lens[0] = 5;
	lens[1] = 0xffff;
	lens[2] = 4;
	lens[3] = 0;
	want = 2 + 5 + 2 + 0xffff + 2 + 4 + 2;
	n = proto_encode_request(out, BIGBUF, f, lens, 4);
	CHECK_UINT("password of 65535", "length", n, want);
	CHECK_BYTES(
	    "password of 65535", "length word", out + 7, 2, "\xff\xff", 2);
	st = proto_decode_request(out, n, 0xffff, &req);
	check_status("password of 65535", "decoded", st, PROTO_COMPLETE);
	CHECK_BYTES("password of 65535", "password", req.f[PROTO_PASSWORD].ptr,
	    req.f[PROTO_PASSWORD].len, big, 0xffff);

	lens[1] = 0x10000;
	n = proto_encode_request(out, BIGBUF, f, lens, 4);
	CHECK_UINT("password of 65536", "length", n, 0);
	lens[1] = 5;
	lens[2] = 0x10000;
	f[2] = big;
	n = proto_encode_request(out, BIGBUF, f, lens, 4);
	CHECK_UINT("service of 65536", "length", n, 0);
	free(out);
	free(big);
}

struct addr_case {
	const char *name;
	const uint8_t *addr; /* NULL: no field */
	size_t len;
	size_t dstsz;
	int want;
	const char *host; /* on 0 */
};

static const struct addr_case addr_cases[] = {
    {"IPv4", BYTES("192.0.2.1;25"), 64, 0, "192.0.2.1"},
    {"IPv6, port after the last ;", BYTES("2001:db8::1;587"), 64, 0,
	"2001:db8::1"},
    /* The header's rule, with a ';' that is not the last one. */
    {"two ;, port after the last", BYTES("192.0.2.1;x;25"), 64, 0,
	"192.0.2.1;x"},
    {"IPv6 mapped IPv4", BYTES("::ffff:192.0.2.1;25"), 64, 0,
	"::ffff:192.0.2.1"},
    {"no ;", BYTES("192.0.2.1"), 64, 0, "192.0.2.1"},
    {"no port after ;", BYTES("192.0.2.1;"), 64, 0, "192.0.2.1"},
    {"host name", BYTES("mx.example.com;25"), 64, 0, "mx.example.com"},
    {"exactly fits dst", BYTES("192.0.2.1;25"), 10, 0, "192.0.2.1"},
    {"one too long for dst", BYTES("192.0.2.1;25"), 9, -1, NULL},
    {"dst of 1", BYTES("1;25"), 1, -1, NULL},
    {"dst of 0", BYTES("1;25"), 0, -1, NULL},
    {"empty", BYTES(""), 64, -1, NULL},
    {"NULL field", NULL, 0, 64, -1, NULL},
    {"only a port", BYTES(";25"), 64, -1, NULL},
    {"only ;", BYTES(";"), 64, -1, NULL},
    {"space", BYTES("192.0.2.1 ;25"), 64, -1, NULL},
    {"inner space", BYTES("192.0 .2.1;25"), 64, -1, NULL},
    {"tab", BYTES("\t192.0.2.1;25"), 64, -1, NULL},
    {"ESC", BYTES("192.0.2.1\x1b[0m;25"), 64, -1, NULL},
    {"DEL", BYTES("192.0.2.1\x7f;25"), 64, -1, NULL},
    {"8-bit byte", BYTES("192.0.2.\xc3\xa9;25"), 64, -1, NULL},
    {"CR", BYTES("192.0.2.1\r;25"), 64, -1, NULL},
    {"LF", BYTES("192.0.2.1\n;25"), 64, -1, NULL},
    {"NUL", BYTES("192.0\0.2.1;25"), 64, -1, NULL},
};

static void
test_addr_host(void **state)
{
	const struct addr_case *tc;
	struct proto_field_ref ref;
	char dst[64 + 1];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
		tc = &addr_cases[i];
		assert_true(tc->dstsz < sizeof(dst));
		ref.ptr = tc->addr;
		ref.len = tc->len;
		memset(dst, 'X', sizeof(dst));
		rc = proto_addr_host(&ref, dst, tc->dstsz);
		CHECK_INT(tc->name, "return", rc, tc->want);
		/* Nothing written past dstsz. */
		if (dst[tc->dstsz] != 'X')
			fail_msg("%s: dst[%zu]: got 0x%02x, want 'X' "
				 "(untouched)",
			    tc->name, tc->dstsz, (unsigned char)dst[tc->dstsz]);
		if (rc != 0)
			continue;
		if (memchr(dst, '\0', tc->dstsz) == NULL ||
		    strcmp(dst, tc->host) != 0)
			fail_msg("%s: host: got \"%.*s\", want \"%s\"",
			    tc->name, (int)tc->dstsz, dst, tc->host);
	}
}

/* PAM service names: plain file names only (Linux-PAM strips paths). */
static void
test_valid_service(void **state)
{
	static const struct {
		const char *name;
		const char *svc;
		int want;
	} cases[] = {
	    {"smtp", "smtp", 1},
	    {"imap", "imap", 1},
	    {"dotted", "dovecot.auth", 1},
	    {"symbols", "a_b-c+d@e", 1},
	    {"64 bytes",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aa",
		1},
	    {"65 bytes",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaa",
		0},
	    {"empty", "", 0},
	    {"dot", ".", 0},
	    {"dotdot", "..", 0},
	    {"leading dot", ".hidden", 0},
	    {"slash", "x/smtp", 0},
	    {"traversal", "../pam.d/smtp", 0},
	    {"absolute", "/etc/pam.d/smtp", 0},
	    {"space", "sm tp", 0},
	    {"newline", "smtp\n", 0},
	    {"high byte", "sm\xfftp", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_INT(cases[i].name, "proto_valid_service",
		    proto_valid_service(
			(const uint8_t *)cases[i].svc, strlen(cases[i].svc)),
		    cases[i].want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_table),
	    cmocka_unit_test(test_decode_prefixes),
	    cmocka_unit_test(test_decode_limits),
	    cmocka_unit_test(test_decode_max_length_word),
	    cmocka_unit_test(test_status_reason),
	    cmocka_unit_test(test_encode_reply),
	    cmocka_unit_test(test_encode_reply_lengths),
	    cmocka_unit_test(test_decode_reply),
	    cmocka_unit_test(test_reply_is_ok),
	    cmocka_unit_test(test_encode_request),
	    cmocka_unit_test(test_encode_request_field_max),
	    cmocka_unit_test(test_addr_host),
	    cmocka_unit_test(test_valid_service),
	};

	return cmocka_run_group_tests_name(
	    "proto_saslauthd", tests, NULL, NULL);
}

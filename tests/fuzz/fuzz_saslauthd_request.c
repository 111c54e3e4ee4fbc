/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_saslauthd_request.c - libFuzzer target for the saslauthd request
 * decoder (saslauthd-ng/proto_saslauthd.c) as the front drives it: bytes
 * arrive in chunks and the front decodes after each until the answer is
 * not PROTO_INCOMPLETE. Also what the front applies to a decoded request:
 * proto_addr_host(), proto_valid_service() and log_sanitize().
 *
 * Input: CTL_LEN control bytes, then the bytes a client sends.
 *   [0]    the per-field limit: bits 0-1 pick 1024 (the default), 256
 *          (Cyrus), 8192 (the --max-field ceiling) or bits 2-7 (0..63).
 *   [1..3] where the stream is split: 0 is one piece, anything else seeds
 *          the chunk sizes.
 *
 * Invariants: the decoder agrees with a reference model of the format in
 * proto_saslauthd.h; it never reads past the length given; a complete
 * request's fields lie in the buffer, within the limit, NUL-free, CR/LF-free
 * but for the password, and encode back to the same bytes; split anywhere,
 * a stream decodes as the same bytes in one piece, but for the documented
 * 4-field stop; the helpers keep to their contracts.
 *
 * SECURITY: test code only.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "proto_saslauthd.h"

#define CTL_LEN 4
/* Payloads up to this long are also decoded at every prefix length. */
#define ALL_PREFIXES_MAX 128
/* Keeps a long stream split byte by byte from costing n^2. */
#define STREAM_MAX_CHUNKS 256
/* A client address buffer larger than any the front uses. */
#define ADDR_DST_MAX 256
/* Only a few bytes of a long field are worth sanitizing again. */
#define SANITIZE_SRC_MAX 160

/* A decode result as offsets into the input, so that results over
 * different copies of the same bytes compare. */
struct shape {
	enum proto_status st;
	int nfields; /* fields whose bytes were all present */
	size_t off[PROTO_NFIELDS];
	size_t len[PROTO_NFIELDS];
};

static int
is_whole(enum proto_status st)
{
	return st == PROTO_COMPLETE || st == PROTO_ERR_EMPTY_LOGIN ||
	    st == PROTO_ERR_EMPTY_PASSWORD;
}

/* Once seen in a prefix, these stay whatever follows. */
static int
is_sticky(enum proto_status st)
{
	return st == PROTO_ERR_TOOLONG || st == PROTO_ERR_NUL ||
	    st == PROTO_ERR_CRLF || st == PROTO_ERR_TRAILING;
}

static int
has_byte(const uint8_t *p, size_t n, uint8_t b)
{
	return n > 0 && memchr(p, b, n) != NULL;
}

/*
 * The format as proto_saslauthd.h states it, written field by field:
 * counted strings; a length over the limit is refused as soon as it is
 * seen; a NUL anywhere in a field, then CR/LF outside the password; a
 * fifth field only if bytes follow the fourth; nothing after the fifth;
 * the empty checks last.
 */
static enum proto_status
ref_decode(const uint8_t *b, size_t n, size_t maxfield, struct shape *sh)
{
	size_t off = 0, flen;
	int i;

	memset(sh, 0, sizeof(*sh));
	for (i = 0; i < PROTO_NFIELDS; i++) {
		if (i == PROTO_ADDR && off == n)
			break;
		if (n - off < 2)
			return sh->st = PROTO_INCOMPLETE;
		flen = fuzz_be16(b + off);
		if (flen > maxfield)
			return sh->st = PROTO_ERR_TOOLONG;
		if (n - off - 2 < flen)
			return sh->st = PROTO_INCOMPLETE;
		sh->off[i] = off + 2;
		sh->len[i] = flen;
		sh->nfields = i + 1;
		if (has_byte(b + off + 2, flen, '\0'))
			return sh->st = PROTO_ERR_NUL;
		if (i != PROTO_PASSWORD &&
		    (has_byte(b + off + 2, flen, '\r') ||
			has_byte(b + off + 2, flen, '\n')))
			return sh->st = PROTO_ERR_CRLF;
		off += 2 + flen;
	}
	if (off != n)
		return sh->st = PROTO_ERR_TRAILING;
	if (sh->len[PROTO_LOGIN] == 0)
		return sh->st = PROTO_ERR_EMPTY_LOGIN;
	if (sh->len[PROTO_PASSWORD] == 0)
		return sh->st = PROTO_ERR_EMPTY_PASSWORD;
	return sh->st = PROTO_COMPLETE;
}

/* s[0..len) may name a PAM service: proto_valid_service()'s contract. */
static int
ref_service(const uint8_t *s, size_t len)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "0123456789._-+@";
	size_t i;

	if (len == 0 || len > SASLD_MAX_SERVICE || s[0] == '.')
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(ok, s[i]) == NULL)
			return 0;
	return 1;
}

static void
check_addr(const struct proto_field_ref *f)
{
	static const size_t sizes[] = {1, 2, 8, 46, 64, ADDR_DST_MAX};
	char dst[ADDR_DST_MAX + FUZZ_GUARD];
	size_t i, j, host, ds;
	int want, got;

	/* The host is what precedes the last ';', or all of it. */
	host = f->len;
	for (j = f->len; j > 0; j--)
		if (f->ptr[j - 1] == ';') {
			host = j - 1;
			break;
		}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ds = sizes[i];
		want = host > 0 && host < ds;
		for (j = 0; j < host && want; j++)
			if (f->ptr[j] <= 0x20 || f->ptr[j] >= 0x7f)
				want = 0;
		memset(dst, 0x5a, sizeof(dst));
		got = proto_addr_host(f, dst, ds);
		FUZZ_CHECK(got == (want ? 0 : -1));
		for (j = ds; j < sizeof(dst); j++)
			FUZZ_CHECK(dst[j] == 0x5a);
		if (got == 0) {
			FUZZ_CHECK(memcmp(dst, f->ptr, host) == 0);
			FUZZ_CHECK(dst[host] == '\0');
		}
	}
}

/*
 * Read log_sanitize() output back: literal bytes and \xNN escapes. Returns
 * the number of bytes decoded into out (size outsz), or -1 if the text is
 * not in that form.
 */
static long
unescape(const char *s, size_t n, uint8_t *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	const char *hi, *lo;
	size_t i = 0, o = 0;

	while (i < n) {
		if (o == outsz)
			return -1;
		if (s[i] != '\\') {
			out[o++] = (uint8_t)s[i++];
			continue;
		}
		if (n - i < 4 || s[i + 1] != 'x' || s[i + 2] == '\0' ||
		    s[i + 3] == '\0' || (hi = strchr(hex, s[i + 2])) == NULL ||
		    (lo = strchr(hex, s[i + 3])) == NULL)
			return -1;
		out[o++] = (uint8_t)(((hi - hex) << 4) | (lo - hex));
		i += 4;
	}
	return (long)o;
}

static void
check_sanitize(const uint8_t *src, size_t len)
{
	size_t sizes[] = {0, 1, 2, 4, 5, 8, 9, 32, 128, 0};
	uint8_t back[SANITIZE_SRC_MAX];
	char *dst;
	size_t i, j, ds, o, k;
	long got;
	int ok;

	if (len > SANITIZE_SRC_MAX)
		len = SANITIZE_SRC_MAX;
	/* Room for every byte escaped: never truncated. */
	sizes[sizeof(sizes) / sizeof(sizes[0]) - 1] = 4 * len + 5;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ds = sizes[i];
		dst = malloc(ds + FUZZ_GUARD);
		FUZZ_CHECK(dst != NULL);
		memset(dst, 0x5a, ds + FUZZ_GUARD);
		FUZZ_CHECK(
		    log_sanitize(dst, ds, (const char *)src, len) == dst);
		for (j = ds; j < ds + FUZZ_GUARD; j++)
			FUZZ_CHECK(dst[j] == 0x5a);
		if (ds == 0) {
			free(dst);
			continue;
		}
		o = strnlen(dst, ds);
		FUZZ_CHECK(o < ds);
		for (j = 0; j < o; j++)
			FUZZ_CHECK(
			    dst[j] >= 0x20 && dst[j] < 0x7f && dst[j] != '"');
		/* Either all of src, or a prefix of it and "..." (as much
		 * of it as a dst under 4 bytes holds); all of src whenever
		 * there was room. */
		got = unescape(dst, o, back, sizeof(back));
		ok = got == (long)len && memcmp(back, src, len) == 0;
		FUZZ_CHECK(ok || ds < 4 * len + 5);
		for (k = 0; !ok && k <= 3 && k <= o; k++) {
			if (strncmp(dst + o - k, "...", k) != 0 ||
			    k != (ds >= 4 ? 3 : ds - 1))
				continue;
			got = unescape(dst, o - k, back, sizeof(back));
			ok = got >= 0 && (size_t)got < len &&
			    memcmp(back, src, (size_t)got) == 0;
		}
		FUZZ_CHECK(ok);
		free(dst);
	}
}

/* Everything proto_saslauthd.h promises about a complete request. */
static void
check_complete(const uint8_t *buf, size_t n, size_t maxfield,
    const struct proto_request *req)
{
	const char *fields[PROTO_NFIELDS];
	size_t lens[PROTO_NFIELDS], off = 0;
	uint8_t *out;
	int i;

	FUZZ_CHECK(req->nfields == 4 || req->nfields == 5);
	for (i = 0; i < req->nfields; i++) {
		const struct proto_field_ref *f = &req->f[i];

		/* Contiguous counted strings, exactly covering buf. */
		FUZZ_CHECK(n - off >= 2);
		FUZZ_CHECK(fuzz_be16(buf + off) == f->len);
		FUZZ_CHECK(f->ptr == buf + off + 2);
		FUZZ_CHECK(f->len <= maxfield);
		FUZZ_CHECK(n - off - 2 >= f->len);
		FUZZ_CHECK(!has_byte(f->ptr, f->len, '\0'));
		if (i != PROTO_PASSWORD)
			FUZZ_CHECK(!has_byte(f->ptr, f->len, '\r') &&
			    !has_byte(f->ptr, f->len, '\n'));
		off += 2 + f->len;
		fields[i] = (const char *)f->ptr;
		lens[i] = f->len;
	}
	FUZZ_CHECK(off == n);
	FUZZ_CHECK(req->f[PROTO_LOGIN].len > 0);
	FUZZ_CHECK(req->f[PROTO_PASSWORD].len > 0);
	/* front.c sizes its buffer one byte above this: a whole request
	 * must never look "too long" to it. */
	FUZZ_CHECK(n <= PROTO_NFIELDS * (2 + maxfield));

	/* Encoding the fields gives the same bytes, and needs all of them. */
	out = fuzz_dup(buf, n);
	memset(out, 0, n);
	FUZZ_CHECK(
	    proto_encode_request(out, n, fields, lens, req->nfields) == n);
	FUZZ_CHECK(memcmp(out, buf, n) == 0);
	FUZZ_CHECK(
	    proto_encode_request(out, n - 1, fields, lens, req->nfields) == 0);
	/* A NULL field is an empty one (testsaslauthd-ng's realm). */
	for (i = 0; i < req->nfields; i++)
		if (lens[i] == 0)
			fields[i] = NULL;
	memset(out, 0, n);
	FUZZ_CHECK(
	    proto_encode_request(out, n, fields, lens, req->nfields) == n);
	FUZZ_CHECK(memcmp(out, buf, n) == 0);
	free(out);

	/* What the front does next with the fields. */
	if (req->nfields == 5)
		check_addr(&req->f[PROTO_ADDR]);
	FUZZ_CHECK(proto_valid_service(
		       req->f[PROTO_SERVICE].ptr, req->f[PROTO_SERVICE].len) ==
	    ref_service(req->f[PROTO_SERVICE].ptr, req->f[PROTO_SERVICE].len));
	check_sanitize(req->f[PROTO_LOGIN].ptr, req->f[PROTO_LOGIN].len);
	check_sanitize(req->f[PROTO_REALM].ptr, req->f[PROTO_REALM].len);
}

/* Decode buf[0..n) into *sh; deep: check a complete request in full. */
static void
decode_one(
    const uint8_t *buf, size_t n, size_t maxfield, int deep, struct shape *sh)
{
	struct proto_request req;
	int i;

	memset(sh, 0, sizeof(*sh));
	memset(&req, 0, sizeof(req));
	sh->st = proto_decode_request(buf, n, maxfield, &req);
	FUZZ_CHECK((unsigned)sh->st <= PROTO_ERR_TRAILING);
	FUZZ_CHECK(proto_status_reason(sh->st) != NULL);
	if (sh->st != PROTO_COMPLETE)
		return;
	if (deep)
		check_complete(buf, n, maxfield, &req);
	sh->nfields = req.nfields;
	for (i = 0; i < req.nfields; i++) {
		sh->off[i] = (size_t)(req.f[i].ptr - buf);
		sh->len[i] = req.f[i].len;
	}
}

static int
same_fields(const struct shape *a, const struct shape *b, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (a->off[i] != b->off[i] || a->len[i] != b->len[i])
			return 0;
	return 1;
}

/*
 * Buffers for decoding the prefixes of one input without an allocation
 * each: tail holds a prefix flush against its end (ASan's redzone), guard
 * holds it followed by FUZZ_GUARD bytes of fill.
 */
static uint8_t *tail, *guard;
static size_t tailsz;

/*
 * Decode src[0..n) flush against the end of a heap block (ASan) and with
 * two different fills after it (no read past n, even without ASan),
 * compare all three with the model, and return the model's shape, which
 * has the fields for every status.
 */
static void
decode_checked(const uint8_t *src, size_t n, size_t maxfield, struct shape *ret)
{
	struct shape a, g0, g1;
	uint8_t *buf = tail + tailsz - n;

	FUZZ_CHECK(n <= tailsz);
	if (n > 0)
		memcpy(buf, src, n);
	decode_one(buf, n, maxfield, 1, &a);
	if (n > 0)
		memcpy(guard, src, n);
	memset(guard + n, 0x00, FUZZ_GUARD);
	decode_one(guard, n, maxfield, 0, &g0);
	memset(guard + n, 0xff, FUZZ_GUARD);
	decode_one(guard, n, maxfield, 0, &g1);
	FUZZ_CHECK(memcmp(&a, &g0, sizeof(a)) == 0);
	FUZZ_CHECK(memcmp(&a, &g1, sizeof(a)) == 0);

	FUZZ_CHECK(ref_decode(src, n, maxfield, ret) == a.st);
	if (a.st == PROTO_COMPLETE) {
		FUZZ_CHECK(ret->nfields == a.nfields);
		FUZZ_CHECK(same_fields(ret, &a, a.nfields));
	}
}

/*
 * A reader that stopped at prefix p with status pre must not contradict
 * the whole input's status full: errors stick; a whole request followed
 * by more bytes is trailing junk, except that four fields may be followed
 * by a fifth (the decoder never waits for one: proto_saslauthd.h).
 */
static void
check_prefix(
    const struct shape *pre, size_t p, const struct shape *full, size_t n)
{
	if (p == n) {
		FUZZ_CHECK(pre->st == full->st);
		return;
	}
	if (pre->st == PROTO_INCOMPLETE)
		return;
	if (is_sticky(pre->st)) {
		FUZZ_CHECK(full->st == pre->st);
		return;
	}
	FUZZ_CHECK(is_whole(pre->st));
	if (pre->nfields == 5) {
		FUZZ_CHECK(full->st == PROTO_ERR_TRAILING);
		return;
	}
	FUZZ_CHECK(pre->nfields == 4);
	FUZZ_CHECK(full->nfields >= 4 && same_fields(pre, full, 4));
	if (is_whole(full->st))
		FUZZ_CHECK(full->nfields == 5 && full->st == pre->st);
}

static uint32_t
xorshift32(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * Feed p[0..n) as front.c's conn_read() sees it: a buffer of
 * PROTO_NFIELDS * (2 + maxfield) + 1 bytes, a decode after each chunk, a
 * stop at the first status other than PROTO_INCOMPLETE, and "request too
 * long" when the buffer fills.
 */
static void
check_stream(const uint8_t *p, size_t n, size_t maxfield, uint32_t seed,
    const struct shape *full)
{
	static const size_t maxchunks[] = {1, 2, 3, 5, 8, 64, 300, 4096};
	/* A long input cut into at most this many chunks, about: every
	 * chunk decodes from the start, as the front does. */
	size_t minchunk = n / STREAM_MAX_CHUNKS + 1;
	size_t cap = PROTO_NFIELDS * (2 + maxfield) + 1;
	size_t have = 0, chunk, maxchunk = maxchunks[seed & 7];
	uint32_t rnd = seed;
	struct shape s;

	memset(&s, 0, sizeof(s));
	s.st = PROTO_INCOMPLETE;
	while (have < n) {
		chunk = seed == 0 ? n : 1 + xorshift32(&rnd) % maxchunk;
		if (chunk < minchunk)
			chunk = minchunk;
		if (chunk > n - have)
			chunk = n - have;
		if (chunk > cap - have)
			chunk = cap - have;
		have += chunk;
		if (have == cap) {
			/* Refused unread: so no whole request is this long. */
			FUZZ_CHECK(!is_whole(full->st));
			return;
		}
		decode_checked(p, have, maxfield, &s);
		if (s.st != PROTO_INCOMPLETE)
			break;
	}
	check_prefix(&s, have, full, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[] = {SASLD_DEFAULT_MAX_FIELD,
	    SASLD_CYRUS_MAX_FIELD, SASLD_MAX_FIELD_LIMIT};
	struct proto_field_ref whole;
	struct shape full, pre;
	const uint8_t *p;
	size_t n, maxfield, i;
	uint32_t seed;

	if (size < CTL_LEN)
		return 0;
	maxfield = (data[0] & 3) < 3 ? limits[data[0] & 3] : data[0] >> 2;
	seed = (uint32_t)data[1] | (uint32_t)data[2] << 8 |
	    (uint32_t)data[3] << 16;
	p = data + CTL_LEN;
	n = size - CTL_LEN;

	tailsz = n;
	tail = fuzz_dup(p, n);
	guard = fuzz_dup_guard(p, n, 0);
	decode_checked(p, n, maxfield, &full);
	check_stream(p, n, maxfield, seed, &full);
	if (n <= ALL_PREFIXES_MAX)
		for (i = 0; i < n; i++) {
			decode_checked(p, i, maxfield, &pre);
			check_prefix(&pre, i, &full, n);
		}

	/* The helpers, over the raw bytes too. */
	whole.ptr = p;
	whole.len = n;
	check_addr(&whole);
	FUZZ_CHECK(proto_valid_service(p, n) == ref_service(p, n));
	check_sanitize(p, n);
	free(tail);
	free(guard);
	return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_saslauthd_reply.c - libFuzzer target for the saslauthd reply codec
 * (saslauthd-ng/proto_saslauthd.c): proto_decode_reply() as
 * testsaslauthd-ng drives it, at the prefixes of what a server sends where
 * the answer may change (a client reads the reply in pieces), proto_reply_is_ok(), and
 * proto_encode_reply() as the front uses it.
 *
 * Input: the bytes a server sends; also, up to its first NUL, a reply text
 * to encode.
 *
 * Invariants: decoding follows proto_saslauthd.h exactly (more bytes are
 * needed until the count is met; a count below 2 is malformed, whatever
 * follows) and never reads past the length given; a decoded reply encodes
 * back to the same bytes; an encoded reply decodes back to its text; the
 * encoder never writes past the size it was given.
 *
 * SECURITY: test code only.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto_saslauthd.h"

static int
ref_is_ok(const uint8_t *t, size_t n)
{
	return n >= 2 && t[0] == 'O' && t[1] == 'K';
}

/* proto_encode_reply(text) into a buffer of outsz bytes, then back. */
static void
check_encode(const char *text, size_t outsz)
{
	size_t n = strlen(text), want, got, j, tlen = 0;
	const uint8_t *t = NULL;
	uint8_t *out;

	want = n <= SASLD_MAX_REPLY && outsz >= n + 2 ? n + 2 : 0;
	out = malloc(outsz + FUZZ_GUARD);
	FUZZ_CHECK(out != NULL);
	memset(out, 0x5a, outsz + FUZZ_GUARD);
	got = proto_encode_reply(out, outsz, text);
	FUZZ_CHECK(got == want);
	for (j = outsz; j < outsz + FUZZ_GUARD; j++)
		FUZZ_CHECK(out[j] == 0x5a);
	if (got > 0) {
		/* libsasl2 refuses a count below 2 and so does the
		 * decoder; the front never sends one. */
		if (n < 2)
			FUZZ_CHECK(
			    proto_decode_reply(out, got, &t, &tlen) == -1);
		else {
			FUZZ_CHECK(
			    proto_decode_reply(out, got, &t, &tlen) == 1);
			FUZZ_CHECK(t == out + 2 && tlen == n);
			FUZZ_CHECK(memcmp(t, text, n) == 0);
		}
	}
	free(out);
}

static int
decode_one(const uint8_t *buf, size_t p, size_t *ret_off, size_t *ret_len)
{
	const uint8_t *t = NULL;
	size_t tlen = 0;
	int r;

	r = proto_decode_reply(buf, p, &t, &tlen);
	*ret_off = r == 1 ? (size_t)(t - buf) : 0;
	*ret_len = r == 1 ? tlen : 0;
	return r;
}

/* Decode the prefix src[0..p) and check it against the format. */
static void
check_prefix(const uint8_t *src, size_t p)
{
	char text[SASLD_MAX_REPLY + 1];
	size_t n = 0, off, len, off2, len2;
	uint8_t *buf;
	int want, r;

	if (p < 2)
		want = 0;
	else if ((n = fuzz_be16(src)) < 2)
		want = -1;
	else
		want = p - 2 < n ? 0 : 1;

	buf = fuzz_dup(src, p);
	r = decode_one(buf, p, &off, &len);
	free(buf);
	FUZZ_CHECK(r == want);
	buf = fuzz_dup_guard(src, p, 0x00);
	FUZZ_CHECK(decode_one(buf, p, &off2, &len2) == r);
	FUZZ_CHECK(off2 == off && len2 == len);
	free(buf);
	buf = fuzz_dup_guard(src, p, 0xff);
	FUZZ_CHECK(decode_one(buf, p, &off2, &len2) == r);
	FUZZ_CHECK(off2 == off && len2 == len);
	free(buf);
	if (r != 1)
		return;
	FUZZ_CHECK(off == 2 && len == n && len <= p - 2);
	FUZZ_CHECK(
	    proto_reply_is_ok(src + off, len) == ref_is_ok(src + off, len));
	/* What the front could have sent encodes to the same bytes. */
	if (len <= SASLD_MAX_REPLY && memchr(src + off, '\0', len) == NULL) {
		memcpy(text, src + off, len);
		text[len] = '\0';
		buf = fuzz_dup(src, len + 2);
		memset(buf, 0, len + 2);
		FUZZ_CHECK(proto_encode_reply(buf, len + 2, text) == len + 2);
		FUZZ_CHECK(memcmp(buf, src, len + 2) == 0);
		free(buf);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[SASLD_MAX_REPLY + 2];
	size_t sizes[] = {0, 1, 2, 0, 0, 0, SASLD_MAX_REPLY + 2};
	size_t i, n, count;
	uint8_t *buf;

	/* The answer can only change around the count word and where the
	 * count says the text ends: try every length there. */
	count = size >= 2 ? fuzz_be16(data) : 0;
	for (i = 0; i <= size; i++)
		if (i <= 3 || i == size ||
		    (i + 1 >= count + 2 && i <= count + 3))
			check_prefix(data, i);

	buf = fuzz_dup(data, size);
	FUZZ_CHECK(proto_reply_is_ok(buf, size) == ref_is_ok(buf, size));
	free(buf);
	/* "O" then a 'K' it was not given must not be OK. */
	buf = fuzz_dup_guard(data, size, 'K');
	FUZZ_CHECK(proto_reply_is_ok(buf, size) == ref_is_ok(buf, size));
	free(buf);

	/* One byte more than the encoder takes, to see it refused. */
	n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	n = strlen(text);
	sizes[3] = n + 1;
	sizes[4] = n + 2;
	sizes[5] = n + 3;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_encode(text, sizes[i]);
	return 0;
}

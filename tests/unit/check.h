/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check.h - "got X, want Y" assertions for the cmocka unit tests. Each one
 * names the table row and the quantity, so a failure reads on its own.
 * Include after <cmocka.h>.
 */
#ifndef SASLD_TEST_CHECK_H
#define SASLD_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Bytes shown of a byte string in a failure message. */
#define CHECK_HEX_MAX 48
#define CHECK_HEX_BUF (CHECK_HEX_MAX * 3 + 8)

#define CHECK_INT(name, what, got, want)                                       \
	do {                                                                   \
		long long got_ = (long long)(got);                             \
		long long want_ = (long long)(want);                           \
		if (got_ != want_)                                             \
			fail_msg("%s: %s: got %lld, want %lld", (name),        \
			    (what), got_, want_);                              \
	} while (0)

#define CHECK_UINT(name, what, got, want)                                      \
	do {                                                                   \
		unsigned long long got_ = (unsigned long long)(got);           \
		unsigned long long want_ = (unsigned long long)(want);         \
		if (got_ != want_)                                             \
			fail_msg("%s: %s: got %llu, want %llu", (name),        \
			    (what), got_, want_);                              \
	} while (0)

#define CHECK_BYTES(name, what, got, gotlen, want, wantlen)                    \
	check_bytes((name), (what), (const uint8_t *)(got), (gotlen),          \
	    (const uint8_t *)(want), (wantlen))

/* Hex dump of p[0..n) into dst, "..." when cut. */
static inline const char *
check_hex(char dst[CHECK_HEX_BUF], const uint8_t *p, size_t n)
{
	size_t i, off = 0;

	dst[0] = '\0';
	for (i = 0; i < n && i < CHECK_HEX_MAX; i++)
		off += (size_t)snprintf(dst + off, CHECK_HEX_BUF - off,
		    "%s%02x", i > 0 ? " " : "", p[i]);
	if (i < n)
		(void)snprintf(dst + off, CHECK_HEX_BUF - off, " ...");
	return dst;
}

static inline void
check_bytes(const char *name, const char *what, const uint8_t *got,
    size_t gotlen, const uint8_t *want, size_t wantlen)
{
	char g[CHECK_HEX_BUF], w[CHECK_HEX_BUF];

	if (gotlen == wantlen &&
	    (wantlen == 0 || memcmp(got, want, wantlen) == 0))
		return;
	fail_msg("%s: %s: got [%zu] %s, want [%zu] %s", name, what, gotlen,
	    got == NULL ? "(null)" : check_hex(g, got, gotlen), wantlen,
	    want == NULL ? "(null)" : check_hex(w, want, wantlen));
}

#endif

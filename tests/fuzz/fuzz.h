/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz.h - shared by the fuzz targets (fuzz_<target>.c) and the replay
 * driver (replay.c). Each target defines LLVMFuzzerTestOneInput(); clang
 * links it with libFuzzer (tests/fuzz/run.sh), the normal gcc build with
 * replay.c, which feeds it every file of the committed corpus under ctest.
 *
 * SECURITY: test code only; never linked into the daemon or the worker.
 */
#ifndef SASLD_FUZZ_H
#define SASLD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A broken invariant: say which and abort(), so that libFuzzer saves the
 * input and the replay driver fails. Not assert(): NDEBUG would remove it
 * in a release build.
 */
#define FUZZ_CHECK(cond)                                                       \
	((cond) ? (void)0 : fuzz_fail(#cond, __FILE__, __LINE__))

static inline __attribute__((noreturn)) void
fuzz_fail(const char *what, const char *file, int line)
{
	(void)fprintf(
	    stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}

/* A heap copy of exactly n bytes (at least 1 allocated), so that ASan
 * reports any read past the length a function was given. */
static inline uint8_t *
fuzz_dup(const uint8_t *p, size_t n)
{
	uint8_t *c = calloc(1, n > 0 ? n : 1);

	FUZZ_CHECK(c != NULL);
	if (n > 0)
		memcpy(c, p, n);
	return c;
}

/*
 * p[0..n) followed by FUZZ_GUARD bytes of fill: a function given length n
 * must answer the same whatever the fill is. This catches a read past the
 * length in the gcc replay build, where ASan is absent.
 */
#define FUZZ_GUARD 16

static inline uint8_t *
fuzz_dup_guard(const uint8_t *p, size_t n, uint8_t fill)
{
	uint8_t *c = malloc(n + FUZZ_GUARD);

	FUZZ_CHECK(c != NULL);
	if (n > 0)
		memcpy(c, p, n);
	memset(c + n, fill, FUZZ_GUARD);
	return c;
}

static inline size_t
fuzz_be16(const uint8_t *p)
{
	return ((size_t)p[0] << 8) | p[1];
}

#endif

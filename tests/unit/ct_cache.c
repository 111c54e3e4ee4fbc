/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ct_cache.c - constant-time check of the cache's tag handling, the
 * ctgrind way: the secret bytes (the stored tag, the presented tag, the
 * password) are marked undefined for valgrind's memcheck, which then
 * reports every branch and every memory index that depends on them. Run by
 * ct_cache.sh under valgrind --error-exitcode=1.
 *
 * "ct_cache" checks cache_tag() and cache_tag_equal(): must be silent.
 * "ct_cache memcmp" compares with memcmp() instead: memcheck must report
 * it, which shows the check can fail.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "cache.h"

#define PW "correct horse battery staple"

/* Through a volatile pointer: the real memcmp, not a builtin. */
static int (*volatile plain_memcmp)(
    const void *, const void *, size_t) = memcmp;

int
main(int argc, char *argv[])
{
	struct cache *c = NULL;
	struct cache_key k;
	uint8_t pw[sizeof(PW)], a[CACHE_TAG_LEN], b[CACHE_TAG_LEN];
	int use_memcmp = argc > 1 && strcmp(argv[1], "memcmp") == 0;
	int eq, i;

	if (!RUNNING_ON_VALGRIND) {
		fprintf(stderr, "ct_cache: must run under valgrind\n");
		return 2;
	}
	if ((c = cache_new(4, 1000, 100)) == NULL) {
		fprintf(stderr, "ct_cache: cache_new failed\n");
		return 2;
	}
	k.login = (const uint8_t *)"alice";
	k.login_len = 5;
	k.realm = (const uint8_t *)"";
	k.realm_len = 0;
	k.service = (const uint8_t *)"smtp";
	k.service_len = 4;
	memcpy(pw, PW, sizeof(pw));
	/* The password is secret: hashing it must not branch on it. */
	VALGRIND_MAKE_MEM_UNDEFINED(pw, sizeof(pw));
	if (cache_tag(c, &k, pw, sizeof(pw), a) == -1)
		return 2;
	/* Two tags that differ in one late byte, and two equal ones. */
	for (i = 0; i < 2; i++) {
		memcpy(b, a, sizeof(b));
		if (i == 0)
			b[CACHE_TAG_LEN - 1] ^= 1;
		VALGRIND_MAKE_MEM_UNDEFINED(a, sizeof(a));
		VALGRIND_MAKE_MEM_UNDEFINED(b, sizeof(b));
		if (use_memcmp)
			eq = plain_memcmp(a, b, sizeof(a)) == 0;
		else
			eq = cache_tag_equal(a, b);
		/* The answer itself is public: the caller acts on it. */
		VALGRIND_MAKE_MEM_DEFINED(&eq, sizeof(eq));
		if (eq != (i == 1)) {
			fprintf(stderr, "ct_cache: wrong comparison\n");
			return 2;
		}
	}
	cache_free(c);
	printf("ct_cache: %s done\n", use_memcmp ? "memcmp" : "cache");
	return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_throttle.c - unit tests for the failure throttle
 * (saslauthd-ng/throttle.c): SipHash-2-4 against the reference vectors,
 * the delay formula (PAM's delay alone for a first failure, doubling from
 * 1 s, the cap, PAM's delay capped too), success resetting the login and
 * the address, the address counting across logins, IPv6 /64 grouping,
 * window expiry, LRU eviction in a tiny table, the hard limit, and
 * saturation at huge counts and times.
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
#include "throttle.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MIN_MS (60 * 1000ULL)
#define T0 1000000ULL /* an arbitrary start time */

static const uint8_t key[THROTTLE_KEY_LEN] = {
    0x13, 0x57, 0x9b, 0xdf, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static struct throttle thr;

static void
setup_thr(uint32_t entries, uint32_t max_ms, uint32_t limit)
{
	struct throttle_params p = {entries, 15 * MIN_MS, max_ms, limit};

	if (throttle_init(&thr, &p, key) == -1)
		fail_msg("throttle_init(%u entries) failed", entries);
}

static int
teardown(void **state)
{
	(void)state;
	throttle_free(&thr);
	return 0;
}

static struct throttle_who
who(const char *login, const char *addr)
{
	struct throttle_who w = {login, strlen(login), addr};

	return w;
}

static uint32_t
fail_at(const char *login, const char *addr, uint32_t pam_ms, uint64_t now)
{
	struct throttle_who w = who(login, addr);

	return throttle_fail(&thr, &w, pam_ms, now, NULL, NULL);
}

static void
test_siphash_vectors(void **state)
{
	/* The reference implementation's vectors: key 00..0f, message
	 * 00..len-1, output read little-endian. */
	static const struct {
		size_t len;
		uint64_t want;
	} v[] = {
	    {0, 0x726fdb47dd0e0e31ULL},
	    {1, 0x74f839c593dc67fdULL},
	    {7, 0xab0200f58b01d137ULL},
	    {8, 0x93f5f5799a932462ULL},
	    {15, 0xa129ca6149be45e5ULL},
	    {63, 0x958a324ceb064572ULL},
	};
	uint8_t msg[64];
	uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
	size_t i;
	char name[32];

	(void)state;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	for (i = 0; i < NELEM(v); i++) {
		(void)snprintf(name, sizeof(name), "length %zu", v[i].len);
		CHECK_UINT(name, "siphash",
		    throttle_siphash(k0, k1, msg, v[i].len), v[i].want);
	}
}

static void
test_growth(void **state)
{
	static const struct {
		uint32_t n, max, want;
	} g[] = {
	    {0, 8000, 0},
	    {1, 8000, 0},
	    {2, 8000, 1000},
	    {3, 8000, 2000},
	    {4, 8000, 4000},
	    {5, 8000, 8000},
	    {6, 8000, 8000},
	    {33, 8000, 8000},
	    {34, 8000, 8000}, /* shift of 32 */
	    {UINT32_MAX, 8000, 8000},
	    {UINT32_MAX, UINT32_MAX, UINT32_MAX},
	    {33, UINT32_MAX, UINT32_MAX}, /* 1000 << 31 > 2^32 */
	    {4, 3000, 3000},
	    {2, 0, 0},
	};
	size_t i;
	char name[48];

	(void)state;
	for (i = 0; i < NELEM(g); i++) {
		(void)snprintf(
		    name, sizeof(name), "growth(%u, max %u)", g[i].n, g[i].max);
		CHECK_UINT(
		    name, "ms", throttle_growth(g[i].n, g[i].max), g[i].want);
	}
}

/* Wrong passwords in a row: PAM's delay alone, then 1, 2, 4 s, capped. */
static void
test_sequence(void **state)
{
	static const uint32_t want_nopam[] = {0, 1000, 2000, 4000, 5000, 5000};
	static const uint32_t want_pam2s[] = {
	    2000, 2000, 2000, 4000, 5000, 5000};
	uint32_t grown;
	unsigned flags;
	struct throttle_who w = who("alice", NULL);
	size_t i;
	char name[48];

	(void)state;
	setup_thr(64, 5000, 0);
	for (i = 0; i < NELEM(want_nopam); i++) {
		(void)snprintf(
		    name, sizeof(name), "no PAM delay, failure %zu", i + 1);
		CHECK_UINT(name, "delay",
		    throttle_fail(&thr, &w, 0, T0 + i * 1000, &grown, &flags),
		    want_nopam[i]);
		CHECK_UINT(name, "grown", grown, want_nopam[i]);
		CHECK_UINT(name, "login start flag",
		    flags & THROTTLE_F_LOGIN_START, i == 1);
		CHECK_UINT(
		    name, "no address flag", flags & THROTTLE_F_ADDR_START, 0);
	}
	w = who("bob", NULL);
	for (i = 0; i < NELEM(want_pam2s); i++) {
		(void)snprintf(
		    name, sizeof(name), "PAM 2 s, failure %zu", i + 1);
		CHECK_UINT(name, "delay",
		    throttle_fail(&thr, &w, 2000, T0 + i * 1000, &grown, NULL),
		    want_pam2s[i]);
		CHECK_UINT(
		    name, "grown beyond PAM's", grown, want_pam2s[i] - 2000);
	}
	/* PAM's own delay is capped too. */
	w = who("carol", NULL);
	CHECK_UINT("PAM asks 30 s", "delay",
	    throttle_fail(&thr, &w, 30000, T0, &grown, NULL), 5000);
	CHECK_UINT("PAM asks 30 s", "grown", grown, 0);
	teardown(NULL);
	/* A cap of 0: no delay at all, whatever PAM or the count say. */
	setup_thr(64, 0, 0);
	for (i = 0; i < 5; i++)
		CHECK_UINT(
		    "cap 0", "delay", fail_at("dave", NULL, 2000, T0), 0);
}

static void
test_success_resets(void **state)
{
	struct throttle_who w = who("alice", "192.0.2.1");
	uint64_t now = T0;

	(void)state;
	setup_thr(64, 8000, 0);
	fail_at("alice", "192.0.2.1", 0, now++);
	fail_at("alice", "192.0.2.1", 0, now++);
	CHECK_UINT(
	    "after 3", "delay", fail_at("alice", "192.0.2.1", 0, now++), 2000);
	throttle_success(&thr, &w);
	CHECK_UINT("after success", "login count",
	    throttle_login_count(&thr, &w, now), 0);
	CHECK_UINT("after success", "address count",
	    throttle_addr_count(&thr, &w, now), 0);
	CHECK_UINT("first after success", "delay",
	    fail_at("alice", "192.0.2.1", 0, now++), 0);
	CHECK_UINT("second after success", "delay",
	    fail_at("alice", "192.0.2.1", 0, now++), 1000);
	/* A success for a key never seen changes nothing and does not
	 * crash. */
	w = who("nobody", "198.51.100.9");
	throttle_success(&thr, &w);
	CHECK_UINT(
	    "unknown", "login count", throttle_login_count(&thr, &w, now), 0);
}

/* Many logins from one address: the address's count grows the delay. */
static void
test_address_across_logins(void **state)
{
	char login[32];
	unsigned flags = 0;
	uint32_t d;
	struct throttle_who w;
	int i;

	(void)state;
	setup_thr(64, 8000, 0);
	for (i = 0; i < 5; i++) {
		(void)snprintf(login, sizeof(login), "user%d", i);
		w = who(login, "203.0.113.7");
		d = throttle_fail(&thr, &w, 0, T0 + (uint64_t)i, NULL, &flags);
		CHECK_UINT(login, "delay", d, throttle_growth(i + 1, 8000));
		CHECK_UINT(login, "address start flag",
		    (flags & THROTTLE_F_ADDR_START) != 0, i == 1);
		CHECK_UINT(login, "login start flag",
		    flags & THROTTLE_F_LOGIN_START, 0);
		CHECK_UINT(login, "login count",
		    throttle_login_count(&thr, &w, T0 + 10), 1);
	}
	/* The same logins from another address or none: their own count. */
	CHECK_UINT("user0 elsewhere", "delay",
	    fail_at("user0", "203.0.113.8", 0, T0 + 10), 1000);
	CHECK_UINT("user1 without address", "delay",
	    fail_at("user1", NULL, 0, T0 + 11), 1000);
	CHECK_UINT("user2, empty address", "delay",
	    fail_at("user2", "", 0, T0 + 12), 1000);
	/* A login failing from many addresses: the login's count. */
	CHECK_UINT("user0 third address", "delay",
	    fail_at("user0", "198.51.100.1", 0, T0 + 13), 2000);
	/* The address's success resets it, not other addresses. */
	w = who("user9", "203.0.113.7");
	throttle_success(&thr, &w);
	CHECK_UINT("after success", "address count",
	    throttle_addr_count(&thr, &w, T0 + 14), 0);
	w = who("x", "203.0.113.8");
	CHECK_UINT("other address", "address count",
	    throttle_addr_count(&thr, &w, T0 + 14), 1);
}

static void
test_address_forms(void **state)
{
	static const struct {
		const char *a, *b;
		int same;
	} c[] = {
	    {"2001:db8:1:2::1", "2001:db8:1:2:ffff::9", 1}, /* same /64 */
	    {"2001:db8:1:2::1", "2001:db8:1:3::1", 0},
	    {"::ffff:192.0.2.1", "192.0.2.1", 1},
	    {"192.0.2.1", "192.0.2.2", 0},
	    {"192.0.2.1", "host.example", 0},
	    {"fe80::1%eth0", "fe80::1%eth0", 1}, /* not a literal: as is */
	    {"fe80::1%eth0", "fe80::1%eth1", 0},
	};
	struct throttle_who w;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(c); i++) {
		setup_thr(64, 8000, 0);
		fail_at("a", c[i].a, 0, T0);
		w = who("b", c[i].b);
		CHECK_UINT(c[i].b, "address count after a failure of the other",
		    throttle_addr_count(&thr, &w, T0), c[i].same ? 1 : 0);
		teardown(NULL);
	}
}

static void
test_window(void **state)
{
	struct throttle_who w = who("alice", "192.0.2.1");
	uint64_t win = 15 * MIN_MS;

	(void)state;
	setup_thr(64, 8000, 0);
	fail_at("alice", "192.0.2.1", 0, T0);
	fail_at("alice", "192.0.2.1", 0, T0 + 1000);
	CHECK_UINT("just inside the window", "login count",
	    throttle_login_count(&thr, &w, T0 + 1000 + win - 1), 2);
	CHECK_UINT("window over", "login count",
	    throttle_login_count(&thr, &w, T0 + 1000 + win), 0);
	CHECK_UINT("window over", "address count",
	    throttle_addr_count(&thr, &w, T0 + 1000 + win), 0);
	/* The window counts from the last failure: it slides. */
	CHECK_UINT("inside: third", "delay",
	    fail_at("alice", "192.0.2.1", 0, T0 + win), 2000);
	CHECK_UINT("after the window", "delay",
	    fail_at("alice", "192.0.2.1", 0, T0 + 2 * win), 0);
	CHECK_UINT("then", "delay",
	    fail_at("alice", "192.0.2.1", 0, T0 + 2 * win + 1), 1000);
	/* A clock that steps back counts as no time passed. */
	CHECK_UINT(
	    "clock back", "delay", fail_at("alice", "192.0.2.1", 0, T0), 2000);
}

static void
test_eviction(void **state)
{
	struct throttle_who w;
	char login[16];
	int i;

	(void)state;
	setup_thr(3, 8000, 0);
	fail_at("a", NULL, 0, T0);
	fail_at("a", NULL, 0, T0 + 1);
	fail_at("b", NULL, 0, T0 + 2);
	fail_at("c", NULL, 0, T0 + 3);
	/* a is the least recently used; touching it makes b the oldest. */
	CHECK_UINT(
	    "a third time", "delay", fail_at("a", NULL, 0, T0 + 4), 2000);
	fail_at("d", NULL, 0, T0 + 5); /* evicts b */
	w = who("b", NULL);
	CHECK_UINT(
	    "b evicted", "count", throttle_login_count(&thr, &w, T0 + 6), 0);
	w = who("a", NULL);
	CHECK_UINT(
	    "a kept", "count", throttle_login_count(&thr, &w, T0 + 6), 3);
	/* An evicted key starts over. */
	CHECK_UINT("b again", "delay", fail_at("b", NULL, 0, T0 + 7), 0);
	/* Many keys through a tiny table: never more than 3 remembered,
	 * and the last three are. */
	for (i = 0; i < 1000; i++) {
		(void)snprintf(login, sizeof(login), "k%d", i % 7);
		fail_at(login, "192.0.2.1", 0, T0 + 10 + (uint64_t)i);
	}
	for (i = 0; i < 7; i++) {
		(void)snprintf(login, sizeof(login), "k%d", i);
		w = who(login, NULL);
		/* 1000 failures over 7 keys in turn: each is evicted before
		 * it comes round again (the table holds 3). */
		CHECK_UINT(login, "count",
		    throttle_login_count(&thr, &w, T0 + 2000),
		    (999 - i) % 7 < 3 ? 1 : 0);
	}
	w = who("x", "192.0.2.1");
	CHECK_UINT("address after 1000", "count",
	    throttle_addr_count(&thr, &w, T0 + 2000), 1000);
}

static void
test_limit(void **state)
{
	struct throttle_who w = who("alice", "192.0.2.1");
	unsigned flags;
	uint64_t now = T0, win = 15 * MIN_MS;
	int i;

	(void)state;
	/* Off: never limited. */
	setup_thr(64, 8000, 0);
	for (i = 0; i < 50; i++)
		fail_at("alice", NULL, 0, now++);
	CHECK_UINT("limit off", "limited", throttle_limited(&thr, &w, now), 0);
	teardown(NULL);

	setup_thr(64, 8000, 3);
	for (i = 1; i <= 3; i++) {
		CHECK_UINT("before the limit", "limited",
		    throttle_limited(&thr, &w, now), 0);
		(void)throttle_fail(&thr, &w, 0, now++, NULL, &flags);
		CHECK_UINT("limit flag", "set",
		    (flags & THROTTLE_F_LIMIT_START) != 0, i == 3);
	}
	CHECK_UINT(
	    "at the limit", "limited", throttle_limited(&thr, &w, now), 1);
	/* Another login is not limited, even from the same address. */
	{
		struct throttle_who o = who("bob", "192.0.2.1");

		CHECK_UINT(
		    "bob", "limited", throttle_limited(&thr, &o, now), 0);
	}
	/* Refusals recorded as failures keep the window alive: the last
	 * failure was at now - 1. */
	now += win - 2;
	CHECK_UINT("refusal", "delay",
	    throttle_fail(&thr, &w, 0, now, NULL, &flags), 4000);
	CHECK_UINT("refusal", "no second limit flag",
	    flags & THROTTLE_F_LIMIT_START, 0);
	now += win - 1;
	CHECK_UINT(
	    "still limited", "limited", throttle_limited(&thr, &w, now), 1);
	now += 1;
	CHECK_UINT(
	    "window passed", "limited", throttle_limited(&thr, &w, now), 0);
	/* A success (say, the limit was raised) lifts it too. */
	for (i = 0; i < 3; i++)
		fail_at("alice", NULL, 0, now++);
	CHECK_UINT(
	    "limited again", "limited", throttle_limited(&thr, &w, now), 1);
	throttle_success(&thr, &w);
	CHECK_UINT(
	    "after success", "limited", throttle_limited(&thr, &w, now), 0);
}

static void
test_saturation(void **state)
{
	struct throttle_who w = who("alice", "192.0.2.1");
	uint64_t now = UINT64_MAX - 100;
	uint32_t d = 0;
	int i;

	(void)state;
	setup_thr(4, UINT32_MAX, 0);
	/* Force a count near the top, then keep failing. */
	for (i = 0; i < 40; i++)
		d = fail_at("alice", "192.0.2.1", 0, now);
	CHECK_UINT("40 failures, no cap", "delay", d, UINT32_MAX);
	thr.login.e[0].fails = UINT32_MAX - 1;
	d = fail_at("alice", "192.0.2.1", UINT32_MAX, now);
	d = fail_at("alice", "192.0.2.1", UINT32_MAX, now + 50);
	CHECK_UINT("saturated", "login count",
	    throttle_login_count(&thr, &w, now + 50), UINT32_MAX);
	CHECK_UINT("saturated", "delay", d, UINT32_MAX);
	/* Time near the end of uint64_t: no wrap into "expired". */
	CHECK_UINT("end of time", "login count",
	    throttle_login_count(&thr, &w, UINT64_MAX), UINT32_MAX);
	teardown(NULL);
	/* A huge window never overflows either. */
	{
		struct throttle_params p = {4, UINT64_MAX, 8000, 0};

		if (throttle_init(&thr, &p, key) == -1)
			fail_msg("init");
		fail_at("alice", NULL, 0, 5);
		CHECK_UINT("huge window", "count",
		    throttle_login_count(&thr, &w, UINT64_MAX), 1);
	}
}

static void
test_init_bounds(void **state)
{
	struct throttle_params p = {0, 1000, 8000, 0};
	struct throttle t;

	(void)state;
	CHECK_INT("0 entries", "init", throttle_init(&t, &p, key), -1);
	p.entries = UINT32_MAX;
	CHECK_INT("2^32-1 entries", "init", throttle_init(&t, &p, key), -1);
	p.entries = 1;
	CHECK_INT("1 entry", "init", throttle_init(&t, &p, key), 0);
	throttle_free(&t);
	memset(&thr, 0, sizeof(thr));
}

/* Another key: the same strings hash differently (no fixed key). */
static void
test_key_matters(void **state)
{
	uint8_t k2[THROTTLE_KEY_LEN];
	struct throttle t2;
	struct throttle_params p = {64, 1000, 8000, 0};

	(void)state;
	memcpy(k2, key, sizeof(k2));
	k2[15] ^= 1;
	setup_thr(64, 8000, 0);
	if (throttle_init(&t2, &p, k2) == -1)
		fail_msg("init");
	if (throttle_siphash(thr.k0, thr.k1, "alice", 5) ==
	    throttle_siphash(t2.k0, t2.k1, "alice", 5))
		fail_msg("two keys gave the same hash of \"alice\"");
	throttle_free(&t2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_siphash_vectors),
	    cmocka_unit_test(test_growth),
	    cmocka_unit_test_teardown(test_sequence, teardown),
	    cmocka_unit_test_teardown(test_success_resets, teardown),
	    cmocka_unit_test_teardown(test_address_across_logins, teardown),
	    cmocka_unit_test(test_address_forms),
	    cmocka_unit_test_teardown(test_window, teardown),
	    cmocka_unit_test_teardown(test_eviction, teardown),
	    cmocka_unit_test_teardown(test_limit, teardown),
	    cmocka_unit_test_teardown(test_saturation, teardown),
	    cmocka_unit_test(test_init_bounds),
	    cmocka_unit_test_teardown(test_key_matters, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

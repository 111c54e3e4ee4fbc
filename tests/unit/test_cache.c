/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_cache.c - unit tests for the -c credential cache
 * (saslauthd-ng/cache.c), with the clock as an argument: hit and miss, a
 * wrong password misses and keeps the entry, a new password replaces the
 * tag, TTL expiry, revalidation (STALE, confirm, drop on NO), LRU eviction
 * order, flush, key ambiguity, keys at the length limit, statistics, and a
 * long random run against a plain array model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"
#include "check.h"

#define TTL 10000 /* ms */
#define REVAL 1000 /* ms */

static struct cache_key
mkkey(const char *login, const char *realm, const char *service)
{
	struct cache_key k;

	k.login = (const uint8_t *)login;
	k.login_len = strlen(login);
	k.realm = (const uint8_t *)realm;
	k.realm_len = strlen(realm);
	k.service = (const uint8_t *)service;
	k.service_len = strlen(service);
	return k;
}

/* Look (login, realm, service, password) up at now. */
static enum cache_result
look(struct cache *c, const char *login, const char *realm, const char *service,
    const char *pw, uint64_t now)
{
	struct cache_key k = mkkey(login, realm, service);
	uint8_t tag[CACHE_TAG_LEN];

	assert_int_equal(
	    cache_tag(c, &k, (const uint8_t *)pw, strlen(pw), tag), 0);
	return cache_lookup(c, &k, tag, now);
}

static void
store(struct cache *c, const char *login, const char *realm,
    const char *service, const char *pw, uint64_t now)
{
	struct cache_key k = mkkey(login, realm, service);
	uint8_t tag[CACHE_TAG_LEN];

	assert_int_equal(
	    cache_tag(c, &k, (const uint8_t *)pw, strlen(pw), tag), 0);
	cache_store(c, &k, tag, now);
}

static void
drop(struct cache *c, const char *login, const char *realm, const char *service,
    const char *pw)
{
	struct cache_key k = mkkey(login, realm, service);
	uint8_t tag[CACHE_TAG_LEN];

	assert_int_equal(
	    cache_tag(c, &k, (const uint8_t *)pw, strlen(pw), tag), 0);
	cache_drop(c, &k, tag);
}

static struct cache *
mk(size_t cap)
{
	struct cache *c = cache_new(cap, TTL, REVAL);

	assert_non_null(c);
	return c;
}

static void
test_hit_miss(void **state)
{
	struct cache *c = mk(16);
	struct cache_stats st;

	(void)state;
	CHECK_INT("empty", "lookup", look(c, "alice", "", "smtp", "pw", 0),
	    CACHE_MISS);
	store(c, "alice", "", "smtp", "pw", 0);
	CHECK_INT("stored", "lookup", look(c, "alice", "", "smtp", "pw", 5),
	    CACHE_HIT);
	/* Every key field counts. */
	CHECK_INT("other login", "lookup",
	    look(c, "alicE", "", "smtp", "pw", 5), CACHE_MISS);
	CHECK_INT("other realm", "lookup",
	    look(c, "alice", "x", "smtp", "pw", 5), CACHE_MISS);
	CHECK_INT("other service", "lookup",
	    look(c, "alice", "", "imap", "pw", 5), CACHE_MISS);
	CHECK_INT("password prefix", "lookup",
	    look(c, "alice", "", "smtp", "p", 5), CACHE_MISS);
	CHECK_INT("password longer", "lookup",
	    look(c, "alice", "", "smtp", "pw ", 5), CACHE_MISS);
	cache_get_stats(c, &st);
	CHECK_UINT("stats", "hits", st.hits, 1);
	CHECK_UINT("stats", "misses", st.misses, 6);
	CHECK_UINT("stats", "stores", st.stores, 1);
	CHECK_UINT("stats", "entries", st.entries, 1);
	CHECK_UINT("stats", "capacity", st.capacity, 16);
	cache_free(c);
}

static void
test_wrong_password_keeps_entry(void **state)
{
	struct cache *c = mk(16);
	struct cache_stats st;

	(void)state;
	store(c, "bob", "", "smtp", "right", 0);
	CHECK_INT("wrong", "lookup", look(c, "bob", "", "smtp", "wrong", 1),
	    CACHE_MISS);
	/* PAM says NO to the wrong one: only its tag would be dropped. */
	drop(c, "bob", "", "smtp", "wrong");
	CHECK_INT("right after wrong", "lookup",
	    look(c, "bob", "", "smtp", "right", 2), CACHE_HIT);
	cache_get_stats(c, &st);
	CHECK_UINT("stats", "dropped", st.dropped, 0);
	CHECK_UINT("stats", "entries", st.entries, 1);
	cache_free(c);
}

static void
test_new_password_replaces(void **state)
{
	struct cache *c = mk(16);
	struct cache_stats st;

	(void)state;
	store(c, "carol", "", "smtp", "old", 0);
	CHECK_INT("new, not yet", "lookup",
	    look(c, "carol", "", "smtp", "new", 1), CACHE_MISS);
	store(c, "carol", "", "smtp", "new", 2); /* PAM said OK */
	CHECK_INT(
	    "new", "lookup", look(c, "carol", "", "smtp", "new", 3), CACHE_HIT);
	CHECK_INT("old", "lookup", look(c, "carol", "", "smtp", "old", 3),
	    CACHE_MISS);
	cache_get_stats(c, &st);
	CHECK_UINT("stats", "entries", st.entries, 1);
	cache_free(c);
}

static void
test_ttl(void **state)
{
	struct cache *c = cache_new(16, 2000, 60000);
	struct cache_stats st;

	(void)state;
	assert_non_null(c);
	store(c, "dave", "", "smtp", "pw", 1000);
	CHECK_INT("just before", "lookup",
	    look(c, "dave", "", "smtp", "pw", 2999), CACHE_HIT);
	/* Hits do not refresh: expiry counts from PAM's OK. */
	CHECK_INT("at ttl", "lookup", look(c, "dave", "", "smtp", "pw", 3000),
	    CACHE_MISS);
	cache_get_stats(c, &st);
	CHECK_UINT("stats", "expired", st.expired, 1);
	CHECK_UINT("stats", "entries", st.entries, 0);
	CHECK_INT("after", "lookup", look(c, "dave", "", "smtp", "pw", 3001),
	    CACHE_MISS);
	cache_get_stats(c, &st);
	CHECK_UINT("stats", "expired once", st.expired, 1);
	cache_free(c);
}

static void
test_revalidate(void **state)
{
	struct cache *c = mk(16);
	struct cache_stats st;

	(void)state;
	store(c, "erin", "", "smtp", "pw", 0);
	CHECK_INT("fresh", "lookup",
	    look(c, "erin", "", "smtp", "pw", REVAL - 1), CACHE_HIT);
	/* Old enough: PAM must say it again, however often it is tried. */
	CHECK_INT("stale", "lookup", look(c, "erin", "", "smtp", "pw", REVAL),
	    CACHE_STALE);
	CHECK_INT("stale again", "lookup",
	    look(c, "erin", "", "smtp", "pw", REVAL + 1), CACHE_STALE);
	/* PAM confirms: fresh for another interval. */
	store(c, "erin", "", "smtp", "pw", REVAL + 2);
	CHECK_INT("confirmed", "lookup",
	    look(c, "erin", "", "smtp", "pw", 2 * REVAL + 1), CACHE_HIT);
	CHECK_INT("stale once more", "lookup",
	    look(c, "erin", "", "smtp", "pw", 2 * REVAL + 2), CACHE_STALE);
	/* PAM says NO (password changed): the entry goes. */
	drop(c, "erin", "", "smtp", "pw");
	CHECK_INT("dropped", "lookup",
	    look(c, "erin", "", "smtp", "pw", 2 * REVAL + 3), CACHE_MISS);
	cache_get_stats(c, &st);
	CHECK_UINT("stats", "stale", st.stale, 3);
	CHECK_UINT("stats", "dropped", st.dropped, 1);
	CHECK_UINT("stats", "entries", st.entries, 0);
	CHECK_UINT("stats", "hits", st.hits, 2);
	cache_free(c);
}

static void
test_lru(void **state)
{
	struct cache *c = mk(3);
	struct cache_stats st;

	(void)state;
	store(c, "u1", "", "s", "p", 0);
	store(c, "u2", "", "s", "p", 1);
	store(c, "u3", "", "s", "p", 2);
	/* u1 is used, so u2 is now the least recently used. */
	CHECK_INT("u1", "lookup", look(c, "u1", "", "s", "p", 3), CACHE_HIT);
	store(c, "u4", "", "s", "p", 4);
	CHECK_INT(
	    "u2 evicted", "lookup", look(c, "u2", "", "s", "p", 5), CACHE_MISS);
	CHECK_INT(
	    "u1 kept", "lookup", look(c, "u1", "", "s", "p", 5), CACHE_HIT);
	CHECK_INT(
	    "u3 kept", "lookup", look(c, "u3", "", "s", "p", 5), CACHE_HIT);
	CHECK_INT(
	    "u4 kept", "lookup", look(c, "u4", "", "s", "p", 5), CACHE_HIT);
	/* Order now u4, u3, u1 (most recent first): u1 goes next. A store
	 * that replaces does not evict. */
	store(c, "u3", "", "s", "p2", 6);
	cache_get_stats(c, &st);
	CHECK_UINT("stats", "evictions after replace", st.evictions, 1);
	store(c, "u5", "", "s", "p", 7);
	CHECK_INT(
	    "u1 evicted", "lookup", look(c, "u1", "", "s", "p", 8), CACHE_MISS);
	CHECK_INT(
	    "u4 kept", "lookup", look(c, "u4", "", "s", "p", 8), CACHE_HIT);
	cache_get_stats(c, &st);
	CHECK_UINT("stats", "evictions", st.evictions, 2);
	CHECK_UINT("stats", "entries", st.entries, 3);
	cache_free(c);
}

static void
test_capacity_one(void **state)
{
	struct cache *c = mk(1);

	(void)state;
	store(c, "a", "", "s", "p", 0);
	store(c, "b", "", "s", "p", 0);
	CHECK_INT("a", "lookup", look(c, "a", "", "s", "p", 1), CACHE_MISS);
	CHECK_INT("b", "lookup", look(c, "b", "", "s", "p", 1), CACHE_HIT);
	cache_free(c);
}

static void
test_flush(void **state)
{
	struct cache *c = mk(16);
	struct cache_stats st;

	(void)state;
	store(c, "f1", "", "s", "p", 0);
	store(c, "f2", "r", "s", "p", 0);
	cache_flush(c);
	CHECK_INT("f1", "lookup", look(c, "f1", "", "s", "p", 1), CACHE_MISS);
	CHECK_INT("f2", "lookup", look(c, "f2", "r", "s", "p", 1), CACHE_MISS);
	cache_get_stats(c, &st);
	CHECK_UINT("stats", "entries", st.entries, 0);
	CHECK_UINT("stats", "flushes", st.flushes, 1);
	/* Still works, with the full capacity. */
	store(c, "f1", "", "s", "p", 2);
	CHECK_INT("after", "lookup", look(c, "f1", "", "s", "p", 3), CACHE_HIT);
	cache_free(c);
}

/* Fields that concatenate to the same bytes are different keys. */
static void
test_ambiguity(void **state)
{
	static const char *const k[][3] = {
	    {"ab", "c", "s"},
	    {"a", "bc", "s"},
	    {"abc", "", "s"},
	    {"", "abc", "s"},
	    {"ab", "", "cs"},
	    {"a", "b", "cs"},
	};
	struct cache *c = mk(16);
	size_t i, j;
	char name[64];

	(void)state;
	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		cache_flush(c);
		store(c, k[i][0], k[i][1], k[i][2], "pw", 0);
		for (j = 0; j < sizeof(k) / sizeof(k[0]); j++) {
			(void)snprintf(
			    name, sizeof(name), "stored %zu, look %zu", i, j);
			CHECK_INT(name, "lookup",
			    look(c, k[j][0], k[j][1], k[j][2], "pw", 1),
			    i == j ? CACHE_HIT : CACHE_MISS);
		}
	}
	/* Key and password do not run into each other either. */
	cache_flush(c);
	store(c, "u", "", "s", "xpw", 0);
	CHECK_INT("service+password", "lookup", look(c, "u", "", "sx", "pw", 1),
	    CACHE_MISS);
	cache_free(c);
}

/* Keys up to CACHE_KEY_MAX encoded bytes are cached; longer are not. */
static void
test_long_fields(void **state)
{
	struct cache *c = mk(16);
	struct cache_stats st;
	struct cache_key k;
	uint8_t tag[CACHE_TAG_LEN];
	char login[CACHE_KEY_MAX + 2], pw[8193];
	size_t fit = CACHE_KEY_MAX - 6 - 4; /* 3 lengths, service "smtp" */

	(void)state;
	memset(login, 'L', sizeof(login));
	login[fit] = '\0';
	memset(pw, 'p', sizeof(pw));
	pw[sizeof(pw) - 1] = '\0';
	store(c, login, "", "smtp", pw, 0);
	CHECK_INT("longest login", "lookup", look(c, login, "", "smtp", pw, 1),
	    CACHE_HIT);
	login[fit] = 'L';
	login[fit + 1] = '\0';
	k = mkkey(login, "", "smtp");
	CHECK_INT("one byte over", "tag",
	    cache_tag(c, &k, (const uint8_t *)"pw", 2, tag), -1);
	/* Even with a tag from elsewhere, nothing is stored or found. */
	memset(tag, 0, sizeof(tag));
	cache_store(c, &k, tag, 1);
	CHECK_INT(
	    "one byte over", "lookup", cache_lookup(c, &k, tag, 2), CACHE_MISS);
	k.login_len = 8192;
	k.login = (const uint8_t *)pw;
	CHECK_INT(
	    "8 KiB login", "lookup", cache_lookup(c, &k, tag, 2), CACHE_MISS);
	cache_get_stats(c, &st);
	CHECK_UINT("stats", "uncacheable", st.uncacheable, 2);
	CHECK_UINT("stats", "entries", st.entries, 1);
	CHECK_UINT("capacity", "for 1 KiB", cache_capacity_for_kb(1),
	    1024 / CACHE_ENTRY_COST);
	CHECK_UINT("capacity", "for 0", cache_capacity_for_kb(0), 1);
	assert_null(cache_new(0, TTL, REVAL));
	assert_null(cache_new(CACHE_MAX_ENTRIES + 1, TTL, REVAL));
	cache_free(c);
}

/*
 * Many random operations on a small cache against a model: a tiny array
 * with the same LRU order. Catches broken chains and lists.
 */
#define MODEL_USERS 24
#define MODEL_CAP 7
#define MODEL_OPS 20000

struct model_ent {
	int user, pw;
	uint64_t t, used;
};

static void
test_model(void **state)
{
	struct cache *c = mk(MODEL_CAP);
	struct model_ent m[MODEL_CAP];
	struct cache_stats st;
	char login[16], pw[16], name[64];
	uint64_t now = 0, useclock = 0;
	enum cache_result want, got;
	int n = 0, op, i, u, p, found, lru;

	(void)state;
	srand(12345);
	for (op = 0; op < MODEL_OPS; op++) {
		now += (uint64_t)(rand() % 400);
		u = rand() % MODEL_USERS;
		p = rand() % 3;
		(void)snprintf(login, sizeof(login), "user%d", u);
		(void)snprintf(pw, sizeof(pw), "pw%d", p);
		for (found = -1, i = 0; i < n; i++)
			if (m[i].user == u)
				found = i;
		(void)snprintf(name, sizeof(name), "op %d", op);
		switch (rand() % 3) {
		case 0: /* lookup */
			want = CACHE_MISS;
			if (found >= 0 && now - m[found].t >= TTL) {
				m[found] = m[--n];
			} else if (found >= 0 && m[found].pw == p) {
				m[found].used = ++useclock;
				want = now - m[found].t >= REVAL ? CACHE_STALE
								 : CACHE_HIT;
			}
			got = look(c, login, "", "s", pw, now);
			CHECK_INT(name, "lookup", got, want);
			break;
		case 1: /* store */
			if (found < 0 && n == MODEL_CAP) {
				for (lru = 0, i = 1; i < n; i++)
					if (m[i].used < m[lru].used)
						lru = i;
				m[lru] = m[--n];
			}
			if (found < 0)
				found = n++;
			m[found].user = u;
			m[found].pw = p;
			m[found].t = now;
			m[found].used = ++useclock;
			store(c, login, "", "s", pw, now);
			break;
		default: /* PAM said NO */
			if (found >= 0 && m[found].pw == p)
				m[found] = m[--n];
			drop(c, login, "", "s", pw);
			break;
		}
		cache_get_stats(c, &st);
		CHECK_UINT(name, "entries", st.entries, n);
	}
	cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hit_miss),
	    cmocka_unit_test(test_wrong_password_keeps_entry),
	    cmocka_unit_test(test_new_password_replaces),
	    cmocka_unit_test(test_ttl),
	    cmocka_unit_test(test_revalidate),
	    cmocka_unit_test(test_lru),
	    cmocka_unit_test(test_capacity_one),
	    cmocka_unit_test(test_flush),
	    cmocka_unit_test(test_ambiguity),
	    cmocka_unit_test(test_long_fields),
	    cmocka_unit_test(test_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

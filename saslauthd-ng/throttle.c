/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * throttle.c - failure counts per login and per remote address, and the
 * delays and refusals they earn (see throttle.h). Run by the front; pure.
 *
 * Each table is a fixed array of entries, chained from a power-of-two
 * bucket array by the entry's keyed hash, and kept in a least-recently-
 * used list. Entries are handed out in order until the table is full,
 * then the least recently used one is taken over. A forgotten or reset key
 * stays in place with a zero count until it is reused or evicted.
 *
 * SECURITY: see throttle.h. An IPv6 address counts as its /64, the block a
 * single site or customer usually gets, so a client cannot shed its count
 * by moving within its own prefix; an IPv4-mapped IPv6 address counts as
 * the IPv4 address.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "throttle.h"

#define THROTTLE_MAX_ENTRIES (1U << 24) /* indexes stay far from 2^32 */
#define THROTTLE_V6_PREFIX 8 /* bytes of an IPv6 address: its /64 */
/* Entries per bucket when full: short walks under a hash no one can aim,
 * and a bucket array small enough to touch at start (8 KiB for 8192). */
#define THROTTLE_CHAIN 4

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* SipHash-2-4 through libsodium's crypto_shorthash (the key's two halves
 * little-endian, as SipHash reads them). */
uint64_t
throttle_siphash(uint64_t k0, uint64_t k1, const void *in, size_t len)
{
	uint8_t key[crypto_shorthash_siphash24_KEYBYTES];
	uint8_t out[crypto_shorthash_siphash24_BYTES];
	uint64_t h;
	int i;

	for (i = 0; i < 8; i++) {
		key[i] = (uint8_t)(k0 >> (8 * i));
		key[8 + i] = (uint8_t)(k1 >> (8 * i));
	}
	(void)crypto_shorthash_siphash24(out, in, len, key);
	h = le64(out);
	sodium_memzero(key, sizeof(key));
	return h;
}

uint32_t
throttle_growth(uint32_t n, uint32_t max_ms)
{
	uint64_t v;

	if (n < 2)
		return 0;
	if (n - 2 >= 32)
		return max_ms;
	v = (uint64_t)THROTTLE_BASE_MS << (n - 2);
	return v < max_ms ? (uint32_t)v : max_ms;
}

static int
table_init(struct throttle_table *tb, uint32_t cap)
{
	uint32_t nb = 1;

	while (nb < cap / THROTTLE_CHAIN)
		nb <<= 1;
	memset(tb, 0, sizeof(*tb));
	/*
	 * Entries are handed out in order, so their pages are touched only
	 * as keys arrive; the buckets are hit at random, so they are touched
	 * now: the front's memory does not creep up with each new key.
	 */
	tb->e = malloc((size_t)cap * sizeof(*tb->e));
	tb->bucket = malloc((size_t)nb * sizeof(*tb->bucket));
	if (tb->e == NULL || tb->bucket == NULL) {
		free(tb->e);
		free(tb->bucket);
		tb->e = NULL;
		tb->bucket = NULL;
		return -1;
	}
	memset(tb->bucket, 0, (size_t)nb * sizeof(*tb->bucket));
	tb->cap = cap;
	tb->nbucket_mask = nb - 1;
	return 0;
}

static void
lru_unlink(struct throttle_table *tb, uint32_t i)
{
	struct throttle_entry *e = &tb->e[i - 1];

	if (e->prev != 0)
		tb->e[e->prev - 1].next = e->next;
	else
		tb->lru_head = e->next;
	if (e->next != 0)
		tb->e[e->next - 1].prev = e->prev;
	else
		tb->lru_tail = e->prev;
	e->prev = e->next = 0;
}

static void
lru_push(struct throttle_table *tb, uint32_t i)
{
	struct throttle_entry *e = &tb->e[i - 1];

	e->prev = 0;
	e->next = tb->lru_head;
	if (tb->lru_head != 0)
		tb->e[tb->lru_head - 1].prev = i;
	tb->lru_head = i;
	if (tb->lru_tail == 0)
		tb->lru_tail = i;
}

static void
chain_unlink(struct throttle_table *tb, uint32_t i)
{
	uint32_t *pp = &tb->bucket[tb->e[i - 1].h & tb->nbucket_mask];

	while (*pp != 0 && *pp != i)
		pp = &tb->e[*pp - 1].chain;
	if (*pp == i)
		*pp = tb->e[i - 1].chain;
	tb->e[i - 1].chain = 0;
}

/* The entry for h, or 0. */
static uint32_t
table_find(const struct throttle_table *tb, uint64_t h)
{
	uint32_t i = tb->bucket[h & tb->nbucket_mask];

	while (i != 0 && tb->e[i - 1].h != h)
		i = tb->e[i - 1].chain;
	return i;
}

/* A live count: one whose last failure is within the window. */
static uint32_t
entry_count(
    const struct throttle *t, const struct throttle_entry *e, uint64_t now_ms)
{
	/* A clock that went back counts as no time passed. */
	if (now_ms > e->last_ms && now_ms - e->last_ms >= t->p.window_ms)
		return 0;
	return e->fails;
}

/* The entry for h, made (count 0) if needed, most recently used now. */
static struct throttle_entry *
table_get(
    struct throttle *t, struct throttle_table *tb, uint64_t h, uint64_t now_ms)
{
	struct throttle_entry *e;
	uint32_t i, *b;

	if ((i = table_find(tb, h)) != 0) {
		e = &tb->e[i - 1];
		e->fails = entry_count(t, e, now_ms);
		lru_unlink(tb, i);
		lru_push(tb, i);
		return e;
	}
	if (tb->used < tb->cap)
		i = ++tb->used;
	else {
		/* Full: the least recently used key starts over. */
		i = tb->lru_tail;
		lru_unlink(tb, i);
		chain_unlink(tb, i);
	}
	e = &tb->e[i - 1];
	memset(e, 0, sizeof(*e));
	e->h = h;
	b = &tb->bucket[h & tb->nbucket_mask];
	e->chain = *b;
	*b = i;
	lru_push(tb, i);
	return e;
}

int
throttle_init(struct throttle *t, const struct throttle_params *p,
    const uint8_t key[THROTTLE_KEY_LEN])
{
	memset(t, 0, sizeof(*t));
	if (p->entries == 0 || p->entries > THROTTLE_MAX_ENTRIES)
		return -1;
	t->p = *p;
	t->k0 = le64(key);
	t->k1 = le64(key + 8);
	if (table_init(&t->login, p->entries) == -1)
		return -1;
	if (table_init(&t->addr, p->entries) == -1) {
		throttle_free(t);
		return -1;
	}
	return 0;
}

static void
table_free(struct throttle_table *tb)
{
	free(tb->e);
	free(tb->bucket);
	memset(tb, 0, sizeof(*tb));
}

void
throttle_free(struct throttle *t)
{
	table_free(&t->login);
	table_free(&t->addr);
	t->k0 = t->k1 = 0;
}

static uint64_t
login_hash(const struct throttle *t, const struct throttle_who *w)
{
	return throttle_siphash(t->k0, t->k1, w->login, w->loginlen);
}

/* 0: w has no address. Else its hash in *ret_h: a tag byte, then the
 * IPv4 address, the IPv6 /64, or any other text as given. */
static int
addr_hash(
    const struct throttle *t, const struct throttle_who *w, uint64_t *ret_h)
{
	uint8_t buf[1 + sizeof(struct in6_addr)];
	struct in6_addr a6;
	struct in_addr a4;
	size_t len;

	if (w->addr == NULL || w->addr[0] == '\0')
		return 0;
	if (inet_pton(AF_INET, w->addr, &a4) == 1) {
		buf[0] = 4;
		memcpy(buf + 1, &a4, sizeof(a4));
		len = 1 + sizeof(a4);
	} else if (inet_pton(AF_INET6, w->addr, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			buf[0] = 4;
			memcpy(buf + 1, a6.s6_addr + 12, 4);
			len = 1 + 4;
		} else {
			buf[0] = 6;
			memcpy(buf + 1, a6.s6_addr, THROTTLE_V6_PREFIX);
			len = 1 + THROTTLE_V6_PREFIX;
		}
	} else {
		/* Not an address literal (a host name, a zone): as is, in
		 * its own tag so it cannot meet a binary form. */
		*ret_h = throttle_siphash(
		    t->k0 ^ 1, t->k1, w->addr, strlen(w->addr));
		return 1;
	}
	*ret_h = throttle_siphash(t->k0, t->k1, buf, len);
	return 1;
}

static uint32_t
table_count(
    struct throttle *t, struct throttle_table *tb, uint64_t h, uint64_t now_ms)
{
	uint32_t i = table_find(tb, h);

	return i == 0 ? 0 : entry_count(t, &tb->e[i - 1], now_ms);
}

uint32_t
throttle_login_count(
    struct throttle *t, const struct throttle_who *w, uint64_t now_ms)
{
	return table_count(t, &t->login, login_hash(t, w), now_ms);
}

uint32_t
throttle_addr_count(
    struct throttle *t, const struct throttle_who *w, uint64_t now_ms)
{
	uint64_t h;

	if (!addr_hash(t, w, &h))
		return 0;
	return table_count(t, &t->addr, h, now_ms);
}

int
throttle_limited(
    struct throttle *t, const struct throttle_who *w, uint64_t now_ms)
{
	if (t->p.fail_limit == 0)
		return 0;
	return throttle_login_count(t, w, now_ms) >= t->p.fail_limit;
}

uint32_t
throttle_fail(struct throttle *t, const struct throttle_who *w,
    uint32_t pam_delay_ms, uint64_t now_ms, uint32_t *ret_grown,
    unsigned *ret_flags)
{
	struct throttle_entry *le, *ae = NULL;
	uint32_t n, delay, base;
	unsigned flags = 0;
	uint64_t h;

	le = table_get(t, &t->login, login_hash(t, w), now_ms);
	if (le->fails < UINT32_MAX)
		le->fails++;
	le->last_ms = now_ms;
	n = le->fails;
	if (le->fails == 2)
		flags |= THROTTLE_F_LOGIN_START;
	if (t->p.fail_limit > 0 && le->fails == t->p.fail_limit)
		flags |= THROTTLE_F_LIMIT_START;
	if (addr_hash(t, w, &h)) {
		ae = table_get(t, &t->addr, h, now_ms);
		if (ae->fails < UINT32_MAX)
			ae->fails++;
		ae->last_ms = now_ms;
		if (ae->fails > n)
			n = ae->fails;
		if (ae->fails == 2)
			flags |= THROTTLE_F_ADDR_START;
	}
	base =
	    pam_delay_ms < t->p.delay_max_ms ? pam_delay_ms : t->p.delay_max_ms;
	delay = throttle_growth(n, t->p.delay_max_ms);
	if (delay < base)
		delay = base;
	if (ret_grown != NULL)
		*ret_grown = delay - base;
	if (ret_flags != NULL)
		*ret_flags = flags;
	return delay;
}

void
throttle_success(struct throttle *t, const struct throttle_who *w)
{
	uint32_t i;
	uint64_t h;

	if ((i = table_find(&t->login, login_hash(t, w))) != 0)
		t->login.e[i - 1].fails = 0;
	if (addr_hash(t, w, &h) && (i = table_find(&t->addr, h)) != 0)
		t->addr.e[i - 1].fails = 0;
}

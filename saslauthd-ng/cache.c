/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cache.c - the -c credential cache (see cache.h): a fixed array of
 * entries, a chained hash over them (SipHash, random key) and an LRU list,
 * all by index, allocated once. The front runs it in its event loop.
 *
 * SECURITY: the keys and tags are secrets; they are wiped on flush and
 * free. The key bytes (login, realm, service) are compared exactly, the
 * tags with sodium_memcmp. Nothing here branches on a tag's bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cache.h"

#define CACHE_NONE UINT32_MAX /* end of a chain or list */

/* 256 bytes: CACHE_ENTRY_COST counts on it. */
struct cache_entry {
	uint64_t confirmed_ms; /* PAM last said OK to this tag */
	uint32_t lru_prev, lru_next; /* head = most recently used */
	uint32_t hnext; /* bucket chain, or the free list */
	uint16_t keylen; /* of key[] */
	uint8_t tag[CACHE_TAG_LEN];
	uint8_t key[CACHE_KEY_MAX]; /* the length-prefixed key fields */
};

_Static_assert(sizeof(struct cache_entry) == 256, "entry size");
_Static_assert(CACHE_TAG_LEN == crypto_generichash_BYTES, "tag size");

struct cache {
	struct cache_entry *e;
	uint32_t *bucket;
	uint32_t capacity, nbuckets; /* nbuckets: a power of two */
	uint32_t lru_head, lru_tail, free_head;
	uint64_t ttl_ms, revalidate_ms;
	struct cache_stats st;
	uint8_t tagkey[crypto_generichash_KEYBYTES];
	uint8_t hashkey[crypto_shorthash_KEYBYTES];
};

/* The key fields as 2-byte-length-prefixed strings; 0 if too long. */
static size_t
key_encode(const struct cache_key *k, uint8_t out[CACHE_KEY_MAX])
{
	const uint8_t *p[3] = {k->login, k->realm, k->service};
	size_t l[3] = {k->login_len, k->realm_len, k->service_len};
	size_t n = 0;
	int i;

	for (i = 0; i < 3; i++) {
		if (l[i] > CACHE_KEY_MAX || n + 2 + l[i] > CACHE_KEY_MAX)
			return 0;
		out[n++] = (uint8_t)(l[i] >> 8);
		out[n++] = (uint8_t)l[i];
		if (l[i] > 0)
			memcpy(out + n, p[i], l[i]);
		n += l[i];
	}
	return n;
}

static void
cache_reset(struct cache *c)
{
	uint32_t i;

	sodium_memzero(c->e, (size_t)c->capacity * sizeof(*c->e));
	for (i = 0; i < c->nbuckets; i++)
		c->bucket[i] = CACHE_NONE;
	for (i = 0; i < c->capacity; i++)
		c->e[i].hnext = i + 1 < c->capacity ? i + 1 : CACHE_NONE;
	c->free_head = 0;
	c->lru_head = c->lru_tail = CACHE_NONE;
	c->st.entries = 0;
}

size_t
cache_capacity_for_kb(unsigned long kb)
{
	unsigned long long n = (unsigned long long)kb * 1024 / CACHE_ENTRY_COST;

	if (n < 1)
		n = 1;
	if (n > CACHE_MAX_ENTRIES)
		n = CACHE_MAX_ENTRIES;
	return (size_t)n;
}

struct cache *
cache_new(size_t capacity, uint64_t ttl_ms, uint64_t revalidate_ms)
{
	struct cache *c = NULL;
	uint32_t nb = 1;

	if (capacity < 1 || capacity > CACHE_MAX_ENTRIES) {
		errno = EINVAL;
		return NULL;
	}
	if (sodium_init() == -1) {
		errno = ENOSYS;
		return NULL;
	}
	while (nb < capacity)
		nb <<= 1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->capacity = (uint32_t)capacity;
	c->nbuckets = nb;
	c->ttl_ms = ttl_ms;
	c->revalidate_ms = revalidate_ms;
	c->st.capacity = capacity;
	if ((c->e = calloc(capacity, sizeof(*c->e))) == NULL ||
	    (c->bucket = calloc(nb, sizeof(*c->bucket))) == NULL) {
		free(c->e);
		free(c);
		return NULL;
	}
	cache_reset(c);
	randombytes_buf(c->tagkey, sizeof(c->tagkey));
	randombytes_buf(c->hashkey, sizeof(c->hashkey));
	return c;
}

void
cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	sodium_memzero(c->e, (size_t)c->capacity * sizeof(*c->e));
	free(c->e);
	free(c->bucket);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

void
cache_flush(struct cache *c)
{
	cache_reset(c);
	c->st.flushes++;
	/* Tags made before the flush mean nothing after it. */
	randombytes_buf(c->tagkey, sizeof(c->tagkey));
	randombytes_buf(c->hashkey, sizeof(c->hashkey));
}

int
cache_tag_equal(const uint8_t a[CACHE_TAG_LEN], const uint8_t b[CACHE_TAG_LEN])
{
	return sodium_memcmp(a, b, CACHE_TAG_LEN) == 0;
}

int
cache_tag(const struct cache *c, const struct cache_key *key,
    const uint8_t *password, size_t password_len, uint8_t tag[CACHE_TAG_LEN])
{
	crypto_generichash_state h;
	uint8_t k[CACHE_KEY_MAX], len[4];
	size_t n;

	if ((n = key_encode(key, k)) == 0)
		return -1;
	len[0] = (uint8_t)(password_len >> 24);
	len[1] = (uint8_t)(password_len >> 16);
	len[2] = (uint8_t)(password_len >> 8);
	len[3] = (uint8_t)password_len;
	(void)crypto_generichash_init(
	    &h, c->tagkey, sizeof(c->tagkey), CACHE_TAG_LEN);
	(void)crypto_generichash_update(&h, k, n);
	(void)crypto_generichash_update(&h, len, sizeof(len));
	(void)crypto_generichash_update(&h, password, password_len);
	(void)crypto_generichash_final(&h, tag, CACHE_TAG_LEN);
	sodium_memzero(&h, sizeof(h));
	return 0;
}

static uint32_t
bucket_of(const struct cache *c, const uint8_t *k, size_t n)
{
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t v = 0;
	int i;

	(void)crypto_shorthash(out, k, n, c->hashkey);
	for (i = 0; i < (int)sizeof(out); i++)
		v = v << 8 | out[i];
	return (uint32_t)(v & (c->nbuckets - 1));
}

/* The entry holding key k[0..n) in bucket b, or CACHE_NONE. */
static uint32_t
find(const struct cache *c, uint32_t b, const uint8_t *k, size_t n)
{
	uint32_t i;

	for (i = c->bucket[b]; i != CACHE_NONE; i = c->e[i].hnext)
		if (c->e[i].keylen == n && memcmp(c->e[i].key, k, n) == 0)
			return i;
	return CACHE_NONE;
}

static void
lru_unlink(struct cache *c, uint32_t i)
{
	struct cache_entry *e = &c->e[i];

	if (e->lru_prev != CACHE_NONE)
		c->e[e->lru_prev].lru_next = e->lru_next;
	else
		c->lru_head = e->lru_next;
	if (e->lru_next != CACHE_NONE)
		c->e[e->lru_next].lru_prev = e->lru_prev;
	else
		c->lru_tail = e->lru_prev;
}

static void
lru_push(struct cache *c, uint32_t i)
{
	struct cache_entry *e = &c->e[i];

	e->lru_prev = CACHE_NONE;
	e->lru_next = c->lru_head;
	if (c->lru_head != CACHE_NONE)
		c->e[c->lru_head].lru_prev = i;
	else
		c->lru_tail = i;
	c->lru_head = i;
}

/* Unlink entry i from its bucket and the LRU list, wipe it, free it. */
static void
remove_entry(struct cache *c, uint32_t i)
{
	struct cache_entry *e = &c->e[i];
	uint32_t *pp = &c->bucket[bucket_of(c, e->key, e->keylen)];

	while (*pp != i)
		pp = &c->e[*pp].hnext;
	*pp = e->hnext;
	lru_unlink(c, i);
	sodium_memzero(e, sizeof(*e));
	e->hnext = c->free_head;
	c->free_head = i;
	c->st.entries--;
}

enum cache_result
cache_lookup(struct cache *c, const struct cache_key *key,
    const uint8_t tag[CACHE_TAG_LEN], uint64_t now_ms)
{
	uint8_t k[CACHE_KEY_MAX];
	struct cache_entry *e;
	uint64_t age;
	size_t n;
	uint32_t i;

	if ((n = key_encode(key, k)) == 0) {
		c->st.uncacheable++;
		return CACHE_MISS;
	}
	i = find(c, bucket_of(c, k, n), k, n);
	if (i == CACHE_NONE) {
		c->st.misses++;
		return CACHE_MISS;
	}
	e = &c->e[i];
	/* A clock that went back (it should not: monotonic) is age 0. */
	age = now_ms > e->confirmed_ms ? now_ms - e->confirmed_ms : 0;
	if (age >= c->ttl_ms) {
		remove_entry(c, i);
		c->st.expired++;
		c->st.misses++;
		return CACHE_MISS;
	}
	if (!cache_tag_equal(e->tag, tag)) {
		/* Maybe a typo, maybe a new password: PAM decides, and the
		 * entry stays for the right one. */
		c->st.misses++;
		return CACHE_MISS;
	}
	lru_unlink(c, i);
	lru_push(c, i);
	if (age >= c->revalidate_ms) {
		c->st.stale++;
		return CACHE_STALE;
	}
	c->st.hits++;
	return CACHE_HIT;
}

void
cache_store(struct cache *c, const struct cache_key *key,
    const uint8_t tag[CACHE_TAG_LEN], uint64_t now_ms)
{
	uint8_t k[CACHE_KEY_MAX];
	struct cache_entry *e;
	uint32_t b, i;
	size_t n;

	if ((n = key_encode(key, k)) == 0)
		return;
	b = bucket_of(c, k, n);
	if ((i = find(c, b, k, n)) != CACHE_NONE)
		lru_unlink(c, i);
	else {
		if (c->free_head == CACHE_NONE) {
			remove_entry(c, c->lru_tail);
			c->st.evictions++;
		}
		i = c->free_head;
		c->free_head = c->e[i].hnext;
		e = &c->e[i];
		memcpy(e->key, k, n);
		e->keylen = (uint16_t)n;
		e->hnext = c->bucket[b];
		c->bucket[b] = i;
		c->st.entries++;
	}
	e = &c->e[i];
	memcpy(e->tag, tag, CACHE_TAG_LEN);
	e->confirmed_ms = now_ms;
	lru_push(c, i);
	c->st.stores++;
}

void
cache_drop(struct cache *c, const struct cache_key *key,
    const uint8_t tag[CACHE_TAG_LEN])
{
	uint8_t k[CACHE_KEY_MAX];
	size_t n;
	uint32_t i;

	if ((n = key_encode(key, k)) == 0)
		return;
	i = find(c, bucket_of(c, k, n), k, n);
	if (i == CACHE_NONE || !cache_tag_equal(c->e[i].tag, tag))
		return;
	remove_entry(c, i);
	c->st.dropped++;
}

void
cache_get_stats(const struct cache *c, struct cache_stats *ret)
{
	*ret = c->st;
}

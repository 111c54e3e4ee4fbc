/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cache.h - the -c credential cache: which (login, realm, service) PAM
 * said OK to, with which password, and when. A pure module: no I/O, no
 * logging, the clock is an argument. Run by the front only.
 *
 * SECURITY: never holds a password. An entry holds a tag, BLAKE2b keyed
 * with a random per-process key over the length-prefixed login, realm,
 * service and password, compared in constant time. Buckets are chosen by
 * SipHash with another random key, so clients cannot flood one chain. Only
 * PAM successes are stored; a hit older than the revalidation interval is
 * not answered but goes to PAM again, which bounds how long an old password
 * keeps working after a change. Memory is allocated once, at start.
 */
#ifndef SASLD_CACHE_H
#define SASLD_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define CACHE_TAG_LEN 32 /* crypto_generichash_BYTES */
/*
 * Longest key an entry holds: login, realm and service with a 2-byte
 * length each. Entries are fixed-size so that the cache is one allocation;
 * longer keys are never cached (every such check goes to PAM), as Cyrus
 * does past 60 bytes. 200 key bytes make an entry 256 bytes.
 */
#define CACHE_KEY_MAX 200
/* Bytes one entry costs: the entry and up to two bucket heads (the bucket
 * count is the capacity rounded up to a power of two). -s KB / this. */
#define CACHE_ENTRY_COST (256 + 8)
#define CACHE_MAX_ENTRIES (1U << 24) /* 4 GiB of -s; bucket index fits */

enum cache_result {
	CACHE_MISS, /* ask PAM; store on OK */
	CACHE_HIT, /* answer OK now, without PAM */
	CACHE_STALE, /* right password, but confirm it with PAM first */
};

/* What (login, realm, service) a check is for: exact bytes. */
struct cache_key {
	const uint8_t *login;
	size_t login_len;
	const uint8_t *realm;
	size_t realm_len;
	const uint8_t *service;
	size_t service_len;
};

struct cache_stats {
	unsigned long entries; /* in use now */
	unsigned long capacity;
	unsigned long hits, misses, stale, stores, evictions, expired;
	unsigned long dropped; /* PAM said NO to a cached password */
	unsigned long uncacheable; /* key longer than CACHE_KEY_MAX */
	unsigned long flushes;
};

struct cache;

/*
 * A cache of capacity entries (1..CACHE_MAX_ENTRIES), entries answered
 * for revalidate_ms after PAM last said OK and kept for ttl_ms. Calls
 * sodium_init() and draws its keys. NULL on failure (errno set).
 */
struct cache *
cache_new(size_t capacity, uint64_t ttl_ms, uint64_t revalidate_ms);

/* Capacity in entries for a budget of kb KiB (at least 1). */
size_t cache_capacity_for_kb(unsigned long kb);

/* Wipe every entry and both keys, free the cache. NULL is allowed. */
void cache_free(struct cache *c);

/* Wipe every entry and draw new keys (HUP). */
void cache_flush(struct cache *c);

/*
 * The tag of (key, password) into tag. The caller keeps the tag instead of
 * the password until PAM answers, and wipes it. -1 when the key is too
 * long to be cached (then there is nothing to look up or store).
 */
int cache_tag(const struct cache *c, const struct cache_key *key,
    const uint8_t *password, size_t password_len, uint8_t tag[CACHE_TAG_LEN]);

/* Look (key, tag) up at time now_ms. A tag that differs is a MISS and
 * leaves the entry alone; an expired entry is removed. */
enum cache_result cache_lookup(struct cache *c, const struct cache_key *key,
    const uint8_t tag[CACHE_TAG_LEN], uint64_t now_ms);

/* PAM said OK to (key, tag) at now_ms: insert, or replace the entry's tag,
 * and make it the most recently used (evicting the least when full). */
void cache_store(struct cache *c, const struct cache_key *key,
    const uint8_t tag[CACHE_TAG_LEN], uint64_t now_ms);

/* PAM said NO to (key, tag): remove the entry if it holds that tag. */
void cache_drop(struct cache *c, const struct cache_key *key,
    const uint8_t tag[CACHE_TAG_LEN]);

/* 1 when the two tags are equal, in time independent of their bytes. */
int
cache_tag_equal(const uint8_t a[CACHE_TAG_LEN], const uint8_t b[CACHE_TAG_LEN]);

void cache_get_stats(const struct cache *c, struct cache_stats *ret);

#endif

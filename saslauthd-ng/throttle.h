/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * throttle.h - growing failure delays and the optional hard limit, per
 * login and per remote address (DESIGN.md section 6). Pure: no I/O, no
 * logs, no clock (the caller passes the time in ms); the front runs it.
 *
 * A failure reply waits max(PAM's delay, growth(n)), capped at
 * delay_max_ms, where n is the larger of the login's and the address's
 * consecutive failures, this one included, and growth(1) = 0 (one
 * mistyped password costs only what PAM asks), growth(n) = 1 s << (n - 2).
 * A success resets the login's and the address's counts; a key with no
 * failure for window_ms is forgotten. With fail_limit > 0, a login with
 * that many failures is refused without PAM until window_ms pass with no
 * attempt at all.
 *
 * SECURITY: keys are attacker-chosen strings (logins, addresses). They are
 * not stored: only a 64-bit SipHash-2-4 of each under a random
 * per-process key, so an attacker can neither collide keys on purpose nor
 * flood a hash chain, and no login stays in memory. Both tables have a
 * fixed capacity allocated at start and evict the least recently used key
 * when full, so no client can grow them. Counts saturate; no arithmetic
 * on times or counts overflows.
 */
#ifndef SASLD_THROTTLE_H
#define SASLD_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#define THROTTLE_KEY_LEN 16 /* SipHash key */
#define THROTTLE_BASE_MS 1000 /* growth(2); then doubling */
/* Keys per table (logins; addresses): 32 bytes per entry, touched only as
 * keys arrive (256 KiB when full), and 1 byte per entry of buckets. */
#define THROTTLE_DEFAULT_ENTRIES 8192

struct throttle_params {
	uint32_t entries; /* per table, >= 1 */
	uint64_t window_ms;
	uint32_t delay_max_ms; /* cap on every failure delay, PAM's too */
	uint32_t fail_limit; /* 0: no hard limit */
};

/* One key: its hash only, never the login or address itself. */
struct throttle_entry {
	uint64_t h;
	uint64_t last_ms; /* the last failure (or refusal) */
	uint32_t fails; /* consecutive, saturating */
	uint32_t chain; /* next in the bucket, index + 1 */
	uint32_t prev, next; /* LRU list, index + 1 */
};

struct throttle_table {
	struct throttle_entry *e; /* entries slots */
	uint32_t *bucket; /* index + 1 of a chain's first entry; 0: none */
	uint32_t nbucket_mask; /* buckets - 1, a power of two */
	uint32_t cap, used;
	uint32_t lru_head, lru_tail; /* index + 1; head: most recent */
};

struct throttle {
	struct throttle_params p;
	uint64_t k0, k1; /* SipHash key */
	struct throttle_table login, addr;
};

/* Whom a request is for, as the front got it. */
struct throttle_who {
	const void *login; /* the user name PAM sees (login@realm with -r) */
	size_t loginlen;
	const char *addr; /* NULL or "": unknown */
};

/* throttle_fail() and throttle_refuse() report what changed. */
#define THROTTLE_F_LOGIN_START 0x1 /* the login's first grown delay */
#define THROTTLE_F_ADDR_START 0x2 /* the address's first grown delay */
#define THROTTLE_F_LIMIT_START 0x4 /* the login reached fail_limit */

/*
 * Allocate both tables (capacity p->entries each) with the random key
 * key (THROTTLE_KEY_LEN bytes). 0, or -1 when out of memory.
 */
int throttle_init(struct throttle *t, const struct throttle_params *p,
    const uint8_t key[THROTTLE_KEY_LEN]);

void throttle_free(struct throttle *t);

/*
 * The hard limit: 1 when w's login must be refused without asking PAM at
 * now_ms (fail_limit reached within the window), else 0. Changes nothing:
 * the caller then records the refusal with throttle_fail().
 */
int throttle_limited(
    struct throttle *t, const struct throttle_who *w, uint64_t now_ms);

/*
 * A failure (PAM said no, or a refusal by the hard limit) for w at now_ms,
 * where PAM asked for pam_delay_ms: returns the delay of its reply in ms.
 * *ret_grown is the part beyond PAM's (0: not throttled); *ret_flags
 * THROTTLE_F_* for logging. Either pointer may be NULL.
 */
uint32_t throttle_fail(struct throttle *t, const struct throttle_who *w,
    uint32_t pam_delay_ms, uint64_t now_ms, uint32_t *ret_grown,
    unsigned *ret_flags);

/* A success for w: its login's and its address's counts start over. */
void throttle_success(struct throttle *t, const struct throttle_who *w);

/* growth(n) capped at max_ms: the delay n consecutive failures earn. */
uint32_t throttle_growth(uint32_t n, uint32_t max_ms);

/* The count the table holds for w's login / address at now_ms (tests). */
uint32_t throttle_login_count(
    struct throttle *t, const struct throttle_who *w, uint64_t now_ms);
uint32_t throttle_addr_count(
    struct throttle *t, const struct throttle_who *w, uint64_t now_ms);

/* SipHash-2-4 of in under (k0, k1); exposed for its test vectors. */
uint64_t throttle_siphash(uint64_t k0, uint64_t k1, const void *in, size_t len);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peer.c - allow-lists, per-uid connection counts and report rate limits
 * for the front (see peer.h). The allow-lists are parsed in the root
 * parent (config.c), the rest runs in the front.
 *
 * SECURITY: pure computation over kernel-supplied ids. The per-uid table
 * is a linear-probing hash with at least twice as many slots as there can
 * be connections, so a probe always ends; uids are not chosen by clients
 * (only by the administrator who creates accounts), so no keyed hash is
 * needed against collisions.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"

/* Longest user or group name we look up (glibc's LOGIN_NAME_MAX). */
#define PEER_NAME_MAX 256
/* Smallest table: a few slots even for --max-connections 1. */
#define PEER_MIN_SLOTS 16

static void
copy_bad(char *bad, size_t badsz, const char *s, size_t n)
{
	if (badsz == 0)
		return;
	if (n >= badsz)
		n = badsz - 1;
	memcpy(bad, s, n);
	bad[n] = '\0';
}

/* Digits only, no sign, no blank: a number 0..UINT32_MAX-1. */
static int
parse_number(const char *s, size_t n, uint32_t *ret_id, int *ret_isnum)
{
	uint64_t v = 0;
	size_t i;

	*ret_isnum = 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	*ret_isnum = 1;
	for (i = 0; i < n; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v >= UINT32_MAX) /* (uid_t)-1 means "no id" */
			return -1;
	}
	*ret_id = (uint32_t)v;
	return 0;
}

enum peer_parse_status
peer_parse_ids(struct peer_idlist *ids, const char *list,
    int (*lookup)(const char *name, uint32_t *ret_id), char *bad, size_t badsz)
{
	struct peer_idlist out = *ids;
	char name[PEER_NAME_MAX + 1];
	const char *p = list, *comma;
	uint32_t id;
	size_t n;
	int isnum;

	copy_bad(bad, badsz, "", 0);
	for (;;) {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (n == 0) {
			copy_bad(bad, badsz, list, strlen(list));
			return PEER_PARSE_EMPTY;
		}
		if (parse_number(p, n, &id, &isnum) == -1) {
			copy_bad(bad, badsz, p, n);
			return PEER_PARSE_RANGE;
		}
		if (!isnum) {
			if (n > PEER_NAME_MAX) {
				copy_bad(bad, badsz, p, n);
				return PEER_PARSE_UNKNOWN;
			}
			memcpy(name, p, n);
			name[n] = '\0';
			if (lookup(name, &id) == -1) {
				copy_bad(bad, badsz, p, n);
				return PEER_PARSE_UNKNOWN;
			}
		}
		if (!peer_listed(&out, id)) {
			if (out.n == PEER_MAX_IDS) {
				copy_bad(bad, badsz, p, n);
				return PEER_PARSE_FULL;
			}
			out.id[out.n++] = id;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*ids = out;
	return PEER_PARSE_OK;
}

int
peer_listed(const struct peer_idlist *ids, uint32_t id)
{
	unsigned i;

	for (i = 0; i < ids->n; i++)
		if (ids->id[i] == id)
			return 1;
	return 0;
}

int
peer_allowed(const struct peer_idlist *uids, const struct peer_idlist *gids,
    const struct peer_cred *cred)
{
	size_t i;

	if (uids->n == 0 && gids->n == 0)
		return 1;
	if (!cred->known)
		return 0;
	if (cred->uid == PEER_ROOT_UID || peer_listed(uids, cred->uid) ||
	    peer_listed(gids, cred->gid))
		return 1;
	if (gids->n == 0 || cred->groups == NULL)
		return 0;
	for (i = 0; i < cred->ngroups; i++)
		if (peer_listed(gids, cred->groups[i]))
			return 1;
	return 0;
}

static size_t
home(const struct peer_table *t, uid_t uid)
{
	/* Fibonacci hashing: consecutive uids spread over the table. */
	return (size_t)(((uint64_t)uid * 0x9e3779b97f4a7c15ULL) >> 32) &
	    t->mask;
}

int
peer_table_init(struct peer_table *t, unsigned max_conns, unsigned limit)
{
	size_t slots = PEER_MIN_SLOTS;

	memset(t, 0, sizeof(*t));
	/* At most max_conns uids hold a connection: keep the load <= 1/2. */
	while (slots < 2 * (size_t)max_conns)
		slots *= 2;
	if ((t->slot = calloc(slots, sizeof(*t->slot))) == NULL)
		return -1;
	t->mask = slots - 1;
	t->limit = limit;
	return 0;
}

void
peer_table_free(struct peer_table *t)
{
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

/* The slot holding uid, or the free slot where it would go. */
static size_t
find(const struct peer_table *t, uid_t uid)
{
	size_t i = home(t, uid);

	while (t->slot[i].count != 0 && t->slot[i].uid != uid)
		i = (i + 1) & t->mask;
	return i;
}

int
peer_take(struct peer_table *t, uid_t uid)
{
	size_t i = find(t, uid);

	if (t->slot[i].count == 0) {
		/* Never fill the table: a probe must always meet a free
		 * slot. peer_table_init() sized it so this cannot happen. */
		if (t->nuids + 1 >= t->mask)
			return -1;
		t->slot[i].uid = uid;
		t->nuids++;
	} else if (t->slot[i].count >= t->limit && uid != PEER_ROOT_UID)
		return -1;
	t->slot[i].count++;
	return 0;
}

void
peer_release(struct peer_table *t, uid_t uid)
{
	size_t i = find(t, uid), j, k;

	if (t->slot[i].count == 0)
		return; /* not counted: nothing to undo */
	if (--t->slot[i].count > 0)
		return;
	t->nuids--;
	/*
	 * Free slot i without tombstones: move back every later entry of
	 * the run whose home is not cyclically in (i, j], so each entry
	 * stays reachable from its home.
	 */
	j = i;
	for (;;) {
		j = (j + 1) & t->mask;
		if (t->slot[j].count == 0)
			break;
		k = home(t, t->slot[j].uid);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->slot[i] = t->slot[j];
		t->slot[j].count = 0;
		i = j;
	}
}

unsigned
peer_count(const struct peer_table *t, uid_t uid)
{
	return t->slot[find(t, uid)].count;
}

int
peer_ratelog(struct peer_ratelog *r, uint64_t now_ms, unsigned interval_ms,
    unsigned long *ret_suppressed)
{
	if (now_ms < r->next_ms) {
		r->suppressed++;
		return 0;
	}
	*ret_suppressed = r->suppressed;
	r->suppressed = 0;
	r->next_ms = now_ms + interval_ms;
	return 1;
}

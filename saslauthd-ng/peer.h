/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peer.h - the front's policy on who may connect, from the kernel's peer
 * credentials (SO_PEERCRED, SO_PEERGROUPS): the --allow-uid/--allow-gid
 * lists, the per-uid connection count (--max-connections-per-uid) and a
 * rate limit for the lines that report refusals. Pure functions over ids
 * and counters, no I/O and no logging, so they are unit-tested alone.
 *
 * SECURITY: the ids come from the kernel, never from a client's bytes. The
 * per-uid table is sized at start-up for --max-connections, so counting a
 * connection never allocates and cannot fail for lack of memory.
 */
#ifndef SASLD_PEER_H
#define SASLD_PEER_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/* Entries of one allow-list; an administrator's list, not a database. */
#define PEER_MAX_IDS 64
/* Root is never limited per uid: it can stop the daemon anyway, and MTAs
 * such as sendmail check passwords as root. Root is always allowed too. */
#define PEER_ROOT_UID 0
/* The kernel's NGROUPS_MAX: SO_PEERGROUPS returns at most this many. */
#define PEER_MAX_GROUPS 65536

struct peer_idlist {
	unsigned n;
	uint32_t id[PEER_MAX_IDS];
};

enum peer_parse_status {
	PEER_PARSE_OK,
	PEER_PARSE_EMPTY, /* an empty list or an empty element ("a,,b") */
	PEER_PARSE_RANGE, /* a number that is not a valid id */
	PEER_PARSE_UNKNOWN, /* a name lookup() does not know */
	PEER_PARSE_FULL, /* more than PEER_MAX_IDS entries in all */
};

/*
 * Append the comma-separated ids in list to *ids (so the option can be
 * repeated). An element of digits only is a number (0..2^32-2; -1 is no
 * id); anything else is a name, resolved by lookup(), which returns 0 and
 * sets *ret_id, or -1. On error the offending element is copied, cut to
 * fit, into bad (badsz > 0) and *ids is left as it was.
 */
enum peer_parse_status peer_parse_ids(struct peer_idlist *ids, const char *list,
    int (*lookup)(const char *name, uint32_t *ret_id), char *bad, size_t badsz);

/* 1 if id is in the list. */
int peer_listed(const struct peer_idlist *ids, uint32_t id);

/* What the kernel says about a peer. */
struct peer_cred {
	int known; /* SO_PEERCRED succeeded */
	uid_t uid;
	gid_t gid; /* primary group */
	const gid_t *groups; /* supplementary groups; NULL if unknown */
	size_t ngroups;
};

/*
 * 1 if the allow-lists let the peer in: both lists empty, or uid 0, or its
 * uid in uids, or its primary or a supplementary gid in gids. A peer whose
 * credentials are unknown is let in only when both lists are empty.
 */
int peer_allowed(const struct peer_idlist *uids, const struct peer_idlist *gids,
    const struct peer_cred *cred);

/* Open connections per uid: open addressing, sized for max_conns uids. */
struct peer_slot {
	uid_t uid;
	unsigned count; /* 0: the slot is free */
};

struct peer_table {
	struct peer_slot *slot;
	size_t mask; /* slots - 1; slots is a power of two */
	unsigned limit; /* --max-connections-per-uid */
	unsigned nuids; /* slots in use */
};

/* Size t for max_conns connections at most, limit per uid. 0 or -1. */
int peer_table_init(struct peer_table *t, unsigned max_conns, unsigned limit);
void peer_table_free(struct peer_table *t);

/*
 * Count a new connection from uid. Returns 0, or -1 when uid already holds
 * the limit (then nothing is counted). Root is counted but never refused.
 */
int peer_take(struct peer_table *t, uid_t uid);

/* A connection counted by peer_take() closed. */
void peer_release(struct peer_table *t, uid_t uid);

/* Connections uid holds now. */
unsigned peer_count(const struct peer_table *t, uid_t uid);

/* At most one report line per interval; the rest are counted. */
struct peer_ratelog {
	uint64_t next_ms; /* no line before this */
	unsigned long suppressed; /* events since the last line */
};

/*
 * An event to report at now_ms: returns 1 when a line may be logged now
 * (*ret_suppressed is how many events were not reported since the last
 * line), 0 when it is only counted.
 */
int peer_ratelog(struct peer_ratelog *r, uint64_t now_ms, unsigned interval_ms,
    unsigned long *ret_suppressed);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_peer.c - unit tests for the front's connection policy by peer
 * credentials (saslauthd-ng/peer.c): --allow-uid/--allow-gid list parsing
 * and matching (primary and supplementary groups, root), the per-uid
 * connection table (limits, root, and a long random run against a plain
 * array model, which is what catches a broken deletion in open
 * addressing), and the rate limit of refusal lines.
 */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "peer.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The names the tests' lookup knows. */
static const struct {
	const char *name;
	uint32_t id;
} names[] = {
    {"root", 0}, {"postfix", 107}, {"sasl", 45}, {"Debian-exim", 108},
    {"007", 7}, /* digits only: parsed as 7, never looked up */
};

static int
lookup(const char *name, uint32_t *ret_id)
{
	size_t i;

	for (i = 0; i < NELEM(names); i++)
		if (strcmp(names[i].name, name) == 0) {
			*ret_id = names[i].id;
			return 0;
		}
	return -1;
}

struct parse_case {
	const char *name;
	const char *list;
	enum peer_parse_status want;
	const char *want_bad; /* the element named in the error */
	unsigned want_n;
	uint32_t want_id[4];
};

static const struct parse_case parse_cases[] = {
    {"one number", "0", PEER_PARSE_OK, "", 1, {0}},
    {"names", "root,postfix", PEER_PARSE_OK, "", 2, {0, 107}},
    {"a name with a dash", "Debian-exim", PEER_PARSE_OK, "", 1, {108}},
    {"number and name of the same id", "107,postfix", PEER_PARSE_OK, "", 1,
	{107}},
    {"digits are a number", "007", PEER_PARSE_OK, "", 1, {7}},
    {"largest id", "4294967294", PEER_PARSE_OK, "", 1, {4294967294u}},
    {"(uid_t)-1 is no id", "4294967295", PEER_PARSE_RANGE, "4294967295", 0,
	{0}},
    {"20 digits", "99999999999999999999", PEER_PARSE_RANGE,
	"99999999999999999999", 0, {0}},
    {"range error in the middle", "root,5000000000,sasl", PEER_PARSE_RANGE,
	"5000000000", 0, {0}},
    {"empty", "", PEER_PARSE_EMPTY, "", 0, {0}},
    {"comma", ",", PEER_PARSE_EMPTY, ",", 0, {0}},
    {"trailing comma", "root,", PEER_PARSE_EMPTY, "root,", 0, {0}},
    {"leading comma", ",root", PEER_PARSE_EMPTY, ",root", 0, {0}},
    {"empty element", "root,,postfix", PEER_PARSE_EMPTY, "root,,postfix", 0,
	{0}},
    {"unknown name", "nosuch", PEER_PARSE_UNKNOWN, "nosuch", 0, {0}},
    {"unknown after known", "root,nosuch", PEER_PARSE_UNKNOWN, "nosuch", 0,
	{0}},
    {"signed is a name", "+5", PEER_PARSE_UNKNOWN, "+5", 0, {0}},
    {"negative is a name", "-1", PEER_PARSE_UNKNOWN, "-1", 0, {0}},
    {"blank is a name", " 5", PEER_PARSE_UNKNOWN, " 5", 0, {0}},
    {"digits then letters", "1a", PEER_PARSE_UNKNOWN, "1a", 0, {0}},
    {"blank after comma", "root, postfix", PEER_PARSE_UNKNOWN, " postfix", 0,
	{0}},
};

static void
test_parse(void **state)
{
	const struct parse_case *tc;
	struct peer_idlist ids;
	char bad[64];
	size_t i;
	unsigned j;

	(void)state;
	for (i = 0; i < NELEM(parse_cases); i++) {
		tc = &parse_cases[i];
		memset(&ids, 0, sizeof(ids));
		CHECK_INT(tc->name, "status",
		    peer_parse_ids(&ids, tc->list, lookup, bad, sizeof(bad)),
		    tc->want);
		if (strcmp(bad, tc->want_bad) != 0)
			fail_msg("%s: bad element: got '%s', want '%s'",
			    tc->name, bad, tc->want_bad);
		/* On error the list is left as it was: empty. */
		CHECK_UINT(tc->name, "entries", ids.n, tc->want_n);
		for (j = 0; j < tc->want_n; j++)
			CHECK_UINT(tc->name, "id", ids.id[j], tc->want_id[j]);
	}
}

/* Repeated options append; an error leaves earlier entries alone. */
static void
test_parse_append(void **state)
{
	struct peer_idlist ids;
	char bad[8];

	(void)state;
	memset(&ids, 0, sizeof(ids));
	CHECK_INT("first", "status",
	    peer_parse_ids(&ids, "root", lookup, bad, sizeof(bad)),
	    PEER_PARSE_OK);
	CHECK_INT("second", "status",
	    peer_parse_ids(&ids, "postfix,0", lookup, bad, sizeof(bad)),
	    PEER_PARSE_OK);
	CHECK_UINT("append", "entries", ids.n, 2);
	CHECK_UINT("append", "id 0", ids.id[0], 0);
	CHECK_UINT("append", "id 1", ids.id[1], 107);
	CHECK_INT("third, bad", "status",
	    peer_parse_ids(&ids, "sasl,nosuchgroup", lookup, bad, sizeof(bad)),
	    PEER_PARSE_UNKNOWN);
	CHECK_UINT("after an error", "entries", ids.n, 2);
	/* The element is cut to the buffer, NUL-terminated. */
	if (strcmp(bad, "nosuchg") != 0)
		fail_msg("cut bad element: got '%s', want 'nosuchg'", bad);
}

static void
test_parse_limits(void **state)
{
	struct peer_idlist ids;
	char list[PEER_MAX_IDS * 8 + 16], bad[16], name[300];
	size_t off = 0;
	unsigned i;

	(void)state;
	for (i = 0; i < PEER_MAX_IDS; i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%u",
		    i > 0 ? "," : "", 1000 + i);
	memset(&ids, 0, sizeof(ids));
	CHECK_INT("PEER_MAX_IDS ids", "status",
	    peer_parse_ids(&ids, list, lookup, bad, sizeof(bad)),
	    PEER_PARSE_OK);
	CHECK_UINT("PEER_MAX_IDS ids", "entries", ids.n, PEER_MAX_IDS);
	/* Again: duplicates only, still fits. */
	CHECK_INT("the same ids again", "status",
	    peer_parse_ids(&ids, list, lookup, bad, sizeof(bad)),
	    PEER_PARSE_OK);
	CHECK_UINT("the same ids again", "entries", ids.n, PEER_MAX_IDS);
	CHECK_INT("one more", "status",
	    peer_parse_ids(&ids, "99", lookup, bad, sizeof(bad)),
	    PEER_PARSE_FULL);
	CHECK_UINT("one more", "entries", ids.n, PEER_MAX_IDS);
	if (strcmp(bad, "99") != 0)
		fail_msg("one more: bad element: got '%s', want '99'", bad);

	/* A name longer than any user name: unknown, never looked up. */
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memset(&ids, 0, sizeof(ids));
	CHECK_INT("299-byte name", "status",
	    peer_parse_ids(&ids, name, lookup, bad, sizeof(bad)),
	    PEER_PARSE_UNKNOWN);
	CHECK_UINT("299-byte name", "bad length", strlen(bad), sizeof(bad) - 1);
}

struct allow_case {
	const char *name;
	unsigned nuids;
	uint32_t uids[2];
	unsigned ngids;
	uint32_t gids[2];
	int known;
	uid_t uid;
	gid_t gid;
	int ngroups; /* -1: SO_PEERGROUPS unknown (NULL) */
	gid_t groups[3];
	int want;
};

static const struct allow_case allow_cases[] = {
    {"no lists, anyone", 0, {0}, 0, {0}, 1, 1000, 1000, 0, {0}, 1},
    {"no lists, unknown peer", 0, {0}, 0, {0}, 0, 0, 0, -1, {0}, 1},
    {"uid listed", 1, {107}, 0, {0}, 1, 107, 113, 0, {0}, 1},
    {"uid not listed", 1, {107}, 0, {0}, 1, 1000, 1000, 0, {0}, 0},
    {"root is always allowed", 1, {107}, 0, {0}, 1, 0, 0, 0, {0}, 1},
    {"root with a gid list", 0, {0}, 1, {45}, 1, 0, 0, 0, {0}, 1},
    {"unknown peer with a list", 1, {107}, 0, {0}, 0, 107, 45, -1, {0}, 0},
    {"primary gid listed", 0, {0}, 1, {45}, 1, 1000, 45, 0, {0}, 1},
    {"supplementary gid listed", 0, {0}, 1, {45}, 1, 107, 113, 2, {113, 45}, 1},
    {"supplementary, last of three", 0, {0}, 1, {45}, 1, 107, 113, 3,
	{113, 4, 45}, 1},
    {"no listed group", 0, {0}, 1, {45}, 1, 107, 113, 2, {113, 4}, 0},
    {"groups unknown, primary not listed", 0, {0}, 1, {45}, 1, 107, 113, -1,
	{0}, 0},
    {"uid list only: groups do not count", 1, {108}, 0, {0}, 1, 107, 45, 1,
	{45}, 0},
    {"both: uid matches", 1, {107}, 1, {45}, 1, 107, 113, 0, {0}, 1},
    {"both: gid matches", 1, {107}, 1, {45}, 1, 1000, 45, 0, {0}, 1},
    {"both: neither", 1, {107}, 1, {45}, 1, 1000, 1000, 1, {1000}, 0},
    {"(uid_t)-1 is not root", 1, {107}, 0, {0}, 1, (uid_t)-1, 0, 0, {0}, 0},
};

static void
test_allowed(void **state)
{
	const struct allow_case *tc;
	struct peer_idlist uids, gids;
	struct peer_cred cred;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(allow_cases); i++) {
		tc = &allow_cases[i];
		memset(&uids, 0, sizeof(uids));
		memset(&gids, 0, sizeof(gids));
		uids.n = tc->nuids;
		memcpy(uids.id, tc->uids, sizeof(tc->uids));
		gids.n = tc->ngids;
		memcpy(gids.id, tc->gids, sizeof(tc->gids));
		memset(&cred, 0, sizeof(cred));
		cred.known = tc->known;
		cred.uid = tc->uid;
		cred.gid = tc->gid;
		if (tc->ngroups >= 0) {
			cred.groups = tc->groups;
			cred.ngroups = (size_t)tc->ngroups;
		}
		CHECK_INT(tc->name, "peer_allowed",
		    peer_allowed(&uids, &gids, &cred), tc->want);
	}
}

static void
test_table_limit(void **state)
{
	struct peer_table t;
	int i;

	(void)state;
	assert_int_equal(peer_table_init(&t, 8, 2), 0);
	CHECK_INT("uid 1000, 1st", "take", peer_take(&t, 1000), 0);
	CHECK_INT("uid 1000, 2nd", "take", peer_take(&t, 1000), 0);
	CHECK_INT("uid 1000, 3rd (over 2)", "take", peer_take(&t, 1000), -1);
	CHECK_UINT(
	    "uid 1000", "count after a refusal", peer_count(&t, 1000), 2);
	CHECK_INT("uid 1001, 1st", "take", peer_take(&t, 1001), 0);
	CHECK_UINT("uid 1001", "count", peer_count(&t, 1001), 1);
	peer_release(&t, 1000);
	CHECK_UINT(
	    "uid 1000", "count after a release", peer_count(&t, 1000), 1);
	CHECK_INT("uid 1000, again", "take", peer_take(&t, 1000), 0);
	CHECK_INT("uid 1000, over again", "take", peer_take(&t, 1000), -1);
	/* Unknown credentials are one more uid, limited like the rest. */
	CHECK_INT("uid -1, 1st", "take", peer_take(&t, (uid_t)-1), 0);
	CHECK_INT("uid -1, 2nd", "take", peer_take(&t, (uid_t)-1), 0);
	CHECK_INT("uid -1, 3rd", "take", peer_take(&t, (uid_t)-1), -1);
	/* Root: counted, never refused. */
	for (i = 0; i < 10; i++)
		CHECK_INT("root", "take", peer_take(&t, PEER_ROOT_UID), 0);
	CHECK_UINT("root", "count", peer_count(&t, PEER_ROOT_UID), 10);
	/* Releasing what was never taken changes nothing. */
	peer_release(&t, 4242);
	CHECK_UINT("uid 4242", "count", peer_count(&t, 4242), 0);
	CHECK_UINT("table", "uids", t.nuids, 4);
	peer_table_free(&t);
}

/* A limit of 1 (--max-connections 1 or 2 by default). */
static void
test_table_limit_one(void **state)
{
	struct peer_table t;

	(void)state;
	assert_int_equal(peer_table_init(&t, 1, 1), 0);
	CHECK_INT("1st", "take", peer_take(&t, 5), 0);
	CHECK_INT("2nd", "take", peer_take(&t, 5), -1);
	peer_release(&t, 5);
	CHECK_UINT("after release", "uids", t.nuids, 0);
	CHECK_INT("3rd", "take", peer_take(&t, 5), 0);
	peer_table_free(&t);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define MODEL_CONNS 4096
#define MODEL_STEPS 400000
#define MODEL_LIMIT 5

/*
 * Random takes and releases of up to MODEL_CONNS open connections from
 * uids chosen to collide (small numbers, multiples of 2^16 and 2^32/k
 * patterns), checked step by step against a list of open connections.
 */
static void
test_table_model(void **state)
{
	static uid_t open_uid[MODEL_CONNS];
	struct peer_table t;
	size_t nopen = 0, i, k;
	unsigned long takes = 0, refusals = 0;
	unsigned want;
	uid_t uid;
	long step;

	(void)state;
	assert_int_equal(peer_table_init(&t, MODEL_CONNS, MODEL_LIMIT), 0);
	for (step = 0; step < MODEL_STEPS; step++) {
		if (nopen < MODEL_CONNS &&
		    (nopen == 0 || xorshift() % 2 == 0)) {
			switch (xorshift() % 3) {
			case 0:
				uid = (uid_t)(xorshift() % 3000);
				break;
			case 1:
				uid = (uid_t)((xorshift() % 2000) << 16);
				break;
			default:
				uid = (uid_t)(1000 + (xorshift() % 64) * 4096);
				break;
			}
			want = 0;
			for (i = 0; i < nopen; i++)
				if (open_uid[i] == uid)
					want++;
			if (peer_take(&t, uid) == 0) {
				if (want >= MODEL_LIMIT && uid != PEER_ROOT_UID)
					fail_msg("step %ld: uid %u holds %u, "
						 "take: got 0, want -1",
					    step, (unsigned)uid, want);
				open_uid[nopen++] = uid;
				takes++;
			} else {
				if (want < MODEL_LIMIT)
					fail_msg("step %ld: uid %u holds %u, "
						 "take: got -1, want 0",
					    step, (unsigned)uid, want);
				refusals++;
			}
		} else {
			k = (size_t)(xorshift() % nopen);
			uid = open_uid[k];
			open_uid[k] = open_uid[--nopen];
			peer_release(&t, uid);
		}
		/* Every 97 steps, every uid's count. */
		if (step % 97 != 0)
			continue;
		for (i = 0; i < nopen; i++) {
			want = 0;
			for (k = 0; k < nopen; k++)
				if (open_uid[k] == open_uid[i])
					want++;
			if (peer_count(&t, open_uid[i]) != want)
				fail_msg("step %ld: uid %u: count: got %u, "
					 "want %u",
				    step, (unsigned)open_uid[i],
				    peer_count(&t, open_uid[i]), want);
		}
	}
	while (nopen > 0)
		peer_release(&t, open_uid[--nopen]);
	CHECK_UINT("model, all released", "uids", t.nuids, 0);
	for (i = 0; i <= t.mask; i++)
		CHECK_UINT(
		    "model, all released", "slot count", t.slot[i].count, 0);
	/* The run must have exercised both answers. */
	if (takes < MODEL_STEPS / 4 || refusals == 0)
		fail_msg("model: %lu takes, %lu refusals: the run did not "
			 "exercise the limit",
		    takes, refusals);
	peer_table_free(&t);
}

/* As many uids as connections: the table never fills. */
static void
test_table_full(void **state)
{
	struct peer_table t;
	uid_t u;

	(void)state;
	assert_int_equal(peer_table_init(&t, 1000, 1), 0);
	for (u = 1; u <= 1000; u++)
		if (peer_take(&t, u * 65536) != 0)
			fail_msg("uid %u: take: got -1, want 0",
			    (unsigned)(u * 65536));
	CHECK_UINT("1000 uids", "uids", t.nuids, 1000);
	for (u = 1; u <= 1000; u++)
		CHECK_UINT("1000 uids", "count", peer_count(&t, u * 65536), 1);
	for (u = 1; u <= 1000; u++)
		peer_release(&t, u * 65536);
	CHECK_UINT("all released", "uids", t.nuids, 0);
	peer_table_free(&t);
}

struct ratelog_step {
	uint64_t now;
	int want;
	unsigned long want_suppressed; /* when want == 1 */
};

static const struct ratelog_step ratelog_steps[] = {
    {0, 1, 0},
    {1, 0, 0},
    {5000, 0, 0},
    {9999, 0, 0},
    {10000, 1, 3},
    {10001, 0, 0},
    {30000, 1, 1},
    {30000, 0, 0},
    {45000, 1, 1},
};

static void
test_ratelog(void **state)
{
	struct peer_ratelog r;
	unsigned long more = 12345;
	char name[32];
	size_t i;

	(void)state;
	memset(&r, 0, sizeof(r));
	for (i = 0; i < NELEM(ratelog_steps); i++) {
		(void)snprintf(name, sizeof(name), "event at %llu ms",
		    (unsigned long long)ratelog_steps[i].now);
		more = 12345;
		CHECK_INT(name, "log now",
		    peer_ratelog(&r, ratelog_steps[i].now, 10000, &more),
		    ratelog_steps[i].want);
		if (ratelog_steps[i].want)
			CHECK_UINT(name, "suppressed before it", more,
			    ratelog_steps[i].want_suppressed);
		else
			CHECK_UINT(name, "suppressed untouched", more, 12345);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_parse_append),
	    cmocka_unit_test(test_parse_limits),
	    cmocka_unit_test(test_allowed),
	    cmocka_unit_test(test_table_limit),
	    cmocka_unit_test(test_table_limit_one),
	    cmocka_unit_test(test_table_model),
	    cmocka_unit_test(test_table_full),
	    cmocka_unit_test(test_ratelog),
	};

	return cmocka_run_group_tests_name("peer", tests, NULL, NULL);
}

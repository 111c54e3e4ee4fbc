/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * privsep.c - the front's privilege drop (see privsep.h). Order, as in
 * OpenSSH and OpenSMTPD: empty the capability bounding set while still
 * root, chroot + chdir("/"), setgroups, setresgid, setresuid, then verify
 * with getresuid/getresgid and that setuid(0) fails.
 *
 * SECURITY: runs as root in the front before any client input. Every step
 * is checked; any failure is fatal, never a warning.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"
#include "sanitize.h"

/* Highest capability number we try to drop; PR_CAPBSET_DROP answers
 * EINVAL past the kernel's own last one, which ends the loop. */
#define PRIVSEP_CAP_SCAN 128

void
privsep_no_dumps(void)
{
	struct rlimit rl = {0, 0};

	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("setrlimit(RLIMIT_CORE)");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_DUMPABLE)");
}

static void
drop_bounding_set(void)
{
	int cap;

	for (cap = 0; cap < PRIVSEP_CAP_SCAN; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1) {
			if (errno == EINVAL)
				break;
			fatal("prctl(PR_CAPBSET_DROP, %d)", cap);
		}
	}
}

void
privsep_drop(const char *dir, uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (uid == 0)
		fatalx("privsep: refusing to run the front as root");
	privsep_no_dumps();
	drop_bounding_set();
	/* Sanitize builds: the report files, opened while they can be. */
	sanitize_sandbox_prepare();
	if (chroot(dir) == -1 || chdir("/") == -1)
		fatal("privsep: chroot %s", dir);
	if (setgroups(0, NULL) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		fatal("privsep: cannot drop privileges");
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		fatal("privsep: getresuid");
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid)
		fatalx("privsep: ids not dropped");
	if (setuid(0) != -1 || setgid(0) != -1)
		fatalx("privsep: could regain root");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
	/* setresuid cleared the dumpable flag's basis; set it again. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_DUMPABLE)");
}

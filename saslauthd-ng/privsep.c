/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * privsep.c - privileges of the parent and the front (see privsep.h).
 *
 * The front's drop, in the order OpenSSH and OpenSMTPD use: empty the
 * capability bounding set while still root, chroot + chdir("/"),
 * setgroups, setresgid, setresuid, verify with getresuid/getresgid and
 * that setuid(0) fails, then RLIMIT_NPROC 0 and NO_NEW_PRIVS. Its
 * environment is wiped first (the seccomp filter comes last: sandbox.c).
 *
 * The parent keeps root's uid but only the capabilities it uses to build
 * the front and manage its files and children, and a bounding set that
 * adds only the PAM workers' set (root workers take their capabilities
 * from it at exec). Its environment is cut to a keep-list at start.
 *
 * SECURITY: runs as root in the parent at start-up and in the front before
 * any client input. Every step is checked; any failure is fatal (or, in the
 * parent before the daemon runs, a start-up error), never a warning.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
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
	struct rlimit nproc = {0, 0};
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
	/* The front never forks (with -n 0 it asks the parent for
	 * workers); the seccomp filter forbids it too. */
	if (setrlimit(RLIMIT_NPROC, &nproc) == -1)
		fatal("setrlimit(RLIMIT_NPROC)");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
	/* setresuid cleared the dumpable flag's basis; set it again. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_DUMPABLE)");
}

void
privsep_clear_env(const char *const *keep)
{
	char *saved[PRIVSEP_ENV_KEEP_MAX];
	size_t nsaved = 0, i, len;
	char **e;

	for (e = environ; e != NULL && *e != NULL; e++) {
		for (i = 0; keep != NULL && keep[i] != NULL; i++) {
			len = strlen(keep[i]);
			if (strncmp(*e, keep[i], len) != 0 || (*e)[len] != '=')
				continue;
			if (nsaved == PRIVSEP_ENV_KEEP_MAX)
				break;
			if ((saved[nsaved] = strdup(*e)) == NULL)
				fatal("strdup");
			nsaved++;
			break;
		}
	}
	/* clearenv() only forgets the strings: the initial ones stay in
	 * memory (and in /proc/PID/environ) until overwritten. */
	for (e = environ; e != NULL && *e != NULL; e++)
		explicit_bzero(*e, strlen(*e));
	if (clearenv() != 0)
		fatalx("clearenv");
	for (i = 0; i < nsaved; i++)
		if (putenv(saved[i]) != 0)
			fatal("putenv");
}

void
privsep_parent_env(void)
{
	/* What a service manager hands the parent and something in it
	 * reads: the time zone of syslog time stamps, sd_notify's socket,
	 * socket activation and the watchdog. */
	static const char *const keep[] = {"TZ", "NOTIFY_SOCKET", "LISTEN_PID",
	    "LISTEN_FDS", "LISTEN_FDNAMES", "WATCHDOG_PID", "WATCHDOG_USEC",
	    NULL};

	privsep_clear_env(keep);
}

int
privsep_parent(uint64_t *worker_caps, int explicit_caps)
{
	char a[CAPS_TEXT_MAX], b[CAPS_TEXT_MAX];
	uint64_t perm, bound, have, missing, own;

	if (caps_current(&perm, &bound) == -1) {
		log_warn("cannot read this process's capabilities");
		return -1;
	}
	/* What this process can keep: in its permitted and bounding sets. */
	have = perm & bound;
	missing = PRIVSEP_PARENT_CAPS & ~have;
	if (missing != 0) {
		log_warnx("this process lacks %s, which the parent needs "
			  "(README, Security model); a container or service "
			  "manager may have taken it away",
		    caps_format(missing, a, sizeof(a)));
		return -1;
	}
	own = PRIVSEP_PARENT_CAPS | (PRIVSEP_PARENT_OPTIONAL & have);
	missing = *worker_caps & ~have;
	if (missing != 0 && explicit_caps) {
		log_warnx("--worker-caps: this process lacks %s, so the PAM "
			  "workers cannot have it",
		    caps_format(missing, a, sizeof(a)));
		return -1;
	}
	if (missing != 0) {
		log_warnx("this process lacks %s: PAM workers run without it "
			  "(the kernel refuses libpam's audit records, which "
			  "libpam then drops)",
		    caps_format(missing, a, sizeof(a)));
		*worker_caps &= ~missing;
	}
	/* Supplementary groups root was started with reach no child. */
	if (setgroups(0, NULL) == -1) {
		log_warn("setgroups");
		return -1;
	}
	if (caps_restrict(own, own | *worker_caps, own | *worker_caps, 0) ==
	    -1) {
		log_warn("cannot reduce the parent's capabilities");
		return -1;
	}
	log_debug("capabilities: parent %s, PAM workers %s",
	    caps_format(own, a, sizeof(a)),
	    caps_format(*worker_caps, b, sizeof(b)));
	return 0;
}

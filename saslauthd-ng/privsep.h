/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * privsep.h - privileges of the parent (capabilities, environment) and the
 * front (uid, chroot, no capabilities, no environment).
 *
 * SECURITY: called as root in the parent at start-up and in the freshly
 * forked front, before it reads a single client byte. Failure to drop
 * anything is fatal (or a start-up error in the parent).
 */
#ifndef SASLD_PRIVSEP_H
#define SASLD_PRIVSEP_H

#include <sys/capability.h>
#include <sys/types.h>

#include <stdint.h>

#include "caps.h"

/*
 * The parent's own capabilities, each for one job (README "Security
 * model"); tests/integration/test_privileges.sh checks the masks:
 *   CAP_CHOWN         new directories get group sasl, which root is not
 *                     in; sockets get --listen's owner= and group=
 *                     (after their mode: chmod of another owner's file
 *                     would need CAP_FOWNER, not kept)
 *   CAP_KILL          signal the front, which runs as --user
 *   CAP_SETGID        setgroups()/setresgid() for the front
 *   CAP_SETUID        setresuid() for the front
 *   CAP_SETPCAP       the front empties its bounding set; each worker
 *                     shrinks its own and locks SECBIT_NOROOT
 *   CAP_SYS_CHROOT    chroot() for the front
 * and, kept when the daemon has it but not required (the systemd unit
 * leaves it out):
 *   CAP_DAC_OVERRIDE  the run directory or a socket's may sit in a
 *                     directory root does not own (a spool); the pid
 *                     file, sockets and each front's empty root are made
 *                     and removed there
 * Workers are signalled as uid 0 like the parent: no CAP_KILL needed.
 */
#define PRIVSEP_PARENT_CAPS                                                    \
	(CAPS_BIT(CAP_CHOWN) | CAPS_BIT(CAP_KILL) | CAPS_BIT(CAP_SETGID) |     \
	    CAPS_BIT(CAP_SETUID) | CAPS_BIT(CAP_SETPCAP) |                     \
	    CAPS_BIT(CAP_SYS_CHROOT))
#define PRIVSEP_PARENT_OPTIONAL CAPS_BIT(CAP_DAC_OVERRIDE)

/* Most variables privsep_clear_env() keeps. */
#define PRIVSEP_ENV_KEEP_MAX 32

/* Not dumpable, no core files: for every role that may hold a password. */
void privsep_no_dumps(void);

/*
 * chroot to dir, then drop to uid/gid with no supplementary groups and no
 * capabilities (bounding set emptied too), RLIMIT_NPROC 0, set
 * NO_NEW_PRIVS, and verify that root cannot be regained. fatal() on any
 * failure.
 */
void privsep_drop(const char *dir, uid_t uid, gid_t gid);

/*
 * Empty the environment except the variables named in keep (NULL-ended,
 * may be NULL), overwriting the strings so that no copy stays in memory.
 */
void privsep_clear_env(const char *const *keep);

/* The parent's environment: only what a service manager passes. */
void privsep_parent_env(void);

/*
 * Reduce the parent to PRIVSEP_PARENT_CAPS (and PRIVSEP_PARENT_OPTIONAL if
 * it has it) in its effective set, those plus *worker_caps in its
 * permitted and bounding sets (root workers take theirs from the bounding
 * set at exec, and, under NO_NEW_PRIVS, from no more than the parent's
 * permitted set), and no supplementary groups. Worker capabilities the
 * process does not have are an error when explicit_caps (--worker-caps),
 * else dropped from *worker_caps with a warning. Logs and returns -1 on
 * failure.
 */
int privsep_parent(uint64_t *worker_caps, int explicit_caps);

#endif

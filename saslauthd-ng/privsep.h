/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * privsep.h - dropping privileges for the front process.
 *
 * SECURITY: called as root in the freshly forked front, before it reads a
 * single client byte. Failure to drop anything is fatal.
 */
#ifndef SASLD_PRIVSEP_H
#define SASLD_PRIVSEP_H

#include <sys/types.h>

/* Not dumpable, no core files: for every role that may hold a password. */
void privsep_no_dumps(void);

/*
 * chroot to dir, then drop to uid/gid with no supplementary groups and no
 * capabilities (bounding set emptied too), set NO_NEW_PRIVS, and verify
 * that root cannot be regained. fatal() on any failure.
 */
void privsep_drop(const char *dir, uid_t uid, gid_t gid);

#endif

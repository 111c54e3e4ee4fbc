/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * listener.h - creating the daemon's UNIX sockets and their directories.
 *
 * SECURITY: runs as root in the parent. Access control is the directory
 * (root:sasl 0710, as Debian's sasl2-bin); an existing directory's mode is
 * never loosened, a non-socket is never unlinked, and a socket another
 * daemon still serves is never stolen.
 */
#ifndef SASLD_LISTENER_H
#define SASLD_LISTENER_H

#include <sys/types.h>

#define SASLD_DIR_MODE 0710 /* root:sasl: group may connect, not list */
#define SASLD_SASL_GROUP "sasl"
#define SASLD_LISTEN_BACKLOG 1024 /* Cyrus used 32; bursts stall clients */

struct listener {
	int fd;
	dev_t dev;
	ino_t ino;
	char path[108];
};

/*
 * Create the missing directories of dir, each root:sasl 0710 (root:root
 * when there is no sasl group). Existing ones are left as they are.
 * Returns 0 or -1 (logged).
 */
int listener_mkdirs(const char *dir);

/*
 * Whether root can trust directory dir and every directory above it: each
 * owned by root and not writable by group or others (unless sticky, as
 * /tmp). Otherwise someone else could put their own socket in the
 * daemon's place and be sent passwords. dir itself may also be owned by
 * client, the socket's own owner= user ((uid_t)-1: none), as Postfix's
 * private/ is. Returns 1 trusted, 0 not (why says which directory and
 * why), -1 when a directory cannot be examined.
 */
int
listener_dir_trusted(const char *dir, uid_t client, char *why, size_t whylen);

/*
 * Bind and listen on path (non-blocking, CLOEXEC), then give the socket
 * mode and, unless (uid_t)-1 / (gid_t)-1, owner and group. A stale socket
 * is removed; a live one (connect() succeeds) is left alone. Returns 0, -1
 * on error, -2 when another process serves the socket (all logged).
 */
int listener_open(
    struct listener *l, const char *path, mode_t mode, uid_t uid, gid_t gid);

/* Close and, if the path is still the socket we made, unlink it. */
void listener_close(struct listener *l);

#endif

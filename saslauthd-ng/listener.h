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
#define SASLD_SOCKET_MODE 0777 /* Cyrus: the directory does the checking */
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
 * Bind and listen on path (non-blocking, CLOEXEC). A stale socket is
 * removed; a live one (connect() succeeds) is left alone. Returns 0, -1
 * on error, -2 when another process serves the socket (all logged).
 */
int listener_open(struct listener *l, const char *path);

/* Close and, if the path is still the socket we made, unlink it. */
void listener_close(struct listener *l);

#endif

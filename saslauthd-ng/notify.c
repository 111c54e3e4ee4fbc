/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * notify.c - systemd readiness notification (see notify.h): the protocol
 * systemd documents as stable in sd_notify(3), in a few lines, so the
 * daemon needs no libsystemd. Only the AF_UNIX addresses are supported
 * (a path, or '@' for the abstract namespace): the manager's own socket
 * always is one; "vsock:" addresses (for virtual machines) are refused.
 *
 * SECURITY: runs in the parent (root). The address is taken as given,
 * bounded by sun_path; the socket is CLOEXEC and closed before return.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"

int
notify_systemd(const char *state)
{
	struct sockaddr_un sun;
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n;
	ssize_t r;
	int fd, saved;

	if (path == NULL || path[0] == '\0')
		return 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n > sizeof(sun.sun_path) ||
	    (path[0] == '/' && n == sizeof(sun.sun_path))) {
		errno = EINVAL;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0'; /* abstract: no terminating NUL */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	r = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (const struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
		(path[0] == '/' ? 1 : 0)));
	saved = errno;
	(void)close(fd);
	errno = saved;
	return r == (ssize_t)strlen(state) ? 1 : -1;
}

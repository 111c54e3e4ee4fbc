/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * listener.c - socket and directory creation for the parent (see
 * listener.h). Accepting happens in the front (front.c).
 *
 * SECURITY: runs as root. Paths come from root's command line, but the
 * directories may be shared (the Postfix spool), so nothing here follows a
 * symlink to unlink, chmods an existing directory or truncates a path.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"

int
listener_mkdirs(const char *dir)
{
	char path[PATH_MAX];
	struct group *gr;
	gid_t gid = 0;
	size_t i, n;
	int warned = 0;

	n = strlen(dir);
	if (n == 0 || n >= sizeof(path) || dir[0] != '/') {
		log_warnx("invalid directory '%s'", dir);
		return -1;
	}
	if ((gr = getgrnam(SASLD_SASL_GROUP)) != NULL)
		gid = gr->gr_gid;
	memcpy(path, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, SASLD_DIR_MODE) == 0) {
			/* mkdir applied the umask; set the mode exactly. */
			if (chown(path, 0, gid) == -1 ||
			    chmod(path, SASLD_DIR_MODE) == -1) {
				log_warn("cannot set owner/mode of %s", path);
				return -1;
			}
			log_info("created %s (root:%s %04o)", path,
			    gr != NULL ? SASLD_SASL_GROUP : "root",
			    SASLD_DIR_MODE);
			if (gr == NULL && !warned++)
				log_warnx("group %s does not exist: only root "
					  "can reach %s",
				    SASLD_SASL_GROUP, path);
		} else if (errno != EEXIST) {
			log_warn("mkdir %s", path);
			return -1;
		}
		if (i < n)
			path[i] = '/';
	}
	return 0;
}

static int
socket_in_use(const struct sockaddr_un *sun)
{
	int fd, r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return 0;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	(void)close(fd);
	return r == 0;
}

int
listener_dir_trusted(const char *dir, uid_t client, char *why, size_t whylen)
{
	char path[PATH_MAX];
	struct stat st;
	size_t i, n;

	n = strlen(dir);
	if (n == 0 || n >= sizeof(path) || dir[0] != '/') {
		(void)snprintf(why, whylen, "invalid directory '%s'", dir);
		return -1;
	}
	memcpy(path, dir, n + 1);
	/* i == 0 examines "/" itself, then each deeper prefix. */
	for (i = 0; i <= n; i++) {
		if (i > 0 && path[i] != '/' && path[i] != '\0')
			continue;
		if (i == 0 || (i == 1 && path[1] == '\0'))
			memcpy(path, "/", 2);
		else
			path[i] = '\0';
		if (stat(path, &st) == -1) {
			(void)snprintf(
			    why, whylen, "%s: %s", path, strerror(errno));
			return -1;
		}
		/*
		 * The socket's own directory may belong to its client, the
		 * socket's owner= user: Postfix's private/ (postfix 0700),
		 * where smtpd_sasl_path = private/auth lives. The only one
		 * who could put another socket there is that client itself,
		 * which can only deceive itself: passwords sent through its
		 * directory are its own to see (through a 0700 one, no one
		 * else can even reach the socket). Group or world write is
		 * still refused, and every directory above must be root's.
		 */
		if (st.st_uid != 0 &&
		    !(i == n && client != (uid_t)-1 && st.st_uid == client)) {
			(void)snprintf(why, whylen,
			    "%s is owned by uid %lu, not root", path,
			    (unsigned long)st.st_uid);
			return 0;
		}
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
		    (st.st_mode & S_ISVTX) == 0) {
			(void)snprintf(why, whylen,
			    "%s is writable by %s (mode %04o)", path,
			    (st.st_mode & S_IWOTH) ? "everyone" : "its group",
			    (unsigned)(st.st_mode & 07777));
			return 0;
		}
		memcpy(path, dir, n + 1);
	}
	return 1;
}

int
listener_open(
    struct listener *l, const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd = -1;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path) ||
	    strlen(path) >= sizeof(l->path)) {
		log_warnx("socket path %s is longer than the %zu bytes a UNIX "
			  "socket address holds",
		    path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("%s exists and is not a socket; not "
				  "touching it",
			    path);
			return -1;
		}
		if (socket_in_use(&sun)) {
			log_warnx("%s is in use: another saslauthd (or "
				  "saslauthd-ng) is serving it",
			    path);
			return -2;
		}
		if (unlink(path) == -1) {
			log_warn("cannot remove stale socket %s", path);
			return -1;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("socket");
		return -1;
	}
	/* No window in which the socket exists with a looser mode. */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		(void)umask(old);
		log_warn("bind %s", path);
		goto fail;
	}
	(void)umask(old);
	/* fchown/fchmod of a socket fd do not reach the inode; lchown
	 * never follows a symlink put in its place. The mode first, while
	 * root owns the socket: chmod of another owner's file would need
	 * CAP_FOWNER, which the parent does not keep (privsep.h). */
	if (chmod(path, mode) == -1) {
		log_warn("chmod %s", path);
		goto fail_unlink;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    lchown(path, uid, gid) == -1) {
		log_warn("chown %s", path);
		goto fail_unlink;
	}
	if (lstat(path, &st) == -1) {
		log_warn("lstat %s", path);
		goto fail_unlink;
	}
	if (listen(fd, SASLD_LISTEN_BACKLOG) == -1) {
		log_warn("listen %s", path);
		goto fail_unlink;
	}
	l->fd = fd;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	memcpy(l->path, path, strlen(path) + 1);
	return 0;
fail_unlink:
	(void)unlink(path);
fail:
	(void)close(fd);
	return -1;
}

void
listener_close(struct listener *l)
{
	struct stat st;

	if (l->fd != -1) {
		(void)close(l->fd);
		l->fd = -1;
	}
	if (l->path[0] == '\0')
		return;
	/* Unlink only our own socket, not one a successor created. */
	if (lstat(l->path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == l->dev && st.st_ino == l->ino)
		(void)unlink(l->path);
	l->path[0] = '\0';
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_notify.c - unit tests for the built-in sd_notify (saslauthd-ng/
 * notify.c): the state arrives whole at a path socket and at an abstract
 * one, nothing is sent without $NOTIFY_SOCKET, and names that are not
 * AF_UNIX addresses or do not fit sun_path are refused.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "notify.h"

/* A datagram socket bound to addr (len bytes); returns the fd. */
static int
listen_at(const struct sockaddr_un *addr, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (const struct sockaddr *)addr, len), 0);
	return fd;
}

static void
expect_datagram(int fd, const char *want)
{
	char buf[64];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_int_equal(n, (ssize_t)strlen(want));
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void
test_path(void **state)
{
	struct sockaddr_un sun;
	char dir[] = "/tmp/test_notify.XXXXXX";
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/notify", dir);
	fd = listen_at(&sun, sizeof(sun));
	assert_int_equal(setenv("NOTIFY_SOCKET", sun.sun_path, 1), 0);
	assert_int_equal(notify_systemd("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	assert_int_equal(notify_systemd("STOPPING=1"), 1);
	expect_datagram(fd, "STOPPING=1");
	(void)close(fd);
	/* Nobody listens any more: an error, not a crash or a hang. */
	assert_int_equal(notify_systemd("READY=1"), -1);
	(void)unlink(sun.sun_path);
	(void)rmdir(dir);
}

static void
test_abstract(void **state)
{
	struct sockaddr_un sun;
	char name[64];
	size_t n;
	int fd;

	(void)state;
	n = (size_t)snprintf(
	    name, sizeof(name), "@test_notify.%ld", (long)getpid());
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, name + 1, n - 1); /* sun_path[0] = '\0' */
	fd = listen_at(
	    &sun, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
	assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
	assert_int_equal(notify_systemd("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	(void)close(fd);
}

static void
test_unset(void **state)
{
	(void)state;
	assert_int_equal(unsetenv("NOTIFY_SOCKET"), 0);
	assert_int_equal(notify_systemd("READY=1"), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", "", 1), 0);
	assert_int_equal(notify_systemd("READY=1"), 0);
}

static void
test_refused(void **state)
{
	char longname[sizeof(((struct sockaddr_un *)0)->sun_path) + 2];

	(void)state;
	assert_int_equal(setenv("NOTIFY_SOCKET", "relative/path", 1), 0);
	errno = 0;
	assert_int_equal(notify_systemd("READY=1"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(setenv("NOTIFY_SOCKET", "vsock:2:1234", 1), 0);
	assert_int_equal(notify_systemd("READY=1"), -1);
	/* A path as long as sun_path leaves no room for its NUL. */
	memset(longname, 'x', sizeof(longname));
	longname[0] = '/';
	longname[sizeof(longname) - 2] = '\0';
	assert_int_equal(setenv("NOTIFY_SOCKET", longname, 1), 0);
	errno = 0;
	assert_int_equal(notify_systemd("READY=1"), -1);
	assert_int_equal(errno, EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path),
	    cmocka_unit_test(test_abstract),
	    cmocka_unit_test(test_unset),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

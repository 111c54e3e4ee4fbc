/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * workerprobe.c - sends the PAM worker one frame, well-formed or not, the
 * way a broken or compromised front could, to check that the worker
 * accepts only IPC_FRONT_AUTH and exits on anything else.
 *
 * Usage:
 *   workerprobe spawn WORKER CASE [WORKER-ARGS...]
 *       start WORKER with fd 3 one end of a SEQPACKET socketpair (as the
 *       parent does), wait for its HELLO, send CASE, wait up to 10 s for
 *       the frames it answers with, up to its result, close the channel
 *       and report how the worker ended:
 *       "hello=ok reply=WORKER_STARTED,WORKER_RESULT|none exit=N|signal=N"
 *   workerprobe inject PID FD CASE
 *       send CASE on descriptor FD of process PID (taken with
 *       pidfd_getfd: the running front's end of a worker's channel)
 *   workerprobe audit
 *       send one user-space audit record to the kernel and print "ok",
 *       "eperm" or the error: whether this process may write audit
 *       records (CAP_AUDIT_WRITE), as libpam does for every check
 * CASE: valid (alice / Alice-pw1 / smtp), type0, unknown, hello, result,
 * shutdown, short, huge, fd, trailing, badlen, nul, empty.
 * Exit: 0 when the report was printed, 1 on a usage or system error.
 *
 * SECURITY: test code; never installed.
 */
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"

#define PROBE_REPLY_MS 10000 /* a pam_matrix check takes milliseconds */
#define PROBE_EXIT_MS 10000
#define PROBE_MAX_ARGS 16
#define PROBE_MAX_REPLIES 4
#define PROBE_AUDIT_USER_AUTH 1100 /* AUDIT_USER_AUTH, libaudit.h */

static uint8_t frame[IPC_MAX_FRAME + 256];

static void
die(const char *what)
{
	fprintf(stderr, "workerprobe: %s: %s\n", what, strerror(errno));
	exit(1);
}

static size_t
put_hdr(uint16_t type)
{
	struct ipc_hdr h;

	memset(&h, 0, sizeof(h));
	h.type = type;
	h.id = 7;
	memcpy(frame, &h, sizeof(h));
	return sizeof(h);
}

static size_t
put_auth(size_t off, const char *login, size_t loginlen)
{
	struct ipc_auth_req r;
	size_t n;

	memset(&r, 0, sizeof(r));
	r.login.ptr = (const uint8_t *)login;
	r.login.len = loginlen;
	r.password.ptr = (const uint8_t *)"Alice-pw1";
	r.password.len = 9;
	r.service.ptr = (const uint8_t *)"smtp";
	r.service.len = 4;
	n = ipc_encode_auth(frame + off, sizeof(frame) - off, &r);
	if (n == 0) {
		fprintf(stderr, "workerprobe: cannot encode\n");
		exit(1);
	}
	return off + n;
}

/* Send case name on fd. Returns 0, or -1 for an unknown case. */
static int
send_case(int fd, const char *name)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *c;
	size_t len = 0;
	int passfd = -1;

	if (strcmp(name, "valid") == 0)
		len = put_auth(put_hdr(IPC_FRONT_AUTH), "alice", 5);
	else if (strcmp(name, "type0") == 0)
		len = put_auth(put_hdr(0), "alice", 5);
	else if (strcmp(name, "unknown") == 0)
		len = put_auth(put_hdr(999), "alice", 5);
	else if (strcmp(name, "hello") == 0) {
		len = put_hdr(IPC_WORKER_HELLO);
		len += ipc_encode_u32(frame + len, 4, IPC_VERSION);
	} else if (strcmp(name, "result") == 0)
		len = put_auth(put_hdr(IPC_WORKER_RESULT), "alice", 5);
	else if (strcmp(name, "shutdown") == 0)
		len = put_hdr(IPC_PARENT_SHUTDOWN);
	else if (strcmp(name, "short") == 0)
		len = put_hdr(IPC_FRONT_AUTH) - 5;
	else if (strcmp(name, "huge") == 0) {
		len = put_hdr(IPC_FRONT_AUTH);
		memset(frame + len, 'A', sizeof(frame) - len);
		len = sizeof(frame);
	} else if (strcmp(name, "fd") == 0) {
		len = put_auth(put_hdr(IPC_FRONT_AUTH), "alice", 5);
		if ((passfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
			die("/dev/null");
	} else if (strcmp(name, "trailing") == 0) {
		len = put_auth(put_hdr(IPC_FRONT_AUTH), "alice", 5);
		frame[len++] = 'x';
	} else if (strcmp(name, "badlen") == 0) {
		len = put_auth(put_hdr(IPC_FRONT_AUTH), "alice", 5);
		/* The login's count, just after the header, past the end. */
		frame[sizeof(struct ipc_hdr)] = 0xff;
		frame[sizeof(struct ipc_hdr) + 1] = 0x1f;
	} else if (strcmp(name, "nul") == 0)
		len = put_auth(put_hdr(IPC_FRONT_AUTH), "ali\0ce", 6);
	else if (strcmp(name, "empty") == 0)
		len = 0;
	else
		return -1;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = frame;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (passfd != -1) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &passfd, sizeof(int));
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)len)
		die("sendmsg");
	if (passfd != -1)
		(void)close(passfd);
	return 0;
}

/* The type of the frame the worker answers with, or NULL. */
static const char *
await_reply(int fd)
{
	static uint8_t buf[IPC_MAX_FRAME];
	struct pollfd p = {.fd = fd, .events = POLLIN};
	struct ipc_msg m;

	if (poll(&p, 1, PROBE_REPLY_MS) != 1)
		return NULL;
	if (ipc_recv(fd, buf, sizeof(buf), &m) != 1)
		return NULL;
	if (m.fd != -1)
		(void)close(m.fd);
	return ipc_type_name(m.type);
}

static void
report_exit(pid_t pid)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	int status, i;
	pid_t r;

	for (i = 0; i < PROBE_EXIT_MS / 10; i++) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == -1)
			die("waitpid");
		if (r == pid) {
			if (WIFEXITED(status))
				printf(" exit=%d\n", WEXITSTATUS(status));
			else
				printf(" signal=%d\n", WTERMSIG(status));
			return;
		}
		(void)nanosleep(&ts, NULL);
	}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &status, 0);
	printf(" exit=hung\n");
}

static int
spawn(int argc, char *argv[])
{
	static char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	char *envp[] = {env_path, NULL};
	char *wargv[PROBE_MAX_ARGS + 2];
	const char *reply;
	int sv[2], i, n = 0;
	pid_t pid;

	if (argc - 2 > PROBE_MAX_ARGS) {
		fprintf(stderr, "workerprobe: too many worker arguments\n");
		return 1;
	}
	wargv[n++] = argv[0];
	for (i = 2; i < argc; i++)
		wargv[n++] = argv[i];
	wargv[n] = NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		die("socketpair");
	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		if (dup2(sv[1], IPC_WORKER_FD) == -1)
			_exit(127);
		execve(argv[0], wargv, envp);
		_exit(127);
	}
	(void)close(sv[1]);
	reply = await_reply(sv[0]);
	if (reply == NULL || strcmp(reply, "WORKER_HELLO") != 0) {
		printf("hello=%s", reply != NULL ? reply : "none");
		(void)close(sv[0]);
		report_exit(pid);
		return 0;
	}
	if (send_case(sv[0], argv[1]) == -1) {
		fprintf(stderr, "workerprobe: unknown case %s\n", argv[1]);
		(void)kill(pid, SIGKILL);
		return 1;
	}
	/* Every frame up to the result (a check says STARTED first). */
	printf("hello=ok reply=");
	for (i = 0; i < PROBE_MAX_REPLIES; i++) {
		if ((reply = await_reply(sv[0])) == NULL)
			break;
		printf("%s%s", i > 0 ? "," : "", reply);
		if (strcmp(reply, "WORKER_RESULT") == 0)
			break;
	}
	if (i == 0)
		printf("none");
	(void)close(sv[0]);
	report_exit(pid);
	return 0;
}

static int
inject(const char *pidarg, const char *fdarg, const char *name)
{
	int pfd, fd;

	if ((pfd = pidfd_open((pid_t)strtol(pidarg, NULL, 10), 0)) == -1)
		die("pidfd_open");
	if ((fd = pidfd_getfd(pfd, (int)strtol(fdarg, NULL, 10), 0)) == -1)
		die("pidfd_getfd");
	if (send_case(fd, name) == -1) {
		fprintf(stderr, "workerprobe: unknown case %s\n", name);
		return 1;
	}
	printf("sent %s\n", name);
	return 0;
}

static int
audit(void)
{
	struct {
		struct nlmsghdr h;
		char text[64];
	} m;
	struct sockaddr_nl sa;
	char buf[512];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct nlmsgerr *e;
	ssize_t n;
	int fd;

	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT)) ==
	    -1) {
		printf("no-audit (%s)\n", strerror(errno));
		return 0;
	}
	memset(&m, 0, sizeof(m));
	(void)snprintf(m.text, sizeof(m.text), "saslauthd-ng test probe");
	m.h.nlmsg_len = NLMSG_LENGTH(strlen(m.text) + 1);
	m.h.nlmsg_type = PROBE_AUDIT_USER_AUTH;
	m.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	m.h.nlmsg_seq = 1;
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (sendto(fd, &m, m.h.nlmsg_len, 0, (struct sockaddr *)&sa,
		sizeof(sa)) == -1) {
		printf("%s\n", errno == EPERM ? "eperm" : strerror(errno));
		return 0;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n >= (ssize_t)NLMSG_LENGTH(sizeof(*e)) &&
	    h->nlmsg_type == NLMSG_ERROR) {
		e = NLMSG_DATA(h);
		if (e->error == 0)
			printf("ok\n");
		else
			printf("%s\n",
			    e->error == -EPERM ? "eperm" : strerror(-e->error));
		return 0;
	}
	printf("no-ack\n");
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc >= 4 && strcmp(argv[1], "spawn") == 0)
		return spawn(argc - 2, argv + 2);
	if (argc == 5 && strcmp(argv[1], "inject") == 0)
		return inject(argv[2], argv[3], argv[4]);
	if (argc == 2 && strcmp(argv[1], "audit") == 0)
		return audit();
	fprintf(stderr,
	    "usage: workerprobe spawn WORKER CASE [ARGS...] | "
	    "inject PID FD CASE | audit\n");
	return 1;
}

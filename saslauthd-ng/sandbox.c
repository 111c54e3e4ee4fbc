/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sandbox.c - the front's seccomp filter (see sandbox.h), built with
 * libseccomp. Default action: kill the process. The list is what the
 * front's event loop calls once it is chrooted and unprivileged, traced
 * with strace -f across the whole integration suite on Debian 12 (glibc
 * 2.36, amd64), plus the few calls glibc makes on paths the suite cannot
 * reach (noted below). Arguments are pinned wherever the front always
 * passes the same constant, so that, e.g., getsockopt can only read the
 * peer's credentials and sendto can only answer on a connected socket.
 *
 * Not on the list, on purpose: socket, connect, bind, open/openat, execve,
 * fork/clone, kill, ptrace, prctl, fcntl, ioctl, mprotect, and mmap with
 * PROT_EXEC. The front opens nothing, creates no process and changes no
 * process state after start-up; everything it needs arrives over the
 * listening socket and the parent's channel.
 *
 * SECURITY: runs in the front, unprivileged and chrooted, before its first
 * client. A filter that cannot be built or loaded is fatal, never skipped.
 */
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

#include "log.h"
#include "sandbox.h"

/*
 * A sanitizer build (the Sanitize build type defines SASLD_SANITIZE; GCC
 * and clang say so themselves for ASan): see sandbox_sanitizer().
 */
#if defined(SASLD_SANITIZE) || defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) ||                                        \
    __has_feature(undefined_behavior_sanitizer)
#define SANDBOX_SANITIZER 1
#endif
#endif

/* libseccomp's API level that knows SCMP_ACT_KILL_PROCESS (Linux 4.14). */
#define SANDBOX_API_KILL_PROCESS 3
/* Linux 4.13; older headers lack the name (front.c uses it too). */
#ifdef SO_PEERGROUPS
#define SANDBOX_SO_PEERGROUPS SO_PEERGROUPS
#else
#define SANDBOX_SO_PEERGROUPS 59
#endif

/* Allow syscall nr (named name, for the error) when all of cmp[0..n) hold. */
static void
allow(scmp_filter_ctx ctx, const char *name, int nr, unsigned n,
    const struct scmp_arg_cmp *cmp)
{
	int rc;

	if (nr < 0)
		fatalx("seccomp: %s: no such system call here", name);
	rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);
	if (rc < 0)
		fatalx("seccomp: cannot allow %s: %s", name, strerror(-rc));
}

#define ALLOW(ctx, call) allow((ctx), #call, SCMP_SYS(call), 0, NULL)
#define ALLOW_IF(ctx, call, ...)                                               \
	do {                                                                   \
		const struct scmp_arg_cmp c_[] = {__VA_ARGS__};                \
		allow((ctx), #call, SCMP_SYS(call),                            \
		    (unsigned)(sizeof(c_) / sizeof(c_[0])), c_);               \
	} while (0)

#ifdef SANDBOX_SANITIZER
/*
 * ASan/UBSan: the runtime tears down its alternate signal stack at exit,
 * and a report checks whether stderr is a terminal, opens files under
 * /proc (absent in the chroot: it copes), reads /proc/self/exe's link,
 * takes its report lock and writes its report. Found the same way as the
 * list above, and by making the front report through gdb
 * (__asan_report_load1, __ubsan_handle_builtin_unreachable). Sanitizer
 * builds only: the release filter stays as above.
 */
static void
sandbox_sanitizer(scmp_filter_ctx ctx, pid_t self)
{
	ALLOW(ctx, sigaltstack);
	/* sanitize.c: a fault signal sent by another process is re-raised
	 * with the default action, from the handler. */
	ALLOW(ctx, rt_sigaction);
	ALLOW(ctx, rt_sigreturn);
	ALLOW_IF(ctx, tgkill, SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)self));
	ALLOW(ctx, ioctl);
	ALLOW(ctx, open);
	ALLOW(ctx, openat);
	ALLOW(ctx, readlink);
	ALLOW(ctx, futex);
	ALLOW(ctx, write);
	/* The allocator handing quarantined memory back (also turned off
	 * in sanitize.c: allocator_release_to_os_interval_ms=-1). */
	ALLOW(ctx, madvise);
}
#endif

void
sandbox_front(void)
{
	scmp_filter_ctx ctx;
	uint32_t deny = SCMP_ACT_KILL_PROCESS;
	pid_t self = getpid();
	int rc;

#ifdef HAVE_VALGRIND_H
	/*
	 * valgrind runs inside the process and makes its own system calls
	 * (its log, its scheduler, code generation: write, mprotect, ...),
	 * which the filter would kill; only root running the daemon under
	 * valgrind makes this true (Chromium skips seccomp-bpf the same way).
	 */
	if (RUNNING_ON_VALGRIND) {
		log_warnx("running under valgrind: the front loads no seccomp "
			  "filter");
		return;
	}
#endif
	/* Before 4.14 only the thread can be killed; the front has one. */
	if (seccomp_api_get() < SANDBOX_API_KILL_PROCESS)
		deny = SCMP_ACT_KILL;
	if ((ctx = seccomp_init(deny)) == NULL)
		fatalx("seccomp: cannot create a filter");

	/* The event loop. */
	ALLOW(ctx, epoll_wait);
	ALLOW(ctx, epoll_ctl);
	/* Clients: accept4(fd, NULL, NULL, NONBLOCK|CLOEXEC), the peer's
	 * uid, the request, one reply to the connected peer, half-close. */
	ALLOW_IF(ctx, accept4, SCMP_A1_64(SCMP_CMP_EQ, 0),
	    SCMP_A2_64(SCMP_CMP_EQ, 0),
	    SCMP_A3_32(SCMP_CMP_EQ, SOCK_NONBLOCK | SOCK_CLOEXEC));
	ALLOW_IF(ctx, getsockopt, SCMP_A1_32(SCMP_CMP_EQ, SOL_SOCKET),
	    SCMP_A2_32(SCMP_CMP_EQ, SO_PEERCRED));
	/* --allow-gid: the peer's supplementary groups. */
	ALLOW_IF(ctx, getsockopt, SCMP_A1_32(SCMP_CMP_EQ, SOL_SOCKET),
	    SCMP_A2_32(SCMP_CMP_EQ, SANDBOX_SO_PEERGROUPS));
	ALLOW(ctx, read);
	ALLOW_IF(ctx, sendto,
	    SCMP_A3_32(SCMP_CMP_EQ, MSG_NOSIGNAL | MSG_DONTWAIT),
	    SCMP_A4_64(SCMP_CMP_EQ, 0));
	ALLOW_IF(ctx, shutdown, SCMP_A1_32(SCMP_CMP_EQ, SHUT_WR));
	/* After the reply: is anything unread? recv(fd, &b, 1, PEEK). */
	ALLOW_IF(ctx, recvfrom, SCMP_A2_64(SCMP_CMP_EQ, 1),
	    SCMP_A3_32(SCMP_CMP_EQ, MSG_PEEK | MSG_DONTWAIT),
	    SCMP_A4_64(SCMP_CMP_EQ, 0));
	/* The Dovecot handshake's COOKIE, 16 random bytes per connection
	 * (front_dovecot.c); its SPID is getpid(), allowed below. */
	ALLOW_IF(ctx, getrandom, SCMP_A2_32(SCMP_CMP_EQ, 0));
	ALLOW(ctx, close);
	/* Frames to and from the parent and the workers (ipc.c); received
	 * worker channels arrive as SCM_RIGHTS, close-on-exec. */
	ALLOW_IF(ctx, sendmsg, SCMP_A2_32(SCMP_CMP_EQ, MSG_NOSIGNAL));
	ALLOW_IF(ctx, recvmsg, SCMP_A2_32(SCMP_CMP_EQ, MSG_CMSG_CLOEXEC));
	/* malloc: the heap, and mmap for large blocks (connection buffers
	 * with a large --max-field), never executable. */
	ALLOW(ctx, brk);
	ALLOW_IF(ctx, mmap, SCMP_A2_64(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	ALLOW(ctx, munmap);
	ALLOW_IF(ctx, mremap, SCMP_A3_32(SCMP_CMP_EQ, MREMAP_MAYMOVE));
	/* timer_now(): the vDSO answers, unless the clock source has no
	 * vDSO support (some hypervisors); then glibc makes the call. */
	ALLOW_IF(ctx, clock_gettime, SCMP_A0_32(SCMP_CMP_EQ, CLOCK_MONOTONIC));
	/* _exit() */
	ALLOW(ctx, exit_group);
	/*
	 * glibc's own fatal errors (stack protector, fortify, malloc
	 * corruption): the message to stderr, then abort() raises SIGABRT
	 * on this process only. Allowed so that such a crash is reported as
	 * what it is, not as a seccomp kill.
	 */
	ALLOW_IF(ctx, writev, SCMP_A0_32(SCMP_CMP_EQ, STDERR_FILENO));
	ALLOW(ctx, rt_sigprocmask);
	ALLOW(ctx, getpid);
	ALLOW(ctx, gettid);
	ALLOW_IF(ctx, tgkill, SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)self),
	    SCMP_A2_32(SCMP_CMP_EQ, SIGABRT));
#ifdef SANDBOX_SANITIZER
	sandbox_sanitizer(ctx, self);
#endif

	if ((rc = seccomp_load(ctx)) < 0)
		fatalx("seccomp: cannot load the filter: %s", strerror(-rc));
	seccomp_release(ctx);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * worker.c - main of saslauthd-ng-pam, the PAM worker. The parent execs it
 * with fd 3 (IPC_WORKER_FD) an AF_UNIX SOCK_SEQPACKET socket to the front.
 * It says HELLO, then answers IPC_FRONT_AUTH frames one at a time through
 * pamauth_verify(), and exits after --max-requests checks (PAM modules
 * leak) or when the front closes the channel. Before each check reaches
 * PAM it says IPC_WORKER_STARTED: a worker that dies before that point
 * has not shown the password to PAM, and the front tries the check on
 * another worker; after it, never (ipc.h).
 *
 * SECURITY: runs as root (pam_unix reads /etc/shadow itself only with euid
 * 0) but with only the capabilities of --caps (the parent's
 * --worker-caps) in every set, SECBIT_NOROOT locked, and only the
 * environment the parent chose (PATH, --worker-env). It holds passwords,
 * so it is not dumpable and writes no core file.
 * It has no client socket and writes to nothing but fd 3 and the log. A
 * frame of a type it does not expect, or one that does not decode, means
 * the front is broken or compromised: the worker exits. The password is
 * wiped from every buffer it passed through, on every path out.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "ipc.h"
#include "log.h"
#include "pamauth.h"
#include "workreq.h"

#define WORKER_IDENT "saslauthd-ng"
#define WORKER_USAGE                                                           \
	"usage: saslauthd-ng-pam [--max-requests N] [--caps LIST] [--debug] "  \
	"[--stderr]"
/* Dovecot recycles after 100; PAM stacks leak slowly, exec is cheap. */
#define WORKER_MAX_REQUESTS_DEFAULT 1000
/* Anything larger is a typo: the worker would in effect never recycle. */
#define WORKER_MAX_REQUESTS_LIMIT 100000000UL
/* Untrusted strings in a debug line are cut to this. */
#define WORKER_LOG_FIELD 128
/*
 * A worker idle this long lets go of the PAM modules it keeps loaded
 * (pamauth.c: some 200 KiB each with Debian's "other" stack), so a quiet
 * daemon shrinks back; the next check loads them again (about 1 ms).
 */
#define WORKER_UNPIN_IDLE_MS 30000
/* An encoded result: the struct's fields plus the reason's 2-byte count. */
#define WORKER_RESULT_BODY (sizeof(struct ipc_auth_res) + sizeof(uint16_t))

/*
 * The frame and the strings copied out of it hold a password. They are
 * static, sized for the largest frame, and wiped after every check, so no
 * copy outlives the request in a reused stack frame.
 */
static uint8_t worker_frame[IPC_MAX_FRAME];
static struct workreq worker_req;

static void
worker_wipe(void)
{
	explicit_bzero(worker_frame, sizeof(worker_frame));
	explicit_bzero(worker_req.password, sizeof(worker_req.password));
}

static __attribute__((noreturn)) void
worker_usage(const char *why, const char *arg)
{
	/* Before log_init() proper: say it on stderr and in syslog. */
	log_init(WORKER_IDENT, 1, 0);
	fatalx("%s%s%s; " WORKER_USAGE, why, arg != NULL ? ": " : "",
	    arg != NULL ? arg : "");
}

static unsigned long
worker_parse_count(const char *s)
{
	unsigned long v;
	char *end = NULL;

	/* strtoul alone would accept " 5", "+5" and "-5". */
	if (s == NULL || s[0] < '0' || s[0] > '9')
		worker_usage("--max-requests wants a number", s);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 ||
	    v > WORKER_MAX_REQUESTS_LIMIT)
		worker_usage("--max-requests out of range", s);
	return v;
}

static void
worker_args(int argc, char *argv[], unsigned long *ret_max, int *ret_debug,
    int *ret_stderr, uint64_t *ret_caps)
{
	char bad[64];
	int i;

	*ret_max = WORKER_MAX_REQUESTS_DEFAULT;
	*ret_debug = 0;
	*ret_stderr = 0;
	if (caps_parse(CAPS_WORKER_DEFAULT, ret_caps, NULL, 0) == -1)
		worker_usage(
		    "bad built-in capability set", CAPS_WORKER_DEFAULT);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--max-requests") == 0) {
			if (i + 1 >= argc)
				worker_usage(
				    "--max-requests wants a number", NULL);
			*ret_max = worker_parse_count(argv[++i]);
		} else if (strcmp(argv[i], "--caps") == 0) {
			if (i + 1 >= argc)
				worker_usage("--caps wants a list", NULL);
			if (caps_parse(argv[++i], ret_caps, bad, sizeof(bad)) ==
			    -1)
				worker_usage("--caps: unknown capability", bad);
		} else if (strcmp(argv[i], "--debug") == 0)
			*ret_debug = 1;
		else if (strcmp(argv[i], "--stderr") == 0)
			*ret_stderr = 1;
		else
			worker_usage("unknown argument", argv[i]);
	}
}

/*
 * A closed 0, 1 or 2 would let the next open() land there, where a stray
 * write by a module would go: point them at /dev/null. Returns 0 or -1.
 */
static int
worker_stdio(void)
{
	int fd, nfd;

	for (fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		nfd = open("/dev/null", O_RDWR);
		if (nfd != fd)
			return -1;
	}
	return 0;
}

/*
 * The parent orchestrates stop, reload and statistics for the whole
 * process group, so INT, HUP and USR1 are ignored here; TERM and KILL stay
 * fatal. Nothing exec'd may leave CHLD ignored (modules wait for their
 * helpers) or signals blocked.
 */
static void
worker_signals(void)
{
	static const int ignored[] = {SIGPIPE, SIGINT, SIGHUP, SIGUSR1};
	static const int dfl[] = {SIGTERM, SIGCHLD};
	struct sigaction sa;
	sigset_t none;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	(void)sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		if (sigaction(ignored[i], &sa, NULL) == -1)
			fatal("sigaction");
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < sizeof(dfl) / sizeof(dfl[0]); i++)
		if (sigaction(dfl[i], &sa, NULL) == -1)
			fatal("sigaction");
	(void)sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		fatal("sigprocmask");
}

/*
 * Keep only the --caps set (the parent passes --worker-caps), in every
 * set including the bounding set, with SECBIT_NOROOT locked so that a
 * helper a module runs (unix_chkpwd, pam_exec) gains nothing from uid 0;
 * such helpers needing more use their own setuid/setgid bits. The uid
 * stays 0: pam_unix reads /etc/shadow itself only as euid 0.
 */
static void
worker_caps(uint64_t caps)
{
	char text[CAPS_TEXT_MAX];

	if (caps_restrict(caps, caps, caps, CAPS_NOROOT) == -1)
		fatal("cannot reduce capabilities to %s",
		    caps_format(caps, text, sizeof(text)));
	/* A change of credentials may reset the dumpable flag. */
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		fatalx("dumpable after the capability drop");
	log_debug("capabilities: %s, SECBIT_NOROOT locked",
	    caps_format(caps, text, sizeof(text)));
}

static void
worker_check_channel(int fd)
{
	struct stat st;
	socklen_t len;
	int v = 0;

	if (fstat(fd, &st) == -1)
		fatal("fd %d: the channel to the front", fd);
	if (!S_ISSOCK(st.st_mode))
		fatalx("fd %d is not a socket: started by hand?", fd);
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) == -1)
		fatal("getsockopt(SO_TYPE)");
	if (v != SOCK_SEQPACKET)
		fatalx("fd %d is not a SOCK_SEQPACKET socket", fd);
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		fatal("fcntl(FD_CLOEXEC)");
}

static const char *
worker_result_name(enum auth_result r)
{
	switch (r) {
	case AUTH_OK:
		return "OK";
	case AUTH_FAIL:
		return "FAIL";
	case AUTH_FAIL_ACCT:
		return "FAIL_ACCT";
	case AUTH_FAIL_START:
		return "FAIL_START";
	case AUTH_TEMPFAIL:
		return "TEMPFAIL";
	default:
		return "UNKNOWN";
	}
}

static void
worker_log_result(
    uint32_t id, const struct pamauth_req *req, const struct ipc_auth_res *res)
{
	char user[WORKER_LOG_FIELD], service[WORKER_LOG_FIELD];
	char rhost[WORKER_LOG_FIELD];

	if (!log_verbose())
		return;
	log_debug("request %u: user=\"%s\" service=\"%s\" rhost=\"%s\": %s "
		  "(pam_rc %d, delay %u us%s%s)",
	    id,
	    log_sanitize(user, sizeof(user), req->login, strlen(req->login)),
	    log_sanitize(
		service, sizeof(service), req->service, strlen(req->service)),
	    log_sanitize(rhost, sizeof(rhost), req->rhost, strlen(req->rhost)),
	    worker_result_name(res->result), res->pam_rc, res->delay_us,
	    res->reason[0] != '\0' ? ", " : "", res->reason);
}

/*
 * The channel's receive timeout is the idle limit: a receive that times
 * out lets go of the modules and waits again, so a busy worker pays no
 * extra system call per check. Without it pins are only let go at exit.
 */
static void
worker_idle_timeout(int fd)
{
	struct timeval tv;

	tv.tv_sec = WORKER_UNPIN_IDLE_MS / 1000;
	tv.tv_usec = (WORKER_UNPIN_IDLE_MS % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		log_warn("SO_RCVTIMEO: PAM modules stay loaded while idle");
}

static void
worker_idle(void)
{
	if (!pamauth_pinned())
		return;
	log_debug("idle for %d s: letting go of the PAM modules",
	    WORKER_UNPIN_IDLE_MS / 1000);
	pamauth_unpin_all();
}

/* Receive one check, run it, answer it; last: say it is the last one. */
static void
worker_serve(int fd, int last)
{
	struct ipc_msg msg;
	struct ipc_auth_res res;
	struct pamauth_req req;
	uint8_t body[WORKER_RESULT_BODY];
	uint16_t flags = last ? IPC_F_LAST : 0;
	size_t len;
	int r;

	for (;;) {
		r = ipc_recv(fd, worker_frame, sizeof(worker_frame), &msg);
		if (r != -1 || (errno != EINTR && errno != EAGAIN))
			break;
		if (errno == EAGAIN)
			worker_idle(); /* SO_RCVTIMEO ran out */
	}
	if (r == 0) {
		log_debug("front closed the channel");
		worker_wipe();
		exit(0);
	}
	if (r == -1) {
		worker_wipe();
		fatal("ipc_recv");
	}
	switch (workreq_decode(&msg, &worker_req)) {
	case WORKREQ_OK:
		break;
	case WORKREQ_ERR_FD:
		(void)close(msg.fd);
		worker_wipe();
		fatalx(
		    "%s frame carries a descriptor", ipc_type_name(msg.type));
	case WORKREQ_ERR_TYPE:
		worker_wipe();
		fatalx("unexpected %s frame", ipc_type_name(msg.type));
	case WORKREQ_ERR_MALFORMED:
		worker_wipe();
		fatalx("malformed %s frame", ipc_type_name(msg.type));
	}
	explicit_bzero(worker_frame, sizeof(worker_frame));
	/* No PAM call before the front knows: if this send fails, the
	 * front may give the check to another worker, so PAM must not see
	 * it here. */
	if (ipc_send(fd, IPC_WORKER_STARTED, 0, msg.id, NULL, 0, -1) == -1) {
		worker_wipe();
		fatal("ipc_send %s", ipc_type_name(IPC_WORKER_STARTED));
	}

	req.login = worker_req.login;
	req.password = worker_req.password;
	req.service = worker_req.service;
	req.rhost = worker_req.rhost;
	(void)pamauth_verify(&req, &res);
	worker_wipe();
	worker_log_result(msg.id, &req, &res);

	if ((len = ipc_encode_result(body, sizeof(body), &res)) == 0)
		fatalx("cannot encode a result");
	if (ipc_send(fd, IPC_WORKER_RESULT, flags, msg.id, body, len, -1) == -1)
		fatal("ipc_send %s", ipc_type_name(IPC_WORKER_RESULT));
}

int
main(int argc, char *argv[])
{
	struct rlimit rl;
	uint8_t hello[sizeof(uint32_t)];
	unsigned long max_requests, served;
	uint64_t caps;
	size_t len;
	int debug, to_stderr, close_rc, close_errno, stdio_rc;

	worker_args(argc, argv, &max_requests, &debug, &to_stderr, &caps);
	/*
	 * Whatever the parent left open beyond the channel is not ours and
	 * must not reach the helpers that modules run (unix_chkpwd,
	 * pam_exec). Before log_init(), which opens the syslog socket.
	 */
	close_rc = close_range(IPC_WORKER_FD + 1, ~0U, 0);
	close_errno = errno;
	stdio_rc = worker_stdio();
	log_init(WORKER_IDENT, to_stderr, debug);
	if (stdio_rc == -1)
		fatalx("cannot point fds 0-2 at /dev/null");
	if (close_rc == -1) {
		errno = close_errno;
		log_warn("close_range");
	}

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_DUMPABLE)");
	rl.rlim_cur = 0;
	rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("setrlimit(RLIMIT_CORE)");
	worker_caps(caps);
	worker_signals();
	worker_check_channel(IPC_WORKER_FD);
	worker_idle_timeout(IPC_WORKER_FD);

	if ((len = ipc_encode_u32(hello, sizeof(hello), IPC_VERSION)) == 0)
		fatalx("cannot encode hello");
	if (ipc_send(IPC_WORKER_FD, IPC_WORKER_HELLO, 0, 0, hello, len, -1) ==
	    -1)
		fatal("ipc_send %s", ipc_type_name(IPC_WORKER_HELLO));
	log_debug("PAM worker ready, at most %lu requests", max_requests);

	for (served = 1; served < max_requests; served++)
		worker_serve(IPC_WORKER_FD, 0);
	worker_serve(IPC_WORKER_FD, 1);
	log_debug("served %lu requests, exiting", max_requests);
	return 0;
}

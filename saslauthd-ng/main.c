/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - the saslauthd-ng parent: parses the command line, creates the
 * run directory, the pid file and the socket, forks the front and spawns
 * the PAM workers, then supervises: it reaps and replaces children (with a
 * backoff when they keep dying before they are up; a worker that dies in
 * a check is replaced at once), kills a worker the front reports past its
 * deadline, relays the front's log lines, and handles TERM/INT (graceful
 * stop), HUP (recycle workers) and USR1 (statistics).
 *
 * SECURITY: runs as root and never reads a client byte or calls PAM. The
 * front is less trusted than the parent: its frames are checked against an
 * allow-list, its requests are bounded (it can only ask to kill the
 * parent's own workers and, with -n 0, for at most --fork-limit workers;
 * its word that a worker is up only spares that worker's replacement the
 * start-up backoff), and a front that misbehaves is killed and restarted.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cache.h"
#include "check.h"
#include "caps.h"
#include "config.h"
#include "front.h"
#include "ipc.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "privsep.h"
#include "timer.h"

#define RESPAWN_MIN_MS 50 /* first delay after a crash */
#define RESPAWN_MAX_MS 10000 /* a crashing worker costs at most this */
#define STOP_WORKERS_MS 2000 /* TERM to KILL for workers at shutdown */
#define FRONT_READY_MS 10000 /* a front that never gets ready is hung */
#define EXIT_RUNNING 2 /* Cyrus: another instance is running */

struct child {
	pid_t pid; /* 0 = free slot */
	uint32_t id;
	int killed; /* we killed it: not a crash */
	int orphan; /* its front is gone: not counted */
	int up; /* said hello to the front: a crash now is a check's */
};

static struct config cfg;
static struct listener lsocks[SASLD_MAX_LISTEN];
static char worker_path[PATH_MAX];
static char chroot_dir[PATH_MAX];
static struct passwd front_pw;
static char front_user[64];
static int readyfd = -1, pidfd = -1, sigfd = -1, ctlfd = -1;
static pid_t front_pid;
static int front_ready, ever_ready, stopping;
static uint64_t front_started, stop_deadline, respawn_at, front_respawn_at;
static unsigned worker_crashes, front_crashes;
static struct child kids[SASLD_MAX_WORKERS * 2];
static uint32_t next_worker_id;
static struct rlimit nofile0; /* as we were started: workers get it back */
/* What every PAM worker gets: PATH plus --worker-env, and its
 * capabilities (--worker-caps) as text for its --caps. */
static char *worker_envp[SASLD_MAX_WORKER_ENV + 2];
static char worker_caps_text[CAPS_TEXT_MAX];

/* One status byte to the launcher waiting in daemonize(). */
static void
tell_launcher(unsigned char code)
{
	if (readyfd == -1)
		return;
	if (write(readyfd, &code, 1) != 1)
		log_warn("cannot report start-up status");
	(void)close(readyfd);
	readyfd = -1;
}

static void
close_listeners(void)
{
	int i;

	for (i = 0; i < cfg.nlisten; i++)
		listener_close(&lsocks[i]);
}

static void
cleanup(void)
{
	close_listeners();
	if (pidfd != -1) {
		(void)unlink(cfg.pid_path);
		(void)close(pidfd);
		pidfd = -1;
	}
	if (chroot_dir[0] != '\0')
		(void)rmdir(chroot_dir);
}

/* Before readiness: tell the launcher, clean up, exit with code. */
static void __attribute__((noreturn)) startup_fail(int code)
{
	tell_launcher((unsigned char)code);
	cleanup();
	exit(code);
}

/*
 * Children of a detached daemon must not hold the launcher's stderr: whoever
 * reads it (out=$(saslauthd-ng ... 2>&1)) would never see EOF.
 */
static void
child_stdio(void)
{
	int fd;

	if (cfg.foreground)
		return;
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return;
	(void)dup2(fd, STDIN_FILENO);
	(void)dup2(fd, STDOUT_FILENO);
	(void)dup2(fd, STDERR_FILENO);
	(void)close(fd);
}

/*
 * The front holds every client connection: make sure --max-connections
 * fits in its descriptor limit, raising the soft limit (never the hard
 * one, the administrator's ceiling) in the parent before the front is
 * forked. Returns 0, or -1 with the reason on stderr.
 */
static int
raise_nofile(void)
{
	unsigned long need = front_fd_need(&cfg);
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &nofile0) == -1) {
		log_warn("getrlimit(RLIMIT_NOFILE)");
		return -1;
	}
	/* RLIM_INFINITY is the largest rlim_t: no special case. */
	if (nofile0.rlim_cur >= need)
		return 0;
	if (nofile0.rlim_max < need) {
		log_warnx("--max-connections %u needs %lu open files in the "
			  "front, but their hard limit is %lu: raise it "
			  "(LimitNOFILE= in the unit, ulimit -Hn) or lower "
			  "--max-connections",
		    cfg.max_conns, need, (unsigned long)nofile0.rlim_max);
		return -1;
	}
	rl.rlim_cur = need;
	rl.rlim_max = nofile0.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("setrlimit(RLIMIT_NOFILE, %lu)", need);
		return -1;
	}
	log_debug("descriptor limit raised from %lu to %lu for "
		  "--max-connections %u",
	    (unsigned long)nofile0.rlim_cur, need, cfg.max_conns);
	return 0;
}

static void
find_worker(void)
{
	char self[PATH_MAX], dir[PATH_MAX];
	const char *cand[2] = {
	    SASLD_WORKER_RELDIR "/" SASLD_WORKER_NAME, SASLD_WORKER_NAME};
	ssize_t n;
	char *slash;
	int i, r;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		log_warn("readlink /proc/self/exe");
		startup_fail(1);
	}
	self[n] = '\0';
	(void)snprintf(dir, sizeof(dir), "%s", self);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	/* Installed: <sbindir>/../libexec/saslauthd-ng/; build tree: same
	 * directory as the daemon. */
	for (i = 0; i < 2; i++) {
		r = snprintf(
		    worker_path, sizeof(worker_path), "%s/%s", dir, cand[i]);
		if (r > 0 && (size_t)r < sizeof(worker_path) &&
		    access(worker_path, X_OK) == 0)
			return;
	}
	log_warnx("PAM worker %s not found next to %s (looked in %s/%s and "
		  "%s)",
	    SASLD_WORKER_NAME, self, dir, SASLD_WORKER_RELDIR, dir);
	startup_fail(1);
}

static void
lock_pidfile(void)
{
	struct flock fl;
	char buf[32];
	int n;

	pidfd =
	    open(cfg.pid_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (pidfd == -1) {
		log_warn("cannot open pid file %s", cfg.pid_path);
		startup_fail(1);
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(pidfd, F_SETLK, &fl) == -1) {
		n = (int)pread(pidfd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		log_warnx("another instance of saslauthd is running "
			  "(pid file %s locked, pid %s)",
		    cfg.pid_path, buf[0] != '\0' ? buf : "?");
		(void)close(pidfd);
		pidfd = -1; /* not ours: do not unlink it */
		startup_fail(EXIT_RUNNING);
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(pidfd, 0) == -1 ||
	    pwrite(pidfd, buf, (size_t)n, 0) != n) {
		log_warn("cannot write pid file %s", cfg.pid_path);
		startup_fail(1);
	}
}

/* The parent directory of a socket path, in dir. */
static void
socket_dir(const char *path, char *dir, size_t dirsz)
{
	char *slash;

	(void)snprintf(dir, dirsz, "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL)
		slash[slash == dir ? 1 : 0] = '\0';
}

static void
open_listeners(void)
{
	const struct listen_spec *ls;
	char dir[PATH_MAX], why[PATH_MAX + 64];
	struct stat st;
	int i, r;

	for (i = 0; i < cfg.nlisten; i++) {
		ls = &cfg.listen[i];
		if (!ls->create_parents &&
		    (stat(cfg.postfix_dir, &st) == -1 ||
			!S_ISDIR(st.st_mode))) {
			log_warnx("--postfix-chroot: %s is not a directory: is "
				  "Postfix installed? Name its queue "
				  "directory (postconf -h queue_directory)",
			    cfg.postfix_dir);
			startup_fail(1);
		}
		socket_dir(ls->path, dir, sizeof(dir));
		if (ls->dir_must_exist &&
		    (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode))) {
			/* Postfix's private/: made by postfix, never by us. */
			log_warnx("%s: %s is not a directory: start Postfix "
				  "once (postfix start, or postfix "
				  "set-permissions) so it makes it",
			    ls->origin, dir);
			startup_fail(1);
		}
		if (!ls->dir_must_exist && listener_mkdirs(dir) == -1)
			startup_fail(1);
		if (listener_dir_trusted(dir, ls->uid, why, sizeof(why)) == 0)
			log_warnx("%s: %s: whoever controls it can replace the "
				  "socket %s and be sent passwords",
			    ls->origin, why, ls->path);
		r = listener_open(
		    &lsocks[i], ls->path, ls->mode, ls->uid, ls->gid);
		if (r == -2)
			startup_fail(EXIT_RUNNING);
		if (r == -1)
			startup_fail(1);
		log_info("listening on %s (%s)", ls->path, ls->origin);
	}
}

static void
daemonize(void)
{
	unsigned char b;
	int p[2], fd;
	pid_t pid;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) == -1) {
		perror("saslauthd-ng: pipe");
		exit(1);
	}
	if ((pid = fork()) == -1) {
		perror("saslauthd-ng: fork");
		exit(1);
	}
	if (pid > 0) {
		/* The launcher: exit with the daemon's start-up verdict,
		 * which comes only once the socket listens. */
		(void)close(p[1]);
		do
			n = read(p[0], &b, 1);
		while (n == -1 && errno == EINTR);
		if (n != 1) {
			fprintf(stderr,
			    "saslauthd-ng: start-up failed; "
			    "check syslog for errors\n");
			_exit(1);
		}
		_exit(b);
	}
	(void)close(p[0]);
	readyfd = p[1];
	if (setsid() == -1)
		fatal("setsid");
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			(void)close(fd);
	}
}

/* Start-up is complete: the socket listens and the front accepts. */
static void
report_ready(void)
{
	int fd;

	ever_ready = 1;
	log_info("saslauthd-ng " SASLD_VERSION " ready on %s%s (%d PAM "
		 "worker%s%s, front as %s)",
	    cfg.socket_path, cfg.nlisten > 1 ? " and others" : "", cfg.nworkers,
	    cfg.nworkers == 1 ? "" : "s",
	    cfg.nworkers == 0 ? " per request" : "", front_user);
	if (cfg.cache)
		log_info("-c: caching PAM successes for %ld s, at most %zu "
			 "entries, confirmed by PAM every %ld s",
		    cfg.cache_ttl,
		    cache_capacity_for_kb((unsigned long)cfg.cache_kb),
		    cfg.cache_revalidate);
	if (readyfd != -1) {
		tell_launcher(0);
		/* Detached: stderr goes nowhere from now on. */
		if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) != -1) {
			(void)dup2(fd, STDERR_FILENO);
			(void)close(fd);
		}
		log_set_stderr(0);
	}
#ifdef HAVE_SYSTEMD
	(void)notify_systemd("READY=1");
#endif
}

static struct child *
child_find(pid_t pid)
{
	size_t i;

	for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
		if (kids[i].pid == pid && pid != 0)
			return &kids[i];
	return NULL;
}

static struct child *
child_slot(void)
{
	size_t i;

	for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
		if (kids[i].pid == 0)
			return &kids[i];
	return NULL;
}

/* Workers of any front, current or dead. */
static unsigned
all_workers(void)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
		if (kids[i].pid != 0)
			n++;
	return n;
}

static unsigned
live_workers(void)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
		if (kids[i].pid != 0 && !kids[i].orphan)
			n++;
	return n;
}

/*
 * PAM modules get a clean environment, not root's shell's: a fixed PATH
 * and only the variables --worker-env names, taken from the environment
 * the parent was started with (before privsep_parent_env() empties it) or
 * given as NAME=VALUE.
 */
static void
worker_env_init(void)
{
	static char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	const char *arg, *val;
	char *s;
	int i, n = 0;

	worker_envp[n++] = env_path;
	for (i = 0; i < cfg.nworker_env; i++) {
		arg = cfg.worker_env[i];
		s = NULL;
		if (strchr(arg, '=') != NULL)
			s = strdup(arg);
		else if ((val = getenv(arg)) == NULL) {
			log_warnx("--worker-env %s: not set in the "
				  "environment; the PAM workers do not get it",
			    arg);
			continue;
		} else if (asprintf(&s, "%s=%s", arg, val) == -1)
			s = NULL;
		if (s == NULL)
			fatal("--worker-env");
		worker_envp[n++] = s;
	}
	worker_envp[n] = NULL;
}

static void
spawn_worker(unsigned max_requests)
{
	static char opt_max[] = "--max-requests", opt_debug[] = "--debug",
		    opt_stderr[] = "--stderr", opt_caps[] = "--caps";
	char maxreq[16];
	char *argv[8];
	struct ipc_worker w;
	struct child *k;
	uint8_t body[16];
	size_t blen;
	sigset_t all;
	int sv[2], argc = 0;
	pid_t pid;

	if ((k = child_slot()) == NULL) {
		log_warnx("worker table full");
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("socketpair");
		return;
	}
	(void)snprintf(maxreq, sizeof(maxreq), "%u", max_requests);
	argv[argc++] = worker_path;
	argv[argc++] = opt_max;
	argv[argc++] = maxreq;
	argv[argc++] = opt_caps;
	argv[argc++] = worker_caps_text;
	if (cfg.verbose)
		argv[argc++] = opt_debug;
	if (cfg.foreground)
		argv[argc++] = opt_stderr;
	argv[argc] = NULL;
	if ((pid = fork()) == -1) {
		log_warn("fork");
		(void)close(sv[0]);
		(void)close(sv[1]);
		return;
	}
	if (pid == 0) {
		sigemptyset(&all);
		(void)sigprocmask(SIG_SETMASK, &all, NULL);
		/* PAM and its helpers get the limit we were started with. */
		(void)setrlimit(RLIMIT_NOFILE, &nofile0);
		child_stdio();
		if (sv[1] == IPC_WORKER_FD) {
			if (fcntl(sv[1], F_SETFD, 0) == -1)
				_exit(127);
		} else if (dup2(sv[1], IPC_WORKER_FD) == -1)
			_exit(127);
		(void)closefrom(IPC_WORKER_FD + 1);
		execve(worker_path, argv, worker_envp);
		_exit(127);
	}
	(void)close(sv[1]);
	k->pid = pid;
	k->id = ++next_worker_id;
	k->killed = 0;
	k->orphan = 0;
	k->up = 0;
	w.id = k->id;
	w.pid = pid;
	blen = ipc_encode_worker(body, sizeof(body), &w);
	if (ipc_send(ctlfd, IPC_PARENT_WORKER, 0, 0, body, blen, sv[0]) == -1)
		log_warn("cannot pass worker %ld to the front", (long)pid);
	/* The front has its own copy now (or the worker sees EOF). */
	(void)close(sv[0]);
	log_debug("spawned PAM worker %ld (id %u)", (long)pid, k->id);
}

static void
start_front(void)
{
	sigset_t all;
	int sv[2], lfd[SASLD_MAX_LISTEN];
	pid_t pid;
	int i, r;

	r = snprintf(
	    chroot_dir, sizeof(chroot_dir), "%s/.front.XXXXXX", cfg.run_dir);
	if (r < 0 || (size_t)r >= sizeof(chroot_dir) ||
	    mkdtemp(chroot_dir) == NULL) {
		log_warn(
		    "cannot create the front's empty root in %s", cfg.run_dir);
		chroot_dir[0] = '\0';
		if (!ever_ready)
			startup_fail(1);
		front_respawn_at = timer_now() + RESPAWN_MAX_MS;
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("socketpair");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		/* Nothing of the parent's but the listener and our end. */
		(void)close(sv[0]);
		if (sigfd != -1)
			(void)close(sigfd);
		if (pidfd != -1)
			(void)close(pidfd);
		if (readyfd != -1)
			(void)close(readyfd);
		if (ctlfd != -1)
			(void)close(ctlfd);
		sigemptyset(&all);
		(void)sigprocmask(SIG_SETMASK, &all, NULL);
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		child_stdio();
		for (i = 0; i < cfg.nlisten; i++)
			lfd[i] = lsocks[i].fd;
		front_main(&cfg, sv[1], lfd, cfg.nlisten, front_pw.pw_uid,
		    front_pw.pw_gid, chroot_dir);
	}
	(void)close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl");
	ctlfd = sv[0];
	front_pid = pid;
	front_ready = 0;
	front_started = timer_now();
	log_debug("started front %ld", (long)pid);
}

static void
kill_workers(int sig, int orphan)
{
	size_t i;

	for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++) {
		if (kids[i].pid == 0)
			continue;
		if (orphan)
			kids[i].orphan = 1;
		kids[i].killed = 1;
		(void)kill(kids[i].pid, sig);
	}
}

static void
front_restart_all(void)
{
	unsigned i;

	start_front();
	if (front_pid == 0)
		return;
	if (cfg.nworkers > 0)
		for (i = 0; i < (unsigned)cfg.nworkers; i++)
			spawn_worker(cfg.max_requests);
}

static unsigned
backoff(unsigned crashes)
{
	unsigned ms = RESPAWN_MIN_MS, i;

	if (crashes == 0)
		return 0;
	for (i = 1; i < crashes && ms < RESPAWN_MAX_MS; i++)
		ms *= 2;
	return ms > RESPAWN_MAX_MS ? RESPAWN_MAX_MS : ms;
}

/*
 * The front made a system call its seccomp filter forbids: a bug, or code
 * running in it that should not. Loud, whatever -d says.
 */
static void
front_seccomp_killed(pid_t pid)
{
	char line[SASLD_LOG_LINE];

	(void)snprintf(line, sizeof(line),
	    "front %ld killed by signal %d (SIGSYS): seccomp stopped a "
	    "forbidden system call (the kernel log names it: audit "
	    "type=1326); restarting it",
	    (long)pid, SIGSYS);
	log_emit(LOG_CRIT, line);
}

static void
reap(void)
{
	struct child *k;
	pid_t pid;
	int status, crashed;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == front_pid) {
			front_pid = 0;
			if (chroot_dir[0] != '\0') {
				(void)rmdir(chroot_dir);
				chroot_dir[0] = '\0';
			}
			if (ctlfd != -1) {
				(void)close(ctlfd);
				ctlfd = -1;
			}
			if (stopping)
				continue;
			if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
				front_seccomp_killed(pid);
			else if (WIFSIGNALED(status))
				log_warnx("front %ld killed by signal %d; "
					  "restarting it",
				    (long)pid, WTERMSIG(status));
			else
				log_warnx("front %ld exited with status %d; "
					  "restarting it",
				    (long)pid, WEXITSTATUS(status));
			if (!ever_ready)
				startup_fail(1);
			/* Its workers' channels died with it. */
			kill_workers(SIGKILL, 1);
			front_crashes++;
			front_respawn_at = timer_now() + backoff(front_crashes);
			continue;
		}
		if ((k = child_find(pid)) == NULL)
			continue;
		crashed = !k->killed &&
		    !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		if (crashed) {
			/*
			 * Back off only for workers that die before they are
			 * up (a broken install): one that dies in a check (a
			 * crashing PAM module) cost that check and is replaced
			 * at once, or a user whose checks crash would empty
			 * the pool for everyone.
			 */
			if (!k->up)
				worker_crashes++;
			if (WIFSIGNALED(status))
				log_warnx("PAM worker %ld killed by signal %d",
				    (long)pid, WTERMSIG(status));
			else
				log_warnx("PAM worker %ld exited with status "
					  "%d",
				    (long)pid, WEXITSTATUS(status));
		} else {
			worker_crashes = 0;
			log_debug("PAM worker %ld exited", (long)pid);
		}
		if (!k->orphan && !stopping && cfg.nworkers > 0) {
			uint64_t at = timer_now() + backoff(worker_crashes);

			if (respawn_at == 0 || at > respawn_at)
				respawn_at = at;
		}
		memset(k, 0, sizeof(*k));
	}
}

static void
front_misbehaved(const char *what)
{
	log_warnx("front %ld: %s; killing it", (long)front_pid, what);
	if (front_pid > 0)
		(void)kill(front_pid, SIGKILL);
}

static void
relay_log(const struct ipc_msg *m)
{
	char line[SASLD_LOG_LINE];
	size_t i, n = m->bodylen;

	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	/* The front built it from sanitized fields; keep control bytes
	 * out of syslog anyway. */
	for (i = 0; i < n; i++) {
		unsigned char ch = m->body[i];

		line[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	line[n] = '\0';
	log_emit(m->flags <= LOG_DEBUG ? m->flags : LOG_INFO, line);
}

static const enum ipc_type front_allow[] = {IPC_FRONT_READY, IPC_FRONT_LOG,
    IPC_FRONT_KILL, IPC_FRONT_SPAWN, IPC_FRONT_WORKER_UP};

static void
front_event(void)
{
	uint8_t buf[IPC_MAX_FRAME];
	struct ipc_msg m;
	uint32_t id;
	size_t i;
	int r;

	for (;;) {
		r = ipc_recv(ctlfd, buf, sizeof(buf), &m);
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r == 0)
			return; /* reaped soon */
		if (r == -1) {
			front_misbehaved("malformed frame");
			return;
		}
		if (m.fd != -1)
			(void)close(m.fd);
		if (!ipc_allowed(m.type, front_allow,
			sizeof(front_allow) / sizeof(front_allow[0]))) {
			front_misbehaved("unexpected frame type");
			return;
		}
		switch (m.type) {
		case IPC_FRONT_READY:
			front_ready = 1;
			front_crashes = 0;
			if (chroot_dir[0] != '\0') {
				/* The front is inside; an unlinked root
				 * cannot be written to. */
				(void)rmdir(chroot_dir);
				chroot_dir[0] = '\0';
			}
			if (!ever_ready)
				report_ready();
			break;
		case IPC_FRONT_LOG:
			relay_log(&m);
			break;
		case IPC_FRONT_KILL:
			if (ipc_decode_u32(m.body, m.bodylen, &id) == -1) {
				front_misbehaved("malformed kill");
				return;
			}
			for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
				if (kids[i].pid != 0 && kids[i].id == id &&
				    !kids[i].orphan) {
					kids[i].killed = 1;
					(void)kill(kids[i].pid, SIGKILL);
				}
			break;
		case IPC_FRONT_WORKER_UP:
			if (ipc_decode_u32(m.body, m.bodylen, &id) == -1) {
				front_misbehaved("malformed worker up");
				return;
			}
			for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
				if (kids[i].pid != 0 && kids[i].id == id &&
				    !kids[i].orphan) {
					kids[i].up = 1;
					worker_crashes = 0;
				}
			break;
		case IPC_FRONT_SPAWN:
			if (cfg.nworkers != 0 ||
			    live_workers() >= (unsigned)cfg.fork_limit) {
				log_warnx("front asked for a worker beyond "
					  "--fork-limit; ignored");
				break;
			}
			spawn_worker(1);
			break;
		default:
			break;
		}
	}
}

static void
begin_stop(int sig)
{
	if (stopping)
		return;
	stopping = 1;
	log_info("signal %d: stopping", sig);
#ifdef HAVE_SYSTEMD
	(void)notify_systemd("STOPPING=1");
#endif
	/* New clients fail at once instead of queueing behind us. */
	close_listeners();
	stop_deadline = timer_now() + cfg.read_timeout_ms +
	    2 * cfg.pam_timeout_ms + cfg.fail_delay_max_ms + SASLD_DRAIN_MS +
	    STOP_WORKERS_MS;
	if (front_pid > 0 && ctlfd != -1 &&
	    ipc_send(ctlfd, IPC_PARENT_SHUTDOWN, 0, 0, NULL, 0, -1) == 0)
		return;
	if (front_pid > 0)
		(void)kill(front_pid, SIGKILL);
}

static void
handle_signal(void)
{
	struct signalfd_siginfo si;
	ssize_t n;

	while ((n = read(sigfd, &si, sizeof(si))) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap();
			break;
		case SIGTERM:
		case SIGINT:
			begin_stop((int)si.ssi_signo);
			break;
		case SIGHUP:
			log_info("SIGHUP: recycling PAM workers");
			if (ctlfd != -1)
				(void)ipc_send(ctlfd, IPC_PARENT_RECYCLE, 0, 0,
				    NULL, 0, -1);
			break;
		case SIGUSR1:
			log_info("parent: %u workers, %u crashes in a row, "
				 "front %ld",
			    live_workers(), worker_crashes, (long)front_pid);
			if (ctlfd != -1)
				(void)ipc_send(
				    ctlfd, IPC_PARENT_STATS, 0, 0, NULL, 0, -1);
			break;
		default:
			break;
		}
	}
}

static void
supervise(void)
{
	struct pollfd pfd[2];
	uint64_t now, wake;
	int timeout, nfds, workers_stopping = 0;
	unsigned n;

	for (;;) {
		now = timer_now();
		if (stopping) {
			if (front_pid == 0 && !workers_stopping) {
				kill_workers(SIGTERM, 1);
				workers_stopping = 1;
				stop_deadline = now + STOP_WORKERS_MS;
			}
			if (front_pid == 0 && all_workers() == 0)
				return;
			if (now >= stop_deadline) {
				if (front_pid > 0)
					(void)kill(front_pid, SIGKILL);
				kill_workers(SIGKILL, 1);
				stop_deadline = now + STOP_WORKERS_MS;
			}
		} else {
			if (front_pid == 0 && now >= front_respawn_at)
				front_restart_all();
			/* front_started may be later than now: a front was
			 * just started above. */
			if (front_pid > 0 && !front_ready &&
			    now > front_started &&
			    now - front_started > FRONT_READY_MS)
				front_misbehaved("not ready in time");
			if (front_pid > 0 && respawn_at != 0 &&
			    now >= respawn_at) {
				respawn_at = 0;
				for (n = live_workers();
				     n < (unsigned)cfg.nworkers; n++)
					spawn_worker(cfg.max_requests);
			}
		}
		wake = 0;
		if (stopping)
			wake = stop_deadline;
		else if (front_pid == 0)
			wake = front_respawn_at;
		else if (respawn_at != 0)
			wake = respawn_at;
		timeout = 1000;
		if (wake != 0)
			timeout = wake <= now
			    ? 0
			    : (int)(wake - now < 1000 ? wake - now : 1000);
		nfds = 0;
		pfd[nfds].fd = sigfd;
		pfd[nfds++].events = POLLIN;
		if (ctlfd != -1) {
			pfd[nfds].fd = ctlfd;
			pfd[nfds++].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)nfds, timeout) == -1 && errno != EINTR)
			fatal("poll");
		/* The front's frames first: a worker's "up" is queued before
		 * it could crash, and must be seen before it is reaped. */
		if (nfds > 1 && ctlfd != -1 &&
		    (pfd[1].revents & (POLLIN | POLLHUP)))
			front_event();
		if (pfd[0].revents & POLLIN)
			handle_signal();
	}
}

int
main(int argc, char *argv[])
{
	struct passwd *pw;
	sigset_t mask;

	/* Descriptors the invoker left open (not ours, possibly on root-only
	 * files) must not reach the unprivileged front. */
	closefrom(STDERR_FILENO + 1);
	switch (config_parse(argc, argv, &cfg)) {
	case CONFIG_EXIT_OK:
		return 0;
	case CONFIG_EXIT_ERR:
		return 1;
	case CONFIG_RUN:
		break;
	}
	if (cfg.check)
		return check_setup(&cfg);
	log_init("saslauthd-ng", 1, cfg.verbose);
	if (geteuid() != 0) {
		log_warnx("must be started as root (PAM needs it; the front "
			  "drops to --user)");
		return 1;
	}
	/* Take what the workers get from the environment, then empty it
	 * and give up every capability the daemon has no use for. */
	worker_env_init();
	privsep_parent_env();
	if (privsep_parent(&cfg.worker_caps, cfg.worker_caps_set) == -1)
		return 1;
	(void)caps_format(
	    cfg.worker_caps, worker_caps_text, sizeof(worker_caps_text));
	if ((pw = getpwnam(cfg.user)) == NULL) {
		log_warnx("--user %s: no such user; create it (adduser "
			  "--system --no-create-home --group %s) or name "
			  "another",
		    cfg.user, cfg.user);
		return 1;
	}
	if (pw->pw_uid == 0) {
		log_warnx(
		    "--user %s is uid 0; the front must not be root", cfg.user);
		return 1;
	}
	front_pw = *pw;
	(void)snprintf(front_user, sizeof(front_user), "%s", cfg.user);
	front_pw.pw_name = front_user;
	if (raise_nofile() == -1)
		return 1;
	find_worker();
	if (!cfg.foreground)
		daemonize();
	if (chdir("/") == -1)
		fatal("chdir /");
	umask(022);
	if (listener_mkdirs(cfg.run_dir) == -1)
		startup_fail(1);
	lock_pidfile();
	open_listeners();

	(void)signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		fatal("sigprocmask");
	if ((sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");

	front_restart_all();
	supervise();
	cleanup();
	log_info("stopped");
	return 0;
}

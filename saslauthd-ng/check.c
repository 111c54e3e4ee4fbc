/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check.c - saslauthd-ng --check (see check.h).
 *
 * What a login through Postfix needs, in the order it is checked:
 *   1. the daemon runs (its pid file is locked);
 *   2. every configured socket exists, accepts, and sits in directories
 *      only root controls;
 *   3. for every smtpd service of master.cf with SMTP AUTH on: with
 *      smtpd_sasl_type = cyrus, an smtpd.conf saying pwcheck_method:
 *      saslauthd with usable mechanisms and a saslauthd_path (default
 *      /var/run/saslauthd/mux) that, resolved inside smtpd's chroot when it
 *      has one, is a socket this daemon serves; with smtpd_sasl_type =
 *      dovecot, a smtpd_sasl_path (relative to the queue directory, e.g.
 *      private/auth) that is a Dovecot socket this daemon serves; either
 *      way one that the mail_owner user (with its supplementary groups)
 *      can connect to, tested for real by a child that does what Postfix's
 *      chroot_uid() does;
 *   4. a PAM service file for the service Postfix names (smtpd_sasl_service).
 * Every problem is printed with the command or line that fixes it.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "listener.h"

#define POSTCONF_OUT_MAX 65536
#define POSTFIX_DEFAULT_SASL_PATH SASLD_LIBSASL2_RUN_DIR "/" SASLD_SOCKET_NAME
#define PAM_DIR "/etc/pam.d"

static int problems;

static void __attribute__((format(printf, 2, 0)))
say(const char *tag, const char *fmt, va_list ap)
{
	fputs(tag, stdout);
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
}

static void __attribute__((format(printf, 1, 2))) ok(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("ok: ", fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 1, 2))) note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("note: ", fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 1, 2))) problem(const char *fmt, ...)
{
	va_list ap;

	problems++;
	va_start(ap, fmt);
	say("PROBLEM: ", fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 1, 2))) fix(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("    fix: ", fmt, ap);
	va_end(ap);
}

/* 0 when something accepts on path, else the errno of connect(). */
static int
try_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd, e = 0;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return errno;
	/* EAGAIN: listening, backlog full - busy, but there. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    errno != EAGAIN)
		e = errno;
	(void)close(fd);
	return e;
}

/*
 * Connect to path as pw, the way Postfix's chroot_uid() sets up smtpd:
 * setgid, initgroups (read from the host's /etc/group), chroot (when root
 * is not NULL), setuid. Returns 0 or the errno that stopped it.
 */
static int
reach_as(const struct passwd *pw, const char *root, const char *path)
{
	pid_t pid;
	int status;

	fflush(stdout);
	if ((pid = fork()) == -1)
		return errno;
	if (pid == 0) {
		if (setgid(pw->pw_gid) == -1 ||
		    initgroups(pw->pw_name, pw->pw_gid) == -1)
			_exit(EPERM);
		if (root != NULL && (chroot(root) == -1 || chdir("/") == -1))
			_exit(ENOENT);
		if (setuid(pw->pw_uid) == -1)
			_exit(EPERM);
		_exit(try_connect(path) & 0xff);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}

static int
in_groups(gid_t g, const gid_t *groups, int ngroups)
{
	int i;

	for (i = 0; i < ngroups; i++)
		if (groups[i] == g)
			return 1;
	return 0;
}

static const char *
group_name(gid_t g, char *buf, size_t n)
{
	struct group *gr;

	if ((gr = getgrgid(g)) != NULL)
		(void)snprintf(buf, n, "%s", gr->gr_name);
	else
		(void)snprintf(buf, n, "%lu", (unsigned long)g);
	return buf;
}

/*
 * Explain an EACCES for pw on host_path: find the first directory it
 * cannot search (or the socket it cannot write) and print the fix. The
 * chain starts at root (the jail) when there is one: above it is not
 * smtpd's business.
 */
static void
explain_denied(const struct passwd *pw, const char *root, const char *host_path)
{
	char path[PATH_MAX], gname[64];
	gid_t groups[256];
	int ngroups = 256, last;
	struct stat st;
	mode_t need;
	size_t i, n, start;

	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &ngroups) == -1)
		ngroups = 0;
	n = strlen(host_path);
	start = root != NULL ? strlen(root) : 0;
	if (n >= sizeof(path))
		return;
	for (i = start; i <= n; i++) {
		if (host_path[i] != '/' && host_path[i] != '\0')
			continue;
		last = host_path[i] == '\0';
		memcpy(path, host_path, i);
		path[i == 0 ? 1 : i] = '\0';
		if (i == 0)
			path[0] = '/';
		if (stat(path, &st) == -1)
			return;
		need = last ? S_IWUSR : S_IXUSR; /* owner bit, shifted below */
		if (st.st_uid == pw->pw_uid) {
			if (st.st_mode & need)
				continue;
		} else if (in_groups(st.st_gid, groups, ngroups)) {
			if (st.st_mode & (need >> 3))
				continue;
		} else if (st.st_mode & (need >> 6))
			continue;
		group_name(st.st_gid, gname, sizeof(gname));
		problem("%s (owner %lu, group %s, mode %04o) does not let "
			"user %s %s",
		    path, (unsigned long)st.st_uid, gname,
		    (unsigned)(st.st_mode & 07777), pw->pw_name,
		    last ? "connect" : "reach the socket");
		if (!last && (st.st_mode & (need >> 3)) &&
		    !in_groups(st.st_gid, groups, ngroups))
			fix("adduser %s %s   (then: postfix reload, so new "
			    "smtpd processes get the group)",
			    pw->pw_name, gname);
		else if (!last)
			fix("chgrp %s %s && chmod 0710 %s   (and: adduser %s "
			    "%s)",
			    SASLD_SASL_GROUP, path, path, pw->pw_name,
			    SASLD_SASL_GROUP);
		else
			fix("restart saslauthd-ng without a restrictive "
			    "mode= on this socket (the directory does the "
			    "access control)");
		return;
	}
	problem("user %s cannot connect to %s (permission denied)", pw->pw_name,
	    host_path);
}

static int daemon_running;

static void
check_daemon(const struct config *cfg)
{
	struct flock fl;
	int fd;

	fd = open(cfg->pid_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	daemon_running =
	    fd != -1 && fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	if (daemon_running)
		ok("saslauthd-ng is running (pid %ld, pid file %s)",
		    (long)fl.l_pid, cfg->pid_path);
	else {
		problem("saslauthd-ng is not running (no locked pid file %s)",
		    cfg->pid_path);
		fix("start it with the options given to this check, without "
		    "--check (systemctl start saslauthd-ng, or "
		    "/etc/init.d/saslauthd-ng start)");
	}
	if (fd != -1)
		(void)close(fd);
}

static void
socket_dir(const char *path, char *dir, size_t n)
{
	char *slash;

	(void)snprintf(dir, n, "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL)
		slash[slash == dir ? 1 : 0] = '\0';
}

static void
check_listener(const struct listen_spec *l)
{
	char dir[PATH_MAX], why[PATH_MAX + 64], gname[64];
	struct stat st;
	int e;

	socket_dir(l->path, dir, sizeof(dir));
	if (listener_dir_trusted(dir, l->uid, why, sizeof(why)) == 0) {
		problem("%s: %s: whoever controls it can put their own socket "
			"there and be sent passwords",
		    l->path, why);
		fix("make every directory above %s root-owned and not "
		    "writable by group or others (chown root DIR; chmod go-w "
		    "DIR)",
		    l->path);
	}
	if (lstat(l->path, &st) == -1) {
		problem("%s (%s): no socket there (%s)", l->path, l->origin,
		    strerror(errno));
		if (daemon_running)
			fix("the running saslauthd-ng was started without "
			    "this socket: restart it with %s",
			    l->origin);
		else
			fix("start saslauthd-ng (see above)");
		return;
	}
	if (!S_ISSOCK(st.st_mode)) {
		problem(
		    "%s (%s) exists but is not a socket", l->path, l->origin);
		fix("remove it (rm %s) and restart saslauthd-ng", l->path);
		return;
	}
	if ((e = try_connect(l->path)) != 0) {
		problem("%s (%s): nothing accepts connections (%s): a stale "
			"socket",
		    l->path, l->origin, strerror(e));
		fix("start saslauthd-ng (it removes a stale socket itself)");
		return;
	}
	ok("%s (%s) accepts connections (socket mode %04o, group %s)", l->path,
	    l->origin, (unsigned)(st.st_mode & 07777),
	    group_name(st.st_gid, gname, sizeof(gname)));
}

/*
 * Run postconf with args (and -c DIR when --postfix-config was given);
 * its stdout into out. Returns 0, or -1 when postconf is missing or fails.
 */
static int
postconf(
    const struct config *cfg, const char *const *args, char *out, size_t outsz)
{
	const char *argv[16];
	int p[2], n = 0, status, i;
	size_t len = 0;
	ssize_t r;
	pid_t pid;

	argv[n++] = "postconf";
	if (cfg->postfix_config[0] != '\0') {
		argv[n++] = "-c";
		argv[n++] = cfg->postfix_config;
	}
	for (i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	fflush(stdout);
	if ((pid = fork()) == -1) {
		(void)close(p[0]);
		(void)close(p[1]);
		return -1;
	}
	if (pid == 0) {
		(void)dup2(p[1], STDOUT_FILENO);
		/* Its complaints would be noise: our own message says it. */
		if ((i = open("/dev/null", O_WRONLY)) != -1)
			(void)dup2(i, STDERR_FILENO);
		execvp("postconf", (char *const *)argv);
		execv("/usr/sbin/postconf", (char *const *)argv);
		_exit(127);
	}
	(void)close(p[1]);
	while ((r = read(p[0], out + len, outsz - 1 - len)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)r;
		if (len == outsz - 1)
			break;
	}
	out[len] = '\0';
	(void)close(p[0]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Next line of *s (NUL-terminated in place), or NULL at the end. */
static char *
next_line(char **s)
{
	char *line = *s, *nl;

	if (line == NULL || *line == '\0')
		return NULL;
	if ((nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		*s = nl + 1;
	} else
		*s = NULL;
	return line;
}

struct postfix {
	char queue_dir[PATH_MAX];
	char config_dir[PATH_MAX];
	char auth_enable[16];
	char sasl_type[32];
	char sasl_path[256];
	char sasl_config_path[PATH_MAX];
	char sasl_service[64];
	char mail_owner[64];
	char master[POSTCONF_OUT_MAX];
};

/* One smtpd service of master.cf, with its -o overrides applied. */
struct smtpd_svc {
	char name[128];
	int chroot;
	char auth_enable[16];
	char sasl_type[32];
	char sasl_path[256];
	char sasl_config_path[PATH_MAX];
	char sasl_service[64];
};

static int
read_postfix(const struct config *cfg, struct postfix *pf)
{
	static const char *const params[] = {"-h", "queue_directory",
	    "config_directory", "smtpd_sasl_auth_enable", "smtpd_sasl_type",
	    "smtpd_sasl_path", "cyrus_sasl_config_path", "smtpd_sasl_service",
	    "mail_owner", NULL};
	static const char *const master[] = {"-M", NULL};
	char out[POSTCONF_OUT_MAX], *s = out, *line;
	struct {
		char *dst;
		size_t n;
	} dst[] = {
	    {pf->queue_dir, sizeof(pf->queue_dir)},
	    {pf->config_dir, sizeof(pf->config_dir)},
	    {pf->auth_enable, sizeof(pf->auth_enable)},
	    {pf->sasl_type, sizeof(pf->sasl_type)},
	    {pf->sasl_path, sizeof(pf->sasl_path)},
	    {pf->sasl_config_path, sizeof(pf->sasl_config_path)},
	    {pf->sasl_service, sizeof(pf->sasl_service)},
	    {pf->mail_owner, sizeof(pf->mail_owner)},
	};
	size_t i;

	memset(pf, 0, sizeof(*pf));
	if (postconf(cfg, params, out, sizeof(out)) == -1 ||
	    postconf(cfg, master, pf->master, sizeof(pf->master)) == -1)
		return -1;
	for (i = 0; i < sizeof(dst) / sizeof(dst[0]); i++) {
		if ((line = next_line(&s)) == NULL)
			return -1;
		(void)snprintf(dst[i].dst, dst[i].n, "%s", line);
	}
	return 0;
}

/* Apply "-o name=value" of a master.cf command line to svc. */
static void
apply_override(struct smtpd_svc *svc, const char *nv)
{
	const char *v = strchr(nv, '=');
	size_t k;

	if (v == NULL)
		return;
	k = (size_t)(v - nv);
	v++;
#define OVERRIDE(name, field)                                                  \
	if (k == strlen(name) && strncmp(nv, name, k) == 0)                    \
	(void)snprintf(svc->field, sizeof(svc->field), "%s", v)
	OVERRIDE("smtpd_sasl_auth_enable", auth_enable);
	OVERRIDE("smtpd_sasl_type", sasl_type);
	OVERRIDE("smtpd_sasl_path", sasl_path);
	OVERRIDE("cyrus_sasl_config_path", sasl_config_path);
	OVERRIDE("smtpd_sasl_service", sasl_service);
#undef OVERRIDE
}

/*
 * Parse one `postconf -M` line (name type private unpriv chroot wakeup
 * maxproc command args...) into svc when it is an inet smtpd service.
 */
static int
parse_master_line(char *line, const struct postfix *pf, struct smtpd_svc *svc)
{
	char *f[8], *save = NULL, *tok, *prev = NULL;
	int n = 0;

	for (tok = strtok_r(line, " \t", &save); tok != NULL && n < 8;
	     tok = strtok_r(NULL, " \t", &save))
		f[n++] = tok;
	if (n < 8 || strcmp(f[1], "inet") != 0 || strcmp(f[7], "smtpd") != 0)
		return 0;
	memset(svc, 0, sizeof(*svc));
	(void)snprintf(svc->name, sizeof(svc->name), "%s/%s", f[0], f[1]);
	/* '-' is the built-in default, n since Postfix 3.0. */
	svc->chroot = strcmp(f[4], "y") == 0;
	(void)snprintf(
	    svc->auth_enable, sizeof(svc->auth_enable), "%s", pf->auth_enable);
	(void)snprintf(
	    svc->sasl_type, sizeof(svc->sasl_type), "%s", pf->sasl_type);
	(void)snprintf(
	    svc->sasl_path, sizeof(svc->sasl_path), "%s", pf->sasl_path);
	(void)snprintf(svc->sasl_config_path, sizeof(svc->sasl_config_path),
	    "%s", pf->sasl_config_path);
	(void)snprintf(svc->sasl_service, sizeof(svc->sasl_service), "%s",
	    pf->sasl_service);
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		if (prev != NULL && strcmp(prev, "-o") == 0)
			apply_override(svc, tok);
		else if (strncmp(tok, "-o", 2) == 0 && tok[2] != '\0')
			apply_override(svc, tok + 2);
		prev = tok;
	}
	return 1;
}

struct sasl_conf {
	char file[PATH_MAX];
	char pwcheck[256];
	char mech_list[256];
	char saslauthd_path[PATH_MAX];
	int has_pwcheck, has_mech_list, has_path;
};

/* "key: value" lines, '#' comments, as libsasl2's config reader. */
static void
parse_sasl_conf(FILE *fp, struct sasl_conf *sc)
{
	char line[1024], *k, *v, *e;

	while (fgets(line, sizeof(line), fp) != NULL) {
		k = line;
		while (isspace((unsigned char)*k))
			k++;
		if (*k == '#' || *k == '\0' || (v = strchr(k, ':')) == NULL)
			continue;
		*v++ = '\0';
		while (isspace((unsigned char)*v))
			v++;
		e = v + strlen(v);
		while (e > v && isspace((unsigned char)e[-1]))
			*--e = '\0';
#define KEY(name, field, flag)                                                 \
	if (strcmp(k, name) == 0) {                                            \
		(void)snprintf(sc->field, sizeof(sc->field), "%s", v);         \
		sc->flag = 1;                                                  \
	}
		KEY("pwcheck_method", pwcheck, has_pwcheck)
		KEY("mech_list", mech_list, has_mech_list)
		KEY("saslauthd_path", saslauthd_path, has_path)
#undef KEY
	}
}

/*
 * Find and read NAME.conf the way smtpd's libsasl2 does: the directories
 * of cyrus_sasl_config_path, else Postfix's CONFIG_DIR/sasl (Debian) and
 * libsasl2's defaults. Returns 0 when found.
 */
static int
find_sasl_conf(const struct postfix *pf, const struct smtpd_svc *svc,
    struct sasl_conf *sc, char *searched, size_t searchedsz)
{
	char dirs[PATH_MAX * 2], *d, *save = NULL;
	FILE *fp;
	int r;

	memset(sc, 0, sizeof(*sc));
	if (svc->sasl_config_path[0] != '\0')
		(void)snprintf(dirs, sizeof(dirs), "%s", svc->sasl_config_path);
	else
		(void)snprintf(dirs, sizeof(dirs),
		    "%s/sasl:/etc/sasl2:/etc/sasl:/usr/lib/sasl2",
		    pf->config_dir);
	(void)snprintf(searched, searchedsz, "%s", dirs);
	for (d = strtok_r(dirs, ":", &save); d != NULL;
	     d = strtok_r(NULL, ":", &save)) {
		r = snprintf(sc->file, sizeof(sc->file), "%s/%s.conf", d,
		    svc->sasl_path);
		if (r < 0 || (size_t)r >= sizeof(sc->file))
			continue;
		if ((fp = fopen(sc->file, "re")) == NULL)
			continue;
		parse_sasl_conf(fp, sc);
		(void)fclose(fp);
		return 0;
	}
	return -1;
}

/* Whether a space-separated list has word (case-insensitive). */
static int
has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (strncasecmp(p, word, n) == 0 &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == '\t' ||
			p[n] == ','))
			return 1;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != ',')
			p++;
	}
	return 0;
}

/* Whether host_path is one of the sockets this configuration serves. */
static const struct listen_spec *
served_by(const struct config *cfg, const char *host_path)
{
	struct stat a, b;
	int i;

	for (i = 0; i < cfg->nlisten; i++) {
		if (strcmp(cfg->listen[i].path, host_path) == 0)
			return &cfg->listen[i];
		/* /var/run is usually a symlink to /run. */
		if (stat(cfg->listen[i].path, &a) == 0 &&
		    stat(host_path, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			return &cfg->listen[i];
	}
	return NULL;
}

static void
check_sasl_conf(const struct sasl_conf *sc)
{
	if (!sc->has_pwcheck || !has_word(sc->pwcheck, "saslauthd")) {
		problem("%s: pwcheck_method is '%s': libsasl2 will not ask "
			"saslauthd",
		    sc->file, sc->has_pwcheck ? sc->pwcheck : "(not set)");
		fix("put this line in %s:  pwcheck_method: saslauthd",
		    sc->file);
	} else
		ok("%s: pwcheck_method: %s", sc->file, sc->pwcheck);
	if (!sc->has_mech_list) {
		note("%s has no mech_list: libsasl2 offers every installed "
		     "mechanism, and those other than PLAIN and LOGIN cannot "
		     "be checked through saslauthd",
		    sc->file);
		fix("put this line in %s:  mech_list: PLAIN LOGIN", sc->file);
	} else if (!has_word(sc->mech_list, "PLAIN") &&
	    !has_word(sc->mech_list, "LOGIN")) {
		problem("%s: mech_list '%s' has neither PLAIN nor LOGIN, the "
			"only mechanisms saslauthd can check",
		    sc->file, sc->mech_list);
		fix("put this line in %s:  mech_list: PLAIN LOGIN", sc->file);
	} else
		ok("%s: mech_list: %s", sc->file, sc->mech_list);
}

/* The socket path a service's libsasl2 will connect to, on the host. */
static int
service_socket(const struct postfix *pf, const struct smtpd_svc *svc,
    const struct sasl_conf *sc, char *host_path, size_t n)
{
	const char *p =
	    sc->has_path ? sc->saslauthd_path : POSTFIX_DEFAULT_SASL_PATH;
	char full[PATH_MAX];
	struct stat st;
	int r;

	r = snprintf(
	    full, sizeof(full), "%s%s", svc->chroot ? pf->queue_dir : "", p);
	if (r < 0 || (size_t)r >= sizeof(full))
		return -1;
	if (sc->has_path && stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
		problem("%s: saslauthd_path: %s is a directory; libsasl2 "
			"connects to exactly this path",
		    sc->file, p);
		fix("put this line in %s:  saslauthd_path: %s/%s   (or "
		    "remove the line: the default %s is right for a "
		    "chrooted smtpd with --postfix-chroot)",
		    sc->file, p, SASLD_SOCKET_NAME, POSTFIX_DEFAULT_SASL_PATH);
		return -1;
	}
	if (sc->has_path) {
		r = (int)strlen(p);
		if (r < 4 || strcmp(p + r - 4, "/" SASLD_SOCKET_NAME) != 0)
			note("%s: saslauthd_path %s does not end in /%s, the "
			     "name saslauthd gives its socket",
			    sc->file, p, SASLD_SOCKET_NAME);
	}
	(void)snprintf(host_path, n, "%s", full);
	return 0;
}

/* Connect as owner the way smtpd would, and report. */
static void
check_reach(const struct postfix *pf, const struct smtpd_svc *svc,
    const struct passwd *owner, const struct listen_spec *l, const char *sock,
    const char *host_path)
{
	int e;

	e = reach_as(owner, svc->chroot ? pf->queue_dir : NULL, sock);
	if (e == 0)
		ok("%s: user %s reaches %s (%s) and saslauthd-ng accepts",
		    svc->name, owner->pw_name, host_path, l->origin);
	else if (e == EACCES)
		explain_denied(
		    owner, svc->chroot ? pf->queue_dir : NULL, host_path);
	else if (e == ENOENT)
		problem("%s: no socket at %s (saslauthd-ng not running, or "
			"without %s)",
		    svc->name, host_path, l->origin);
	else {
		problem("%s: user %s cannot connect to %s: %s", svc->name,
		    owner->pw_name, host_path, strerror(e));
		if (e == ECONNREFUSED)
			fix("start saslauthd-ng");
	}
}

/*
 * smtpd_sasl_type = dovecot: smtpd connects to smtpd_sasl_path itself,
 * "unix:" optional, relative to the queue directory (where every Postfix
 * daemon runs, chrooted or not), absolute inside the jail when chrooted.
 */
static void
check_dovecot_service(const struct config *cfg, const struct postfix *pf,
    const struct smtpd_svc *svc, const struct passwd *owner)
{
	char host_path[PATH_MAX], sock[PATH_MAX];
	const struct listen_spec *l;
	const char *p = svc->sasl_path;
	int r;

	if (strncmp(p, "inet:", 5) == 0) {
		problem("%s: smtpd_sasl_path = %s is a TCP address; "
			"saslauthd-ng serves UNIX sockets",
		    svc->name, p);
		fix("postconf -e smtpd_sasl_path=" SASLD_POSTFIX_DOVECOT_SOCKET
		    " and run saslauthd-ng with --postfix-chroot "
		    "--postfix-dovecot");
		return;
	}
	if (strncmp(p, "unix:", 5) == 0)
		p += 5;
	if (p[0] == '\0' || strcmp(p, "smtpd") == 0) {
		problem("%s: smtpd_sasl_path = %s: with smtpd_sasl_type = "
			"dovecot it names the auth socket (\"smtpd\" is the "
			"Cyrus default)",
		    svc->name, svc->sasl_path);
		fix("postconf -e smtpd_sasl_path=" SASLD_POSTFIX_DOVECOT_SOCKET
		    " and run saslauthd-ng with --postfix-chroot "
		    "--postfix-dovecot");
		return;
	}
	if (p[0] == '/')
		r = snprintf(host_path, sizeof(host_path), "%s%s",
		    svc->chroot ? pf->queue_dir : "", p);
	else
		r = snprintf(
		    host_path, sizeof(host_path), "%s/%s", pf->queue_dir, p);
	if (r < 0 || (size_t)r >= sizeof(host_path))
		return;
	/* What the child connects to: smtpd's own view, or the host's. */
	(void)snprintf(sock, sizeof(sock), "%s", svc->chroot ? p : host_path);
	if ((l = served_by(cfg, host_path)) == NULL) {
		problem("%s: smtpd connects to %s, which is %s, and "
			"saslauthd-ng does not serve it with these options",
		    svc->name, svc->sasl_path, host_path);
		if (strcmp(p, SASLD_POSTFIX_DOVECOT_SOCKET) == 0)
			fix("run saslauthd-ng with --postfix-chroot%s%s "
			    "--postfix-dovecot",
			    strcmp(pf->queue_dir, SASLD_POSTFIX_SPOOL) == 0
				? ""
				: "=",
			    strcmp(pf->queue_dir, SASLD_POSTFIX_SPOOL) == 0
				? ""
				: pf->queue_dir);
		else
			fix("run saslauthd-ng with --listen "
			    "dovecot:%s,owner=%s,"
			    "group=%s,mode=0660",
			    host_path,
			    owner != NULL ? owner->pw_name : "postfix",
			    owner != NULL ? owner->pw_name : "postfix");
		return;
	}
	if (l->proto != LISTEN_DOVECOT) {
		problem("%s: %s (%s) speaks the saslauthd protocol, but "
			"smtpd_sasl_type = dovecot needs the Dovecot one",
		    svc->name, host_path, l->origin);
		fix("serve it as --listen dovecot:%s (or --postfix-dovecot "
		    "for %s)",
		    host_path, SASLD_POSTFIX_DOVECOT_SOCKET);
		return;
	}
	if (owner != NULL)
		check_reach(pf, svc, owner, l, sock, host_path);
}

static void
check_service(const struct config *cfg, const struct postfix *pf,
    const struct smtpd_svc *svc, const struct passwd *owner)
{
	char host_path[PATH_MAX], searched[PATH_MAX * 2];
	const struct listen_spec *l;
	struct sasl_conf sc;
	const char *sock;

	printf("smtpd service %s: %s, SMTP AUTH %s, smtpd_sasl_type %s\n",
	    svc->name,
	    svc->chroot ? "chrooted in the queue directory" : "not chrooted",
	    svc->auth_enable, svc->sasl_type);
	if (strcmp(svc->sasl_type, "dovecot") == 0) {
		check_dovecot_service(cfg, pf, svc, owner);
		return;
	}
	if (strcmp(svc->sasl_type, "cyrus") != 0) {
		problem("%s: smtpd_sasl_type = %s: neither cyrus nor dovecot, "
			"so smtpd never asks saslauthd-ng",
		    svc->name, svc->sasl_type);
		fix("postconf -e smtpd_sasl_type=cyrus   (or "
		    "smtpd_sasl_type=dovecot "
		    "smtpd_sasl_path=" SASLD_POSTFIX_DOVECOT_SOCKET
		    " with --postfix-dovecot)");
		return;
	}
	if (find_sasl_conf(pf, svc, &sc, searched, sizeof(searched)) == -1) {
		problem("%s: no %s.conf in %s: libsasl2 does not know to ask "
			"saslauthd",
		    svc->name, svc->sasl_path, searched);
		fix("create %s/sasl/%s.conf with the lines  pwcheck_method: "
		    "saslauthd  and  mech_list: PLAIN LOGIN",
		    pf->config_dir, svc->sasl_path);
		return;
	}
	check_sasl_conf(&sc);
	if (service_socket(pf, svc, &sc, host_path, sizeof(host_path)) == -1)
		return;
	sock = sc.has_path ? sc.saslauthd_path : POSTFIX_DEFAULT_SASL_PATH;
	if ((l = served_by(cfg, host_path)) == NULL) {
		problem("%s: smtpd connects to %s%s, which is %s, and "
			"saslauthd-ng does not serve it with these options",
		    svc->name, sock, svc->chroot ? " inside its chroot" : "",
		    host_path);
		if (svc->chroot && !sc.has_path)
			fix("run saslauthd-ng with --postfix-chroot%s%s",
			    strcmp(pf->queue_dir, SASLD_POSTFIX_SPOOL) == 0
				? ""
				: "=",
			    strcmp(pf->queue_dir, SASLD_POSTFIX_SPOOL) == 0
				? ""
				: pf->queue_dir);
		else
			fix("run saslauthd-ng with --listen saslauthd:%s",
			    host_path);
		return;
	}
	if (l->proto != LISTEN_SASLAUTHD) {
		problem("%s: %s (%s) speaks the Dovecot protocol, but "
			"smtpd_sasl_type = cyrus needs the saslauthd one",
		    svc->name, host_path, l->origin);
		fix("postconf -e smtpd_sasl_type=dovecot "
		    "smtpd_sasl_path=" SASLD_POSTFIX_DOVECOT_SOCKET
		    "   (or serve %s as --listen saslauthd:)",
		    host_path);
		return;
	}
	if (owner != NULL)
		check_reach(pf, svc, owner, l, sock, host_path);
}

/* The PAM service file for name (--pam-service wins), once per name. */
static void
check_pam_service(const struct config *cfg, const char *name)
{
	static char done[8][SASLD_MAX_SERVICE + 1];
	static int ndone;
	char path[PATH_MAX], line[512];
	int i, denies = 0;
	FILE *fp;

	if (cfg->pam_service[0] != '\0')
		name = cfg->pam_service;
	for (i = 0; i < ndone; i++)
		if (strcmp(done[i], name) == 0)
			return;
	if (ndone < 8)
		(void)snprintf(done[ndone++], sizeof(done[0]), "%s", name);
	if (!proto_valid_service((const uint8_t *)name, strlen(name))) {
		problem("PAM service '%s' is not a plain file name; "
			"saslauthd-ng refuses it",
		    name);
		fix("postconf -e smtpd_sasl_service=smtp");
		return;
	}
	(void)snprintf(path, sizeof(path), "%s/%s", PAM_DIR, name);
	if (access(path, R_OK) == 0) {
		ok("PAM service %s: %s", name, path);
		return;
	}
	if ((fp = fopen(PAM_DIR "/other", "re")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL)
			if (line[strspn(line, " \t")] != '#' &&
			    strstr(line, "pam_deny") != NULL)
				denies = 1;
		(void)fclose(fp);
		if (!denies) {
			note("no %s: PAM uses %s/other for service %s", path,
			    PAM_DIR, name);
			fix("give the service its own stack: printf "
			    "'@include common-auth\\n@include "
			    "common-account\\n' > %s",
			    path);
			return;
		}
	}
	problem("no PAM service file %s (and %s/other %s): every login "
		"for service %s fails",
	    path, PAM_DIR, denies ? "denies" : "is missing", name);
	fix("printf '@include common-auth\\n@include common-account\\n' > "
	    "%s   (or: cp %s/examples/pam.d/saslauthd-ng.example %s)",
	    path, "/usr/share/doc/saslauthd-ng", path);
}

static void
check_postfix(const struct config *cfg)
{
	static struct postfix pf;
	struct smtpd_svc svc;
	struct passwd *pw, owner;
	char owner_name[64], *s, *line;
	int nsvc = 0, nauth = 0;

	if (read_postfix(cfg, &pf) == -1) {
		if (cfg->postfix_config[0] != '\0')
			problem("postconf -c %s failed: no Postfix "
				"configuration there",
			    cfg->postfix_config);
		else
			note("Postfix is not installed (no postconf) or "
			     "not configured: only the sockets were checked");
		return;
	}
	ok("Postfix: configuration %s, queue directory %s", pf.config_dir,
	    pf.queue_dir);
	if (cfg->postfix_dir[0] != '\0' &&
	    strcmp(cfg->postfix_dir, pf.queue_dir) != 0) {
		problem("--postfix-chroot=%s, but Postfix's queue_directory "
			"(where smtpd chroots) is %s",
		    cfg->postfix_dir, pf.queue_dir);
		fix("run saslauthd-ng with --postfix-chroot=%s", pf.queue_dir);
	}
	if ((pw = getpwnam(pf.mail_owner)) == NULL) {
		problem(
		    "Postfix's mail_owner %s does not exist", pf.mail_owner);
		return;
	}
	owner = *pw;
	(void)snprintf(owner_name, sizeof(owner_name), "%s", pw->pw_name);
	owner.pw_name = owner_name;
	s = pf.master;
	while ((line = next_line(&s)) != NULL) {
		if (!parse_master_line(line, &pf, &svc))
			continue;
		nsvc++;
		if (strcmp(svc.auth_enable, "yes") != 0) {
			printf("smtpd service %s: SMTP AUTH off "
			       "(smtpd_sasl_auth_enable = %s)\n",
			    svc.name, svc.auth_enable);
			continue;
		}
		nauth++;
		check_service(cfg, &pf, &svc, &owner);
		check_pam_service(cfg, svc.sasl_service);
	}
	if (nsvc == 0)
		note("master.cf has no inet smtpd service");
	else if (nauth == 0) {
		problem("no smtpd service has SMTP AUTH on");
		fix("postconf -e smtpd_sasl_auth_enable=yes   (or -o "
		    "smtpd_sasl_auth_enable=yes on the submission service "
		    "in master.cf), then postfix reload");
	}
}

int
check_setup(const struct config *cfg)
{
	int i;

	if (geteuid() != 0) {
		fprintf(stderr,
		    "saslauthd-ng: --check needs root (it reads Postfix's "
		    "configuration and connects as the postfix user)\n");
		return 1;
	}
	printf("saslauthd-ng " SASLD_VERSION " --check\n");
	check_daemon(cfg);
	for (i = 0; i < cfg->nlisten; i++)
		check_listener(&cfg->listen[i]);
	if (getgrnam(SASLD_SASL_GROUP) == NULL)
		note("there is no group %s: socket directories are made "
		     "root:root, which only root can pass",
		    SASLD_SASL_GROUP);
	check_postfix(cfg);
	if (cfg->pam_service[0] != '\0')
		check_pam_service(cfg, cfg->pam_service);
	if (problems > 0) {
		printf("%d problem%s: logins through saslauthd-ng fail until "
		       "%s fixed\n",
		    problems, problems == 1 ? "" : "s",
		    problems == 1 ? "it is" : "they are");
		return 1;
	}
	printf("no problems: a login would reach saslauthd-ng and PAM\n");
	return 0;
}

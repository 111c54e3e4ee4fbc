/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.c - command line parsing for saslauthd-ng (see config.h). Accepts
 * every flag Debian's saslauthd takes so existing /etc/default files and
 * units keep working; unlike Cyrus, a bad option or a missing -a exits 1.
 *
 * SECURITY: runs in the root parent before anything else. Numbers go
 * through strtol with full checks, never atoi; paths are checked against
 * sun_path and PATH_MAX instead of being truncated.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cache.h"
#include "caps.h"
#include "config.h"
#include "proto_saslauthd.h"

enum {
	OPT_USER = 256,
	OPT_PAM_TIMEOUT,
	OPT_MAX_REQUESTS,
	OPT_MAX_FIELD,
	OPT_PAM_SERVICE,
	OPT_MAX_CONNS,
	OPT_READ_TIMEOUT,
	OPT_FORK_LIMIT,
	OPT_LISTEN,
	OPT_POSTFIX_CHROOT,
	OPT_POSTFIX_CONFIG,
	OPT_CHECK,
	OPT_MAX_CONNS_PER_UID,
	OPT_ALLOW_UID,
	OPT_ALLOW_GID,
	OPT_POSTFIX_DOVECOT,
	OPT_DOVECOT_SECURED,
	OPT_WORKER_CAPS,
	OPT_WORKER_ENV,
	OPT_CACHE_REVALIDATE,
	OPT_FAIL_DELAY_MAX,
	OPT_FAIL_LIMIT,
};

static const struct option long_opts[] = {
    {"foreground", no_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'v'},
    {"user", required_argument, NULL, OPT_USER},
    {"pam-timeout", required_argument, NULL, OPT_PAM_TIMEOUT},
    {"max-requests", required_argument, NULL, OPT_MAX_REQUESTS},
    {"max-field", required_argument, NULL, OPT_MAX_FIELD},
    {"pam-service", required_argument, NULL, OPT_PAM_SERVICE},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNS},
    {"read-timeout", required_argument, NULL, OPT_READ_TIMEOUT},
    {"fork-limit", required_argument, NULL, OPT_FORK_LIMIT},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"postfix-chroot", optional_argument, NULL, OPT_POSTFIX_CHROOT},
    {"postfix-config", required_argument, NULL, OPT_POSTFIX_CONFIG},
    {"check", no_argument, NULL, OPT_CHECK},
    {"max-connections-per-uid", required_argument, NULL, OPT_MAX_CONNS_PER_UID},
    {"allow-uid", required_argument, NULL, OPT_ALLOW_UID},
    {"allow-gid", required_argument, NULL, OPT_ALLOW_GID},
    {"postfix-dovecot", no_argument, NULL, OPT_POSTFIX_DOVECOT},
    {"dovecot-require-secured", no_argument, NULL, OPT_DOVECOT_SECURED},
    {"worker-caps", required_argument, NULL, OPT_WORKER_CAPS},
    {"worker-env", required_argument, NULL, OPT_WORKER_ENV},
    {"cache-revalidate", required_argument, NULL, OPT_CACHE_REVALIDATE},
    {"fail-delay-max", required_argument, NULL, OPT_FAIL_DELAY_MAX},
    {"fail-limit", required_argument, NULL, OPT_FAIL_LIMIT},
    {NULL, 0, NULL, 0},
};

/* Mechanisms Cyrus knows; named so the error says why they are refused. */
static const char *const cyrus_mechs[] = {"getpwent", "kerberos5", "rimap",
    "sasldb", "shadow", "ldap", "httpform", "dce", "sia", NULL};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: saslauthd-ng -a pam [-dfrlcvVh] [-m DIR] [-n N] [-t SEC] "
	    "[-s KB] [-O OPT]\n"
	    "                    [--user NAME] [--pam-timeout SEC] "
	    "[--max-requests N] ...\n"
	    "\n"
	    "Cyrus saslauthd options:\n"
	    "  -a pam       authentication mechanism (required; only pam)\n"
	    "  -m DIR       run directory: socket DIR/mux, pid file "
	    "DIR/saslauthd.pid\n"
	    "               (default " SASLD_DEFAULT_RUN_DIR ")\n"
	    "  -n N         PAM worker processes (default %d); 0 = a fresh\n"
	    "               worker for every request (at most --fork-limit "
	    "at once)\n"
	    "  -r           use login@realm as the PAM user when the realm "
	    "is set\n"
	    "  -d           debug: verbose logging, stay in the foreground, "
	    "log to stderr\n"
	    "  -f           stay in the foreground (also --foreground)\n"
	    "  -V           verbose logging\n"
	    "  -c           cache PAM successes in the front (a keyed "
	    "hash, never the\n"
	    "               password); see --cache-revalidate\n"
	    "  -t SEC       cache entry lifetime (default %d)\n"
	    "  -s KB        cache size in KiB, %d bytes an entry "
	    "(default %d)\n"
	    "  -l           accept lock: accepted, no effect (the front "
	    "accepts)\n"
	    "  -O OPT       mechanism option: accepted, ignored by pam\n"
	    "  -v           print version and mechanisms, exit\n"
	    "  -h           this help\n"
	    "\n"
	    "saslauthd-ng options:\n"
	    "  --user NAME          unprivileged user of the front process "
	    "(default " SASLD_DEFAULT_USER ")\n"
	    "  --pam-timeout SEC    deadline of one PAM check; past it the "
	    "client gets NO\n"
	    "                       and the worker is killed (default %d)\n"
	    "  --max-requests N     recycle a worker after N checks "
	    "(default %d)\n"
	    "  --max-field N        longest request field in bytes "
	    "(default %d, Cyrus 256)\n"
	    "  --pam-service NAME   use this PAM service, not the request's\n"
	    "  --max-connections N  simultaneous client connections "
	    "(default %d)\n"
	    "  --read-timeout SEC   time a client has to send its request "
	    "(default %d)\n"
	    "  --fork-limit N       with -n 0, workers running at once "
	    "(default %d)\n"
	    "  --max-connections-per-uid N\n"
	    "                       connections one client uid may hold "
	    "(default half of\n"
	    "                       --max-connections; root is not "
	    "limited); more are closed\n"
	    "  --allow-uid LIST     only these users may connect: names or "
	    "numbers,\n"
	    "                       comma-separated, repeatable (root "
	    "always may)\n"
	    "  --allow-gid LIST     only members of these groups, primary "
	    "or supplementary;\n"
	    "                       with --allow-uid, either match lets a "
	    "client in\n"
	    "  --worker-caps LIST   capabilities of the PAM workers (root), "
	    "comma-separated\n"
	    "                       names or none (default " CAPS_WORKER_DEFAULT
	    ")\n"
	    "  --worker-env NAME[=VALUE]\n"
	    "                       pass NAME (from this environment, or "
	    "VALUE) to the PAM\n"
	    "                       workers, which otherwise get only PATH; "
	    "repeatable\n"
	    "  --cache-revalidate SEC\n"
	    "                       with -c, answer a cached password for "
	    "SEC after PAM\n"
	    "                       last said OK, then ask PAM again: an old "
	    "password stops\n"
	    "                       working SEC after a change "
	    "(default %d, minimum 1)\n"
	    "  --fail-delay-max SEC longest failure delay (default %d, 0-%d):\n"
	    "                       a failure waits PAM's delay; the 2nd, 3rd, "
	    "4th... in a\n"
	    "                       row for a login or an address at least 1, "
	    "2, 4... s,\n"
	    "                       up to SEC; a success resets; counts last "
	    "%d min\n"
	    "  --fail-limit N       after N failures in a row, refuse the "
	    "login "
	    "without\n"
	    "                       asking PAM until %d min pass with no "
	    "attempt (default\n"
	    "                       0, off); anyone can then lock a user out "
	    "by "
	    "failing N\n"
	    "                       times\n"
	    "\n"
	    "Sockets (DIR/mux of -m is always served; up to %d in all):\n"
	    "  --listen PROTO:PATH[,mode=OCTAL][,owner=USER][,group=GROUP]\n"
	    "                       serve one more socket (repeatable); "
	    "PROTO is saslauthd\n"
	    "                       (Cyrus libsasl2) or dovecot (Postfix's "
	    "smtpd_sasl_type =\n"
	    "                       dovecot, Exim's dovecot "
	    "authenticator); missing parent\n"
	    "                       directories are made root:sasl 0710; "
	    "socket mode 0777\n"
	    "                       unless mode= is given\n"
	    "  --postfix-chroot[=DIR]\n"
	    "                       also serve DIR" SASLD_LIBSASL2_RUN_DIR
	    "/mux, the socket a\n"
	    "                       chrooted smtpd finds with no "
	    "saslauthd_path (DIR must\n"
	    "                       exist; default " SASLD_POSTFIX_SPOOL ")\n"
	    "  --postfix-dovecot    with --postfix-chroot, also serve the "
	    "Dovecot protocol\n"
	    "                       on DIR/" SASLD_POSTFIX_DOVECOT_SOCKET
	    ", owner " SASLD_POSTFIX_USER ":" SASLD_POSTFIX_GROUP
	    ", mode 0660\n"
	    "                       (smtpd_sasl_type = dovecot, "
	    "smtpd_sasl_path =\n"
	    "                       " SASLD_POSTFIX_DOVECOT_SOCKET
	    "; DIR/private must exist)\n"
	    "  --dovecot-require-secured\n"
	    "                       Dovecot protocol: refuse PLAIN and LOGIN "
	    "unless the\n"
	    "                       client says the session is under TLS "
	    "(secured)\n"
	    "  --check              diagnose the sockets, Postfix and PAM "
	    "set-up, print\n"
	    "                       the fix for each problem; exit 0 only "
	    "if it would work\n"
	    "  --postfix-config DIR Postfix configuration directory for "
	    "--check\n"
	    "                       (default: postconf's own)\n",
	    SASLD_DEFAULT_WORKERS, SASLD_DEFAULT_CACHE_TTL, CACHE_ENTRY_COST,
	    SASLD_DEFAULT_CACHE_KB, SASLD_DEFAULT_PAM_TIMEOUT,
	    SASLD_DEFAULT_MAX_REQUESTS, SASLD_DEFAULT_MAX_FIELD,
	    SASLD_DEFAULT_MAX_CONNS, SASLD_DEFAULT_READ_TIMEOUT,
	    SASLD_DEFAULT_FORK_LIMIT, SASLD_DEFAULT_CACHE_REVALIDATE,
	    SASLD_DEFAULT_FAIL_DELAY_MAX, SASLD_MAX_FAIL_DELAY_MAX,
	    SASLD_FAIL_WINDOW_MIN, SASLD_FAIL_WINDOW_MIN, SASLD_MAX_LISTEN);
}

static int
parse_long(const char *s, long min, long max, long *ret)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*ret = v;
	return 0;
}

/* parse_long() for option opt; a bad value gets a message on stderr. */
static int
opt_long(const char *opt, const char *arg, long min, long max, long *ret)
{
	if (parse_long(arg, min, max, ret) == 0)
		return 0;
	fprintf(stderr, "saslauthd-ng: %s: invalid number '%s' (%ld..%ld)\n",
	    opt, arg, min, max);
	return -1;
}

static int
set_run_dir(struct config *cfg, const char *dir)
{
	char cwd[PATH_MAX];
	int n;

	if (dir[0] == '\0') {
		fprintf(stderr, "saslauthd-ng: -m: empty directory\n");
		return -1;
	}
	if (dir[0] == '/')
		n = snprintf(cfg->run_dir, sizeof(cfg->run_dir), "%s", dir);
	else {
		/* The daemon chdirs to /: anchor a relative -m now. */
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			perror("saslauthd-ng: getcwd");
			return -1;
		}
		n = snprintf(
		    cfg->run_dir, sizeof(cfg->run_dir), "%s/%s", cwd, dir);
	}
	if (n < 0 || (size_t)n >= sizeof(cfg->run_dir)) {
		fprintf(stderr, "saslauthd-ng: -m: path too long\n");
		return -1;
	}
	/* Trailing slashes would make "dir//mux". */
	while (n > 1 && cfg->run_dir[n - 1] == '/')
		cfg->run_dir[--n] = '\0';
	return 0;
}

static int
too_long(const char *origin, const char *a, const char *b)
{
	fprintf(stderr,
	    "saslauthd-ng: %s: socket path %s%s is longer than the %zu "
	    "bytes a UNIX socket address holds\n",
	    origin, a, b, SASLD_SUN_PATH_MAX - 1);
	return -1;
}

static int
parse_owner(const char *v, uid_t *ret)
{
	struct passwd *pw;
	long n;

	if ((pw = getpwnam(v)) != NULL) {
		*ret = pw->pw_uid;
		return 0;
	}
	if (parse_long(v, 0, INT_MAX - 1, &n) == -1) {
		fprintf(
		    stderr, "saslauthd-ng: --listen: no such user: %s\n", v);
		return -1;
	}
	*ret = (uid_t)n;
	return 0;
}

static int
parse_group(const char *v, gid_t *ret)
{
	struct group *gr;
	long n;

	if ((gr = getgrnam(v)) != NULL) {
		*ret = gr->gr_gid;
		return 0;
	}
	if (parse_long(v, 0, INT_MAX - 1, &n) == -1) {
		fprintf(
		    stderr, "saslauthd-ng: --listen: no such group: %s\n", v);
		return -1;
	}
	*ret = (gid_t)n;
	return 0;
}

/* One "name=value" of --listen. */
static int
parse_listen_opt(struct listen_spec *l, char *opt)
{
	char *v, *end = NULL;
	long m;

	if ((v = strchr(opt, '=')) == NULL || v[1] == '\0') {
		fprintf(stderr,
		    "saslauthd-ng: --listen: '%s' is not name=value\n", opt);
		return -1;
	}
	*v++ = '\0';
	if (strcmp(opt, "mode") == 0) {
		errno = 0;
		m = strtol(v, &end, 8);
		if (errno != 0 || *end != '\0' || m < 0 || m > 0777) {
			fprintf(stderr,
			    "saslauthd-ng: --listen: mode=%s: want an octal "
			    "mode 0..0777\n",
			    v);
			return -1;
		}
		l->mode = (mode_t)m;
		return 0;
	}
	if (strcmp(opt, "owner") == 0)
		return parse_owner(v, &l->uid);
	if (strcmp(opt, "group") == 0)
		return parse_group(v, &l->gid);
	fprintf(stderr,
	    "saslauthd-ng: --listen: unknown option '%s' (mode, owner, "
	    "group)\n",
	    opt);
	return -1;
}

static void
listen_init(struct listen_spec *l, const char *origin)
{
	memset(l, 0, sizeof(*l));
	l->proto = LISTEN_SASLAUTHD;
	l->mode = SASLD_SOCKET_MODE_DEFAULT;
	l->uid = (uid_t)-1;
	l->gid = (gid_t)-1;
	l->create_parents = 1;
	l->origin = origin;
}

static struct listen_spec *
new_listen(struct config *cfg, const char *origin)
{
	struct listen_spec *l;

	if (cfg->nlisten >= SASLD_MAX_LISTEN) {
		fprintf(stderr, "saslauthd-ng: %s: more than %d sockets\n",
		    origin, SASLD_MAX_LISTEN);
		return NULL;
	}
	l = &cfg->listen[cfg->nlisten++];
	listen_init(l, origin);
	return l;
}

/* --listen PROTO:PATH[,opt=value...]; slot 0 stays free for -m's socket. */
static int
parse_listen(struct config *cfg, const char *arg)
{
	char buf[PATH_MAX + 128], *path, *opt, *next;
	struct listen_spec *l;

	if (strlen(arg) >= sizeof(buf)) {
		fprintf(stderr, "saslauthd-ng: --listen: too long\n");
		return -1;
	}
	memcpy(buf, arg, strlen(arg) + 1);
	if ((path = strchr(buf, ':')) == NULL) {
		fprintf(stderr,
		    "saslauthd-ng: --listen %s: want PROTOCOL:PATH, e.g. "
		    "saslauthd:/run/saslauthd/mux\n",
		    arg);
		return -1;
	}
	*path++ = '\0';
	if (strcmp(buf, "saslauthd") != 0 && strcmp(buf, "dovecot") != 0) {
		fprintf(stderr,
		    "saslauthd-ng: --listen: unknown protocol '%s' "
		    "(saslauthd, dovecot)\n",
		    buf);
		return -1;
	}
	if (cfg->nlisten == 0)
		cfg->nlisten = 1;
	if ((l = new_listen(cfg, "--listen")) == NULL)
		return -1;
	if (strcmp(buf, "dovecot") == 0)
		l->proto = LISTEN_DOVECOT;
	if ((next = strchr(path, ',')) != NULL)
		*next++ = '\0';
	if (path[0] != '/') {
		fprintf(stderr,
		    "saslauthd-ng: --listen: '%s' is not an absolute path\n",
		    path);
		return -1;
	}
	if (strlen(path) >= sizeof(l->path))
		return too_long("--listen", path, "");
	memcpy(l->path, path, strlen(path) + 1);
	while ((opt = next) != NULL) {
		if ((next = strchr(opt, ',')) != NULL)
			*next++ = '\0';
		if (parse_listen_opt(l, opt) == -1)
			return -1;
	}
	return 0;
}

static int
set_postfix_dir(struct config *cfg, const char *dir)
{
	size_t n;

	if (dir == NULL)
		dir = SASLD_POSTFIX_SPOOL;
	n = strlen(dir);
	if (dir[0] != '/' || n >= sizeof(cfg->postfix_dir)) {
		fprintf(stderr,
		    "saslauthd-ng: --postfix-chroot: '%s' is not an absolute "
		    "path\n",
		    dir);
		return -1;
	}
	memcpy(cfg->postfix_dir, dir, n + 1);
	while (n > 1 && cfg->postfix_dir[n - 1] == '/')
		cfg->postfix_dir[--n] = '\0';
	return 0;
}

/*
 * --postfix-dovecot: DIR/private/auth, as Dovecot's documentation sets it
 * up for Postfix: owned by postfix, group postfix, mode 0660. private/ is
 * Postfix's own (postfix 0700, made by postfix itself): never created.
 */
static int
finish_postfix_dovecot(struct config *cfg)
{
	struct listen_spec *l;
	struct passwd *pw;
	struct group *gr;
	int n;

	if (cfg->postfix_dir[0] == '\0') {
		fprintf(stderr,
		    "saslauthd-ng: --postfix-dovecot needs "
		    "--postfix-chroot[=DIR] (the queue directory)\n");
		return -1;
	}
	if ((l = new_listen(cfg, "--postfix-dovecot")) == NULL)
		return -1;
	l->proto = LISTEN_DOVECOT;
	l->create_parents = 0;
	l->dir_must_exist = 1;
	l->mode = SASLD_POSTFIX_DOVECOT_MODE;
	n = snprintf(l->path, sizeof(l->path), "%s/%s", cfg->postfix_dir,
	    SASLD_POSTFIX_DOVECOT_SOCKET);
	if (n < 0 || (size_t)n >= sizeof(l->path))
		return too_long("--postfix-dovecot", cfg->postfix_dir,
		    "/" SASLD_POSTFIX_DOVECOT_SOCKET);
	pw = getpwnam(SASLD_POSTFIX_USER);
	if (pw != NULL)
		l->uid = pw->pw_uid;
	gr = getgrnam(SASLD_POSTFIX_GROUP);
	if (gr != NULL)
		l->gid = gr->gr_gid;
	/* --check only looks: it reports a missing user itself. */
	if ((pw == NULL || gr == NULL) && !cfg->check) {
		fprintf(stderr,
		    "saslauthd-ng: --postfix-dovecot: the socket belongs to "
		    "user and group " SASLD_POSTFIX_USER
		    ", which do not exist: is Postfix installed?\n");
		return -1;
	}
	return 0;
}

static int
finish_paths(struct config *cfg)
{
	struct listen_spec *l;
	int i, j, n;

	n = snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s/%s",
	    cfg->run_dir, SASLD_SOCKET_NAME);
	if (n < 0 || (size_t)n >= sizeof(cfg->socket_path))
		return too_long("-m", cfg->run_dir, "/" SASLD_SOCKET_NAME);
	if (cfg->nlisten == 0)
		cfg->nlisten = 1;
	l = &cfg->listen[0];
	listen_init(l, "-m");
	memcpy(l->path, cfg->socket_path, strlen(cfg->socket_path) + 1);
	if (cfg->postfix_dir[0] != '\0') {
		if ((l = new_listen(cfg, "--postfix-chroot")) == NULL)
			return -1;
		/* The spool is Postfix's: only create below it. */
		l->create_parents = 0;
		n = snprintf(l->path, sizeof(l->path), "%s%s/%s",
		    cfg->postfix_dir, SASLD_LIBSASL2_RUN_DIR,
		    SASLD_SOCKET_NAME);
		if (n < 0 || (size_t)n >= sizeof(l->path))
			return too_long("--postfix-chroot", cfg->postfix_dir,
			    SASLD_LIBSASL2_RUN_DIR "/" SASLD_SOCKET_NAME);
	}
	if (cfg->postfix_dovecot && finish_postfix_dovecot(cfg) == -1)
		return -1;
	for (i = 0; i < cfg->nlisten; i++)
		for (j = 0; j < i; j++)
			if (strcmp(cfg->listen[i].path, cfg->listen[j].path) ==
			    0) {
				fprintf(stderr,
				    "saslauthd-ng: %s: socket %s is already "
				    "served (%s)\n",
				    cfg->listen[i].origin, cfg->listen[i].path,
				    cfg->listen[j].origin);
				return -1;
			}
	n = snprintf(cfg->pid_path, sizeof(cfg->pid_path), "%s/%s",
	    cfg->run_dir, SASLD_PID_NAME);
	if (n < 0 || (size_t)n >= sizeof(cfg->pid_path)) {
		fprintf(stderr, "saslauthd-ng: pid file path too long\n");
		return -1;
	}
	return 0;
}

static int
lookup_user(const char *name, uint32_t *ret_id)
{
	struct passwd *pw;

	if ((pw = getpwnam(name)) == NULL)
		return -1;
	*ret_id = (uint32_t)pw->pw_uid;
	return 0;
}

static int
lookup_group(const char *name, uint32_t *ret_id)
{
	struct group *gr;

	if ((gr = getgrnam(name)) == NULL)
		return -1;
	*ret_id = (uint32_t)gr->gr_gid;
	return 0;
}

/* --allow-uid / --allow-gid: names are resolved now, in the parent. */
static int
parse_allow(
    struct peer_idlist *ids, const char *opt, const char *arg, int groups)
{
	char bad[64];

	switch (peer_parse_ids(
	    ids, arg, groups ? lookup_group : lookup_user, bad, sizeof(bad))) {
	case PEER_PARSE_OK:
		return 0;
	case PEER_PARSE_EMPTY:
		fprintf(stderr,
		    "saslauthd-ng: %s: empty name in '%s' (want NAME or "
		    "NUMBER, comma-separated)\n",
		    opt, arg);
		break;
	case PEER_PARSE_RANGE:
		fprintf(stderr,
		    "saslauthd-ng: %s: '%s' is not a valid %s (0..%lu)\n", opt,
		    bad, groups ? "gid" : "uid", (unsigned long)UINT32_MAX - 1);
		break;
	case PEER_PARSE_UNKNOWN:
		fprintf(stderr, "saslauthd-ng: %s: no such %s: '%s'\n", opt,
		    groups ? "group" : "user", bad);
		break;
	case PEER_PARSE_FULL:
		fprintf(stderr, "saslauthd-ng: %s: more than %d entries\n", opt,
		    PEER_MAX_IDS);
		break;
	}
	return -1;
}

/* NAME or NAME=VALUE, NAME a portable variable name other than PATH. */
static int
add_worker_env(struct config *cfg, const char *arg)
{
	size_t i, n = strcspn(arg, "=");

	if (n == 0 || (arg[0] >= '0' && arg[0] <= '9')) {
		fprintf(stderr,
		    "saslauthd-ng: --worker-env: invalid variable name in "
		    "'%s'\n",
		    arg);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (!((arg[i] >= 'A' && arg[i] <= 'Z') ||
			(arg[i] >= 'a' && arg[i] <= 'z') ||
			(arg[i] >= '0' && arg[i] <= '9') || arg[i] == '_')) {
			fprintf(stderr,
			    "saslauthd-ng: --worker-env: invalid variable "
			    "name in '%s' (letters, digits, _)\n",
			    arg);
			return -1;
		}
	if (n == 4 && strncmp(arg, "PATH", 4) == 0) {
		fprintf(stderr,
		    "saslauthd-ng: --worker-env: PATH is fixed "
		    "for the PAM workers\n");
		return -1;
	}
	if (strlen(arg) >= SASLD_MAX_WORKER_ENV_LEN) {
		fprintf(stderr,
		    "saslauthd-ng: --worker-env: longer than %d bytes\n",
		    SASLD_MAX_WORKER_ENV_LEN - 1);
		return -1;
	}
	for (i = 0; i < (size_t)cfg->nworker_env; i++)
		if (strncmp(cfg->worker_env[i], arg, n) == 0 &&
		    strcspn(cfg->worker_env[i], "=") == n) {
			fprintf(stderr,
			    "saslauthd-ng: --worker-env: %.*s given twice\n",
			    (int)n, arg);
			return -1;
		}
	if (cfg->nworker_env == SASLD_MAX_WORKER_ENV) {
		fprintf(stderr,
		    "saslauthd-ng: --worker-env: at most %d variables\n",
		    SASLD_MAX_WORKER_ENV);
		return -1;
	}
	cfg->worker_env[cfg->nworker_env++] = arg;
	return 0;
}

static void
defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	(void)snprintf(
	    cfg->run_dir, sizeof(cfg->run_dir), "%s", SASLD_DEFAULT_RUN_DIR);
	(void)snprintf(cfg->user, sizeof(cfg->user), "%s", SASLD_DEFAULT_USER);
	cfg->nworkers = SASLD_DEFAULT_WORKERS;
	cfg->fork_limit = SASLD_DEFAULT_FORK_LIMIT;
	cfg->cache_ttl = SASLD_DEFAULT_CACHE_TTL;
	cfg->cache_kb = SASLD_DEFAULT_CACHE_KB;
	cfg->cache_revalidate = SASLD_DEFAULT_CACHE_REVALIDATE;
	cfg->pam_timeout_ms = SASLD_DEFAULT_PAM_TIMEOUT * 1000;
	cfg->read_timeout_ms = SASLD_DEFAULT_READ_TIMEOUT * 1000;
	cfg->max_requests = SASLD_DEFAULT_MAX_REQUESTS;
	cfg->max_conns = SASLD_DEFAULT_MAX_CONNS;
	cfg->max_field = SASLD_DEFAULT_MAX_FIELD;
	cfg->fail_delay_max_ms = SASLD_DEFAULT_FAIL_DELAY_MAX * 1000;
	/* A constant the test suite checks: a parse failure is a bug. */
	if (caps_parse(CAPS_WORKER_DEFAULT, &cfg->worker_caps, NULL, 0) == -1)
		cfg->worker_caps = 0;
}

static int
parse_mech(const char *arg)
{
	int i;

	if (strcasecmp(arg, "pam") == 0)
		return 0;
	for (i = 0; cyrus_mechs[i] != NULL; i++)
		if (strcasecmp(arg, cyrus_mechs[i]) == 0) {
			fprintf(stderr,
			    "saslauthd-ng: authentication mechanism %s is not "
			    "supported: saslauthd-ng only implements pam\n",
			    arg);
			return -1;
		}
	fprintf(stderr, "saslauthd-ng: unknown authentication mechanism: %s\n",
	    arg);
	return -1;
}

enum config_action
config_parse(int argc, char *argv[], struct config *ret_cfg)
{
	struct config cfg;
	int c, have_mech = 0;
	long v;

	defaults(&cfg);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":a:cdfhlm:n:O:rs:t:vV", long_opts,
		    NULL)) != -1) {
		switch (c) {
		case 'a':
			if (have_mech) {
				fprintf(stderr,
				    "saslauthd-ng: -a given twice "
				    "(only one mechanism, pam)\n");
				return CONFIG_EXIT_ERR;
			}
			if (parse_mech(optarg) == -1)
				return CONFIG_EXIT_ERR;
			have_mech = 1;
			break;
		case 'c':
			cfg.cache = 1;
			break;
		case 'd':
			cfg.foreground = 1;
			cfg.verbose = 1;
			break;
		case 'f':
			cfg.foreground = 1;
			break;
		case 'h':
			usage(stdout);
			return CONFIG_EXIT_OK;
		case 'l':
		case 'O':
			/* Accepted for Cyrus compatibility; no effect. */
			break;
		case 'm':
			if (set_run_dir(&cfg, optarg) == -1)
				return CONFIG_EXIT_ERR;
			break;
		case 'n':
			if (opt_long("-n", optarg, 0, SASLD_MAX_WORKERS, &v) ==
			    -1)
				return CONFIG_EXIT_ERR;
			cfg.nworkers = (int)v;
			break;
		case 'r':
			cfg.realm_append = 1;
			break;
		case 's':
			if (opt_long("-s", optarg, 1, SASLD_MAX_CACHE_KB, &v) ==
			    -1)
				return CONFIG_EXIT_ERR;
			cfg.cache_kb = v;
			break;
		case 't':
			if (opt_long(
				"-t", optarg, 1, SASLD_MAX_CACHE_TTL, &v) == -1)
				return CONFIG_EXIT_ERR;
			cfg.cache_ttl = v;
			break;
		case 'v':
			fprintf(stderr,
			    "saslauthd-ng " SASLD_VERSION "\n"
			    "authentication mechanisms: pam\n\n");
			return CONFIG_EXIT_OK;
		case 'V':
			cfg.verbose = 1;
			break;
		case OPT_USER:
			if (optarg[0] == '\0' ||
			    strlen(optarg) >= sizeof(cfg.user)) {
				fprintf(stderr,
				    "saslauthd-ng: --user: invalid "
				    "user name\n");
				return CONFIG_EXIT_ERR;
			}
			(void)snprintf(
			    cfg.user, sizeof(cfg.user), "%s", optarg);
			break;
		case OPT_PAM_TIMEOUT:
			if (opt_long("--pam-timeout", optarg, 1,
				SASLD_MAX_PAM_TIMEOUT, &v) == -1)
				return CONFIG_EXIT_ERR;
			cfg.pam_timeout_ms = (unsigned)v * 1000;
			break;
		case OPT_READ_TIMEOUT:
			if (opt_long("--read-timeout", optarg, 1, 60, &v) == -1)
				return CONFIG_EXIT_ERR;
			cfg.read_timeout_ms = (unsigned)v * 1000;
			break;
		case OPT_MAX_REQUESTS:
			if (opt_long(
				"--max-requests", optarg, 1, 1000000, &v) == -1)
				return CONFIG_EXIT_ERR;
			cfg.max_requests = (unsigned)v;
			break;
		case OPT_MAX_FIELD:
			if (opt_long("--max-field", optarg,
				SASLD_CYRUS_MAX_FIELD,
				SASLD_MAX_FIELD_LIMIT / 2, &v) == -1)
				return CONFIG_EXIT_ERR;
			cfg.max_field = (size_t)v;
			break;
		case OPT_MAX_CONNS:
			if (opt_long("--max-connections", optarg, 1,
				SASLD_MAX_CONNS_LIMIT, &v) == -1)
				return CONFIG_EXIT_ERR;
			cfg.max_conns = (unsigned)v;
			break;
		case OPT_MAX_CONNS_PER_UID:
			if (opt_long("--max-connections-per-uid", optarg, 1,
				SASLD_MAX_CONNS_LIMIT, &v) == -1)
				return CONFIG_EXIT_ERR;
			cfg.max_conns_per_uid = (unsigned)v;
			break;
		case OPT_ALLOW_UID:
			if (parse_allow(
				&cfg.allow_uid, "--allow-uid", optarg, 0) == -1)
				return CONFIG_EXIT_ERR;
			break;
		case OPT_ALLOW_GID:
			if (parse_allow(
				&cfg.allow_gid, "--allow-gid", optarg, 1) == -1)
				return CONFIG_EXIT_ERR;
			break;
		case OPT_FORK_LIMIT:
			if (opt_long("--fork-limit", optarg, 1,
				SASLD_MAX_WORKERS, &v) == -1)
				return CONFIG_EXIT_ERR;
			cfg.fork_limit = (int)v;
			break;
		case OPT_LISTEN:
			if (parse_listen(&cfg, optarg) == -1)
				return CONFIG_EXIT_ERR;
			break;
		case OPT_POSTFIX_CHROOT:
			if (set_postfix_dir(&cfg, optarg) == -1)
				return CONFIG_EXIT_ERR;
			break;
		case OPT_POSTFIX_CONFIG:
			if (optarg[0] != '/' ||
			    strlen(optarg) >= sizeof(cfg.postfix_config)) {
				fprintf(stderr,
				    "saslauthd-ng: --postfix-config: '%s' is "
				    "not an absolute path\n",
				    optarg);
				return CONFIG_EXIT_ERR;
			}
			(void)snprintf(cfg.postfix_config,
			    sizeof(cfg.postfix_config), "%s", optarg);
			break;
		case OPT_CHECK:
			cfg.check = 1;
			break;
		case OPT_POSTFIX_DOVECOT:
			cfg.postfix_dovecot = 1;
			break;
		case OPT_DOVECOT_SECURED:
			cfg.dovecot_secured = 1;
			break;
		case OPT_PAM_SERVICE:
			if (!proto_valid_service(
				(const uint8_t *)optarg, strlen(optarg))) {
				fprintf(stderr,
				    "saslauthd-ng: --pam-service: "
				    "invalid service name\n");
				return CONFIG_EXIT_ERR;
			}
			(void)snprintf(cfg.pam_service, sizeof(cfg.pam_service),
			    "%s", optarg);
			break;
		case OPT_WORKER_CAPS: {
			char bad[64];

			if (caps_parse(optarg, &cfg.worker_caps, bad,
				sizeof(bad)) == -1) {
				fprintf(stderr,
				    "saslauthd-ng: --worker-caps: unknown "
				    "capability '%s' (names as in "
				    "capabilities(7), e.g. cap_audit_write, "
				    "comma-separated, or none)\n",
				    bad);
				return CONFIG_EXIT_ERR;
			}
			cfg.worker_caps_set = 1;
			break;
		}
		case OPT_FAIL_DELAY_MAX:
			if (opt_long("--fail-delay-max", optarg, 0,
				SASLD_MAX_FAIL_DELAY_MAX, &v) == -1)
				return CONFIG_EXIT_ERR;
			cfg.fail_delay_max_ms = (unsigned)v * 1000;
			break;
		case OPT_FAIL_LIMIT:
			if (opt_long("--fail-limit", optarg, 0,
				SASLD_MAX_FAIL_LIMIT, &v) == -1)
				return CONFIG_EXIT_ERR;
			cfg.fail_limit = (unsigned)v;
			break;
		case OPT_WORKER_ENV:
			if (add_worker_env(&cfg, optarg) == -1)
				return CONFIG_EXIT_ERR;
			break;
		case OPT_CACHE_REVALIDATE:
			/* 0 would send every hit to PAM: no cache at all. */
			if (opt_long("--cache-revalidate", optarg, 1,
				SASLD_MAX_CACHE_TTL, &v) == -1)
				return CONFIG_EXIT_ERR;
			cfg.cache_revalidate = v;
			break;
		case ':':
			fprintf(stderr,
			    "saslauthd-ng: option requires an "
			    "argument: %s\n",
			    argv[optind - 1]);
			usage(stderr);
			return CONFIG_EXIT_ERR;
		default:
			fprintf(stderr, "saslauthd-ng: invalid option: %s\n",
			    argv[optind - 1]);
			usage(stderr);
			return CONFIG_EXIT_ERR;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "saslauthd-ng: unexpected argument: %s\n",
		    argv[optind]);
		usage(stderr);
		return CONFIG_EXIT_ERR;
	}
	if (!have_mech && !cfg.check) {
		fprintf(stderr,
		    "saslauthd-ng: no authentication mechanism specified "
		    "(use -a pam)\n");
		usage(stderr);
		return CONFIG_EXIT_ERR;
	}
	if (cfg.max_conns_per_uid == 0) {
		cfg.max_conns_per_uid = cfg.max_conns / SASLD_PER_UID_DIVISOR;
		if (cfg.max_conns_per_uid == 0)
			cfg.max_conns_per_uid = 1;
	} else if (cfg.max_conns_per_uid > cfg.max_conns) {
		fprintf(stderr,
		    "saslauthd-ng: --max-connections-per-uid %u is more than "
		    "--max-connections %u (equal turns the per-uid limit "
		    "off)\n",
		    cfg.max_conns_per_uid, cfg.max_conns);
		return CONFIG_EXIT_ERR;
	}
	if (finish_paths(&cfg) == -1)
		return CONFIG_EXIT_ERR;
	*ret_cfg = cfg;
	return CONFIG_RUN;
}

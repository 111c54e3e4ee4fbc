/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.h - the daemon's command line (Cyrus saslauthd flags plus long
 * options) parsed into a const struct config, read-only after start-up.
 *
 * SECURITY: parsed in the root parent from root's own command line; every
 * number is range-checked and every path length-checked here, so later code
 * never truncates silently.
 */
#ifndef SASLD_CONFIG_H
#define SASLD_CONFIG_H

#include <sys/types.h>
#include <sys/un.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "peer.h"
#include "proto_saslauthd.h"

/* Debian's libsasl2 is built with --with-saslauthd=/var/run/saslauthd and
 * /var/run is a symlink to /run. */
#define SASLD_DEFAULT_RUN_DIR "/run/saslauthd"
#define SASLD_SOCKET_NAME "mux"
#define SASLD_PID_NAME "saslauthd.pid"
#define SASLD_DEFAULT_USER "_saslauthd"
#define SASLD_DEFAULT_WORKERS 5 /* Cyrus' -n default */
#define SASLD_MAX_WORKERS 256 /* root processes; more helps no one */
#define SASLD_DEFAULT_PAM_TIMEOUT 10 /* s; LDAP/SSSD may take seconds */
#define SASLD_MAX_PAM_TIMEOUT 300 /* s */
#define SASLD_DEFAULT_MAX_REQUESTS 1000 /* then a worker is recycled */
#define SASLD_DEFAULT_READ_TIMEOUT 5 /* s; real clients send at once */
#define SASLD_DEFAULT_MAX_CONNS 1024
#define SASLD_MAX_CONNS_LIMIT 65536
/*
 * Without --max-connections-per-uid, one uid may hold half of
 * --max-connections (512 of the default 1024): far above what Postfix's
 * smtpd processes (all uid postfix, at most one connection each: 100 per
 * master.cf service by default_process_limit, so 300 for smtp, submission
 * and smtps) hold even when PAM is slow, yet a local user who floods the
 * socket leaves the other half to everyone else.
 */
#define SASLD_PER_UID_DIVISOR 2
/*
 * --fail-delay-max: the longest a failure reply waits (PAM's delay and the
 * growth for repeated failures, throttle.h). Postfix's Dovecot client
 * gives each reply 10 s, PAM's time included (the Dovecot path clamps to
 * FRONT_DV_ANSWER_MS as well); libsasl2 waits forever, but each waiting
 * smtpd holds a connection slot here. 8 s leaves PAM a second or two.
 */
#define SASLD_DEFAULT_FAIL_DELAY_MAX 8 /* s */
#define SASLD_MAX_FAIL_DELAY_MAX 60 /* s; above 9 only saslauthd clients */
#define SASLD_MAX_FAIL_LIMIT 1000000
/* A login's or an address's failures are forgotten this long after the
 * last one: long enough to span a slow guesser's pauses, short enough
 * that a user who mistyped twice is not remembered until tomorrow. */
#define SASLD_FAIL_WINDOW_MIN 15
#define SASLD_DEFAULT_CACHE_TTL 28800 /* Cyrus -t default, 8 h */
#define SASLD_MAX_CACHE_TTL (365L * 86400) /* s, -t and --cache-revalidate */
/* Cyrus' default table: 1711 slots of 6 96-byte buckets, 963 KiB. */
#define SASLD_DEFAULT_CACHE_KB 963
#define SASLD_MAX_CACHE_KB (1024L * 1024) /* 1 GiB */
/*
 * --cache-revalidate: a cached password is answered without PAM for this
 * long after PAM last said OK to it, then PAM must say it again. So an old
 * password stops working at most this long after a change.
 */
#define SASLD_DEFAULT_CACHE_REVALIDATE 60 /* s */
/* With -n 0, how many one-shot workers may run at once. */
#define SASLD_DEFAULT_FORK_LIMIT 32
/* The run directory's socket plus --listen and --postfix-chroot ones. */
#define SASLD_MAX_LISTEN 8
/* Postfix's queue_directory, where smtpd chroots (Debian's master.cf). */
#define SASLD_POSTFIX_SPOOL "/var/spool/postfix"
/* libsasl2's compiled-in socket directory (Debian: --with-saslauthd), which
 * a chrooted smtpd resolves inside its jail. */
#define SASLD_LIBSASL2_RUN_DIR "/var/run/saslauthd"

/* Cyrus: 0777, the directory (root:sasl 0710) does the checking. */
#define SASLD_SOCKET_MODE_DEFAULT 0777
#define SASLD_SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

enum listen_proto {
	LISTEN_SASLAUTHD, /* Cyrus saslauthd wire protocol */
	LISTEN_DOVECOT, /* Dovecot auth protocol (smtpd_sasl_type = dovecot) */
};

/* Where smtpd_sasl_path = private/auth points, below the queue directory;
 * Dovecot's documented owner and mode for it (postfix:postfix 0660). */
#define SASLD_POSTFIX_DOVECOT_SOCKET "private/auth"
#define SASLD_POSTFIX_USER "postfix"
#define SASLD_POSTFIX_GROUP "postfix"
#define SASLD_POSTFIX_DOVECOT_MODE 0660

/* One socket to serve: from -m, --listen or --postfix-chroot. */
struct listen_spec {
	enum listen_proto proto;
	char path[SASLD_SUN_PATH_MAX];
	mode_t mode; /* of the socket itself */
	uid_t uid; /* (uid_t)-1: leave root's */
	gid_t gid; /* (gid_t)-1: leave root's */
	int create_parents; /* 0: the parent directory's parent must exist */
	int dir_must_exist; /* the socket's directory is someone else's */
	/* "-m", "--listen", "--postfix-chroot", "--postfix-dovecot" */
	const char *origin;
};

/* --worker-env: variables passed to the PAM workers besides PATH. */
#define SASLD_MAX_WORKER_ENV 16
#define SASLD_MAX_WORKER_ENV_LEN 4096 /* NAME=VALUE */

struct config {
	char run_dir[PATH_MAX];
	char socket_path[SASLD_SUN_PATH_MAX]; /* -m DIR/mux = listen[0] */
	struct listen_spec listen[SASLD_MAX_LISTEN];
	int nlisten;
	char postfix_dir[PATH_MAX]; /* --postfix-chroot; "" = not given */
	int postfix_dovecot; /* --postfix-dovecot: DIR/private/auth too */
	int dovecot_secured; /* --dovecot-require-secured */
	char postfix_config[PATH_MAX]; /* --postfix-config, for --check */
	int check; /* --check: diagnose and exit */
	char pid_path[PATH_MAX];
	char user[64];
	char pam_service[SASLD_MAX_SERVICE + 1]; /* "" = from request */
	int nworkers; /* -n; 0 = one fresh worker per request */
	int fork_limit; /* concurrent workers with -n 0 */
	int realm_append; /* -r */
	int foreground; /* -d or -f */
	int verbose; /* -d or -V */
	int cache; /* -c */
	long cache_ttl; /* -t, s */
	long cache_kb; /* -s */
	long cache_revalidate; /* --cache-revalidate, s */
	unsigned pam_timeout_ms;
	unsigned read_timeout_ms;
	unsigned max_requests;
	unsigned max_conns;
	unsigned max_conns_per_uid; /* root is not limited (peer.h) */
	struct peer_idlist allow_uid; /* empty: every uid may connect */
	struct peer_idlist allow_gid; /* primary or supplementary gid */
	size_t max_field;
	unsigned fail_delay_max_ms; /* --fail-delay-max */
	unsigned fail_limit; /* --fail-limit; 0 = off */
	uint64_t worker_caps; /* --worker-caps, capability bit mask */
	int worker_caps_set; /* given explicitly */
	/* --worker-env NAME or NAME=VALUE; pointers into argv */
	const char *worker_env[SASLD_MAX_WORKER_ENV];
	int nworker_env;
};

enum config_action {
	CONFIG_RUN, /* start the daemon */
	CONFIG_EXIT_OK, /* -h or -v done */
	CONFIG_EXIT_ERR, /* a message was printed to stderr */
};

/* Parse argv into *ret_cfg (defaults first). Prints usage/errors itself. */
enum config_action config_parse(int argc, char *argv[], struct config *ret_cfg);

#endif

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Installs what building and testing saslauthd-ng needs on Debian 12, as
# root; with --build only what building it needs (init/demo.sh). Each
# package is here for a reason:
#   build-essential cmake pkg-config   the build
#   libpam0g-dev                       the PAM worker (the only libpam user)
#   libcap-dev                         parent and worker capability sets
#   libseccomp-dev                     the front's seccomp allow-list
#   libsodium-dev                      the -c cache: keyed BLAKE2b tags,
#                                      SipHash buckets, constant-time compare
#   libsystemd-dev                     sd_notify readiness (optional)
#   libcmocka-dev                      unit tests
#   libsasl2-dev libsasl2-modules      tests: libsasl2's sasl_checkpass client
#   sasl2-bin                          tests: Cyrus testsaslauthd as a client
#   libpam-wrapper                     tests: pam_matrix.so test PAM module,
#                                      pam_wrapper through --worker-env
#   passwd util-linux procps           tests: throw-away users, unshare, pgrep
#   gdb                                tests: make the front call a forbidden
#                                      system call (seccomp kill)
#   iproute2                           tests: ss, to find a worker's channel
#   clang-format                       the style check
#   postfix swaks openssl              tests: Postfix end to end (private
#   libnet-ssleay-perl                 instance, swaks AUTH; swaks needs the
#   libio-socket-ssl-perl              two Perl modules for STARTTLS)
#   valgrind                           tests: memcheck of every process
#   debhelper lintian                  the Debian package: build and check
#   debootstrap                        tests: a Debian 12 root to install it in
#   systemd                            tests: systemd-analyze for the unit
#   strace                             tests: system calls vs the unit's filter
#   clang libclang-rt-14-dev           tests/fuzz/run.sh: libFuzzer, ASan, UBSan
#   dovecot-core                       tests: Dovecot's own auth server, run
#                                      privately, for protocol conformance
#                                      (its system service is never started)
set -euo pipefail
BUILD_PKGS="build-essential cmake pkg-config libpam0g-dev libcap-dev
libseccomp-dev libsodium-dev libsystemd-dev libcmocka-dev libsasl2-dev passwd util-linux
procps"
PKGS="build-essential cmake pkg-config libpam0g-dev libcap-dev libseccomp-dev
libsodium-dev libsystemd-dev libcmocka-dev libsasl2-dev libsasl2-modules sasl2-bin
libpam-wrapper passwd util-linux procps gdb iproute2 clang-format postfix
swaks libnet-ssleay-perl libio-socket-ssl-perl openssl valgrind debhelper
lintian debootstrap systemd strace clang libclang-rt-14-dev dovecot-core"
[ "${1:-}" = --build ] && PKGS=$BUILD_PKGS
missing=
for p in $PKGS; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	# postfix: configure no system instance; the test runs its own.
	echo "postfix postfix/main_mailer_type select No configuration" |
		debconf-set-selections
	# No service may start while packages install (dovecot-core's
	# would): policy-rc.d says no, unless the machine has its own.
	policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		trap 'rm -f "$policy"' EXIT
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 0755 "$policy"
	fi
	# shellcheck disable=SC2086
	apt-get install -y --no-install-recommends $missing
	if [ -n "$policy" ]; then
		rm -f "$policy"
		trap - EXIT
	fi
fi

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# A demo on a fresh Debian 12 machine, as root: installs the build
# dependencies, builds and installs saslauthd-ng into /usr/local, and runs
# it on /run/saslauthd-ng-demo/mux with a demo user on a private PAM
# service. The demo user, the front's _saslauthd user and the PAM service
# exist only in a private copy of /etc that the daemon sees through its
# own mount namespace: the host's accounts and /etc are not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root" >&2; exit 1; }

RUN=/run/saslauthd-ng-demo
ETC=/run/saslauthd-ng-demo.etc
PREFIX=/usr/local
SERVICE=saslauthd-ng-demo
USER_NAME=demo
PASSWORD=demo-password

bash tests/deps.sh --build
cmake -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
cmake --install build --prefix "$PREFIX"

if [ -f "$RUN/saslauthd.pid" ] && kill -0 "$(cat "$RUN/saslauthd.pid")" 2>/dev/null; then
	echo "stopping the previous demo daemon"
	kill -TERM "$(cat "$RUN/saslauthd.pid")"
	sleep 1
fi
rm -rf "$ETC"
cp -a /etc "$ETC"
# Accounts and PAM service of the demo, in the private /etc only.
unshare --mount --propagation private -- bash -euc "
	mount --bind '$ETC' /etc
	getent passwd _saslauthd >/dev/null ||
		useradd --system --no-create-home --shell /usr/sbin/nologin _saslauthd
	getent passwd $USER_NAME >/dev/null ||
		useradd --no-create-home --shell /usr/sbin/nologin $USER_NAME
	echo '$USER_NAME:$PASSWORD' | chpasswd
	printf 'auth required pam_unix.so\naccount required pam_unix.so\n' \
		>/etc/pam.d/$SERVICE
	exec $PREFIX/sbin/saslauthd-ng -a pam -m $RUN -n 2
"
cat <<MSG

saslauthd-ng is running (pid $(cat "$RUN/saslauthd.pid")), socket $RUN/mux,
PAM service '$SERVICE' (pam_unix) with user '$USER_NAME'.

Try it:
  testsaslauthd-ng -f $RUN/mux -s $SERVICE -u $USER_NAME -p $PASSWORD
  testsaslauthd-ng -f $RUN/mux -s $SERVICE -u $USER_NAME -p wrong -v
  journalctl -t saslauthd-ng  (or /var/log/auth.log) for its log lines

Stop it:
  kill \$(cat $RUN/saslauthd.pid)
MSG

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# init/saslauthd-ng-start: how /etc/default/saslauthd-ng (and a file copied
# from sasl2-bin's /etc/default/saslauthd) becomes the daemon's command
# line, for the systemd unit and the init script. No root needed: the
# daemon is replaced by a program that prints its arguments, postconf by a
# script that names a queue directory.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
H=$src/init/saslauthd-ng-start
T=$(mktemp -d /tmp/sasld-helper.XXXXXX)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0

printf '#!/bin/sh\nfor a in "$@"; do printf "[%%s]" "$a"; done\necho\n' \
	>"$T/daemon"
mkdir -p "$T/spool"
printf '#!/bin/sh\necho %s\n' "$T/spool" >"$T/postconf"
chmod +x "$T/daemon" "$T/postconf"

# expect NAME DEFAULT-FILE-TEXT WANT_RC WANT_OUTPUT -- HELPER-ARGS...
expect() {
	local name=$1 text=$2 want_rc=$3 want=$4 out rc
	shift 5
	printf '%s\n' "$text" >"$T/default"
	SASLAUTHD_NG_DEFAULT=$T/default SASLAUTHD_NG_DAEMON=$T/daemon \
		SASLAUTHD_NG_POSTCONF=$T/postconf sh "$H" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	out=$(tr '\n' ' ' <"$T/out")
	out=${out% }
	if [ "$rc" = "$want_rc" ] && [ "$out" = "$want" ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $name: got rc=$rc '$out', want rc=$want_rc '$want'" \
			"(stderr: $(cat "$T/err"))"
	fi
}
# expect_err NAME DEFAULT-FILE-TEXT STDERR-SUBSTRING -- HELPER-ARGS...
expect_err() {
	local name=$1 text=$2 want=$3
	shift 4
	printf '%s\n' "$text" >"$T/default"
	if SASLAUTHD_NG_DEFAULT=$T/default SASLAUTHD_NG_DAEMON=$T/daemon \
		SASLAUTHD_NG_POSTCONF=$T/postconf sh "$H" "$@" >"$T/out" \
		2>"$T/err"; then
		failed=$((failed + 1))
		echo "FAIL: $name: exit 0 ($(cat "$T/out")), want an error"
	elif grep -qF -- "$want" "$T/err"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $name: stderr '$(cat "$T/err")', want '$want'"
	fi
}

# Debian bookworm's /etc/default/saslauthd, verbatim keys.
debian='DESC="SASL Authentication Daemon"
NAME="saslauthd"
MECHANISMS="pam"
MECH_OPTIONS=""
THREADS=5
OPTIONS="-c -m /var/run/saslauthd"'
expect "sasl2-bin's file: args" "$debian" 0 \
	"-a pam -n 5 -c -m /var/run/saslauthd" -- args
expect "sasl2-bin's file: run dir from -m" "$debian" 0 \
	/var/run/saslauthd -- rundir
expect "sasl2-bin's file: run execs the daemon" "$debian" 0 \
	"[-a][pam][-n][5][-c][-m][/var/run/saslauthd][--foreground]" \
	-- run --foreground
expect "sasl2-bin's file + START=yes (ignored)" "$debian
START=yes" 0 "-a pam -n 5 -c -m /var/run/saslauthd" -- args
# Cyrus' unit passed MECH_OPTIONS bare; here it is -O, one argument.
expect "MECH_OPTIONS is -O, kept whole" 'MECH_OPTIONS="a b"' 0 \
	"[-a][pam][-O][a b]" -- run
expect "no file: defaults" '' 0 "-a pam" -- args
expect "no -m: default run dir" 'OPTIONS="-r"' 0 /run/saslauthd -- rundir
expect "bundled -mDIR/ and trailing slash" 'OPTIONS="-cm/srv/sasl/"' 0 \
	/srv/sasl -- rundir
expect "last -m wins" 'OPTIONS="-m /a -m /b"' 0 /b -- rundir
expect "-d refused by the init script's run" 'OPTIONS="-d"' 1 "" -- run
expect_err "-d: says why" 'OPTIONS="-cd"' "has -d, which never detaches" -- run
expect "-d fine in the foreground (unit)" 'OPTIONS="-d"' 0 \
	"[-a][pam][-d][--foreground]" -- run --foreground
expect "-d inside -m's value is not -d" 'OPTIONS="-m /srv/d"' 0 \
	"[-a][pam][-m][/srv/d]" -- run
expect_err "relative -m" 'OPTIONS="-m run"' "-m needs an absolute" -- args
expect_err "two mechanisms" 'MECHANISMS="pam ldap"' "give one mechanism" -- args
expect_err "THREADS not a number" 'THREADS=five' "is not a number" -- args
expect_err "bad POSTFIX_CHROOT" 'POSTFIX_CHROOT=maybe' "want auto, yes" -- args
expect_err "unknown command" '' "usage:" -- frobnicate
expect "POSTFIX_CHROOT=auto with Postfix" 'POSTFIX_CHROOT=auto' 0 \
	"-a pam --postfix-chroot=$T/spool" -- args
expect "POSTFIX_CHROOT unset (a copied file): no chroot socket" \
	"$debian" 0 "-a pam -n 5 -c -m /var/run/saslauthd" -- args
expect "POSTFIX_CHROOT=yes" 'POSTFIX_CHROOT=yes' 0 \
	"-a pam --postfix-chroot" -- args
expect "POSTFIX_CHROOT=/DIR" 'POSTFIX_CHROOT=/srv/pf' 0 \
	"-a pam --postfix-chroot=/srv/pf" -- args
expect "POSTFIX_CHROOT=no" 'POSTFIX_CHROOT=no' 0 "-a pam" -- args
# Cyrus' chroot recipe serves the chroot socket through -m already: a
# second listener on it would be refused by the daemon.
expect "Cyrus' chroot recipe + auto: not twice" "OPTIONS=\"-m $T/spool/var/run/saslauthd\"
POSTFIX_CHROOT=auto" 0 "-a pam -m $T/spool/var/run/saslauthd" -- args
expect "--postfix-chroot in OPTIONS + auto: not twice" \
	'OPTIONS="--postfix-chroot"
POSTFIX_CHROOT=auto' 0 "-a pam --postfix-chroot" -- args
printf '#!/bin/sh\necho %s\n' "$T/no-such-dir" >"$T/postconf"
expect "auto, queue directory missing" 'POSTFIX_CHROOT=auto' 0 "-a pam" -- args
printf '#!/bin/sh\nexit 1\n' >"$T/postconf"
expect "auto, postconf fails" 'POSTFIX_CHROOT=auto' 0 "-a pam" -- args
# The shipped file.
expect "shipped default file" "$(cat "$src/init/saslauthd-ng.default")" 0 \
	"-a pam -n 5 -m /run/saslauthd" -- args

echo "start_helper: $passed passed, $failed failed"
[ "$failed" = 0 ]

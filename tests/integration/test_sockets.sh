#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Several sockets (--listen), the Postfix chroot socket (--postfix-chroot)
# and `saslauthd-ng --check` against a private Postfix configuration
# directory (postconf -c; no Postfix needs to run for --check, the real
# Postfix end to end is test_postfix.sh).
. "$(dirname "$0")/lib.sh"

answers() { # NAME SOCKET
	expect "$1" 0 '0: OK "Success."' -- \
		"$TESTSASLAUTHD" -f "$2" -s smtp -u alice -p Alice-pw1
}
modes() { stat -c '%U:%G %a' "$@"; }
# run_daemon ARGS...: start (detached) on $RUN; rc and stderr kept.
run_daemon() {
	"$DAEMON" -a pam -n 1 -m "$RUN" "$@" 2>"$SB/daemon.err"
	local rc=$?
	[ $rc = 0 ] && DAEMON_PID=$(cat "$RUN/saslauthd.pid")
	return $rc
}
# refused NAME WANT_RC REGEX ARGS...: start-up fails with rc and message.
refused() {
	local name=$1 want=$2 re=$3
	shift 3
	run_daemon "$@"
	local rc=$?
	if [ $rc = 0 ]; then
		fail "$name: started"
		stop_daemon
	elif [ $rc = "$want" ] && grep -Eq -- "$re" "$SB/daemon.err"; then
		pass "$name"
	else
		fail "$name: rc $rc, stderr: $(cat "$SB/daemon.err")"
	fi
}

# ---- --listen ---------------------------------------------------------------
L1="$SB/l1/sub/mux"
L2="$SB/l2/mux"
if run_daemon --listen "saslauthd:$L1,mode=0660,group=sasl" \
	--listen "saslauthd:$L2"; then
	answers "--listen: -m socket answers" "$RUN/mux"
	answers "--listen: first extra socket answers" "$L1"
	answers "--listen: second extra socket answers" "$L2"
	got=$(modes "$SB/l1" "$SB/l1/sub" | tr '\n' ' ')
	[ "$got" = "root:sasl 710 root:sasl 710 " ] &&
		pass "--listen: missing directories made root:sasl 0710" ||
		fail "--listen: directories: $got"
	got=$(modes "$L1")
	[ "$got" = "root:sasl 660" ] &&
		pass "--listen: mode=0660,group=sasl applied to the socket" ||
		fail "--listen: socket $got, want root:sasl 660"
	got=$(modes "$L2")
	[ "$got" = "root:root 777" ] &&
		pass "--listen: default socket mode 0777 (Cyrus)" ||
		fail "--listen: default socket $got"
	grep -q "listening on $L1 (--listen)" "$SB/daemon.err" &&
		pass "--listen: each socket named at start-up" ||
		fail "--listen: start-up log: $(cat "$SB/daemon.err")"
	# Another instance on one of the sockets: exit 2, nothing stolen.
	"$DAEMON" -a pam -n 1 -m "$SB/other" --listen "saslauthd:$L2" \
		2>"$SB/err2"
	rc=$?
	[ $rc = 2 ] && grep -q "$L2 is in use" "$SB/err2" &&
		pass "--listen: a socket served by another daemon: exit 2" ||
		fail "--listen: in use: rc $rc $(cat "$SB/err2")"
	answers "--listen: the first daemon still serves it" "$L2"
	stop_daemon
	[ ! -e "$L1" ] && [ ! -e "$L2" ] && [ ! -e "$RUN/mux" ] &&
		pass "--listen: every socket removed at stop" ||
		fail "--listen: sockets left: $(ls "$SB/l1/sub" "$SB/l2" "$RUN")"
else
	fail "--listen: start: $(cat "$SB/daemon.err")"
fi

refused "--listen without PROTOCOL: exit 1" 1 "want PROTOCOL:PATH" \
	--listen "$SB/x/mux"
refused "--listen unknown protocol: exit 1" 1 "unknown protocol 'smtp'" \
	--listen "smtp:$SB/x/mux"
refused "--listen relative path: exit 1" 1 "not an absolute path" \
	--listen "saslauthd:x/mux"
refused "--listen bad mode: exit 1" 1 "mode=0888" \
	--listen "saslauthd:$SB/x/mux,mode=0888"
refused "--listen unknown owner: exit 1" 1 "no such user: no-such-user" \
	--listen "saslauthd:$SB/x/mux,owner=no-such-user"
refused "--listen unknown group: exit 1" 1 "no such group: no-such-group" \
	--listen "saslauthd:$SB/x/mux,group=no-such-group"
refused "--listen unknown option: exit 1" 1 "unknown option 'size'" \
	--listen "saslauthd:$SB/x/mux,size=1"
refused "--listen the -m socket twice: exit 1" 1 "already served \(-m\)" \
	--listen "saslauthd:$RUN/mux"
long="$SB/$(printf 'd%.0s' $(seq 1 $((108 - ${#SB} - 5))))/mux"
refused "--listen ${#long}-byte path: exit 1, not truncated" 1 \
	"longer than the 107 bytes" --listen "saslauthd:$long"
[ ! -e "$SB/x" ] && pass "--listen: nothing created by refused options" ||
	fail "--listen: refused options created $SB/x"

# ---- --postfix-chroot -------------------------------------------------------
SPOOL="$SB/spool"
refused "--postfix-chroot: missing queue directory: exit 1" 1 \
	"is not a directory: is Postfix installed" --postfix-chroot="$SPOOL"
[ ! -e "$SPOOL" ] &&
	pass "--postfix-chroot: a missing spool is not created" ||
	fail "--postfix-chroot: created $SPOOL"
mkdir -m 0755 "$SPOOL"
PFSOCK="$SPOOL/var/run/saslauthd/mux"
if run_daemon --postfix-chroot="$SPOOL"; then
	answers "--postfix-chroot: DIR/var/run/saslauthd/mux answers" "$PFSOCK"
	answers "--postfix-chroot: the -m socket still answers" "$RUN/mux"
	got=$(modes "$SPOOL/var" "$SPOOL/var/run" "$SPOOL/var/run/saslauthd" |
		tr '\n' ' ')
	[ "$got" = "root:sasl 710 root:sasl 710 root:sasl 710 " ] &&
		pass "--postfix-chroot: var/run/saslauthd made root:sasl 0710" ||
		fail "--postfix-chroot: directories: $got"
	[ "$(modes "$SPOOL")" = "root:root 755" ] &&
		pass "--postfix-chroot: the spool itself unchanged" ||
		fail "--postfix-chroot: spool now $(modes "$SPOOL")"
	stop_daemon
	[ ! -e "$PFSOCK" ] && pass "--postfix-chroot: socket removed at stop" ||
		fail "--postfix-chroot: $PFSOCK left behind"
else
	fail "--postfix-chroot: start: $(cat "$SB/daemon.err")"
fi
# The Debian statoverride recipe's 0750 is kept, never loosened.
chmod 0750 "$SPOOL/var/run/saslauthd"
if run_daemon --postfix-chroot="$SPOOL"; then
	[ "$(modes "$SPOOL/var/run/saslauthd")" = "root:sasl 750" ] &&
		pass "--postfix-chroot: existing 0750 directory kept" ||
		fail "--postfix-chroot: now $(modes "$SPOOL/var/run/saslauthd")"
	stop_daemon
else
	fail "--postfix-chroot 0750: $(cat "$SB/daemon.err")"
fi
chmod 0710 "$SPOOL/var/run/saslauthd"
# A directory someone else controls: served, but loudly.
chown unixuser "$SPOOL/var/run"
if run_daemon --postfix-chroot="$SPOOL"; then
	grep -q "$SPOOL/var/run is owned by uid $(id -u unixuser), not root" \
		"$SB/daemon.err" &&
		pass "--postfix-chroot: warns of a directory owned by a user" ||
		fail "--postfix-chroot: no warning: $(cat "$SB/daemon.err")"
	stop_daemon
else
	fail "--postfix-chroot untrusted: $(cat "$SB/daemon.err")"
fi
chown root "$SPOOL/var/run"
long="$SB/$(printf 'q%.0s' $(seq 1 $((108 - ${#SB} - 23))))"
mkdir "$long"
refused "--postfix-chroot: socket path over sun_path: exit 1" 1 \
	"--postfix-chroot: socket path .* longer than the 107 bytes" \
	--postfix-chroot="$long"

# ---- --check ----------------------------------------------------------------
if ! command -v postconf >/dev/null || ! id postfix >/dev/null 2>&1; then
	skip "--check: Postfix is not installed (apt-get install postfix;" \
		"CI installs it)"
	finish
fi
PF="$SB/pfconf"
mkdir -p "$PF/sasl"
write_postfix() { # write_postfix CHROOT(y|n) [main.cf lines...]
	local chroot=$1
	shift
	{
		echo "compatibility_level = 3.6"
		echo "queue_directory = $SPOOL"
		echo "smtpd_sasl_auth_enable = yes"
		printf '%s\n' "$@"
	} >"$PF/main.cf"
	echo "smtp inet n - $chroot - - smtpd" >"$PF/master.cf"
	echo "pickup unix n - y 60 1 pickup" >>"$PF/master.cf"
}
write_sasl() { printf '%s\n' "$@" >"$PF/sasl/smtpd.conf"; }
write_postfix y
write_sasl "pwcheck_method: saslauthd" "mech_list: PLAIN LOGIN"
CHECK=("$DAEMON" --check -m "$RUN" --postfix-chroot="$SPOOL"
	--postfix-config "$PF")
# check NAME WANT_RC REGEX...: every REGEX must match the output.
check() {
	local name=$1 want=$2 out rc re
	shift 2
	out=$("${CHECK[@]}" 2>&1)
	rc=$?
	echo "$out" >"$SB/check.out"
	if [ "$rc" != "$want" ]; then
		fail "$name: rc $rc, want $want: $out"
		return
	fi
	for re in "$@"; do
		if ! grep -Eq -- "$re" "$SB/check.out"; then
			fail "$name: no /$re/ in: $out"
			return
		fi
	done
	pass "$name"
}

usermod -a -G sasl postfix
run_daemon --postfix-chroot="$SPOOL" || fail "--check: daemon start"
check "--check: a working set-up passes (exit 0)" 0 \
	"^ok: saslauthd-ng is running" \
	"^ok: $SPOOL/var/run/saslauthd/mux \(--postfix-chroot\) accepts" \
	"^ok: smtp/inet: user postfix reaches $PFSOCK" \
	"^ok: PAM service smtp: /etc/pam.d/smtp" "^no problems"
echo "--- saslauthd-ng --check on a working set-up:"
cat "$SB/check.out"

gpasswd -d postfix sasl >/dev/null
check "--check: postfix not in group sasl: fix is adduser" 1 \
	"^PROBLEM: $SPOOL/var \(owner 0, group sasl, mode 0710\) does not let user postfix reach the socket" \
	"fix: adduser postfix sasl"
echo "--- saslauthd-ng --check, postfix not in group sasl:"
cat "$SB/check.out"
usermod -a -G sasl postfix

chmod 0700 "$SPOOL/var/run"
check "--check: directory closed to the group: fix is chgrp+chmod" 1 \
	"^PROBLEM: $SPOOL/var/run \(owner 0, group sasl, mode 0700\)" \
	"fix: chgrp sasl $SPOOL/var/run && chmod 0710 $SPOOL/var/run"
chmod 0710 "$SPOOL/var/run"

write_sasl "pwcheck_method: saslauthd" "mech_list: PLAIN LOGIN" \
	"saslauthd_path: /var/run/saslauthd"
check "--check: saslauthd_path without /mux: the right line" 1 \
	"saslauthd_path: /var/run/saslauthd is a directory" \
	"fix: put this line in $PF/sasl/smtpd.conf:  saslauthd_path: /var/run/saslauthd/mux"
echo "--- saslauthd-ng --check, saslauthd_path without /mux:"
cat "$SB/check.out"
write_sasl "pwcheck_method: saslauthd" "mech_list: PLAIN LOGIN" \
	"saslauthd_path: /var/run/saslauthd/mux"
check "--check: saslauthd_path with /mux passes" 0 "^no problems"

write_sasl "pwcheck_method: auxprop" "mech_list: PLAIN LOGIN"
check "--check: pwcheck_method auxprop" 1 \
	"pwcheck_method is 'auxprop'" "pwcheck_method: saslauthd"
write_sasl "pwcheck_method: saslauthd" "mech_list: CRAM-MD5"
check "--check: mech_list without PLAIN/LOGIN" 1 \
	"mech_list 'CRAM-MD5' has neither PLAIN nor LOGIN"
write_sasl "pwcheck_method: saslauthd"
check "--check: no mech_list is a note, not a failure" 0 \
	"^note: .* has no mech_list" "mech_list: PLAIN LOGIN"
rm "$PF/sasl/smtpd.conf"
check "--check: no smtpd.conf" 1 "no smtpd.conf in $PF/sasl" \
	"fix: create $PF/sasl/smtpd.conf"
write_sasl "pwcheck_method: saslauthd" "mech_list: PLAIN LOGIN"

# smtpd_sasl_type = dovecot: smtpd_sasl_path names the socket, relative
# to the queue directory; it must be a Dovecot socket this daemon serves.
write_postfix y "smtpd_sasl_type = dovecot"
check "--check: dovecot with the Cyrus default smtpd_sasl_path" 1 \
	"smtpd_sasl_path = smtpd: with smtpd_sasl_type = dovecot" \
	"fix: postconf -e smtpd_sasl_path=private/auth"
write_postfix y "smtpd_sasl_type = dovecot" "smtpd_sasl_path = private/auth"
check "--check: dovecot socket not served: fix names --postfix-dovecot" 1 \
	"smtpd connects to private/auth, which is $SPOOL/private/auth" \
	"fix: run saslauthd-ng with --postfix-chroot=$SPOOL --postfix-dovecot"
stop_daemon
refused "--postfix-dovecot without Postfix's private/: exit 1" 1 \
	"$SPOOL/private is not a directory: start Postfix once" \
	--postfix-chroot="$SPOOL" --postfix-dovecot
[ ! -e "$SPOOL/private" ] &&
	pass "--postfix-dovecot: Postfix's private/ is never created" ||
	fail "--postfix-dovecot created $SPOOL/private"
refused "--postfix-dovecot without --postfix-chroot: exit 1" 1 \
	"--postfix-dovecot needs --postfix-chroot" --postfix-dovecot
# Postfix's own private/: postfix, 0700.
mkdir -m 0700 "$SPOOL/private"
chown postfix "$SPOOL/private"
run_daemon --postfix-chroot="$SPOOL" --postfix-dovecot ||
	fail "--postfix-dovecot: start: $(cat "$SB/daemon.err")"
got=$(modes "$SPOOL/private/auth" "$SPOOL/private" | tr '\n' ' ')
[ "$got" = "postfix:postfix 660 postfix:root 700 " ] &&
	pass "--postfix-dovecot: private/auth postfix:postfix 0660, private/ kept" ||
	fail "--postfix-dovecot: $got"
grep -q "private is owned by uid" "$SB/daemon.err" &&
	fail "--postfix-dovecot: private/ (the client's own) reported" \
		"untrusted: $(cat "$SB/daemon.err")" ||
	pass "--postfix-dovecot: private/, owned by the socket's client, trusted"
expect "--postfix-dovecot: testsaslauthd-ng -D answers" 0 '0: OK "Success."' \
	-- "$TESTSASLAUTHD" -D -f "$SPOOL/private/auth" -s smtp -u alice \
	-p Alice-pw1
CHECK=("$DAEMON" --check -m "$RUN" --postfix-chroot="$SPOOL"
	--postfix-dovecot --postfix-config "$PF")
check "--check: dovecot, private/auth served: passes" 0 \
	"^ok: $SPOOL/private/auth \(--postfix-dovecot\) accepts" \
	"^ok: smtp/inet: user postfix reaches $SPOOL/private/auth \(--postfix-dovecot\)" \
	"^no problems"
echo "--- saslauthd-ng --check, smtpd_sasl_type = dovecot:"
cat "$SB/check.out"
chmod 0600 "$SPOOL/private/auth"
chown root "$SPOOL/private/auth"
check "--check: dovecot socket closed to postfix" 1 \
	"^PROBLEM: $SPOOL/private/auth \(owner 0, group postfix, mode 0600\) does not let user postfix connect"
write_postfix y
write_sasl "pwcheck_method: saslauthd" "mech_list: PLAIN LOGIN" \
	"saslauthd_path: /private/auth"
check "--check: libsasl2 pointed at the Dovecot socket" 1 \
	"$SPOOL/private/auth \(--postfix-dovecot\) speaks the Dovecot protocol, but smtpd_sasl_type = cyrus needs the saslauthd one" \
	"fix: postconf -e smtpd_sasl_type=dovecot smtpd_sasl_path=private/auth"
write_sasl "pwcheck_method: saslauthd" "mech_list: PLAIN LOGIN"
stop_daemon
rmdir "$SPOOL/private" 2>/dev/null || rm -rf "$SPOOL/private"
run_daemon --postfix-chroot="$SPOOL" || fail "--check: daemon restart"
CHECK=("$DAEMON" --check -m "$RUN" --postfix-chroot="$SPOOL"
	--postfix-config "$PF")
write_postfix y "smtpd_sasl_auth_enable = no"
check "--check: SMTP AUTH off everywhere" 1 \
	"no smtpd service has SMTP AUTH on" "smtpd_sasl_auth_enable=yes"
write_postfix n
check "--check: smtpd not chrooted: host socket needed" 1 \
	"smtpd connects to /var/run/saslauthd/mux, which is /var/run/saslauthd/mux" \
	"fix: run saslauthd-ng with --listen saslauthd:/var/run/saslauthd/mux"
write_postfix y

mv /etc/pam.d/smtp "$SB/pam.smtp"
cp /etc/pam.d/other "$SB/pam.other"
check "--check: no PAM service file, 'other' allows: a note" 0 \
	"^note: no /etc/pam.d/smtp: PAM uses /etc/pam.d/other"
echo "auth required pam_deny.so" >/etc/pam.d/other
check "--check: no PAM service file, 'other' denies: a problem" 1 \
	"^PROBLEM: no PAM service file /etc/pam.d/smtp"
mv "$SB/pam.smtp" /etc/pam.d/smtp
cp "$SB/pam.other" /etc/pam.d/other

stop_daemon
run_daemon || fail "--check: daemon start without --postfix-chroot"
CHECK=("$DAEMON" --check -m "$RUN" --postfix-config "$PF")
check "--check: daemon without the chroot socket: fix names the option" 1 \
	"smtpd connects to /var/run/saslauthd/mux inside its chroot" \
	"fix: run saslauthd-ng with --postfix-chroot=$SPOOL"
stop_daemon
CHECK=("$DAEMON" --check -m "$RUN" --postfix-chroot="$SPOOL"
	--postfix-config "$PF")
check "--check: daemon down" 1 \
	"^PROBLEM: saslauthd-ng is not running" \
	"^PROBLEM: $PFSOCK \(--postfix-chroot\): no socket there"
echo "--- saslauthd-ng --check, daemon down:"
cat "$SB/check.out"

out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$DAEMON" --check 2>&1)
rc=$?
[ $rc = 1 ] && [[ $out == *"--check needs root"* ]] &&
	pass "--check as non-root: exit 1 with a message" ||
	fail "--check as non-root: rc $rc: $out"

finish

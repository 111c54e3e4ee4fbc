#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Postfix end to end: a private Postfix instance (its own config, queue and
# data directories under $SB, started with postfix -c; the system instance
# and /etc/postfix are never used) with smtpd chrooted in its queue
# directory and Cyrus SASL (pwcheck_method: saslauthd, no saslauthd_path),
# so libsasl2 in the jail connects to its compiled-in
# /var/run/saslauthd/mux, which is $QUEUE/var/run/saslauthd/mux outside -
# the Debian recipe, postfix in group sasl included. swaks authenticates
# with PLAIN and LOGIN, right and wrong password, on a listener allowing
# AUTH in plaintext and on one with STARTTLS and smtpd_tls_auth_only.
# Checked: the SMTP reply codes in swaks' transcripts, no AUTH before
# STARTTLS on the TLS-only port, smtpd really chrooted, the PAM service
# (smtp) in the daemon's log, and nothing of the instance left afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postfix_lib.sh"

# ---- the daemon -----------------------------------------------------------
# The ONE place saslauthd-ng is started for Postfix: its normal socket in
# $RUN and, with --postfix-chroot, $QUEUE/var/run/saslauthd/mux - the path
# libsasl2 finds inside smtpd's jail with no saslauthd_path.
# Foreground (-f) in the background so its log (stderr) can be read.
start_saslauthd() {
	"$DAEMON" -a pam -f -n 2 -m "$RUN" --postfix-chroot="$QUEUE" \
		2>"$SASLLOG" &
	DAEMON_PID=$!
	wait_for "saslauthd-ng's socket in the jail" daemon_up &&
		[ -S "$QUEUE/var/run/saslauthd/mux" ]
}
daemon_up() { # the socket is there, or the daemon is gone
	[ -S "$QUEUE/var/run/saslauthd/mux" ] ||
		! kill -0 "$DAEMON_PID" 2>/dev/null
}

# ---- the Postfix instance -------------------------------------------------
pf_prepare
# The Debian recipe: smtpd (user postfix) reaches the root:sasl 0710 socket
# directory through the sasl group.
usermod -a -G sasl postfix

# Cyrus SASL for the application "smtpd": saslauthd, no saslauthd_path
# (libsasl2's compiled-in /var/run/saslauthd/mux, inside the jail).
cat >"$CONF/sasl/smtpd.conf" <<EOF
pwcheck_method: saslauthd
mech_list: PLAIN LOGIN
EOF

# smtpd_sasl_path (smtpd: sasl/smtpd.conf) and smtpd_sasl_service (smtp:
# the PAM service) keep their defaults, as on a real system.
pf_main_cf "smtpd_sasl_type = cyrus" "cyrus_sasl_config_path = $CONF/sasl"
pf_master_cf
pf_jail
# $QUEUE/var/run/saslauthd is left to the daemon (root:sasl 0710).

start_saslauthd || {
	fail "saslauthd-ng did not start"
	finish_pf
}
st=$(stat -c '%U:%G %a' "$QUEUE/var" "$QUEUE/var/run" \
	"$QUEUE/var/run/saslauthd" | sort -u)
[ "$st" = "root:sasl 710" ] &&
	pass "socket directories in the jail made root:sasl 0710" ||
	fail "socket directories in the jail: $st, want root:sasl 710"

# ---- saslauthd-ng --check on this set-up -----------------------------------
# pf_check NAME WANT_RC REGEX...: --check with the daemon's options and
# this instance's configuration directory; every REGEX must match.
pf_check() {
	local name=$1 want=$2 out rc re
	shift 2
	out=$("$DAEMON" --check -m "$RUN" --postfix-chroot="$QUEUE" \
		--postfix-config "$CONF" 2>&1)
	rc=$?
	echo "$out" >"$SB/check.$name"
	[ "$rc" = "$want" ] || {
		fail "--check $name: rc $rc, want $want: $out"
		return
	}
	for re in "$@"; do
		grep -Eq -- "$re" "$SB/check.$name" || {
			fail "--check $name: no /$re/ in: $out"
			return
		}
	done
	pass "--check $name: rc $want"
}
pf_check ok 0 "^ok: 127.0.0.1:$PORT_PLAIN/inet: user postfix reaches" \
	"^ok: 127.0.0.1:$PORT_TLS/inet: user postfix reaches" "^no problems"
echo "---- saslauthd-ng --check on this set-up ----"
cat "$SB/check.ok"
gpasswd -d postfix sasl >/dev/null
pf_check no-group 1 \
	"^PROBLEM: $QUEUE/var \(owner 0, group sasl, mode 0710\) does not let user postfix reach the socket" \
	"fix: adduser postfix sasl"
usermod -a -G sasl postfix
chmod 0700 "$QUEUE/var/run/saslauthd"
pf_check dir-closed 1 \
	"^PROBLEM: $QUEUE/var/run/saslauthd \(owner 0, group sasl, mode 0700\)" \
	"fix: chgrp sasl $QUEUE/var/run/saslauthd && chmod 0710"
chmod 0710 "$QUEUE/var/run/saslauthd"
cp "$CONF/sasl/smtpd.conf" "$SB/smtpd.conf.good"
echo "saslauthd_path: /var/run/saslauthd" >>"$CONF/sasl/smtpd.conf"
pf_check no-mux 1 "saslauthd_path: /var/run/saslauthd is a directory" \
	"fix: put this line in $CONF/sasl/smtpd.conf:  saslauthd_path: /var/run/saslauthd/mux"
echo "---- saslauthd-ng --check, saslauthd_path without /mux ----"
grep -E '^(PROBLEM|    fix)' "$SB/check.no-mux"
cp "$SB/smtpd.conf.good" "$CONF/sasl/smtpd.conf"
pf_check restored 0 "^no problems"

pf_start

# ---- AUTH through Postfix ------------------------------------------------
# The plaintext listener: AUTH offered without TLS, no STARTTLS at all.
want_auth plain-PLAIN-ok "$PORT_PLAIN" PLAIN "$PW" 235
ehlo_lists plain-PLAIN-ok "AUTH PLAIN LOGIN" &&
	! ehlo_lists plain-PLAIN-ok STARTTLS &&
	pass "plaintext port offers AUTH PLAIN LOGIN and no STARTTLS" ||
	fail "plaintext port EHLO: $(grep '250' "$SB/swaks.plain-PLAIN-ok")"
want_auth plain-PLAIN-bad "$PORT_PLAIN" PLAIN "$BAD_PW" 535
want_auth plain-LOGIN-ok "$PORT_PLAIN" LOGIN "$PW" 235
want_auth plain-LOGIN-bad "$PORT_PLAIN" LOGIN "$BAD_PW" 535

# The STARTTLS listener with smtpd_tls_auth_only: no AUTH before STARTTLS,
# and a client that sends AUTH anyway is refused before any check.
"$SWAKS" --server 127.0.0.1 --port "$PORT_TLS" --timeout 15 \
	--ehlo client.example.test --to postmaster@example.test \
	--quit-after EHLO </dev/null >"$SB/swaks.tls-ehlo" 2>&1
ehlo_lists tls-ehlo STARTTLS && ! grep -q AUTH "$SB/swaks.tls-ehlo" &&
	pass "TLS-only port offers STARTTLS and no AUTH before it" ||
	fail "TLS-only port EHLO before STARTTLS: $(cat "$SB/swaks.tls-ehlo")"

raw_auth_before_starttls() {
	local b64
	b64=$(printf '\0alice\0%s' "$PW" | base64 -w0)
	exec 3<>"/dev/tcp/127.0.0.1/$PORT_TLS" || return 1
	smtp_reply >/dev/null &&
		printf 'EHLO client.example.test\r\n' >&3 &&
		smtp_reply >/dev/null &&
		printf 'AUTH PLAIN %s\r\n' "$b64" >&3 &&
		smtp_reply &&
		printf 'QUIT\r\n' >&3
	exec 3<&-
}
reply=$(raw_auth_before_starttls)
case $reply in
503\ *) pass "TLS-only port refuses AUTH before STARTTLS ($reply)" ;;
*) fail "AUTH before STARTTLS on the TLS-only port: got '$reply', want 503" ;;
esac

want_auth tls-PLAIN-ok "$PORT_TLS" PLAIN "$PW" 235 --tls
want_auth tls-PLAIN-bad "$PORT_TLS" PLAIN "$BAD_PW" 535 --tls
want_auth tls-LOGIN-ok "$PORT_TLS" LOGIN "$PW" 235 --tls
want_auth tls-LOGIN-bad "$PORT_TLS" LOGIN "$BAD_PW" 535 --tls
grep -q '^=== TLS started' "$SB/swaks.tls-LOGIN-ok" &&
	ehlo_lists tls-LOGIN-ok "AUTH PLAIN LOGIN" &&
	pass "TLS-only port offers AUTH PLAIN LOGIN after STARTTLS" ||
	fail "after STARTTLS: $(cat "$SB/swaks.tls-LOGIN-ok")"

# ---- smtpd really ran chrooted, as postfix with group sasl -----------------
jail=$(readlink -f "$QUEUE")
sasl_gid=$(getent group sasl | cut -d: -f3)
n=0
for p in $(pgrep -P "$MASTER_PID" -x smtpd); do
	n=$((n + 1))
	root=$(readlink "/proc/$p/root")
	groups=" $(awk '/^Groups:/ { $1 = ""; print }' "/proc/$p/status") "
	if [ "$root" = "$jail" ] && [ "$(proc_uid "$p")" = "$(id -u postfix)" ] &&
		[ "${groups#* "$sasl_gid" }" != "$groups" ]; then
		pass "smtpd $p: root $root, user postfix, group sasl"
	else
		fail "smtpd $p: root '$root' (want $jail), uid $(proc_uid "$p")," \
			"groups$groups(want sasl $sasl_gid)"
	fi
done
# One per listener, still idle-waiting (max_idle) after the sessions.
[ "$n" -ge 2 ] && pass "$n smtpd processes of this master checked" ||
	fail "found $n smtpd children of master $MASTER_PID, want >= 2"

# ---- the daemon saw PAM service smtp -----------------------------------------
# Four wrong passwords: four failures logged for service smtp, no other.
four_failures() {
	[ "$(grep -c 'auth failure: \[user=alice\] \[service=smtp\]' \
		"$SASLLOG")" -ge 4 ]
}
if wait_for "the daemon's failure log" four_failures >/dev/null &&
	! grep 'auth failure' "$SASLLOG" | grep -vq '\[service=smtp\]'; then
	pass "daemon log: failures for user alice, service smtp"
else
	fail "daemon log: $(grep -E 'auth (success|failure)' "$SASLLOG" ||
		echo '(no auth lines)')"
fi

# ---- the two transcripts kept for the record -----------------------------
for t in plain-PLAIN-ok tls-LOGIN-bad; do
	if grep -qF -e "$PW" -e "$BAD_PW" "$SB/swaks.$t"; then
		fail "transcript $t shows a password in clear"
	else
		echo "---- swaks transcript $t (password only in base64) ----"
		cat "$SB/swaks.$t"
		echo "---- end of $t ----"
	fi
done

# ---- without the daemon, no AUTH succeeds ---------------------------------
# Negative control: the 235s above came through the socket in the jail.
stop_daemon
want_auth plain-PLAIN-nodaemon "$PORT_PLAIN" PLAIN "$PW" 454
pf_check daemon-down 1 "^PROBLEM: saslauthd-ng is not running" \
	"no socket at $QUEUE/var/run/saslauthd/mux"

# ---- stop: nothing of this instance is left ------------------------------
pf_stop
echo "run time: $((($(now_ms) - T0) / 1000)) s"
finish_pf

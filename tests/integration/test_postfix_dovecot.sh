#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Postfix end to end over the Dovecot auth protocol: the private Postfix
# instance of postfix_lib.sh (smtpd chrooted in its queue directory) with
# smtpd_sasl_type = dovecot and smtpd_sasl_path = private/auth, the socket
# served by saslauthd-ng --postfix-dovecot inside the queue directory; no
# Cyrus SASL and no Dovecot involved. swaks AUTH PLAIN (initial response)
# and LOGIN (CONT rounds), right and wrong password, with and without
# STARTTLS; a raw SMTP client for PLAIN without initial response (CONT)
# and for a client that aborts with "*" and retries on the same
# connection; --check on this set-up; the daemon restarted under a
# running Postfix; --dovecot-require-secured through Postfix.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postfix_lib.sh"

AUTHSOCK="$QUEUE/private/auth"

# ---- the daemon -----------------------------------------------------------
# start_saslauthd [ARGS...]: its normal socket in $RUN, the Cyrus one in
# the jail (--postfix-chroot) and private/auth (--postfix-dovecot); -d:
# in the foreground with debug lines, in the background.
start_saslauthd() {
	"$DAEMON" -a pam -d -n 2 -m "$RUN" --postfix-chroot="$QUEUE" \
		--postfix-dovecot "$@" 2>>"$SASLLOG" &
	DAEMON_PID=$!
	wait_for "saslauthd-ng's socket private/auth" daemon_up &&
		[ -S "$AUTHSOCK" ]
}
daemon_up() { # the socket is there, or the daemon is gone
	[ -S "$AUTHSOCK" ] || ! kill -0 "$DAEMON_PID" 2>/dev/null
}

# ---- the Postfix instance -------------------------------------------------
pf_prepare
pf_main_cf "smtpd_sasl_type = dovecot" "smtpd_sasl_path = private/auth"
pf_master_cf
pf_jail

# Postfix makes its private/ (postfix 0700); saslauthd-ng never does.
if "$DAEMON" -a pam -m "$RUN" --postfix-chroot="$QUEUE" --postfix-dovecot \
	2>"$SB/early.err"; then
	fail "--postfix-dovecot started before Postfix made private/"
	DAEMON_PID=$(cat "$RUN/saslauthd.pid")
	stop_daemon
else
	grep -q "$QUEUE/private is not a directory" "$SB/early.err" &&
		pass "no private/ yet: refused with a message" ||
		fail "no private/: $(cat "$SB/early.err")"
fi
pf_start
st=$(stat -c '%U %a' "$QUEUE/private")
[ "$st" = "postfix 700" ] && pass "Postfix made private/ (postfix 0700)" ||
	fail "private/: $st"

start_saslauthd || {
	fail "saslauthd-ng did not start: $(cat "$SASLLOG")"
	finish_pf
}
st=$(stat -c '%U:%G %a' "$AUTHSOCK")
[ "$st" = "postfix:postfix 660" ] &&
	pass "private/auth is postfix:postfix 0660 (Dovecot's recipe)" ||
	fail "private/auth: $st"
grep -q 'not root' "$SASLLOG" &&
	fail "daemon warned about a directory: $(grep 'not root' "$SASLLOG")" ||
	pass "no untrusted-directory warning for Postfix's private/"

# ---- saslauthd-ng --check on this set-up -----------------------------------
out=$("$DAEMON" --check -m "$RUN" --postfix-chroot="$QUEUE" \
	--postfix-dovecot --postfix-config "$CONF" 2>&1)
rc=$?
echo "$out" >"$SB/check.ok"
if [ $rc = 0 ] &&
	grep -q "^ok: 127.0.0.1:$PORT_PLAIN/inet: user postfix reaches $AUTHSOCK" \
		"$SB/check.ok" &&
	grep -q "^ok: 127.0.0.1:$PORT_TLS/inet: user postfix reaches $AUTHSOCK" \
		"$SB/check.ok"; then
	pass "--check passes on this set-up"
else
	fail "--check: rc $rc: $out"
fi
echo "---- saslauthd-ng --check on this set-up ----"
cat "$SB/check.ok"

# ---- swaks --------------------------------------------------------------------
# swaks sends PLAIN with the initial response, LOGIN without (two CONTs).
want_auth plain-PLAIN-ok "$PORT_PLAIN" PLAIN "$PW" 235
ehlo_lists plain-PLAIN-ok "AUTH PLAIN LOGIN" &&
	pass "EHLO offers the Dovecot handshake's AUTH PLAIN LOGIN" ||
	fail "EHLO: $(grep 250 "$SB/swaks.plain-PLAIN-ok")"
want_auth plain-PLAIN-bad "$PORT_PLAIN" PLAIN "$BAD_PW" 535
want_auth plain-LOGIN-ok "$PORT_PLAIN" LOGIN "$PW" 235
want_auth plain-LOGIN-bad "$PORT_PLAIN" LOGIN "$BAD_PW" 535
want_auth tls-PLAIN-ok "$PORT_TLS" PLAIN "$PW" 235 --tls
want_auth tls-PLAIN-bad "$PORT_TLS" PLAIN "$BAD_PW" 535 --tls
want_auth tls-LOGIN-ok "$PORT_TLS" LOGIN "$PW" 235 --tls
want_auth tls-LOGIN-bad "$PORT_TLS" LOGIN "$BAD_PW" 535 --tls
grep -q '^=== TLS started' "$SB/swaks.tls-LOGIN-ok" &&
	pass "the TLS-port logins ran under STARTTLS" ||
	fail "no TLS in: $(cat "$SB/swaks.tls-LOGIN-ok")"

# ---- a raw SMTP client: PLAIN without initial response, "*" and retry --------
# smtp CMD: send one command line on fd 3; the command and the reply's
# last line go to $RAWLOG (passwords appear only in base64).
smtp() {
	printf '%s\r\n' "$1" >&3
	echo " -> $1" >>"$RAWLOG"
	smtp_reply >>"$RAWLOG"
}
raw_session() { # NAME: commands on stdin, one per line
	RAWLOG="$SB/raw.$1"
	: >"$RAWLOG"
	exec 3<>"/dev/tcp/127.0.0.1/$PORT_PLAIN" || return 1
	smtp_reply >>"$RAWLOG"
	local cmd
	while IFS= read -r cmd; do
		smtp "$cmd"
	done
	exec 3<&-
}
P_OK=$(printf '\0alice\0%s' "$PW" | base64 -w0)
printf '%s\n' "EHLO client.example.test" "AUTH PLAIN" "$P_OK" QUIT |
	raw_session plain-cont
codes=$(awk '{ print $1 }' "$SB/raw.plain-cont" | grep -E '^[0-9]{3}' |
	tr '\n' ' ')
[ "$codes" = "220 250 334 235 221 " ] &&
	pass "PLAIN without initial response: 334 (CONT), then 235" ||
	fail "PLAIN without initial response: codes $codes:" \
		"$(cat "$SB/raw.plain-cont")"
printf '%s\n' "EHLO client.example.test" "AUTH LOGIN" "*" \
	"AUTH PLAIN $P_OK" QUIT | raw_session abort-retry
codes=$(awk '{ print $1 }' "$SB/raw.abort-retry" | grep -E '^[0-9]{3}' |
	tr '\n' ' ')
[ "$codes" = "220 250 334 501 235 221 " ] &&
	pass "AUTH LOGIN, '*' (501), then AUTH PLAIN on the same connection: 235" ||
	fail "abort and retry: codes $codes: $(cat "$SB/raw.abort-retry")"

# ---- the transcripts, for the record -----------------------------------------
for t in swaks.plain-LOGIN-ok swaks.tls-PLAIN-bad raw.plain-cont \
	raw.abort-retry; do
	if grep -qF -e "$PW" -e "$BAD_PW" "$SB/$t"; then
		fail "transcript $t shows a password in clear"
	else
		echo "---- transcript $t (passwords only in base64) ----"
		cat "$SB/$t"
		echo "---- end of $t ----"
	fi
done

# ---- the daemon's log: Cyrus-style failure lines, PAM service smtp ----------
four_failures() {
	[ "$(grep -c 'auth failure: \[user=alice\] \[service=smtp\] \[realm=\] \[remote=127.0.0.1\] \[mech=pam\]' \
		"$SASLLOG")" -ge 4 ]
}
wait_for "the daemon's failure log" four_failures >/dev/null &&
	pass "daemon log: 4 failures, user alice, service smtp, remote 127.0.0.1" ||
	fail "daemon log: $(grep -E 'auth (success|failure)' "$SASLLOG")"

# ---- the daemon restarts under a running Postfix -----------------------------
# smtpd keeps its auth connection across sessions; after a restart its
# next write fails and it reconnects (xsasl_dovecot_server.c).
stop_daemon
start_saslauthd || fail "restart: $(tail -5 "$SASLLOG")"
want_auth restart-PLAIN-ok "$PORT_PLAIN" PLAIN "$PW" 235
want_auth restart-LOGIN-ok "$PORT_TLS" LOGIN "$PW" 235 --tls

# ---- --dovecot-require-secured: plaintext mechanisms only under TLS --------
stop_daemon
start_saslauthd --dovecot-require-secured || fail "restart with secured"
want_auth secured-plain-PLAIN "$PORT_PLAIN" PLAIN "$PW" 535
grep -q 'Plaintext authentication disallowed' "$SB/swaks.secured-plain-PLAIN" &&
	pass "without TLS: 535 says plaintext authentication is disallowed" ||
	fail "without TLS: $(grep 535 "$SB/swaks.secured-plain-PLAIN")"
want_auth secured-tls-PLAIN "$PORT_TLS" PLAIN "$PW" 235 --tls

# ---- without the daemon, no AUTH succeeds ---------------------------------
stop_daemon
want_auth nodaemon-PLAIN "$PORT_PLAIN" PLAIN "$PW" 454

pf_stop
echo "run time: $((($(now_ms) - T0) / 1000)) s"
finish_pf

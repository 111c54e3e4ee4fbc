#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The Dovecot auth protocol served by the daemon (--listen dovecot:PATH):
# testsaslauthd-ng -D, transcripts played with dvraw (PLAIN, LOGIN, CONT,
# several pending requests, the "*" abort), bad input (over-long lines,
# unknown commands, AUTH before VERSION, duplicate ids, bad base64, NUL
# inside PLAIN fields: each answered or closed, never OK, and the daemon
# keeps serving), PAM temporary failures and timeouts answered within
# Postfix's 10 s, failure delays that hold no worker, the failure log line,
# --dovecot-require-secured, and USR1 statistics.
. "$(dirname "$0")/lib.sh"
# "... | bad NAME": the last command of a pipeline runs in this shell, so
# its pass/fail counts.
shopt -s lastpipe

DVRAW="$SASLD_BUILD/bin/dvraw"
DV="$SB/dv/auth"
LOG="$SB/daemon.log"
b64() { printf "$1" | base64 -w0; }
now_ms() { date +%s%3N; }

# pam_sasltest for the fault cases: service sasltest-dv, password "right"
# for everyone, a fault per user; sasltest-dv-rhost checks PAM_RHOST.
cat >/etc/pam.d/sasltest-dv <<PAMD
auth required $PAM_SASLTEST password=right
auth required $PAM_SASLTEST user_only=slowpoke sleep_ms=30000
auth required $PAM_SASLTEST user_only=unavail unavail
auth required $PAM_SASLTEST user_only=delayed fail_delay_us=1500000
account required $PAM_SASLTEST user_only=expired acct_newtok
PAMD
printf "auth required %s rhost=192.0.2.7\naccount required pam_permit.so\n" \
	"$PAM_SASLTEST" >/etc/pam.d/sasltest-dv-rhost

# dv NAME [DVRAW ARGS]: play stdin against the daemon's Dovecot socket;
# output in $SB/dv.NAME.
dv() {
	local name=$1
	shift
	"$DVRAW" "$@" "$DV" >"$SB/dv.$name" 2>&1
}
# want NAME DESCRIPTION EXPECTED: the normalised output of transcript
# NAME is exactly EXPECTED.
want() {
	local got
	got=$(cat "$SB/dv.$1")
	if [ "$got" = "$3" ]; then
		pass "$2"
	else
		fail "$2: got:"$'\n'"$got"$'\n'"want:"$'\n'"$3"
	fi
}
HS='< VERSION\t1\t2
< MECH\tPLAIN\tplaintext
< MECH\tLOGIN\tplaintext
< SPID\t<pid>
< CUID\t<cuid>
< COOKIE\t<cookie>
< DONE'
AUTH='AUTH\t%s\t%s\tservice=smtp\tnologin\tlip=127.0.0.1\trip=192.0.2.25'
auth() { printf "> $AUTH%s\n" "$1" "$2" "${3:-}"; }
# dv_start ARGS...: the daemon in the foreground (-d: debug log to $LOG),
# in the background; returns once the Dovecot socket is there.
dv_start() {
	"$DAEMON" -a pam -d -m "$RUN" --listen "dovecot:$DV" "$@" 2>"$LOG" &
	DAEMON_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -S "$DV" ] && [ -S "$RUN/mux" ] && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "daemon did not start: $(cat "$LOG")"
	finish
}
# alive NAME: the daemon still answers a good login over the socket.
alive() {
	expect "$1: daemon still serves" 0 '0: OK "Success."' -- \
		"$TESTSASLAUTHD" -D -f "$DV" -s smtp -u alice -p Alice-pw1
}

dv_start -n 2 --read-timeout 2

# ---- testsaslauthd-ng -D ------------------------------------------------------
expect "-D: right password" 0 '0: OK "Success."' -- \
	"$TESTSASLAUTHD" -D -f "$DV" -s smtp -u alice -p Alice-pw1
expect "-D: wrong password" 255 '0: NO "authentication failed"' -- \
	"$TESTSASLAUTHD" -D -f "$DV" -s smtp -u alice -p wrong
expect "-D: unknown user" 255 '0: NO "authentication failed"' -- \
	"$TESTSASLAUTHD" -D -f "$DV" -s smtp -u nobody-here -p x
expect "-D: PAM service from service=" 0 '0: OK "Success."' -- \
	"$TESTSASLAUTHD" -D -f "$DV" -s imap -u bob -p Bob-pw2
expect "-D: -R 3, three attempts" 0 \
	"$(printf '0: OK "Success."\n1: OK "Success."\n2: OK "Success."')" -- \
	"$TESTSASLAUTHD" -D -R 3 -f "$DV" -s smtp -u alice -p Alice-pw1
expect "-D: saslauthd socket refused as not Dovecot" 255 '0: ' -- \
	"$TESTSASLAUTHD" -D -t 3 -f "$RUN/mux" -s smtp -u alice -p Alice-pw1

# ---- transcripts -----------------------------------------------------------------
P_OK=$(b64 '\0alice\0Alice-pw1')
P_BAD=$(b64 '\0alice\0wrong')
{
	echo H
	echo '> VERSION\t1\t0'
	echo '> CPID\t4242'
	auth 1 PLAIN "\tresp=$P_OK"
	echo '<'
	auth 2 PLAIN "\tresp=$P_BAD"
	echo '<'
	auth 3 PLAIN
	echo '<'
	echo "> CONT\t3\t$P_OK"
	echo '<'
	auth 4 LOGIN
	echo '<'
	echo "> CONT\t4\t$(b64 alice)"
	echo '<'
	echo "> CONT\t4\t$(b64 Alice-pw1)"
	echo '<'
	auth 5 LOGIN "\tresp=$(b64 alice)"
	echo '<'
	echo "> CONT\t5\t$(b64 wrong)"
	echo '<'
} | dv flows
want flows "PLAIN and LOGIN flows, with CONT" "$HS
< OK\t1\tuser=alice
< FAIL\t2\tuser=alice
< CONT\t3\t
< OK\t3\tuser=alice
< CONT\t4\tVXNlcm5hbWU6
< CONT\t4\tUGFzc3dvcmQ6
< OK\t4\tuser=alice
< CONT\t5\tUGFzc3dvcmQ6
< FAIL\t5\tuser=alice"

# Postfix after an SMTP "*": the request is abandoned, a new one follows
# on the same connection and is served; the old id never gets a reply.
{
	echo H
	echo '> VERSION\t1\t0'
	echo '> CPID\t4243'
	auth 7 LOGIN
	echo '<'
	auth 8 PLAIN "\tresp=$P_OK"
	echo '<'
	echo 'Q 300'
	echo "> CONT\t7\t*"
	echo '<'
	auth 9 PLAIN "\tresp=$P_OK"
	echo '<'
} | dv abort
want abort "abandoned request: the next AUTH is served, '*' fails it" "$HS
< CONT\t7\tVXNlcm5hbWU6
< OK\t8\tuser=alice
= QUIET
< FAIL\t7\tcode=invalid_base64\treason=Invalid base64 data in continued response
< OK\t9\tuser=alice"

# ---- bad input: answered or closed, never OK; the daemon goes on ---------------
# bad NAME WANT: transcript on stdin, exact output, then the daemon serves.
bad() {
	BADN=$((BADN + 1))
	dv "bad$BADN"
	want "bad$BADN" "$1" "$2"
	grep -q '^< OK' "$SB/dv.bad$BADN" && fail "$1: an OK was sent"
}
BADN=0
printf '%s\n' H '> @20000:A' E | bad "line over 16384 bytes: closed" "$HS
= EOF"
printf '%s\n' H '> VERSION\t1\t0' '> @16383:A' E |
	bad "16383 bytes without LF, then LF: closed" "$HS
= EOF"
printf '%s\n' H '> VERSION\t1\t0' '> HELLO\tworld' E |
	bad "unknown command: closed" "$HS
= EOF"
{
	echo H
	auth 1 PLAIN "\tresp=$P_OK"
	echo E
} | bad "AUTH before VERSION: closed" "$HS
= EOF"
printf '%s\n' H '> VERSION\t2\t0' E | bad "VERSION 2: closed" "$HS
= EOF"
{
	echo H
	echo '> VERSION\t1\t0'
	auth 1 LOGIN
	echo '<'
	auth 1 PLAIN "\tresp=$P_OK"
	echo E
} | bad "duplicate request id: closed" "$HS
< CONT\t1\tVXNlcm5hbWU6
= EOF"
{
	echo H
	echo '> VERSION\t1\t0'
	auth 1 PLAIN '\tresp=AGFsaWNl!!!'
	echo '<'
	auth 2 PLAIN
	echo '<'
	echo '> CONT\t2\tnot base64'
	echo '<'
	auth 3 CRAM-MD5
	echo '<'
	auth 4 PLAIN
	echo '<'
} | bad "bad base64, unknown mechanism: FAIL, connection kept" "$HS
< FAIL\t1\tcode=invalid_base64\treason=Invalid base64 data in initial response
< CONT\t2\t
< FAIL\t2\tcode=invalid_base64\treason=Invalid base64 data in continued response
< FAIL\t3\treason=Unsupported authentication mechanism
< CONT\t4\t"
{
	echo H
	echo '> VERSION\t1\t0'
	auth 1 PLAIN "\tresp=$(b64 '\0alice\0Alice-pw1\0junk')"
	echo '<'
	auth 2 PLAIN "\tresp=$(b64 '\0ali\0ce\0Alice-pw1')"
	echo '<'
	auth 3 PLAIN "\tresp=$(b64 'bob\0alice\0Alice-pw1')"
	echo '<'
	auth 4 PLAIN "\tresp=$(b64 '\0alice\0')"
	echo '<'
	auth 5 PLAIN "\tresp=$(b64 'alice')"
	echo '<'
	auth 6 LOGIN "\tresp=$(b64 'ali\0ce')"
	echo '<'
} | bad "NUL inside PLAIN/LOGIN fields, authzid, empty password: FAIL" "$HS
< FAIL\t1
< FAIL\t2
< FAIL\t3\tuser=alice
< FAIL\t4\tuser=alice
< FAIL\t5
< FAIL\t6"
printf '%s\n' H '> VERSION\t1\t0' '> AUTH\t1\tPLAIN\tservice=sm\x00tp' E |
	bad "raw NUL byte in a line: closed" "$HS
= EOF"
{
	echo H
	echo '> VERSION\t1\t0'
	auth 0 PLAIN "\tresp=$P_OK"
	echo E
} | bad "request id 0: closed" "$HS
= EOF"
{
	echo H
	echo '> VERSION\t1\t0'
	echo "> AUTH\t1\tPLAIN\tresp=$P_OK"
	echo E
} | bad "AUTH without service=: closed" "$HS
= EOF"
t0=$(now_ms)
printf '%s\n' H E | dv silent -t 10
ms=$(($(now_ms) - t0))
want silent "no VERSION within --read-timeout (2 s): closed" "$HS
= EOF"
[ "$ms" -ge 1500 ] && [ "$ms" -lt 5000 ] &&
	pass "silent client closed after ${ms} ms" ||
	fail "silent client closed after ${ms} ms, want about 2000"
alive "after the bad input"
grep -q 'broke the protocol (AUTH before VERSION): closing' "$LOG" &&
	pass "protocol errors are logged with the reason" ||
	fail "no protocol error line in: $(grep -i dovecot "$LOG" | tail -5)"

# ---- the failure log line, PAM_RHOST, service ------------------------------------
grep -q 'auth failure: \[user=alice\] \[service=smtp\] \[realm=\] \[remote=192.0.2.25\] \[mech=pam\] \[reason=PAM auth error\]' "$LOG" &&
	pass "Cyrus failure line with [remote=rip]" ||
	fail "failure line: $(grep 'auth failure' "$LOG" | head -3)"
{
	echo H
	echo '> VERSION\t1\t0'
	printf '> AUTH\t1\tPLAIN\tservice=sasltest-dv-rhost\trip=192.0.2.7\tresp=%s\n' \
		"$(b64 '\0remote\0x')"
	echo '<'
	printf '> AUTH\t2\tPLAIN\tservice=sasltest-dv-rhost\trip=\tresp=%s\n' \
		"$(b64 '\0remote\0x')"
	echo '<'
} | dv rhost
want rhost "rip= reaches PAM as PAM_RHOST (and empty rip= as none)" "$HS
< OK\t1\tuser=remote
< FAIL\t2\tuser=remote"

# ---- temporary failures, deadlines and delays -------------------------------------
{
	echo H
	echo '> VERSION\t1\t0'
	printf '> AUTH\t1\tPLAIN\tservice=sasltest-dv\tresp=%s\n' \
		"$(b64 '\0unavail\0right')"
	echo '<'
	printf '> AUTH\t2\tPLAIN\tservice=sasltest-dv\tresp=%s\n' \
		"$(b64 '\0expired\0right')"
	echo '<'
} | dv tempfail
want tempfail "PAM_AUTHINFO_UNAVAIL: temp_fail; PAM_NEW_AUTHTOK_REQD: pass_expired" \
	"$HS
< FAIL\t1\tuser=unavail\tcode=temp_fail\treason=Temporary authentication failure
< FAIL\t2\tuser=expired\tcode=pass_expired"

# A PAM stack that hangs (30 s, --pam-timeout 60): the answer still comes
# within Postfix's 10 s, as a temporary failure.
stop_daemon
dv_start -n 1 --pam-timeout 60
t0=$(now_ms)
{
	echo H
	echo '> VERSION\t1\t0'
	printf '> AUTH\t1\tPLAIN\tservice=sasltest-dv\tresp=%s\n' \
		"$(b64 '\0slowpoke\0right')"
	echo '<'
} | dv hang -t 20
ms=$(($(now_ms) - t0))
want hang "hung PAM: temp_fail" "$HS
< FAIL\t1\tuser=slowpoke\tcode=temp_fail\treason=Temporary authentication failure"
[ "$ms" -ge 7500 ] && [ "$ms" -lt 9800 ] &&
	pass "hung PAM answered after ${ms} ms (8 s deadline, < 10 s)" ||
	fail "hung PAM answered after ${ms} ms, want 8000..9800"
alive "after a killed worker"

# The failure delay is a timer: with one worker, a login that fails with a
# 1.5 s PAM delay does not hold up the next one.
{
	echo H
	echo '> VERSION\t1\t0'
	printf '> AUTH\t1\tPLAIN\tservice=sasltest-dv\tresp=%s\n' \
		"$(b64 '\0delayed\0wrong')"
	echo 'W 200'
	auth 2 PLAIN "\tresp=$P_OK"
	echo '<'
	echo '<'
} | dv delay
want delay "failure delay holds the reply, not the worker" "$HS
< OK\t2\tuser=alice
< FAIL\t1\tuser=delayed"

# ---- --dovecot-require-secured ---------------------------------------------------
stop_daemon
dv_start -n 1 --dovecot-require-secured
{
	echo H
	echo '> VERSION\t1\t0'
	auth 1 PLAIN "\tresp=$P_OK"
	echo '<'
	auth 2 PLAIN "\tsecured\tresp=$P_OK"
	echo '<'
} | dv secured
want secured "--dovecot-require-secured: plaintext only with secured" "$HS
< FAIL\t1\treason=Plaintext authentication disallowed on non-secure (SSL/TLS) connections.
< OK\t2\tuser=alice"

# ---- statistics, and a stop with an idle Dovecot connection open ---------------
"$DVRAW" -t 30 "$DV" < <(echo H; echo '> VERSION\t1\t0'; echo 'Q 20000') \
	>"$SB/dv.idle" 2>&1 &
IDLE=$!
sleep 0.5
kill -USR1 "$DAEMON_PID"
for _ in $(seq 1 50); do
	grep -q '^.*dovecot: 1 connections open, 2 accepted' "$LOG" && break
	sleep 0.1
done
grep -q 'dovecot: 1 connections open, 2 accepted, 1 checks, 1 OK' "$LOG" &&
	pass "USR1: Dovecot counters" ||
	fail "USR1: $(grep 'dovecot:' "$LOG")"
t0=$(now_ms)
stop_daemon
ms=$(($(now_ms) - t0))
wait "$IDLE"
grep -q '= EOF' "$SB/dv.idle" && [ "$ms" -lt 3000 ] &&
	pass "stop closes an idle Dovecot connection at once (${ms} ms)" ||
	fail "stop with an idle connection: ${ms} ms, $(cat "$SB/dv.idle")"
finish

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_throttle.sh - repeated failures wait longer (throttle.c): per login
# and per client address, reset by a success, capped by --fail-delay-max,
# never holding a PAM worker; --fail-limit refuses without asking PAM;
# the options' bad values. pam_matrix asks for no failure delay of its
# own (the first failure is answered at once, which the test checks), so
# every delay measured here is the throttle's. About 30 s.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_measure.sh"

SLACK=700 # ms a reply may come late on a loaded 2-core machine

# delay_is NAME WANT_MS: R_REPLY is a NO and R_MS within [WANT-50, WANT+SLACK]
delay_is() {
	case "$R_REPLY" in
	NO*) ;;
	*)
		fail "$1: got reply '$R_REPLY', want NO"
		return
		;;
	esac
	if [ "$R_MS" -ge $(($2 - 50)) ] && [ "$R_MS" -le $(($2 + SLACK)) ]; then
		pass "$1: answered after $R_MS ms (want $2)"
	else
		fail "$1: answered after $R_MS ms, want $2 (+$SLACK)"
	fi
}

# --- one login: 0, 1, 2, 4 s, then the cap (4 s) -------------------------
restart_fg -n 1 --fail-delay-max 4
i=0
for want in 0 1000 2000 4000; do
	i=$((i + 1))
	raw alice wrong$i smtp ""
	delay_is "alice's wrong password #$i" "$want"
done
# The fifth, at the cap, in the background: meanwhile another user with
# the only worker (-n 1) is answered at once, so no worker waits.
raw_bg slow alice wrong5 smtp ""
sleep 0.3
raw bob Bob-pw2 imap ""
if [ "$R_REPLY" = OK ] && [ "$R_MS" -le 500 ]; then
	pass "bob answered OK in $R_MS ms while alice waits (-n 1)"
else
	fail "bob during alice's delay: got '$R_REPLY' in $R_MS ms, want OK" \
		"within 500 ms"
fi
raw_wait slow
delay_is "alice's wrong password #5 (capped)" 4000
if wait_log 'repeated failures for this user' 2; then
	pass "throttling logged"
else
	fail "no 'repeated failures' line: $(tail -3 "$SB/daemon.log")"
fi
# The right password is not delayed, and it resets the count.
raw alice Alice-pw1 smtp ""
if [ "$R_REPLY" = OK ] && [ "$R_MS" -le 500 ]; then
	pass "alice's right password: OK in $R_MS ms"
else
	fail "alice's right password: got '$R_REPLY' in $R_MS ms"
fi
raw alice wrong6 smtp ""
delay_is "alice's first wrong password after a success" 0
raw alice wrong7 smtp ""
delay_is "and the second" 1000

# --- one address, many logins (5-field requests) --------------------------
i=0
for want in 0 1000 2000; do
	i=$((i + 1))
	raw "guess$i" wrong smtp "" "192.0.2.7;4000$i"
	delay_is "login guess$i from 192.0.2.7" "$want"
done
raw guess9 wrong smtp "" "198.51.100.1;4000"
delay_is "a new login from another address" 0
raw guess8 wrong smtp ""
delay_is "a new login, no address" 0
# A success from the address resets it.
raw alice Alice-pw1 smtp "" "192.0.2.7;4010"
[ "$R_REPLY" = OK ] || fail "alice OK from 192.0.2.7: got '$R_REPLY'"
raw guess4 wrong smtp "" "192.0.2.7;4011"
delay_is "192.0.2.7 after a success there" 0

# --- statistics --------------------------------------------------------
kill -USR1 "$DAEMON_PID"
if wait_log '[1-9][0-9]* failures throttled, 0 refused by --fail-limit' 3
then
	pass "USR1 stats count throttled failures"
else
	fail "stats line: $(grep 'failures throttled' "$SB/daemon.log")"
fi

# --- --fail-limit: refused without PAM -----------------------------------
restart_fg -n 1 --fail-delay-max 1 --fail-limit 3
for i in 1 2 3; do
	raw alice "wrong$i" smtp ""
done
raw alice Alice-pw1 smtp ""
if [ "$R_REPLY" = "NO too many failures" ]; then
	pass "right password refused after 3 failures (--fail-limit 3)"
else
	fail "after 3 failures: got '$R_REPLY', want 'NO too many failures'"
fi
delay_is "the refusal waits the capped delay" 1000
# Proof it does not ask PAM: with the only worker stopped the refusal
# still comes, while bob's check cannot.
wpids=$(worker_pids)
if [ -z "$wpids" ]; then
	fail "no PAM worker to stop"
else
	# shellcheck disable=SC2086
	kill -STOP $wpids
	raw -t 3000 alice Alice-pw1 smtp ""
	delay_is "refusal with the PAM worker stopped" 1000
	raw_bg bob bob Bob-pw2 imap ""
	sleep 0.5
	# shellcheck disable=SC2086
	kill -CONT $wpids
	raw_wait bob
	if [ "$R_REPLY" = OK ]; then
		pass "bob (another login) is not limited"
	else
		fail "bob: got '$R_REPLY', want OK"
	fi
fi
grep -q 'user=alice\].*--fail-limit' "$SB/daemon.log" &&
	pass "limit logged" || fail "no --fail-limit line in the log"
grep -q 'reason=too many failures' "$SB/daemon.log" &&
	pass "refusals logged as auth failures (fail2ban)" ||
	fail "no 'reason=too many failures' line"
kill -USR1 "$DAEMON_PID"
if wait_log ' 2 refused by --fail-limit' 3; then
	pass "USR1 stats count refusals"
else
	fail "stats line: $(grep 'refused by --fail-limit' "$SB/daemon.log")"
fi
stop_daemon

# --- the Dovecot protocol: the same counts, rip= as the address ----------
DV="$RUN/dovecot-auth"
restart_fg -n 1 --fail-delay-max 2 --fail-limit 4 --listen "dovecot:$DV"
# dv_ask NAME USER PASSWORD ADDR WANT_MS: one AUTH PLAIN through
# testsaslauthd-ng -D; want FAIL ("NO") after WANT_MS.
dv_ask() {
	local t0 out
	t0=$(date +%s%3N)
	out=$("$TESTSASLAUTHD" -D -f "$DV" -u "$2" -p "$3" -s smtp -a "$4" \
		-t 10 2>&1)
	R_MS=$(($(date +%s%3N) - t0))
	R_REPLY=NO
	case "$out" in *OK*) R_REPLY=OK ;; esac
	delay_is "$1 ($out)" "$5"
}
dv_ask "dovecot: alice wrong #1" alice wrong1 "192.0.2.9;1" 0
dv_ask "dovecot: alice wrong #2" alice wrong2 "192.0.2.9;1" 1000
dv_ask "dovecot: alice wrong #3 (cap 2 s)" alice wrong3 "192.0.2.9;1" 2000
dv_ask "dovecot: a new login from the same rip" carol wrong "192.0.2.9;2" 2000
dv_ask "dovecot: a new login from another rip" dave wrong "192.0.2.10;2" 0
# alice's fourth failure reaches --fail-limit 4: then refused without PAM
dv_ask "dovecot: alice wrong #4" alice wrong4 "198.51.100.3;1" 2000
dv_ask "dovecot: alice's right password, limited" alice Alice-pw1 \
	"198.51.100.3;1" 2000
grep -q 'user=alice\] \[service=smtp\].*reason=too many failures' \
	"$SB/daemon.log" && pass "dovecot: refusal logged" ||
	fail "dovecot: no 'too many failures' line for alice"
# bob is not limited, and his success resets his rip.
"$TESTSASLAUTHD" -D -f "$DV" -u bob -p Bob-pw2 -s imap -a "192.0.2.9;3" \
	>"$SB/dv.out" 2>&1 && grep -q OK "$SB/dv.out" &&
	pass "dovecot: bob OK from the throttled rip" ||
	fail "dovecot: bob: $(cat "$SB/dv.out")"
dv_ask "dovecot: the rip after bob's success" erin wrong "192.0.2.9;4" 0
stop_daemon

# --- bad values ------------------------------------------------------------
for arg in "--fail-delay-max=-1" "--fail-delay-max=61" \
	"--fail-delay-max=2s" "--fail-delay-max=" "--fail-limit=-1" \
	"--fail-limit=x" "--fail-limit=1000001"; do
	"$DAEMON" -a pam -m "$RUN" -f "$arg" >"$SB/bad.out" 2>&1 &
	pid=$!
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		fail "$arg: the daemon started"
		continue
	fi
	wait "$pid"
	rc=$?
	if [ "$rc" = 1 ] && grep -q "invalid number" "$SB/bad.out"; then
		pass "$arg: exit 1, '$(head -n 1 "$SB/bad.out")'"
	else
		fail "$arg: rc $rc, output '$(head -c 200 "$SB/bad.out")'"
	fi
done
finish

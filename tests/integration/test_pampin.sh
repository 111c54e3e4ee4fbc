#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Module pinning in the PAM worker (pam/pamauth.c): a service's modules
# stay loaded between checks, for at most 8 services (least recently used
# let go), and every check still gets a fresh PAM handle.
#
# Ten copies of pam_sasltest.so, one per service pin0..pin9, so that each
# service's module is loaded and unloaded on its own. "count=TAG" makes a
# copy say, through the conversation (logged at debug), how many auth
# calls it has seen since it was loaded: 1 every time if pam_end()
# unloaded it, N at the Nth check if it stayed loaded. "fresh" fails a
# check whose handle already holds PAM_AUTHTOK or the module's data from
# an earlier check, and password= sets PAM_AUTHTOK on every check, so a
# reused handle would turn the next right password into NO.
# After 30 s without a check the worker lets go of every pin (a test of
# about 35 s). One worker (-n 1), so every check goes through the same
# process.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_measure.sh"

PINS=8 # PAMAUTH_PINS
for i in 0 1 2 3 4 5 6 7 8 9; do
	cp "$PAM_SASLTEST" "$SB/sasltest$i.so"
	cat >"/etc/pam.d/pin$i" <<PAMD
auth required $SB/sasltest$i.so fresh count=pin$i password=Pin-pw
account required $SB/sasltest$i.so
PAMD
done

check() { # NAME WANT USER PASSWORD SERVICE
	raw -t 10000 "$3" "$4" "$5" ""
	if [ "$R_REPLY" = "$2" ] || [[ $R_REPLY == "$2 "* ]]; then
		pass "$1"
	else
		fail "$1: got '$R_REPLY', want $2"
	fi
}
# calls TAG: the count the last "sasltest TAG" message in the log gave.
calls() {
	sed -n "s/.*sasltest $1: call \([0-9]*\) since load.*/\1/p" \
		"$SB/daemon.log" | tail -n 1
}
expect_calls() { # NAME TAG WANT
	local got
	wait_log "sasltest $2: call " 5 || true
	got=$(calls "$2")
	if [ "$got" = "$3" ]; then
		pass "$1 (call $got since load)"
	else
		fail "$1: the module says call '${got}' since load, want $3"
	fi
}

start_fg -n 1 || {
	fail "start -d -n 1"
	finish
}
PID1=$(worker_pids)

# --- the modules stay loaded -------------------------------------------------
for i in $(seq 1 20); do
	raw -t 10000 alice Pin-pw pin0 ""
	[ "$R_REPLY" = OK ] || break
done
if [ "$R_REPLY" = OK ]; then
	pass "20 checks on pin0 answered OK"
else
	fail "check $i on pin0: got '$R_REPLY', want OK"
fi
expect_calls "pin0's module stayed loaded over 20 checks" pin0 20
n=$(grep -c 'PAM service "pin0": modules pinned' "$SB/daemon.log")
[ "$n" = 1 ] && pass "pin0 pinned once" ||
	fail "pin0 pinned $n times in one worker, want 1"

# --- every check has a fresh handle -----------------------------------------
check "fresh handle: alice right" OK alice Pin-pw pin0
check "fresh handle: bob wrong after alice right" NO bob wrong-pw pin0
check "fresh handle: bob right after a wrong one" OK bob Pin-pw pin0
check "fresh handle: alice wrong" NO alice Other-pw pin0
check "fresh handle: alice right again" OK alice Pin-pw pin0
expect_calls "pin0: still the same load" pin0 25

# --- at most PINS services, the least recently used let go ----------------
for i in $(seq 1 $PINS); do
	check "pin$i: OK" OK alice Pin-pw "pin$i"
done
expect_calls "pin$PINS: loaded for its first check" "pin$PINS" 1
check "pin$PINS again: OK" OK alice Pin-pw "pin$PINS"
expect_calls "pin$PINS: still loaded" "pin$PINS" 2
if grep -q 'PAM service "pin0": modules unpinned' "$SB/daemon.log"; then
	pass "pin0, the least recently used, let go for pin$PINS"
else
	fail "pin0 not let go after $PINS other services"
fi
check "pin0 after it was let go: OK" OK alice Pin-pw pin0
expect_calls "pin0: loaded anew after it was let go" pin0 1
over=$(grep -cE "modules pinned \(($((PINS + 1))|[0-9]{2,}) of" \
	"$SB/daemon.log")
most=$(sed -n 's/.*modules pinned (\([0-9]*\) of.*/\1/p' "$SB/daemon.log" |
	sort -n | tail -n 1)
if [ "$over" = 0 ] && [ "$most" = "$PINS" ]; then
	pass "at most $PINS services pinned at once (most: $most)"
else
	fail "pinned services: most $most, $over lines above $PINS"
fi
# pin1 was the least recently used when pin0 came back.
check "pin1 after pin0 took its place: OK" OK alice Pin-pw pin1
expect_calls "pin1: loaded anew" pin1 1
check "pin9, a tenth service: OK" OK alice Pin-pw pin9
expect_calls "pin9: loaded for its first check" pin9 1

# --- an idle worker lets go of them (WORKER_UNPIN_IDLE_MS, 30 s) ----------
if wait_log "idle for 30 s: letting go of the PAM modules" 40; then
	pass "the idle worker let go of its modules"
else
	fail "no unpinning after 40 s idle"
fi
n=$(grep -c 'modules unpinned' "$SB/daemon.log")
# pin0, pin1, pin2 and pin3 were let go for newer ones; the 8 left now.
[ "$n" = $((PINS + 4)) ] && pass "all $PINS pinned services let go" ||
	fail "$n unpinned lines, want $((PINS + 4))"
check "pin9 after the idle time: OK" OK alice Pin-pw pin9
expect_calls "pin9: loaded anew after the idle time" pin9 1

# --- all of it in one worker ---------------------------------------------------
if [ "$(worker_pids)" = "$PID1" ]; then
	pass "one worker ($PID1) ran every check"
else
	fail "the worker changed ($PID1 -> $(worker_pids)): the counts" \
		"above do not show pinning"
fi
stop_daemon
finish

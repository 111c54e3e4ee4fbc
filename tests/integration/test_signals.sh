#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Signals under load, counted request by request (saslload):
#   - TERM finishes the checks in flight (one sleeping 1 s in PAM still
#     gets its OK; one hung in PAM gets NO at its deadline), does not wait
#     for clients that have sent nothing, stops within --pam-timeout, and
#     removes the socket and the pid file;
#   - HUP, several times under load, recycles the workers without failing
#     a single check;
#   - kill -KILL of a busy worker costs at most the one check it had;
#   - kill -KILL of the front costs at most the checks connected to it.
# test_isolation.sh has the single-request versions of HUP and of killed
# workers and fronts; here the point is the count under load.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_measure.sh"

PAM_TIMEOUT=3
LOAD_PROCS=4
SECONDS=0

printf 'auth required %s %s\naccount required %s\n' "$PAM_SASLTEST" \
	"sleep_ms=1000 password=Test-pw" "$PAM_SASLTEST" >/etc/pam.d/slow1
# A check that spends 20 ms in PAM: a worker killed at random is most
# likely in one.
printf 'auth required %s %s\naccount required %s\n' "$PAM_SASLTEST" \
	"sleep_ms=20 password=Test-pw" "$PAM_SASLTEST" >/etc/pam.d/busy20

now_ms() { date +%s%3N; }
# wait_exit PID SECONDS: until PID is gone; sets EXIT_MS (since T0).
wait_exit() {
	local i
	for i in $(seq 1 $(($2 * 50))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.02
	done
	EXIT_MS=$(($(now_ms) - T0))
	! kill -0 "$1" 2>/dev/null
}
load_counts() { # the last load's counts, for messages
	echo "$L_REQ checks: $L_OK OK, $L_NO NO [$L_TEXTS], $L_EOF EOF," \
		"$L_TIMEOUT timeouts, $L_ERR connect/send errors"
}

# ---- TERM ---------------------------------------------------------------
# A check 0.2 s into a 1 s PAM sleep, and a client connected that has sent
# nothing (with --read-timeout 10 it would hold the stop for 10 s).
restart_fg -n 2 --pam-timeout $PAM_TIMEOUT --read-timeout 10
wait_workers 2 5
raw_bg inflight -t 10000 slow Test-pw slow1 ""
raw_bg idle -n -p 0 -c -t 15000 alice x smtp ""
sleep 0.2
wk=$(worker_pids)
T0=$(now_ms)
kill -TERM "$DAEMON_PID"
sleep 0.2
raw -t 2000 alice Alice-pw1 smtp ""
if [ "$R_RC" = 1 ] && [ ! -e "$SOCK" ]; then
	pass "TERM: the socket is gone at once; a new client fails to connect"
else
	fail "TERM: 0.2 s later the socket $(
		[ -e "$SOCK" ] && echo exists || echo is gone
	), a new client got rc $R_RC '$R_REPLY'"
fi
raw_wait inflight
if [ "$R_REPLY" = OK ] && [ "$R_MS" -ge 900 ]; then
	pass "TERM: the check in flight (1 s in PAM) got OK in $R_MS ms"
else
	fail "TERM: the check in flight got '$R_REPLY' in $R_MS ms, want OK"
fi
if wait_exit "$DAEMON_PID" $((PAM_TIMEOUT + 12)) &&
	[ "$EXIT_MS" -le $((PAM_TIMEOUT * 1000)) ]; then
	pass "TERM: the daemon stopped $EXIT_MS ms after the signal" \
		"(--pam-timeout $PAM_TIMEOUT)"
else
	fail "TERM: the daemon stopped $EXIT_MS ms after the signal," \
		"want within --pam-timeout ($((PAM_TIMEOUT * 1000)) ms)"
fi
wait "$DAEMON_PID"
rc=$?
DAEMON_PID=
raw_wait idle
BG=()
if [ "$R_CLOSED" -ge 0 ] && [ "$R_CLOSED" -le $((PAM_TIMEOUT * 1000 + 200)) ]; then
	pass "TERM: the client that sent nothing was closed after" \
		"$R_CLOSED ms"
else
	fail "TERM: the client that sent nothing was closed after" \
		"$R_CLOSED ms, want within --pam-timeout"
fi
if [ $rc = 0 ] && [ ! -e "$SOCK" ] && [ ! -e "$RUN/saslauthd.pid" ]; then
	pass "TERM: exit status 0, socket and pid file removed"
else
	fail "TERM: exit status $rc, left in the run directory:" \
		"$(ls -A "$RUN")"
fi
left=
for w in $wk; do
	grep -qs saslauthd-ng-pam "/proc/$w/cmdline" && left="$left $w"
done
if [ -z "$left" ]; then
	pass "TERM: none of the workers ($(echo $wk)) is left"
else
	fail "TERM: workers left behind:$left"
fi

# A check hung in PAM bounds the stop by --pam-timeout: it is answered at
# its deadline, then the daemon goes.
printf 'auth required %s hang\naccount required %s\n' "$PAM_SASLTEST" \
	"$PAM_SASLTEST" >/etc/pam.d/hang
restart_fg -n 2 --pam-timeout $PAM_TIMEOUT
wait_workers 2 5
raw_bg hung -t 10000 hanger Test-pw hang ""
sleep 0.2
T0=$(now_ms)
kill -TERM "$DAEMON_PID"
raw_wait hung
BG=()
wait_exit "$DAEMON_PID" $((PAM_TIMEOUT + 12))
wait "$DAEMON_PID"
rc=$?
DAEMON_PID=
if [ "$R_REPLY" = "NO PAM timeout" ] && [ $rc = 0 ] &&
	[ "$EXIT_MS" -le $((PAM_TIMEOUT * 1000 + 500)) ]; then
	pass "TERM with a check hung in PAM: it got '$R_REPLY' in $R_MS ms," \
		"the daemon stopped $EXIT_MS ms after the signal"
else
	fail "TERM with a check hung in PAM: it got '$R_REPLY' in $R_MS ms," \
		"the daemon stopped (status $rc) $EXIT_MS ms after the" \
		"signal; want NO PAM timeout and a stop within" \
		"$((PAM_TIMEOUT * 1000 + 500)) ms"
fi

# ---- HUP under load ------------------------------------------------------
restart_fg -n 3
wait_workers 3 5
before=$(worker_pids)
load_bg hup -c $LOAD_PROCS -d 3000 -t 10000 alice Alice-pw1 smtp ""
for i in 1 2 3 4 5; do
	sleep 0.5
	kill -HUP "$DAEMON_PID"
done
load_wait hup
BG=()
hups=$(grep -c 'SIGHUP: recycling PAM workers' "$SB/daemon.log")
wait_workers 3 3
common=$(comm -12 <(sort <<<"$before") <(worker_pids | sort) | sed '/^$/d')
if [ "$L_OK" -gt 0 ] && [ "$L_OK" = "$L_REQ" ] && [ "$hups" = 5 ] &&
	[ -z "$common" ]; then
	pass "HUP x5 under load: $L_OK of $L_REQ checks OK, 0 failed;" \
		"workers replaced"
else
	fail "HUP x5 under load ($hups logged, workers kept:" \
		"'$(echo $common)'): $(load_counts)"
fi

# ---- kill -KILL of a busy worker under load ----------------------------
# Each check spends 20 ms in PAM, 4 clients on 3 workers: a worker is
# nearly always busy. Each kill may cost the check that worker had, and
# nothing else.
KILLS=5
restart_fg -n 3
wait_workers 3 5
load_bg wk -c $LOAD_PROCS -d 3000 -t 10000 slow Test-pw busy20 ""
for i in $(seq 1 $KILLS); do
	sleep 0.5
	kill -KILL "$(worker_pids | shuf -n 1)"
done
load_wait wk
BG=()
died=$(grep -oE 'PAM worker [0-9]+ killed by signal 9' "$SB/daemon.log" |
	wc -l)
lost=$((L_REQ - L_OK))
other=$(sed -n 's/^reply: //p' "$SB/wk.out" |
	grep -vcE '^[0-9]+ NO PAM worker (died|unavailable)$')
echo "worker kills: $KILLS killed ($died logged), $(load_counts)"
if [ "$L_OK" -gt 0 ] && [ $lost -le $KILLS ] && [ "$other" = 0 ] &&
	[ "$L_EOF" = 0 ] && [ "$L_TIMEOUT" = 0 ] && [ "$L_ERR" = 0 ]; then
	pass "kill -KILL of a worker x$KILLS under load: $lost of $L_REQ" \
		"checks lost (at most one per kill), each 'NO PAM worker died'"
else
	fail "kill -KILL of a worker x$KILLS under load: $lost lost, want" \
		"at most $KILLS, each 'NO PAM worker died': $(load_counts)"
fi
if wait_workers 3 3; then
	pass "kill -KILL of workers: 3 running again"
else
	fail "kill -KILL of workers: $(nworkers) running, want 3"
fi

# ---- kill -KILL of the front under load ---------------------------------
# The listening socket is the parent's: clients that connect while the
# front restarts wait in its backlog and are served by the next front.
# Only the connections the killed front held can be lost: at most
# LOAD_PROCS per kill, each as EOF.
KILLS=3
restart_fg -n 3
wait_workers 3 5
load_bg fk -c $LOAD_PROCS -d 3000 -t 10000 slow Test-pw busy20 ""
held=()
fronts=()
for i in $(seq 1 $KILLS); do
	sleep 0.8
	f=$(front_pid)
	fronts+=("$f")
	held+=($(($(grep -c " $SOCK\$" /proc/net/unix) - 1)))
	kill -KILL "$f"
done
load_wait fk
BG=()
lost=$((L_REQ - L_OK))
echo "front kills: fronts ${fronts[*]}, client connections at each kill:" \
	"${held[*]}; $(load_counts)"
if [ "$L_OK" -gt 0 ] && [ $lost -le $((KILLS * LOAD_PROCS)) ] &&
	[ $lost = "$L_EOF" ]; then
	pass "kill -KILL of the front x$KILLS under load: $lost of $L_REQ" \
		"checks lost, all EOF (at most $LOAD_PROCS a kill; connected" \
		"at the kills: ${held[*]})"
else
	fail "kill -KILL of the front x$KILLS under load: $lost lost, want" \
		"at most $((KILLS * LOAD_PROCS)), all EOF: $(load_counts)"
fi
f=$(front_pid)
if [ -n "$f" ] && ! [[ " ${fronts[*]} " == *" $f "* ]] && wait_workers 3 3; then
	normal
	if [ "$R_REPLY" = OK ]; then
		pass "after the front kills: a new front ($f) with 3 workers" \
			"answers OK"
	else
		fail "after the front kills: a normal check got '$R_REPLY'"
	fi
else
	fail "after the front kills: front '$f', $(nworkers) workers"
fi

echo "elapsed: ${SECONDS}s"
finish

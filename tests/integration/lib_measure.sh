# shellcheck shell=bash
# SPDX-License-Identifier: BSD-2-Clause
# lib_measure.sh - helpers for the tests that measure the daemon under bad
# clients, faulty PAM modules and signals (test_badinput, test_faults,
# test_signals). Source it after lib.sh.
#
#   start_fg ARGS        a foreground -d daemon; its log is $SB/daemon.log
#   raw ARGS             one saslraw request: R_RC R_REPLY R_MS R_CLOSED
#   raw_bg NAME ARGS / raw_wait NAME / kill_bg   the same in the background
#   measure_baseline     BASE_MS, the median of 7 normal checks, and
#                        LIMIT_MS, what a normal check may take while bad
#                        clients run (a stall costs a deadline: seconds)
#   normal_during TEXT   3 normal checks now: all OK, median <= LIMIT_MS
#   snap / leak_base / check_leaks TEXT   the daemon's descriptors, memory
#                        and processes, back to their baseline?
#   load ARGS            one saslload run: L_OK L_NO L_EOF L_TIMEOUT
#                        L_ERR L_REQ L_MS L_RATE (OK answers per second)

BG=()

median() { # numbers...: the middle one (the lower middle for an even count)
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
		END { print v[int((NR + 1) / 2)] }'
}

# start_fg ARGS: the daemon in the foreground with -d, so the checks can
# read its log; DAEMON_PID is the parent.
start_fg() {
	local i
	: >"$SB/daemon.log"
	"$DAEMON" -a pam -m "$RUN" -d "$@" 2>"$SB/daemon.log" &
	DAEMON_PID=$!
	for i in $(seq 1 100); do
		grep -q 'ready on' "$SB/daemon.log" && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "foreground daemon not ready: $(tail -5 "$SB/daemon.log")"
	return 1
}
# restart_fg ARGS: a fresh daemon; the test ends if it does not start.
restart_fg() {
	stop_daemon
	start_fg "$@" || {
		fail "start -d $*"
		finish
	}
}
nworkers() { worker_pids | wc -l; }
wait_workers() { # N SECONDS: until exactly N workers run
	local i
	for i in $(seq 1 $(($2 * 20))); do
		[ "$(nworkers)" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
wait_log() { # REGEX SECONDS: until an -E match shows in the log
	local i
	for i in $(seq 1 $(($2 * 20))); do
		grep -qE -- "$1" "$SB/daemon.log" && return 0
		sleep 0.05
	done
	return 1
}

# raw [saslraw options and fields]: one request. R_REPLY is the reply text
# or timeout/eof/short, R_MS its latency, R_CLOSED when the daemon closed
# the connection (-c; -1 if it did not), all in ms from connect.
raw_parse() { # file
	R_REPLY=$(sed -n 's/^reply: //p; /^\(timeout\|eof\|short\)$/p' "$1" |
		head -n 1)
	R_MS=$(sed -n 's/^latency_ms: //p' "$1")
	R_CLOSED=$(sed -n 's/^closed_ms: //p' "$1")
	: "${R_MS:=-1}" "${R_CLOSED:=-1}"
}
raw() {
	"$SASLRAW" -f "$SOCK" "$@" >"$SB/raw.out" 2>&1
	R_RC=$?
	raw_parse "$SB/raw.out"
}
raw_bg() { # NAME ARGS...
	local name=$1
	shift
	"$SASLRAW" -f "$SOCK" "$@" >"$SB/$name.out" 2>&1 &
	eval "BGPID_$name=$!"
	BG+=($!)
}
raw_wait() { # NAME
	local pid
	eval "pid=\$BGPID_$1"
	wait "$pid"
	R_RC=$?
	raw_parse "$SB/$1.out"
}
kill_bg() { # every background client this script started, by pid
	local p
	for p in "${BG[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${BG[@]}"; do
		wait "$p" 2>/dev/null
	done
	BG=()
}
normal() { raw -t 10000 alice Alice-pw1 smtp ""; }

# A normal check takes a few ms; anything that stalls the front costs a
# read deadline or a PAM deadline (1 s and more in these tests). LIMIT_MS
# sits between: 5 times the quiet median plus 200 ms of scheduling noise
# (2 cores shared with other jobs).
measure_baseline() {
	local lat=() i
	for i in 1 2 3 4 5 6 7; do
		normal
		[ "$R_REPLY" = OK ] || lat+=(99999)
		lat+=("$R_MS")
	done
	BASE_MS=$(median "${lat[@]}")
	LIMIT_MS=$((5 * BASE_MS + 200))
	echo "baseline: a normal check takes $BASE_MS ms (median of" \
		"${lat[*]}); limit while others misbehave: $LIMIT_MS ms"
}
# normal_during TEXT: 3 normal checks now; all OK, median within LIMIT_MS.
normal_during() {
	local lat=() ok=0 i m
	for i in 1 2 3; do
		normal
		[ "$R_REPLY" = OK ] && ok=$((ok + 1))
		lat+=("$R_MS")
	done
	m=$(median "${lat[@]}")
	if [ $ok = 3 ] && [ "$m" -le "$LIMIT_MS" ]; then
		pass "$1: normal checks OK in $m ms (${lat[*]})"
	else
		fail "$1: normal checks: $ok of 3 OK, median $m ms" \
			"(${lat[*]}), want 3 OK within $LIMIT_MS ms"
	fi
}

# snap: the daemon's resources now. S_FDS, S_RSS and S_PSS (kB) are the
# front's (its descriptors count its connections), S_PFDS the parent's,
# S_KIDS the parent's children (front + workers; zombies included),
# S_ZOMBIES those not reaped.
snap() {
	local f
	f=$(front_pid)
	S_FRONT=$f
	S_FDS=$(find "/proc/$f/fd" -mindepth 1 2>/dev/null | wc -l)
	S_RSS=$(awk '/^VmRSS:/ { print $2 }' "/proc/$f/status" 2>/dev/null)
	S_PSS=$(awk '/^Pss:/ { print $2 }' "/proc/$f/smaps_rollup" 2>/dev/null)
	S_PFDS=$(find "/proc/$DAEMON_PID/fd" -mindepth 1 2>/dev/null | wc -l)
	S_KIDS=$(pgrep -P "$DAEMON_PID" | wc -l)
	S_ZOMBIES=$(ps --ppid "$DAEMON_PID" -o stat= | grep -c '^Z')
	: "${S_RSS:=0}" "${S_PSS:=0}"
}
# leak_base: the current resources become the baseline (B_*).
leak_base() {
	snap
	B_FRONT=$S_FRONT B_FDS=$S_FDS B_RSS=$S_RSS B_PSS=$S_PSS
	B_PFDS=$S_PFDS B_KIDS=$S_KIDS
}
# check_leaks TEXT [TOL_KB]: within 3 s the front (the same process) is
# back to its baseline descriptors, the parent's too, no process more or
# fewer and none unreaped; its memory (VmRSS and Pss) at most TOL_KB
# (default MEM_TOL_KB, 64) above the baseline, unless SANITIZED.
MEM_TOL_KB=64
# A sanitizer build (ASan keeps freed memory in its quarantine and costs
# much CPU): memory and throughput are not compared.
SANITIZED=0
ldd "$DAEMON" 2>/dev/null | grep -qE 'lib(a|t|ub)san' && SANITIZED=1
MEM_CHECK=$((1 - SANITIZED))
check_leaks() {
	local tol=${2:-$MEM_TOL_KB} i
	for i in $(seq 1 60); do
		snap
		[ "$S_FDS" = "$B_FDS" ] && [ "$S_PFDS" = "$B_PFDS" ] &&
			[ "$S_KIDS" = "$B_KIDS" ] && [ "$S_ZOMBIES" = 0 ] && break
		sleep 0.05
	done
	local got="front fds $B_FDS->$S_FDS, parent fds $B_PFDS->$S_PFDS,"
	got="$got processes $B_KIDS->$S_KIDS ($S_ZOMBIES zombies), front"
	got="$got VmRSS $B_RSS->$S_RSS kB, Pss $B_PSS->$S_PSS kB"
	[ $MEM_CHECK = 1 ] || got="$got (not compared: sanitizer build)"
	if [ "$S_FRONT" = "$B_FRONT" ] && [ "$S_FDS" = "$B_FDS" ] &&
		[ "$S_PFDS" = "$B_PFDS" ] && [ "$S_KIDS" = "$B_KIDS" ] &&
		[ "$S_ZOMBIES" = 0 ] && { [ $MEM_CHECK = 0 ] ||
		{ [ "$S_RSS" -le $((B_RSS + tol)) ] &&
			[ "$S_PSS" -le $((B_PSS + tol)) ]; }; }; then
		pass "$1: no leak ($got)"
	else
		fail "$1: leak or lost process (front $B_FRONT->$S_FRONT," \
			"$got; memory tolerance $tol kB)"
	fi
}

# load [saslload options and fields]: one run; the counts in L_*.
load_parse() { # file
	local k
	for k in requests ok no eof timeout error elapsed_ms max_ms; do
		eval "L_$k=\$(sed -n 's/^$k: //p' \"\$1\")"
		eval ": \"\${L_$k:=-1}\""
	done
	L_REQ=$L_requests L_OK=$L_ok L_NO=$L_no L_EOF=$L_eof
	L_TIMEOUT=$L_timeout L_ERR=$L_error L_MS=$L_elapsed_ms
	L_MAX=$L_max_ms
	L_RATE=$(awk -v n="$L_OK" -v ms="$L_MS" \
		'BEGIN { printf "%d", (ms > 0 ? n * 1000 / ms : 0) }')
	L_TEXTS=$(sed -n 's/^reply: //p' "$1" | paste -sd ';')
}
load() {
	"$SASLLOAD" -f "$SOCK" "$@" >"$SB/load.out" 2>&1
	load_parse "$SB/load.out"
}
load_bg() { # NAME ARGS...
	local name=$1
	shift
	"$SASLLOAD" -f "$SOCK" "$@" >"$SB/$name.out" 2>&1 &
	eval "BGPID_$name=$!"
	BG+=($!)
}
load_wait() { # NAME
	local pid
	eval "pid=\$BGPID_$1"
	wait "$pid"
	load_parse "$SB/$1.out"
}

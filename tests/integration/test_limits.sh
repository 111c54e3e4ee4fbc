#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Connection limits and peer allow-lists, measured on the real daemon:
#   --max-connections-per-uid  one uid cannot hold more (default: half of
#                              --max-connections); the rest are closed at
#                              once, logged once per 10 s; other uids and
#                              root are served meanwhile; root is not
#                              limited per uid; closing frees the slots;
#   --allow-uid / --allow-gid  names and numbers, repeatable; a primary or
#                              a supplementary group (SO_PEERGROUPS)
#                              matches; root always may; others are closed
#                              at once; bad lists exit 1 with a message;
#   --max-connections          1200 idle connections held at once while a
#                              normal check answers in normal time, with
#                              the descriptor limit raised for the front
#                              only; a hard limit too low exits 1.
# Clients run as throw-away users of the private /etc (lib.sh): flooder
# and other (supplementary group sasl), saslprim (primary group sasl),
# nosasl (no sasl at all).
. "$(dirname "$0")/lib.sh"

HOLDCONNS="$SASLD_BUILD/bin/holdconns"
FAST_MS=${SASLD_FAST_MS:-500}
BIG=${SASLD_BIG_CONNS:-1200} # idle connections in the global-limit case
BG=()

useradd --system --no-create-home --shell /usr/sbin/nologin -G sasl flooder
useradd --system --no-create-home --shell /usr/sbin/nologin -G sasl other
useradd --system --no-create-home --shell /usr/sbin/nologin -g sasl saslprim
useradd --system --no-create-home --shell /usr/sbin/nologin nosasl
chmod o+x "$SB" # the run directory below it is the daemon's (root:sasl)

# as USER: AS=(the command prefix that runs as USER, with the user's
# primary and supplementary groups); nothing for root. A prefix, not a
# function, so that "${AS[@]}" cmd & is one process that kill can reach.
as() {
	AS=()
	[ "$1" = root ] ||
		AS=(setpriv --reuid="$1" --regid="$(id -g "$1")" --init-groups)
}
# raw USER -- saslraw args: one check; sets R_REPLY (or eof/timeout), R_MS.
# (saslraw's "send: Broken pipe" from a refused connection goes to raw.err.)
raw() {
	as "$1"
	shift 2
	"${AS[@]}" "$SASLRAW" -f "$SOCK" "$@" >"$SB/raw.out" 2>"$SB/raw.err"
	R_REPLY=$(sed -n '1{s/^reply: //;p;}' "$SB/raw.out")
	R_MS=$(sed -n 's/^latency_ms: //p' "$SB/raw.out")
	: "${R_MS:=-1}"
}
normal() { raw "$1" -- -t 10000 alice Alice-pw1 smtp ""; }
# check_ok NAME USER: USER's normal check answers OK within FAST_MS.
check_ok() {
	normal "$2"
	if [ "$R_REPLY" = OK ] && [ "$R_MS" -ge 0 ] && [ "$R_MS" -lt "$FAST_MS" ]; then
		pass "$1 (OK in $R_MS ms)"
	else
		fail "$1: got '$R_REPLY' in $R_MS ms, want OK in < $FAST_MS ms"
	fi
}
# check_closed NAME USER: USER's connection is closed at once, no reply.
check_closed() {
	normal "$2"
	if [ "$R_REPLY" = eof ] && [ "$R_MS" -ge 0 ] && [ "$R_MS" -lt "$FAST_MS" ]; then
		pass "$1 (closed in $R_MS ms, no reply)"
	else
		fail "$1: got '$R_REPLY' in $R_MS ms, want eof in < $FAST_MS ms"
	fi
}
# hold NAME USER N [holdconns args]: USER opens N connections in the
# background and holds them; waits for its report in $SB/NAME.out.
hold() {
	local name=$1 u=$2 n=$3 i
	shift 3
	rm -f "$SB/$name.out"
	as "$u"
	"${AS[@]}" "$HOLDCONNS" -f "$SOCK" -n "$n" -H 120000 "$@" \
		>"$SB/$name.out" &
	BG+=($!)
	eval "HOLD_$name=$!"
	for i in $(seq 1 200); do
		grep -q '^first_errno:' "$SB/$name.out" 2>/dev/null && break
		sleep 0.05
	done
	H_OPEN=$(sed -n 's/^open: //p' "$SB/$name.out")
	H_CLOSED=$(sed -n 's/^closed: //p' "$SB/$name.out")
	H_FAILED=$(sed -n 's/^failed: //p' "$SB/$name.out")
}
unhold() { # NAME
	local pid
	eval "pid=\$HOLD_$1"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}
kill_bg() {
	local p
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${BG[@]}"; do wait "$p" 2>/dev/null; done
	BG=()
}
# Server-side connections of the front on $SOCK (minus the listener).
conns_open() { echo $(($(grep -c " $SOCK\$" /proc/net/unix) - 1)); }
wait_conns() { # N: until exactly N are open, up to 5 s
	local i
	for i in $(seq 1 100); do
		[ "$(conns_open)" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
# A foreground -d daemon logging to $SB/daemon.log. Prefix the command
# with PRE (e.g. prlimit ...) when set.
PRE=()
start_daemon_fg() {
	local i
	: >"$SB/daemon.log"
	"${PRE[@]}" "$DAEMON" -a pam -m "$RUN" -d "$@" 2>"$SB/daemon.log" &
	DAEMON_PID=$!
	for i in $(seq 1 100); do
		grep -q 'ready on' "$SB/daemon.log" && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "foreground daemon not ready: $(tail -5 "$SB/daemon.log")"
	return 1
}
restart() {
	local old=$DAEMON_PID
	kill_bg
	stop_daemon
	# stop_daemon may end with a KILL it does not wait for.
	[ -n "$old" ] && wait "$old" 2>/dev/null
	start_daemon_fg "$@" || { fail "start -d $*"; finish; }
	FRONT0=$(front_pid)
}
wait_log() { # REGEX SECONDS
	local i
	for i in $(seq 1 $(($2 * 20))); do
		grep -qE -- "$1" "$SB/daemon.log" && return 0
		sleep 0.05
	done
	return 1
}
end_case() { # NAME: the same front still answers
	kill_bg
	normal root
	if [ "$(front_pid)" = "$FRONT0" ] && [ "$R_REPLY" = OK ]; then
		pass "$1: the front survived and answers"
	else
		fail "$1: front $FRONT0 -> $(front_pid), normal check '$R_REPLY'"
	fi
}
# cli NAME WANT_RC STDERR_REGEX -- ARGS: a start that must fail at once.
cli() {
	local name=$1 want=$2 re=$3 rc
	shift 4
	timeout 10 "$@" >"$SB/cli.out" 2>"$SB/cli.err"
	rc=$?
	if [ "$rc" = "$want" ] && grep -qE -- "$re" "$SB/cli.err" &&
		[ ! -e "$RUN/saslauthd.pid" ] && [ ! -e "$SOCK" ]; then
		pass "$name (rc $rc: $(head -1 "$SB/cli.err"))"
	else
		fail "$name: got rc $rc, stderr '$(head -c 300 "$SB/cli.err")'," \
			"want rc $want and /$re/, nothing left in $RUN"
	fi
}
FLOODER=$(id -u flooder)
OTHER=$(id -u other)

SECONDS=0
# --- 1. the command line ---------------------------------------------------
D=("$DAEMON" -a pam -m "$RUN" -f)
cli "--allow-uid with an unknown user" 1 \
	"--allow-uid: no such user: 'nosuchuser'" -- "${D[@]}" \
	--allow-uid root,nosuchuser
cli "--allow-gid with an unknown group" 1 \
	"--allow-gid: no such group: 'nosuchgroup'" -- "${D[@]}" \
	--allow-gid nosuchgroup
cli "--allow-uid with an empty element" 1 "--allow-uid: empty name" -- \
	"${D[@]}" --allow-uid root,,flooder
cli "--allow-uid empty" 1 "--allow-uid: empty name" -- "${D[@]}" \
	--allow-uid ""
cli "--allow-gid (gid_t)-1" 1 "'4294967295' is not a valid gid" -- \
	"${D[@]}" --allow-gid 4294967295
cli "--max-connections-per-uid 0" 1 "invalid number '0'" -- "${D[@]}" \
	--max-connections-per-uid 0
cli "--max-connections-per-uid above --max-connections" 1 \
	"--max-connections-per-uid 9 is more than --max-connections 8" -- \
	"${D[@]}" --max-connections 8 --max-connections-per-uid 9
cli "--max-connections 1500 under a hard limit of 1024 open files" 1 \
	"--max-connections 1500 needs [0-9]+ open files in the front, but their hard limit is 1024" \
	-- prlimit --nofile=1024:1024 "${D[@]}" --max-connections 1500
help=$("$DAEMON" --help)
for o in --max-connections-per-uid --allow-uid --allow-gid; do
	if grep -q -- "$o" <<<"$help"; then
		pass "--help documents $o"
	else
		fail "--help does not mention $o"
	fi
done

# --- 2. per-uid limit, default half of --max-connections -------------------
restart -n 2 --max-connections 8 --read-timeout 30
hold f1 flooder 8
if [ "$H_OPEN" = 4 ] && [ "$H_CLOSED" = 4 ] && wait_conns 4; then
	pass "--max-connections 8: flooder kept 4 of 8 (default per-uid 4)," \
		"4 closed at once"
else
	fail "--max-connections 8: flooder open '$H_OPEN' closed '$H_CLOSED'" \
		"failed '$H_FAILED', server side $(conns_open); want 4, 4, 4"
fi
check_ok "another uid (other) while flooder holds its limit" other
check_ok "root while flooder holds its limit" root
check_closed "flooder's 9th connection" flooder
hold f2 flooder 4
if [ "$H_CLOSED" = 4 ]; then
	pass "flooder's next 4 connections closed at once"
else
	fail "flooder's next 4: open '$H_OPEN' closed '$H_CLOSED', want 0, 4"
fi
wait_log "refused a connection from uid $FLOODER pid [0-9]+: it holds 4 \(--max-connections-per-uid\)" 2
n=$(grep -c "refused a connection from uid $FLOODER" "$SB/daemon.log")
if [ "$n" = 1 ]; then
	pass "9 refusals in under 10 s logged once"
else
	fail "9 refusals logged $n times, want 1: $(grep refused "$SB/daemon.log")"
fi
kill -USR1 "$DAEMON_PID"
if wait_log 'front: .* 9 refused over --max-connections-per-uid, 0 refused by' 3; then
	pass "USR1 counts the 9 refusals"
else
	fail "USR1: $(grep 'front: [0-9]' "$SB/daemon.log")"
fi
# Closing gives the slots back.
unhold f1
unhold f2
wait_conns 0
check_ok "flooder after closing its connections" flooder
hold f3 flooder 4
if [ "$H_OPEN" = 4 ] && [ "$H_CLOSED" = 0 ]; then
	pass "flooder holds 4 again after releasing"
else
	fail "flooder after releasing: open '$H_OPEN' closed '$H_CLOSED'"
fi
end_case "per-uid default"

# --- 3. explicit limit; root is not limited per uid -----------------------
restart -n 2 --max-connections 8 --max-connections-per-uid 2 \
	--read-timeout 30
hold f1 flooder 5
if [ "$H_OPEN" = 2 ] && [ "$H_CLOSED" = 3 ]; then
	pass "--max-connections-per-uid 2: flooder kept 2 of 5"
else
	fail "--max-connections-per-uid 2: open '$H_OPEN' closed '$H_CLOSED'"
fi
hold r1 root 5
if [ "$H_OPEN" = 5 ] && [ "$H_CLOSED" = 0 ] && wait_conns 7; then
	pass "root holds 5 (not limited per uid)"
else
	fail "root: open '$H_OPEN' closed '$H_CLOSED', server $(conns_open)"
fi
check_ok "other, with 7 of 8 connections taken" other
end_case "explicit per-uid limit"

# --- 4. --allow-uid ---------------------------------------------------------
restart -n 2 --allow-uid flooder
check_ok "--allow-uid flooder: flooder" flooder
check_ok "--allow-uid flooder: root (always allowed)" root
check_closed "--allow-uid flooder: other" other
check_closed "--allow-uid flooder: saslprim" saslprim
if wait_log "refused a connection from uid $OTHER gid [0-9]+ pid [0-9]+: not in --allow-uid/--allow-gid" 2 &&
	[ "$(grep -c 'not in --allow-uid' "$SB/daemon.log")" = 1 ]; then
	pass "--allow-uid: 2 refusals logged once"
else
	fail "--allow-uid refusal log: $(grep refused "$SB/daemon.log")"
fi
end_case "--allow-uid"

restart -n 2 --allow-uid "$OTHER,flooder" --allow-uid saslprim
check_ok "--allow-uid NUMBER,NAME --allow-uid NAME: other" other
check_ok "--allow-uid NUMBER,NAME --allow-uid NAME: flooder" flooder
check_ok "--allow-uid NUMBER,NAME --allow-uid NAME: saslprim" saslprim
end_case "--allow-uid, repeated"

# --- 5. --allow-gid: primary and supplementary groups ---------------------
restart -n 2 --allow-gid sasl
chmod o+x "$RUN" # so that nosasl can reach the socket at all
check_ok "--allow-gid sasl: flooder (supplementary sasl, SO_PEERGROUPS)" \
	flooder
check_ok "--allow-gid sasl: saslprim (primary group sasl)" saslprim
check_ok "--allow-gid sasl: root" root
check_closed "--allow-gid sasl: nosasl" nosasl
end_case "--allow-gid"

restart -n 2 --allow-gid flooder --allow-uid nosasl
chmod o+x "$RUN"
check_ok "--allow-gid flooder: flooder (its primary group)" flooder
check_ok "--allow-uid nosasl with --allow-gid: nosasl" nosasl
check_closed "--allow-gid flooder: other" other
end_case "--allow-gid with --allow-uid"

# --- 6. $BIG idle connections, normal checks in normal time ---------------
# The daemon starts with a soft limit of 1024 open files: it must raise it
# for the front, and give the workers the original back.
PRE=(prlimit --nofile=1024:)
restart -n 2 --max-connections 1500 --read-timeout 60
PRE=()
soft=$(awk '/^Max open files/ {print $4}' "/proc/$FRONT0/limits")
if [ "${soft:-0}" -ge 1500 ]; then
	pass "the front's open-files limit was raised to $soft (from 1024)"
else
	fail "the front's open-files limit is '$soft', want >= 1500"
fi
w=$(worker_pids | head -1)
wsoft=$(awk '/^Max open files/ {print $4}' "/proc/$w/limits")
if [ "$wsoft" = 1024 ]; then
	pass "the workers keep the limit they were started with (1024)"
else
	fail "worker $w open-files limit '$wsoft', want 1024"
fi
t0=$(date +%s%N)
hold big root "$BIG" -w 1000
t1=$(date +%s%N)
if [ "$H_OPEN" = "$BIG" ] && wait_conns "$BIG"; then
	pass "$BIG idle connections held at once (open in" \
		"$(((t1 - t0) / 1000000)) ms)"
else
	fail "$BIG idle connections: open '$H_OPEN' closed '$H_CLOSED'" \
		"failed '$H_FAILED', server side $(conns_open)"
fi
lat=()
ok=0
for i in 1 2 3 4 5; do
	normal root
	lat+=("$R_REPLY/$R_MS")
	[ "$R_REPLY" = OK ] && [ "$R_MS" -lt "$FAST_MS" ] && ok=$((ok + 1))
done
if [ $ok = 5 ]; then
	pass "with $BIG idle connections, 5 normal checks OK (${lat[*]} ms)"
else
	fail "with $BIG idle connections: ${lat[*]} (reply/ms), want 5 OK" \
		"in < $FAST_MS ms"
fi
check_ok "with $BIG idle connections, another uid" other
unhold big
if wait_conns 0; then
	pass "all $BIG closed when the client went"
else
	fail "$(conns_open) connections left after the client went"
fi
end_case "$BIG idle connections"

echo "elapsed: ${SECONDS}s"
finish

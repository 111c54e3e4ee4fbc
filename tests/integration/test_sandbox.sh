#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The sandbox at work (test_privileges reads each role's privileges; this
# test exercises them):
#  1. --worker-caps and --worker-env: bad values exit 1 with a message;
#     capabilities the daemon lacks are an error (explicit) or a warning
#     (the default set); cap_dac_override is optional; under NO_NEW_PRIVS
#     the workers keep their set; a custom set reaches the workers and the
#     parent's permitted and bounding sets exactly.
#  2. PAM stacks under the worker's capabilities: pam_unix (needs none),
#     pam_faillock (tally files written under dir=, the lock holds),
#     pam_exec (the helper it runs gains nothing from uid 0:
#     SECBIT_NOROOT), libpam's audit record (needs cap_audit_write),
#     pam_wrapper loaded through --worker-env.
#  3. The worker takes only an IPC_FRONT_AUTH frame: every other frame
#     (wrong type, short, huge, with a descriptor, malformed body) makes it
#     exit 1 without an answer, both when run alone and when injected
#     into a running daemon's channel, which replaces the worker and
#     keeps serving; a front that sends the parent a wrong frame is
#     killed (cap_kill) and replaced.
#  4. seccomp: gdb makes the running front call a system call; an allowed
#     one returns, a forbidden one (socket; mmap with PROT_EXEC) kills
#     the front with SIGSYS, the parent logs it and a new, sandboxed
#     front serves.
#  5. The parent's capabilities suffice for every path: a run directory
#     created inside a directory root does not own, pid file, sockets (one
#     given to another owner and group), front restarts (each makes and removes its empty root there), HUP,
#     stop and clean-up.
. "$(dirname "$0")/lib.sh"

WORKERPROBE="$SASLD_BUILD/bin/workerprobe"
WORKER="$SASLD_PREFIX/libexec/saslauthd-ng/saslauthd-ng-pam"
CLI_DIR="$SB/cli"

field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" |
		tr -s ' \t' ' ' | sed 's/ $//'
}
hex16() { printf '%016x' "$1"; }
OWN_BND=$((16#$(field $$ CapBnd)))
PARENT_CAPS=$((0x401e1 | (0x2 & OWN_BND))) # dac_override: if we have it
AUDIT_WRITE=$((1 << 29))

# Foreground (-d) daemon logging to $SB/daemon.log; extra environment
# through env(1) before it: start_fg [VAR=VAL...] -- ARGS...
start_fg() {
	local envs=() i
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	: >"$SB/daemon.log"
	env "${envs[@]}" "$DAEMON" -a pam -m "$RUN" -d "$@" \
		2>"$SB/daemon.log" &
	DAEMON_PID=$!
	for i in $(seq 1 100); do
		grep -q 'ready on' "$SB/daemon.log" && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "foreground daemon not ready: $(tail -5 "$SB/daemon.log")"
	return 1
}
wait_log() { # REGEX SECONDS
	local i
	for i in $(seq 1 $(($2 * 20))); do
		grep -qE -- "$1" "$SB/daemon.log" && return 0
		sleep 0.05
	done
	return 1
}
wait_workers() { # N: until N workers run (5 s)
	local i
	for i in $(seq 1 100); do
		[ "$(worker_pids | wc -l)" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
ok_check() { # NAME SERVICE USER PASSWORD
	expect "$1" 0 '0: OK "Success."' -- \
		"$TESTSASLAUTHD" -f "$SOCK" -s "$2" -u "$3" -p "$4"
}
no_check() { # NAME SERVICE USER PASSWORD
	expect "$1" 255 '0: NO "authentication failed"' -- \
		"$TESTSASLAUTHD" -f "$SOCK" -s "$2" -u "$3" -p "$4"
}
# cli NAME ERE [setpriv options --] ARGS...: the daemon exits 1 with ERE on
# stderr and leaves nothing behind.
cli() {
	local name=$1 re=$2 pre=() rc
	shift 2
	if [ "$1" = setpriv ]; then
		while [ "$1" != -- ]; do
			pre+=("$1")
			shift
		done
		shift
	fi
	timeout 20 "${pre[@]}" "$DAEMON" -a pam -m "$CLI_DIR" "$@" \
		>/dev/null 2>"$SB/cli.err"
	rc=$?
	if [ $rc = 1 ] && grep -Eq -- "$re" "$SB/cli.err" &&
		[ ! -e "$CLI_DIR/mux" ] && [ ! -e "$CLI_DIR/saslauthd.pid" ]; then
		pass "$name"
	else
		fail "$name: got rc=$rc stderr='$(head -c 300 "$SB/cli.err")'," \
			"want rc=1 and /$re/"
		[ -f "$CLI_DIR/saslauthd.pid" ] &&
			kill "$(cat "$CLI_DIR/saslauthd.pid")" 2>/dev/null
	fi
	rm -rf "$CLI_DIR"
}

# --- 1. options ------------------------------------------------------------
cli "--worker-caps bogus: exit 1 naming it" "--worker-caps.*'cap_bogus'" \
	--worker-caps cap_bogus
cli "--worker-caps with an empty name: exit 1" "--worker-caps.*''" \
	--worker-caps cap_chown,
cli "--worker-caps '': exit 1" "--worker-caps" --worker-caps ""
cli "--worker-caps 29 (a number, not a name): exit 1" "--worker-caps.*'29'" \
	--worker-caps 29
cli "--worker-env PATH: exit 1 (PATH is fixed)" "--worker-env: PATH" \
	--worker-env PATH
cli "--worker-env 1X: exit 1" "--worker-env: invalid variable name" \
	--worker-env 1X
cli "--worker-env A-B: exit 1" "--worker-env: invalid variable name" \
	--worker-env A-B
cli "--worker-env =x: exit 1" "--worker-env: invalid variable name" \
	--worker-env =x
cli "--worker-env twice: exit 1" "--worker-env: X given twice" \
	--worker-env X --worker-env X=1
many=()
for i in $(seq 1 17); do many+=(--worker-env "V$i"); done
cli "--worker-env 17 times: exit 1" "--worker-env: at most 16" "${many[@]}"
cli "parent without cap_sys_chroot: exit 1 naming it" \
	"lacks cap_sys_chroot" setpriv --bounding-set=-sys_chroot --
cli "parent without cap_kill: exit 1 naming it" "lacks cap_kill" \
	setpriv --bounding-set=-kill --
cli "--worker-caps cap_sys_resource outside the bounding set: exit 1" \
	"--worker-caps: this process lacks cap_sys_resource" \
	setpriv --bounding-set=-sys_resource -- --worker-caps cap_sys_resource

# cap_dac_override is kept when there, not required (the systemd unit
# leaves it out).
: >"$SB/daemon.log"
setpriv --bounding-set=-dac_override "$DAEMON" -a pam -m "$RUN" -d -n 1 \
	2>"$SB/daemon.log" &
DAEMON_PID=$!
if wait_log 'ready on' 5 && wait_workers 1; then
	want=$((PARENT_CAPS & ~2))
	[ "$(field "$DAEMON_PID" CapEff)" = "$(hex16 $want)" ] &&
		pass "without cap_dac_override: starts, parent's set $(hex16 $want)" ||
		fail "without cap_dac_override: CapEff $(field "$DAEMON_PID" CapEff)"
	ok_check "... and checks work" smtp alice Alice-pw1
else
	fail "no start without cap_dac_override: $(head -3 "$SB/daemon.log")"
fi
stop_daemon

# Under NO_NEW_PRIVS (systemd's NoNewPrivileges=yes) exec hands the root
# workers no more than the parent's permitted set: it must hold theirs.
: >"$SB/daemon.log"
setpriv --no-new-privs "$DAEMON" -a pam -m "$RUN" -d -n 1 \
	2>"$SB/daemon.log" &
DAEMON_PID=$!
if wait_log 'ready on' 5 && wait_workers 1; then
	w=$(worker_pids)
	want=$(hex16 $((AUDIT_WRITE & OWN_BND)))
	[ "$(field "$w" CapPrm) $(field "$w" CapBnd)" = "$want $want" ] &&
		pass "NO_NEW_PRIVS: workers still get $want" ||
		fail "NO_NEW_PRIVS: worker $(field "$w" CapPrm)/$(field "$w" CapBnd)"
	ok_check "NO_NEW_PRIVS: pam_unix check" sasltest-unix unixuser Unix-pw6
else
	fail "no start under NO_NEW_PRIVS: $(head -3 "$SB/daemon.log")"
fi
stop_daemon

# The default set without cap_audit_write available: a warning, and
# workers without it.
: >"$SB/daemon.log"
setpriv --bounding-set=-audit_write "$DAEMON" -a pam -m "$RUN" -d -n 1 \
	2>"$SB/daemon.log" &
DAEMON_PID=$!
if wait_log 'ready on' 5 && wait_workers 1; then
	w=$(worker_pids)
	grep -q "this process lacks cap_audit_write: PAM workers run" \
		"$SB/daemon.log" &&
		pass "default set without cap_audit_write: a warning" ||
		fail "no warning about cap_audit_write: $(head -3 "$SB/daemon.log")"
	[ "$(field "$w" CapPrm) $(field "$w" CapBnd)" = "$(hex16 0) $(hex16 0)" ] &&
		pass "... and workers without it" ||
		fail "worker caps $(field "$w" CapPrm)/$(field "$w" CapBnd), want 0"
	ok_check "... and checks still work" smtp alice Alice-pw1
else
	fail "no start without cap_audit_write: $(head -3 "$SB/daemon.log")"
fi
stop_daemon

# A custom set reaches the workers' permitted, effective and bounding sets
# and the parent's bounding set, and nothing more.
want=$((1 | 4)) # cap_chown(0), cap_dac_read_search(2)
start_fg -- -n 1 --worker-caps CAP_CHOWN,cap_dac_read_search ||
	fail "start with --worker-caps"
wait_workers 1
w=$(worker_pids)
got="$(field "$w" CapPrm) $(field "$w" CapEff) $(field "$w" CapBnd)"
[ "$got" = "$(hex16 $want) $(hex16 $want) $(hex16 $want)" ] &&
	pass "--worker-caps cap_chown,cap_dac_read_search: worker has $got" ||
	fail "--worker-caps: worker has $got, want $(hex16 $want) x3"
got="$(field "$DAEMON_PID" CapPrm) $(field "$DAEMON_PID" CapBnd)"
[ "$got" = "$(hex16 $((PARENT_CAPS | want))) $(hex16 $((PARENT_CAPS | want)))" ] &&
	pass "... parent's permitted and bounding sets $got" ||
	fail "parent's sets $got, want $(hex16 $((PARENT_CAPS | want))) x2"
[ "$(field "$DAEMON_PID" CapEff)" = "$(hex16 $PARENT_CAPS)" ] &&
	pass "... parent's effective set unchanged" ||
	fail "parent's CapEff $(field "$DAEMON_PID" CapEff)"
ok_check "... pam_unix check" sasltest-unix unixuser Unix-pw6
stop_daemon

# --- 2. PAM stacks ---------------------------------------------------------
# pam_unix needs no capability at all: root's owner bits read
# /etc/shadow (root:shadow 0640).
start_fg -- -n 1 --worker-caps none || fail "start with --worker-caps none"
wait_workers 1
w=$(worker_pids)
[ "$(field "$w" CapPrm)$(field "$w" CapBnd)" = "$(hex16 0)$(hex16 0)" ] &&
	pass "--worker-caps none: no capability in any set" ||
	fail "--worker-caps none: $(field "$w" CapPrm)/$(field "$w" CapBnd)"
ok_check "--worker-caps none: pam_unix right password" \
	sasltest-unix unixuser Unix-pw6
no_check "--worker-caps none: pam_unix wrong password" \
	sasltest-unix unixuser wrong
stop_daemon

# libpam writes an audit record for each check; the kernel takes it only
# with cap_audit_write (libpam drops it silently on EPERM). Probed with
# exactly the workers' default set, and with none.
a_def=$(setpriv --bounding-set=-all,+audit_write --inh-caps=-all \
	"$WORKERPROBE" audit)
a_none=$(setpriv --bounding-set=-all --inh-caps=-all "$WORKERPROBE" audit)
case "$a_def/$a_none" in
ok/eperm)
	pass "audit records: taken with the default set, refused without"
	;;
eperm/* | */ok)
	fail "audit probe: default set '$a_def', none '$a_none'"
	;;
*)
	skip "this kernel takes no audit records (default set: $a_def)"
	;;
esac

# pam_faillock: three failures lock the account; its tally file lives
# under dir= and is written by the worker with its reduced set.
FL="$SB/faillock"
FLOPT="dir=$FL deny=3 unlock_time=600"
cat >/etc/pam.d/sasltest-faillock <<PAMD
auth required pam_faillock.so preauth $FLOPT
auth [success=1 default=bad] pam_unix.so nodelay
auth [default=die] pam_faillock.so authfail $FLOPT
auth sufficient pam_faillock.so authsucc $FLOPT
auth required pam_deny.so
account required pam_faillock.so dir=$FL
account required pam_unix.so
PAMD
start_fg -- -n 1 || fail "start for pam_faillock"
ok_check "pam_faillock: right password before any failure" \
	sasltest-faillock unixuser Unix-pw6
for i in 1 2 3; do
	no_check "pam_faillock: wrong password $i" \
		sasltest-faillock unixuser wrong
done
no_check "pam_faillock: right password refused once locked" \
	sasltest-faillock unixuser Unix-pw6
n=$(faillock --dir "$FL" --user unixuser 2>/dev/null | grep -c ' RHOST\| V$\| I$')
[ -f "$FL/unixuser" ] && [ "$n" -ge 3 ] &&
	pass "pam_faillock: tally $FL/unixuser holds the failures ($n)" ||
	fail "pam_faillock: tally: $(ls -l "$FL" 2>&1); faillock says:" \
		"$(faillock --dir "$FL" --user unixuser 2>&1)"
# Logging works after the chroot and the filter: the front forwards its
# lines to the parent.
grep -qF "auth failure: [user=unixuser] [service=sasltest-faillock]" \
	"$SB/daemon.log" &&
	pass "the front's failure lines reach the parent's log" ||
	fail "no front log line for the pam_faillock failures"
faillock --dir "$FL" --user unixuser --reset
ok_check "pam_faillock: right password after faillock --reset" \
	sasltest-faillock unixuser Unix-pw6
stop_daemon

# pam_exec: what the helper a module runs holds. The worker is uid 0;
# SECBIT_NOROOT (locked) keeps exec from handing it capabilities.
cat >"$SB/exec-helper" <<EOF
#!/bin/sh
cat /proc/self/status >"$SB/exec-status"
EOF
chmod 700 "$SB/exec-helper"
matrix_service sasltest-exec "auth optional pam_exec.so quiet $SB/exec-helper"
echo "execuser:Exec-pw8:sasltest-exec" >>"$SB/passdb"
start_fg -- -n 1 || fail "start for pam_exec"
ok_check "pam_exec stack: check OK" sasltest-exec execuser Exec-pw8
stop_daemon
if [ -f "$SB/exec-status" ]; then
	s=$(grep -E '^(Uid|CapPrm|CapEff|CapInh|CapAmb):' "$SB/exec-status" |
		tr -s ' \t' ' ' | tr '\n' ' ')
	want="Uid: 0 0 0 0 CapInh: $(hex16 0) CapPrm: $(hex16 0)"
	want="$want CapEff: $(hex16 0) CapAmb: $(hex16 0) "
	[ "$s" = "$want" ] &&
		pass "pam_exec's helper runs as uid 0 with no capability" ||
		fail "pam_exec's helper: '$s', want '$want'"
else
	fail "pam_exec's helper did not run"
fi

# pam_wrapper through --worker-env: the service exists only in
# PAM_WRAPPER_SERVICE_DIR, so the check passes only if the workers got
# all three variables (LD_PRELOAD given as NAME=VALUE, so the parent does
# not load it; the directory taken from the daemon's environment).
if ldd "$WORKER" | grep -q libasan; then
	skip "pam_wrapper: it dlopens libpam with RTLD_DEEPBIND, which ASan" \
		"refuses (a sanitizer build)"
else
	PW_DIR="$SB/pamwrap"
	mkdir -p "$PW_DIR"
	echo "wrapuser:Wrap-pw7:wrapsvc" >"$SB/wrapdb"
	printf 'auth required %s passdb=%s\naccount required %s passdb=%s\n' \
		"$PAM_MATRIX" "$SB/wrapdb" "$PAM_MATRIX" "$SB/wrapdb" \
		>"$PW_DIR/wrapsvc"
	start_fg PAM_WRAPPER_SERVICE_DIR="$PW_DIR" -- -n 1 \
		--worker-env LD_PRELOAD=libpam_wrapper.so \
		--worker-env PAM_WRAPPER=1 \
		--worker-env PAM_WRAPPER_SERVICE_DIR ||
		fail "start with pam_wrapper"
	ok_check "pam_wrapper: a service only its directory has" \
		wrapsvc wrapuser Wrap-pw7
	expect "pam_wrapper: /etc/pam.d is not read" 255 \
		'0: NO "authentication failed"' -- \
		"$TESTSASLAUTHD" -f "$SOCK" -s smtp -u alice -p Alice-pw1
	check_nolib() { ! grep -q pam_wrapper "/proc/$1/maps"; }
	check_nolib "$DAEMON_PID" && check_nolib "$(front_pid)" &&
		pass "pam_wrapper: not loaded in the parent or the front" ||
		fail "pam_wrapper mapped in the parent or the front"
	# pam_wrapper removes its copy of libpam in /tmp when the worker
	# exits normally: at the end of its channel (HUP), not at SIGTERM.
	w=$(worker_pids)
	kill -HUP "$DAEMON_PID"
	wait_log "PAM worker $w exited" 5
	stop_daemon
fi

# --- 3. the worker takes only the request frame ----------------------------
for c in valid type0 unknown hello result shutdown short huge fd trailing \
	badlen nul; do
	got=$("$WORKERPROBE" spawn "$WORKER" "$c" --max-requests 5 2>/dev/null)
	case $c in
	valid) want="hello=ok reply=WORKER_STARTED,WORKER_RESULT exit=0" ;;
	*) want="hello=ok reply=none exit=1" ;;
	esac
	[ "$got" = "$want" ] && pass "worker, frame '$c': $got" ||
		fail "worker, frame '$c': got '$got', want '$want'"
done

# sock_peer PID FD-INODE OTHER: the descriptor of process OTHER that is the
# peer (per ss) of the socket with inode FD-INODE; empty if none.
sock_peer_fd() {
	local peer fd
	peer=$(ss -xpn 2>/dev/null | awk -v i="$1" '$6 == i { print $8; exit }')
	[ -n "$peer" ] || return 0
	for fd in /proc/"$2"/fd/*; do
		[ "$(readlink "$fd")" = "socket:[$peer]" ] && echo "${fd##*/}"
	done
}

# The same inside a running daemon: the front's end of one worker's
# channel (peer of the worker's fd 3) gets a wrong frame.
start_fg -- -n 2 || fail "start for frame injection"
wait_workers 2
F=$(front_pid)
W=$(worker_pids | head -1)
ffd=$(sock_peer_fd "$(readlink "/proc/$W/fd/3" | tr -dc 0-9)" "$F")
if [ -z "$ffd" ]; then
	fail "cannot find the front's end of worker $W's channel"
else
	"$WORKERPROBE" inject "$F" "$ffd" hello >/dev/null
	wait_log "PAM worker $W exited with status 1" 5 &&
		pass "injected HELLO: worker $W exited with status 1" ||
		fail "injected HELLO: no exit 1 of worker $W: $(tail -3 \
			"$SB/daemon.log")"
	grep -q "unexpected WORKER_HELLO frame" "$SB/daemon.log" &&
		pass "... having logged the unexpected frame" ||
		fail "... no 'unexpected WORKER_HELLO frame' in the log"
	wait_workers 2 && ! worker_pids | grep -qx "$W" &&
		pass "... replaced by a new worker" ||
		fail "... workers now: $(worker_pids | tr '\n' ' ')"
	[ "$(front_pid)" = "$F" ] && pass "... the front is unharmed" ||
		fail "... front $F gone: $(front_pid)"
	ok_check "... and the daemon serves" smtp alice Alice-pw1
fi

# A front that sends the parent a frame it may not is killed (the parent's
# cap_kill: the front runs as another uid) and replaced.
pfd=
for fd in /proc/"$F"/fd/*; do
	t=$(readlink "$fd")
	[[ "$t" == socket:* ]] || continue
	[ -n "$(sock_peer_fd "$(tr -dc 0-9 <<<"$t")" "$DAEMON_PID")" ] &&
		pfd=${fd##*/}
done
if [ -z "$pfd" ]; then
	fail "cannot find the front's channel to the parent"
else
	"$WORKERPROBE" inject "$F" "$pfd" hello >/dev/null
	wait_log "front $F: unexpected frame type; killing it" 5 &&
		wait_log "front $F killed by signal 9; restarting it" 5 &&
		pass "a front sending a wrong frame is killed by the parent" ||
		fail "wrong frame from the front: $(tail -3 "$SB/daemon.log")"
	for _ in $(seq 1 100); do
		F2=$(front_pid)
		[ -n "$F2" ] && [ "$F2" != "$F" ] && wait_workers 2 && break
		sleep 0.05
	done
	sleep 0.2
	ok_check "... and a new front serves" smtp alice Alice-pw1
fi
stop_daemon

# --- 4. seccomp kills a forbidden system call ------------------------------
# gdb (as root) makes the running front call syscall(2); no test hook
# in the daemon. An allowed call (getpid) is the control.
gdb_call() { # PID EXPR: gdb's output
	timeout 60 gdb -p "$1" -batch -nx -ex "call $2" 2>&1
}
if ! command -v gdb >/dev/null; then
	skip "seccomp kill: gdb not installed (tests/deps.sh installs it)"
else
	start_fg -- -n 2 || fail "start for seccomp"
	F=$(front_pid)
	out=$(gdb_call "$F" '(long)syscall(39)')
	grep -q "= $F\$" <<<"$out" && [ "$(front_pid)" = "$F" ] &&
		pass "control: the front calls getpid for gdb and lives on" ||
		fail "control: getpid through gdb: $(tail -3 <<<"$out")"
	n=0
	for call in socket mmap; do
		case $call in
		socket) expr='(long)syscall(41, 1, 1, 0)' ;;
		# PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS
		mmap) expr='(long)syscall(9, 0, 4096, 5, 0x22, -1, 0)' ;;
		esac
		F=$(front_pid)
		n=$((n + 1))
		out=$(gdb_call "$F" "$expr")
		grep -q "terminated with signal SIGSYS" <<<"$out" &&
			pass "$call: the front died of SIGSYS" ||
			fail "$call: gdb says: $(tail -3 <<<"$out")"
		re="front $F killed by signal 31 \(SIGSYS\): seccomp"
		wait_log "$re" 5 && pass "$call: the parent logged it" ||
			fail "$call: no /$re/ in the log: $(tail -3 \
				"$SB/daemon.log")"
		for _ in $(seq 1 100); do
			F2=$(front_pid)
			[ -n "$F2" ] && [ "$F2" != "$F" ] &&
				[ "$(grep -c 'front: serving' \
					"$SB/daemon.log")" -gt $n ] && break
			sleep 0.05
		done
		[ -n "$F2" ] && [ "$F2" != "$F" ] &&
			[ "$(field "$F2" Seccomp)" = 2 ] &&
			pass "$call: a new front $F2, Seccomp 2" ||
			fail "$call: no new sandboxed front ($F2)"
		wait_workers 2
		ok_check "$call: the new front serves" smtp alice Alice-pw1
	done
	stop_daemon
fi

# --- 5. the parent's paths with its reduced capabilities --------------------
# A spool owned by another user, 0700: root gets in only through
# cap_dac_override. The run directory and its parents are created in it.
useradd --system --no-create-home --shell /usr/sbin/nologin sasld-spool
SPOOL="$SB/spool"
mkdir -m 700 "$SPOOL"
chown sasld-spool: "$SPOOL"
RUN="$SPOOL/var/run/saslauthd"
SOCK="$RUN/mux"
# One more socket given to another owner and group (cap_chown; its mode
# is set first, so no cap_fowner is needed).
OWNED="$SPOOL/owned/mux"
start_fg -- -n 1 \
	--listen "saslauthd:$OWNED,mode=0660,owner=sasld-spool,group=sasl" ||
	fail "start in a spool owned by another user"
[ "$(stat -c '%U:%G %a' "$OWNED")" = "sasld-spool:sasl 660" ] &&
	pass "spool: --listen socket sasld-spool:sasl 0660" ||
	fail "spool: --listen socket is $(stat -c '%U:%G %a' "$OWNED")"
expect "spool: check through the --listen socket" 0 '0: OK "Success."' -- \
	"$TESTSASLAUTHD" -f "$OWNED" -s smtp -u alice -p Alice-pw1
[ "$(stat -c '%U:%G %a' "$RUN")" = "root:sasl 710" ] &&
	[ "$(stat -c '%U:%G %a' "$SPOOL/var")" = "root:sasl 710" ] &&
	pass "spool: run directory created root:sasl 0710" ||
	fail "spool: $(stat -c '%n %U:%G %a' "$SPOOL/var" "$RUN")"
[ "$(stat -c '%U %a' "$SPOOL")" = "sasld-spool 700" ] &&
	pass "spool: the spool itself untouched" ||
	fail "spool: now $(stat -c '%U %a' "$SPOOL")"
ok_check "spool: check" smtp alice Alice-pw1
F=$(front_pid)
kill -KILL "$F"
for _ in $(seq 1 100); do
	F2=$(front_pid)
	[ -n "$F2" ] && [ "$F2" != "$F" ] &&
		[ "$(grep -c 'front: serving' "$SB/daemon.log")" -ge 2 ] && break
	sleep 0.05
done
wait_workers 1
ok_check "spool: check through a restarted front" smtp alice Alice-pw1
kill -HUP "$DAEMON_PID"
wait_log "recycling PAM workers" 5
sleep 0.2
wait_workers 1
ok_check "spool: check after HUP" smtp alice Alice-pw1
[ "$(ls -A "$RUN" | sort | tr '\n' ' ')" = "mux saslauthd.pid " ] &&
	pass "spool: only mux and the pid file in the run directory" ||
	fail "spool: run directory holds $(ls -A "$RUN")"
kill -TERM "$DAEMON_PID"
for _ in $(seq 1 100); do
	kill -0 "$DAEMON_PID" 2>/dev/null || break
	sleep 0.1
done
DAEMON_PID=
[ -z "$(ls -A "$RUN")" ] && [ ! -e "$OWNED" ] &&
	pass "spool: stop removed the sockets and the pid file" ||
	fail "spool: left $(ls -A "$RUN") $(ls "$OWNED" 2>/dev/null)"
grep -qiE "cannot|denied|not permitted" "$SB/daemon.log" &&
	fail "spool: errors logged: $(grep -iE 'cannot|denied|not permitted' \
		"$SB/daemon.log" | head -3)" ||
	pass "spool: no permission error logged"
finish

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Privileges: what each process of a running daemon verifiably is, read
# from /proc as the kernel sees it (DESIGN 2, README "Security model"):
#   front   uid/gid _saslauthd, no groups, no capabilities in any set,
#           NO_NEW_PRIVS, a seccomp filter (Seccomp: 2), RLIMIT_NPROC 0,
#           not dumpable (not even by its own uid), no core file,
#           chrooted into a removed directory, no environment left in its
#           memory, no libpam mapped, no descriptor but its sockets, epoll
#           and /dev/null;
#   parent  uid 0, no groups, effective capabilities exactly PARENT_CAPS,
#           permitted and bounding sets PARENT_CAPS plus the workers' set
#           (exec under NO_NEW_PRIVS gives a child no more than the
#           parent's permitted set), nothing inheritable or ambient, no
#           seccomp, its original environment wiped, no libpam mapped;
#   workers uid 0, no groups, capabilities (permitted, effective,
#           bounding) exactly the --worker-caps set (default
#           cap_audit_write), nothing inheritable or ambient, not
#           dumpable, libpam mapped, no core file, environment PATH plus
#           the --worker-env keep-list only, descriptors 0-3 only (3 the
#           channel, 0-2 /dev/null);
#   files   run directory root:sasl 0710, socket 0777, pid file = parent.
# The same checks run again on workers spawned by HUP and on a front the
# parent restarted after kill -KILL.
#
# The front is found by the real uid in /proc/PID/status, as lib.sh's
# front_pid() does. (The owner of /proc/PID would do too: the kernel shows
# the euid on /proc/PID itself even for a non-dumpable task, and root only
# on the files inside, which is what the "not dumpable" check reads.)
#
# Capability masks (bit = capabilities(7) number):
#   PARENT_CAPS 0x401e3 = chown(0) dac_override(1) kill(5) setgid(6)
#                 setuid(7) setpcap(8) sys_chroot(18)   (privsep.h;
#                 dac_override only when the launcher has it)
#   workers     0x20000000 = audit_write(29)            (caps.h)
# A capability this shell's bounding set lacks cannot be given to the
# workers; the expected worker set is cut the same way.
. "$(dirname "$0")/lib.sh"

# check NAME BUG CMD...: pass if CMD succeeds, else fail, or report the
# known bug BUG ("" for none).
check() {
	local name=$1 bug=$2
	shift 2
	if "$@"; then
		pass "$name"
	elif [ -n "$bug" ]; then
		known_bug "$bug: $name"
	else
		fail "$name"
	fi
}
eq() { [ "$1" = "$2" ]; }
not() { ! "$@"; }
# field PID NAME: a /proc/PID/status field, blanks squeezed.
field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" |
		tr -s ' \t' ' ' | sed 's/ $//'
}
as_saslauthd() {
	setpriv --reuid=_saslauthd --regid=_saslauthd --clear-groups "$@"
}
FUID=$(id -u _saslauthd)
FGID=$(id -g _saslauthd)
# Children of the parent by real uid.
children_uid() {
	local p
	for p in $(pgrep -P "$DAEMON_PID"); do
		[ "$(field "$p" Uid | cut -d' ' -f1)" = "$1" ] && echo "$p"
	done
}
fd_list() { ls "/proc/$1/fd" | sort -n | tr '\n' ' ' | sed 's/ $//'; }
run_dir_list() { ls -A "$RUN" | sort | tr '\n' ' ' | sed 's/ $//'; }
core_off() { grep -qE '^Max core file size +0 +0 ' "/proc/$1/limits"; }
nproc_off() { grep -qE '^Max processes +0 +0 ' "/proc/$1/limits"; }
# PID's environment as the kernel shows it (the block it was started
# with) holds no byte but NUL: wiped, not only forgotten.
env_wiped() { [ -z "$(tr -d '\0' <"/proc/$1/environ")" ]; }
hex16() { printf '%016x' "$1"; }
# Our own bounding set, as a number: what any child of ours can have.
OWN_BND=$((16#$(field $$ CapBnd)))
PARENT_CAPS=$((0x401e1 | (0x2 & OWN_BND)))
WORKER_CAPS=$((0x20000000 & OWN_BND))
# check_caps PID LABEL EFF PRM BND: the effective, permitted and bounding
# sets, inheritable and ambient empty.
check_caps() {
	local c want
	for c in CapEff CapPrm CapBnd CapInh CapAmb; do
		case $c in
		CapEff) want=$(hex16 "$3") ;;
		CapPrm) want=$(hex16 "$4") ;;
		CapBnd) want=$(hex16 "$5") ;;
		*) want=$(hex16 0) ;;
		esac
		check "$2: $c $(field "$1" $c), want $want" "" \
			eq "$(field "$1" $c)" "$want"
	done
}
deleted_root() { # PID: its root is a removed .front.* directory in $RUN
	local r
	r=$(readlink "/proc/$1/root")
	[[ "$r" == "$RUN"/.front.*" (deleted)" ]] && [ ! -e "${r% (deleted)}" ]
}

check_front() { # PID LABEL
	local f=$1 l=$2 c fd t r bad_stdio='' bad_other=''
	[ -n "$f" ] || {
		fail "$l: no front process found"
		return
	}
	check "$l: Uid all $FUID (_saslauthd): '$(field "$f" Uid)'" "" \
		eq "$(field "$f" Uid)" "$FUID $FUID $FUID $FUID"
	check "$l: Gid all $FGID: '$(field "$f" Gid)'" "" \
		eq "$(field "$f" Gid)" "$FGID $FGID $FGID $FGID"
	check "$l: no supplementary groups: '$(field "$f" Groups)'" "" \
		eq "$(field "$f" Groups)" ""
	for c in CapInh CapPrm CapEff CapBnd CapAmb; do
		check "$l: $c 0: $(field "$f" $c)" "" \
			eq "$(field "$f" $c)" 0000000000000000
	done
	check "$l: NoNewPrivs 1" "" eq "$(field "$f" NoNewPrivs)" 1
	check "$l: a seccomp filter (Seccomp: $(field "$f" Seccomp), want 2)" \
		"" eq "$(field "$f" Seccomp)" 2
	check "$l: RLIMIT_NPROC 0 (it never forks)" "" nproc_off "$f"
	check "$l: no environment left in its memory" "" env_wiped "$f"
	check "$l: no libpam or PAM module mapped" "" \
		not grep -qE 'libpam|/security/pam_|pam_sasltest' "/proc/$f/maps"
	r=$(readlink "/proc/$f/root")
	check "$l: chrooted into a removed directory: '$r'" "" deleted_root "$f"
	check "$l: cwd is its root" "" eq "$(readlink "/proc/$f/cwd")" "$r"
	check "$l: its root takes no new file" "" \
		not touch "/proc/$f/root/x" 2>/dev/null
	# Not dumpable: the kernel owns the files in /proc/PID as root, and
	# its ptrace check (readlink /proc/PID/exe) refuses even the same uid.
	check "$l: not dumpable (status owned by $(stat -c %U \
		"/proc/$f/status"))" "" eq "$(stat -c %u "/proc/$f/status")" 0
	check "$l: a process of its own uid cannot inspect it" "" \
		not as_saslauthd readlink "/proc/$f/exe" >/dev/null 2>&1
	check "$l: no core file (RLIMIT_CORE 0)" "" core_off "$f"
	# Descriptors: sockets (listener, parent, workers, clients), epoll,
	# and /dev/null on 0-2; nothing inherited.
	for fd in /proc/"$f"/fd/*; do
		t=$(readlink "$fd")
		fd=${fd##*/}
		if [ "$fd" -le 2 ]; then
			[ "$t" = /dev/null ] || bad_stdio="$bad_stdio $fd->$t"
		else
			case $t in
			socket:* | anon_inode:*eventpoll*) ;;
			# A Sanitize build's report files (sanitize.c).
			"${SASLD_SANITIZE_DIR:-/nonexistent}"/*) ;;
			*) bad_other="$bad_other $fd->$t" ;;
			esac
		fi
	done
	check "$l: fds 0-2 are /dev/null once detached:${bad_stdio:- yes}" \
		"" eq "$bad_stdio" ""
	check "$l: only sockets and epoll above fd 2:${bad_other:- yes}" \
		"" eq "$bad_other" ""
}

check_worker() { # PID LABEL [KNOWN-BUG-ID for fds 0-2]
	local w=$1 l=$2 env fd t bad=''
	check "$l: Uid all 0" "" eq "$(field "$w" Uid)" "0 0 0 0"
	check "$l: Gid all 0" "" eq "$(field "$w" Gid)" "0 0 0 0"
	check "$l: no supplementary groups: '$(field "$w" Groups)'" "" \
		eq "$(field "$w" Groups)" ""
	check_caps "$w" "$l" "$WORKER_CAPS" "$WORKER_CAPS" "$WORKER_CAPS"
	check "$l: no seccomp filter, NoNewPrivs 0 (setgid helpers work)" "" \
		eq "$(field "$w" Seccomp) $(field "$w" NoNewPrivs)" "0 0"
	check "$l: root is the host's /" "" \
		eq "$(readlink "/proc/$w/root")" /
	check "$l: libpam mapped" "" grep -q libpam "/proc/$w/maps"
	check "$l: no core file (RLIMIT_CORE 0)" "" core_off "$w"
	env=$(tr '\0' '\n' <"/proc/$w/environ")
	check "$l: environment is PATH and the keep-list: '$(echo $env)'" "" \
		eval '[ "$(wc -l <<<"$env")" = 2 ] &&
		[[ "$(head -1 <<<"$env")" =~ ^PATH=/[a-z/:]*$ ]] &&
		[[ "$env" != *::* ]] &&
		[ "$(tail -1 <<<"$env")" = "SASLD_TEST_KEEP=kept value" ]'
	check "$l: fds are 0 1 2 3: '$(fd_list "$w")'" "" \
		eq "$(fd_list "$w")" "0 1 2 3"
	check "$l: fd 3 is a socket (the channel)" "" \
		eval '[[ "$(readlink "/proc/$w/fd/3")" == socket:* ]]'
	for fd in 0 1 2; do
		t=$(readlink "/proc/$w/fd/$fd")
		[ "$t" = /dev/null ] || bad="$bad $fd->$t"
	done
	check "$l: fds 0-2 are /dev/null:${bad:- yes}" "${3:-}" eq "$bad" ""
}

# A root-only file on fd 7 of whoever starts the daemon: a careless init
# script or a sudo shell may leak one. The front must not inherit it.
echo "not for the front" >"$SB/secret"
chmod 600 "$SB/secret"
exec 7<"$SB/secret"
# A variable of the launcher's environment that must reach no process of
# the daemon, and one the workers must get (--worker-env).
export SASLD_TEST_CANARY="launcher's secret" SASLD_TEST_KEEP="kept value"
start_daemon -n 2 --worker-env SASLD_TEST_KEEP || {
	fail "start"
	finish
}
exec 7<&-
unset SASLD_TEST_CANARY SASLD_TEST_KEEP
for _ in $(seq 1 60); do
	[ "$(children_uid 0 | wc -l)" = 2 ] && break
	sleep 0.05
done

# --- the method: a dumpable process of _saslauthd can be inspected by
# another one, so the refusal below is the front's non-dumpable flag.
# (setpriv itself in the background, so that $! is the sleep)
setpriv --reuid=_saslauthd --regid=_saslauthd --clear-groups sleep 30 &
ctl=$!
for _ in $(seq 1 20); do
	[ "$(readlink "/proc/$ctl/exe")" = "$(command -v sleep)" ] && break
	sleep 0.05
done
check "control: a dumpable _saslauthd process can be inspected by its uid" \
	"" as_saslauthd readlink "/proc/$ctl/exe" >/dev/null 2>&1
check "control: its /proc/PID/status is owned by _saslauthd" "" \
	eq "$(stat -c %u "/proc/$ctl/status")" "$FUID"
kill "$ctl"
wait "$ctl" 2>/dev/null

# --- front ----------------------------------------------------------------
F=$(children_uid "$FUID")
check "one child runs as _saslauthd: '$(echo $F)'" "" eq "$(wc -w <<<"$F")" 1
check_front "$F" front

# --- parent ---------------------------------------------------------------
P=$DAEMON_PID
check "parent: Uid all 0: '$(field "$P" Uid)'" "" \
	eq "$(field "$P" Uid)" "0 0 0 0"
check "parent: no supplementary groups: '$(field "$P" Groups)'" "" \
	eq "$(field "$P" Groups)" ""
check_caps "$P" parent "$PARENT_CAPS" $((PARENT_CAPS | WORKER_CAPS)) \
	$((PARENT_CAPS | WORKER_CAPS))
check "parent: no seccomp filter" "" eq "$(field "$P" Seccomp)" 0
check "parent: root is the host's /" "" eq "$(readlink "/proc/$P/root")" /
check "parent: its original environment is wiped" "" env_wiped "$P"
check "parent: no libpam mapped" "" not grep -q libpam "/proc/$P/maps"

# --- workers --------------------------------------------------------------
W=$(children_uid 0)
check "2 workers run as uid 0: '$(echo $W)'" "" eq "$(wc -w <<<"$W")" 2
for w in $W; do
	check_worker "$w" "worker $w (start-up)"
done

# Not dumpable: observable only by a caller holding exactly the worker's
# permitted capabilities, which must then lack CAP_SYS_PTRACE (19).
w=$(head -1 <<<"$W")
prm=$((16#$(field "$w" CapPrm)))
check "worker $w: no CAP_SYS_PTRACE, so the next check can see" "" \
	eq $(((prm >> 19) & 1)) 0
caps=$(setpriv --list-caps | awk -v m="$prm" '
	{ b = NR - 1; if (int(m / 2 ^ b) % 2) s = s ",+" $1 }
	END { print "-all" s }')
with_caps() {
	setpriv --reuid=0 --regid=0 --clear-groups \
		--bounding-set="$caps" --inh-caps=-all "$@"
}
setpriv --reuid=0 --regid=0 --clear-groups --bounding-set="$caps" \
	--inh-caps=-all sleep 30 &
ctl=$!
sleep 0.2
t="control: a dumpable uid 0 process with the worker's capabilities"
check "$t can be inspected" "" \
	with_caps readlink "/proc/$ctl/exe" >/dev/null 2>&1
kill "$ctl"
wait "$ctl" 2>/dev/null
t="worker $w: not dumpable (a uid 0 caller with its capabilities"
check "$t cannot inspect it)" "" \
	not with_caps readlink "/proc/$w/exe" >/dev/null 2>&1

# Workers spawned after the launcher returned (HUP recycles them).
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 60); do
	W2=$(children_uid 0)
	[ "$(wc -w <<<"$W2")" = 2 ] &&
		[ -z "$(comm -12 <(sort <<<"$W") <(sort <<<"$W2"))" ] && break
	sleep 0.05
done
check "HUP: 2 new workers: '$(echo $W2)'" "" \
	eq "$(comm -13 <(sort <<<"$W") <(sort <<<"$W2") | wc -l)" 2
for w in $W2; do
	check_worker "$w" "worker $w (after HUP)"
done

# --- files ----------------------------------------------------------------
check "run directory root:sasl 0710: $(stat -c '%U:%G %a' "$RUN")" "" \
	eq "$(stat -c '%U:%G %a' "$RUN")" "root:sasl 710"
check "socket 0777: $(stat -c '%F %a' "$SOCK")" "" \
	eq "$(stat -c '%F %a' "$SOCK")" "socket 777"
# DAEMON_PID came from the pid file: the front's parent must be it.
check "pid file holds the parent's pid ($(cat "$RUN/saslauthd.pid"))" "" \
	eq "$(field "$F" PPid)" "$(cat "$RUN/saslauthd.pid")"
t="pid file root-owned, not writable by others"
check "$t: $(stat -c '%U %a' "$RUN/saslauthd.pid")" "" \
	eval '[[ "$(stat -c "%U %a" "$RUN/saslauthd.pid")" =~ ^root\ 6[04][04]$ ]]'
check "no chroot directory left in the run directory: $(run_dir_list)" "" \
	eq "$(run_dir_list)" "mux saslauthd.pid"

# --- a restarted front is confined the same way ---------------------------
expect "a check before the front is killed" 0 '0: OK "Success."' -- \
	"$TESTSASLAUTHD" -f "$SOCK" -s smtp -u alice -p Alice-pw1
kill -KILL "$F"
t0=$(date +%s%N)
# Up to 20 s for a front that stays up (front-restart: the parent may kill
# new fronts at once, with a doubling backoff).
up=0
for _ in $(seq 1 400); do
	F2=$(children_uid "$FUID")
	if [ -n "$F2" ] && [ "$F2" != "$F" ]; then
		sleep 0.3
		[ "$(children_uid "$FUID")" = "$F2" ] && up=1 && break
	fi
	sleep 0.05
done
ms=$((($(date +%s%N) - t0) / 1000000))
if [ $up = 0 ]; then
	known_bug "front-restart: no front for $ms ms after kill -KILL of" \
		"the front; the restarted front's checks cannot run"
	finish
fi
check "the parent restarted the front for good in $ms ms (< 1000)" \
	front-restart [ "$ms" -lt 1000 ]
expect "a check through the restarted front" 0 '0: OK "Success."' -- \
	"$TESTSASLAUTHD" -f "$SOCK" -s smtp -u alice -p Alice-pw1
check_front "$F2" "restarted front"
check "no chroot directory left after the restart: $(run_dir_list)" "" \
	eq "$(run_dir_list)" "mux saslauthd.pid"
finish

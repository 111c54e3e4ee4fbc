#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The systemd unit's sandbox lets the daemon work. CI runs no systemd, so
# the two restrictions that could break it are applied by hand, as read
# from init/saslauthd-ng.service: its CapabilityBoundingSet= (setpriv
# --bounding-set) with NoNewPrivileges= (setpriv --no-new-privs), and its
# SystemCallFilter=, checked against every system call the parent, the
# front and the PAM workers make (strace -f) while they answer OK and NO
# through pam_unix, recycle on HUP and stop on TERM.
. "$(dirname "$0")/lib.sh"

UNIT=$(cd "$(dirname "$0")/../.." && pwd)/init/saslauthd-ng.service
for tool in strace setpriv systemd-analyze; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: $tool is missing (tests/deps.sh installs it)"
		exit 77
	fi
done

# CapabilityBoundingSet=CAP_A CAP_B -> -all,+a,+b
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tr ' ' '\n' |
	sed -n 's/^CAP_\(.*\)/+\L\1/p' | paste -sd,)
[ -n "$caps" ] && grep -qx 'NoNewPrivileges=yes' "$UNIT" ||
	fail "unit has no CapabilityBoundingSet= or NoNewPrivileges=yes"

# SystemCallFilter= with its @groups expanded.
expand() {
	local w
	for w in "$@"; do
		case "$w" in
		@*)
			# shellcheck disable=SC2046
			expand $(systemd-analyze syscall-filter "$w" 2>/dev/null |
				awk 'NR > 1 && $1 !~ /^#/ { print $1 }')
			;;
		*) echo "$w" ;;
		esac
	done
}
# shellcheck disable=SC2046
expand $(sed -n 's/^SystemCallFilter=//p' "$UNIT") | sort -u >"$SB/allowed"
[ -s "$SB/allowed" ] || fail "no SystemCallFilter= in the unit"

mkdir -p "$SB/trace"
setpriv --bounding-set="-all,$caps" --inh-caps=-all --no-new-privs -- \
	strace -f -ff -qq -o "$SB/trace/t" -- \
	"$DAEMON" -a pam -m "$RUN" -n 2 -f 2>"$SB/daemon.err" &
STRACE_PID=$!
for _ in $(seq 100); do
	[ -S "$SOCK" ] && [ -s "$RUN/saslauthd.pid" ] && break
	sleep 0.1
done
DAEMON_PID=$(cat "$RUN/saslauthd.pid" 2>/dev/null)
[ -n "$DAEMON_PID" ] && pass "starts with bounding set $caps and no new privileges" ||
	fail "does not start: $(cat "$SB/daemon.err")"
expect "pam_unix: right password" 0 '0: OK "Success."' -- \
	"$TESTSASLAUTHD" -f "$SOCK" -s sasltest-unix -u unixuser -p Unix-pw6
expect "pam_unix: wrong password" 255 '0: NO "authentication failed"' -- \
	"$TESTSASLAUTHD" -f "$SOCK" -s sasltest-unix -u unixuser -p wrong
[ -n "$DAEMON_PID" ] && kill -HUP "$DAEMON_PID"
sleep 1
expect "after HUP" 0 '0: OK "Success."' -- \
	"$TESTSASLAUTHD" -f "$SOCK" -s sasltest-unix -u unixuser -p Unix-pw6
stop_daemon
wait "$STRACE_PID"
grep -q 'stopped' "$SB/daemon.err" && pass "stops on TERM" ||
	fail "no clean stop: $(tail -n 3 "$SB/daemon.err")"

# Every call made (strace's "name(" at the start of a line, or resumed).
cat "$SB"/trace/t.* | sed -nE 's/^(<\.\.\. )?([a-z_0-9]+)[( ].*/\2/p' |
	sort -u >"$SB/used"
n=$(wc -l <"$SB/used")
outside=$(comm -23 "$SB/used" "$SB/allowed" | paste -sd' ')
[ "$n" -gt 20 ] && [ -z "$outside" ] &&
	pass "all $n system calls made are in the unit's SystemCallFilter=" ||
	fail "system calls outside SystemCallFilter= (of $n): $outside"
finish

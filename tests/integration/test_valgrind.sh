#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# valgrind memcheck over a realistic session: the detached daemon's
# launcher, parent and front (valgrind follows fork) and its PAM workers
# (exec'd: --trace-children) answer OK and NO through pam_matrix and
# pam_unix (with its failure delay), malformed, partial and idle clients,
# recycle workers (--max-requests, HUP), log statistics (USR1) and stop
# (TERM). Then testsaslauthd-ng and the unit tests run under valgrind.
# Every process must end with "ERROR SUMMARY: 0 errors", and a definite or
# indirect leak counts as an error; a process without a summary (killed,
# or still running) fails too.
#
# The front chroots into a removed directory: valgrind opens each forked
# process's log (%p) at the fork, before the chroot, and reads debug
# information when a file is mapped, so it needs no file afterwards;
# --vgdb=no keeps it from creating FIFOs in /tmp that it could not remove.
#
# Skipped on a Sanitize build (valgrind cannot run ASan binaries); the
# RelWithDebInfo tree runs it.
. "$(dirname "$0")/lib.sh"

if [ -n "${SASLD_SANITIZE_DIR:-}" ]; then
	echo "SKIP: valgrind cannot run a Sanitize (ASan) build; the" \
		"RelWithDebInfo build runs this test"
	exit 77
fi
if ! command -v valgrind >/dev/null; then
	fail "valgrind is not installed (tests/deps.sh installs it)"
	finish
fi

VGLOG="$SB/vg"
mkdir -p "$VGLOG"
VG=(valgrind --tool=memcheck --leak-check=full
	--show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99
	--track-origins=yes --num-callers=30 --vgdb=no)
# Under valgrind a check through pam_unix (sha512crypt) takes seconds.
PAM_TIMEOUT=30

# ---- the daemon ---------------------------------------------------------
t0=$SECONDS
"${VG[@]}" --trace-children=yes --log-file="$VGLOG/daemon.%p.log" \
	"$DAEMON" -a pam -m "$RUN" -n 2 --max-requests 3 --read-timeout 1 \
	--pam-timeout "$PAM_TIMEOUT" 2>"$SB/daemon.err"
rc=$?
if [ $rc != 0 ]; then
	fail "start under valgrind: rc $rc: $(cat "$SB/daemon.err")"
	finish
fi
DAEMON_PID=$(cat "$RUN/saslauthd.pid")
PARENT=$DAEMON_PID
pass "started under valgrind in $((SECONDS - t0)) s (parent $DAEMON_PID)"

# raw NAME REPLY SASLRAW-ARGS...: the reply text saslraw prints.
raw() {
	local name=$1 want=$2 got
	shift 2
	got=$("$SASLRAW" -f "$SOCK" -t 60000 "$@" 2>&1 | sed -n 's/^reply: //p')
	if [ "$got" = "$want" ]; then
		pass "$name: '$got'"
	else
		fail "$name: got '$got', want '$want'"
	fi
}
raw "right password" OK alice Alice-pw1 smtp ""
raw "wrong password" "NO PAM auth error" alice wrong smtp ""
raw "account check fails" "NO PAM acct error" carol Carol-pw3 smtp ""
raw "5 fields, client address" OK bob Bob-pw2 imap "" "192.0.2.7;25"
raw "Exim-style split writes" OK -s alice Alice-pw1 smtp ""
raw "pam_unix, right password" OK unixuser Unix-pw6 sasltest-unix ""
raw "pam_unix, wrong password (failure delay)" "NO PAM auth error" \
	unixuser wrong sasltest-unix ""
raw "empty login" "NO NULL login received" "" x smtp ""
raw "NUL in the login" "NO NUL byte in request" \
	-x 00036100620001780004736d74700000
raw "CR in the service" "NO CR or LF in request" \
	-x 0005616c69636500017800050d736d74700000
raw "invalid service name" "NO invalid service name" \
	alice Alice-pw1 "../smtp" ""
raw "a field longer than --max-field" "NO request field too long" \
	-x ffff616c696365
raw "idle client (--read-timeout 1)" "NO timeout waiting for request" \
	-p 0 alice Alice-pw1 smtp ""
raw "half-sent request" "NO timeout reading request" \
	-p 5 alice Alice-pw1 smtp ""
# Paths without an answer to check: a client that leaves before its
# answer, statistics, and recycling every worker.
"$SASLRAW" -f "$SOCK" -n -H 0 alice Alice-pw1 smtp "" >/dev/null 2>&1
kill -USR1 "$DAEMON_PID"
kill -HUP "$DAEMON_PID"
raw "right password after HUP" OK alice Alice-pw1 smtp ""
raw "wrong password after HUP" "NO PAM auth error" alice wrong smtp ""

# testsaslauthd-ng under valgrind, as a client of the same daemon.
vg_tool() { # NAME WANT_RC WANT_OUT ARGS...
	local name=$1 want_rc=$2 want_out=$3
	shift 3
	expect "testsaslauthd-ng under valgrind: $name" "$want_rc" \
		"$want_out" -- "${VG[@]}" --log-file="$VGLOG/tool.%p.log" \
		"$TESTSASLAUTHD" "$@"
}
vg_tool OK 0 '0: OK "Success."' -f "$SOCK" -s smtp -u alice -p Alice-pw1
vg_tool NO 255 '0: NO "authentication failed"' \
	-f "$SOCK" -s smtp -u alice -p wrong
vg_tool "no such socket" 255 "0: " -f "$SB/nosock" -u alice -p x
vg_tool "bad usage" 1 "" -Q

# ---- stop: every process must have written its summary -------------------
t0=$SECONDS
kill -TERM "$DAEMON_PID"
for _ in $(seq 1 600); do
	kill -0 "$DAEMON_PID" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$DAEMON_PID" 2>/dev/null; then
	fail "the parent did not stop within 60 s of TERM under valgrind"
else
	pass "TERM: stopped under valgrind in $((SECONDS - t0)) s"
	DAEMON_PID=
fi
# Each process writes its summary before it exits, and the parent exits
# after reaping the others; this wait is only a margin.
for _ in $(seq 1 100); do
	n=0
	for f in "$VGLOG"/*.log; do
		grep -q "ERROR SUMMARY:" "$f" || n=$((n + 1))
	done
	[ $n = 0 ] && break
	sleep 0.1
done

# ---- the unit tests under valgrind --------------------------------------
for t in test_proto_saslauthd test_ipc; do
	"${VG[@]}" --log-file="$VGLOG/unit.$t.%p.log" "$SASLD_BUILD/bin/$t" \
		>"$SB/unit.out" 2>&1
	rc=$?
	[ $rc = 0 ] && pass "unit test $t under valgrind" ||
		fail "unit test $t under valgrind: rc $rc: $(tail -n 5 \
			"$SB/unit.out")"
done

# ---- the verdict, one line per process ------------------------------------
roles=
for f in "$VGLOG"/*.log; do
	pid=$(sed -n 's/^==\([0-9]*\)== Command: .*/\1/p' "$f" | head -n 1)
	cmd=$(sed -n 's/^==[0-9]*== Command: \([^ ]*\).*/\1/p' "$f" | head -n 1)
	ppid=$(sed -n 's/^==[0-9]*== Parent PID: //p' "$f" | head -n 1)
	role=${cmd##*/}
	case $role in
	saslauthd-ng)
		# The launcher forks the parent, which forks the front.
		if [ "$pid" = "$PARENT" ]; then
			role=parent
		elif [ "$ppid" = "$PARENT" ]; then
			role=front
		else
			role=launcher
		fi
		;;
	saslauthd-ng-pam) role=worker ;;
	esac
	roles="$roles $role"
	summary=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: //p' "$f")
	leaks=$(sed -n 's/^==[0-9]*== *\(definitely lost: [^ ]*\) .*/\1/p' "$f")
	if [[ $summary == "0 errors "* ]]; then
		pass "valgrind: $role $pid: 0 errors" \
			"(${leaks:-all heap blocks freed})"
	else
		fail "valgrind: $role $pid: ${summary:-no summary (killed?)}:"
		sed -n 's/^==[0-9]*== //p' "$f" | head -n 80 | sed 's/^/  | /'
	fi
done
count() { tr ' ' '\n' <<<"$roles" | grep -cx "$1"; }
# -n 2 and --max-requests 3 over 16 checks, and HUP: at least 6 workers.
if [ "$(count launcher)" = 1 ] && [ "$(count parent)" = 1 ] &&
	[ "$(count front)" = 1 ] && [ "$(count worker)" -ge 6 ] &&
	[ "$(count testsaslauthd-ng)" = 4 ]; then
	pass "valgrind ran every role: 1 launcher, 1 parent, 1 front," \
		"$(count worker) workers, 4 testsaslauthd-ng, 2 unit tests"
else
	fail "valgrind logs: want 1 launcher, 1 parent, 1 front, >= 6" \
		"workers, 4 testsaslauthd-ng; got:$roles"
fi
echo "elapsed: ${SECONDS}s"
finish

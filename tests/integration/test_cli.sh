#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The command line: exit codes and messages of bad options, -h and -v,
# --user, a second instance (exit 2, the first keeps serving), readiness
# (the launcher returns only once the socket answers), the fcntl-locked
# pid file, -d/-f in the foreground, -m (socket path length, directory
# creation root:sasl 0710, existing directories left alone), the socket
# mode, the Cyrus switches that are accepted without effect, and
# --pam-service.
. "$(dirname "$0")/lib.sh"

# Every invocation gets an -m inside the sandbox, so that a daemon which
# wrongly starts never touches the host's /run/saslauthd.
CLI_DIR="$SB/cli"

# stop_pid PID: TERM, then KILL after 10 s; PID is one we started.
stop_pid() {
	local i
	kill -TERM "$1" 2>/dev/null || return 0
	for i in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
}

# A daemon an error case started by mistake: stop it by its pid file.
reap_stray() {
	local pid
	[ -f "$CLI_DIR/saslauthd.pid" ] || return 0
	pid=$(cat "$CLI_DIR/saslauthd.pid")
	[ -n "$pid" ] && stop_pid "$pid"
	rm -rf "$CLI_DIR"
}

# cli NAME WANT_RC STREAM ERE -- ARGS...: run the daemon with ARGS (no -m
# is added); the exit status must be WANT_RC and STREAM (out or err) must
# match ERE. A failed start must leave no socket or pid file in CLI_DIR.
cli() {
	local name=$1 want_rc=$2 stream=$3 re=$4 rc left=
	shift 5
	timeout 20 "$DAEMON" "$@" >"$SB/cli.out" 2>"$SB/cli.err"
	rc=$?
	if [ "$want_rc" != 0 ] && { [ -e "$CLI_DIR/mux" ] ||
		[ -e "$CLI_DIR/saslauthd.pid" ]; }; then
		left=" and it left $(ls "$CLI_DIR" | tr '\n' ' ')behind"
	fi
	if [ "$rc" = "$want_rc" ] && [ -z "$left" ] &&
		grep -Eq -- "$re" "$SB/cli.$stream"; then
		pass "$name"
	else
		fail "$name: got rc=$rc std$stream='$(head -c 300 \
			"$SB/cli.$stream")'$left, want rc=$want_rc and" \
			"std$stream matching /$re/"
	fi
	reap_stray
}

# answers NAME [SOCKET]: a right password gets OK from the daemon.
answers() {
	expect "$1" 0 '0: OK "Success."' -- \
		"$TESTSASLAUTHD" -f "${2:-$SOCK}" -s smtp -u alice -p Alice-pw1
}

# ---- options refused before anything is created ---------------------------
cli "missing -a: exit 1" 1 err "no authentication mechanism" -- \
	-m "$CLI_DIR"
cli "-a shadow: exit 1, not supported" 1 err "shadow.*not supported" -- \
	-a shadow -m "$CLI_DIR"
cli "-a ldap: exit 1, not supported" 1 err "ldap.*not supported" -- \
	-a ldap -m "$CLI_DIR"
cli "-a nosuchmech: exit 1" 1 err "unknown authentication mechanism" -- \
	-a nosuchmech -m "$CLI_DIR"
cli "-a twice: exit 1" 1 err "-a" -- -a pam -a pam -m "$CLI_DIR"
cli "unknown option -Z: exit 1" 1 err "invalid option.*-Z" -- \
	-a pam -Z -m "$CLI_DIR"
cli "unknown option --bogus: exit 1" 1 err "invalid option.*--bogus" -- \
	-a pam --bogus -m "$CLI_DIR"
cli "missing option argument: exit 1" 1 err "requires an argument" -- \
	-a pam -m "$CLI_DIR" -n
cli "stray argument: exit 1" 1 err "unexpected argument.*stray" -- \
	-a pam -m "$CLI_DIR" stray
cli "-n -1: exit 1" 1 err "-n.*invalid number" -- -a pam -m "$CLI_DIR" -n -1
cli "-n abc: exit 1" 1 err "-n.*invalid number" -- -a pam -m "$CLI_DIR" -n abc
cli "-n 2x: exit 1" 1 err "-n.*invalid number" -- -a pam -m "$CLI_DIR" -n 2x
cli "-n 257: exit 1" 1 err "-n.*invalid number" -- -a pam -m "$CLI_DIR" -n 257
cli "-m '': exit 1" 1 err "-m" -- -a pam -m ""
cli "-t 0: exit 1" 1 err "-t.*invalid number" -- -a pam -m "$CLI_DIR" -t 0
cli "-s 0: exit 1" 1 err "-s.*invalid number" -- -a pam -m "$CLI_DIR" -s 0
cli "--pam-timeout 0: exit 1" 1 err "--pam-timeout.*invalid number" -- \
	-a pam -m "$CLI_DIR" --pam-timeout 0
cli "--max-requests 0: exit 1" 1 err "--max-requests.*invalid number" -- \
	-a pam -m "$CLI_DIR" --max-requests 0
cli "--pam-service ../x: exit 1" 1 err "--pam-service" -- \
	-a pam -m "$CLI_DIR" --pam-service ../x
cli "--user nosuchuser: exit 1 naming the user" 1 err \
	"nosuchuser.*(no such|not exist|unknown)" -- \
	-a pam -m "$CLI_DIR" --user nosuchuser
cli "--user root: exit 1 (the front must not be uid 0)" 1 err "root" -- \
	-a pam -m "$CLI_DIR" --user root
[ ! -e "$CLI_DIR" ] && pass "refused command lines create no run directory" ||
	fail "a refused command line created $CLI_DIR"

# ---- -h and -v -------------------------------------------------------------
cli "-h: exit 0, usage on stdout" 0 out "usage: saslauthd-ng -a pam" -- \
	-m "$CLI_DIR" -h
grep -q -- '--cache-revalidate SEC' "$SB/cli.out" &&
	! grep -qi 'no effect in this version' "$SB/cli.out" &&
	pass "-h documents the cache and --cache-revalidate" ||
	fail "-h: no --cache-revalidate, or still 'no effect':" \
		"$(grep -iA2 -- '-c' "$SB/cli.out" | head -c 400)"
[ ! -s "$SB/cli.err" ] && pass "-h: nothing on stderr" ||
	fail "-h: got stderr '$(head -c 200 "$SB/cli.err")', want none"
cli "--help: exit 0, usage on stdout" 0 out "usage: saslauthd-ng" -- \
	-m "$CLI_DIR" --help
cli "-v: exit 0, name and version on stderr" 0 err "^saslauthd-ng [0-9]" -- \
	-m "$CLI_DIR" -v
grep -qx "authentication mechanisms: pam" "$SB/cli.err" &&
	pass "-v: 'authentication mechanisms: pam' on stderr" ||
	fail "-v: got stderr '$(cat "$SB/cli.err")', want a line" \
		"'authentication mechanisms: pam'"
[ ! -s "$SB/cli.out" ] && pass "-v: nothing on stdout" ||
	fail "-v: got stdout '$(head -c 200 "$SB/cli.out")', want none"

# ---- readiness: the launcher returns once the socket answers --------------
for i in 1 2 3 4 5; do
	start_daemon -n 2 || {
		fail "start $i/5"
		continue
	}
	# No retry, no sleep: ENOENT or ECONNREFUSED would fail at once.
	answers "request right after the launcher returned ($i/5)"
	f=$(front_pid)
	[ -n "$f" ] && pass "front runs as _saslauthd at return ($i/5)" ||
		fail "no unprivileged front when the launcher returned ($i/5)"
	stop_daemon
	[ ! -e "$SOCK" ] && [ ! -e "$RUN/saslauthd.pid" ] &&
		pass "TERM removes socket and pid file ($i/5)" ||
		fail "left after TERM ($i/5): $(ls -A "$RUN")"
done

# ---- pid file, lock, second instance ---------------------------------------
start_daemon -n 2 || {
	fail "start"
	finish
}
P1=$DAEMON_PID
printf '%s\n' "$P1" | cmp -s - "$RUN/saslauthd.pid" &&
	pass "pid file is the pid and a newline" ||
	fail "pid file: got '$(od -An -c "$RUN/saslauthd.pid")'," \
		"want '$P1\\n'"
[ "$(readlink "/proc/$P1/exe")" = "$(readlink -f "$DAEMON")" ] &&
	pass "the pid file names the running daemon" ||
	fail "pid $P1: got exe '$(readlink "/proc/$P1/exe")', want $DAEMON"
[ "$(ps -o sid= -p "$P1" | tr -d ' ')" = "$P1" ] &&
	pass "the detached daemon leads its own session" ||
	fail "daemon session: got sid $(ps -o sid= -p "$P1"), want $P1"
ino=$(stat -c %i "$RUN/saslauthd.pid")
if awk -v p="$P1" -v i="$ino" '$2 == "POSIX" && $4 == "WRITE" &&
	$5 == p && $6 ~ (":" i "$") { f = 1 } END { exit !f }' /proc/locks; then
	pass "pid file holds a POSIX (fcntl) write lock of the daemon"
else
	fail "no fcntl write lock of pid $P1 on inode $ino in /proc/locks:" \
		"$(grep -F ":$ino " /proc/locks)"
fi
sock_ino=$(stat -c %i "$SOCK")
cli "second instance on the same -m: exit 2" 2 err "another instance" -- \
	-a pam -m "$RUN" -n 2
cli "second instance in the foreground (-f): exit 2" 2 err \
	"another instance" -- -a pam -m "$RUN" -n 2 -f
[ "$(cat "$RUN/saslauthd.pid" 2>/dev/null)" = "$P1" ] &&
	[ "$(stat -c %i "$SOCK" 2>/dev/null)" = "$sock_ino" ] &&
	kill -0 "$P1" 2>/dev/null &&
	pass "the second instances left the first's pid file and socket" ||
	fail "after the second instances: pid file" \
		"'$(cat "$RUN/saslauthd.pid" 2>&1)' (want $P1), socket inode" \
		"$(stat -c %i "$SOCK" 2>&1) (want $sock_ino)"
answers "the first instance still answers"
stat -c '%A' "$SOCK" | grep -qx 'srwxrwxrwx' &&
	pass "socket mode srwxrwxrwx, as Cyrus" ||
	fail "socket mode: got $(stat -c '%A' "$SOCK"), want srwxrwxrwx"
stat -c '%U:%G %a' "$RUN" | grep -qx 'root:sasl 710' &&
	pass "new run directory root:sasl 0710" ||
	fail "run directory: got '$(stat -c '%U:%G %a' "$RUN")'," \
		"want 'root:sasl 710'"

# A crashed instance leaves its socket and pid file: no lock, no listener,
# so the next start takes them over.
F=$(front_pid)
W=$(worker_pids)
kill -KILL "$P1"
for p in $F $W; do # they follow their parent (PDEATHSIG, EOF)
	for i in $(seq 1 50); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$p" 2>/dev/null && {
		fail "process $p outlived its killed parent $P1"
		kill -KILL "$p"
	}
done
DAEMON_PID=
if [ -S "$SOCK" ] && [ -f "$RUN/saslauthd.pid" ]; then
	start_daemon -n 2 &&
		[ "$(cat "$RUN/saslauthd.pid")" != "$P1" ] &&
		pass "start over a killed instance's socket and pid file" ||
		fail "start over stale files: rc/pid file '$(cat \
			"$RUN/saslauthd.pid" 2>&1)' ($(cat "$SB/daemon.err"))"
	answers "the new instance answers on the taken-over socket"
	stop_daemon
else
	skip "stale socket takeover: SIGKILL left no socket/pid file"
fi

# Something that is not a socket at DIR/mux is never removed.
mkdir -p "$CLI_DIR"
echo precious >"$CLI_DIR/mux"
timeout 20 "$DAEMON" -a pam -m "$CLI_DIR" >"$SB/cli.out" 2>"$SB/cli.err"
rc=$?
[ "$rc" = 1 ] && grep -q "not a socket" "$SB/cli.err" &&
	pass "DIR/mux is a regular file: exit 1, 'not a socket'" ||
	fail "DIR/mux regular file: got rc=$rc stderr" \
		"'$(head -c 300 "$SB/cli.err")', want rc=1 and 'not a socket'"
[ "$(cat "$CLI_DIR/mux" 2>&1)" = precious ] &&
	[ ! -e "$CLI_DIR/saslauthd.pid" ] &&
	pass "a regular file at DIR/mux is left as it was, no pid file" ||
	fail "DIR/mux regular file: got content '$(cat "$CLI_DIR/mux" 2>&1)'," \
		"run dir $(ls -A "$CLI_DIR" | tr '\n' ' ')"
rm -f "$CLI_DIR/mux"
reap_stray
rm -rf "$CLI_DIR"

# Another server (not saslauthd-ng: no pid-file lock) listens on DIR/mux.
mkdir -p "$CLI_DIR"
perl -MIO::Socket::UNIX -e '
	my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(),
	    Local => $ARGV[0], Listen => 5) or die "listen: $!";
	sleep 60;' "$CLI_DIR/mux" &
FOREIGN=$!
for i in $(seq 1 50); do
	[ -S "$CLI_DIR/mux" ] && break
	sleep 0.1
done
foreign_ino=$(stat -c %i "$CLI_DIR/mux")
timeout 20 "$DAEMON" -a pam -m "$CLI_DIR" >"$SB/cli.out" 2>"$SB/cli.err"
rc=$?
[ "$rc" = 2 ] && grep -q "in use" "$SB/cli.err" &&
	pass "another server listens on DIR/mux: exit 2, 'in use'" ||
	fail "foreign listener: got rc=$rc stderr" \
		"'$(head -c 300 "$SB/cli.err")', want rc=2 and 'in use'"
[ "$(stat -c %i "$CLI_DIR/mux" 2>&1)" = "$foreign_ino" ] &&
	[ ! -e "$CLI_DIR/saslauthd.pid" ] &&
	pass "the other server's socket is left alone, no pid file" ||
	fail "foreign listener: socket inode $(stat -c %i "$CLI_DIR/mux" \
		2>&1) (want $foreign_ino), run dir $(ls -A "$CLI_DIR")"
kill "$FOREIGN" 2>/dev/null
wait "$FOREIGN" 2>/dev/null
reap_stray
rm -rf "$CLI_DIR"

# ---- -d and -f stay in the foreground --------------------------------------
for spec in "-f TERM" "-d TERM" "-f INT"; do
	mode=${spec% *}
	sig=${spec#* }
	"$DAEMON" -a pam -m "$RUN" -n 2 "$mode" >"$SB/fg.out" 2>"$SB/fg.err" &
	FG=$!
	DAEMON_PID=$FG # if anything below fails, cleanup_sb stops it
	for i in $(seq 1 50); do
		[ -S "$SOCK" ] && break
		sleep 0.1
	done
	sleep 1
	if kill -0 "$FG" 2>/dev/null &&
		[ "$(ps -o ppid= -p "$FG" | tr -d ' ')" = "$$" ]; then
		pass "$mode: still the process we started after 1 s"
	else
		fail "$mode: pid $FG is gone or re-parented after 1 s" \
			"($(head -c 300 "$SB/fg.err"))"
	fi
	[ "$(cat "$RUN/saslauthd.pid" 2>&1)" = "$FG" ] &&
		pass "$mode: pid file holds the foreground pid" ||
		fail "$mode: pid file: got '$(cat "$RUN/saslauthd.pid" 2>&1)'," \
			"want $FG"
	answers "$mode: answers in the foreground"
	# The success line travels front -> parent -> stderr.
	for i in $(seq 1 30); do
		grep -q 'auth success' "$SB/fg.err" && break
		[ "$mode" = -f ] && [ "$i" -gt 5 ] && break
		sleep 0.1
	done
	if [ "$mode" = -d ]; then
		grep -q 'auth success: \[user=alice\]' "$SB/fg.err" &&
			pass "-d: verbose, debug lines on stderr" ||
			fail "-d: no 'auth success' debug line on stderr:" \
				"$(head -c 300 "$SB/fg.err")"
	elif [ "$sig" = TERM ]; then
		! grep -q 'auth success' "$SB/fg.err" &&
			pass "-f: not verbose (no debug lines)" ||
			fail "-f: debug lines without -d/-V:" \
				"$(grep 'auth success' "$SB/fg.err" | head -c 300)"
	fi
	kill -"$sig" "$FG"
	for i in $(seq 1 100); do
		kill -0 "$FG" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$FG" 2>/dev/null; then
		fail "$mode: still running 10 s after $sig"
		kill -KILL "$FG"
	fi
	wait "$FG"
	rc=$?
	DAEMON_PID=
	[ "$rc" = 0 ] && pass "$mode: $sig stops it with status 0" ||
		fail "$mode: exit status after $sig: got $rc, want 0"
	[ ! -e "$SOCK" ] && [ ! -e "$RUN/saslauthd.pid" ] &&
		pass "$mode: $sig removes socket and pid file" ||
		fail "$mode: left after $sig: $(ls -A "$RUN")"
done

# ---- -m: socket path length, creation, existing directories ---------------
# sun_path holds 107 bytes and a NUL: DIR/mux of 107 bytes is the longest.
pad() { # pad PREFIX LEN: PREFIX extended with 'd' to LEN bytes
	local s=$1/
	while [ ${#s} -lt "$2" ]; do s=${s}d; done
	echo "$s"
}
LONG_OK=$(pad "$SB" 103)     # + "/mux" = 107 bytes
LONG_BAD=$(pad "$SB" 104)    # + "/mux" = 108 bytes
cli "-m: socket path of 108 bytes: exit 1" 1 err \
	"socket path.*(long|bytes)" -- -a pam -m "$LONG_BAD"
[ ! -e "$LONG_BAD" ] && pass "-m too long: directory not created" ||
	fail "-m too long: $LONG_BAD was created"
if "$DAEMON" -a pam -n 1 -m "$LONG_OK" 2>"$SB/daemon.err"; then
	DAEMON_PID=$(cat "$LONG_OK/saslauthd.pid")
	pass "-m: socket path of exactly 107 bytes starts"
	answers "-m: 107-byte socket path answers" "$LONG_OK/mux"
	stop_daemon
else
	fail "-m: 107-byte socket path refused: $(cat "$SB/daemon.err")"
fi

# The detached daemon's start-up errors still reach the launcher's stderr.
touch "$SB/file"
cli "-m under a regular file: exit 1 naming the path" 1 err \
	"$SB/file/sub" -- -a pam -m "$SB/file/sub"

NEW="$SB/new/a/b"
start_daemon_in() { # start_daemon_in DIR [ARGS...]
	local d=$1
	shift
	"$DAEMON" -a pam -m "$d" "$@" 2>"$SB/daemon.err" || return 1
	DAEMON_PID=$(cat "$d/saslauthd.pid")
}
if start_daemon_in "$NEW" -n 1; then
	for d in "$SB/new" "$SB/new/a" "$NEW"; do
		got=$(stat -c '%U:%G %a' "$d")
		[ "$got" = "root:sasl 710" ] &&
			pass "-m: created $(basename "$d") root:sasl 0710" ||
			fail "-m: created $d: got '$got', want 'root:sasl 710'"
	done
	answers "-m: answers in a created nested directory" "$NEW/mux"
	stop_daemon
else
	fail "-m nested new directory: $(cat "$SB/daemon.err")"
fi
# Existing directories keep owner and mode (never loosened or changed),
# even when the owner is not root.
for spec in "root:root 755" "root:root 700" "unixuser:sasl 750"; do
	d="$SB/exist-${spec// /-}"
	mkdir "$d"
	chown "${spec% *}" "$d"
	chmod "${spec#* }" "$d"
	if start_daemon_in "$d" -n 1; then
		got=$(stat -c '%U:%G %a' "$d")
		[ "$got" = "$spec" ] &&
			pass "-m: existing $spec directory unchanged" ||
			fail "-m: existing directory: got '$got', want '$spec'"
		answers "-m: answers in an existing $spec directory" "$d/mux"
		stop_daemon
		got=$(stat -c '%U:%G %a' "$d")
		[ "$got" = "$spec" ] &&
			pass "-m: existing $spec directory unchanged after stop" ||
			fail "-m: existing directory after stop: got '$got'"
	else
		fail "-m existing $spec: $(cat "$SB/daemon.err")"
	fi
done
# A relative -m is anchored at the launcher's working directory.
if (cd "$SB" && "$DAEMON" -a pam -n 1 -m rel 2>"$SB/daemon.err"); then
	DAEMON_PID=$(cat "$SB/rel/saslauthd.pid")
	answers "-m relative: socket in the launcher's directory" "$SB/rel/mux"
	stop_daemon
else
	fail "-m rel: $(cat "$SB/daemon.err")"
fi

# ---- Cyrus switches accepted without effect ---------------------------------
for args in "-c -t 60 -s 1024" "-l" "-O x" "-V" "-l -O /etc/x.conf -c"; do
	# shellcheck disable=SC2086 # word splitting is the point
	if start_daemon -n 1 $args; then
		pass "accepted: $args"
		answers "answers with $args"
		stop_daemon
	else
		fail "refused: $args"
	fi
done
# -a is matched case-insensitively, as Cyrus does.
if "$DAEMON" -a PAM -n 1 -m "$RUN" 2>"$SB/daemon.err"; then
	DAEMON_PID=$(cat "$RUN/saslauthd.pid")
	pass "-a PAM accepted (case-insensitive, as Cyrus)"
	stop_daemon
else
	fail "-a PAM refused: $(cat "$SB/daemon.err")"
fi

# ---- --pam-service: one PAM service whatever the request says --------------
# bob is only in the imap stack.
start_daemon -n 1 || {
	fail "start"
	finish
}
raw() { # raw LOGIN PASSWORD SERVICE: the daemon's reply text
	"$SASLRAW" -f "$SOCK" "$1" "$2" "$3" "" | sed -n 's/^reply: //p'
}
got=$(raw bob Bob-pw2 smtp)
[ "$got" = "NO PAM acct error" ] &&
	pass "without --pam-service: bob via smtp is refused" ||
	fail "without --pam-service: bob via smtp: got '$got'," \
		"want 'NO PAM acct error'"
got=$(raw bob Bob-pw2 nosuch) # no such file: PAM's "other" stack
[ "${got:0:3}" = "NO " ] &&
	pass "without --pam-service: bob via nosuch is refused" ||
	fail "without --pam-service: bob via nosuch: got '$got', want NO"
stop_daemon
start_daemon -n 1 --pam-service imap || {
	fail "start --pam-service imap"
	finish
}
for svc in nosuch smtp "" "../../etc/x"; do
	got=$(raw bob Bob-pw2 "$svc")
	[ "$got" = OK ] &&
		pass "--pam-service imap: bob via service '$svc' OK" ||
		fail "--pam-service imap: bob via '$svc': got '$got', want OK"
done
got=$(raw bob wrong nosuch)
[ "$got" = "NO PAM auth error" ] &&
	pass "--pam-service imap: wrong password still NO" ||
	fail "--pam-service imap: bob wrong: got '$got'," \
		"want 'NO PAM auth error'"
got=$(raw carol Carol-pw3 otherservice)
[ "$got" = "NO PAM acct error" ] &&
	pass "--pam-service imap: carol checked by imap, not her service" ||
	fail "--pam-service imap: carol via otherservice: got '$got'," \
		"want 'NO PAM acct error'"
stop_daemon

finish

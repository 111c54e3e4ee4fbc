#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# systemd readiness without libsystemd (saslauthd-ng/notify.c): with
# $NOTIFY_SOCKET set, the parent sends READY=1 once it serves, then
# STOPPING=1 on SIGTERM, as Type=notify units expect. A perl datagram
# listener stands in for the service manager.
. "$(dirname "$0")/lib.sh"

NS="$SB/notify.sock"
perl -MIO::Socket::UNIX -MSocket -e '
	my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $ARGV[0])
	    or die "listen: $!";
	$| = 1;
	local $SIG{ALRM} = sub { exit 0 };
	alarm 20;
	while (defined $s->recv(my $m, 4096)) { print "$m\n"; }
' "$NS" >"$SB/notify.out" 2>&1 &
LPID=$!
for _ in $(seq 1 50); do
	[ -S "$NS" ] && break
	sleep 0.1
done

if NOTIFY_SOCKET=$NS start_daemon -n 1; then
	expect "a check while notifying" 0 "0: OK \"Success.\"" -- \
		"$TESTSASLAUTHD" -f "$SOCK" -u alice -p Alice-pw1 -s smtp
	for _ in $(seq 1 50); do
		grep -q READY=1 "$SB/notify.out" && break
		sleep 0.1
	done
	if [ "$(cat "$SB/notify.out")" = "READY=1" ]; then
		pass "READY=1 sent once the daemon serves"
	else
		fail "notifications while running: '$(cat "$SB/notify.out")'"
	fi
	stop_daemon
	for _ in $(seq 1 50); do
		grep -q STOPPING=1 "$SB/notify.out" && break
		sleep 0.1
	done
	if [ "$(tr '\n' ' ' <"$SB/notify.out")" = "READY=1 STOPPING=1 " ]; then
		pass "STOPPING=1 sent on SIGTERM"
	else
		fail "notifications: '$(tr '\n' ' ' <"$SB/notify.out")'," \
			"want READY=1 STOPPING=1"
	fi
else
	fail "start with NOTIFY_SOCKET set"
fi
kill "$LPID" 2>/dev/null
wait "$LPID" 2>/dev/null
finish

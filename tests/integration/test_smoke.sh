#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Smoke test: the installed daemon starts, answers OK and NO through
# pam_matrix, and stops cleanly, removing its socket and pid file.
. "$(dirname "$0")/lib.sh"

start_daemon -n 2 || { fail "start"; finish; }
[ -S "$SOCK" ] && pass "socket listens when the launcher returns" ||
	fail "no socket after start"
expect "right password" 0 '0: OK "Success."' -- \
	"$TESTSASLAUTHD" -f "$SOCK" -s smtp -u alice -p Alice-pw1
expect "wrong password" 255 '0: NO "authentication failed"' -- \
	"$TESTSASLAUTHD" -f "$SOCK" -s smtp -u alice -p wrong
stop_daemon
[ ! -e "$SOCK" ] && [ ! -e "$RUN/saslauthd.pid" ] &&
	pass "TERM removes socket and pid file" ||
	fail "socket or pid file left after TERM: $(ls -a "$RUN")"
finish

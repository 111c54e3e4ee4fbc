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
# pam_unix asks for a failure delay: the reply is held by a timer and must
# still be the exact Cyrus text (it was once encoded over itself).
out=$("$SASLRAW" -f "$SOCK" unixuser wrong sasltest-unix "")
reply=$(echo "$out" | sed -n 's/^reply: //p')
ms=$(echo "$out" | sed -n 's/^latency_ms: //p')
[ "$reply" = "NO PAM auth error" ] && pass "delayed failure reply text" ||
	fail "delayed failure reply: got '$reply', want 'NO PAM auth error'"
[ "${ms:-0}" -ge 500 ] && [ "${ms:-0}" -le 5100 ] &&
	pass "pam_unix failure delay honoured (${ms} ms)" ||
	fail "pam_unix failure delay: got ${ms} ms, want 500..5100"
stop_daemon
[ ! -e "$SOCK" ] && [ ! -e "$RUN/saslauthd.pid" ] &&
	pass "TERM removes socket and pid file" ||
	fail "socket or pid file left after TERM: $(ls -a "$RUN")"
finish

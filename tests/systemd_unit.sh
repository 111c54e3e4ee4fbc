#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# init/saslauthd-ng.service: systemd accepts every line, and its sandbox
# keeps the exposure score of systemd-analyze security at 3.0 or below
# (2.7 when written; sasl2-bin's unit scores 9.6 UNSAFE). No root needed.
set -u
unit=$(cd "$(dirname "$0")/.." && pwd)/init/saslauthd-ng.service
if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: systemd-analyze is missing (package systemd; tests/deps.sh)"
	exit 77
fi
passed=0
failed=0
ok() {
	passed=$((passed + 1))
	echo "ok: $*"
}
bad() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}

# Outside an installed system the helper does not exist; anything else
# (an unknown key, a bad value) is a mistake in the unit.
out=$(systemd-analyze verify --man=no "$unit" 2>&1 |
	grep -v 'saslauthd-ng-start is not executable: No such file')
[ -z "$out" ] && ok "systemd-analyze verify" || bad "verify: $out"
score=$(systemd-analyze security --offline=true "$unit" 2>&1 |
	sed -n 's/^→ Overall exposure level for .*: //p')
if systemd-analyze security --offline=true --threshold=30 "$unit" \
	>/dev/null 2>&1; then
	ok "exposure $score (threshold 3.0)"
else
	bad "exposure $score is above 3.0"
fi
grep -q '^Type=notify$' "$unit" && ok "Type=notify" || bad "not Type=notify"
# RuntimeDirectory= would recreate /run/saslauthd 0755 and remove it at
# stop (sasl2-bin's unit does).
grep -q '^RuntimeDirectory' "$unit" && bad "RuntimeDirectory= is set" ||
	ok "no RuntimeDirectory="
grep -qE '^ExecStart=.*saslauthd-ng-start run --foreground$' "$unit" &&
	ok "ExecStart runs the daemon in the foreground through the helper" ||
	bad "ExecStart"
echo "systemd_unit: $passed passed, $failed failed"
[ "$failed" = 0 ]

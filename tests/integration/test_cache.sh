#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The -c credential cache, end to end (pam_matrix, private /etc):
#   - a hit is answered while every PAM worker is SIGSTOPped: no worker
#     round trip, over the saslauthd and the Dovecot protocol;
#   - a wrong password for a cached user, and a failure seen before, go
#     to PAM (workers stopped: no answer);
#   - a changed password: the old one stops working within
#     --cache-revalidate, even tried in a tight loop; the new one works;
#   - -t expiry, HUP flush, LRU eviction with a tiny -s, nothing cached
#     without -c, and the counters of the USR1 stats line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_measure.sh"

DV="$SB/dv/auth"
STOPPED=()
stop_workers() {
	local p
	STOPPED=($(worker_pids))
	for p in "${STOPPED[@]}"; do
		kill -STOP "$p"
	done
}
cont_workers() {
	local p
	for p in "${STOPPED[@]}"; do
		kill -CONT "$p" 2>/dev/null
	done
	STOPPED=()
}
trap 'r=$?; cont_workers; (exit $r); cleanup_sb' EXIT
# hit NAME ARGS: with the workers stopped, the check gets OK fast.
hit() {
	local name=$1
	shift
	raw -t 2000 "$@"
	if [ "$R_REPLY" = OK ]; then
		pass "$name: OK in $R_MS ms with every worker stopped"
	else
		fail "$name: got '$R_REPLY' in $R_MS ms with the workers" \
			"stopped, want OK from the cache"
	fi
}
# to_pam NAME ARGS: with the workers stopped, the check waits for PAM.
to_pam() {
	local name=$1
	shift
	raw -t 700 "$@"
	if [ "$R_REPLY" = timeout ]; then
		pass "$name: no answer while the workers are stopped (PAM)"
	else
		fail "$name: got '$R_REPLY' in $R_MS ms with the workers" \
			"stopped: answered without PAM"
	fi
}
stats_line() { # the last "cache:" stats line after a USR1
	local n
	n=$(grep -c 'cache: .* hits' "$SB/daemon.log")
	kill -USR1 "$DAEMON_PID"
	for _ in $(seq 1 60); do
		[ "$(grep -c 'cache: .* hits' "$SB/daemon.log")" -gt "$n" ] &&
			break
		sleep 0.05
	done
	grep 'cache: .* hits' "$SB/daemon.log" | tail -n 1
}

# ---- hits need no worker; misses and failures do --------------------------
restart_fg -c -n 2 --listen "dovecot:$DV"
wait_workers 2 5
raw -t 5000 alice Alice-pw1 smtp ""
[ "$R_REPLY" = OK ] || fail "first check: got '$R_REPLY', want OK"
raw -t 5000 bob wrong imap ""
[ "$R_REPLY" = "NO PAM auth error" ] ||
	fail "wrong password: got '$R_REPLY', want NO PAM auth error"
stop_workers
hit "cached user" alice Alice-pw1 smtp ""
expect "cached user, Dovecot protocol" 0 '0: OK "Success."' -- \
	"$TESTSASLAUTHD" -D -t 2 -f "$DV" -s smtp -u alice -p Alice-pw1
to_pam "cached user, wrong password" alice Alice-pw1x smtp ""
to_pam "cached user, other service" alice Alice-pw1 imap ""
to_pam "a failure is never cached" bob wrong imap ""
cont_workers
grep -q 'auth success (cached): \[user=alice\] \[service=smtp\]' \
	"$SB/daemon.log" &&
	pass "a hit is logged as 'auth success (cached)'" ||
	fail "no 'auth success (cached)' line in the log"
line=$(stats_line)
if echo "$line" | grep -q ' 2 hits (1 saslauthd)'; then
	pass "USR1: $line"
else
	fail "USR1 stats line: '$line', want 2 hits (1 saslauthd)"
fi

# ---- a changed password stops working within --cache-revalidate ------------
REVAL=2
restart_fg -c -n 2 --cache-revalidate $REVAL
raw -t 5000 alice Alice-pw1 smtp ""
hit_before=$R_REPLY
cp "$SB/passdb" "$SB/passdb.orig"
sed -i 's/^alice:Alice-pw1:smtp$/alice:Alice-new:smtp/' "$SB/passdb"
t0=$(date +%s%3N)
last_ok=-1 first_no=-1 n=0 late_ok=0
while [ $(($(date +%s%3N) - t0)) -lt $((REVAL * 1000 + 1500)) ]; do
	raw -t 5000 alice Alice-pw1 smtp ""
	t=$(($(date +%s%3N) - t0))
	n=$((n + 1))
	if [ "$R_REPLY" = OK ]; then
		last_ok=$t
		[ "$first_no" -ge 0 ] && late_ok=$((late_ok + 1))
	elif [ "$first_no" -lt 0 ]; then
		first_no=$t
	fi
done
if [ "$hit_before" = OK ] && [ "$first_no" -ge 0 ] && [ "$late_ok" = 0 ] &&
	[ "$last_ok" -le $((REVAL * 1000 + 200)) ]; then
	pass "old password: last OK at $last_ok ms, NO from $first_no ms" \
		"after the change, $n tries (--cache-revalidate $REVAL)"
else
	fail "old password after the change: last OK at $last_ok ms, first" \
		"NO at $first_no ms, $late_ok OK after a NO, $n tries; want" \
		"none after $((REVAL * 1000)) ms (+200)"
fi
raw -t 5000 alice Alice-new smtp ""
[ "$R_REPLY" = OK ] && pass "the new password works" ||
	fail "new password: got '$R_REPLY'"
stop_workers
hit "the new password is cached" alice Alice-new smtp ""
to_pam "the old password is not" alice Alice-pw1 smtp ""
cont_workers
cp "$SB/passdb.orig" "$SB/passdb"

# ---- -t expiry ---------------------------------------------------------------
restart_fg -c -n 2 -t 1
raw -t 5000 alice Alice-pw1 smtp ""
stop_workers
hit "-t 1: before expiry" alice Alice-pw1 smtp ""
sleep 1.1
to_pam "-t 1: expired after 1 s" alice Alice-pw1 smtp ""
cont_workers

# ---- HUP flushes ------------------------------------------------------------
restart_fg -c -n 2
raw -t 5000 alice Alice-pw1 smtp ""
kill -HUP "$DAEMON_PID"
wait_log 'front: cache flushed' 5 && pass "HUP: the front says it flushed" ||
	fail "HUP: no 'cache flushed' in the log"
# The recycled workers are replaced: stop the new ones.
sleep 0.5
wait_workers 2 5
stop_workers
to_pam "HUP: the entry is gone" alice Alice-pw1 smtp ""
cont_workers
raw -t 5000 alice Alice-pw1 smtp ""
[ "$R_REPLY" = OK ] && pass "HUP: the cache works after the flush" ||
	fail "after HUP: got '$R_REPLY'"

# ---- LRU eviction: -s 1 holds 3 entries (264 bytes each) ---------------------
printf 'dan:Dan-pw7:smtp\neve:Eve-pw8:smtp\n' >>"$SB/passdb"
restart_fg -c -n 2 -s 1
lru_ok=0
for u in "alice Alice-pw1" "dan Dan-pw7" "bob Bob-pw2" "alice Alice-pw1" \
	"eve Eve-pw8"; do
	# shellcheck disable=SC2086
	raw -t 5000 $u smtp ""
	[ "$R_REPLY" = OK ] && lru_ok=$((lru_ok + 1))
done
# bob is imap-only in the passdb: 4 OK of 5, and bob never cached.
[ "$lru_ok" = 4 ] || fail "-s 1: $lru_ok of 5 set-up checks OK, want 4"
raw -t 5000 bob Bob-pw2 imap ""
# Stored: alice, dan, eve (alice used after dan); bob/imap evicts dan.
stop_workers
hit "-s 1: recently used kept" alice Alice-pw1 smtp ""
hit "-s 1: kept" bob Bob-pw2 imap ""
hit "-s 1: newest kept" eve Eve-pw8 smtp ""
to_pam "-s 1: least recently used evicted" dan Dan-pw7 smtp ""
cont_workers
line=$(stats_line)
if echo "$line" | grep -q '3 entries of 3,.* 1 evictions'; then
	pass "USR1 after eviction: $line"
else
	fail "USR1 stats line: '$line', want 3 entries of 3, 1 evictions"
fi

# ---- without -c nothing is cached ---------------------------------------------
restart_fg -n 2
raw -t 5000 alice Alice-pw1 smtp ""
stop_workers
to_pam "without -c" alice Alice-pw1 smtp ""
cont_workers
grep -q 'cache: ' "$SB/daemon.log" &&
	fail "without -c the log has a cache line" ||
	pass "without -c no cache is made"

# ---- bad values ------------------------------------------------------------------
for bad in "--cache-revalidate 0" "--cache-revalidate x" "-s 0" "-t 0"; do
	# shellcheck disable=SC2086
	out=$("$DAEMON" -a pam -c -m "$RUN" $bad 2>&1)
	rc=$?
	if [ $rc != 0 ] && echo "$out" | grep -q 'invalid number'; then
		pass "$bad refused: $out"
	else
		fail "$bad: rc $rc, '$out'"
	fi
done
finish

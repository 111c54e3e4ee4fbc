#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# run.sh - saslauthd-ng against Cyrus saslauthd (sasl2-bin), side by side
# in one run, on the same PAM stacks, with the same -n and clients; prints
# a Markdown table (issue 5's benchmark). As root, after a build:
#
#   bash tests/bench/run.sh [BUILD_DIR]      (default: ./build)
#
# Environment: BENCH_SECONDS (one measurement, default 6), BENCH_CLIENTS
# (default 8), BENCH_WORKERS (-n of both daemons, default 5).
#
# It installs the build into BUILD_DIR/prefix and, through the integration
# tests' lib.sh, re-executes itself in a private mount namespace with a
# private copy of /etc (the throw-away users and PAM services live there;
# the host's /etc is never changed). Raw saslbench output goes to stderr.
set -u

if [ -z "${SASLD_IN_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || {
		echo "run.sh: needs root (the daemons, users in a private /etc)"
		exit 77
	}
	build=$(cd "${1:-build}" && pwd) || exit 1
	[ -x "$build/bin/saslbench" ] || {
		echo "run.sh: no $build/bin/saslbench: build first"
		exit 1
	}
	[ -x /usr/sbin/saslauthd ] || {
		echo "run.sh: no /usr/sbin/saslauthd: apt-get install sasl2-bin"
		exit 1
	}
	cmake --install "$build" --prefix "$build/prefix" >/dev/null || exit 1
	export SASLD_BUILD=$build SASLD_PREFIX=$build/prefix
fi
# shellcheck source=../integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"

D=${BENCH_SECONDS:-6}
C=${BENCH_CLIENTS:-8}
N=${BENCH_WORKERS:-5}
BENCH="$SASLD_BUILD/bin/saslbench"
CYRUS=/usr/sbin/saslauthd
CY_RUN="$SB/cyrus"
CYC_RUN="$SB/cyrus-cache"
ECHO_SOCK="$SB/echo.sock"
CY_PID=
CYC_PID=
ECHO_PID=
SAMPLER_PID=

bench_cleanup() {
	local rc=$?
	[ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
	stop_pid "$ECHO_PID"
	stop_pid "$CY_PID"
	stop_pid "$CYC_PID"
	(exit $rc)
	cleanup_sb
}
trap bench_cleanup EXIT

stop_pid() { # PID: TERM, then KILL after 10 s
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
}

# Cyrus, detached (-d would add per-request debug logging and, on
# SIGTERM, signal our whole process group); stopped by its pid file.
start_cyrus() { # DIR [ARGS]: prints the master's PID
	local dir=$1
	shift
	mkdir -p "$dir"
	"$CYRUS" -a pam -n "$N" -m "$dir" "$@" || return 1
	for _ in $(seq 1 100); do
		[ -S "$dir/mux" ] && [ -s "$dir/saslauthd.pid" ] && break
		sleep 0.05
	done
	cat "$dir/saslauthd.pid"
}

# PSS in KiB summed over PID and all its descendants.
pss_tree() { # PID
	local p sum=0 v todo=("$1")
	while [ ${#todo[@]} -gt 0 ]; do
		p=${todo[0]}
		todo=("${todo[@]:1}")
		v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
		sum=$((sum + ${v:-0}))
		# shellcheck disable=SC2207
		todo+=($(pgrep -P "$p"))
	done
	echo "$sum"
}
sampler() { # every 0.5 s: "NG_KIB CYRUS_KIB"
	while :; do
		echo "$(pss_tree "$DAEMON_PID") $(pss_tree "$CY_PID")"
		sleep 0.5
	done
}

# bench SOCK NAME [saslbench args]: one measurement; its key=value line is
# kept in $SB/NAME.kv and echoed to stderr.
bench() {
	local sock=$1 name=$2
	shift 2
	"$BENCH" -f "$sock" -c "$C" -d "$((D * 1000))" "$@" >"$SB/$name.out" 2>&1
	grep '^bench ' "$SB/$name.out" >"$SB/$name.kv"
	echo "$name: $(cat "$SB/$name.kv")" >&2
}
kv() { # NAME KEY
	tr ' ' '\n' <"$SB/$1.kv" | sed -n "s/^$2=//p"
}
rate() { printf "%s/s" "$(kv "$1" rate)"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {
	if (b + 0 == 0) print "—"; else printf "%.2f×\n", a / b }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN {
	if (b + 0 == 0) print "—"; else printf "%.0f%%\n", 100 * a / b }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB\n", k / 1024 }'; }

# --- PAM stacks and users (lib.sh made alice, unixuser, sasltest-unix) ---
useradd --no-create-home --shell /usr/sbin/nologin unixuser2
echo 'unixuser2:Unix-pw7' | chpasswd
grep -q '^unixuser:[$]y[$]' /etc/shadow || echo "note: unixuser's hash is not yescrypt" >&2
# pam_matrix takes a user's first passdb line: bench-slow has its own.
cat >"$SB/passdb-slow" <<PASSDB
alice:Alice-pw1:bench-slow
slow:Slow-pw5:bench-slow
PASSDB
cat >/etc/pam.d/bench-slow <<PAMD
auth required $PAM_SASLTEST user_only=slow sleep_ms=3000
auth required $PAM_MATRIX passdb=$SB/passdb-slow
account required $PAM_MATRIX passdb=$SB/passdb-slow
PAMD

# --- daemons ----------------------------------------------------------------
LOAD0=$(cut -d ' ' -f 1-3 /proc/loadavg)
start_daemon -n "$N" || exit 1
CY_PID=$(start_cyrus "$CY_RUN") || {
	echo "Cyrus saslauthd did not start"
	exit 1
}
NG="$SOCK"
CY="$CY_RUN/mux"
sleep 1
PSS_IDLE_NG=$(pss_tree "$DAEMON_PID")
PSS_IDLE_CY=$(pss_tree "$CY_PID")
sampler >"$SB/pss" &
SAMPLER_PID=$!
T0=$(date +%s)

echo "saslbench: $C clients, ${D}s per measurement, -n $N for both" >&2
"$BENCH" -E "$ECHO_SOCK" >/dev/null &
ECHO_PID=$!
sleep 0.3
bench "$ECHO_SOCK" echo alice Alice-pw1 smtp ""
stop_pid "$ECHO_PID"
ECHO_PID=

for d in ng cy; do
	[ $d = ng ] && s=$NG || s=$CY
	bench "$s" matrix.$d alice Alice-pw1 smtp ""
	bench "$s" unix.$d unixuser Unix-pw6 sasltest-unix ""
	bench "$s" unix10.$d -w 10 -W unixuser:wrong-pw unixuser Unix-pw6 \
		sasltest-unix ""
	C=$((C - 1)) bench "$s" slow0.$d alice Alice-pw1 bench-slow ""
	# One client keeps asking for the 3 s user while the others log in.
	"$BENCH" -f "$s" -c 1 -d "$((D * 1000))" slow Slow-pw5 bench-slow "" \
		>"$SB/slowuser.$d.out" 2>&1 &
	slowpid=$!
	C=$((C - 1)) bench "$s" slow1.$d alice Alice-pw1 bench-slow ""
	wait $slowpid
	grep '^bench ' "$SB/slowuser.$d.out" | sed "s/^/slow-user.$d: /" >&2
	# C-1 clients hammer one login with wrong passwords; one honest user.
	"$BENCH" -f "$s" -c $((C - 1)) -d "$((D * 1000))" unixuser wrong-pw \
		sasltest-unix "" >"$SB/brute.$d.out" 2>&1 &
	brutepid=$!
	C=1 bench "$s" brute.$d unixuser2 Unix-pw7 sasltest-unix ""
	wait $brutepid
	grep '^bench ' "$SB/brute.$d.out" | sed "s/^/brute-attacker.$d: /" >&2
done

kill "$SAMPLER_PID" 2>/dev/null
wait "$SAMPLER_PID" 2>/dev/null
SAMPLER_PID=
PSS_PEAK_NG=$(awk '$1 > m { m = $1 } END { print m + 0 }' "$SB/pss")
PSS_PEAK_CY=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$SB/pss")

# Cyrus' cache (-c) on its own instance: ours has none yet.
CYC_PID=$(start_cyrus "$CYC_RUN" -c) || {
	echo "Cyrus saslauthd -c did not start"
	exit 1
}
bench "$CYC_RUN/mux" cache.cy alice Alice-pw1 smtp ""
stop_pid "$CYC_PID"
CYC_PID=
ELAPSED=$(($(date +%s) - T0))

# --- the table ----------------------------------------------------------------
row() { # LABEL NG CYRUS RATIO TARGET
	printf '| %s | %s | %s | %s | %s |\n' "$@"
}
p99() { printf '%s ms' "$(kv "$1" "${2:-p99_ms}")"; }
slowratio() { # d: normal users' p99 with / without the 3 s user
	awk -v a="$(kv "slow1.$1" p99_ms)" -v b="$(kv "slow0.$1" p99_ms)" \
		'BEGIN { if (b + 0 == 0) print "—"; else printf "%.1f×\n", a / b }'
}
echo
echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' \
	/proc/cpuinfo | head -n 1), Linux $(uname -r); sasl2-bin" \
	"$(dpkg-query -W -f '${Version}' sasl2-bin 2>/dev/null); $C clients," \
	"-n $N, ${D} s per measurement, one request per connection;" \
	"load average before: $LOAD0."
echo
row "Measurement" "saslauthd-ng" "Cyrus saslauthd" "ng / Cyrus" "Target"
row "---" "---:" "---:" "---:" "---"
row "echo floor (bare server, same framing)" "$(rate echo)" "" "" \
	"reference"
row "cache hits (pam_matrix, -c)" "missing (no cache yet)" \
	"$(rate cache.cy) ($(pct "$(kv cache.cy rate)" "$(kv echo rate)") of echo)" \
	"—" "≥ 1.5×, ≥ 80% of echo"
row "pam_matrix, no cache" "$(rate matrix.ng)" "$(rate matrix.cy)" \
	"$(ratio "$(kv matrix.ng rate)" "$(kv matrix.cy rate)")" "≥ 1.3×"
row "pam_matrix p99" "$(p99 matrix.ng)" "$(p99 matrix.cy)" "" ""
row "pam_unix (yescrypt)" "$(rate unix.ng)" "$(rate unix.cy)" \
	"$(ratio "$(kv unix.ng rate)" "$(kv unix.cy rate)")" "≥ 1.0×"
row "pam_unix, 10% wrong passwords" "$(rate unix10.ng)" \
	"$(rate unix10.cy)" \
	"$(ratio "$(kv unix10.ng rate)" "$(kv unix10.cy rate)")" "≥ 2×"
row "… right-password p99" "$(p99 unix10.ng a_p99_ms)" \
	"$(p99 unix10.cy a_p99_ms)" \
	"$(ratio "$(kv unix10.ng a_p99_ms)" "$(kv unix10.cy a_p99_ms)")" \
	"≤ 0.2×"
row "normal users' p99, pam_matrix+sasltest" "$(p99 slow0.ng)" \
	"$(p99 slow0.cy)" "" ""
row "… with one 3 s user mixed in" "$(p99 slow1.ng) ($(slowratio ng))" \
	"$(p99 slow1.cy) ($(slowratio cy))" "" "≤ 1.5× of without"
row "brute force on one login: honest user's p99" "$(p99 brute.ng)" \
	"$(p99 brute.cy)" "" "≤ 100 ms"
row "memory (PSS, all processes), idle" "$(mib "$PSS_IDLE_NG")" \
	"$(mib "$PSS_IDLE_CY")" "$(ratio "$PSS_IDLE_NG" "$PSS_IDLE_CY")" \
	"≤ 1.0×"
row "memory (PSS, all processes), peak" "$(mib "$PSS_PEAK_NG")" \
	"$(mib "$PSS_PEAK_CY")" "$(ratio "$PSS_PEAK_NG" "$PSS_PEAK_CY")" \
	"≤ 1.0×"
echo
for f in echo cache.cy {matrix,unix,slow0,slow1,brute}.{ng,cy}; do
	[ "$(kv "$f" no)" = 0 ] ||
		echo "WARNING: $f: $(kv "$f" no) NO answers where all should be OK"
done
echo "Measured in ${ELAPSED} s. Errors (eof/timeout/error) over all runs:" \
	"$(cat "$SB"/*.kv | tr ' ' '\n' |
		awk -F= '$1 ~ /^(eof|timeout|error)$/ { s += $2 } END { print s + 0 }')."

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# run.sh - saslauthd-ng against Cyrus saslauthd (sasl2-bin), side by side
# in one run, on the same PAM stacks, with the same -n and clients; prints
# a Markdown table (issue 5's benchmark). As root, after a build:
#
#   bash tests/bench/run.sh [BUILD_DIR]      (default: ./build)
#
# Environment: BENCH_SECONDS (one measurement, default 6), BENCH_CLIENTS
# (default 8), BENCH_WORKERS (-n of both daemons, default 5),
# BENCH_ATTACK_RATE (the brute-force row's attempts/s, default 20),
# BENCH_NG_ARGS (more saslauthd-ng options, e.g. "--fail-limit 5").
#
# It installs the build into BUILD_DIR/prefix and, through the integration
# tests' lib.sh, re-executes itself in a private mount namespace with a
# private copy of /etc (the throw-away users and PAM services live there;
# the host's /etc is never changed). Raw saslbench output goes to stderr.
# A measurement that fails shows "failed" in its row and the run goes on;
# every process it starts is stopped by its PID.
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
AR=${BENCH_ATTACK_RATE:-20}
ASYNC_MAX=64 # outstanding asynchronous requests (saslbench -A)
# shellcheck disable=SC2206
NG_ARGS=(${BENCH_NG_ARGS:-})
BENCH="$SASLD_BUILD/bin/saslbench"
CYRUS=/usr/sbin/saslauthd
CY_RUN="$SB/cyrus"
CYC_RUN="$SB/cyrus-cache"
NGC_RUN="$SB/ng-cache"
ECHO_SOCK="$SB/echo.sock"
CY_PID=
CYC_PID=
NGC_PID=
ECHO_PID=
SAMPLER_PID=
BG_PID= # a background saslbench (the 3 s user, the attackers)

bench_cleanup() {
	local rc=$?
	[ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
	stop_pid "$BG_PID"
	stop_pid "$ECHO_PID"
	stop_pid "$CY_PID"
	stop_pid "$CYC_PID"
	stop_pid "$NGC_PID"
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
	cat "$dir/saslauthd.pid" 2>/dev/null
}
# A second saslauthd-ng (lib.sh's start_daemon runs the first), detached;
# its launcher returns once the socket listens.
start_ng() { # DIR [ARGS]: prints the parent's PID
	local dir=$1
	shift
	mkdir -p "$dir"
	"$DAEMON" -a pam -n "$N" -m "$dir" "${NG_ARGS[@]}" "$@" \
		2>"$dir.err" || {
		echo "saslauthd-ng $*: $(cat "$dir.err")" >&2
		return 1
	}
	cat "$dir/saslauthd.pid" 2>/dev/null
}

# PSS in KiB summed over PID and all its descendants.
pss_tree() { # PID (none or 0: 0)
	local p sum=0 v todo=("$1")
	[ "${1:-0}" != 0 ] || todo=()
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
		echo "$(pss_tree "${DAEMON_PID:-0}") $(pss_tree "${CY_PID:-0}")"
		sleep 0.5
	done
}

# bench SOCK NAME [saslbench args]: one measurement; its key=value line is
# kept in $SB/NAME.kv and echoed to stderr. With SOCK "-" (its daemon did
# not start) or when saslbench fails, NAME.kv stays empty: "failed".
bench() {
	local sock=$1 name=$2
	shift 2
	: >"$SB/$name.kv"
	if [ "$sock" = - ]; then
		echo "$name: failed (no daemon)" >&2
		return 1
	fi
	if ! "$BENCH" -f "$sock" -c "$C" -d "$((D * 1000))" "$@" \
		>"$SB/$name.out" 2>&1; then
		echo "$name: failed: $(tail -n 3 "$SB/$name.out")" >&2
		return 1
	fi
	grep '^bench ' "$SB/$name.out" >"$SB/$name.kv"
	echo "$name: $(cat "$SB/$name.kv")" >&2
}
kv() { # NAME KEY: the value, or nothing when the measurement failed
	tr ' ' '\n' <"$SB/$1.kv" 2>/dev/null | sed -n "s/^$2=//p"
}
ok() { [ -s "$SB/$1.kv" ]; } # NAME: did the measurement give numbers?
rate() { if ok "$1"; then printf "%s/s" "$(kv "$1" rate)"; else echo failed; fi; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {
	if (a == "" || b + 0 == 0) print "—"; else printf "%.2f×\n", a / b }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN {
	if (a == "" || b + 0 == 0) print "—"; else printf "%.0f%%\n", 100 * a / b }'; }
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
NG=-
CY=-
if start_daemon -n "$N" "${NG_ARGS[@]}" >&2; then
	NG="$SOCK"
else
	echo "saslauthd-ng did not start: its rows fail" >&2
	DAEMON_PID=
fi
if CY_PID=$(start_cyrus "$CY_RUN") && [ -n "$CY_PID" ]; then
	CY="$CY_RUN/mux"
else
	echo "Cyrus saslauthd did not start: its rows fail" >&2
	CY_PID=
fi
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

# background NAME [saslbench args]: started now, next to a measurement;
# background_end NAME waits for it (and the replies it still awaits).
background() {
	local name=$1
	shift
	: >"$SB/$name.kv"
	"$BENCH" -d "$((D * 1000))" "$@" >"$SB/$name.out" 2>&1 &
	BG_PID=$!
}
background_end() {
	wait "$BG_PID"
	BG_PID=
	grep '^bench ' "$SB/$1.out" >"$SB/$1.kv"
	echo "$1: $(cat "$SB/$1.kv")" >&2
}

# One scenario per function, each run against saslauthd-ng and then Cyrus
# back to back, so load from elsewhere on the machine hits both alike.
sc_matrix() { bench "$2" matrix.$1 alice Alice-pw1 smtp ""; }
sc_unix() { bench "$2" unix.$1 unixuser Unix-pw6 sasltest-unix ""; }
sc_unix10() {
	# Wrong passwords come from other SMTP sessions: they are sent
	# asynchronously (-A), so no client waits out a failure delay.
	bench "$2" unix10.$1 -w 10 -W unixuser:wrong-pw -A "$ASYNC_MAX" \
		unixuser Unix-pw6 sasltest-unix ""
}
sc_slow() {
	C=$((C - 1)) bench "$2" slow0.$1 alice Alice-pw1 bench-slow ""
	# One client keeps asking for the 3 s user while the others log in.
	[ "$2" != - ] && background slowuser.$1 -f "$2" -c 1 \
		slow Slow-pw5 bench-slow ""
	C=$((C - 1)) bench "$2" slow1.$1 alice Alice-pw1 bench-slow ""
	[ "$2" != - ] && background_end slowuser.$1
}
sc_brute() {
	# Open-loop attackers: AR wrong passwords/s for one login, whatever
	# the answers, at most ASYNC_MAX outstanding; one honest user.
	[ "$2" != - ] && background brute-attacker.$1 -f "$2" -c $((C - 1)) \
		-R "$AR" -A "$ASYNC_MAX" unixuser wrong-pw sasltest-unix ""
	C=1 bench "$2" brute.$1 unixuser2 Unix-pw7 sasltest-unix ""
	[ "$2" != - ] && background_end brute-attacker.$1
}
for sc in sc_matrix sc_unix sc_unix10 sc_slow sc_brute; do
	"$sc" ng "$NG"
	"$sc" cy "$CY"
done

kill "$SAMPLER_PID" 2>/dev/null
wait "$SAMPLER_PID" 2>/dev/null
SAMPLER_PID=
PSS_PEAK_NG=$(awk '$1 > m { m = $1 } END { print m + 0 }' "$SB/pss")
PSS_PEAK_CY=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$SB/pss")
# A daemon that did not run has no memory to compare.
[ -n "$DAEMON_PID" ] || { PSS_IDLE_NG=""; PSS_PEAK_NG=""; }
[ -n "$CY_PID" ] || { PSS_IDLE_CY=""; PSS_PEAK_CY=""; }

# Caches (-c), each daemon on an instance of its own. One check first
# fills the cache; the measurement then sees hits only.
warm() { "$BENCH" -f "$1" -c 1 -n 1 alice Alice-pw1 smtp "" >/dev/null; }
if NGC_PID=$(start_ng "$NGC_RUN" -c) && [ -n "$NGC_PID" ]; then
	warm "$NGC_RUN/mux"
	bench "$NGC_RUN/mux" cache.ng alice Alice-pw1 smtp ""
else
	bench - cache.ng
fi
stop_pid "$NGC_PID"
NGC_PID=
if CYC_PID=$(start_cyrus "$CYC_RUN" -c) && [ -n "$CYC_PID" ]; then
	warm "$CYC_RUN/mux"
	bench "$CYC_RUN/mux" cache.cy alice Alice-pw1 smtp ""
else
	echo "Cyrus saslauthd -c did not start" >&2
	bench - cache.cy
fi
stop_pid "$CYC_PID"
CYC_PID=
ELAPSED=$(($(date +%s) - T0))

# --- the table ----------------------------------------------------------------
row() { # LABEL NG CYRUS RATIO TARGET MET
	printf '| %s | %s | %s | %s | %s | %s |\n' "$@"
}
# met VALUE OP LIMIT: "met" or "missed" (OP: le, ge), "—" without VALUE.
met() {
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		if (v == "" || v == "—") { print "—"; exit }
		v += 0
		print ((op == "ge" ? v >= l : v <= l) ? "met" : "missed") }'
}
both() { # MET MET: met when both are
	case "$1 $2" in
	"met met") echo met ;;
	*—*) echo "—" ;;
	*) echo missed ;;
	esac
}
num() { printf '%s' "$1" | sed 's/[^0-9.—]//g'; } # "1.23×" -> 1.23
p99() { # NAME [KEY]
	if ok "$1"; then printf '%s ms' "$(kv "$1" "${2:-p99_ms}")"; else echo failed; fi
}
slowratio() { # d: normal users' p99 with / without the 3 s user
	awk -v a="$(kv "slow1.$1" p99_ms)" -v b="$(kv "slow0.$1" p99_ms)" \
		'BEGIN { if (a == "" || b + 0 == 0) print "—"; else printf "%.1f×\n", a / b }'
}
wrong() { # d: the wrong-password requests of the 10% row
	ok "unix10.$1" || {
		echo failed
		return
	}
	printf '%s answered, %s timeout, p50 %s ms, p99 %s ms' \
		"$(($(kv "unix10.$1" b_ok) + $(kv "unix10.$1" b_no)))" \
		"$(kv "unix10.$1" b_timeout)" "$(kv "unix10.$1" b_p50_ms)" \
		"$(kv "unix10.$1" b_p99_ms)"
}
attackers() { # d: what the brute-force attackers got
	local a=brute-attacker.$1
	ok "$a" || {
		echo failed
		return
	}
	printf '%s sent/s, %s answered (%s/s in the window), %s timeout' \
		"$(kv "$a" sent_rate)" "$(($(kv "$a" ok) + $(kv "$a" no)))" \
		"$(kv "$a" rate)" "$(kv "$a" timeout)"
}
mem() { # KIB: "failed" when its daemon did not run
	if [ "${1:-0}" -gt 0 ]; then mib "$1"; else echo failed; fi
}
echo
echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' \
	/proc/cpuinfo | head -n 1), Linux $(uname -r); sasl2-bin" \
	"$(dpkg-query -W -f '${Version}' sasl2-bin 2>/dev/null); $C clients," \
	"-n $N, ${D} s per measurement, one request per connection;" \
	"load average before: $LOAD0${NG_ARGS[*]:+; saslauthd-ng ${NG_ARGS[*]}}."
echo
row "Measurement" "saslauthd-ng" "Cyrus saslauthd" "ng / Cyrus" "Target" "Met"
row "---" "---:" "---:" "---:" "---" "---"
row "echo floor (bare server, same framing)" "$(rate echo)" "" "" \
	"reference" ""
r=$(ratio "$(kv cache.ng rate)" "$(kv cache.cy rate)")
e=$(pct "$(kv cache.ng rate)" "$(kv echo rate)")
row "cache hits (pam_matrix, -c)" \
	"$(rate cache.ng)$(ok cache.ng && echo " ($e of echo)")" \
	"$(rate cache.cy)$(ok cache.cy && echo " ($(pct "$(kv cache.cy rate)" \
		"$(kv echo rate)") of echo)")" \
	"$r" "≥ 1.5×, ≥ 80% of echo" \
	"$(both "$(met "$(num "$r")" ge 1.5)" "$(met "$(num "$e")" ge 80)")"
r=$(ratio "$(kv matrix.ng rate)" "$(kv matrix.cy rate)")
row "pam_matrix, no cache" "$(rate matrix.ng)" "$(rate matrix.cy)" \
	"$r" "≥ 1.3×" "$(met "$(num "$r")" ge 1.3)"
row "pam_matrix p99" "$(p99 matrix.ng)" "$(p99 matrix.cy)" "" "" ""
r=$(ratio "$(kv unix.ng rate)" "$(kv unix.cy rate)")
row "pam_unix (yescrypt)" "$(rate unix.ng)" "$(rate unix.cy)" \
	"$r" "≥ 1.0×" "$(met "$(num "$r")" ge 1.0)"
r=$(ratio "$(kv unix10.ng rate)" "$(kv unix10.cy rate)")
row "pam_unix, 10% wrong passwords (sent async)" "$(rate unix10.ng)" \
	"$(rate unix10.cy)" "$r" "≥ 2×" "$(met "$(num "$r")" ge 2)"
r=$(ratio "$(kv unix10.ng a_p99_ms)" "$(kv unix10.cy a_p99_ms)")
row "… right-password p99" "$(p99 unix10.ng a_p99_ms)" \
	"$(p99 unix10.cy a_p99_ms)" "$r" "≤ 0.2×" "$(met "$(num "$r")" le 0.2)"
row "… wrong passwords" "$(wrong ng)" "$(wrong cy)" "" "" ""
row "normal users' p99, pam_matrix+sasltest" "$(p99 slow0.ng)" \
	"$(p99 slow0.cy)" "" "" ""
r=$(slowratio ng)
row "… with one 3 s user mixed in" "$(p99 slow1.ng)$(ok slow1.ng && echo " ($r)")" \
	"$(p99 slow1.cy)$(ok slow1.cy && echo " ($(slowratio cy))")" "" \
	"≤ 1.5× of without" \
	"$(met "$(num "$r")" le 1.5)"
row "brute force on one login: honest user's p99" "$(p99 brute.ng)" \
	"$(p99 brute.cy)" "" "≤ 100 ms" "$(met "$(kv brute.ng p99_ms)" le 100)"
row "… the attackers ($AR/s offered, open loop)" "$(attackers ng)" \
	"$(attackers cy)" "" "" ""
r=$(ratio "$PSS_IDLE_NG" "$PSS_IDLE_CY")
row "memory (PSS, all processes), idle" "$(mem "$PSS_IDLE_NG")" \
	"$(mem "$PSS_IDLE_CY")" "$r" "≤ 1.0×" "$(met "$(num "$r")" le 1.0)"
r=$(ratio "$PSS_PEAK_NG" "$PSS_PEAK_CY")
row "memory (PSS, all processes), peak" "$(mem "$PSS_PEAK_NG")" \
	"$(mem "$PSS_PEAK_CY")" "$r" "≤ 1.0×" "$(met "$(num "$r")" le 1.0)"
echo
for f in echo cache.{ng,cy} {matrix,unix,unix10,slow0,slow1,brute}.{ng,cy}; do
	[ "${f%.*}" = unix10 ] && no=a_no || no=no
	if ! ok "$f"; then
		echo "WARNING: $f: failed (see stderr)"
	elif [ "$(kv "$f" $no)" != 0 ]; then
		echo "WARNING: $f: $(kv "$f" $no) NO answers where all should be OK"
	fi
done
# The honest clients' errors: all but the 3 s user, the attackers and the
# 10% row's wrong passwords.
echo "Measured in ${ELAPSED} s. Errors (eof/timeout/error) of the honest" \
	"clients over all runs: $(cat "$SB"/{echo,cache,matrix,unix,unix10,slow0,slow1,brute}.*kv |
		tr ' ' '\n' | awk -F= '$1 ~ /^(eof|timeout|error)$/ { s += $2 }
			$1 ~ /^b_(timeout|other)$/ { s -= $2 }
			END { print s + 0 }')."

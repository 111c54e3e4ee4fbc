#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Builds the fuzz targets with clang, libFuzzer, ASan and UBSan (no
# recovery) into build-fuzz/, then runs each for a bounded time starting
# from its committed corpus (tests/fuzz/corpus/<target>). Prints each
# target's executions and final coverage (cov/ft), and fails if any target
# crashes or breaks an invariant; the input that did it is kept in
# build-fuzz/artifacts/. New inputs go to build-fuzz/corpus/<target>,
# never into the source tree unless --merge is given.
#
# Usage: tests/fuzz/run.sh [-t SECONDS] [-j JOBS] [--merge] [TARGET...]
#   -t SECONDS  per target (default: $FUZZ_SECONDS, else 60)
#   -j JOBS     targets fuzzed at once (default: the CPUs, at most 4)
#   --merge     afterwards, add the new inputs that reach new coverage to
#               tests/fuzz/corpus/<target>/ (libFuzzer -merge=1), to commit
# A longer hunt: tests/fuzz/run.sh -t 3600 --merge saslauthd_request
set -euo pipefail
cd "$(dirname "$0")/../.."

# Each target and the longest input worth mutating: a request with fields
# of a few hundred bytes (the limits themselves are reached through the
# small limits the control byte picks), a reply a bit over SASLD_MAX_REPLY,
# frames a bit over IPC_MAX_REASON (longer strings are refused by their
# count alone).
declare -A MAX_LEN=(
	[saslauthd_request]=2048
	[saslauthd_reply]=600
	[ipc_frame]=1024
	[worker_frame]=1024
	[proto_dovecot]=4096
)
ALL="saslauthd_request saslauthd_reply ipc_frame worker_frame proto_dovecot"

secs=${FUZZ_SECONDS:-60}
jobs=$(nproc)
[ "$jobs" -gt 4 ] && jobs=4
merge=0
targets=
while [ $# -gt 0 ]; do
	case $1 in
	-t) secs=$2; shift 2 ;;
	-j) jobs=$2; shift 2 ;;
	--merge) merge=1; shift ;;
	-h|--help) sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*)
		[ -n "${MAX_LEN[$1]:-}" ] || { echo "run.sh: no target $1 ($ALL)" >&2; exit 2; }
		targets="$targets $1"
		shift
		;;
	esac
done
targets=${targets:-$ALL}
case $secs in
''|*[!0-9]*) echo "run.sh: -t wants whole seconds" >&2; exit 2 ;;
esac

B=build-fuzz
cmake -B "$B" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Sanitize \
	-DSASLD_FUZZ=ON \
	-DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link -fno-sanitize-recover=all" \
	>/dev/null
# shellcheck disable=SC2046,SC2086
cmake --build "$B" -j"$(nproc)" --target $(printf 'fuzz_%s ' $targets)
mkdir -p "$B/artifacts" "$B/logs"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Runs one target; its exit status lands in logs/<target>.rc.
fuzz_one() {
	local t=$1 rc=0
	mkdir -p "$B/corpus/$t"
	"$B/bin/fuzz_$t" -max_len="${MAX_LEN[$t]}" -max_total_time="$secs" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$B/artifacts/$t-" \
		"$B/corpus/$t" "tests/fuzz/corpus/$t" >"$B/logs/$t.log" 2>&1 ||
		rc=$?
	echo "$rc" >"$B/logs/$t.rc"
}

echo "fuzzing for ${secs}s each, $jobs at a time:$targets"
running=0
for t in $targets; do
	rm -f "$B/logs/$t.rc"
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	fuzz_one "$t" &
	running=$((running + 1))
done
wait

fail=0
printf '%-18s %12s %7s %7s %8s  %s\n' target executions cov ft corpus result
for t in $targets; do
	rc=$(cat "$B/logs/$t.rc" 2>/dev/null || echo lost)
	log=$B/logs/$t.log
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	n=$(find "tests/fuzz/corpus/$t" "$B/corpus/$t" -type f | wc -l)
	if [ "$rc" = 0 ]; then
		res=ok
	else
		res="FAILED (exit $rc; $log, $B/artifacts/$t-*)"
		fail=1
	fi
	printf '%-18s %12s %7s %7s %8s  %s\n' "$t" "${execs:-?}" \
		"${cov:-?}" "${ft:-?}" "$n" "$res"
done
if [ "$fail" != 0 ]; then
	for t in $targets; do
		grep -qE 'ERROR: |invariant broken|runtime error' \
			"$B/logs/$t.log" || continue
		echo "---- $t ----"
		grep -E -A25 'ERROR: |invariant broken|runtime error' \
			"$B/logs/$t.log" | head -60
	done
	echo "fuzzing found a problem; reproduce with:" \
		"$B/bin/fuzz_<target> $B/artifacts/<file>" >&2
	exit 1
fi

if [ "$merge" = 1 ]; then
	for t in $targets; do
		before=$(find "tests/fuzz/corpus/$t" -type f | wc -l)
		"$B/bin/fuzz_$t" -merge=1 -max_len="${MAX_LEN[$t]}" \
			"tests/fuzz/corpus/$t" "$B/corpus/$t" \
			>"$B/logs/$t-merge.log" 2>&1
		after=$(find "tests/fuzz/corpus/$t" -type f | wc -l)
		echo "$t: merged $((after - before)) new inputs into" \
			"tests/fuzz/corpus/$t ($after files," \
			"$(du -sk "tests/fuzz/corpus/$t" | cut -f1) KiB)"
	done
fi

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Every option that --help / -h prints is documented in the program's man
# page (saslauthd-ng/saslauthd-ng.8, testsaslauthd/testsaslauthd-ng.8).
# Usage: manpages.sh BINDIR
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?usage: manpages.sh BINDIR}
passed=0
failed=0

check() { # program manpage help-text
	local prog=$1 page=$2 help=$3 opts text o
	# roff writes a dash as \- ; fonts as \fB..\fR.
	text=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$page")
	opts=$(printf '%s\n' "$help" |
		grep -oE '(^|[][ ,|])--?[A-Za-z][A-Za-z0-9-]*' |
		sed -E 's/^[][ ,|]//' | sort -u)
	[ -n "$opts" ] || {
		echo "FAIL: $prog: no options found in its help"
		failed=$((failed + 1))
		return
	}
	for o in $opts; do
		# Bundled Cyrus flags in the synopsis (-dfrlcvVh) are not one
		# option each; their letters are listed one by one below it.
		case "$o" in -[A-Za-z][A-Za-z]*) [ "${o#--}" = "$o" ] && continue ;; esac
		if printf '%s\n' "$text" | grep -qE -- "(^|[^A-Za-z0-9-])$o([^A-Za-z0-9-]|$)"; then
			passed=$((passed + 1))
		else
			echo "FAIL: $prog: $o is in --help but not in $page"
			failed=$((failed + 1))
		fi
	done
}

check saslauthd-ng "$src/saslauthd-ng/saslauthd-ng.8" \
	"$("$bin/saslauthd-ng" --help)"
check testsaslauthd-ng "$src/testsaslauthd/testsaslauthd-ng.8" \
	"$("$bin/testsaslauthd-ng" -h)"
echo "manpages: $passed passed, $failed failed"
[ "$failed" = 0 ]

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# House-style check (STYLE.md): every C file is clang-formatted and none
# calls a banned unbounded or unchecked function.
set -u
cd "$(dirname "$0")/.."
files=$(find saslauthd-ng pam testsaslauthd tests -name '*.[ch]' | sort)
bad=0
n=0
for f in $files; do
	n=$((n + 1))
	if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "not clang-formatted: $f (run clang-format -i $f)"
		bad=$((bad + 1))
	fi
done
banned=$(grep -HnE '\b(strcpy|strcat|sprintf|vsprintf|gets|strncpy|strtok|atoi)[[:space:]]*\(' $files |
	grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/\*|\*)')
if [ -n "$banned" ]; then
	echo "banned calls:"
	echo "$banned"
	bad=$((bad + 1))
fi
echo "$((n + 1 - bad)) passed, $bad failed"
[ "$bad" = 0 ]

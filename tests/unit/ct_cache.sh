#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Constant-time check of the cache's tag compare (ct_cache.c) under
# valgrind's memcheck: the cache's own code must not branch on secret
# bytes, and plain memcmp must be caught doing so (the check can fail).
# Usage: ct_cache.sh PATH/TO/ct_cache
set -u
prog=$1
if ! command -v valgrind >/dev/null 2>&1; then
	echo "SKIP: valgrind is not installed (apt-get install valgrind)"
	exit 77
fi
vg() {
	valgrind -q --error-exitcode=1 --track-origins=yes "$@"
}
rc=0
if vg "$prog"; then
	echo "PASS: cache_tag and cache_tag_equal do not branch on secrets"
else
	echo "FAIL: memcheck saw a branch on secret bytes in the cache code"
	rc=1
fi
if vg "$prog" memcmp >/dev/null 2>&1; then
	echo "FAIL: memcmp on secret tags went unnoticed: the check is blind"
	rc=1
else
	echo "PASS: the same check catches memcmp on secret tags"
fi
exit $rc

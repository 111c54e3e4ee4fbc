#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The whole test suite, as CI runs it: dependencies, a -Werror build, the
# style check, unit tests and (as root) the integration tests; then a
# bounded clang/libFuzzer run of every fuzz target (tests/fuzz/run.sh);
# then the unit and integration tests again on an ASan + UBSan build
# (build-asan).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/deps.sh
cmake -B build -DSASLD_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure

bash tests/fuzz/run.sh

# Sanitize build: every process of the daemon, its workers and the test
# clients writes its ASan/UBSan reports into build-asan/sanitizer-reports
# (saslauthd-ng/sanitize.c); a report fails the test during which it was
# written (tests/integration/lib.sh) and, whenever written, this run.
rm -rf build-asan/sanitizer-reports
cmake -B build-asan -DSASLD_WERROR=ON -DCMAKE_BUILD_TYPE=Sanitize
cmake --build build-asan -j"$(nproc)"
# (The package test builds its own .deb from the sources: once is enough.)
ctest --test-dir build-asan -L 'unit|integration' -LE package \
	--output-on-failure
reports=$(find build-asan/sanitizer-reports -type f -size +0)
if [ -n "$reports" ]; then
	echo "FAIL: sanitizer reports:"
	for f in $reports; do
		echo "== $f"
		head -n 60 "$f"
	done
	exit 1
fi
echo "sanitizers: no report"

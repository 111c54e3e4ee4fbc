#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The whole test suite, as CI runs it: dependencies, a -Werror build, the
# style check, unit tests and (as root) the integration tests, then a
# bounded clang/libFuzzer run of every fuzz target (tests/fuzz/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/deps.sh
cmake -B build -DSASLD_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure
bash tests/fuzz/run.sh

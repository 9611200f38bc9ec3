#!/usr/bin/env bash
# The test command: set up, build, run unit and integration tests (the
# integration tests boot Debian 6.1, 6.12 and 7.3 under qemu and build
# Debian's linux-source-6.12 twice), then the unit
# tests again under ASan/UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
(cd build && ctest --output-on-failure)
echo "== unit tests under ASan/UBSan"
scripts/build.sh build-asan -DSWAPBENCH_SANITIZE=ON -DSWAPBENCH_INTEGRATION=OFF
(cd build-asan && ctest --output-on-failure -L unit)

#!/usr/bin/env bash
# The main job on built-in defaults: set up this machine, build, and run the
# quick suite (Debian 6.1 vs 6.12, zram and zswap+NVMe, anon workload in a
# 64M memcg, 3 iterations). Extra arguments go to 'swapbench run'.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
exec build/swapbench run configs/suites/quick.json "$@"

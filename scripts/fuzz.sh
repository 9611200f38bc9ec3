#!/usr/bin/env bash
# Fuzz the host's parsers of untrusted input (spec, guest and final
# result.json, summary.json, run.json; tests/fuzz/fuzz_input.c) with
# libFuzzer for a bounded time, and print what it did. A benchmark, not a
# test: crashers are copied into tests/data/fuzz/ (the regression corpus that
# tests/unit/test_fuzz_corpus.c replays) and the script exits 1.
#   scripts/fuzz.sh [SECONDS]      (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
if ! command -v clang >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "fuzz: installing clang and libFuzzer (clang, libclang-rt-dev)"
  apt-get install -y -qq --no-install-recommends clang libclang-rt-dev >/dev/null
fi
work=$(mktemp -d /tmp/sb-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
srcs=$(ls harness/*.c common/*.c workloads/*.c | grep -Ev '/(main|cmd-[^/]*)\.c$')
echo "fuzz: building with clang -fsanitize=fuzzer,address,undefined"
# shellcheck disable=SC2086
clang -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -DSB_LIBFUZZER -DSWAPBENCH_VERSION=\"fuzz\" -DSWAPBENCH_SOURCE_DIR=\"$PWD\" \
  -I. $(pkg-config --cflags jansson) \
  tests/fuzz/fuzz_input.c $srcs -o "$work/fuzz" $(pkg-config --libs jansson) -lm -lpthread
mkdir -p "$work/corpus" "$work/crashes"
cp tests/data/fuzz/* "$work/corpus/"
echo "fuzz: $secs s on $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) (not an idle machine unless that says so)"
set +e
"$work/fuzz" "$work/corpus" -max_total_time="$secs" -max_len=65536 -timeout=10 \
  -rss_limit_mb=2048 -artifact_prefix="$work/crashes/" -print_final_stats=1 2>"$work/log"
rc=$?
set -e
grep -E '^(#[0-9]+ +DONE|stat::)' "$work/log" || tail -5 "$work/log"
if ls "$work/crashes/"* >/dev/null 2>&1; then
  for c in "$work/crashes/"*; do cp "$c" "tests/data/fuzz/$(basename "$c")"; done
  echo "fuzz: crashers saved in tests/data/fuzz/ (fix them; the unit test replays them):"
  ls "$work/crashes/"
  tail -40 "$work/log"
  exit 1
fi
[ $rc = 0 ] || { tail -20 "$work/log"; exit 1; }
echo "fuzz: no crash"

#!/usr/bin/env bash
# The nightly's HTML report (written by test_nightly) in a real headless
# browser: Debian's chromium loads it from disk with no network, no errors
# in its console, the DOM has the verdict table, the bisection and the
# trend charts, and a screenshot is taken (kept beside the report).
# Skips (77) when chromium is not installed or test_nightly left no report.
set -euo pipefail

out=${SB_NIGHTLY_OUT:?SB_NIGHTLY_OUT: the directory test_nightly used}
page=$out/report/index.html
fail() { echo "FAIL: $*" >&2; exit 1; }

browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "SKIP: chromium is not installed (scripts/setup.sh installs it)"; exit 77; }
[ -f "$page" ] || { echo "SKIP: no report at $page: run test_nightly first"; exit 77; }

profile=$(mktemp -d /tmp/sb-chromium-XXXXXX)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --user-data-dir="$profile" --enable-logging=stderr --v=0
       --virtual-time-budget=5000)

timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$page" >"$out/dom.html" 2>"$out/chromium-dom.log" ||
  fail "chromium --dump-dom failed: $(tail -5 "$out/chromium-dom.log")"
timeout 120 "$browser" "${flags[@]}" --window-size=1200,2400 \
  --screenshot="$out/report.png" "file://$page" >/dev/null 2>"$out/chromium-shot.log" ||
  fail "chromium --screenshot failed: $(tail -5 "$out/chromium-shot.log")"

grep -q '<table id="verdicts">' "$out/dom.html" || fail "no verdict table in the DOM"
grep -q 'REGRESSION\|(regression)' "$out/dom.html" || fail "the regression is not in the table"
grep -q '<pre id="bisect">' "$out/dom.html" || fail "no bisection in the DOM"
grep -q 'first bad commit' "$out/dom.html" || fail "the bisection names no first bad commit"
n_img=$(grep -o '<img src="trend-[0-9]*.svg"' "$out/dom.html" | wc -l)
[ "$n_img" -ge 1 ] || fail "no trend chart in the DOM"
for svg in $(grep -o 'trend-[0-9]*.svg' "$out/dom.html" | sort -u); do
  [ -s "$out/report/$svg" ] || fail "chart $svg is missing"
done
# Page errors: a resource that did not load, a script or CSS error.
if grep -E 'Failed to load resource|Uncaught|ERR_FILE_NOT_FOUND|Refused to' \
     "$out/chromium-dom.log" "$out/chromium-shot.log"; then
  fail "the page loaded with errors"
fi
[ -s "$out/report.png" ] || fail "no screenshot"
echo "PASS: $page renders ($n_img chart(s)); screenshot $out/report.png"

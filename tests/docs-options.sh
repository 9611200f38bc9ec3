#!/usr/bin/env bash
# Every option the README and docs show on a swapbench command line is one
# that command's --help (made from its option table) lists: the prose cannot
# drift from the tables. A command line is the text after "swapbench " up to
# a closing backtick, a comment, a pipe, a semicolon or " (" (continuation
# lines ending in "\" are joined); a first word with a subcommand
# ("kernel get") is asked for the subcommand's help.
#   tests/docs-options.sh SWAPBENCH FILE...
set -euo pipefail
bin=${1:?usage: docs-options.sh SWAPBENCH FILE...}
shift
bad=0
help=$(mktemp)
trap 'rm -f "$help"' EXIT
for f in "$@"; do
  # Join continuation lines, keeping each joined line's first line number.
  while IFS=$'\t' read -r n text; do
    rest=${text#*swapbench }
    rest=${rest%%\`*}; rest=${rest%%#*}; rest=${rest%%|*}; rest=${rest%%;*}; rest=${rest%% (*}
    rest=$(sed 's/=[^ ]*//g' <<<"$rest")  # --sbatch-arg=--time=1:00 is one option
    read -r w1 w2 _ <<<"$rest" || true
    [[ $w1 =~ ^[a-z][a-z-]*$ ]] || continue
    if [[ ${w2:-} =~ ^[a-z][a-z-]*$ ]] && "$bin" "$w1" "$w2" --help >"$help" 2>/dev/null &&
       head -1 "$help" | grep -q "swapbench $w1 $w2"; then
      cmd="$w1 $w2"
    elif "$bin" "$w1" --help >"$help" 2>/dev/null; then
      cmd=$w1
    else
      continue
    fi
    for o in $(grep -o -- '--[a-z][a-z0-9-]*' <<<"$rest" | sort -u); do
      if ! grep -q -- "$o\\b" "$help"; then
        echo "$f:$n: '$o' is not an option of 'swapbench $cmd' (its --help)"
        bad=1
      fi
    done
  done < <(awk '{ if (cont) { buf = buf " " $0 } else { buf = $0; start = NR }
                 cont = sub(/\\$/, "", buf)
                 if (!cont && buf ~ /swapbench [a-z]/) print start "\t" buf }' "$f")
done
exit $bad

#!/bin/sh
# Rewrite #include "x.h" to the path from the source root ("common/x.h",
# "harness/x.h", ...), the one include root since the tree was split into
# harness/ (host), bench/ (guest agent) and common/ (both).  Run it on files
# written before that split:  scripts/fix-includes.sh FILE...
# (no arguments: every tracked .c/.h file outside tests/data).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -eq 0 ]; then
	cd "$root"
	set -- $(git ls-files '*.c' '*.h' | grep -v '^tests/data/')
fi
# Renamed functions: the parameter getters moved from workloads/wl-util.h to
# common/params.h (one validator for workloads, topology layers).
renames='s/\bwl_bad_param(/param_bad(/g;s/\bwl_check_object(/param_check_object(/g;
s/\bwl_check_keys(/param_check_keys(/g;s/\bwl_get_\(int\|size\|bool\|enum\|string\)(/param_get_\1(/g'
# One sed expression per header of the tree: "name.h" -> "dir/name.h".
script=$(cd "$root" && for h in common/*.h harness/*.h bench/*.h workloads/*.h \
		tests/unit/*.h tests/integration/*.h; do
	[ -e "$h" ] || continue
	b=$(basename "$h")
	printf 's|#include "%s"|#include "%s"|;' "$b" "$h"
done)
for f in "$@"; do
	sed -i -e "$script" -e "$renames" "$f"
done

#!/usr/bin/env python3
"""List C functions longer than a limit and source files longer than a limit.

Usage: scripts/rooms.py [--func N] [--file N] [DIR...]
Defaults: functions over 120 lines, files over 800 lines, in common/ harness/
bench/ workloads/ tests/unit tests/integration. Table initialisers (a
top-level `... = {`) are not functions and are not counted. A function is a
line at column 0 that is not a declaration and ends in `)` (or an opening
brace follows), up to the `}` at column 0. Exit 0 always: a report, not a
gate.
"""
import os, re, sys

def functions(path):
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    out, start, name = [], None, None
    for i, l in enumerate(lines):
        if start is None:
            m = re.match(r"^[A-Za-z_][\w \*]*?\b(\w+)\s*\(", l)
            if m and not l.rstrip().endswith(";") and "=" not in l.split("(")[0]:
                # the body opens on this line or a following one
                for j in range(i, min(i + 8, len(lines))):
                    if lines[j].startswith("{"):
                        start, name = i, m.group(1)
                        break
                    if lines[j].rstrip().endswith(";"):
                        break
        elif l.startswith("}"):
            out.append((i - start + 1, name, start + 1))
            start = None
    return out

def main(argv):
    flim, filelim, dirs = 120, 800, []
    it = iter(argv)
    for a in it:
        if a == "--func":
            flim = int(next(it))
        elif a == "--file":
            filelim = int(next(it))
        else:
            dirs.append(a)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    dirs = dirs or [os.path.join(root, d) for d in
                    ("common", "harness", "bench", "workloads", "tests/unit", "tests/integration")]
    files = []
    for d in dirs:
        for dp, _, fs in os.walk(d):
            files += [os.path.join(dp, f) for f in fs if f.endswith((".c", ".h"))]
    print(f"functions over {flim} lines:")
    for f in sorted(files):
        for n, name, line in functions(f):
            if n > flim:
                print(f"  {n:5d}  {os.path.relpath(f, root)}:{line} {name}")
    print(f"files over {filelim} lines:")
    for f in sorted(files):
        n = sum(1 for _ in open(f, encoding="utf-8", errors="replace"))
        if n > filelim:
            print(f"  {n:5d}  {os.path.relpath(f, root)}")

if __name__ == "__main__":
    main(sys.argv[1:])

#!/usr/bin/env bash
# How much of the core the desktop shell and the CLI reach into: lines of each adapter and the
# distinct core items (last path segment of every `meta_monitor_core::…` path, `use` trees
# expanded) their non-test code names. Issue 16 reports these before and after.
#   scripts/core-surface.sh            # this checkout
#   scripts/core-surface.sh REV        # another revision (read with git show)
set -euo pipefail
cd "$(dirname "$0")/.."
rev="${1:-}"
python3 - "$rev" <<'PY'
import re, subprocess, sys
rev = sys.argv[1]

def files(folder):
    if rev:
        out = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, folder], capture_output=True, text=True, check=True).stdout
    else:
        out = subprocess.run(["git", "ls-files", folder], capture_output=True, text=True, check=True).stdout
    return [f for f in out.split() if f.endswith(".rs")]

def read(path):
    if rev:
        return subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True, check=True).stdout
    return open(path).read()

def expand(tree):
    """`a::{b, c::{d, e}}` → ['a::b', 'a::c::d', 'a::c::e']."""
    tree = re.sub(r"\s+", "", tree)
    depth, start, parts = 0, None, []
    if "{" not in tree:
        return [tree]
    head, rest = tree.split("{", 1)
    body = rest[: rest.rfind("}")]
    item, depth = "", 0
    for ch in body:
        if ch == "," and depth == 0:
            parts.append(item); item = ""; continue
        depth += ch == "{"; depth -= ch == "}"
        item += ch
    parts.append(item)
    return [p for part in parts if part for p in expand(head + part)]

for folder in ["src-tauri/src", "src-tauri/cli/src"]:
    lines, items = 0, set()
    for f in files(folder):
        text = read(f)
        lines += text.count("\n")
        code = text.split("#[cfg(test)]")[0]
        for m in re.finditer(r"use\s+meta_monitor_core::([^;]+);", code):
            for path in expand(m.group(1)):
                items.add(path.split(" as ")[0].split("::")[-1])
        for m in re.finditer(r"(?<!use )meta_monitor_core::((?:[a-z_0-9]+::)*[A-Za-z_0-9]+)", code):
            items.add(m.group(1).split("::")[-1])
    items.discard("self"); items.discard("*")
    print(f"{folder}: {lines} lines, {len(items)} core items")
PY

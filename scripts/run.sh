#!/usr/bin/env bash
# The main job: build tinyml, then compile the bundled example model through the default
# pipeline and report on it (ops, MACs, parameter bytes, activation peak).
# Usage: scripts/run.sh [model.tir]      (installs missing Debian packages first)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-$root/examples/tiny_cnn.tir}
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$root/build" tinyml-opt >/dev/null
opt="$root/build/tinyml-opt/tinyml-opt"

echo "== $model: canonicalize, cse, infer-shapes =="
"$opt" "$model" --pass-pipeline='canonicalize,cse,infer-shapes,print-cost' --timing -o /dev/null

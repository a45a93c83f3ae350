#!/usr/bin/env bash
# The main job: build tinyml, compile the bundled example model to C, run it on the host
# and on an emulated Cortex-M4 (QEMU), and print its output and memory report.
# Usage: scripts/run.sh            (installs missing Debian packages first)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=$root/examples/tiny_cnn.tir
input=$root/examples/tiny_cnn.in0.bin
work=$root/build/main-job
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$root/build" tinyml-opt tinyml-run >/dev/null
opt=$root/build/tinyml-opt/tinyml-opt
rm -rf "$work" && mkdir -p "$work/golden"

echo "== compile $(basename "$model") to C (canonicalize, lower-to-loops, plan-memory) =="
"$opt" "$model" --pass-pipeline='canonicalize,lower-to-loops,plan-memory' --memory-report \
  --emit=c -o "$work/tiny_cnn.c"
grep -E '#define tiny_cnn_' "$work/tiny_cnn.h"

echo "== run on the host =="
"$root/build/tinyml-run/tinyml-run" "$model" --input "$input" --output "$work/golden/out0.bin"
python3 - "$work/golden/out0.bin" <<'PY'
import struct, sys
probs = struct.unpack("<4f", open(sys.argv[1], "rb").read())
print("class probabilities:", ", ".join("%.4f" % p for p in probs), "-> class", probs.index(max(probs)))
PY

echo "== run on an emulated Cortex-M4 (mps2-an386), checked against the host run =="
cp "$input" "$work/golden/in0.bin"
python3 "$root/runtime/run-on-qemu.py" --target cortex-m4 --model "$work/tiny_cnn.c" \
  --golden "$work/golden" --float-outputs 0

#!/usr/bin/env bash
# Builds and runs every test: unit, lit, malformed-input and QEMU end-to-end tests with gcc,
# then the host tests again with clang-19 under ASan+UBSan, plus a short run of each
# libFuzzer target.  The full QEMU matrix (label e2e-full) runs with `ctest -L e2e`.
# Usage: scripts/test.sh            (installs missing Debian packages first)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
jobs=$(nproc)

echo "== build (gcc) =="
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$root/build" -j "$jobs"
echo "== tests (gcc) =="
(cd "$root/build" && ctest --output-on-failure -j "$jobs" -LE e2e-full)

echo "== build (clang-19, ASan+UBSan, fuzz targets) =="
CC=clang-19 CXX=clang++-19 cmake -S "$root" -B "$root/build-asan" -G Ninja \
  -DCMAKE_BUILD_TYPE=Debug -DTINYML_SANITIZE=ON -DTINYML_FUZZ=ON >/dev/null
ninja -C "$root/build-asan" -j "$jobs"
echo "== tests (ASan+UBSan) =="
# The QEMU runs test cross-compiled code, which the sanitizers do not instrument: they
# run once, in the gcc build above.
(cd "$root/build-asan" && ctest --output-on-failure -j "$jobs" -LE e2e)

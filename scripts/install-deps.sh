#!/usr/bin/env bash
# Installs the Debian packages the build and the test suite need; skips what is present.
# Shared by the README's two commands and CI, so a fresh Debian 12 machine needs nothing else.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  flex bison libgtest-dev
  llvm-19-dev clang-19 lld-19 llvm-19-tools libclang-rt-19-dev mlir-19-tools
  qemu-system-arm qemu-system-misc
  gcc-arm-none-eabi picolibc-arm-none-eabi libnewlib-arm-none-eabi
  gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf
  libprotobuf-c-dev protobuf-c-compiler libonnx-dev libonnx-testdata python3-onnx
  liblapacke-dev
  zlib1g-dev libzstd-dev libxml2-dev libedit-dev libffi-dev libncurses-dev
  python3
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# Installs the Debian 12 packages bism needs, only those missing (idempotent).
set -euo pipefail

packages=(
  cmake ninja-build clang-22
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libgtest-dev libgmock-dev libbenchmark-dev
  libopenblas-pthread-dev libomp-22-dev libclang-rt-22-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  zlib1g-dev libpng-dev dataset-fashion-mnist python3-numpy
  libplplot-dev plplot-driver-cairo fonts-dejavu-core pkg-config
  libopenmpi-dev openmpi-bin
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

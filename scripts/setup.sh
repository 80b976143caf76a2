#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs what building and testing rcustate needs on Debian 12, non-interactively,
# and only what is missing. Sourced by scripts/test.sh and scripts/bench.sh; may be
# run on its own.
set -euo pipefail

rcs_packages=(
  build-essential meson ninja-build pkg-config cmake
  liburcu-dev libabsl-dev libgtest-dev libbenchmark-dev nlohmann-json3-dev
  clang libclang-rt-14-dev llvm gnuplot-nox binutils python3 python3-pytest
  librdkafka-dev
)
# The Rust crates' tests (suite rust) need cargo; a rustup toolchain will do.
if ! command -v cargo >/dev/null; then rcs_packages+=(cargo); fi

rcs_missing=()
for p in "${rcs_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    rcs_missing+=("$p")
  fi
done

if ((${#rcs_missing[@]})); then
  echo "setup: installing ${rcs_missing[*]}" >&2
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${rcs_missing[@]}" >/dev/null
fi

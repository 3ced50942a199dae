#!/usr/bin/env bash
# Builds, on this machine, everything `docs/gpu/run.sh` needs on a bare GPU
# machine that reaches no network: the bench as one `deno bundle` file, the
# Deno binary (xz), The Time Machine, and the Vulkan loader packages.
# Everything goes to .device/ and .gl/, which git ignores; the device tool
# carries them (about 35 MB together).
#
#   bash docs/gpu/prepare.sh
#   then, with the device tool: carry [".device", ".gl"], command
#   bash docs/gpu/run.sh nvidia-h200   # KIND: the kind the device tool's status names
set -euo pipefail
cd "$(dirname "$0")/../.."
data=${RNNLAB_DATA_DIR:-../shared/data}
mkdir -p .device/data .gl
deno bundle --platform deno -o .device/bench.js lib/cli/bench.ts
xz -T0 -6 -c "$(command -v deno)" >.device/deno.xz
cp "$data/timemachine.txt" .device/data/
if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
  mkdir -p /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update -qq
  # shellcheck disable=SC2086
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
du -sh .device .gl

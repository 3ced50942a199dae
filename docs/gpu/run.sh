#!/usr/bin/env bash
# Runs `deno task bench` (webgpu: the fused and the reference engine) on a
# GPU machine prepared by docs/gpu/prepare.sh, and writes
# $OUT/gpu-<kind>.json plus the Markdown table (on lavapipe the same bench
# took 2 min 19 s; it has not yet run on a GPU).
#
#   bash docs/gpu/run.sh nvidia-h200   # KIND: the kind the device tool's status names
set -uo pipefail
kind=${1:?usage: run.sh KIND}
out=${OUT:-/tmp/rnnlab-gpu}
mkdir -p "$out"
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; fi
xz -dc .device/deno.xz >/tmp/deno && chmod +x /tmp/deno
XDG_RUNTIME_DIR=$(mktemp -d)
export XDG_RUNTIME_DIR RNNLAB_OFFLINE=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
/tmp/deno --version | head -1
/tmp/deno run -A .device/bench.js --data-dir .device/data --backends webgpu \
  --epochs 5 --out "$out" --json "$out/gpu-$kind.json"

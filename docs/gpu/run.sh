#!/usr/bin/env bash
# Runs `deno task bench` (webgpu: the fused and the reference engine) on a
# GPU machine prepared by docs/gpu/prepare.sh, and writes
# $OUT/gpu-<kind>.json plus the Markdown table (on lavapipe the same bench
# took 2 min 19 s).
#
#   bash docs/gpu/run.sh nvidia-h200   # KIND: the kind the device tool's status names
set -uo pipefail
kind=${1:?usage: run.sh KIND}
cd "$(dirname "$0")/../.."
. docs/gpu/setup.sh
/tmp/deno run -A .device/bench.js --data-dir .device/data --engines fused,reference --backends webgpu \
  --epochs 5 --out "$out" --json "$out/gpu-$kind.json"

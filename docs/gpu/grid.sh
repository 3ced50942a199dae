#!/usr/bin/env bash
# Runs experiment grids on a GPU machine prepared by docs/gpu/prepare.sh and
# docs/gpu/prepare-grid.sh, all runners at once, and stops them at a deadline
# (a stopped runner loses only its unfinished cells). Then, with the time left,
# the bench. Back in $OUT: grid.tar.xz (results/<name>/cells/*.json and one log
# per runner, to unpack into the repository and report with `deno task
# report`) and, if it ran, the bench's gpu-<kind>.json.
#
#   bash docs/gpu/grid.sh KIND DEADLINE_S TOTAL_S 'NAME [exp flags]' ...
#   e.g. bash docs/gpu/grid.sh nvidia-h200 420 570 'detach --jobs 6'
set -uo pipefail
kind=${1:?usage: grid.sh KIND DEADLINE_S TOTAL_S 'NAME [flags]' ...}
deadline=${2:?}
total=${3:?}
shift 3
cd "$(dirname "$0")/../.."
start=$SECONDS
. docs/gpu/setup.sh
rm -rf .device/grid && tar -C .device -xJf .device/grid.tar.xz
# The cells record the bundle's commit: this machine's checkout can lag.
RNNLAB_GIT_COMMIT=$(cat .device/grid/COMMIT)
RNNLAB_GIT_DIRTY=$(cat .device/grid/DIRTY 2>/dev/null || echo true)
export RNNLAB_GIT_COMMIT RNNLAB_GIT_DIRTY
echo "bundle of $RNNLAB_GIT_COMMIT (dirty: $RNNLAB_GIT_DIRTY)"
# One process opens the GPU before the runners all start at once. On a cold
# H200, eight cells starting together failed to get a device ("Not enough
# memory left", "tfjs could not initialise it"), and the machine stayed so
# until it was replaced; a fresh one that first ran one process ran all eight.
# Stop here if even one process cannot, rather than spend the deadline.
if ! timeout 60 /tmp/deno eval '
  const adapter = await navigator.gpu?.requestAdapter();
  const device = await adapter?.requestDevice();
  if (!device) throw new Error("no WebGPU device");
  device.destroy();'; then
  echo "WebGPU does not start on this machine: no cells run"
  exit 1
fi
mkdir -p .device/grid/logs
for run in "$@"; do
  name=${run%% *}
  # From the repository root, as `deno task exp` runs.
  # shellcheck disable=SC2086
  timeout -k 10 $((deadline - (SECONDS - start))) \
    /tmp/deno run -A .device/grid/lib/cli/exp.ts $run --data-dir .device/data \
    >".device/grid/logs/$name.log" 2>&1 &
done
wait
echo "grid stopped after $((SECONDS - start)) s"
for run in "$@"; do
  name=${run%% *}
  echo "== $name: $(ls .device/grid/results/"$name"/cells 2>/dev/null | wc -l) cells"
  grep -E "done|failed|diverged" ".device/grid/logs/$name.log" | tail -4
done
tar -C .device/grid -cf - results logs | xz -T0 >"$out/grid.tar.xz"
left=$((total - (SECONDS - start)))
if [ "$left" -ge 60 ] && [ -f .device/bench.js ]; then
  timeout -k 5 "$left" /tmp/deno run -A .device/bench.js --data-dir .device/data \
    --backends webgpu --epochs 5 --out "$out" --json "$out/gpu-$kind.json"
fi
echo "total $((SECONDS - start)) s"

#!/usr/bin/env bash
# Runs rnnlab on a host that reaches no network, from the archive that
# docs/gpu/bundle.sh made, and packs what it computed for the way back.
#
#   bash offline.sh rnnlab-offline.tar.xz 'exp clipping-ablation --batch 24' 'bench --cells 1,4,8,24'
#
# Each argument is one task and its flags (exp, report, bench, compare,
# show), run in turn from the unpacked archive (RNNLAB_OFFLINE_DIR, default a
# temporary directory), its output in logs/. Then rnnlab-results.tar.xz,
# beside the archive, holds results/ (the cells, reports and bench files) and
# the logs: unpack it into a checkout and run `deno task report <name>`.
#
# WebGPU needs a Vulkan loader and the GPU's Vulkan driver: on Debian or
# Ubuntu `libvulkan1` and the NVIDIA driver. An archive made with --vulkan
# carries libvulkan1, unpacked here when the host has no loader (as root).
set -uo pipefail
archive=$(cd "$(dirname "${1:?usage: offline.sh ARCHIVE 'TASK [flags]' ...}")" && pwd)/$(basename "$1")
shift
work=${RNNLAB_OFFLINE_DIR:-$(mktemp -d)}
mkdir -p "$work"
tar -C "$work" -xJf "$archive"
cd "$work/rnnlab-offline"
if ! ldconfig -p 2>/dev/null | grep -q libvulkan.so.1 && ls vulkan/*.deb >/dev/null 2>&1; then
  for f in vulkan/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
# The NVIDIA driver's Vulkan ICD, where drivers and containers put it.
for icd in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
  /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$icd" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then export VK_DRIVER_FILES=$icd; fi
done
export RNNLAB_DATA_DIR=$PWD/data RNNLAB_OFFLINE=1
# The cells record the commit the archive was made from.
RNNLAB_GIT_COMMIT=$(cat COMMIT)
RNNLAB_GIT_DIRTY=$(cat DIRTY)
export RNNLAB_GIT_COMMIT RNNLAB_GIT_DIRTY
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
export PATH=$PWD:$PATH
mkdir -p logs
status=0
n=0
for run in "$@"; do
  n=$((n + 1))
  task=${run%% *}
  args=${run#"$task"}
  echo "== $task$args"
  # shellcheck disable=SC2086
  ./deno run -A "lib/cli/$task.ts" $args 2>&1 | tee "logs/$n-$task.log"
  code=${PIPESTATUS[0]}
  echo "== exit $code"
  [ "$code" = 0 ] || status=$code
done
out=$(dirname "$archive")/rnnlab-results.tar.xz
tar -cf - results logs | xz -T0 >"$out"
echo "results and logs in $out"
exit "$status"

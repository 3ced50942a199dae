#!/usr/bin/env bash
# Sourced by run.sh and grid.sh on the bare GPU machine: unpacks the Vulkan
# loader (.gl/, from prepare.sh), points it at the NVIDIA driver, unpacks Deno
# to /tmp/deno, and makes $out for what comes back.
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; fi
xz -dc .device/deno.xz >/tmp/deno && chmod +x /tmp/deno
XDG_RUNTIME_DIR=$(mktemp -d)
export XDG_RUNTIME_DIR RNNLAB_OFFLINE=1
out=${OUT:-/tmp/rnnlab-gpu}
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.used --format=csv,noheader || true
/tmp/deno --version | head -1

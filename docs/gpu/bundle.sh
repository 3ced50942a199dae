#!/usr/bin/env bash
# Makes rnnlab-offline.tar.xz: everything `deno task exp`, `report`, `bench`,
# `compare` and `show` need on a host that reaches no network (an air-gapped
# GPU host, say), for docs/gpu/offline.sh to run there. A host with network
# needs none of this: clone the repository and run the tasks.
#
#   bash docs/gpu/bundle.sh [--vulkan]   # --vulkan: also Debian's Vulkan loader packages
#
# It holds: Deno's binary; each task's entry point as one `deno bundle` file
# at its own path, and the runner's worker at lib/experiment/worker.ts, where
# the runner starts it; each experiment file as plain data; the committed cells (a run
# trains only the missing ones, and reused cells find their runs); the books,
# from the data directory (RNNLAB_DATA_DIR, default ../shared/data) or the
# download cache; and the commit it was made from, which the cells record.
set -euo pipefail
cd "$(dirname "$0")/../.."
vulkan=false
[ "${1:-}" = --vulkan ] && vulkan=true
data=${RNNLAB_DATA_DIR:-../shared/data}
[ -d "$data" ] || data=${RNNLAB_CACHE_DIR:-$HOME/.cache/rnnlab}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
b=$tmp/rnnlab-offline
mkdir -p "$b/lib/cli" "$b/lib/experiment" "$b/experiments" "$b/data"
for entry in lib/cli/exp lib/cli/report lib/cli/bench lib/cli/compare lib/cli/show lib/experiment/worker; do
  deno bundle --quiet --platform deno -o "$b/$entry.ts" "$entry.ts"
done
# Experiment files are plain data: their default export, as data.
deno eval --quiet "
  for (const e of Deno.readDirSync('experiments')) {
    if (!e.name.endsWith('.ts')) continue;
    const spec = (await import('./experiments/' + e.name)).default;
    Deno.writeTextFileSync('$b/experiments/' + e.name,
      'export default ' + JSON.stringify(spec, null, 2) + ';\n');
  }"
for d in results/*/cells; do
  mkdir -p "$b/$d" && cp "$d"/*.json "$b/$d/"
done
# The runner starts its workers with the exp task's permissions.
deno eval --quiet "
  const tasks = JSON.parse(Deno.readTextFileSync('deno.json')).tasks;
  Deno.writeTextFileSync('$b/deno.json', JSON.stringify({ tasks: { exp: tasks.exp } }, null, 2) + '\n');"
for f in timemachine.txt war_of_the_worlds.txt; do
  [ -f "$data/$f" ] && cp "$data/$f" "$b/data/"
done
ls "$b/data"/*.txt >/dev/null 2>&1 || { echo "no books in $data" >&2; exit 1; }
cp "$(command -v deno)" "$b/deno"
read -r commit dirty < <(deno eval --quiet 'import { collectEnv } from "./lib/env.ts";
  const env = await collectEnv();
  console.log(env.git_commit, env.git_dirty);')
echo "$commit" >"$b/COMMIT"
echo "$dirty" >"$b/DIRTY"
if $vulkan; then
  mkdir -p "$b/vulkan" "$tmp/apt/partial"
  o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$tmp/apt"
  # shellcheck disable=SC2086
  apt-get $o update -qq
  # shellcheck disable=SC2086
  (cd "$b/vulkan" && apt-get $o download libvulkan1)
fi
# One xz stream: the bundles share most of their bytes.
tar -C "$tmp" -cf - rnnlab-offline | xz -T0 -9 >rnnlab-offline.tar.xz
echo "rnnlab-offline.tar.xz: $(du -h rnnlab-offline.tar.xz | cut -f1), commit $commit (dirty: $dirty)"

#!/usr/bin/env bash
# Builds, on this machine, what `docs/gpu/grid.sh` needs to run experiment
# grids on a bare GPU machine that reaches no network. `deno task exp` loads
# experiment files and starts one `deno run lib/cli/cell.ts` per cell, so the
# bundle keeps the repository's layout in .device/grid.tar.xz: each entry point
# and each experiment file becomes one self-contained `deno bundle` file at its
# own path (JavaScript is valid TypeScript, so the names stay `.ts`).
#
#   bash docs/gpu/prepare.sh && bash docs/gpu/prepare-grid.sh
#   then, with the device tool: carry [".device/deno.xz", ".device/grid.tar.xz",
#   ".device/data", ".gl"] (and ".device/bench.js" for the bench), command
#   bash docs/gpu/grid.sh KIND DEADLINE_S TOTAL_S 'NAME [exp flags]' ...
set -euo pipefail
cd "$(dirname "$0")/../.."
data=${RNNLAB_DATA_DIR:-../shared/data}
g=$(mktemp -d)/grid
mkdir -p "$g/lib/cli" "$g/experiments" "$g/results" .device/data
for entry in exp cell; do
  deno bundle --platform deno -o "$g/lib/cli/$entry.ts" "lib/cli/$entry.ts"
done
for f in experiments/*.ts; do
  deno bundle --platform deno -o "$g/$f" "$f"
done
# The runner skips the cells it finds stored, so the device trains only the
# missing ones (a grid finished in two sessions, or on two machines).
for d in results/*/cells; do
  mkdir -p "$g/$d" && cp "$d"/*.json "$g/$d/"
done
# The cell processes are started with --config <root>/deno.json.
echo '{}' >"$g/deno.json"
# The commit and dirtiness a run here would record (lib/env.ts decides both).
read -r commit dirty < <(deno eval 'import { collectEnv } from "./lib/env.ts";
  const env = await collectEnv();
  console.log(env.git_commit, env.git_dirty);')
[ "$commit" != null ] && [ -n "$commit" ] || { echo "no git commit here" >&2; exit 1; }
echo "$commit" >"$g/COMMIT"
echo "$dirty" >"$g/DIRTY"
cp "$data/timemachine.txt" "$data/war_of_the_worlds.txt" .device/data/
# One xz stream: the bundles share most of their bytes (49 MB -> 0.9 MB).
tar -C "$(dirname "$g")" -cf - grid | xz -T0 -9 >.device/grid.tar.xz
rm -rf "$(dirname "$g")"
du -sh .device/grid.tar.xz .device .gl

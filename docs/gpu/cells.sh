#!/usr/bin/env bash
# Training throughput on this machine's GPU: the chapter's configuration at
# 32, 128 and 512 hidden units on each engine (deno task bench --sizes, with
# the book's PyTorch code where python3 has torch), one cell and groups of N
# cells trained together at 512 and at 32 hidden units (deno task bench
# --cells), then one committed grid trained again into a temporary
# directory, its cells grouped as the runner groups them, with its wall time
# and a comparison with the committed cells. Writes, under results/bench/,
# sizes-<adapter>.{json,md}, cells-<adapter>.{json,md} (512),
# cells-<adapter>-h32.{json,md} and grid-<adapter>.json: commit them.
#
#   bash docs/gpu/cells.sh [GRID] [CELLS] [exp flags...]
#   e.g. bash docs/gpu/cells.sh clipping-ablation 1,4,8,24,64
#
# Runs wherever `deno task exp` does (a checkout, Deno 2.x, a WebGPU adapter);
# extra flags go to the grid's run (e.g. `--batch 24`, `--filter seed=0`).
set -euo pipefail
cd "$(dirname "$0")/../.."
grid=${1:-clipping-ablation}
cells=${2:-1,4,8,24,64}
shift $(($# < 2 ? $# : 2))
deno task bench --sizes 32,128,512 --pytorch --out results/bench
deno task bench --cells "$cells" --sizes 512,32 --out results/bench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
start=$EPOCHREALTIME
status=0
deno task exp "$grid" --force --no-reuse --out "$tmp/$grid" "$@" || status=$?
end=$EPOCHREALTIME
# Cells trained on another adapter than the committed ones round
# differently: the comparison says how far; it is exact only on theirs.
deno task compare "results/$grid" "$tmp/$grid" --tolerance 1e9 >"$tmp/compare.txt" || true
tail -n 1 "$tmp/compare.txt"
deno eval "
  const dir = '$tmp/$grid/cells';
  const ids = [...Deno.readDirSync(dir)].map((e) => e.name);
  const cells = ids.map((f) => JSON.parse(Deno.readTextFileSync(dir + '/' + f)));
  const adapter = cells[0]?.env?.adapter?.description ?? 'none';
  const slug = adapter.toLowerCase().replace(/\(.*\)/, '')
    .replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  const out = {
    schema: 'rnnlab.bench-grid/1',
    grid: '$grid',
    flags: Deno.args,
    cells: cells.length,
    wall_seconds: $end - $start,
    exit_status: $status,
    tokens_per_sec_together: cells.reduce((s, c) => s + c.tokens_per_sec, 0),
    adapter,
    git_commit: cells[0]?.env?.git_commit ?? null,
  };
  const path = 'results/bench/grid-' + slug + '.json';
  Deno.writeTextFileSync(path, JSON.stringify(out, null, 2) + '\n');
  console.log('$grid: ' + out.cells + ' cells in ' + out.wall_seconds.toFixed(1) + ' s; wrote ' + path);
" -- "$@"
exit "$status"

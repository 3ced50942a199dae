#!/usr/bin/env bash
# The Slurm path, run for real: a tiny grid (6 cells) sharded over a 3-task
# job array (docs/slurm-array.sh) on a single-node Slurm started here
# (docs/slurm/cluster.sh), merged, reported, and compared exactly with the
# same grid run unsharded (`deno task compare --tolerance 0`).
#
#   bash docs/slurm/check.sh
#
# Needs root, Debian's slurm-wlm and munge, and The Time Machine in a data
# directory (RNNLAB_DATA_DIR) or its download. Exit status 0 when the merged
# shards equal the single run.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'bash docs/slurm/cluster.sh stop "$work/slurm"; rm -rf "$work"' EXIT
bash docs/slurm/cluster.sh start "$work/slurm"
export SLURM_CONF=$work/slurm/slurm.conf
mkdir -p "$work/experiments"
cat >"$work/experiments/slurm-check.ts" <<'TS'
export default {
  name: "slurm-check",
  // θ = 0.25, as gradients of 16 hidden units stay below 1 (max ~0.63) and
  // θ = 1 would never clip: the cells must differ for the check to mean much.
  description: "A tiny grid for the Slurm check: clipping against none at three learning rates.",
  exercises: ["4. Replace the gradient clipping with no clipping: what happens?"],
  base: {
    num_hiddens: 16, num_steps: 8, batch_size: 4, num_epochs: 3,
    max_tokens: 1200, val_tokens: 200, eval_every: 2, num_preds: 10,
    engine: "reference", backend: "cpu",
  },
  grid: { clip: [0.25, "off"], lr: [0.5, 1, 2] },
  seeds: [0],
};
TS
export RNNLAB_EXPERIMENTS_DIR=$work/experiments RNNLAB_SHARDS=$work/shards
start=$SECONDS
job=$(sbatch --parsable --array=1-3 --chdir="$PWD" \
  --output="$work/slurm-%A_%a.out" docs/slurm-array.sh slurm-check)
echo "submitted array job $job (3 tasks)"
while squeue -h -j "$job" 2>/dev/null | grep -q .; do sleep 1; done
echo "array job $job finished in $((SECONDS - start)) s"
for f in "$work"/slurm-"$job"_*.out; do
  echo "== $(basename "$f"): $(grep -E '^slurm-check: ran' "$f" || echo 'no summary')"
done
mkdir -p "$work/merged/slurm-check/cells"
cp "$work"/shards/slurm-check/shard-*/cells/*.json "$work/merged/slurm-check/cells/"
echo "merged $(ls "$work/merged/slurm-check/cells" | wc -l) cells"
deno task report slurm-check --out "$work/merged/slurm-check"
deno task exp slurm-check --no-reuse --out "$work/single/slurm-check"
deno task compare "$work/merged/slurm-check" "$work/single/slurm-check" --tolerance 0 |
  tail -n 1

#!/usr/bin/env bash
# Runs `deno task exp clipping-ablation` as a Slurm job array of 4 shards.
# Submit from a checkout of rnnlab on a shared file system: sbatch docs/slurm-array.sh
#SBATCH --job-name=rnnlab-clipping-ablation
#SBATCH --array=1-4
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=12:00:00
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
export XDG_RUNTIME_DIR="${TMPDIR:-/tmp}"
n=4
i="$SLURM_ARRAY_TASK_ID"
# A requeued task resumes: cells already in its directory are skipped.
deno task exp clipping-ablation --shard "$i/$n" --out "shard-$i/clipping-ablation"

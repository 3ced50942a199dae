#!/usr/bin/env bash
# Runs an experiment grid as a Slurm job array, one shard per array task,
# from a checkout of rnnlab on a shared file system:
#
#   sbatch docs/slurm-array.sh                          # clipping-ablation, 4 shards
#   sbatch --array=1-8 docs/slurm-array.sh hyperparams  # another grid, 8 shards
#
# Task i of n (SLURM_ARRAY_TASK_ID from 1, SLURM_ARRAY_TASK_COUNT) runs
# `deno task exp NAME --shard i/n` into shards/NAME/shard-i/ (RNNLAB_SHARDS
# moves shards/); merge them as docs/sharding.md says. Further arguments go to
# `deno task exp`. A requeued task resumes: the cells it stored are skipped.
#SBATCH --job-name=rnnlab
#SBATCH --array=1-4
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=12:00:00
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
name=${1:-clipping-ablation}
[ $# -gt 0 ] && shift
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}"
i=${SLURM_ARRAY_TASK_ID:?run this with sbatch, as a job array}
n=${SLURM_ARRAY_TASK_COUNT:?}
# Shards share no cell, and each stores its cells itself (no references to
# another directory), so they merge by copying.
deno task exp "$name" --shard "$i/$n" --no-reuse \
  --out "${RNNLAB_SHARDS:-shards}/$name/shard-$i" "$@"

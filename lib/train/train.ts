/**
 * The chapter's training (d2l `train_epoch_ch8`, `train_ch8`): SGD on the
 * mean cross-entropy, gradient clipping, state handling per sampling
 * strategy, perplexity per epoch, and held-out validation perplexity, on
 * any engine. `train_ch8` trains one run; `train_cells` many, those of one
 * shape on the fused engine together, in the same dispatches, and the
 * others one after another, each stored the moment it ends.
 *
 * @module
 */
import type { Corpus } from "../data/vocab.ts";
import type { TrainConfig } from "../config/config.ts";
import {
  type EngineGroup,
  groupKey,
  groupsOf,
  groupSpec,
  MAX_GROUP,
} from "../engine/group.ts";
import { openGroup } from "../engine/open.ts";
import { Ch8Run, type RunState, type TrainHooks } from "./run.ts";
import { type Checkpoints, trainGroup } from "./loop.ts";
import type { TrainResult } from "./result.ts";

export {
  Ch8Run,
  type EpochResult,
  epochResult,
  evalBatchSize,
  PREFIXES,
  rnnSpec,
  type RunCorpus,
  type RunState,
  type TrainHooks,
} from "./run.ts";
export { type Checkpoints, trainGroup } from "./loop.ts";
export {
  emptyResult,
  ENGINE_VERSION,
  engineVersion,
  type EpochLog,
  minTrainTokens,
  type Sample,
  type TrainResult,
} from "./result.ts";

/** One cell of {@linkcode train_cells}. */
export interface CellRun {
  /** The cell's fully resolved config. */
  config: TrainConfig;
  /** What it trains on. */
  corpus: Corpus;
  /** Its hooks, as train_ch8 takes them, and the record when it finished. */
  hooks?: TrainHooks & {
    /** The cell's record, the moment it finished (before the others end). */
    onResult?: (result: TrainResult) => void | Promise<void>;
    /** Where the cell stands, every so often ({@linkcode Checkpoints}); awaited. */
    onCheckpoint?: (state: RunState) => void | Promise<void>;
  };
  /** Where it goes on from: a checkpoint of this config on this corpus. */
  resume?: RunState;
}

/**
 * The cells in the groups they train in, in order: those that share a
 * {@linkcode groupKey} (the fused engine, one shape) together, up to
 * `batch` a group; every other cell alone.
 */
export function trainingGroups<C extends Pick<CellRun, "config" | "corpus">>(
  cells: C[],
  batch: number,
): C[][] {
  return groupsOf(
    cells,
    batch,
    (c) => groupKey(c.config, c.corpus.vocab.length),
  );
}

/**
 * Trains many runs of `train_ch8` and returns each record, in order:
 * cells of one shape on the fused engine together, up to `batch` at a
 * time (at most {@linkcode MAX_GROUP}; every dispatch covers all of them,
 * and each computes exactly what it would alone), every other cell alone, one group after another.
 * A cell that diverges stops and the others go on; each cell's
 * `onResult` sees its record the moment it ends, and an error it throws
 * (its record could not be stored) stops the training and is thrown.
 *
 * @example
 * ```ts
 * const results = await train_cells([
 *   { config: resolveConfig({ seed: 0 }), corpus },
 *   { config: resolveConfig({ seed: 1, activation: "relu" }), corpus },
 * ]);
 * ```
 */
export async function train_cells(
  cells: CellRun[],
  batch = MAX_GROUP,
  /** How often each cell's `onCheckpoint` sees where it stands (none without). */
  checkpoints?: Omit<Checkpoints, "save">,
): Promise<TrainResult[]> {
  const results = new Map<CellRun, TrainResult>();
  for (const members of trainingGroups(cells, batch)) {
    const runs = members.map((c) => {
      const run = new Ch8Run(c.config, c.corpus, c.hooks);
      if (c.resume) run.restore(c.resume);
      return run;
    });
    const first = runs[0];
    let group: EngineGroup;
    try {
      group = await openGroup(
        runs.map((r) => ({ config: r.config, params: r.start })),
        groupSpec(first.config, first.spec.vocab_size, first.max_steps),
      );
    } catch (e) {
      // No engine to train with (no device, no CBLAS): each run failed.
      for (const [i, r] of runs.entries()) {
        r.fail(e);
        results.set(members[i], r.close());
        await members[i].hooks?.onResult?.(r.close());
      }
      continue;
    }
    try {
      const records = await trainGroup(
        runs,
        group,
        (i, result) => members[i].hooks?.onResult?.(result),
        checkpoints && {
          ...checkpoints,
          save: (i, state) => members[i].hooks?.onCheckpoint?.(state),
        },
      );
      members.forEach((c, i) => results.set(c, records[i]));
    } finally {
      group.destroy();
    }
  }
  return cells.map((c) => results.get(c)!);
}

/**
 * d2l's `train_ch8`: builds the model from `config`, trains it on
 * `corpus.train` for `num_epochs`, evaluates on `corpus.val` every
 * `eval_every` epochs and at the end, and predicts after each prefix.
 * A non-finite loss stops the run as `diverged`; an exception as `failed`.
 *
 * @example
 * ```ts
 * const result = await train_ch8(resolveConfig({ num_epochs: 5 }), loadCorpus(text));
 * result.train_ppl; // five numbers, falling
 * ```
 */
export async function train_ch8(
  config: TrainConfig,
  corpus: Corpus,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const [result] = await train_cells([{ config, corpus, hooks }]);
  return result;
}

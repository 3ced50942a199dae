/**
 * Training throughput on the chapter's configuration (batch 32, 35 steps,
 * 512 hidden units, sequential, clip 1), measured the same way for each
 * engine and for groups of cells trained together: after a warm-up run, a
 * run of 2 epochs and one of 2 + n, the n extra epochs' tokens over the
 * difference in wall time, evaluation excluded (the loop may ask for an
 * epoch before the last one's numbers are in, so one epoch's own seconds
 * are not apart from the next one's); the chapter's own PyTorch code: the
 * median of its epochs.
 *
 * @module
 */
import type { Corpus } from "../data/vocab.ts";
import { makeRng } from "../data/prng.ts";
import { get_params } from "../model/params.ts";
import { describeBackend, describeDevice } from "../engine/pick.ts";
import { FusedCells, groupCapacity } from "../engine/fused/fused.ts";
import { openDevice } from "../engine/fused/gpu.ts";
import { tilesFor } from "../engine/fused/tiles.ts";
import {
  type EngineChoice,
  resolveConfig,
  type TrainConfig,
} from "../config/config.ts";
import {
  rnnSpec,
  train_cells,
  train_ch8,
  type TrainResult,
} from "../train/train.ts";

/** What one measurement gave. */
export interface Throughput {
  /** The measured epochs' tokens over their wall time. */
  tokens_per_sec: number;
  /** Each measured epoch's own, as its record has it. */
  epochs_tokens_per_sec: number[];
  /** The warm-up run's seconds beyond its epoch at that rate: compiling, starting up. */
  cold_compile_s: number;
  /** What it computed on. */
  adapter: string | null;
}

/** The median of `xs`. */
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? s[(s.length - 1) / 2]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Trains the chapter's configuration with `choice` for 1 + `epochs`
 * epochs and measures it. Throws when the run fails.
 *
 * @example
 * ```ts
 * const t = await measureEngine({ engine: "blas", backend: "cpu" }, corpus, 3);
 * t.tokens_per_sec;
 * ```
 */
export async function measureEngine(
  choice: EngineChoice,
  corpus: Corpus,
  epochs: number,
  num_hiddens?: number,
): Promise<Throughput> {
  const device = await describeDevice(choice);
  const m = await steadyRate(epochs, async (num_epochs) => {
    // The chapter's config; evaluation only after the last epoch.
    const config = resolveConfig({
      ...choice,
      ...(num_hiddens ? { num_hiddens } : {}),
      num_epochs,
      eval_every: 1000,
      num_preds: 0,
    });
    const result = await train_ch8(config, corpus);
    if (result.status !== "done") {
      throw new Error(result.error ?? result.status);
    }
    return [result];
  });
  return {
    ...m,
    adapter: device ? String(device.description || device.vendor) : null,
  };
}

/** What one grid-batched measurement gave: `cells` cells trained together. */
export interface CellsThroughput {
  cells: number;
  /** All cells' tokens per second together, over the measured epochs' wall time. */
  tokens_per_sec: number;
  epochs_tokens_per_sec: number[];
  /** Per cell: the aggregate over `cells`. */
  per_cell: number;
  /** Dispatches one minibatch records, for the whole group. */
  dispatches_per_minibatch: number;
  /** The warm-up run's seconds beyond its epoch at that rate. */
  cold_compile_s: number;
  adapter: string | null;
}

/**
 * Trains `cells` cells of the chapter's configuration (seeds 0…cells − 1)
 * together on the fused engine (`train_cells`) for 1 + `epochs` epochs and
 * measures their aggregate throughput. Throws when a cell fails.
 *
 * @example
 * ```ts
 * const t = await measureCells(8, corpus, 3);
 * t.tokens_per_sec / t.cells; // each cell's share
 * ```
 */
export async function measureCells(
  cells: number,
  corpus: Corpus,
  epochs: number,
  num_hiddens = 512,
): Promise<CellsThroughput> {
  const choice = { engine: "fused", backend: "webgpu" } as const;
  const device = await describeDevice(choice);
  const configs = (num_epochs: number) =>
    Array.from({ length: cells }, (_, seed) =>
      resolveConfig({
        ...choice,
        num_hiddens,
        seed,
        num_epochs,
        eval_every: 1000,
        num_preds: 0,
      }));
  const m = await steadyRate(epochs, async (num_epochs) => {
    const results = await train_cells(
      configs(num_epochs).map((config) => ({ config, corpus })),
    );
    const failed = results.find((r) => r.status !== "done");
    if (failed) throw new Error(failed.error ?? failed.status);
    return results;
  });
  return {
    cells,
    ...m,
    per_cell: m.tokens_per_sec / cells,
    dispatches_per_minibatch: await groupDispatches(
      configs(1)[0],
      corpus,
      cells,
    ),
    adapter: device ? String(device.description || device.vendor) : null,
  };
}

/** Dispatches one minibatch of a group of `cells` such models records (the fused engine). */
async function groupDispatches(
  config: TrainConfig,
  corpus: Corpus,
  cells: number,
): Promise<number> {
  const { adapter, device } = await openDevice();
  const spec = {
    ...rnnSpec(config, corpus.vocab.length),
    batch_size: config.batch_size,
    num_steps: config.num_steps,
    max_steps: config.num_steps,
    tiles: tilesFor(adapter),
  };
  // A group larger than the device's bindings trains in parts, one after another.
  const per = Math.min(cells, groupCapacity(spec, device.limits));
  const group = new FusedCells(
    device,
    spec,
    Array.from({ length: per }, (_, i) => ({
      params: get_params(spec, makeRng(i)),
      activation: spec.activation,
    })),
  );
  const n = group.dispatchesPerMinibatch();
  group.destroy();
  return n * Math.ceil(cells / per);
}

/** The fused engine's dispatches per minibatch and recurrence kernels for `config`'s shape, on this device. */
export async function fusedShape(
  config: TrainConfig,
  corpus: Corpus,
): Promise<
  {
    dispatches_per_minibatch: number;
    kernels: "rows" | "looped" | "steps" | null;
  }
> {
  return {
    dispatches_per_minibatch: await groupDispatches(config, corpus, 1),
    kernels: (await describeBackend(config)).kernels ?? null,
  };
}

/**
 * Tokens per second of `train`'s runs together over `epochs` epochs: after
 * a training of 1 epoch (compiling, warming up), one of 2 epochs and one
 * of 2 + `epochs`, the extra epochs' tokens over the difference in wall
 * time (starting up and the last read-back cancel out). Each measured
 * epoch's own rate, summed over the runs, is as the last training
 * recorded it.
 */
async function steadyRate(
  epochs: number,
  train: (num_epochs: number) => Promise<TrainResult[]>,
): Promise<
  {
    tokens_per_sec: number;
    epochs_tokens_per_sec: number[];
    cold_compile_s: number;
  }
> {
  const timed = async (n: number) => {
    const t0 = performance.now();
    const results = await train(n);
    return { results, seconds: (performance.now() - t0) / 1000 };
  };
  const cold = await timed(1);
  const short = await timed(2);
  const long = await timed(2 + epochs);
  // Every run's epoch took the group's seconds: the tokens add up.
  const rate = (e: number) =>
    long.results.reduce((sum, r) => sum + r.epochs[e].tokens_per_sec, 0);
  const perEpoch = long.results.reduce(
    (sum, r) =>
      sum + Math.round(r.epochs[0].tokens_per_sec * r.epochs[0].seconds),
    0,
  );
  // Epochs of a millisecond or so drown in the two runs' noise: never less
  // than the measured epochs' own seconds.
  const recorded = Array.from(
    { length: epochs },
    (_, e) => long.results[0].epochs[e + 2].seconds,
  ).reduce((a, b) => a + b, 0);
  const tps = epochs * perEpoch /
    Math.max(long.seconds - short.seconds, recorded);
  return {
    tokens_per_sec: tps,
    epochs_tokens_per_sec: Array.from(
      { length: epochs },
      (_, e) => rate(e + 2),
    ),
    cold_compile_s: Math.max(0, cold.seconds - perEpoch / tps),
  };
}

/**
 * Training throughput on the chapter's configuration (batch 32, 35 steps,
 * 512 hidden units, sequential, clip 1), measured the same way for each
 * engine, for the chapter's own PyTorch code, and for groups of cells
 * trained together: one warm-up epoch, then the median of the measured
 * epochs' tokens/s, evaluation excluded.
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
import { rnnSpec, train_cells, train_ch8 } from "../train/train.ts";

/** What one measurement gave. */
export interface Throughput {
  /** Median of the measured epochs. */
  tokens_per_sec: number;
  epochs_tokens_per_sec: number[];
  /** The warm-up epoch's seconds beyond the median measured epoch's. */
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
  // The chapter's config; evaluation only after the last epoch, outside the timing.
  const config = resolveConfig({
    ...choice,
    ...(num_hiddens ? { num_hiddens } : {}),
    num_epochs: 1 + epochs,
    eval_every: 1000,
    num_preds: 0,
  });
  const result = await train_ch8(config, corpus);
  if (result.status !== "done") throw new Error(result.error ?? result.status);
  const [warmup, ...measured] = result.epochs;
  const rates = measured.map((e) => e.tokens_per_sec);
  const tps = median(rates);
  const tokens = warmup.tokens_per_sec * warmup.seconds;
  return {
    tokens_per_sec: tps,
    epochs_tokens_per_sec: rates,
    cold_compile_s: Math.max(0, warmup.seconds - tokens / tps),
    adapter: device ? String(device.description || device.vendor) : null,
  };
}

/** What one grid-batched measurement gave: `cells` cells trained together. */
export interface CellsThroughput {
  cells: number;
  /** All cells' tokens per second together: median of the measured epochs. */
  tokens_per_sec: number;
  epochs_tokens_per_sec: number[];
  /** Per cell: the aggregate over `cells`. */
  per_cell: number;
  /** Dispatches one minibatch records, for the whole group. */
  dispatches_per_minibatch: number;
  /** The warm-up epoch's seconds beyond the median measured epoch's. */
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
  const configs = Array.from({ length: cells }, (_, seed) =>
    resolveConfig({
      ...choice,
      num_hiddens,
      seed,
      num_epochs: 1 + epochs,
      eval_every: 1000,
      num_preds: 0,
    }));
  const results = await train_cells(
    configs.map((config) => ({ config, corpus })),
  );
  const failed = results.find((r) => r.status !== "done");
  if (failed) throw new Error(failed.error ?? failed.status);
  // Every cell's epoch took the group's seconds: the tokens add up.
  const epochRate = (e: number) =>
    results.reduce((sum, r) => sum + r.epochs[e].tokens_per_sec, 0);
  const rates = results[0].epochs.slice(1).map((_, e) => epochRate(e + 1));
  const tps = median(rates);
  const warmup = results[0].epochs[0];
  const tokens = epochRate(0) * warmup.seconds;
  return {
    cells,
    tokens_per_sec: tps,
    epochs_tokens_per_sec: rates,
    per_cell: tps / cells,
    dispatches_per_minibatch: await groupDispatches(configs[0], corpus, cells),
    cold_compile_s: Math.max(0, warmup.seconds - tokens / tps),
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

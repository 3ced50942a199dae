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
import { setBackend } from "../model/backend.ts";
import { get_params } from "../model/rnn.ts";
import { describeDevice } from "../engine/pick.ts";
import { FusedCells, tilesFor } from "../engine/fused.ts";
import { openDevice } from "../engine/gpu.ts";
import {
  type EngineChoice,
  resolveConfig,
  type TrainConfig,
} from "./config.ts";
import { rnnSpec, train_ch8 } from "./train.ts";
import { train_cells } from "./cells.ts";

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
): Promise<Throughput> {
  await setBackend(choice.backend);
  const device = await describeDevice(choice);
  // The chapter's config; evaluation only after the last epoch, outside the timing.
  const config = resolveConfig({
    ...choice,
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

/** How PyTorch's threads are set for one measurement. */
export interface TorchThreads {
  /** `torch.set_num_threads`. */
  torch: number;
  /** Its BLAS's threads (OPENBLAS_NUM_THREADS, MKL_NUM_THREADS); null: the library's default (all cores). */
  blas: number | null;
}

/** The PyTorch threads `deno task bench --pytorch` measures. */
export const TORCH_THREADS: TorchThreads[] = [
  { torch: 1, blas: 1 },
  { torch: 2, blas: 2 },
  // PyTorch's fastest here: one thread of its own, its BLAS on every core.
  { torch: 1, blas: null },
];

/** What `pytorch/rnn_scratch.py` prints. */
interface TorchRun {
  torch: string;
  threads: number;
  blas: string;
  epochs: {
    ppl: number;
    tokens_per_sec: number;
    tokens: number;
    seconds: number;
  }[];
}

/**
 * Runs the chapter's PyTorch code (`script`) with `python` on the text at
 * `data` for 1 + `epochs` epochs and measures it like an engine. Throws
 * with the reason when Python or PyTorch is missing or the script fails.
 */
export async function measurePytorch(
  python: string,
  script: string,
  data: string,
  epochs: number,
  threads: TorchThreads,
): Promise<Throughput & { torch: string }> {
  // OpenBLAS falls back to OMP_NUM_THREADS: name its threads too.
  const blas = String(threads.blas ?? navigator.hardwareConcurrency);
  const env: Record<string, string> = {
    OMP_NUM_THREADS: String(threads.torch),
    OPENBLAS_NUM_THREADS: blas,
    MKL_NUM_THREADS: blas,
  };
  let out;
  try {
    out = await new Deno.Command(python, {
      args: [
        script,
        "--data",
        data,
        "--threads",
        String(threads.torch),
        "--epochs",
        String(epochs),
      ],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    throw new Error(`cannot run ${python}: ${(e as Error).message}`);
  }
  const text = new TextDecoder();
  if (!out.success) {
    const err = text.decode(out.stderr).trim().split("\n").at(-1) ?? "";
    throw new Error(
      /No module named 'torch'/.test(err)
        ? `${python} has no PyTorch (Debian: apt-get install python3-torch)`
        : `${script} failed: ${err}`,
    );
  }
  const run = JSON.parse(text.decode(out.stdout)) as TorchRun;
  const [warmup, ...measured] = run.epochs;
  const rates = measured.map((e) => e.tokens_per_sec);
  const tps = median(rates);
  return {
    torch: run.torch,
    tokens_per_sec: tps,
    epochs_tokens_per_sec: rates,
    cold_compile_s: Math.max(0, warmup.seconds - warmup.tokens / tps),
    adapter: `${run.blas}; torch ${threads.torch}, BLAS ${blas} thread${
      blas === "1" ? "" : "s"
    }`,
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
): Promise<CellsThroughput> {
  const choice = { engine: "fused", backend: "webgpu" } as const;
  await setBackend(choice.backend);
  const device = await describeDevice(choice);
  const configs = Array.from({ length: cells }, (_, seed) =>
    resolveConfig({
      ...choice,
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

/** Dispatches one minibatch of a group of `cells` such models records. */
async function groupDispatches(
  config: TrainConfig,
  corpus: Corpus,
  cells: number,
): Promise<number> {
  const { adapter, device } = await openDevice();
  const spec = rnnSpec(config, corpus.vocab.length);
  const group = new FusedCells(
    device,
    {
      ...spec,
      batch_size: config.batch_size,
      num_steps: config.num_steps,
      tiles: tilesFor(adapter),
    },
    Array.from({ length: cells }, (_, i) => ({
      params: get_params(spec, makeRng(i)),
      activation: spec.activation,
    })),
  );
  const n = group.dispatchesPerMinibatch();
  group.destroy();
  return n;
}

/**
 * Training in the browser (the page's “train here”): one cell trained
 * again on the browser's WebGPU by the fused engine's own kernels, with
 * the bookkeeping and the loop of `train_ch8` itself (`Ch8Run`,
 * `trainGroup`): the same initial values, data order and records.
 * Bundled for the page by `deno task app`.
 *
 * @module
 */
import type { TrainConfig } from "../../config/config.ts";
import { groupSpec } from "../../engine/group.ts";
import { FusedCells } from "../../engine/fused/fused.ts";
import { isSoftware } from "../../engine/fused/tiles.ts";
import { Ch8Run } from "../../train/run.ts";
import { trainGroup } from "../../train/loop.ts";
import type { EpochLog } from "../../train/result.ts";

/** The adapter the page trains on, in words, or null where the browser has no WebGPU. */
export async function adapterHere(): Promise<string | null> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return null;
  const name = adapter.info.description || adapter.info.vendor ||
    adapter.info.architecture || "WebGPU";
  return isSoftware(adapter) ? `${name} (software)` : name;
}

/** What the page gets to train a cell on: its training tokens and vocabulary. */
export interface CorpusHere {
  /** Training tokens. */
  train: number[];
  /** Tokens in index order. */
  vocab: string[];
}

/**
 * Trains `config` for its first `epochs` epochs on `corpus`, calling
 * `onEpoch` after each; stops early when `signal` aborts or the run
 * diverges. Returns the record's status.
 */
export async function trainHere(
  config: TrainConfig,
  corpus: CorpusHere,
  epochs: number,
  onEpoch: (log: EpochLog) => void,
  signal?: AbortSignal,
): Promise<string> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) throw new Error("this browser has no WebGPU adapter");
  const device = await adapter.requestDevice();
  const index = new Map(corpus.vocab.map((t, i) => [t, i]));
  const run = new Ch8Run({ ...config, num_epochs: epochs }, {
    train: Int32Array.from(corpus.train),
    val: new Int32Array(0),
    vocab: {
      length: corpus.vocab.length,
      toIndex: (t: string) => index.get(t) ?? 0,
      toToken: (i: number) => corpus.vocab[i] ?? "<unk>",
    },
  }, {
    onEpoch: (log) => {
      onEpoch(log);
      if (signal?.aborted) throw new Error("stopped");
    },
  });
  const group = new FusedCells(
    device,
    {
      ...groupSpec(run.config, corpus.vocab.length, run.max_steps),
      tiles: isSoftware(adapter) ? "cpu" : "gpu",
    },
    [{ params: run.init, activation: config.activation }],
  );
  try {
    const [result] = await trainGroup([run], group);
    return result.status;
  } finally {
    group.destroy();
    device.destroy();
  }
}

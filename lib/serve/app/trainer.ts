/**
 * Training in the browser (the page's “train here”): one cell trained again
 * with the fused engine's own kernels on the browser's WebGPU, from the
 * cell's seed, the same initial values and data order as `train_ch8`,
 * epoch by epoch. Bundled for the page as `trainer.js` (`deno task app`).
 *
 * @module
 */
import { makeRng } from "../../data/prng.ts";
import { dataIter, type Sampling } from "../../data/iterators.ts";
import { get_params } from "../../model/params.ts";
import { FusedCells, isSoftware } from "../../engine/fused.ts";

/** What a cell trains with: its config's keys that matter here. */
export interface TrainHere {
  num_hiddens: number;
  num_steps: number;
  batch_size: number;
  lr: number;
  num_epochs: number;
  clip: number | "off";
  activation: "tanh" | "relu";
  sampling: Sampling;
  detach: boolean;
  input: "one_hot" | "embedding";
  embed_size: number;
  seed: number;
}

/** One epoch trained here. */
export interface EpochHere {
  epoch: number;
  /** exp of the mean loss over the epoch's minibatches, as `train_ch8` reports it. */
  train_ppl: number;
  tokens_per_sec: number;
}

/** The adapter the page trains on, in words, or null where the browser has no WebGPU. */
export async function adapterHere(): Promise<string | null> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return null;
  const name = adapter.info.description || adapter.info.vendor ||
    adapter.info.architecture || "WebGPU";
  return isSoftware(adapter) ? `${name} (software)` : name;
}

/**
 * Trains `config` on the training tokens `train` (a vocabulary of
 * `vocab_size`) for up to `epochs` epochs, calling `onEpoch` after each;
 * stops early when `signal` aborts or the loss is not finite.
 */
export async function trainHere(
  config: TrainHere,
  train: Int32Array,
  vocab_size: number,
  epochs: number,
  onEpoch: (e: EpochHere) => void,
  signal?: AbortSignal,
): Promise<void> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) throw new Error("this browser has no WebGPU adapter");
  const device = await adapter.requestDevice();
  // train_ch8's seeds: initialisation and data order from the config's seed.
  const seeded = (salt: number) => makeRng((config.seed ^ salt) >>> 0);
  const data = seeded(0x5bd1e995);
  const spec = {
    vocab_size,
    num_hiddens: config.num_hiddens,
    activation: config.activation,
    input: config.input,
    embed_size: config.embed_size,
  };
  const { batch_size: B, num_steps: T } = config;
  const perEpoch = Math.max(1, Math.floor((train.length - 1) / B / T));
  const group = new FusedCells(device, {
    ...spec,
    batch_size: B,
    num_steps: T,
    max_steps: config.detach ? T : perEpoch * T,
    tiles: isSoftware(adapter) ? "cpu" : "gpu",
  }, [{ params: get_params(spec, seeded(0)), activation: config.activation }]);
  try {
    for (let epoch = 1; epoch <= epochs && !signal?.aborted; epoch++) {
      const batches = [
        ...dataIter(config.sampling, train, B, T, data),
      ];
      const [stats] = await group.trainEpochs([{ batches, options: config }]);
      if (!stats || stats.losses.length === 0) break;
      const mean = stats.losses.reduce((a, b) => a + b, 0) /
        stats.losses.length;
      const train_ppl = Math.exp(mean);
      onEpoch({
        epoch,
        train_ppl,
        tokens_per_sec: stats.tokens / stats.seconds,
      });
      if (!Number.isFinite(train_ppl)) break;
    }
  } finally {
    group.destroy();
    device.destroy();
  }
}

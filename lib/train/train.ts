/**
 * The chapter's training loop (d2l `train_epoch_ch8`, `train_ch8`): SGD on
 * the mean cross-entropy, gradient clipping, state handling per sampling
 * strategy, perplexity per epoch, and held-out validation perplexity.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { makeRng, type Rng } from "../data/prng.ts";
import {
  dataIter,
  type Minibatch,
  type Sampling,
  seqDataIterSequential,
} from "../data/iterators.ts";
import type { Corpus } from "../data/vocab.ts";
import {
  cross_entropy,
  get_params,
  oneHotAsEmbedding,
  type ParamValues,
  RNNModelScratch,
  type RnnSpec,
} from "../model/rnn.ts";
import { generate, predict } from "../model/predict.ts";
import { FusedRnn, tilesFor } from "../engine/fused.ts";
import { BlasRnn } from "../engine/blas.ts";
import { openCblas, whyNoCblas } from "../engine/cblas.ts";
import { openDevice } from "../engine/gpu.ts";
import type { BpttEngine, EpochOptions } from "../engine/engine.ts";
import { grad_clipping } from "./clip.ts";
import { PREFIXES, type TrainConfig } from "./config.ts";
import { emptyResult, type EpochLog, type TrainResult } from "./result.ts";

export {
  emptyResult,
  ENGINE_VERSION,
  engineVersion,
  type EpochLog,
  minTrainTokens,
  type Sample,
  type TrainResult,
} from "./result.ts";

/** Options of one epoch (every engine takes the same). */
export type { EpochOptions };

/** What one epoch measured. */
export interface EpochResult {
  /** exp(mean cross-entropy) over the epoch's minibatches. */
  ppl: number;
  /** Tokens trained on. */
  tokens: number;
  /** Wall time of the epoch, read-back included. */
  seconds: number;
  /** Global gradient norm of each minibatch, before clipping. */
  grad_norms: number[];
}

/** Minibatch tensors: X as (batch, num_steps) and the targets in the logits' time-major order. */
function toTensors(batch: Minibatch): { X: tf.Tensor2D; y: tf.Tensor1D } {
  const { X, Y, batch_size: B, num_steps: T } = batch;
  // d2l's Y.T.reshape(-1): target of step t, row b sits at t·B + b.
  const y = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) y[t * B + b] = Y[b * T + t];
  }
  return { X: tf.tensor2d(X, [B, T], "int32"), y: tf.tensor1d(y, "int32") };
}

/**
 * d2l's `train_epoch_ch8`: one pass over the minibatches with SGD.
 *
 * State: random sampling starts every minibatch from zeros; sequential
 * sampling starts from zeros once and carries the state on, detached, so
 * gradients stop at the minibatch boundary (truncated BPTT).
 *
 * With `detach: false` (exercise 5) gradients flow back to the start of the
 * epoch: minibatch i's loss is differentiated through minibatches 0…i, all
 * recomputed from the epoch's first state with the current parameters (the
 * stored graph of an earlier minibatch used old parameters, and PyTorch would
 * refuse to backpropagate through it twice). Minibatch i thus costs i + 1
 * forward and backward passes: an epoch of n minibatches costs n(n+1)/2, and
 * activation memory grows with i.
 *
 * Losses and gradient norms stay on the device until the epoch ends, then
 * are read back once.
 *
 * @example
 * ```ts
 * const r = await train_epoch(net, dataIter("sequential", corpus, 32, 35, rng), { lr: 1, clip: 1, sampling: "sequential", detach: true });
 * r.ppl;
 * ```
 */
export async function train_epoch(
  net: RNNModelScratch,
  batches: Iterable<Minibatch>,
  options: EpochOptions,
): Promise<EpochResult> {
  const { lr, clip, sampling, detach } = options;
  const vars = Object.values(net.params);
  const start = performance.now();
  const losses: tf.Scalar[] = [];
  const norms: tf.Scalar[] = [];
  const seen: tf.Tensor2D[] = [];
  let state: tf.Tensor2D | null = null;
  let epochState: tf.Tensor2D | null = null;
  let tokens = 0;
  for (const batch of batches) {
    const { X, y } = toTensors(batch);
    tokens += batch.batch_size * batch.num_steps;
    if (state === null || sampling === "random") {
      state?.dispose();
      state = net.begin_state(batch.batch_size);
      // Only detach: false replays the epoch from its first state.
      if (!detach) epochState ??= tf.keep(state.clone());
    }
    const H0 = state;
    const result: { loss: tf.Scalar; norm: tf.Scalar; H: tf.Tensor2D } = tf
      .tidy(() => {
        let H!: tf.Tensor2D;
        const { value, grads } = tf.variableGrads(() => {
          let h = H0;
          if (!detach) {
            // Recompute the epoch so far, so gradients reach its start.
            h = epochState!;
            for (const Xi of seen) h = net.forward(Xi, h)[1];
          }
          const [logits, Hn] = net.forward(X, h);
          H = tf.keep(Hn);
          return cross_entropy(logits, y);
        }, vars);
        const clipped = grad_clipping(vars.map((v) => grads[v.name]), clip);
        vars.forEach((v, i) =>
          v.assign(tf.sub(v, tf.mul(lr, clipped.grads[i])))
        );
        return { loss: value, norm: clipped.norm, H };
      });
    state.dispose();
    state = result.H;
    losses.push(result.loss);
    norms.push(result.norm);
    y.dispose();
    if (detach) X.dispose();
    else seen.push(X);
  }
  const [loss, grad_norms] = await Promise.all(
    [losses, norms].map(async (xs) => {
      if (xs.length === 0) return [];
      const stacked = tf.stack(xs);
      const values = Array.from(await stacked.data());
      stacked.dispose();
      return values;
    }),
  );
  tf.dispose([...losses, ...norms, ...seen]);
  state?.dispose();
  epochState?.dispose();
  return epochResult(
    loss,
    grad_norms,
    tokens,
    (performance.now() - start) / 1000,
  );
}

/**
 * An epoch's result from its minibatches' mean losses: perplexity is
 * exp(mean loss). An epoch without minibatches is an error, never a
 * perplexity of 1.
 */
export function epochResult(
  losses: number[],
  grad_norms: number[],
  tokens: number,
  seconds: number,
): EpochResult {
  if (losses.length === 0) {
    throw new Error(
      "the epoch had no minibatch: the corpus is shorter than one batch",
    );
  }
  const meanLoss = losses.reduce((a, b) => a + b, 0) / losses.length;
  return { ppl: Math.exp(meanLoss), tokens, seconds, grad_norms };
}

/** Rows per evaluation minibatch: batch_size, fewer when the text is short. */
export function evalBatchSize(
  tokens: Int32Array,
  { batch_size, num_steps }: { batch_size: number; num_steps: number },
): number {
  return Math.min(batch_size, Math.floor((tokens.length - 1) / num_steps));
}

/**
 * Perplexity of the model on held-out tokens: `batch_size` contiguous streams
 * walked `num_steps` at a time from offset 0, the state carried on for
 * sequential sampling and reset per chunk for random (as in training).
 * Returns null when the text is too short for one chunk.
 */
export async function evaluate(
  net: RNNModelScratch,
  tokens: Int32Array,
  options: { batch_size: number; num_steps: number; sampling: Sampling },
): Promise<number | null> {
  const { num_steps, sampling } = options;
  const B = evalBatchSize(tokens, options);
  if (B < 1) return null;
  const losses: tf.Scalar[] = [];
  let state = net.begin_state(B);
  for (
    const batch of seqDataIterSequential(tokens, B, num_steps, makeRng(0), 0)
  ) {
    const { X, y } = toTensors(batch);
    const H0 = sampling === "random" ? net.begin_state(B) : state;
    const [loss, H] = tf.tidy(() => {
      const [logits, H] = net.forward(X, H0);
      return [cross_entropy(logits, y), H];
    });
    if (H0 !== state) H0.dispose();
    state.dispose();
    state = H as tf.Tensor2D;
    losses.push(loss as tf.Scalar);
    tf.dispose([X, y]);
  }
  state.dispose();
  const mean = tf.mean(tf.stack(losses));
  const value = (await mean.data())[0];
  tf.dispose([mean, ...losses]);
  return Math.exp(value);
}

/**
 * What `train_ch8` needs of an engine: an epoch of SGD, validation
 * perplexity, and the current weights in `net` (prediction runs on them).
 */
interface Trainer {
  epoch(batches: Iterable<Minibatch>): Promise<EpochResult>;
  /** Perplexity of `tokens` as {@linkcode evaluate} defines it. */
  evaluate(tokens: Int32Array): Promise<number | null>;
  /** Brings `net` up to date with the trained weights. */
  sync(): Promise<void>;
  dispose(): void;
}

/** The reference engine trains `net` itself. */
function referenceTrainer(config: TrainConfig, net: RNNModelScratch): Trainer {
  return {
    epoch: (batches) => train_epoch(net, batches, config),
    evaluate: (tokens) => evaluate(net, tokens, config),
    sync: () => Promise.resolve(),
    dispose: () => {},
  };
}

/**
 * An explicit-BPTT engine (fused or blas) from the same initial weights as
 * `net`; `sync` copies its weights into `net`.
 */
async function bpttTrainer(
  config: TrainConfig,
  corpus: Corpus,
  init: ParamValues,
  net: RNNModelScratch,
): Promise<Trainer> {
  const { batch_size: B, num_steps: T } = config;
  // detach: false reaches back to the epoch's start: at most this many steps.
  const perEpoch = Math.max(1, Math.floor((corpus.train.length - 1) / B / T));
  const spec = {
    ...net.spec,
    batch_size: B,
    num_steps: T,
    max_steps: config.detach ? T : perEpoch * T,
  };
  let engine: BpttEngine;
  if (config.engine === "blas") {
    const blas = openCblas();
    if (!blas) {
      throw new Error(
        `engine blas needs a CBLAS library: ${whyNoCblas()}; or use --engine fused`,
      );
    }
    engine = new BlasRnn(blas, spec, init);
  } else {
    const { adapter, device } = await openDevice();
    engine = new FusedRnn(device, { ...spec, tiles: tilesFor(adapter) }, init);
  }
  const sync = async () => net.assign(await engine.values());
  return {
    async epoch(batches) {
      const r = await engine.trainEpoch(batches, config);
      return epochResult(r.losses, r.grad_norms, r.tokens, r.seconds);
    },
    async evaluate(tokens) {
      // Its buffers are sized for batch_size rows; a shorter text is
      // evaluated on tfjs with the weights copied over.
      if (evalBatchSize(tokens, config) !== B) {
        await sync();
        return evaluate(net, tokens, config);
      }
      const batches = seqDataIterSequential(tokens, B, T, makeRng(0), 0);
      return Math.exp(
        await engine.evaluate(batches, config.sampling === "sequential"),
      );
    },
    sync,
    dispose: () => engine.destroy(),
  };
}

/** The model `config` describes, for a vocabulary of `vocab_size` tokens. */
export function rnnSpec(config: TrainConfig, vocab_size: number): RnnSpec {
  const { num_hiddens, activation, input, embed_size } = config;
  return { vocab_size, num_hiddens, activation, input, embed_size };
}

/** Hooks that let a caller watch training (progress output), never change it. */
export interface TrainHooks {
  /** Sees each epoch's log as it ends. */
  onEpoch?: (log: EpochLog) => void;
  /** Sharpening exponents α to sample at after training (exercise 3). */
  sample_alphas?: number[];
}

const stats = (xs: number[]) => ({
  mean: xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0,
  max: xs.length ? Math.max(...xs) : 0,
});

/**
 * One run of `train_ch8`, its bookkeeping: the model's initial values and
 * the data order from the config's seed, the record of each epoch, the
 * texts generated at the end. It trains nothing itself: `train_ch8` drives
 * one with an engine, `train_cells` drives a group in one engine, and both
 * make the same calls in the same order, so a run's record is the same.
 */
export class Ch8Run {
  readonly config: TrainConfig;
  readonly corpus: Corpus;
  /** Initial parameter values, from the seed. */
  readonly init: ParamValues;
  /** The model prediction runs on (an engine's weights are copied in). */
  readonly net: RNNModelScratch;
  readonly result: TrainResult = emptyResult();
  /** Epochs trained. */
  epoch = 0;
  readonly #hooks: TrainHooks;
  readonly #seedRng: (salt: number) => Rng;
  readonly #dataRng: Rng;
  readonly #norms: number[] = [];
  readonly #theta: number;
  readonly #t0 = performance.now();
  #tokens = 0;
  #seconds = 0;
  #closed = false;

  constructor(config: TrainConfig, corpus: Corpus, hooks: TrainHooks = {}) {
    this.config = config;
    this.corpus = corpus;
    this.#hooks = hooks;
    this.#seedRng = (salt) => makeRng((config.seed ^ salt) >>> 0);
    this.#dataRng = this.#seedRng(0x5bd1e995);
    const spec = rnnSpec(config, corpus.vocab.length);
    this.init = get_params(spec, this.#seedRng(0));
    this.net = new RNNModelScratch(spec, this.init);
    this.#theta = config.clip === "off" ? Infinity : config.clip;
  }

  /** Whether it trains another epoch (it has not diverged, failed or finished). */
  get training(): boolean {
    return !this.#closed && this.result.status === "done" &&
      this.result.diverged_epoch === null &&
      this.epoch < this.config.num_epochs;
  }

  /** The next epoch's minibatches, in the run's data order. */
  batches(): Minibatch[] {
    const c = this.config;
    return [
      ...dataIter(
        c.sampling,
        this.corpus.train,
        c.batch_size,
        c.num_steps,
        this.#dataRng,
      ),
    ];
  }

  /**
   * Records a trained epoch: its log, or null when its loss was not
   * finite (the run stops as diverged, with this epoch).
   */
  trained(r: EpochResult): EpochLog | null {
    const epoch = ++this.epoch;
    if (!Number.isFinite(r.ppl)) {
      this.result.status = "diverged";
      this.result.diverged_epoch = epoch;
      return null;
    }
    this.#tokens += r.tokens;
    this.#seconds += r.seconds;
    this.#norms.push(...r.grad_norms);
    const norm = stats(r.grad_norms);
    this.result.train_ppl.push(r.ppl);
    return {
      epoch,
      train_ppl: r.ppl,
      tokens_per_sec: r.tokens / r.seconds,
      seconds: r.seconds,
      grad_norm_mean: norm.mean,
      grad_norm_max: norm.max,
      clipped_fraction: r.grad_norms.filter((n) => n > this.#theta).length /
        Math.max(1, r.grad_norms.length),
    };
  }

  /** Whether the epoch just trained is an evaluation epoch. */
  get evaluates(): boolean {
    return this.epoch % this.config.eval_every === 0 ||
      this.epoch === this.config.num_epochs;
  }

  /**
   * Records an evaluation epoch's validation perplexity `val` and the
   * greedy sample of the weights `sync` brings into `net`.
   */
  async evaluated(
    log: EpochLog,
    val: number | null,
    sync: () => Promise<void>,
  ): Promise<void> {
    log.val_ppl = val;
    await sync();
    if (val !== null) this.result.val_ppl.push({ epoch: log.epoch, ppl: val });
    log.sample = await predict(
      PREFIXES[0],
      this.config.num_preds,
      this.net,
      this.corpus.vocab,
    );
  }

  /** Ends an epoch: its log joins the record, and the hook sees it. */
  logged(log: EpochLog): void {
    this.result.epochs.push(log);
    this.#hooks.onEpoch?.(log);
  }

  /**
   * After the last epoch of a run that finished: the weights `sync` brings
   * into `net` generate the texts (greedy after each prefix, then sampled
   * at each α) and exercise 1's check.
   */
  async finish(sync: () => Promise<void>): Promise<void> {
    if (this.result.status !== "done" || this.result.diverged_epoch !== null) {
      return;
    }
    const { config, corpus, net, result } = this;
    await sync();
    for (const prefix of PREFIXES) {
      result.samples.push({
        prefix,
        decoding: "greedy",
        ...await generate(prefix, config.num_preds, net, corpus.vocab),
      });
    }
    if (config.input === "one_hot" && corpus.val.length > 0) {
      result.onehot_as_embedding = await oneHotAsEmbedding(
        net,
        corpus.val.subarray(0, 200),
      );
    }
    const sampleRng = this.#seedRng(0x27d4eb2f);
    for (const alpha of this.#hooks.sample_alphas ?? []) {
      for (const prefix of PREFIXES) {
        result.samples.push({
          prefix,
          decoding: "sample",
          alpha,
          ...await generate(prefix, config.num_preds, net, corpus.vocab, {
            kind: "sample",
            alpha,
            rng: sampleRng,
          }),
        });
      }
    }
  }

  /** The run failed (an exception): it stops, as `failed` with the message. */
  fail(e: unknown): void {
    this.result.status = "failed";
    this.result.error = e instanceof Error ? e.message : String(e);
  }

  /** The record, with its summary statistics; frees the model. */
  close(): TrainResult {
    if (this.#closed) return this.result;
    this.#closed = true;
    this.net.dispose();
    const result = this.result;
    const norm = stats(this.#norms);
    result.grad_norm = {
      ...norm,
      clipped_fraction: this.#norms.filter((n) => n > this.#theta).length /
        Math.max(1, this.#norms.length),
    };
    result.tokens_per_sec = this.#seconds > 0
      ? this.#tokens / this.#seconds
      : 0;
    const vals = result.val_ppl.map((v) => v.ppl);
    result.final = {
      train_ppl: result.train_ppl.at(-1) ?? null,
      val_ppl: vals.at(-1) ?? null,
      best_val_ppl: vals.length ? Math.min(...vals) : null,
    };
    result.wall_seconds = (performance.now() - this.#t0) / 1000;
    return result;
  }
}

/**
 * d2l's `train_ch8`: builds the model from `config`, trains it on
 * `corpus.train` for `num_epochs`, evaluates on `corpus.val` every
 * `eval_every` epochs and at the end, and predicts after each prefix.
 * A non-finite loss stops the run as `diverged`; an exception as `failed`.
 * The tfjs backend must already be set.
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
  const run = new Ch8Run(config, corpus, hooks);
  let trainer: Trainer | null = null;
  try {
    const t = trainer = config.engine === "reference"
      ? referenceTrainer(config, run.net)
      : await bpttTrainer(config, corpus, run.init, run.net);
    while (run.training) {
      const log = run.trained(await t.epoch(run.batches()));
      if (!log) break;
      if (run.evaluates) {
        await run.evaluated(log, await t.evaluate(corpus.val), t.sync);
      }
      run.logged(log);
    }
    await run.finish(t.sync);
  } catch (e) {
    run.fail(e);
  } finally {
    trainer?.dispose();
  }
  return run.close();
}

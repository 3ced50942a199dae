/**
 * One run of `train_ch8`, its bookkeeping: the model's initial values and
 * the data order from the config's seed, how far back a minibatch reaches,
 * the record of each epoch, and the texts generated at the end. It loads
 * no engine and no tfjs: the training loop drives it with any engine's
 * group, and the web page's trainer drives it in a browser.
 *
 * @module
 */
import { makeRng, type Rng } from "../data/prng.ts";
import {
  dataIter,
  type Minibatch,
  seqDataIterSequential,
} from "../data/iterators.ts";
import type { Corpus } from "../data/vocab.ts";
import { get_params, type ParamValues, type RnnSpec } from "../model/params.ts";
import {
  generate,
  oneHotAsEmbedding,
  predict,
  type TokenMap,
} from "../model/predict.ts";
import type { TrainConfig } from "../config/config.ts";
import type { CellEval, EpochStats } from "../engine/group.ts";
import { emptyResult, type EpochLog, type TrainResult } from "./result.ts";

/** Prefixes whose continuations every run reports, as in `train_ch8`. */
export const PREFIXES = ["time traveller", "traveller"];

/**
 * Salts of the seeds a run draws from its config's `seed`: the initial
 * values, the data order and the sampled texts each have their own stream.
 */
const SALT = { init: 0, data: 0x5bd1e995, samples: 0x27d4eb2f } as const;

/** What a run trains on: its tokens, and its vocabulary's size and what turns indices into text. */
export type RunCorpus = Pick<Corpus, "train" | "val"> & {
  vocab: TokenMap & { readonly length: number };
};

/** What one epoch measured, as the record keeps it. */
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

/**
 * An epoch's result from its minibatches' mean losses: perplexity is
 * exp(mean loss). An epoch without minibatches is an error, never a
 * perplexity of 1.
 */
export function epochResult(stats: EpochStats): EpochResult {
  const { losses, grad_norms, tokens, seconds } = stats;
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

/** The model `config` describes, for a vocabulary of `vocab_size` tokens. */
export function rnnSpec(config: TrainConfig, vocab_size: number): RnnSpec {
  const { num_hiddens, activation, input, embed_size } = config;
  return { vocab_size, num_hiddens, activation, input, embed_size };
}

/**
 * Where a run stands after an epoch, all that its next epochs depend on:
 * the weights, the data order's generator, the epoch and the record so
 * far. A run restored from it ({@linkcode Ch8Run.restore}) trains on as
 * the run it was taken from would have, bit for bit.
 */
export interface RunState {
  /** Epochs trained. */
  epoch: number;
  /** The data order's generator ({@linkcode Rng.state}). */
  data_rng: number;
  /** The record's curves so far. */
  result: Pick<TrainResult, "train_ppl" | "val_ppl" | "epochs">;
  /** Every minibatch's gradient norm so far (the summary's statistics). */
  norms: number[];
  /** Tokens trained on so far. */
  tokens: number;
  /** Seconds spent training so far. */
  seconds: number;
  /** Wall time so far. */
  wall_seconds: number;
  /** The weights after `epoch` epochs. */
  params: ParamValues;
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
 * A run of `train_ch8`: it trains nothing itself. The loop asks it for
 * each epoch's minibatches and validation minibatches, hands it what the
 * engine measured and the weights to predict from, and closes it into the
 * record.
 *
 * @example
 * ```ts
 * const run = new Ch8Run(config, corpus);
 * const [stats] = await group.trainEpochs([{ batches: run.batches(), options: config }]);
 * run.trained(stats!);
 * ```
 */
export class Ch8Run {
  /** The run's config. */
  readonly config: TrainConfig;
  /** What it trains on. */
  readonly corpus: RunCorpus;
  /** The model's shape. */
  readonly spec: RnnSpec;
  /** Initial parameter values, from the seed. */
  readonly init: ParamValues;
  /**
   * Most steps a minibatch's backward pass reaches back: num_steps, or,
   * with `detach: false`, every step of the epoch.
   */
  readonly max_steps: number;
  /** The record, filled in as the run goes. */
  readonly result: TrainResult = emptyResult();
  /** Epochs trained. */
  epoch = 0;
  /** The weights it starts from: `init`, or a restored state's. */
  start: ParamValues;
  readonly #hooks: TrainHooks;
  readonly #seedRng: (salt: number) => Rng;
  #dataRng: Rng;
  /** The data order's state before each epoch drawn and not yet trained. */
  #drawn: number[] = [];
  #norms: number[] = [];
  readonly #theta: number;
  #t0 = performance.now();
  #tokens = 0;
  #seconds = 0;
  #closed = false;

  /** A run of `config` on `corpus`, watched by `hooks`. */
  constructor(config: TrainConfig, corpus: RunCorpus, hooks: TrainHooks = {}) {
    this.config = config;
    this.corpus = corpus;
    this.#hooks = hooks;
    this.#seedRng = (salt) => makeRng((config.seed ^ salt) >>> 0);
    this.#dataRng = this.#seedRng(SALT.data);
    this.spec = rnnSpec(config, corpus.vocab.length);
    this.init = get_params(this.spec, this.#seedRng(SALT.init));
    this.start = this.init;
    this.#theta = config.clip === "off" ? Infinity : config.clip;
    const { batch_size: B, num_steps: T } = config;
    const perEpoch = Math.max(1, Math.floor((corpus.train.length - 1) / B / T));
    this.max_steps = config.detach ? T : perEpoch * T;
  }

  /**
   * Where the run stands, with the weights `params` it has now: what
   * {@linkcode Ch8Run.restore} goes on from. Taken between epochs.
   */
  snapshot(params: ParamValues): RunState {
    const { train_ppl, val_ppl, epochs } = this.result;
    return structuredClone({
      epoch: this.epoch,
      data_rng: this.#drawn[0] ?? this.#dataRng.state(),
      result: { train_ppl, val_ppl, epochs },
      norms: this.#norms,
      tokens: this.#tokens,
      seconds: this.#seconds,
      wall_seconds: (performance.now() - this.#t0) / 1000,
      params,
    });
  }

  /**
   * Goes on from `state`, a {@linkcode Ch8Run.snapshot} of a run of the
   * same config and corpus (the caller checks that): before the first
   * epoch, instead of starting from `init`.
   */
  restore(state: RunState): void {
    if (this.epoch !== 0 || this.result.epochs.length !== 0) {
      throw new Error("a run is restored before it trains");
    }
    const s = structuredClone(state);
    this.epoch = s.epoch;
    this.#dataRng = makeRng(0, s.data_rng);
    Object.assign(this.result, s.result);
    this.#norms = s.norms;
    this.#tokens = s.tokens;
    this.#seconds = s.seconds;
    this.#t0 = performance.now() - s.wall_seconds * 1000;
    this.start = s.params;
  }

  /** Whether it trains another epoch (it has not diverged, failed or finished). */
  get training(): boolean {
    return !this.#closed && this.result.status === "done" &&
      this.result.diverged_epoch === null &&
      this.epoch < this.config.num_epochs;
  }

  /**
   * The next epoch's minibatches, in the run's data order (the epoch after
   * the one drawn last: the loop may draw one before the last is trained).
   */
  batches(): Minibatch[] {
    const c = this.config;
    this.#drawn.push(this.#dataRng.state());
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
  trained(s: EpochStats): EpochLog | null {
    this.#drawn.shift();
    const r = epochResult(s);
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
    return this.evaluatesAt(this.epoch);
  }

  /** Whether epoch `epoch` (from 1) is an evaluation epoch. */
  evaluatesAt(epoch: number): boolean {
    return epoch % this.config.eval_every === 0 ||
      epoch === this.config.num_epochs;
  }

  /**
   * The held-out minibatches: `batch_size` contiguous streams (fewer when
   * the text is short) walked `num_steps` at a time from offset 0, the
   * state carried on for sequential sampling and reset per minibatch for
   * random (as in training). Null when the text is too short for one.
   */
  validation(): CellEval {
    const { num_steps, sampling } = this.config;
    const B = evalBatchSize(this.corpus.val, this.config);
    if (B < 1) return null;
    return {
      batches: [
        ...seqDataIterSequential(this.corpus.val, B, num_steps, makeRng(0), 0),
      ],
      carry: sampling === "sequential",
    };
  }

  /**
   * Records an evaluation epoch: validation perplexity from the mean loss
   * (null: no held-out minibatch), and the greedy sample of the weights
   * `values`.
   */
  evaluated(log: EpochLog, loss: number | null, values: ParamValues): void {
    const val = loss === null ? null : Math.exp(loss);
    log.val_ppl = val;
    if (val !== null) this.result.val_ppl.push({ epoch: log.epoch, ppl: val });
    log.sample = predict(
      PREFIXES[0],
      this.config.num_preds,
      { spec: this.spec, params: values },
      this.corpus.vocab,
    );
  }

  /** Ends an epoch: its log joins the record, and the hook sees it. */
  logged(log: EpochLog): void {
    this.result.epochs.push(log);
    this.#hooks.onEpoch?.(log);
  }

  /** Whether the run finished (not diverged, not failed): its texts are owed. */
  get finished(): boolean {
    return this.result.status === "done" && this.result.diverged_epoch === null;
  }

  /**
   * After the last epoch of a run that finished: the trained weights
   * `values` generate the texts (greedy after each prefix, then sampled at
   * each α) and exercise 1's check.
   */
  finish(values: ParamValues): void {
    if (!this.finished) return;
    const { config, corpus, result } = this;
    const model = { spec: this.spec, params: values };
    for (const prefix of PREFIXES) {
      result.samples.push({
        prefix,
        decoding: "greedy",
        ...generate(prefix, config.num_preds, model, corpus.vocab),
      });
    }
    if (config.input === "one_hot" && corpus.val.length > 0) {
      result.onehot_as_embedding = oneHotAsEmbedding(
        model,
        corpus.val.subarray(0, 200),
      );
    }
    const sampleRng = this.#seedRng(SALT.samples);
    for (const alpha of this.#hooks.sample_alphas ?? []) {
      for (const prefix of PREFIXES) {
        result.samples.push({
          prefix,
          decoding: "sample",
          alpha,
          ...generate(prefix, config.num_preds, model, corpus.vocab, {
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

  /** The record, with its summary statistics. */
  close(): TrainResult {
    if (this.#closed) return this.result;
    this.#closed = true;
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

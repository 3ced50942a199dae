/**
 * What the explicit-BPTT engines (the fused engine on WebGPU, the BLAS
 * engine on the CPU) share: the model they are built for, what one
 * minibatch's gradients and one epoch return, and the methods `train_ch8`
 * and the equivalence tests call.
 *
 * @module
 */
import type { Minibatch, Sampling } from "../data/iterators.ts";
import type { Activation, InputMode, ParamValues } from "../model/rnn.ts";

/** The model an engine is built for. */
export interface BpttSpec {
  /** Rows per minibatch. */
  batch_size: number;
  /** Time steps per row. */
  num_steps: number;
  /** Hidden units, H. */
  num_hiddens: number;
  /** Tokens in the vocabulary, V. */
  vocab_size: number;
  /** The hidden layer's nonlinearity. */
  activation: Activation;
  /** One-hot inputs or a learnt embedding. */
  input: InputMode;
  /** Embedding width, for `input: "embedding"`. */
  embed_size: number;
  /**
   * Most steps one minibatch's backward pass may reach back: num_steps,
   * or num_steps × minibatches per epoch for `detach: false`.
   */
  max_steps?: number;
}

/** Loss and gradients of one minibatch, read back. */
export interface Gradients {
  /** Mean cross-entropy over the minibatch. */
  loss: number;
  /** The gradient of the loss for each parameter, in d2l's shapes. */
  grads: ParamValues;
  /** The last state, (batch, num_hiddens). */
  H: Float32Array;
}

/** What one epoch measured. */
export interface EpochStats {
  /** Mean loss of each minibatch. */
  losses: number[];
  /** Global gradient norm of each minibatch, before clipping. */
  grad_norms: number[];
  /** Tokens trained on. */
  tokens: number;
  /** Wall time of the epoch, read-back included. */
  seconds: number;
}

/** Options of one epoch, as the reference engine's `train_epoch` takes them. */
export interface EpochOptions {
  /** SGD learning rate. */
  lr: number;
  /** Gradient clipping threshold θ on the global norm, or "off". */
  clip: number | "off";
  /** Sequential partitioning or random sampling. */
  sampling: Sampling;
  /** Detach the state between minibatches (false: gradients reach the epoch's start). */
  detach: boolean;
}

/** An explicit-BPTT engine holding one model. */
export interface BpttEngine {
  /**
   * Loss and gradients of one minibatch, without an update: X and Y are
   * (batch, num_steps) token rows as the iterators give them; H0 the
   * initial state (zeros when null).
   */
  gradients(
    X: Int32Array,
    Y: Int32Array,
    H0: Float32Array | null,
  ): Promise<Gradients>;
  /**
   * One epoch of SGD as d2l's `train_epoch_ch8`: the state starts from
   * zeros (before every minibatch with random sampling) and is carried on,
   * detached, otherwise; with `detach: false` minibatch i is recomputed and
   * differentiated from the epoch's start through all i + 1 minibatches.
   * Gradients are clipped to global norm θ ("off": not at all).
   */
  trainEpoch(
    batches: Iterable<Minibatch>,
    options: EpochOptions,
  ): Promise<EpochStats>;
  /**
   * Mean cross-entropy of `batches` (each minibatch's mean, averaged),
   * forward only; each minibatch starts from the last one's state when
   * `carry`, else from zeros.
   */
  evaluate(batches: Iterable<Minibatch>, carry: boolean): Promise<number>;
  /** Current parameter values. */
  values(): Promise<ParamValues>;
  /** Frees what the engine holds. */
  destroy(): void;
}

/**
 * Whether an epoch of `minibatches` replays each one from the epoch's
 * start (`detach: false` with sequential sampling); throws when that would
 * reach back further than the engine's `max_steps`.
 */
export function replays(
  spec: Required<BpttSpec>,
  options: EpochOptions,
  minibatches: number,
): boolean {
  const replay = !options.detach && options.sampling === "sequential";
  const steps = minibatches * spec.num_steps;
  if (replay && steps > spec.max_steps) {
    throw new Error(
      `detach: false needs max_steps ≥ ${steps} (got ${spec.max_steps})`,
    );
  }
  return replay;
}

/** Token rows in time order: row t·B + b is X[b, t] (X is batch × steps). */
export function timeMajor(X: Int32Array, B: number, T: number): Int32Array {
  const out = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) out[t * B + b] = X[b * T + t];
  }
  return out;
}

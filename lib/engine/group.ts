/**
 * What every engine is: a group of N ≥ 1 models of one shape, each cell
 * with its own parameters, data, lr, θ, activation and state. An epoch of
 * SGD for every cell, validation, the current values and `destroy` are
 * all a training loop needs; `train_ch8` is the loop over a group of one,
 * `train_cells` the same loop over N. The fused engine trains a group's
 * cells in the same dispatches; the CPU engines one after another.
 *
 * @module
 */
import type { Minibatch, Sampling } from "../data/iterators.ts";
import type { ParamValues, RnnSpec } from "../model/params.ts";
import type { TrainConfig } from "../config/config.ts";

/** Most cells of one group (the fused engine's kernels hold one entry of each cell's hyperparameters per cell). */
export const MAX_GROUP = 256;

/** Options of one epoch of one cell, as d2l's `train_epoch_ch8` takes them. */
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

/** What one epoch of one cell measured. */
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

/** A cell's epoch: its minibatches and options; null for a cell that trains no more (diverged, or done). */
export type CellEpoch = { batches: Minibatch[]; options: EpochOptions } | null;

/**
 * A cell's held-out minibatches (any number of rows up to the group's
 * batch size); each starts from the last one's state when `carry`, else
 * from zeros. Null for a cell that is not evaluated.
 */
export type CellEval = { batches: Minibatch[]; carry: boolean } | null;

/** Loss and gradients of one minibatch, read back. */
export interface Gradients {
  /** Mean cross-entropy over the minibatch. */
  loss: number;
  /** The gradient of the loss for each parameter, in d2l's shapes. */
  grads: ParamValues;
  /** The last state, (batch, num_hiddens). */
  H: Float32Array;
}

/** The shape every cell of a group shares. */
export interface GroupSpec extends RnnSpec {
  /** Rows per minibatch. */
  batch_size: number;
  /** Time steps per row. */
  num_steps: number;
  /**
   * Most steps one minibatch's backward pass may reach back: num_steps,
   * or num_steps × minibatches per epoch for `detach: false`.
   */
  max_steps: number;
}

/** One cell of a group: its config and initial parameters. */
export interface GroupCell {
  /** Its resolved config (the group's spec comes from the first). */
  config: TrainConfig;
  /** Its initial parameter values. */
  params: ParamValues;
}

/** A group of models of one shape, trained by one engine. */
export interface EngineGroup {
  /** Cells in the group. */
  readonly cells: number;
  /**
   * Whether each call of `trainEpochs`, `evaluate` and `values` takes
   * effect in the order the calls are made, before its promise settles:
   * then the training loop asks for the next epoch before it awaits the
   * last one's numbers, and the device never waits on the host between
   * epochs (a WebGPU read-back has a latency of its own).
   */
  readonly inOrder?: boolean;
  /**
   * One epoch of SGD for every cell, each as d2l's `train_epoch_ch8`: the
   * state starts from zeros (before every minibatch with random sampling)
   * and is carried on, detached, otherwise; with `detach: false`
   * minibatch i is recomputed and differentiated from the epoch's start
   * through all i + 1 minibatches. Gradients are clipped to global norm θ
   * ("off": not at all). A null cell trains no more (its parameters stay).
   */
  trainEpochs(epochs: CellEpoch[]): Promise<(EpochStats | null)[]>;
  /**
   * Mean cross-entropy of each cell's held-out minibatches (each
   * minibatch's mean over its tokens, averaged) under its current weights,
   * forward only; NaN for a null cell.
   */
  evaluate(cells: CellEval[]): Promise<number[]>;
  /**
   * Loss and gradients of one minibatch of the first cell, without an
   * update: X and Y are (batch, num_steps) token rows as the iterators
   * give them; H0 the initial state (zeros when null).
   */
  gradients(
    X: Int32Array,
    Y: Int32Array,
    H0: Float32Array | null,
  ): Promise<Gradients>;
  /** Cell `cell`'s current parameter values (prediction runs on them). */
  values(cell: number): Promise<ParamValues>;
  /** Frees what the group holds. */
  destroy(): void;
}

/** The shape of a group of `config`'s models over a vocabulary of `vocab_size`, reaching back `max_steps`. */
export function groupSpec(
  config: TrainConfig,
  vocab_size: number,
  max_steps: number,
): GroupSpec {
  const { num_hiddens, activation, input, embed_size, batch_size, num_steps } =
    config;
  return {
    vocab_size,
    num_hiddens,
    activation,
    input,
    embed_size,
    batch_size,
    num_steps,
    max_steps,
  };
}

/**
 * What makes cells trainable in one group, as a string: the same engine
 * (fused, the one that trains cells together), sizes (num_hiddens,
 * num_steps, batch_size, input and embed_size, vocabulary size, or what
 * gives it: corpus and letters), and `detach` (a `detach: false` cell
 * trains alone: its replay grows with the epoch). Null for a cell that
 * trains alone.
 *
 * @example
 * ```ts
 * groupKey(config, 28) === groupKey({ ...config, lr: 2, seed: 1 }, 28); // true
 * ```
 */
export function groupKey(
  config: TrainConfig,
  vocab_size: number | string,
): string | null {
  if (config.engine !== "fused" || !config.detach) return null;
  const { num_hiddens, num_steps, batch_size, input, embed_size } = config;
  return JSON.stringify([
    num_hiddens,
    num_steps,
    batch_size,
    input,
    input === "embedding" ? embed_size : 0,
    vocab_size,
  ]);
}

/**
 * Items in the groups they train in, in the order they come: those whose
 * `keyOf` is the same string together, up to `batch` a group; an item
 * whose key is null (or every item, when `batch` is 1) alone.
 */
export function groupsOf<C>(
  items: C[],
  batch: number,
  keyOf: (item: C) => string | null,
): C[][] {
  const groups: C[][] = [];
  const open = new Map<string, C[]>();
  for (const item of items) {
    const key = batch > 1 ? keyOf(item) : null;
    let group = key === null ? undefined : open.get(key);
    if (!group || group.length >= batch) {
      group = [];
      groups.push(group);
      if (key !== null) open.set(key, group);
    }
    group.push(item);
  }
  return groups;
}

/**
 * Whether an epoch of `minibatches` replays each one from the epoch's
 * start (`detach: false` with sequential sampling); throws when that would
 * reach back further than the group's `max_steps`.
 */
export function replays(
  spec: Pick<GroupSpec, "num_steps" | "max_steps">,
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

/** Rows of a group's held-out minibatches: the first minibatch's (its batch size), or 0. */
export const evalRows = (e: CellEval): number => e?.batches[0]?.batch_size ?? 0;

/**
 * Groups trained as one, one after another: what a group too large for
 * one device's bindings becomes (each part computes exactly what it would
 * alone, so the cells do too). Cell c is the c-th over the parts in
 * order.
 *
 * @example
 * ```ts
 * const group = new SplitGroup([first56, last8]); // group.cells === 64
 * ```
 */
export class SplitGroup implements EngineGroup {
  readonly cells: number;
  readonly parts: readonly EngineGroup[];

  /** The parts, in cell order. */
  constructor(parts: EngineGroup[]) {
    this.parts = parts;
    this.cells = parts.reduce((n, p) => n + p.cells, 0);
  }

  /** In order where every part is. */
  get inOrder(): boolean {
    return this.parts.every((p) => p.inOrder);
  }

  /** Each part's slice of `items` through `f`, all asked for at once (in part order): each part's results. */
  #ask<I, O>(
    items: I[],
    f: (part: EngineGroup, slice: I[]) => Promise<O[]>,
  ): Promise<O[][]> {
    let at = 0;
    return Promise.all(
      this.parts.map((part) => f(part, items.slice(at, at += part.cells))),
    );
  }

  /** {@linkcode SplitGroup.#ask}'s results in cell order. */
  async #each<I, O>(
    items: I[],
    f: (part: EngineGroup, slice: I[]) => Promise<O[]>,
  ): Promise<O[]> {
    return (await this.#ask(items, f)).flat();
  }

  /**
   * Every part's epoch; every cell's `seconds` is the whole epoch's: the
   * longest part's (the parts are asked for at once, and each counts from
   * then or from the end of its epoch before).
   */
  async trainEpochs(epochs: CellEpoch[]): Promise<(EpochStats | null)[]> {
    const parts = await this.#ask(epochs, (p, e) => p.trainEpochs(e));
    const s = Math.max(
      ...parts.map((p) => p.find((x) => x !== null)?.seconds ?? 0),
    );
    return parts.flat().map((x) => x && { ...x, seconds: s });
  }

  evaluate(cells: CellEval[]): Promise<number[]> {
    return this.#each(cells, (p, e) => p.evaluate(e));
  }

  gradients(
    X: Int32Array,
    Y: Int32Array,
    H0: Float32Array | null,
  ): Promise<Gradients> {
    return this.parts[0].gradients(X, Y, H0);
  }

  values(cell: number): Promise<ParamValues> {
    for (const part of this.parts) {
      if (cell < part.cells) return part.values(cell);
      cell -= part.cells;
    }
    throw new Error(`no cell ${cell} in the group`);
  }

  destroy(): void {
    for (const part of this.parts) part.destroy();
  }
}

/**
 * An epoch's wall seconds where the next epoch may be asked for before the
 * last one's numbers are in: from when it was asked for, or from when the
 * epoch before it ended if that was later. Epochs in flight together
 * share the device, so each counts the time since the one before: their
 * seconds add up to the wall time, though one may take over some of the
 * next one's (Deno answers two read-backs in flight together).
 *
 * @example
 * ```ts
 * const clock = new EpochClock();
 * const seconds = clock.start(); // … the epoch runs …
 * seconds(); // its wall seconds
 * ```
 */
export class EpochClock {
  #ended = 0;

  /** An epoch starts: the function that ends it and gives its seconds. */
  start(): () => number {
    const asked = performance.now();
    return () => {
      const now = performance.now();
      const seconds = (now - Math.max(asked, this.#ended)) / 1000;
      this.#ended = now;
      return seconds;
    };
  }
}

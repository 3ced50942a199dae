/**
 * The reference engine: the chapter's model on tfjs (`RNNModelScratch`),
 * its gradients by tfjs autograd, on any tfjs backend (webgpu, wasm, cpu).
 * The other engines are checked against it. Only this engine loads tfjs.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Minibatch } from "../data/iterators.ts";
import type { ParamValues } from "../model/params.ts";
import { cross_entropy, RNNModelScratch } from "../model/rnn.ts";
import type { Scalar, Tensor } from "../model/tensors.ts";
import {
  type CellEpoch,
  type CellEval,
  type EngineGroup,
  type EpochOptions,
  type EpochStats,
  type Gradients,
  type GroupSpec,
  timeMajor,
} from "./group.ts";

/**
 * d2l's `grad_clipping`: rescales all gradients together when their global
 * L2 norm exceeds θ, g ← min(1, θ/‖g‖)·g, so the update keeps its
 * direction, and returns them with the norm measured before clipping
 * ("off" leaves them alone). The decision stays on the device (no
 * read-back), so it costs no synchronisation.
 *
 * @example
 * ```ts
 * const { grads, norm } = grad_clipping([tf.tensor([3, 4])], 1);
 * // norm = 5; grads[0] = [0.6, 0.8]
 * ```
 */
export function grad_clipping(
  grads: Tensor[],
  theta: number | "off",
): { grads: Tensor[]; norm: Scalar } {
  const norm: Scalar = tf.sqrt(
    tf.addN(grads.map((g) => tf.sum(tf.square(g)))),
  );
  if (theta === "off") return { grads, norm };
  const scale = tf.minimum(1, tf.div(theta, norm));
  return { grads: grads.map((g) => tf.mul(g, scale)), norm };
}

/** Minibatch tensors: X as (batch, num_steps) and the targets in the logits' time-major order. */
function toTensors(batch: Minibatch): { X: tf.Tensor2D; y: tf.Tensor1D } {
  const { X, Y, batch_size: B, num_steps: T } = batch;
  // d2l's Y.T.reshape(-1): target of step t, row b sits at t·B + b.
  return {
    X: tf.tensor2d(X, [B, T], "int32"),
    y: tf.tensor1d(timeMajor(Y, B, T), "int32"),
  };
}

/** Scalars read back at once, as numbers. */
async function readAll(xs: tf.Scalar[]): Promise<number[]> {
  if (xs.length === 0) return [];
  const stacked = tf.stack(xs);
  const values = Array.from(await stacked.data());
  stacked.dispose();
  return values;
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
 * const r = await train_epoch(net, dataIter("sequential", corpus.train, 32, 35, rng), { lr: 1, clip: 1, sampling: "sequential", detach: true });
 * r.losses.length; // the minibatches
 * ```
 */
export async function train_epoch(
  net: RNNModelScratch,
  batches: Iterable<Minibatch>,
  options: EpochOptions,
): Promise<EpochStats> {
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
  const [loss, grad_norms] = await Promise.all([
    readAll(losses),
    readAll(norms),
  ]);
  tf.dispose([...losses, ...norms, ...seen]);
  state?.dispose();
  epochState?.dispose();
  return {
    losses: loss,
    grad_norms,
    tokens,
    seconds: (performance.now() - start) / 1000,
  };
}

/**
 * Mean cross-entropy of the model on held-out minibatches, forward only:
 * the state carried from one to the next (`carry`, sequential sampling) or
 * reset per minibatch (random, as in training). The mean is taken on the
 * device and read back once.
 */
export async function evaluate(
  net: RNNModelScratch,
  batches: Minibatch[],
  carry: boolean,
): Promise<number> {
  if (batches.length === 0) return NaN;
  const losses: tf.Scalar[] = [];
  let state = net.begin_state(batches[0].batch_size);
  for (const batch of batches) {
    const { X, y } = toTensors(batch);
    const H0 = carry ? state : net.begin_state(batch.batch_size);
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
  return value;
}

/**
 * A group of models on tfjs, trained one after another: each cell is its
 * own `RNNModelScratch`. The tfjs backend must already be set.
 *
 * @example
 * ```ts
 * const group = new ReferenceCells(spec, [get_params(spec, rng)]);
 * const [stats] = await group.trainEpochs([{ batches, options: { lr: 1, clip: 1, sampling: "sequential", detach: true } }]);
 * ```
 */
export class ReferenceCells implements EngineGroup {
  /** What the models are built for. */
  readonly spec: GroupSpec;
  readonly #nets: RNNModelScratch[];

  /** Models of `spec` from each cell's initial values and activation. */
  constructor(
    spec: GroupSpec,
    cells: { params: ParamValues; activation: GroupSpec["activation"] }[],
  ) {
    this.spec = spec;
    this.#nets = cells.map((c) =>
      new RNNModelScratch({ ...spec, activation: c.activation }, c.params)
    );
  }

  /** Cells in the group. */
  get cells(): number {
    return this.#nets.length;
  }

  /** Cell `i`'s model on tfjs. */
  net(i: number): RNNModelScratch {
    return this.#nets[i];
  }

  async trainEpochs(epochs: CellEpoch[]): Promise<(EpochStats | null)[]> {
    const out: (EpochStats | null)[] = [];
    for (const [i, e] of epochs.entries()) {
      out.push(
        e ? await train_epoch(this.#nets[i], e.batches, e.options) : null,
      );
    }
    return out;
  }

  async evaluate(cells: CellEval[]): Promise<number[]> {
    const out: number[] = [];
    for (const [i, e] of cells.entries()) {
      out.push(e ? await evaluate(this.#nets[i], e.batches, e.carry) : NaN);
    }
    return out;
  }

  async gradients(
    X: Int32Array,
    Y: Int32Array,
    H0: Float32Array | null,
  ): Promise<Gradients> {
    const net = this.#nets[0];
    const { batch_size: B, num_steps: T, num_hiddens: H } = this.spec;
    const names = Object.keys(net.params);
    const vars = Object.values(net.params);
    const { X: x, y } = toTensors({ X, Y, batch_size: B, num_steps: T });
    const h0 = H0 ? tf.tensor2d(H0, [B, H]) : net.begin_state(B);
    let last!: tf.Tensor2D;
    const { value, grads } = tf.variableGrads(() => {
      const [logits, Hn] = net.forward(x, h0);
      last = tf.keep(Hn);
      return cross_entropy(logits, y);
    }, vars);
    const out: ParamValues = {};
    for (const [i, v] of vars.entries()) {
      out[names[i]] = {
        shape: v.shape,
        values: (await grads[v.name].data()) as Float32Array,
      };
    }
    const result = {
      loss: (await value.data())[0],
      grads: out,
      H: (await last.data()) as Float32Array,
    };
    tf.dispose([x, y, h0, last, value, ...Object.values(grads)]);
    return result;
  }

  values(cell: number): Promise<ParamValues> {
    return this.#nets[cell].values();
  }

  destroy(): void {
    for (const net of this.#nets) net.dispose();
  }
}

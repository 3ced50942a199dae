/**
 * The chapter's RNN from scratch (d2l `get_params`, `init_rnn_state`, `rnn`,
 * `RNNModelScratch`) on tfjs, plus the exercises' variants: ReLU instead of
 * tanh, and a learnable embedding instead of one-hot inputs.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { ParamValues, RnnSpec } from "./params.ts";
import type {
  Scalar,
  Tensor,
  Tensor1D,
  Tensor2D,
  Tensor3D,
  Variable,
} from "./tensors.ts";

export {
  type Activation,
  get_params,
  type InputMode,
  type ParamValues,
  type RnnSpec,
} from "./params.ts";

/**
 * The chapter's one-hot inputs: a (batch, num_steps) token batch becomes
 * (num_steps, batch, vocab), time first, so step t is `inputs[t]`.
 *
 * @example
 * ```ts
 * one_hot(tf.tensor2d([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]], undefined, "int32"), 28).shape; // [5, 2, 28]
 * ```
 */
export function one_hot(X: Tensor2D, vocab_size: number): Tensor3D {
  return tf.cast(
    tf.oneHot(tf.transpose(X), vocab_size),
    "float32",
  ) as Tensor3D;
}

/**
 * Matrix product a·b whose gradient uses plain products with explicitly
 * transposed operands: dA = dy·bᵀ, dB = aᵀ·dy. tfjs's own gradient passes
 * transpose flags instead, which its wasm kernel runs over 10× slower than
 * a plain product; the numbers are the same. `bT`, when given, is bᵀ
 * computed once by the caller (W_hh is used at every time step).
 */
export function matmul(
  a: Tensor,
  b: Tensor,
  bT?: Tensor,
): Tensor2D {
  const f = tf.customGrad((...args) => {
    const [a, b, save] = args as unknown as [
      Tensor2D,
      Tensor2D,
      tf.GradSaveFunc,
    ];
    // Saved tensors outlive the forward pass; a closure alone would not.
    save(bT ? [a, b, bT] : [a, b]);
    return {
      value: tf.matMul(a, b),
      gradFunc: (dy, saved) => {
        const [a, b, bT] = saved as Tensor2D[];
        return [
          tf.matMul(dy as Tensor2D, bT ?? tf.transpose(b)),
          tf.matMul(tf.transpose(a), dy as Tensor2D),
        ];
      },
    };
  });
  return f(a, b) as Tensor2D;
}

/**
 * d2l's `RNNModelScratch`: parameters as tfjs variables, `forward` the
 * recurrence, `begin_state` the zero state.
 */
export class RNNModelScratch {
  /** The model's sizes and kinds. */
  readonly spec: RnnSpec;
  /** Trainable parameters by d2l name. */
  readonly params: Record<string, Variable>;

  /** A model of `spec` with these parameter values (copied into tfjs variables). */
  constructor(spec: RnnSpec, values: ParamValues) {
    this.spec = spec;
    // tfjs variable names are global, so they stay auto-generated; the d2l
    // names are the keys, and two models can live side by side.
    this.params = Object.fromEntries(
      Object.entries(values).map(([name, { shape, values }]) => {
        const initial = tf.tensor(values, shape);
        const variable = tf.variable(initial, true);
        initial.dispose();
        return [name, variable];
      }),
    );
  }

  /** d2l's `init_rnn_state`: zeros of shape (batch_size, num_hiddens). */
  begin_state(batch_size: number): Tensor2D {
    return tf.zeros([batch_size, this.spec.num_hiddens]);
  }

  /**
   * d2l's `rnn`: runs the recurrence over a (batch, num_steps) token batch
   * from `state`. Returns the logits, (num_steps·batch, vocab) in time-major
   * order like the chapter's `torch.cat(outputs)`, and the last state.
   *
   * The input and output projections do not depend on H, so they run as one
   * matrix product over all steps instead of one per step: the same numbers,
   * far fewer kernel launches. Only the H W_hh chain is sequential.
   */
  forward(X: Tensor2D, state: Tensor2D): [Tensor2D, Tensor2D] {
    const { W_embed, W_xh, W_hh, b_h, W_hq, b_q } = this.params;
    const [batch, num_steps] = X.shape;
    const inputs = tf.reshape(one_hot(X, this.spec.vocab_size), [
      num_steps * batch,
      this.spec.vocab_size,
    ]) as Tensor2D;
    // inputs · W_xh selects rows of W_xh (exercise 1: one-hot ≡ embedding).
    const x = matmul(W_embed ? matmul(inputs, W_embed) : inputs, W_xh);
    const xW_xh = tf.split(x, num_steps, 0);
    const phi = this.spec.activation === "relu" ? tf.relu : tf.tanh;
    // Constant for the gradient only (see matmul), so it needs no gradient itself.
    const W_hh_T = tf.transpose(W_hh);
    let H = state;
    const outputs: Tensor2D[] = [];
    for (let t = 0; t < num_steps; t++) {
      H = phi(tf.add(tf.add(xW_xh[t], matmul(H, W_hh, W_hh_T)), b_h));
      outputs.push(H);
    }
    const Y = tf.add(matmul(tf.concat(outputs, 0), W_hq), b_q) as Tensor2D;
    return [Y, H];
  }

  /** Current parameter values, read back from the device. */
  async values(): Promise<ParamValues> {
    const out: ParamValues = {};
    for (const [name, v] of Object.entries(this.params)) {
      out[name] = {
        shape: v.shape,
        values: (await v.data()) as Float32Array,
      };
    }
    return out;
  }

  /**
   * Sets every parameter to `values` (same names and shapes), e.g. the
   * fused engine's weights before evaluation or prediction.
   */
  assign(values: ParamValues): void {
    for (const [name, v] of Object.entries(this.params)) {
      const next = tf.tensor(values[name].values, v.shape);
      v.assign(next);
      next.dispose();
    }
  }

  /** Frees the parameters' device memory. */
  dispose(): void {
    for (const v of Object.values(this.params)) v.dispose();
  }
}

/**
 * Mean cross-entropy of logits (N, vocab) against token indices (N), the
 * chapter's `nn.CrossEntropyLoss` followed by `.mean()`.
 */
export function cross_entropy(logits: Tensor2D, y: Tensor1D): Scalar {
  const logp = tf.logSoftmax(logits);
  return tf.neg(
    tf.mean(tf.sum(tf.mul(tf.oneHot(y, logits.shape[1]), logp), 1)),
  );
}

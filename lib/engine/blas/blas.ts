/**
 * The BLAS engine: the chapter's RNN trained with explicit
 * backpropagation through time on the CPU, its matrix products by the
 * system's CBLAS (`sgemm`, through Deno's FFI; multithreaded where the
 * library is) and the rest in plain loops. Every training feature of the
 * reference engine: tanh or ReLU, one-hot or embedded inputs, clipping θ
 * or off, sequential or random sampling, `detach: false`.
 *
 * Rows are in time order (row r = t·B + b). One-hot inputs are rows of
 * the identity, so X W_xh and dW_xh = Xᵀ dA are products like the others.
 *
 * @module
 */
import type { Minibatch } from "../../data/iterators.ts";
import type { ParamValues } from "../../model/params.ts";
import type { Cblas } from "./cblas.ts";
import { type TanhAdd, tanhKernel } from "./simd.ts";
import {
  type EpochOptions,
  type EpochStats,
  type Gradients,
  type GroupSpec,
  replays,
  timeMajor,
} from "../group.ts";

export { BLAS_VERSION } from "../version.ts";

/** The parameters in d2l's order (W_embed first for embedded inputs). */
const NAMES = ["W_embed", "W_xh", "W_hh", "b_h", "W_hq", "b_q"] as const;
type Name = typeof NAMES[number];

/**
 * One model on the CPU: parameters and gradients as one Float32Array each
 * (views per parameter), activations sized for `max_steps`.
 *
 * @example
 * ```ts
 * const net = new BlasRnn(openCblas()!, spec, get_params(spec, rng));
 * const epoch = await net.trainEpoch(batches, { lr: 1, clip: 1, sampling: "sequential", detach: true });
 * ```
 */
export class BlasRnn {
  /** What the model is built for. */
  readonly spec: GroupSpec;
  readonly #blas: Cblas;
  /** Width of an input row: V (one-hot) or E (embedded). */
  readonly #I: number;
  readonly #params: Float32Array;
  readonly #grads: Float32Array;
  readonly #p: Partial<Record<Name, Float32Array>> = {};
  readonly #g: Partial<Record<Name, Float32Array>> = {};
  readonly #shapes: Partial<Record<Name, number[]>> = {};
  /** Input rows X_t of every step, (L·B) × I. */
  readonly #X: Float32Array;
  /** Their projection plus the bias, X_t W_xh + b_h, (L·B) × H. */
  readonly #P: Float32Array;
  /** States H_0…H_L, (L + 1)·B × H; H_0 the initial one. */
  readonly #Hs: Float32Array;
  /** h ← tanh(h + p) on #Hs and #P, which live in its memory. */
  readonly #tanhAdd: TanhAdd;
  /** dL/dA_t of every step (A_t the pre-activation), L·B × H. */
  readonly #dA: Float32Array;
  /** Logits of the loss window, then their gradient, T·B × V. */
  readonly #logits: Float32Array;
  /** The output layer's share of dL/dH_t, dlogits W_hqᵀ, T·B × H. */
  readonly #dO: Float32Array;
  /** dL/dX_t for embedded inputs, (L·B) × E. */
  readonly #dX: Float32Array;
  /** Each loss-window row's cross-entropy. */
  readonly #losses: Float32Array;
  /** L·B ones, for column sums. */
  readonly #ones: Float32Array;
  /** The time-major tokens of the minibatch being computed. */
  #x = new Int32Array(0);

  /** A model of `spec` trained with the CBLAS `blas`, from initial parameters `params`. */
  constructor(blas: Cblas, spec: GroupSpec, params: ParamValues) {
    this.#blas = blas;
    this.spec = spec;
    const { batch_size: B, num_steps: T, num_hiddens: H, vocab_size: V } = spec;
    const L = this.spec.max_steps;
    const embedding = spec.input === "embedding";
    const I = this.#I = embedding ? spec.embed_size : V;
    const names = NAMES.filter((n) => embedding || n !== "W_embed");
    const sizes = names.map((n) => params[n].values.length);
    const total = sizes.reduce((a, b) => a + b, 0);
    this.#params = new Float32Array(total);
    this.#grads = new Float32Array(total);
    let at = 0;
    names.forEach((n, i) => {
      this.#p[n] = this.#params.subarray(at, at + sizes[i]);
      this.#g[n] = this.#grads.subarray(at, at + sizes[i]);
      this.#p[n].set(params[n].values);
      this.#shapes[n] = params[n].shape;
      at += sizes[i];
    });
    this.#X = new Float32Array(L * B * I);
    // The SIMD kernel's memory; it runs up to 3 floats past an array's end.
    const floats = [L * B * H + 4, (L + 1) * B * H + 4];
    const memory = new WebAssembly.Memory({
      initial: Math.ceil((floats[0] + floats[1]) * 4 / 65536) + 1,
    });
    this.#P = new Float32Array(memory.buffer, 0, floats[0]);
    this.#Hs = new Float32Array(memory.buffer, floats[0] * 4, floats[1]);
    this.#tanhAdd = tanhKernel(memory);
    this.#dA = new Float32Array(L * B * H);
    this.#logits = new Float32Array(T * B * V);
    this.#dO = new Float32Array(T * B * H);
    this.#dX = new Float32Array(embedding ? L * B * I : 0);
    this.#losses = new Float32Array(T * B);
    this.#ones = new Float32Array(L * B).fill(1);
  }

  /** H_{t} rows of the state history (t = 0 is the initial state). */
  #state(t: number): Float32Array {
    const BH = this.spec.batch_size * this.spec.num_hiddens;
    return this.#Hs.subarray(t * BH, (t + 1) * BH);
  }

  /**
   * Forward over the L = x.length / B steps of `x` (time-major tokens) from
   * state H_0, and the loss on the last num_steps, whose targets are `y`:
   * H_t = φ(X_t W_xh + H_{t−1} W_hh + b_h), logits = H_t W_hq + b_q, loss
   * = mean cross-entropy; the logits become dlogits = (softmax − onehot)/R.
   * Returns the mean loss.
   */
  #forward(x: Int32Array, y: Int32Array): number {
    const { batch_size: B, num_steps: T, num_hiddens: H, vocab_size: V } =
      this.spec;
    const blas = this.#blas, p = this.#p, I = this.#I;
    const rows = x.length, L = rows / B, w = L - T;
    this.#x = x as Int32Array<ArrayBuffer>;
    // X_t: rows of the identity (one-hot) or of W_embed.
    const X = this.#X;
    if (this.spec.input === "one_hot") {
      X.fill(0, 0, rows * I);
      for (let r = 0; r < rows; r++) X[r * I + x[r]] = 1;
    } else {
      for (let r = 0; r < rows; r++) {
        X.set(p.W_embed!.subarray(x[r] * I, (x[r] + 1) * I), r * I);
      }
    }
    // P = X W_xh + b_h for all steps at once: b_h in every row, then the product added.
    for (let r = 0; r < rows; r++) this.#P.set(p.b_h!, r * H);
    blas.sgemm(false, false, rows, H, I, 1, X, I, p.W_xh!, H, 1, this.#P, H);
    const BH = B * H;
    for (let t = 0; t < L; t++) {
      // H_t = φ(H_{t−1} W_hh + P_t)
      const h = this.#state(t + 1);
      blas.sgemm(
        false,
        false,
        B,
        H,
        H,
        1,
        this.#state(t),
        H,
        p.W_hh!,
        H,
        0,
        h,
        H,
      );
      const P = this.#P.subarray(t * BH, (t + 1) * BH);
      if (this.spec.activation === "tanh") {
        this.#tanhAdd(h.byteOffset, P.byteOffset, BH);
      } else {
        for (let i = 0; i < BH; i++) h[i] = Math.max(h[i] + P[i], 0);
      }
    }
    // Logits of the loss window: states H_{w+1}…H_L.
    const R = T * B;
    const logits = this.#logits;
    blas.sgemm(
      false,
      false,
      R,
      V,
      H,
      1,
      this.#Hs.subarray((w + 1) * BH),
      H,
      p.W_hq!,
      V,
      0,
      logits,
      V,
    );
    // Softmax cross-entropy and its gradient, row by row.
    const b_q = p.b_q!;
    let sum = 0;
    for (let r = 0; r < R; r++) {
      const row = logits.subarray(r * V, (r + 1) * V);
      let m = -Infinity;
      for (let v = 0; v < V; v++) m = Math.max(m, row[v] += b_q[v]);
      let s = 0;
      for (let v = 0; v < V; v++) s += Math.exp(row[v] - m);
      const lse = m + Math.log(s);
      const loss = lse - row[y[r]];
      this.#losses[r] = loss;
      sum += loss;
      for (let v = 0; v < V; v++) {
        row[v] = (Math.exp(row[v] - lse) - (v === y[r] ? 1 : 0)) / R;
      }
    }
    return sum / R;
  }

  /**
   * Backward through the L steps of the last forward: dA_t = (dA_{t+1}
   * W_hhᵀ + dlogits_t W_hqᵀ) ⊙ φ′(H_t), then the gradients as sums over
   * all rows: dW_hh = Σ H_{t−1}ᵀ dA_t, dW_hq = Σ H_tᵀ dlogits_t, dW_xh = Σ
   * X_tᵀ dA_t, the biases' as column sums, and W_embed's by token.
   */
  #backward() {
    const { batch_size: B, num_steps: T, num_hiddens: H, vocab_size: V } =
      this.spec;
    const blas = this.#blas, p = this.#p, g = this.#g, I = this.#I;
    const x = this.#x, rows = x.length, L = rows / B, w = L - T;
    const BH = B * H, R = T * B;
    const dA = this.#dA, dO = this.#dO, logits = this.#logits;
    blas.sgemm(false, true, R, H, V, 1, logits, V, p.W_hq!, V, 0, dO, H);
    const relu = this.spec.activation === "relu";
    for (let t = L - 1; t >= 0; t--) {
      const d = dA.subarray(t * BH, (t + 1) * BH);
      if (t === L - 1) d.fill(0);
      else {
        blas.sgemm(
          false,
          true,
          B,
          H,
          H,
          1,
          dA.subarray((t + 1) * BH, (t + 2) * BH),
          H,
          p.W_hh!,
          H,
          0,
          d,
          H,
        );
      }
      const h = this.#state(t + 1);
      const o = t >= w ? dO.subarray((t - w) * BH, (t - w + 1) * BH) : null;
      for (let i = 0; i < BH; i++) {
        const dh = o ? d[i] + o[i] : d[i];
        d[i] = relu ? (h[i] > 0 ? dh : 0) : dh * (1 - h[i] * h[i]);
      }
    }
    const Hs = this.#Hs;
    blas.sgemm(true, false, H, H, rows, 1, Hs, H, dA, H, 0, g.W_hh!, H);
    blas.sgemm(
      true,
      false,
      H,
      V,
      R,
      1,
      Hs.subarray((w + 1) * BH),
      H,
      logits,
      V,
      0,
      g.W_hq!,
      V,
    );
    // Column sums as products with a row of ones.
    const ones = this.#ones;
    blas.sgemm(false, false, 1, H, rows, 1, ones, rows, dA, H, 0, g.b_h!, H);
    blas.sgemm(false, false, 1, V, R, 1, ones, R, logits, V, 0, g.b_q!, V);
    blas.sgemm(true, false, I, H, rows, 1, this.#X, I, dA, H, 0, g.W_xh!, H);
    if (this.spec.input === "embedding") {
      // dX = dA W_xhᵀ, and each row's share goes to its token's embedding.
      const dX = this.#dX, dE = g.W_embed!;
      blas.sgemm(false, true, rows, I, H, 1, dA, H, p.W_xh!, H, 0, dX, I);
      dE.fill(0);
      for (let r = 0; r < rows; r++) {
        for (let j = 0, a = x[r] * I, b = r * I; j < I; j++) {
          dE[a + j] += dX[b + j];
        }
      }
    }
  }

  /** ‖g‖², the squared global norm of the gradients. */
  #normSquared(): number {
    const g = this.#grads;
    let sq = 0;
    for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
    return sq;
  }

  /** p ← p − lr · min(1, θ/‖g‖) · g. */
  #update(lr: number, clip: number | "off", norm: number) {
    const scale = clip === "off" ? 1 : Math.min(1, clip / norm);
    const step = lr * scale;
    const params = this.#params, grads = this.#grads;
    for (let i = 0; i < params.length; i++) params[i] -= step * grads[i];
  }

  /** Loss and gradients of one minibatch, without an update (as a group's `gradients`). */
  gradients(
    X: Int32Array,
    Y: Int32Array,
    H0: Float32Array | null,
  ): Promise<Gradients> {
    const { batch_size: B, num_steps: T } = this.spec;
    const H0s = this.#state(0);
    if (H0) H0s.set(H0);
    else H0s.fill(0);
    const loss = this.#forward(timeMajor(X, B, T), timeMajor(Y, B, T));
    this.#backward();
    return Promise.resolve({
      loss,
      grads: this.#unpack(this.#g),
      H: this.#state(T).slice(),
    });
  }

  /** One epoch of SGD (as a group's `trainEpochs`). */
  trainEpoch(
    batches: Iterable<Minibatch>,
    options: EpochOptions,
  ): Promise<EpochStats> {
    const { batch_size: B, num_steps: T } = this.spec;
    const start = performance.now();
    const list = [...batches];
    const replay = replays(this.spec, options, list.length);
    const xs = list.map((b) => timeMajor(b.X, B, T));
    const losses: number[] = [], grad_norms: number[] = [];
    const H0 = this.#state(0);
    list.forEach((batch, i) => {
      if (i === 0 || options.sampling === "random") H0.fill(0);
      else if (!replay) H0.set(this.#state(T)); // carried on, detached
      let x = xs[i];
      if (replay) {
        // Minibatches 0…i, recomputed from the epoch's first state.
        x = new Int32Array((i + 1) * B * T);
        xs.slice(0, i + 1).forEach((xi, k) => x.set(xi, k * B * T));
      }
      losses.push(this.#forward(x, timeMajor(batch.Y, B, T)));
      this.#backward();
      const norm = Math.sqrt(this.#normSquared());
      grad_norms.push(norm);
      this.#update(options.lr, options.clip, norm);
    });
    return Promise.resolve({
      losses,
      grad_norms,
      tokens: list.length * B * T,
      seconds: (performance.now() - start) / 1000,
    });
  }

  /** Mean cross-entropy of `batches` of `batch_size` rows, forward only, each from the last one's state (`carry`) or zeros. */
  evaluate(batches: Iterable<Minibatch>, carry: boolean): Promise<number> {
    const { batch_size: B, num_steps: T } = this.spec;
    const H0 = this.#state(0);
    let sum = 0, n = 0;
    for (const batch of batches) {
      if (n === 0 || !carry) H0.fill(0);
      else H0.set(this.#state(T));
      sum += this.#forward(timeMajor(batch.X, B, T), timeMajor(batch.Y, B, T));
      n++;
    }
    return Promise.resolve(n ? sum / n : NaN);
  }

  /** Current parameter values. */
  values(): Promise<ParamValues> {
    return Promise.resolve(this.#unpack(this.#p));
  }

  #unpack(from: Partial<Record<Name, Float32Array>>): ParamValues {
    const out: ParamValues = {};
    for (const name of Object.keys(from) as Name[]) {
      out[name] = { shape: this.#shapes[name]!, values: from[name]!.slice() };
    }
    return out;
  }

  /** Nothing to free: the arrays are the garbage collector's. */
  destroy(): void {}
}

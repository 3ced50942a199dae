/**
 * The fused engine: the chapter's RNN trained with explicit
 * backpropagation through time in WGSL, on WebGPU. An epoch is one token
 * upload and one command buffer (per minibatch: forward steps, loss,
 * backward steps, weight gradients, loss and norm sums, clipped SGD
 * update), and its losses and gradient norms are read back once, at its
 * end. Every training feature of the reference engine: tanh or ReLU,
 * one-hot or embedded inputs, clipping θ or off, sequential or random
 * sampling, `detach: false`.
 *
 * The kernels are in `kernels.ts`, their tiles in `tiles.ts`, the packed
 * parameters in `layout.ts`, what a minibatch dispatches in `passes.ts`;
 * this module lays out the buffers and decides what an epoch runs.
 *
 * @module
 */
import type { Minibatch } from "../data/iterators.ts";
import type { ParamValues } from "../model/rnn.ts";
import {
  type BpttEngine,
  type BpttSpec,
  type EpochOptions,
  type EpochStats,
  type Gradients,
  replays,
} from "./engine.ts";
import { pad } from "./kernels.ts";
import {
  type Buffers,
  encodeForward,
  encodeGradients,
  encodeMinibatch,
  encodeState,
  kernelsFor,
  type Model,
  type Tokens,
} from "./passes.ts";
import { Gpu, type Resource } from "./gpu.ts";
import { ParamLayout } from "./layout.ts";
import { type KernelTimes, Recorder } from "./recorder.ts";
import { TILES } from "./tiles.ts";
import { UNIFORM_BYTES } from "./wgsl.ts";

export { isSoftware, tilesFor } from "./tiles.ts";

/**
 * Version of the fused engine's arithmetic. Experiment cell ids include it,
 * so stored results are recomputed when it changes.
 */
export const FUSED_VERSION = "fused/3";

/** What the fused engine is built for. */
export interface FusedSpec extends BpttSpec {
  /**
   * Kernel tiles for a CPU adapter (llvmpipe: few 8-lane workgroups) or a
   * GPU (many wide ones). Default: cpu.
   */
  tiles?: "cpu" | "gpu";
}

const UNIFORM = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;

/**
 * One model on one device: parameters, activations and gradients as GPU
 * buffers. Widths are padded to multiples of 32 with zeros. Models on one
 * device share its compiled pipelines, whatever their sizes.
 *
 * @example
 * ```ts
 * const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
 * const net = new FusedRnn(device, spec, get_params(spec, rng));
 * const epoch = await net.trainEpoch(batches, { lr: 1, clip: 1, sampling: "sequential", detach: true });
 * ```
 */
export class FusedRnn implements BpttEngine {
  readonly device: GPUDevice;
  readonly spec: Required<FusedSpec>;
  readonly #m: Model;
  readonly #buffers: GPUBuffer[] = [];
  /** Grown on demand: their sizes depend on the epoch. */
  #stats: GPUBuffer | null = null;
  #tokens: GPUBuffer | null = null;

  constructor(device: GPUDevice, spec: FusedSpec, params: ParamValues) {
    this.device = device;
    this.spec = {
      ...spec,
      max_steps: spec.max_steps ?? spec.num_steps,
      tiles: spec.tiles ?? "cpu",
    };
    const { batch_size: B, num_steps: T } = spec;
    const embedding = spec.input === "embedding";
    const Hp = pad(spec.num_hiddens);
    const Vp = pad(spec.vocab_size);
    const Ep = embedding ? pad(spec.embed_size) : 0;
    const L = this.spec.max_steps;
    const layout = new ParamLayout(spec);
    const n = layout.floats;
    const fits = (floats: number) =>
      floats * 4 <=
        Math.min(UNIFORM_BYTES, device.limits.maxUniformBufferBindingSize) &&
      (floats * 4) % device.limits.minUniformBufferOffsetAlignment === 0;
    const uniformA = fits(B * Hp);
    const uniformD = uniformA && fits(B * Vp);

    // A buffer bound as a uniform slot is read as UNIFORM_BYTES from any
    // slot's start: room past its end.
    const buffer = (floats: number, usage = STORAGE, slack = 0) => {
      const b = device.createBuffer({
        size: Math.max(16, Math.ceil(floats / 4) * 16 + slack),
        usage,
      });
      this.#buffers.push(b);
      return b;
    };
    const slot = STORAGE | GPUBufferUsage.UNIFORM;
    const slack = uniformA ? UNIFORM_BYTES : 0;
    const b: Buffers = {
      params: buffer(n),
      grads: buffer(n),
      hs: buffer((L + 1) * B * Hp, slot, slack),
      carry: buffer(B * Hp),
      W_hh_T: buffer(Hp * Hp),
      W_hq_T: buffer(Vp * Hp),
      da: buffer(L * B * Hp),
      logits: buffer(T * B * Vp, slot, slack),
      zeros: buffer(B * Vp, slot, slack),
      losses: buffer(T * B),
      P: buffer(embedding ? L * B * Hp : 0),
      Ex: buffer(embedding ? L * B * Ep : 0),
      dEx: buffer(embedding ? L * B * Ep : 0),
      hcur: [buffer(B * Hp, slot, slack), buffer(B * Hp, slot, slack)],
      dcur: [buffer(B * Hp, slot, slack), buffer(B * Hp, slot, slack)],
      hyper: buffer(4, UNIFORM),
    };
    this.#m = {
      gpu: Gpu.of(device),
      spec: this.spec,
      layout,
      B,
      T,
      Hp,
      Vp,
      Ep,
      uniformA,
      uniformD,
      k: kernelsFor(
        this.spec,
        TILES[this.spec.tiles],
        { Hp, Vp, Ep, n },
        uniformA,
        uniformD,
      ),
      b,
    };
    device.queue.writeBuffer(b.params, 0, layout.pack(params));
  }

  /**
   * Mean cross-entropy of `batches` (each minibatch's mean over its tokens,
   * averaged) under the current weights, forward only: validation
   * perplexity is its exp, as `evaluate` computes it on tfjs. Each
   * minibatch starts from the last one's state (`carry`, sequential) or
   * from zeros; one command buffer, one read-back.
   *
   * @example
   * ```ts
   * const ppl = Math.exp(await net.evaluate(valBatches, true));
   * ```
   */
  async evaluate(
    batches: Iterable<Minibatch>,
    carry: boolean,
  ): Promise<number> {
    const list = [...batches];
    if (list.length === 0) return NaN;
    this.#growStats(list.length);
    const tokens = this.#upload(list.map((b) => ({ xs: [b.X], Y: b.Y })));
    const rec = new Recorder(this.#m.gpu);
    list.forEach((_, i) => {
      encodeState(rec, this.#m, { fresh: i === 0 || !carry, carry: true });
      encodeForward(rec, this.#m, this.spec.num_steps, tokens[i]);
      // Its norm half sums stale gradients: unused.
      rec.dispatch(this.#m.k.stats, {
        step: this.#m.gpu.step({ t: i }),
        losses: this.#m.b.losses,
        grads: this.#m.b.grads,
        stats: this.#stats!,
      }, [1, 1]);
    });
    rec.submit();
    const stats = await this.#read(this.#stats!, 0, list.length * 2);
    return list.reduce((sum, _, i) => sum + stats[2 * i], 0) / list.length;
  }

  /**
   * Time per kernel of one minibatch of sequential training (no update is
   * kept: the parameters are restored), from GPU timestamps: milliseconds
   * summed over each kernel's dispatches, and their count. Needs the
   * device's "timestamp-query" feature.
   */
  async profile(batch: Minibatch): Promise<KernelTimes> {
    const saved = await this.#read(this.#m.b.params);
    const [tok] = this.#upload([{ xs: [batch.X], Y: batch.Y }]);
    this.#growStats(1);
    const rec = new Recorder(this.#m.gpu, true);
    encodeMinibatch(
      rec,
      this.#m,
      0,
      this.spec.num_steps,
      tok,
      { fresh: true, carry: false },
      this.#stats!,
    );
    const times = await rec.resolve();
    this.device.queue.writeBuffer(
      this.#m.b.params,
      0,
      saved as Float32Array<ArrayBuffer>,
    );
    return times;
  }

  /** Room for `minibatches` slots of (loss, ‖g‖²) in `stats`. */
  #growStats(minibatches: number) {
    this.#stats = this.#grow(this.#stats, minibatches * 8);
  }

  /** `old` when it holds `bytes`, else a new storage buffer that does. */
  #grow(old: GPUBuffer | null, bytes: number): GPUBuffer {
    if (old && old.size >= bytes) return old;
    if (old) {
      this.#m.gpu.forget(old);
      old.destroy();
    }
    return this.device.createBuffer({
      size: Math.max(16, Math.ceil(bytes / 16) * 16),
      usage: STORAGE,
    });
  }

  /**
   * Loss and gradients of one minibatch, without an update: X and Y are
   * (batch, num_steps) token rows as the iterators give them; H0 the initial
   * state (zeros when null).
   */
  async gradients(
    X: Int32Array,
    Y: Int32Array,
    H0: Float32Array | null,
  ): Promise<Gradients> {
    const B = this.spec.batch_size,
      T = this.spec.num_steps,
      Hp = this.#m.Hp,
      H = this.spec.num_hiddens;
    const [tok] = this.#upload([{ xs: [X], Y }]);
    const state = new Float32Array(B * Hp);
    if (H0) {
      for (let b = 0; b < B; b++) {
        state.set(H0.subarray(b * H, (b + 1) * H), b * Hp);
      }
    }
    this.device.queue.writeBuffer(this.#m.b.hs, 0, state);
    const rec = new Recorder(this.#m.gpu);
    encodeGradients(rec, this.#m, T, tok);
    rec.submit();
    const losses = await this.#read(this.#m.b.losses, 0, T * B);
    const last = await this.#read(this.#m.b.hs, T * B * Hp, B * Hp);
    const Hn = new Float32Array(B * H);
    for (let b = 0; b < B; b++) {
      Hn.set(last.subarray(b * Hp, b * Hp + H), b * H);
    }
    return {
      loss: losses.reduce((a, l) => a + l, 0) / losses.length,
      grads: this.#m.layout.unpack(
        await this.#read(this.#m.b.grads, 0, this.#m.layout.floats),
      ),
      H: Hn,
    };
  }

  /**
   * One epoch of SGD as d2l's `train_epoch_ch8` and the reference engine's
   * `train_epoch`: the state starts from zeros (before every minibatch with
   * random sampling) and is carried on, detached, otherwise; with `detach:
   * false` minibatch i is recomputed and differentiated from the epoch's
   * start through all i + 1 minibatches. Gradients are clipped to global
   * norm θ ("off": not at all). Losses and norms are read back once, at the
   * end.
   */
  async trainEpoch(
    batches: Iterable<Minibatch>,
    options: EpochOptions,
  ): Promise<EpochStats> {
    const B = this.spec.batch_size, T = this.spec.num_steps;
    const start = performance.now();
    const theta = options.clip === "off" ? 3.4e38 : options.clip;
    this.device.queue.writeBuffer(
      this.#m.b.hyper,
      0,
      new Float32Array([options.lr, theta, 0, 0]),
    );
    const list = [...batches];
    const replay = replays(this.spec, options, list.length);
    this.#growStats(list.length);
    // The whole epoch is one upload and one command buffer.
    const tokens = this.#upload(list.map((batch, i) => ({
      xs: replay ? list.slice(0, i + 1).map((b) => b.X) : [batch.X],
      Y: batch.Y,
    })));
    const rec = new Recorder(this.#m.gpu);
    list.forEach((_, i) => {
      const L = replay ? (i + 1) * T : T;
      encodeMinibatch(rec, this.#m, i, L, tokens[i], {
        fresh: i === 0 || options.sampling === "random",
        carry: !replay,
      }, this.#stats!);
    });
    rec.submit();
    const stats = await this.#read(this.#stats!, 0, list.length * 2);
    return {
      losses: list.map((_, i) => stats[2 * i]),
      grad_norms: list.map((_, i) => Math.sqrt(stats[2 * i + 1])),
      tokens: list.length * B * T,
      seconds: (performance.now() - start) / 1000,
    };
  }

  /** Current parameter values, read back (prediction runs on them). */
  async values(): Promise<ParamValues> {
    return this.#m.layout.unpack(
      await this.#read(this.#m.b.params, 0, this.#m.layout.floats),
    );
  }

  /**
   * Uploads the tokens of several minibatches at once, each a sequence of
   * minibatches (`xs`, all L steps its backward pass reaches) and the last
   * one's targets Y, into one buffer: per sequence x in time-major order, y,
   * the rows grouped by token for the scatter kernel (`order`, `start`).
   * Returns where each sequence's arrays lie.
   */
  #upload(seqs: { xs: Int32Array[]; Y: Int32Array }[]): Tokens[] {
    const B = this.spec.batch_size, T = this.spec.num_steps;
    const V = this.spec.vocab_size;
    const align = (n: number) => Math.ceil(n / 64) * 64; // 256-byte offsets
    const sizes = seqs.map(({ xs }) => {
      const rows = xs.length * T * B;
      return [rows, T * B, rows, V + 1].map(align);
    });
    const total = sizes.flat().reduce((a, b) => a + b, 0);
    const buffer = this.#tokens = this.#grow(this.#tokens, total * 4);
    const data = new Uint32Array(total);
    const range = (at: number, n: number): Resource => ({
      buffer,
      offset: at * 4,
      size: n * 4,
    });
    let at = 0;
    const out = seqs.map(({ xs, Y }, k) => {
      const L = xs.length * T;
      const [xAt, yAt, orderAt, startAt] = sizes[k].map((n) => (at += n) - n);
      const x = data.subarray(xAt, xAt + L * B);
      xs.forEach((X, i) => {
        for (let b = 0; b < B; b++) {
          for (let t = 0; t < T; t++) x[(i * T + t) * B + b] = X[b * T + t];
        }
      });
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) data[yAt + t * B + b] = Y[b * T + t];
      }
      // Counting sort of rows by token: dW_xh[v] sums token v's rows only.
      const start = data.subarray(startAt, startAt + V + 1);
      for (const v of x) start[v + 1]++;
      for (let v = 0; v < V; v++) start[v + 1] += start[v];
      const next = start.slice(0, V);
      x.forEach((v, r) => data[orderAt + next[v]++] = r);
      return {
        x: range(xAt, L * B),
        y: range(yAt, T * B),
        order: range(orderAt, L * B),
        start: range(startAt, V + 1),
      };
    });
    this.device.queue.writeBuffer(buffer, 0, data);
    return out;
  }

  /** Reads `floats` floats of a buffer from float `offset`; throws the device's first error, if any. */
  async #read(
    source: GPUBuffer,
    offset = 0,
    floats = source.size / 4 - offset,
  ): Promise<Float32Array> {
    const staging = this.device.createBuffer({
      size: floats * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(source, offset * 4, staging, 0, floats * 4);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    if (this.#m.gpu.error) throw new Error(`WebGPU: ${this.#m.gpu.error}`);
    return out;
  }

  /** Frees the buffers (the device and its pipelines stay). */
  destroy(): void {
    for (const b of [...this.#buffers, this.#stats, this.#tokens]) {
      if (!b) continue;
      this.#m.gpu.forget(b);
      b.destroy();
    }
  }
}

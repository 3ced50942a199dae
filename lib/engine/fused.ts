/**
 * The fused engine (work in progress, issue 4): the chapter's RNN trained
 * with explicit backpropagation through time in WGSL, on a WebGPU device of
 * its own. Pipelines and bind groups are made once; each minibatch is one
 * command buffer (forward steps, loss, backward steps, weight gradients,
 * loss and norm sums, clipped SGD update); nothing is read back until the
 * epoch ends. One-hot inputs, tanh or ReLU, clipping θ or off, sequential
 * or random sampling, state detached between minibatches.
 *
 * @module
 */
import type { Minibatch, Sampling } from "../data/iterators.ts";
import type { ParamValues } from "../model/rnn.ts";
import {
  biasGrad,
  blockedThreads,
  type Dims,
  gradOuter,
  gradWxh,
  minibatchStats,
  outputLoss,
  sgdUpdate,
  stepBackward,
  stepForward,
  transpose,
  WORKGROUP,
} from "./kernels.ts";

/** Version of the fused engine's arithmetic (work in progress). */
export const FUSED_VERSION = "fused/0-wip";

const PARAMS = ["W_xh", "W_hh", "b_h", "W_hq", "b_q"] as const;
type ParamName = typeof PARAMS[number];

/** Loss and gradients of one minibatch, read back. */
export interface Gradients {
  /** Mean cross-entropy over the minibatch. */
  loss: number;
  grads: Record<ParamName, Float32Array>;
  /** The last state, (batch, num_hiddens). */
  H: Float32Array;
}

/** What one epoch measured, read back once at its end. */
export interface FusedEpoch {
  /** Mean loss of each minibatch. */
  losses: number[];
  /** Global gradient norm of each minibatch, before clipping. */
  grad_norms: number[];
  tokens: number;
  seconds: number;
}

const UNIFORM = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;

/**
 * One model on one device: parameters, activations and gradients as GPU
 * buffers.
 *
 * @example
 * ```ts
 * const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
 * const net = new FusedRnn(device, { B: 32, T: 35, H: 512, V: 28 }, "tanh", get_params(spec, rng));
 * const epoch = await net.trainEpoch(batches, { lr: 1, clip: 1, sampling: "sequential" });
 * ```
 */
export class FusedRnn {
  readonly device: GPUDevice;
  readonly dims: Dims;
  readonly #buffers: Record<string, GPUBuffer> = {};
  readonly #pipelines: Record<string, GPUComputePipeline> = {};
  readonly #groups: Record<string, GPUBindGroup> = {};
  readonly #forward: GPUBindGroup[] = [];
  readonly #backward: GPUBindGroup[] = [];
  /** Per minibatch slot of an epoch: where its loss and norm go, and its updates. */
  readonly #slots: { stats: GPUBindGroup; updates: GPUBindGroup[] }[] = [];
  readonly #sizes: Record<ParamName, number>;
  readonly #weightGrads: Record<ParamName, [string, string[], number]>;

  constructor(
    device: GPUDevice,
    dims: Dims,
    kind: "tanh" | "relu",
    params: ParamValues,
  ) {
    this.device = device;
    this.dims = dims;
    const { B, T, H, V } = dims;
    this.#sizes = { W_xh: V * H, W_hh: H * H, b_h: H, W_hq: H * V, b_q: V };
    const buffer = (name: string, floats: number, usage = STORAGE) =>
      this.#buffers[name] = device.createBuffer({
        label: name,
        size: Math.max(4, floats * 4),
        usage,
      });
    for (const name of PARAMS) {
      buffer(name, this.#sizes[name]);
      device.queue.writeBuffer(
        this.#buffers[name],
        0,
        params[name].values as Float32Array<ArrayBuffer>,
      );
      buffer(`d${name}`, this.#sizes[name]);
    }
    buffer("x", T * B);
    buffer("y", T * B);
    buffer("hs", (T + 1) * B * H); // states of steps 0…T, 0 the initial one
    buffer("carry", B * H);
    buffer("dlogits", T * B * V);
    buffer("losses", T * B);
    buffer("da", T * B * H);
    buffer("W_hh_T", H * H);
    buffer("hyper", 4, UNIFORM); // lr, θ
    const pipeline = (name: string, code: string) =>
      this.#pipelines[name] = device.createComputePipeline({
        label: name,
        layout: "auto",
        compute: {
          module: device.createShaderModule({ label: name, code }),
          entryPoint: "main",
        },
      });
    pipeline("forward", stepForward(dims, kind));
    pipeline("output", outputLoss(dims));
    pipeline("backward", stepBackward(dims, kind));
    // Each weight gradient: its kernel, its inputs, and its thread count.
    this.#weightGrads = {
      W_xh: [gradWxh(dims), ["x", "da"], H],
      W_hh: [gradOuter(dims, "W_hh"), ["hs", "da"], blockedThreads(H, H)],
      b_h: [biasGrad(dims, "b_h"), ["da"], H],
      W_hq: [gradOuter(dims, "W_hq"), ["hs", "dlogits"], blockedThreads(H, V)],
      b_q: [biasGrad(dims, "b_q"), ["dlogits"], V],
    };
    for (const name of PARAMS) pipeline(`d${name}`, this.#weightGrads[name][0]);
    pipeline("transpose", transpose(dims));
    pipeline("stats", minibatchStats(dims));
    pipeline("update", sgdUpdate());
    for (let t = 0; t < T; t++) {
      const step = this.#uniform(t);
      this.#forward.push(
        this.#bind("forward", [step, "x", "W_xh", "W_hh", "b_h", "hs"]),
      );
      this.#backward.push(
        this.#bind("backward", [step, "hs", "dlogits", "W_hq", "W_hh_T", "da"]),
      );
    }
    this.#groups.output = this.#bind("output", [
      "hs",
      "y",
      "W_hq",
      "b_q",
      "dlogits",
      "losses",
    ]);
    for (const name of PARAMS) {
      const [, inputs] = this.#weightGrads[name];
      this.#groups[`d${name}`] = this.#bind(`d${name}`, [
        ...inputs,
        `d${name}`,
      ]);
    }
    this.#groups.transpose = this.#bind("transpose", ["W_hh", "W_hh_T"]);
  }

  #uniform(value: number): GPUBuffer {
    const b = this.device.createBuffer({ size: 16, usage: UNIFORM });
    this.device.queue.writeBuffer(b, 0, new Uint32Array([value, 0, 0, 0]));
    return b;
  }

  #bind(pipeline: string, names: (string | GPUBuffer)[]): GPUBindGroup {
    return this.device.createBindGroup({
      layout: this.#pipelines[pipeline].getBindGroupLayout(0),
      entries: names.map((n, binding) => ({
        binding,
        resource: { buffer: typeof n === "string" ? this.#buffers[n] : n },
      })),
    });
  }

  /** Bind groups of minibatch slot i, made on first use and reused every epoch. */
  #slot(i: number) {
    this.#slots[i] ??= (() => {
      const slot = this.#uniform(i);
      return {
        stats: this.#bind("stats", [
          slot,
          "losses",
          ...PARAMS.map((n) => `d${n}`),
          "stats",
        ]),
        updates: PARAMS.map((n) =>
          this.#bind("update", [slot, "hyper", "stats", `d${n}`, n])
        ),
      };
    })();
    return this.#slots[i];
  }

  /** Uploads a minibatch's tokens in the kernels' time-major order. */
  #upload(X: Int32Array, Y: Int32Array) {
    const { B, T } = this.dims;
    const x = new Uint32Array(T * B), y = new Uint32Array(T * B);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        x[t * B + b] = X[b * T + t];
        y[t * B + b] = Y[b * T + t];
      }
    }
    this.device.queue.writeBuffer(this.#buffers.x, 0, x);
    this.device.queue.writeBuffer(this.#buffers.y, 0, y);
  }

  #dispatch(
    encoder: GPUCommandEncoder,
    pipeline: string,
    group: GPUBindGroup,
    threads: number,
  ) {
    const pass = encoder.beginComputePass();
    pass.setPipeline(this.#pipelines[pipeline]);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(Math.ceil(threads / WORKGROUP));
    pass.end();
  }

  /** Forward, loss and backward through time; leaves the gradients in their buffers. */
  #encodeGradients(encoder: GPUCommandEncoder) {
    const { B, T, H } = this.dims;
    const blocked = blockedThreads(B, H);
    for (let t = 0; t < T; t++) {
      this.#dispatch(encoder, "forward", this.#forward[t], blocked);
    }
    this.#dispatch(encoder, "output", this.#groups.output, T * B);
    this.#dispatch(encoder, "transpose", this.#groups.transpose, H * H);
    for (let t = T - 1; t >= 0; t--) {
      this.#dispatch(encoder, "backward", this.#backward[t], blocked);
    }
    for (const n of PARAMS) {
      this.#dispatch(
        encoder,
        `d${n}`,
        this.#groups[`d${n}`],
        this.#weightGrads[n][2],
      );
    }
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
    const { B, T, H } = this.dims;
    this.#upload(X, Y);
    this.device.queue.writeBuffer(
      this.#buffers.hs,
      0,
      (H0 ?? new Float32Array(B * H)) as Float32Array<ArrayBuffer>,
    );
    const encoder = this.device.createCommandEncoder();
    this.#encodeGradients(encoder);
    this.device.queue.submit([encoder.finish()]);
    const losses = await this.#read("losses");
    const grads = {} as Record<ParamName, Float32Array>;
    for (const n of PARAMS) grads[n] = await this.#read(`d${n}`);
    return {
      loss: losses.reduce((a, l) => a + l, 0) / losses.length,
      grads,
      H: await this.#read("hs", T * B * H, B * H),
    };
  }

  /**
   * One epoch of SGD as d2l's `train_epoch_ch8`: the state starts from zeros
   * (before every minibatch with random sampling) and is carried on,
   * detached, otherwise; gradients are clipped to global norm θ ("off":
   * not at all). Losses and norms are read back once, at the end.
   */
  async trainEpoch(
    batches: Iterable<Minibatch>,
    options: { lr: number; clip: number | "off"; sampling: Sampling },
  ): Promise<FusedEpoch> {
    const { B, T, H } = this.dims;
    const start = performance.now();
    const theta = options.clip === "off" ? 3.4e38 : options.clip;
    this.device.queue.writeBuffer(
      this.#buffers.hyper,
      0,
      new Float32Array([options.lr, theta, 0, 0]),
    );
    const list = [...batches];
    if (!this.#buffers.stats || this.#buffers.stats.size < list.length * 8) {
      this.#buffers.stats?.destroy();
      this.#slots.length = 0;
      this.#buffers.stats = this.device.createBuffer({
        label: "stats",
        size: Math.max(8, list.length * 8),
        usage: STORAGE,
      });
    }
    const state = B * H * 4;
    list.forEach((batch, i) => {
      this.#upload(batch.X, batch.Y);
      const encoder = this.device.createCommandEncoder();
      if (i === 0 || options.sampling === "random") {
        encoder.clearBuffer(this.#buffers.hs, 0, state);
      } else {
        // Carry the last state on; backward stops at step 0 (detached).
        encoder.copyBufferToBuffer(
          this.#buffers.hs,
          T * state,
          this.#buffers.carry,
          0,
          state,
        );
        encoder.copyBufferToBuffer(
          this.#buffers.carry,
          0,
          this.#buffers.hs,
          0,
          state,
        );
      }
      this.#encodeGradients(encoder);
      const slot = this.#slot(i);
      this.#dispatch(encoder, "stats", slot.stats, WORKGROUP);
      slot.updates.forEach((g, k) =>
        this.#dispatch(encoder, "update", g, this.#sizes[PARAMS[k]])
      );
      this.device.queue.submit([encoder.finish()]);
    });
    const stats = await this.#read("stats", 0, list.length * 2);
    return {
      losses: list.map((_, i) => stats[2 * i]),
      grad_norms: list.map((_, i) => Math.sqrt(stats[2 * i + 1])),
      tokens: list.length * B * T,
      seconds: (performance.now() - start) / 1000,
    };
  }

  /** Current parameter values, read back (evaluation and prediction run on tfjs). */
  async values(): Promise<ParamValues> {
    const { H, V } = this.dims;
    const shapes: Record<ParamName, number[]> = {
      W_xh: [V, H],
      W_hh: [H, H],
      b_h: [H],
      W_hq: [H, V],
      b_q: [V],
    };
    const out: ParamValues = {};
    for (const n of PARAMS) {
      out[n] = { shape: shapes[n], values: await this.#read(n) };
    }
    return out;
  }

  async #read(
    name: string,
    offset = 0,
    floats?: number,
  ): Promise<Float32Array> {
    const source = this.#buffers[name];
    const count = floats ?? source.size / 4;
    const staging = this.device.createBuffer({
      size: count * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(source, offset * 4, staging, 0, count * 4);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    return out;
  }

  /** Frees the buffers. */
  destroy(): void {
    for (const b of Object.values(this.#buffers)) b.destroy();
  }
}

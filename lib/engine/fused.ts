/**
 * The fused engine: the chapter's RNN trained with explicit
 * backpropagation through time in WGSL, on a WebGPU device of its own.
 * Pipelines are made once and bind groups on first use; an epoch is one
 * token upload and one command buffer (per minibatch: forward steps, loss,
 * backward steps, weight gradients, loss and norm sums, clipped SGD update),
 * and its losses and gradient norms are read back once, at its end. Every training feature of the reference
 * engine: tanh or ReLU, one-hot or embedded inputs, clipping θ or off,
 * sequential or random sampling, `detach: false`.
 *
 * @module
 */
import type { Minibatch, Sampling } from "../data/iterators.ts";
import type { Activation, InputMode, ParamValues } from "../model/rnn.ts";
import {
  colsum,
  gather,
  LANES,
  minibatchStats,
  outer,
  outerGroups,
  outerSteps,
  pad,
  productGroups,
  type ProductShape,
  productStore,
  scatter,
  sgdUpdate,
  softmaxCE,
  stepBackward,
  stepForward,
  transpose,
  WIDE,
} from "./kernels.ts";

/**
 * Version of the fused engine's arithmetic. Experiment cell ids include it,
 * so stored results are recomputed when it changes.
 */
export const FUSED_VERSION = "fused/3";

/** What the fused engine is built for. */
export interface FusedSpec {
  batch_size: number;
  num_steps: number;
  num_hiddens: number;
  vocab_size: number;
  activation: Activation;
  input: InputMode;
  /** Embedding width, for `input: "embedding"`. */
  embed_size: number;
  /**
   * Most steps one minibatch's backward pass may reach back: num_steps,
   * or num_steps × minibatches per epoch for `detach: false`.
   */
  max_steps?: number;
  /**
   * Kernel tiles for a CPU adapter (llvmpipe: few 8-lane workgroups) or a
   * GPU (many wide ones). Default: cpu.
   */
  tiles?: "cpu" | "gpu";
}

/** Loss and gradients of one minibatch, read back. */
export interface Gradients {
  /** Mean cross-entropy over the minibatch. */
  loss: number;
  grads: ParamValues;
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

/** Options of one epoch, as the reference engine's `train_epoch` takes them. */
export interface FusedEpochOptions {
  lr: number;
  clip: number | "off";
  sampling: Sampling;
  detach: boolean;
}

/** A bind group entry: a buffer name, a `buf:region`, a float range, or a buffer. */
type Entry = string | GPUBuffer | [string, number, number];

/** The kernels that read A from per-step uniform slices (`FusedRnn#slices`). */
type SlicedKernel = "dW_hh" | "dW_hq" | "logits";

/** Where one minibatch's token arrays lie in the `tokens` buffer. */
interface Tokens {
  x: [string, number, number];
  y: [string, number, number];
  order: [string, number, number];
  start: [string, number, number];
}

/**
 * Encodes one command buffer: dispatches share a compute pass until a copy
 * or clear ends it. With a device (profiling), every dispatch gets a pass of
 * its own with GPU timestamps at its start and end.
 */
class Recorder {
  readonly #encoder: GPUCommandEncoder;
  #pass: GPUComputePassEncoder | null = null;
  readonly #query: GPUQuerySet | null;
  readonly #names: string[] = [];

  constructor(encoder: GPUCommandEncoder, profileOn?: GPUDevice) {
    this.#encoder = encoder;
    this.#query =
      profileOn?.createQuerySet({ type: "timestamp", count: 4096 }) ??
        null;
  }

  /** The pass to record `name`'s dispatch into. */
  pass(name: string): GPUComputePassEncoder {
    if (this.#query) {
      const i = this.#names.push(name) - 1;
      return this.#pass = this.#encoder.beginComputePass({
        timestampWrites: {
          querySet: this.#query,
          beginningOfPassWriteIndex: 2 * i,
          endOfPassWriteIndex: 2 * i + 1,
        },
      });
    }
    return this.#pass ??= this.#encoder.beginComputePass();
  }

  /** After a dispatch: profiling closes its pass. */
  done() {
    if (this.#query) this.#end();
  }

  #end() {
    this.#pass?.end();
    this.#pass = null;
  }

  copy(
    src: GPUBuffer,
    srcOffset: number,
    dst: GPUBuffer,
    dstOffset: number,
    bytes: number,
  ) {
    this.#end();
    this.#encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  clear(buffer: GPUBuffer, offset: number, bytes: number) {
    this.#end();
    this.#encoder.clearBuffer(buffer, offset, bytes);
  }

  finish(): GPUCommandBuffer {
    this.#end();
    return this.#encoder.finish();
  }

  /** Submits, then sums the timestamps per pipeline name (milliseconds). */
  async resolve(
    device: GPUDevice,
  ): Promise<Record<string, { ms: number; dispatches: number }>> {
    const n = this.#names.length * 2;
    const resolved = device.createBuffer({
      size: n * 8,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const staging = device.createBuffer({
      size: n * 8,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.#end();
    this.#encoder.resolveQuerySet(this.#query!, 0, n, resolved, 0);
    this.#encoder.copyBufferToBuffer(resolved, 0, staging, 0, n * 8);
    device.queue.submit([this.#encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const ns = new BigUint64Array(staging.getMappedRange().slice(0));
    staging.unmap();
    const out: Record<string, { ms: number; dispatches: number }> = {};
    this.#names.forEach((name, i) => {
      const o = out[name] ??= { ms: 0, dispatches: 0 };
      o.ms += Number(ns[2 * i + 1] - ns[2 * i]) / 1e6;
      o.dispatches++;
    });
    for (const b of [resolved, staging]) b.destroy();
    this.#query!.destroy();
    return out;
  }
}

/**
 * State slots per weight-gradient dispatch: each is a uniform binding, and
 * WebGPU guarantees 12 per stage (one more holds the step).
 */
const STEPS_PER_DISPATCH = 8;

const UNIFORM = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;

/** One parameter's place in the packed parameter (and gradient) buffer. */
interface Region {
  /** First float. */
  offset: number;
  rows: number;
  cols: number;
  /** Padded row length. */
  stride: number;
  /** Padded rows (zeros past `rows`). */
  prows: number;
}

/** Most vec4 columns per lane, up to `max`, that tile N exactly. */
const widestCv = (N: number, max: number) => {
  let cv = max;
  while ((N / 4) % (LANES * cv) !== 0) cv /= 2;
  return cv;
};

/** Most invocations per workgroup, up to 64, whose vec4 columns tile N. */
const widestLanes = (N: number) => {
  let lanes = 64;
  while ((N / 4) % lanes !== 0) lanes /= 2;
  return lanes;
};

/** GPU tile of both weight-gradient kernels. */
const gpuOuter = (K: number, N: number) => ({
  K,
  N,
  rb: 4,
  cv: 1,
  lanes: widestLanes(N),
});

/**
 * Tiles per kind of adapter. On a CPU (llvmpipe): 8 lanes, each with many
 * accumulators, few workgroups; for a 32×512·512×512 step, all rows in one
 * workgroup and 4 vec4 columns per lane measured fastest (1.3 ms, against
 * 2.9 ms for 16 rows × 2; docs/performance.md). On a GPU: wide workgroups
 * and small tiles, for many threads.
 */
const TILES = {
  cpu: {
    step: (B: number, N: number) => ({
      rb: Math.min(B, 32),
      cv: widestCv(N, 4),
    }),
    wide: (N: number) => ({ rb: 8, cv: widestCv(N, 2) }),
    outer: (K: number, N: number) => ({ K, N, rb: 32, cv: widestCv(N, 4) }),
    // From uniform state slots: 64 rows × 4 vec4 ran at 9–15 GFLOP/s where
    // 32 × 4 ran at 8–10 (dW_hh, eight steps per dispatch).
    outerSteps: (K: number, N: number) => ({
      K,
      N,
      rb: K % 64 === 0 ? 64 : 32,
      cv: widestCv(N, 4),
    }),
  },
  gpu: {
    step: (_B: number, N: number) => ({
      rb: 2,
      cv: 1,
      lanes: widestLanes(N),
    }),
    wide: (N: number) => ({ rb: 4, cv: 1, lanes: widestLanes(N) }),
    outer: gpuOuter,
    outerSteps: gpuOuter,
  },
};

/**
 * The tiles for an adapter: "cpu" for a software adapter (llvmpipe runs
 * workgroups as CPU threads), "gpu" otherwise.
 */
export function tilesFor(adapter: GPUAdapter): "cpu" | "gpu" {
  const { isFallbackAdapter, description } = adapter.info;
  return isFallbackAdapter ||
      /llvmpipe|lavapipe|swiftshader/i.test(description)
    ? "cpu"
    : "gpu";
}

/**
 * One model on one device: parameters, activations and gradients as GPU
 * buffers. Widths are padded to multiples of 32 with zeros.
 *
 * @example
 * ```ts
 * const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
 * const net = new FusedRnn(device, spec, get_params(spec, rng));
 * const epoch = await net.trainEpoch(batches, { lr: 1, clip: 1, sampling: "sequential", detach: true });
 * ```
 */
export class FusedRnn {
  readonly device: GPUDevice;
  readonly spec: Required<FusedSpec>;
  readonly #B: number;
  readonly #T: number;
  readonly #Hp: number;
  readonly #Vp: number;
  readonly #Ep: number;
  readonly #regions: Record<string, Region> = {};
  readonly #tiles: typeof TILES.cpu;
  /** Floats in the packed parameter buffer (a multiple of 4). */
  readonly #n: number;
  /** The step products read their A operand from a uniform buffer (faster on llvmpipe) when it fits. */
  readonly #uniformA: boolean;
  /** One step's dlogits fit a uniform binding too (and start 256-byte aligned): the backward step reads them so. */
  readonly #uniformD: boolean;
  readonly #buffers: Record<string, GPUBuffer> = {};
  readonly #pipelines: Record<string, GPUComputePipeline> = {};
  readonly #groups = new Map<string, GPUBindGroup>();
  readonly #steps = new Map<string, GPUBuffer>();
  readonly #groupsOf: Record<string, [number, number]> = {};
  #error: string | undefined;

  constructor(device: GPUDevice, spec: FusedSpec, params: ParamValues) {
    this.device = device;
    // A validation or out-of-memory error would otherwise pass silently.
    device.addEventListener("uncapturederror", (e) => {
      this.#error ??= (e as GPUUncapturedErrorEvent).error.message;
    });
    this.spec = {
      ...spec,
      max_steps: spec.max_steps ?? spec.num_steps,
      tiles: spec.tiles ?? "cpu",
    };
    const tiles = this.#tiles = TILES[this.spec.tiles];
    const stepTile = tiles.step, wideTile = tiles.wide;
    const outerTile = tiles.outer;
    const { batch_size: B, num_steps: T, num_hiddens: H, vocab_size: V } = spec;
    const embedding = spec.input === "embedding";
    const E = spec.embed_size;
    this.#B = B;
    this.#T = T;
    const Hp = this.#Hp = pad(H);
    const Vp = this.#Vp = pad(V);
    const Ep = this.#Ep = embedding ? pad(E) : 0;
    const L = this.spec.max_steps;
    // Packed parameters, each region 256-byte aligned for binding offsets.
    let offset = 0;
    const region = (
      name: string,
      rows: number,
      cols: number,
      prows: number,
    ) => {
      const stride = pad(cols);
      this.#regions[name] = { offset, rows, cols, stride, prows };
      offset += Math.ceil((prows * stride) / 64) * 64;
    };
    if (embedding) region("W_embed", V, E, V);
    region("W_xh", embedding ? E : V, H, embedding ? Ep : V);
    region("W_hh", H, H, Hp);
    region("b_h", 1, H, 1);
    region("W_hq", H, V, Hp);
    region("b_q", 1, V, 1);
    this.#n = offset;
    const maxUniform = device.limits.maxUniformBufferBindingSize;
    const fits = (floats: number) =>
      floats * 4 <= maxUniform &&
      (floats * 4) % device.limits.minUniformBufferOffsetAlignment === 0;
    this.#uniformA = fits(B * Hp);
    this.#uniformD = this.#uniformA && fits(B * Vp);

    const buffer = (name: string, floats: number, usage = STORAGE) =>
      this.#buffers[name] = device.createBuffer({
        label: name,
        size: Math.max(16, Math.ceil(floats / 4) * 16),
        usage,
      });
    buffer("params", offset);
    buffer("grads", offset);
    device.queue.writeBuffer(this.#buffers.params, 0, this.#pack(params));
    // States of steps 0…L, 0 the initial one; slots bind as uniform buffers.
    buffer("hs", (L + 1) * B * Hp, STORAGE | GPUBufferUsage.UNIFORM);
    buffer("carry", B * Hp);
    buffer("W_hh_T", Hp * Hp);
    buffer("W_hq_T", Vp * Hp);
    buffer("da", L * B * Hp);
    buffer("logits", T * B * Vp, STORAGE | GPUBufferUsage.UNIFORM);
    // dlogits of the steps before the loss window (`detach: false`).
    buffer("zeros", B * Vp, STORAGE | GPUBufferUsage.UNIFORM);
    buffer("losses", T * B);
    if (embedding) {
      buffer("P", L * B * Hp);
      buffer("Ex", L * B * Ep);
      buffer("dEx", L * B * Ep);
    }
    const current = STORAGE | GPUBufferUsage.UNIFORM;
    for (const name of ["hcur0", "hcur1", "dcur0", "dcur1"]) {
      buffer(name, B * Hp, current);
    }
    buffer("hyper", 4, UNIFORM);

    const pipeline = this.#pipeline.bind(this);
    const a = this.#uniformA ? "uniform" as const : "storage" as const;
    const step = { B, Hp, Vp };
    const tile = { a, ...stepTile(B, Hp) };
    const groups = productGroups({ M: B, K: Hp, N: Hp, layout: "nn", ...tile });
    pipeline(
      "forward",
      stepForward(step, spec.activation, spec.input, tile),
      groups,
    );
    pipeline(
      "backward",
      stepBackward(
        step,
        spec.activation,
        tile,
        this.#uniformD ? "uniform" : "storage",
      ),
      groups,
    );
    pipeline("transpose", transpose(Hp, Hp));
    const wide = (
      name: string,
      s: Omit<ProductShape, "a" | "rb" | "cv">,
      bias = false,
    ) => {
      const shape = { ...s, a: "storage" as const, ...wideTile(s.N) };
      pipeline(name, productStore(shape, bias), productGroups(shape));
    };
    // Else `#slices`: a few steps per dispatch from uniform slices.
    if (!this.#uniformA) {
      wide("logits", { M: T * B, K: Hp, N: Vp, layout: "nn" }, true);
    }
    pipeline("transposeHq", transpose(Hp, Vp));
    pipeline("softmax", softmaxCE(T * B, V, Vp));
    if (!this.#uniformA) {
      // Weight gradients over all rows at once (else `#outerSteps`).
      for (const [name, N] of [["dW_hh", Hp], ["dW_hq", Vp]] as const) {
        pipeline(name, outer(outerTile(Hp, N)), outerGroups(outerTile(Hp, N)));
      }
    }
    pipeline("colsumH", colsum(Hp));
    pipeline("colsumV", colsum(Vp));
    if (embedding) {
      pipeline("gather", gather(Ep));
      wide("P", { M: L * B, K: Ep, N: Hp, layout: "nn" });
      pipeline(
        "dW_xh",
        outer(outerTile(Ep, Hp)),
        outerGroups(outerTile(Ep, Hp)),
      );
      wide("dEx", { M: L * B, K: Hp, N: Ep, layout: "nt" });
      pipeline("scatter", scatter(Ep));
    } else {
      pipeline("scatter", scatter(Hp));
    }
    pipeline("stats", minibatchStats(T * B, offset / 4));
    pipeline("update", sgdUpdate(offset / 4));
  }

  /** Parameters in the packed, padded layout. */
  #pack(params: ParamValues): Float32Array<ArrayBuffer> {
    const out = new Float32Array(this.#n);
    for (const [name, r] of Object.entries(this.#regions)) {
      const src = params[name].values;
      for (let i = 0; i < r.rows; i++) {
        out.set(
          src.subarray(i * r.cols, (i + 1) * r.cols),
          r.offset + i * r.stride,
        );
      }
    }
    return out;
  }

  /** The packed layout back to d2l shapes. */
  #unpack(packed: Float32Array): ParamValues {
    const out: ParamValues = {};
    for (const [name, r] of Object.entries(this.#regions)) {
      const values = new Float32Array(r.rows * r.cols);
      for (let i = 0; i < r.rows; i++) {
        values.set(
          packed.subarray(
            r.offset + i * r.stride,
            r.offset + i * r.stride + r.cols,
          ),
          i * r.cols,
        );
      }
      const vector = name.startsWith("b_");
      out[name] = { shape: vector ? [r.cols] : [r.rows, r.cols], values };
    }
    return out;
  }

  /**
   * The pipeline of kernel `name` over n steps, each step's slice of A
   * bound as a uniform buffer (made on first use): the weight gradients
   * `dW_hh` and `dW_hq`, and the `logits`.
   */
  #slices(name: SlicedKernel, n: number): string {
    const key = `${name}:${n}`;
    if (this.#pipelines[key]) return key;
    const B = this.#B, Hp = this.#Hp, Vp = this.#Vp;
    if (name === "dW_hh" || name === "dW_hq") {
      const N = name === "dW_hh" ? Hp : Vp;
      const shape = { ...this.#tiles.outerSteps(Hp, N), rows: B, steps: n };
      this.#pipeline(key, outerSteps(shape), outerGroups(shape));
    } else {
      const shape = {
        M: B,
        K: Hp,
        N: Vp,
        layout: "nn" as const,
        a: "uniform" as const,
        ...this.#tiles.step(B, Vp),
      };
      const [x, y] = productGroups(shape);
      this.#pipeline(key, productStore(shape, true, n), [x, n * y]);
    }
    return key;
  }

  /** Compiles `code` as pipeline `name`, dispatched as `groups` by default. */
  #pipeline(name: string, code: string, groups?: [number, number]) {
    this.#pipelines[name] = this.device.createComputePipeline({
      label: name,
      layout: "auto",
      compute: {
        module: this.device.createShaderModule({ label: name, code }),
        entryPoint: "main",
      },
    });
    if (groups) this.#groupsOf[name] = groups;
  }

  /** A uniform buffer holding (t, a, o, n), made once per distinct value. */
  #step(t: number, a = 0, o = 0, n = 0): GPUBuffer {
    const key = `${t},${a},${o},${n}`;
    let b = this.#steps.get(key);
    if (!b) {
      b = this.device.createBuffer({ size: 16, usage: UNIFORM });
      this.device.queue.writeBuffer(b, 0, new Uint32Array([t, a, o, n]));
      this.#steps.set(key, b);
    }
    return b;
  }

  /**
   * A bind group, made on first use: entries are buffer names, parameter
   * regions (`"params:W_hh"`, `"grads:W_hh"`), `[name, firstFloat, floats]`
   * ranges, or buffers.
   */
  #bind(pipeline: string, entries: Entry[]): GPUBindGroup {
    const key = pipeline + "|" +
      entries.map((e) =>
        e instanceof GPUBuffer
          ? this.#idOf(e)
          : Array.isArray(e)
          ? e.join(":")
          : e
      ).join("|");
    let group = this.#groups.get(key);
    if (group) return group;
    const resource = (e: Entry) => {
      if (e instanceof GPUBuffer) return { buffer: e };
      if (Array.isArray(e)) {
        return {
          buffer: this.#buffers[e[0]],
          offset: e[1] * 4,
          size: e[2] * 4,
        };
      }
      const [buf, name] = e.split(":");
      if (!name) return { buffer: this.#buffers[buf] };
      const r = this.#regions[name];
      return {
        buffer: this.#buffers[buf],
        offset: r.offset * 4,
        size: r.prows * r.stride * 4,
      };
    };
    group = this.device.createBindGroup({
      layout: this.#pipelines[pipeline].getBindGroupLayout(0),
      entries: entries.map((e, binding) => ({
        binding,
        resource: resource(e),
      })),
    });
    this.#groups.set(key, group);
    return group;
  }

  readonly #ids = new Map<GPUBuffer, number>();
  #idOf(b: GPUBuffer): string {
    if (!this.#ids.has(b)) this.#ids.set(b, this.#ids.size + 1);
    return `#${this.#ids.get(b)}`;
  }

  /**
   * Records `pipeline` with the bind group of `entries` (see `#bind`) into
   * the recorder's current pass; `groups` defaults to the pipeline's own.
   */
  #dispatch(
    rec: Recorder,
    pipeline: string,
    entries: Entry[],
    groups: [number, number] = this.#groupsOf[pipeline],
  ) {
    const pass = rec.pass(pipeline);
    pass.setPipeline(this.#pipelines[pipeline]);
    pass.setBindGroup(0, this.#bind(pipeline, entries));
    pass.dispatchWorkgroups(groups[0], groups[1]);
    rec.done();
  }

  /**
   * Uploads the tokens of several minibatches at once, each a sequence of
   * minibatches (`xs`, all L steps its backward pass reaches) and the last
   * one's targets Y, into one buffer: per sequence x in time-major order, y,
   * the rows grouped by token for the scatter kernels (`order`, `start`).
   * Returns where each sequence's arrays lie, for bind-group ranges.
   */
  #upload(seqs: { xs: Int32Array[]; Y: Int32Array }[]): Tokens[] {
    const B = this.#B, T = this.#T;
    const V = this.spec.vocab_size;
    const align = (n: number) => Math.ceil(n / 64) * 64; // 256-byte offsets
    const sizes = seqs.map(({ xs }) => {
      const rows = xs.length * T * B;
      return [rows, T * B, rows, V + 1].map(align);
    });
    const total = sizes.flat().reduce((a, b) => a + b, 0);
    this.#ensure("tokens", total * 4);
    const data = new Uint32Array(total);
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
        x: ["tokens", xAt, L * B],
        y: ["tokens", yAt, T * B],
        order: ["tokens", orderAt, L * B],
        start: ["tokens", startAt, V + 1],
      } satisfies Tokens;
    });
    this.device.queue.writeBuffer(this.#buffers.tokens, 0, data);
    return out;
  }

  /**
   * Slices of `buffer`, `size` floats each, for steps first…last − 1 (slice
   * 0 at float `at`), STEPS_PER_DISPATCH steps per dispatch of `kernel`.
   */
  #bySlices(
    rec: Recorder,
    kernel: SlicedKernel,
    first: number,
    last: number,
    buffer: string,
    at: number,
    size: number,
    entries: (t: number, slices: Entry[]) => Entry[],
  ) {
    for (let t = first; t < last; t += STEPS_PER_DISPATCH) {
      const n = Math.min(STEPS_PER_DISPATCH, last - t);
      const slices = Array.from(
        { length: n },
        (_, s): Entry => [buffer, at + (t - first + s) * size, size],
      );
      this.#dispatch(rec, this.#slices(kernel, n), entries(t, slices));
    }
  }

  /**
   * `kernel` over the loss window's states H_w…H_{L−1} (slots w + 1…L) as
   * uniform slices, its rows counted from the window's start; `rest` are
   * the bindings after the slices.
   */
  #overWindow(
    rec: Recorder,
    kernel: SlicedKernel,
    w: number,
    L: number,
    rest: Entry[],
  ) {
    const floats = this.#B * this.#Hp;
    this.#bySlices(
      rec,
      kernel,
      w,
      L,
      "hs",
      (w + 1) * floats,
      floats,
      (t, A) => [
        this.#step(0, 0, (t - w) * this.#B),
        ...A,
        ...rest,
      ],
    );
  }

  /**
   * Forward over L steps from state slot 0, and the loss (per row, in
   * `losses`) of the last num_steps; their logits become dlogits.
   */
  #encodeForward(rec: Recorder, L: number, tok: Tokens) {
    const B = this.#B, T = this.#T, Hp = this.#Hp;
    const HV = Hp / 4;
    const slot = B * Hp * 4; // bytes per state slot
    const w = L - T; // first step of the loss window
    const embedding = this.spec.input === "embedding";
    const rows = L * B;
    const b = this.#buffers;
    if (embedding) {
      // Embedded inputs: their projection P for all steps at once.
      this.#dispatch(rec, "gather", [
        this.#step(0, 0, 0, rows),
        tok.x,
        "params:W_embed",
        "Ex",
      ], [this.#Ep / 4 / LANES, Math.ceil(rows / 8)]);
      this.#dispatch(rec, "P", [this.#step(0), "Ex", "params:W_xh", "P"], [
        this.#groupsOf.P[0],
        Math.ceil(rows / this.#tiles.wide(Hp).rb),
      ]);
    }
    // Each step reads its input state from a buffer of its own (a writable
    // buffer cannot also be read through another binding, and on llvmpipe a
    // uniform buffer's loads are one address for all lanes) and writes the
    // next step's into the other of two.
    rec.copy(b.hs, 0, b.hcur0, 0, slot);
    for (let t = 0; t < L; t++) {
      this.#dispatch(rec, "forward", [
        this.#step(t),
        `hcur${t % 2}`,
        "params:W_hh",
        ...(embedding ? ["P"] : [tok.x, "params:W_xh"]),
        "params:b_h",
        "hs",
        `hcur${(t + 1) % 2}`,
      ]);
    }
    if (this.#uniformA) {
      this.#overWindow(rec, "logits", w, L, [
        "params:W_hq",
        "logits",
        "params:b_q",
      ]);
    } else {
      this.#dispatch(rec, "logits", [
        this.#step(0, (w + 1) * B * HV),
        "hs",
        "params:W_hq",
        "logits",
        "params:b_q",
      ]);
    }
    this.#dispatch(rec, "softmax", [tok.y, "logits", "losses"], [
      Math.ceil(T * B / WIDE),
      1,
    ]);
  }

  /**
   * Forward over L steps from state slot 0 and the loss on the last
   * num_steps, then backward through all L steps; leaves the gradients in
   * `grads`.
   */
  #encodeGradients(rec: Recorder, L: number, tok: Tokens) {
    this.#encodeForward(rec, L, tok);
    const B = this.#B, T = this.#T, Hp = this.#Hp, Vp = this.#Vp;
    const HV = Hp / 4;
    const slot = B * Hp * 4; // bytes per state slot
    const floats = B * Hp;
    const w = L - T; // first step of the loss window
    const embedding = this.spec.input === "embedding";
    const V = this.spec.vocab_size;
    const rows = L * B;
    const b = this.#buffers;
    rec.clear(b[`dcur${(L - 1) % 2}`], 0, slot); // dA after the last step
    this.#dispatch(rec, "transpose", ["params:W_hh", "W_hh_T"], [
      Math.ceil(Hp * Hp / 16 / WIDE),
      1,
    ]);
    this.#dispatch(rec, "transposeHq", ["params:W_hq", "W_hq_T"], [
      Math.ceil(Hp * Vp / 16 / WIDE),
      1,
    ]);
    for (let t = L - 1; t >= 0; t--) {
      // The output layer's share: dlogits_t, zeros before the window.
      const dlogits: Entry = this.#uniformD
        ? (t < w ? "zeros" : ["logits", (t - w) * B * Vp, B * Vp])
        : (t < w ? "zeros" : "logits");
      const at = this.#uniformD || t < w ? 0 : (t - w) * B * Vp / 4;
      this.#dispatch(rec, "backward", [
        this.#step(t, 0, at),
        `dcur${t % 2}`,
        "W_hh_T",
        "W_hq_T",
        dlogits,
        "hs",
        "da",
        `dcur${(t + 1) % 2}`,
      ]);
    }
    // Weight gradients: sums over all rows, a few steps per dispatch when
    // state slots fit uniform buffers.
    if (this.#uniformA) {
      for (const name of ["W_hh", "W_hq"]) {
        const r = this.#regions[name];
        rec.clear(b.grads, r.offset * 4, r.prows * r.stride * 4);
      }
      this.#bySlices(rec, "dW_hh", 0, L, "hs", 0, floats, (t, A) => [
        this.#step(0, 0, t * B),
        ...A,
        "da",
        "grads:W_hh",
      ]);
      this.#overWindow(rec, "dW_hq", w, L, ["logits", "grads:W_hq"]);
    } else {
      this.#dispatch(rec, "dW_hh", [
        this.#step(0, 0, 0, rows),
        "hs",
        "da",
        "grads:W_hh",
      ]);
      this.#dispatch(rec, "dW_hq", [
        this.#step(0, (w + 1) * B * HV, 0, T * B),
        "hs",
        "logits",
        "grads:W_hq",
      ]);
    }
    this.#dispatch(rec, "colsumH", [
      this.#step(0, 0, 0, rows),
      "da",
      "grads:b_h",
    ], [HV / LANES, 1]);
    this.#dispatch(rec, "colsumV", [
      this.#step(0, 0, 0, T * B),
      "logits",
      "grads:b_q",
    ], [Vp / 4 / LANES, 1]);
    if (embedding) {
      this.#dispatch(rec, "dW_xh", [
        this.#step(0, 0, 0, rows),
        "Ex",
        "da",
        "grads:W_xh",
      ]);
      this.#dispatch(rec, "dEx", [this.#step(0), "da", "params:W_xh", "dEx"], [
        this.#groupsOf.dEx[0],
        Math.ceil(rows / this.#tiles.wide(this.#Ep).rb),
      ]);
      this.#dispatch(rec, "scatter", [
        tok.order,
        tok.start,
        "dEx",
        "grads:W_embed",
      ], [this.#Ep / 4 / LANES, V]);
    } else {
      this.#dispatch(rec, "scatter", [
        tok.order,
        tok.start,
        "da",
        "grads:W_xh",
      ], [HV / LANES, V]);
    }
  }

  /**
   * Minibatch `i` of an epoch: its initial state (zeros when `fresh`, else
   * the last one carried on when `carry`, else slot 0 kept: `detach: false`
   * restarts from the epoch's first state), gradients over L steps, loss and
   * norm into slot i of `stats`, and the clipped SGD update.
   */
  #encodeMinibatch(
    rec: Recorder,
    i: number,
    L: number,
    tok: Tokens,
    state: { fresh: boolean; carry: boolean },
  ) {
    this.#encodeState(rec, state);
    this.#encodeGradients(rec, L, tok);
    const s = this.#step(i);
    this.#dispatch(rec, "stats", [s, "losses", "grads", "stats"], [1, 1]);
    this.#dispatch(rec, "update", [s, "hyper", "stats", "grads", "params"], [
      Math.ceil(this.#n / 4 / WIDE),
      1,
    ]);
  }

  /**
   * The initial state in slot 0: zeros when `fresh`, else the last one of
   * the minibatch before when `carry`, else slot 0 as it is.
   */
  #encodeState(rec: Recorder, state: { fresh: boolean; carry: boolean }) {
    const b = this.#buffers;
    const slot = this.#B * this.#Hp * 4;
    if (state.fresh) rec.clear(b.hs, 0, slot);
    else if (state.carry) {
      // Copies go through `carry`: a buffer cannot be copied onto itself.
      rec.copy(b.hs, this.#T * slot, b.carry, 0, slot);
      rec.copy(b.carry, 0, b.hs, 0, slot);
    }
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
    this.#ensure("stats", list.length * 8);
    const tokens = this.#upload(list.map((b) => ({ xs: [b.X], Y: b.Y })));
    const rec = new Recorder(this.device.createCommandEncoder());
    list.forEach((_, i) => {
      this.#encodeState(rec, { fresh: i === 0 || !carry, carry: true });
      this.#encodeForward(rec, this.#T, tokens[i]);
      // Its norm half sums stale gradients: unused.
      this.#dispatch(rec, "stats", [
        this.#step(i),
        "losses",
        "grads",
        "stats",
      ], [1, 1]);
    });
    this.device.queue.submit([rec.finish()]);
    const stats = await this.#read("stats", 0, list.length * 2);
    return list.reduce((sum, _, i) => sum + stats[2 * i], 0) / list.length;
  }

  /**
   * Time per kernel of one minibatch of sequential training (no update is
   * kept: the parameters are restored), from GPU timestamps: milliseconds
   * summed over each pipeline's dispatches, and their count. Needs the
   * device's "timestamp-query" feature.
   */
  async profile(
    batch: Minibatch,
  ): Promise<Record<string, { ms: number; dispatches: number }>> {
    const saved = await this.#read("params");
    const [tok] = this.#upload([{ xs: [batch.X], Y: batch.Y }]);
    this.#ensure("stats", 8);
    const rec = new Recorder(this.device.createCommandEncoder(), this.device);
    this.#encodeMinibatch(rec, 0, this.#T, tok, { fresh: true, carry: false });
    const times = await rec.resolve(this.device);
    this.device.queue.writeBuffer(
      this.#buffers.params,
      0,
      saved as Float32Array<ArrayBuffer>,
    );
    return times;
  }

  /**
   * Buffer `name` with room for `bytes` (grown on demand: its size depends
   * on the epoch); bind groups of a replaced buffer are dropped.
   */
  #ensure(name: string, bytes: number) {
    const old = this.#buffers[name];
    if (old && old.size >= bytes) return;
    old?.destroy();
    this.#buffers[name] = this.device.createBuffer({
      label: name,
      size: Math.max(16, bytes),
      usage: STORAGE,
    });
    for (const key of [...this.#groups.keys()]) {
      if (key.split("|").some((e) => e.split(":")[0] === name)) {
        this.#groups.delete(key);
      }
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
    const B = this.#B, T = this.#T, Hp = this.#Hp, H = this.spec.num_hiddens;
    const [tok] = this.#upload([{ xs: [X], Y }]);
    const state = new Float32Array(B * Hp);
    if (H0) {
      for (let b = 0; b < B; b++) {
        state.set(H0.subarray(b * H, (b + 1) * H), b * Hp);
      }
    }
    this.device.queue.writeBuffer(this.#buffers.hs, 0, state);
    const rec = new Recorder(this.device.createCommandEncoder());
    this.#encodeGradients(rec, T, tok);
    this.device.queue.submit([rec.finish()]);
    const losses = await this.#read("losses", 0, T * B);
    const last = await this.#read("hs", T * B * Hp, B * Hp);
    const Hn = new Float32Array(B * H);
    for (let b = 0; b < B; b++) {
      Hn.set(last.subarray(b * Hp, b * Hp + H), b * H);
    }
    return {
      loss: losses.reduce((a, l) => a + l, 0) / losses.length,
      grads: this.#unpack(await this.#read("grads")),
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
    options: FusedEpochOptions,
  ): Promise<FusedEpoch> {
    const B = this.#B, T = this.#T;
    const start = performance.now();
    const theta = options.clip === "off" ? 3.4e38 : options.clip;
    this.device.queue.writeBuffer(
      this.#buffers.hyper,
      0,
      new Float32Array([options.lr, theta, 0, 0]),
    );
    const list = [...batches];
    const replay = !options.detach && options.sampling === "sequential";
    if (replay && list.length * T > this.spec.max_steps) {
      throw new Error(
        `detach: false needs max_steps ≥ ${
          list.length * T
        } (got ${this.spec.max_steps})`,
      );
    }
    this.#ensure("stats", list.length * 8);
    // The whole epoch is one upload and one command buffer.
    const tokens = this.#upload(list.map((batch, i) => ({
      xs: replay ? list.slice(0, i + 1).map((b) => b.X) : [batch.X],
      Y: batch.Y,
    })));
    const rec = new Recorder(this.device.createCommandEncoder());
    list.forEach((_, i) => {
      const L = replay ? (i + 1) * T : T;
      this.#encodeMinibatch(rec, i, L, tokens[i], {
        fresh: i === 0 || options.sampling === "random",
        carry: !replay,
      });
    });
    this.device.queue.submit([rec.finish()]);
    const stats = await this.#read("stats", 0, list.length * 2);
    return {
      losses: list.map((_, i) => stats[2 * i]),
      grad_norms: list.map((_, i) => Math.sqrt(stats[2 * i + 1])),
      tokens: list.length * B * T,
      seconds: (performance.now() - start) / 1000,
    };
  }

  /** Current parameter values, read back (prediction runs on them). */
  async values(): Promise<ParamValues> {
    return this.#unpack(await this.#read("params"));
  }

  /** Reads a buffer back; throws the device's first error, if any. */
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
    if (this.#error) throw new Error(`WebGPU: ${this.#error}`);
    return out;
  }

  /** Frees the buffers. */
  destroy(): void {
    for (const b of Object.values(this.#buffers)) b.destroy();
    for (const b of this.#steps.values()) b.destroy();
  }
}

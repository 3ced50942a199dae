/**
 * A group's GPU side: what its shape decides of its kernels
 * ({@linkcode groupShape}), its buffers, each holding every cell's part in
 * turn ({@linkcode makeModel}), and the buffers grown with an epoch's
 * length ({@linkcode Scratch}: stats, modes, tokens).
 *
 * @module
 */
import { MAX_GROUP } from "../group.ts";
import type { GroupSpec } from "../group.ts";
import {
  kernelsFor,
  type KernelShape,
  pad,
  texturedStates,
  texturedWeights,
} from "./kernels.ts";
import { Gpu, type Resource } from "./gpu.ts";
import { ParamLayout, StepRows } from "./layout.ts";
import { type Recurrence, TILES } from "./tiles.ts";
import { packTokens, type Sequence, type Tokens } from "./tokens.ts";
import type { Recorder } from "./recorder.ts";
import { copyCells, makeTexels, type Texels } from "./texels.ts";
import type { Kernels } from "./kernels.ts";
import { COMMON, structBytes, UNIFORM_BYTES } from "./wgsl.ts";

/** The models' GPU buffers, each holding every cell's part in turn (widths padded, see `fused.ts`). */
export interface Buffers {
  params: GPUBuffer;
  grads: GPUBuffer;
  /** States of steps 0…L, slot 0 the initial one. */
  hs: GPUBuffer;
  /** W_hhᵀ and W_hqᵀ, kept by the update: the backward steps read their rows. */
  W_hh_T: GPUBuffer;
  W_hq_T: GPUBuffer;
  /** dL/dA_t of every step. */
  da: GPUBuffer;
  /** Logits of the loss window, then dlogits. */
  logits: GPUBuffer;
  /** dlogits of the steps before the loss window (`detach: false`). */
  zeros: GPUBuffer;
  losses: GPUBuffer;
  /** The embedded inputs' projection, E_x W_xh of every step. */
  P: GPUBuffer;
  /** The embedded inputs, E_x (for the per-step kernels' P). */
  Ex: GPUBuffer;
  /** Their gradient, dA W_xhᵀ. */
  dEx: GPUBuffer;
  /** The step products' A operands: states, and dA in the backward steps (two take turns). */
  hcur: [GPUBuffer, GPUBuffer];
  dcur: [GPUBuffer, GPUBuffer];
  /** Each cell's lr, θ and activation (`Hyper`). */
  hyper: GPUBuffer;
  /** W_hh, W_hhᵀ and W_hqᵀ as the recurrences (but the rows kernels) read them, and W_hq as the logits do, where the tiles say so (else null): copied in before each pass ({@linkcode copyWeights}). */
  weights:
    | { W_hh: Texels; W_hh_T: Texels; W_hq_T: Texels; W_hq: Texels }
    | null;
  /** The states, dA and dlogits as the logits and the weight gradients read them where the tiles say so and they fit (else null): copied in once written ({@linkcode copyStates}). */
  states: { hs: Texels; da: Texels; logits: Texels } | null;
}

/** What the passes need of a group of models of one shape. */
export interface Model {
  gpu: Gpu;
  spec: GroupSpec;
  layout: ParamLayout;
  /** Cells (models) in the group. */
  C: number;
  B: number;
  T: number;
  /** Padded widths of H, V and E. */
  Hp: number;
  Vp: number;
  Ep: number;
  /** States (`hs`, and the steps' operands): steps of B rows of H/4 vec4s. */
  states: StepRows;
  /** Logits and dlogits: steps of B rows of V/4 vec4s. */
  outputs: StepRows;
  /**
   * A state fits a uniform slot: the weight gradients are summed
   * {@linkcode SLICES} steps at a time (the engine's arithmetic for such
   * shapes, whatever the group's size).
   */
  chunked: boolean;
  /** The recurrences loop over time inside one dispatch each (else one dispatch per step). */
  looped: boolean;
  /** …one row per invocation, its state and weights in registers. */
  rows: boolean;
  /** A group of one whose state fits a uniform slot (faster on llvmpipe): the step products read it so. */
  uniformA: boolean;
  /** One step's dlogits fit one too (and start 256-byte aligned). */
  uniformD: boolean;
  k: Kernels;
  b: Buffers;
}

/** Minibatch `i` of an epoch, whose initial state each cell's `modes` entry gives ({@linkcode STATE}). */
export interface Start {
  i: number;
  modes: GPUBuffer;
}

/**
 * What a group of `cells` models of `spec` decides of its kernels, on a
 * device of these limits: padded widths; whether a state fits a uniform
 * slot (then the weight gradients are summed a few steps at a time: the
 * engine's arithmetic for such shapes) and, for a group of one, is read
 * as one (`uniformA`, as is a step's dlogits where it fits too).
 */
export function groupShape(
  spec: GroupSpec,
  cells: number,
  limits: Pick<
    GPUSupportedLimits,
    "maxUniformBufferBindingSize" | "minUniformBufferOffsetAlignment"
  >,
): KernelShape & { chunked: boolean } {
  const B = spec.batch_size;
  const Hp = pad(spec.num_hiddens), Vp = pad(spec.vocab_size);
  const oneHot = spec.input === "one_hot";
  const fits = (floats: number) =>
    floats * 4 <= Math.min(UNIFORM_BYTES, limits.maxUniformBufferBindingSize) &&
    (floats * 4) % limits.minUniformBufferOffsetAlignment === 0;
  const chunked = fits(B * Hp);
  // One cell's state in a uniform slot; a group's cells read storage.
  const uniformA = cells === 1 && chunked;
  const layout = new ParamLayout(spec);
  return {
    B,
    T: spec.num_steps,
    L: spec.max_steps,
    Hp,
    Vp,
    Ep: oneHot ? 0 : pad(spec.embed_size),
    V: spec.vocab_size,
    n4: layout.floats / 4,
    W_hh: layout.regions.W_hh.offset / 4,
    W_hq: layout.regions.W_hq.offset / 4,
    oneHot,
    chunked,
    uniformA,
    uniformD: uniformA && fits(B * Vp),
  };
}

/**
 * Most cells of `spec`'s shape one group may hold on a device of these
 * limits: every buffer holds each cell's part in turn and is bound whole,
 * so the largest per-cell part (the states of every step, (L + 1) · B ·
 * H floats; with W_hh and its transpose as large) times the cells must
 * fit a binding and a buffer.
 *
 * @example
 * ```ts
 * // The chapter's cell: 2.4 MB of states; 128 MiB bindings hold 56.
 * groupCapacity(spec, { maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 31 });
 * ```
 */
export function groupCapacity(
  spec: GroupSpec,
  limits: Pick<
    GPUSupportedLimits,
    "maxStorageBufferBindingSize" | "maxBufferSize"
  >,
): number {
  const B = spec.batch_size, L = spec.max_steps;
  const Hp = pad(spec.num_hiddens), Vp = pad(spec.vocab_size);
  const Ep = spec.input === "one_hot" ? 0 : pad(spec.embed_size);
  // A uniform slot's room past the end (a group of one) is not per cell.
  const perCell = 4 * Math.max(
    (L + 1) * B * Hp,
    L * B * Math.max(Hp, Ep),
    spec.num_steps * B * Vp,
    new ParamLayout(spec).floats,
    Hp * Math.max(Hp, Vp),
  );
  const limit = Math.min(
    limits.maxStorageBufferBindingSize,
    limits.maxBufferSize,
  ) - UNIFORM_BYTES;
  return Math.max(1, Math.min(MAX_GROUP, Math.floor(limit / perCell)));
}

/** Parameter (or gradient) `name`'s region of the packed buffer `of`, from cell 0's to the last cell's. */
export function region(m: Model, of: GPUBuffer, name: string): Resource {
  const { offset, size } = m.layout.bytes(name);
  return { buffer: of, offset, size: size + (m.C - 1) * m.layout.floats * 4 };
}

/**
 * Copies the weights read as textures (where `m.b.weights`) into them:
 * W_hh and W_hq before the forward pass (the recurrence and the logits),
 * W_hhᵀ and W_hqᵀ before the backward recurrence; of these the rows
 * kernels read none.
 */
export function copyWeights(
  rec: Recorder,
  m: Model,
  pass: "forward" | "backward",
): void {
  const t = m.b.weights;
  if (!t) return;
  if (pass === "forward") {
    // The rows kernels hold W_hh in registers: only the logits read a texture.
    const names = m.rows ? ["W_hq"] as const : ["W_hh", "W_hq"] as const;
    for (const name of names) {
      const { offset } = m.layout.bytes(name);
      copyCells(rec, m.C, m.b.params, offset, m.layout.floats * 4, t[name]);
    }
  } else if (!m.rows) {
    copyCells(rec, m.C, m.b.W_hh_T, 0, m.Hp * m.Hp * 4, t.W_hh_T);
    copyCells(rec, m.C, m.b.W_hq_T, 0, m.Vp * m.Hp * 4, t.W_hq_T);
  }
}

/** Copies `name` (the states, dA or dlogits, once written) into its texture, where `m.b.states`. */
export function copyStates(
  rec: Recorder,
  m: Model,
  name: "hs" | "da" | "logits",
): void {
  const t = m.b.states;
  if (!t) return;
  copyCells(rec, m.C, m.b[name], 0, t[name].vec4s * 16, t[name]);
}

const UNIFORM = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;

/**
 * The model of `C` cells of `spec` on `device`: its shape's kernels (on
 * `tiles`) and its buffers (and textures), each cell's part in turn,
 * `floats` each (widths padded with zeros). A buffer bound as a uniform slot is read as
 * UNIFORM_BYTES from any slot's start: it has room past its end.
 */
export function makeModel(
  device: GPUDevice,
  spec: GroupSpec,
  C: number,
  tiles: "cpu" | "gpu",
  kernels: Recurrence,
): { model: Model; buffers: GPUBuffer[]; textures: Texels[] } {
  const looped = kernels !== "steps";
  const shape = groupShape(spec, C, device.limits);
  const { B, T, Hp, Vp, Ep, uniformA } = shape;
  const embedding = !shape.oneHot;
  const L = spec.max_steps;
  const layout = new ParamLayout(spec);
  const gpu = Gpu.of(device);
  const buffers: GPUBuffer[] = [];
  const buffer = (floats: number, usage = STORAGE, slack = 0) => {
    const bytes = Math.ceil(floats / 4) * 16;
    const b = device.createBuffer({
      size: Math.max(16, C * bytes + slack),
      usage,
    });
    gpu.perCell(b, bytes);
    buffers.push(b);
    return b;
  };
  const textures: Texels[] = [];
  const texture = (floats: number) => {
    const t = makeTexels(device, C, floats);
    textures.push(t);
    return t;
  };
  const slot = STORAGE | GPUBufferUsage.UNIFORM;
  const slack = uniformA ? UNIFORM_BYTES : 0;
  const b: Buffers = {
    params: buffer(layout.floats),
    grads: buffer(layout.floats),
    hs: buffer((L + 1) * B * Hp, slot, slack),
    W_hh_T: buffer(Hp * Hp),
    W_hq_T: buffer(Vp * Hp),
    da: buffer(L * B * Hp),
    logits: buffer(T * B * Vp, slot, slack),
    zeros: device.createBuffer({ size: B * Vp * 4 + slack, usage: slot }),
    losses: buffer(T * B),
    P: buffer(embedding && !looped ? L * B * Hp : 0),
    Ex: buffer(embedding && !looped ? L * B * Ep : 0),
    dEx: buffer(embedding ? L * B * Ep : 0),
    hcur: [buffer(B * Hp, slot, slack), buffer(B * Hp, slot, slack)],
    dcur: [buffer(B * Hp, slot, slack), buffer(B * Hp, slot, slack)],
    hyper: device.createBuffer({
      size: MAX_GROUP * structBytes(COMMON.Hyper),
      usage: UNIFORM,
    }),
    weights: texturedWeights(Hp, TILES[tiles])
      ? {
        W_hh: texture(Hp * Hp),
        W_hh_T: texture(Hp * Hp),
        W_hq_T: texture(Vp * Hp),
        W_hq: texture(Hp * Vp),
      }
      : null,
    states: texturedStates(shape, TILES[tiles])
      ? {
        hs: texture((L + 1) * B * Hp),
        da: texture(L * B * Hp),
        logits: texture(T * B * Vp),
      }
      : null,
  };
  buffers.push(b.zeros, b.hyper);
  const model: Model = {
    gpu,
    spec,
    layout,
    C,
    B,
    T,
    Hp,
    Vp,
    Ep,
    states: new StepRows(B, Hp / 4),
    outputs: new StepRows(B, Vp / 4),
    chunked: shape.chunked,
    looped,
    rows: kernels === "rows",
    uniformA,
    uniformD: shape.uniformD,
    k: kernelsFor(shape, TILES[tiles]),
    b,
  };
  return { model, buffers, textures };
}

/**
 * The buffers whose sizes depend on an epoch (its minibatches): each
 * cell's (loss, ‖g‖²) per minibatch, its [state, update] modes, and the
 * tokens; grown on demand, and read back from.
 */
export class Scratch {
  readonly #m: Model;
  #stats: GPUBuffer | null = null;
  #modes: GPUBuffer | null = null;
  #tokens: GPUBuffer | null = null;

  /** The scratch buffers of model `m`. */
  constructor(m: Model) {
    this.#m = m;
  }

  /** Room for `minibatches` slots of (loss, ‖g‖²) per cell: cell c's from c · 2 · minibatches on. */
  stats(minibatches: number): GPUBuffer {
    const stats = this.#stats = this.#grow(
      this.#stats,
      this.#m.C * minibatches * 8,
    );
    this.#m.gpu.perCell(stats, minibatches * 8);
    return stats;
  }

  /** Each cell's [state, update] for each of `minibatches` minibatches (cell c's from c · 2 · minibatches on). */
  modes(
    minibatches: number,
    mode: (cell: number, i: number) => [number, number],
  ): GPUBuffer {
    const C = this.#m.C;
    const words = new Uint32Array(C * minibatches * 2);
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < minibatches; i++) {
        words.set(mode(c, i), (c * minibatches + i) * 2);
      }
    }
    const modes = this.#modes = this.#grow(this.#modes, words.byteLength);
    this.#m.gpu.perCell(modes, minibatches * 8);
    this.#m.gpu.device.queue.writeBuffer(modes, 0, words);
    return modes;
  }

  /**
   * Uploads the tokens of `minibatches` minibatches for every cell at
   * once (one buffer, {@linkcode packTokens}); returns where cell 0's
   * arrays of each minibatch lie.
   */
  tokens(
    minibatches: number,
    seqOf: (cell: number, i: number) => Sequence | null,
  ): Tokens[] {
    const { C, B, T } = this.#m;
    const packed = packTokens(
      { C, B, T, V: this.#m.spec.vocab_size },
      minibatches,
      seqOf,
    );
    const buffer = this.#tokens = this.#grow(
      this.#tokens,
      packed.data.byteLength,
    );
    this.#m.gpu.perCell(buffer, C > 1 ? packed.stride * 4 : 0);
    this.#m.gpu.device.queue.writeBuffer(buffer, 0, packed.data);
    return packed.ranges(buffer);
  }

  /** Reads `floats` floats of a buffer from float `offset`; throws the device's first error, if any. */
  async read(
    source: GPUBuffer,
    offset = 0,
    floats = source.size / 4 - offset,
  ): Promise<Float32Array> {
    const device = this.#m.gpu.device;
    const staging = device.createBuffer({
      size: floats * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(source, offset * 4, staging, 0, floats * 4);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    if (this.#m.gpu.error) throw new Error(`WebGPU: ${this.#m.gpu.error}`);
    return out;
  }

  /** `old` when it holds `bytes`, else a new storage buffer that does. */
  #grow(old: GPUBuffer | null, bytes: number): GPUBuffer {
    if (old && old.size >= bytes) return old;
    if (old) {
      this.#m.gpu.forget(old);
      old.destroy();
    }
    return this.#m.gpu.device.createBuffer({
      size: Math.max(16, Math.ceil(bytes / 16) * 16),
      usage: STORAGE,
    });
  }

  /** Frees them. */
  destroy(): void {
    for (const b of [this.#stats, this.#modes, this.#tokens]) {
      if (!b) continue;
      this.#m.gpu.forget(b);
      b.destroy();
    }
  }
}

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
 * A group of models of one shape (cells of a grid) trains in the same
 * dispatches ({@linkcode FusedCells}): each cell has its own parameters,
 * data, lr, θ, activation and state, and computes exactly what it would
 * alone, so a GPU that one model leaves idle between dispatches trains
 * many for the same dispatches; one model is a group of one.
 *
 * The kernels are in `kernels.ts`, their tiles in `tiles.ts`, the packed
 * parameters in `layout.ts`, what a minibatch dispatches in `passes.ts`;
 * this module lays out the buffers and decides what an epoch runs.
 *
 * @module
 */
import type { Minibatch } from "../../data/iterators.ts";
import type { Activation, ParamValues } from "../../model/params.ts";
import {
  type CellEpoch,
  type CellEval,
  type EngineGroup,
  type EpochOptions,
  type EpochStats,
  evalRows,
  type Gradients,
  type GroupSpec,
  replays,
} from "../group.ts";
import { kernelsFor, type KernelShape, MAX_GROUP, pad } from "./kernels.ts";
import {
  type Buffers,
  encodeForward,
  encodeGradients,
  encodeMinibatch,
  encodeState,
  type Model,
  STATE,
  type Tokens,
} from "./passes.ts";
import { Gpu, type Resource } from "./gpu.ts";
import { ParamLayout, Sections, StepRows } from "./layout.ts";
import { type KernelTimes, Recorder } from "./recorder.ts";
import { TILES } from "./tiles.ts";
import { COMMON, packStruct, structBytes, UNIFORM_BYTES } from "./wgsl.ts";

export { isSoftware, tilesFor } from "./tiles.ts";

export { FUSED_VERSION } from "../version.ts";

/** What the fused engine is built for. */
export interface FusedSpec extends GroupSpec {
  /**
   * Kernel tiles for a CPU adapter (llvmpipe: few 8-lane workgroups) or a
   * GPU (many wide ones). Default: cpu.
   */
  tiles?: "cpu" | "gpu";
}

/** One cell of a group: its initial parameters and its activation (the group's spec gives the rest). */
export interface CellInit {
  /** Its initial parameter values. */
  params: ParamValues;
  /** Its hidden layer's nonlinearity. */
  activation: Activation;
}

/** The minibatches one minibatch's backward pass reaches (`xs`, one unless `detach: false`) and the last one's targets. */
type Sequence = { xs: Int32Array[]; Y: Int32Array };

/**
 * The token arrays of one cell's minibatch, as its dispatches bind them:
 * the inputs of the L steps it reaches (time-major), the targets of the
 * last T, the L·B rows grouped by token (`order`) and where each of the V
 * tokens' rows start (`start`).
 */
export const tokenSections = (
  B: number,
  L: number,
  T: number,
  V: number,
): Sections<"x" | "y" | "order" | "start"> =>
  new Sections({ x: L * B, y: T * B, order: L * B, start: V + 1 });

/** Writes a sequence's tokens into its block (laid out as `s`). */
function writeTokens(
  block: Uint32Array,
  s: Sections<"x" | "y" | "order" | "start">,
  seq: Sequence,
  B: number,
  T: number,
) {
  const part = (name: "x" | "y" | "order" | "start") =>
    block.subarray(s.at[name], s.at[name] + s.length[name]);
  const x = part("x"), y = part("y"), order = part("order");
  const start = part("start");
  seq.xs.forEach((X, k) => {
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) x[(k * T + t) * B + b] = X[b * T + t];
    }
  });
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) y[t * B + b] = seq.Y[b * T + t];
  }
  // Counting sort of rows by token: dW_xh[v] sums token v's rows only.
  const V = start.length - 1;
  for (const v of x) start[v + 1]++;
  for (let v = 0; v < V; v++) start[v + 1] += start[v];
  const next = start.slice(0, V);
  x.forEach((v, r) => order[next[v]++] = r);
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
  return {
    B,
    T: spec.num_steps,
    Hp,
    Vp,
    Ep: oneHot ? 0 : pad(spec.embed_size),
    V: spec.vocab_size,
    n4: new ParamLayout(spec).floats / 4,
    oneHot,
    chunked,
    uniformA,
    uniformD: uniformA && fits(B * Vp),
  };
}

const UNIFORM = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;

/**
 * Models of one shape on one device, trained together: every dispatch
 * covers all cells. Parameters, activations and gradients are GPU
 * buffers holding each cell's part in turn; widths are padded to
 * multiples of 32 with zeros. Groups on one device share its compiled
 * pipelines, whatever their sizes.
 *
 * @example
 * ```ts
 * const group = new FusedCells(device, spec, [{ params: a, activation: "tanh" }, { params: b, activation: "relu" }]);
 * const [statsA, statsB] = await group.trainEpochs([
 *   { batches: batchesA, options: { lr: 1, clip: 1, sampling: "sequential", detach: true } },
 *   { batches: batchesB, options: { lr: 2, clip: "off", sampling: "random", detach: true } },
 * ]);
 * ```
 */
export class FusedCells implements EngineGroup {
  /** The device the buffers live on. */
  readonly device: GPUDevice;
  /** What the model(s) are built for, defaults filled in. */
  readonly spec: Required<FusedSpec>;
  /** Cells in the group. */
  readonly cells: number;
  readonly #m: Model;
  readonly #relu: boolean[];
  readonly #buffers: GPUBuffer[] = [];
  /** Grown on demand: their sizes depend on the epoch. */
  #stats: GPUBuffer | null = null;
  #modes: GPUBuffer | null = null;
  #tokens: GPUBuffer | null = null;

  /** A group of `cells` models of `spec`'s shape on `device`, each from its initial parameters. */
  constructor(device: GPUDevice, spec: FusedSpec, cells: CellInit[]) {
    const C = cells.length;
    if (C < 1 || C > MAX_GROUP) {
      throw new Error(`a group holds 1 to ${MAX_GROUP} cells (got ${C})`);
    }
    this.device = device;
    this.cells = C;
    this.spec = { ...spec, tiles: spec.tiles ?? "cpu" };
    if (C > 1 && this.spec.max_steps !== spec.num_steps) {
      throw new Error("detach: false trains one cell at a time");
    }
    const shape = groupShape(spec, C, device.limits);
    const { B, T, Hp, Vp, Ep, uniformA, chunked } = shape;
    const embedding = !shape.oneHot;
    const L = this.spec.max_steps;
    const layout = new ParamLayout(spec);
    const n = layout.floats;
    const gpu = Gpu.of(device);

    // Every cell's part in turn, `floats` each. A buffer bound as a
    // uniform slot is read as UNIFORM_BYTES from any slot's start: room
    // past its end.
    const buffer = (floats: number, usage = STORAGE, slack = 0) => {
      const bytes = Math.ceil(floats / 4) * 16;
      const b = device.createBuffer({
        size: Math.max(16, C * bytes + slack),
        usage,
      });
      gpu.perCell(b, bytes);
      this.#buffers.push(b);
      return b;
    };
    const slot = STORAGE | GPUBufferUsage.UNIFORM;
    const slack = uniformA ? UNIFORM_BYTES : 0;
    const b: Buffers = {
      params: buffer(n),
      grads: buffer(n),
      hs: buffer((L + 1) * B * Hp, slot, slack),
      W_hh_T: buffer(Hp * Hp),
      W_hq_T: buffer(Vp * Hp),
      da: buffer(L * B * Hp),
      logits: buffer(T * B * Vp, slot, slack),
      zeros: device.createBuffer({
        size: B * Vp * 4 + slack,
        usage: slot,
      }),
      losses: buffer(T * B),
      P: buffer(embedding ? L * B * Hp : 0),
      Ex: buffer(embedding ? L * B * Ep : 0),
      dEx: buffer(embedding ? L * B * Ep : 0),
      hcur: [buffer(B * Hp, slot, slack), buffer(B * Hp, slot, slack)],
      dcur: [buffer(B * Hp, slot, slack), buffer(B * Hp, slot, slack)],
      hyper: device.createBuffer({
        size: MAX_GROUP * structBytes(COMMON.Hyper),
        usage: UNIFORM,
      }),
    };
    this.#buffers.push(b.zeros, b.hyper);
    this.#m = {
      gpu,
      spec: this.spec,
      layout,
      C,
      B,
      T,
      Hp,
      Vp,
      Ep,
      states: new StepRows(B, Hp / 4),
      outputs: new StepRows(B, Vp / 4),
      chunked,
      uniformA,
      uniformD: shape.uniformD,
      k: kernelsFor(shape, TILES[this.spec.tiles]),
      b,
    };
    const packed = new Float32Array(C * n);
    cells.forEach((c, i) => packed.set(layout.pack(c.params), i * n));
    device.queue.writeBuffer(b.params, 0, packed);
    this.#relu = cells.map((c) => c.activation === "relu");
    this.#writeHyper(cells.map(() => null));
  }

  /** Each cell's `Hyper` (`wgsl/common.wgsl`): lr, θ (3.4e38 with clipping off) and activation. */
  #writeHyper(options: (EpochOptions | null)[]) {
    const hyper = COMMON.Hyper;
    options.forEach((o, c) => {
      const entry = packStruct(hyper, {
        lr: o?.lr ?? 0,
        theta: !o || o.clip === "off" ? 3.4e38 : o.clip,
        relu: this.#relu[c] ? 1 : 0,
      });
      this.device.queue.writeBuffer(
        this.#m.b.hyper,
        c * entry.byteLength,
        entry,
      );
    });
  }

  /**
   * One epoch of SGD for every cell at once, each as d2l's
   * `train_epoch_ch8` (see {@linkcode EngineGroup.trainEpochs}) with its own
   * minibatches and options; a null cell trains no more (its parameters
   * stay). Cells may have different numbers of minibatches: one with fewer
   * stops updating after its last. Losses and norms are read back once,
   * at the end; every cell's `seconds` is the epoch's.
   */
  async trainEpochs(epochs: CellEpoch[]): Promise<(EpochStats | null)[]> {
    const { batch_size: B, num_steps: T } = this.spec;
    const start = performance.now();
    const N = Math.max(0, ...epochs.map((e) => e?.batches.length ?? 0));
    const replay = epochs.map((e) =>
      e ? replays(this.spec, e.options, e.batches.length) : false
    );
    if (this.cells > 1 && replay.some(Boolean)) {
      throw new Error("detach: false trains one cell at a time");
    }
    if (N === 0) return epochs.map(() => null);
    this.#writeHyper(epochs.map((e) => e?.options ?? null));
    const modes = this.#writeModes(N, (c, i) => {
      const e = epochs[c];
      if (!e || i >= e.batches.length) return [STATE.keep, 0];
      const fresh = i === 0 || e.options.sampling === "random";
      return [
        fresh ? STATE.fresh : replay[c] ? STATE.keep : STATE.carry,
        1,
      ];
    });
    this.#growStats(N);
    // The whole epoch is one upload and one command buffer.
    const tokens = this.#upload(N, (c, i) => {
      const list = epochs[c]?.batches;
      if (!list || i >= list.length) return null;
      return {
        xs: replay[c] ? list.slice(0, i + 1).map((b) => b.X) : [list[i].X],
        Y: list[i].Y,
      };
    });
    const rec = new Recorder(this.#m.gpu, false, this.cells);
    for (let i = 0; i < N; i++) {
      const L = replay[0] ? (i + 1) * T : T;
      encodeMinibatch(rec, this.#m, i, L, tokens[i], modes, this.#stats!);
    }
    rec.submit();
    const stats = await this.#read(this.#stats!, 0, this.cells * N * 2);
    const seconds = (performance.now() - start) / 1000;
    return epochs.map((e, c) => {
      if (!e) return null;
      const at = (i: number) => stats[c * N * 2 + 2 * i];
      const n = e.batches.length;
      return {
        losses: e.batches.map((_, i) => at(i)),
        grad_norms: e.batches.map((_, i) =>
          Math.sqrt(stats[c * N * 2 + 2 * i + 1])
        ),
        tokens: n * B * T,
        seconds,
      };
    });
  }

  /**
   * Mean cross-entropy of each cell's held-out minibatches (each
   * minibatch's mean over its tokens, averaged) under its current weights,
   * forward only; each minibatch starts from the last one's state
   * (`carry`) or from zeros. A null cell, or one without minibatches,
   * gives NaN. One command buffer, one read-back; a cell whose text is
   * too short for batch_size rows is evaluated alone, by a group of one
   * of as many rows with its weights.
   */
  async evaluate(cells: CellEval[]): Promise<number[]> {
    const B = this.spec.batch_size;
    const out = await this.#evaluate(
      cells.map((e) => evalRows(e) === B ? e : null),
    );
    for (const [c, e] of cells.entries()) {
      const rows = evalRows(e);
      if (rows === 0 || rows === B) continue;
      const short = new FusedCells(
        this.device,
        { ...this.spec, batch_size: rows, max_steps: this.spec.num_steps },
        [{ params: await this.values(c), activation: this.#activation(c) }],
      );
      try {
        [out[c]] = await short.#evaluate([e]);
      } finally {
        short.destroy();
      }
    }
    return out;
  }

  /** Cell `c`'s activation. */
  #activation(c: number): Activation {
    return this.#relu[c] ? "relu" : "tanh";
  }

  /** {@linkcode FusedCells.evaluate} of cells with batch_size rows. */
  async #evaluate(cells: CellEval[]): Promise<number[]> {
    const N = Math.max(0, ...cells.map((e) => e?.batches.length ?? 0));
    if (N === 0) return cells.map(() => NaN);
    const modes = this.#writeModes(N, (c, i) => {
      const e = cells[c];
      if (!e || i >= e.batches.length) return [STATE.keep, 0];
      return [i === 0 || !e.carry ? STATE.fresh : STATE.carry, 0];
    });
    this.#growStats(N);
    const tokens = this.#upload(N, (c, i) => {
      const list = cells[c]?.batches;
      return list && i < list.length ? { xs: [list[i].X], Y: list[i].Y } : null;
    });
    const rec = new Recorder(this.#m.gpu, false, this.cells);
    for (let i = 0; i < N; i++) {
      encodeState(rec, this.#m, i, modes);
      encodeForward(rec, this.#m, this.spec.num_steps, tokens[i]);
      // Its norm half sums stale gradients: unused.
      rec.dispatch(this.#m.k.stats, {
        sizes: { i },
        losses: this.#m.b.losses,
        grads: this.#m.b.grads,
        stats: this.#stats!,
      }, [1, 1]);
    }
    rec.submit();
    const stats = await this.#read(this.#stats!, 0, this.cells * N * 2);
    return cells.map((e, c) => {
      const n = e?.batches.length ?? 0;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += stats[c * N * 2 + 2 * i];
      return n ? sum / n : NaN;
    });
  }

  /**
   * Loss and gradients of one minibatch of a group of one, without an
   * update (see {@linkcode EngineGroup.gradients}).
   */
  async gradients(
    X: Int32Array,
    Y: Int32Array,
    H0: Float32Array | null,
  ): Promise<Gradients> {
    if (this.cells !== 1) throw new Error("gradients: a group of one only");
    const B = this.spec.batch_size,
      T = this.spec.num_steps,
      Hp = this.#m.Hp,
      H = this.spec.num_hiddens;
    const [tok] = this.#upload(1, () => ({ xs: [X], Y }));
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
   * Time per kernel of one minibatch of sequential training for every
   * cell (no update is kept: the parameters are restored), from GPU
   * timestamps: milliseconds summed over each kernel's dispatches, and
   * their count. Needs the device's "timestamp-query" feature.
   */
  async profile(batch: Minibatch): Promise<KernelTimes> {
    const saved = await this.#read(this.#m.b.params);
    const rec = new Recorder(this.#m.gpu, true, this.cells);
    this.#recordOne(rec, { xs: [batch.X], Y: batch.Y }, [STATE.fresh, 1]);
    const times = await rec.resolve();
    this.device.queue.writeBuffer(
      this.#m.b.params,
      0,
      saved as Float32Array<ArrayBuffer>,
    );
    return times;
  }

  /** Dispatches one minibatch of training records (they do not grow with the cells). */
  dispatchesPerMinibatch(): number {
    const rec = new Recorder(this.#m.gpu, false, this.cells);
    this.#recordOne(rec, null, [STATE.keep, 0]);
    return rec.dispatches;
  }

  /** Records one minibatch of `seq` (zeros when null) for every cell, each with `mode`. */
  #recordOne(
    rec: Recorder,
    seq: { xs: Int32Array[]; Y: Int32Array } | null,
    mode: [number, number],
  ) {
    const [tok] = this.#upload(1, () => seq);
    const modes = this.#writeModes(1, () => mode);
    this.#growStats(1);
    const T = this.spec.num_steps;
    encodeMinibatch(rec, this.#m, 0, T, tok, modes, this.#stats!);
  }

  /** Cell `c`'s current parameter values, read back (prediction runs on them). */
  async values(c = 0): Promise<ParamValues> {
    const n = this.#m.layout.floats;
    return this.#m.layout.unpack(await this.#read(this.#m.b.params, c * n, n));
  }

  /** Room for `minibatches` slots of (loss, ‖g‖²) per cell in `stats`: cell c's from c · 2 · minibatches on. */
  #growStats(minibatches: number) {
    this.#stats = this.#grow(this.#stats, this.cells * minibatches * 8);
    this.#m.gpu.perCell(this.#stats, minibatches * 8);
  }

  /** Each cell's [state, update] for each of `minibatches` minibatches, into `modes` (cell c's from c · 2 · minibatches on). */
  #writeModes(
    minibatches: number,
    mode: (cell: number, i: number) => [number, number],
  ): GPUBuffer {
    const words = new Uint32Array(this.cells * minibatches * 2);
    for (let c = 0; c < this.cells; c++) {
      for (let i = 0; i < minibatches; i++) {
        words.set(mode(c, i), (c * minibatches + i) * 2);
      }
    }
    const modes = this.#modes = this.#grow(this.#modes, words.byteLength);
    this.#m.gpu.perCell(modes, minibatches * 8);
    this.device.queue.writeBuffer(modes, 0, words);
    return modes;
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
   * Uploads the tokens of `minibatches` minibatches for every cell at
   * once, into one buffer: per minibatch, per cell, one block
   * ({@linkcode tokenSections}) holding the sequence of minibatches its
   * backward pass reaches, the last one's targets and its rows grouped by
   * token; a cell without one (null) gets zeros. Each cell's block is as
   * long as the others', so a minibatch's arrays for all cells are one
   * binding each. Returns where cell 0's arrays of each minibatch lie.
   */
  #upload(
    minibatches: number,
    seqOf: (cell: number, i: number) => Sequence | null,
  ): Tokens[] {
    const B = this.spec.batch_size, T = this.spec.num_steps;
    const V = this.spec.vocab_size, C = this.cells;
    const seqs = Array.from(
      { length: minibatches },
      (_, i) => Array.from({ length: C }, (_, c) => seqOf(c, i)),
    );
    // A group's cells reach back one minibatch; a group of one, any number.
    const blocks = seqs.map((row) =>
      tokenSections(B, (row[0]?.xs.length ?? 1) * T, T, V)
    );
    const total = blocks.reduce((a, s) => a + C * s.words, 0);
    const buffer = this.#tokens = this.#grow(this.#tokens, total * 4);
    const stride = blocks[0].words;
    this.#m.gpu.perCell(buffer, C > 1 ? stride * 4 : 0);
    const data = new Uint32Array(total);
    let first = 0;
    const out = seqs.map((row, i) => {
      const s = blocks[i];
      row.forEach((seq, c) => {
        const at = first + c * s.words;
        if (seq) writeTokens(data.subarray(at, at + s.words), s, seq, B, T);
      });
      const base = first;
      const range = (name: keyof typeof s.at): Resource => ({
        buffer,
        offset: (base + s.at[name]) * 4,
        size: ((C - 1) * stride + s.length[name]) * 4,
      });
      first += C * s.words;
      return {
        x: range("x"),
        y: range("y"),
        order: range("order"),
        start: range("start"),
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
    for (
      const b of [...this.#buffers, this.#stats, this.#modes, this.#tokens]
    ) {
      if (!b) continue;
      this.#m.gpu.forget(b);
      b.destroy();
    }
  }
}

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
 * The kernels are in `wgsl/` (assembled by `kernels.ts`), their tiles in
 * `tiles.ts`, the packed parameters in `layout.ts`, the group's buffers in
 * `model.ts` (and the textures a CPU adapter reads in `texels.ts`), its
 * tokens in `tokens.ts`, what a minibatch dispatches in `passes.ts` (the
 * per-step recurrences in `steps.ts`); this module decides what an epoch
 * runs, and `split.ts` trains a group too large for the device's
 * bindings in parts.
 *
 * @module
 */
import type { Minibatch } from "../../data/iterators.ts";
import type { Activation, ParamValues } from "../../model/params.ts";
import {
  type CellEpoch,
  type CellEval,
  type EngineGroup,
  EpochClock,
  type EpochOptions,
  type EpochStats,
  evalRows,
  type Gradients,
  type GroupSpec,
  replays,
} from "../group.ts";
import { MAX_GROUP } from "./kernels.ts";
import {
  encodeForward,
  encodeGradients,
  encodeMinibatch,
  STATE,
} from "./passes.ts";
import { makeModel, type Model, Scratch } from "./model.ts";
import type { Texels } from "./texels.ts";
import { type KernelTimes, Recorder } from "./recorder.ts";
import { COMMON, packStruct } from "./wgsl.ts";
import { loopsFor, type Recurrence, ROWS_MAX } from "./tiles.ts";

export { isSoftware, loopsFor, tilesFor } from "./tiles.ts";
export { groupCapacity, groupShape } from "./model.ts";
export { tokenSections } from "./tokens.ts";

export { FUSED_VERSION } from "../version.ts";

/** What the fused engine is built for. */
export interface FusedSpec extends GroupSpec {
  /**
   * Kernel tiles for a CPU adapter (llvmpipe: few 8-lane workgroups) or a
   * GPU (many wide ones). Default: cpu.
   */
  tiles?: "cpu" | "gpu";
  /**
   * The recurrences' kernels ({@linkcode Recurrence}): all give the same
   * numbers. Default: the fastest for the shape ({@linkcode loopsFor});
   * "rows" takes at most {@linkcode ROWS_MAX} hidden units.
   */
  kernels?: Recurrence;
}

/** One cell of a group: its initial parameters and its activation (the group's spec gives the rest). */
export interface CellInit {
  /** Its initial parameter values. */
  params: ParamValues;
  /** Its hidden layer's nonlinearity. */
  activation: Activation;
}

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
  /** Every call records and submits its commands before it awaits anything. */
  readonly inOrder = true;
  readonly #clock = new EpochClock();
  readonly #m: Model;
  readonly #relu: boolean[];
  readonly #buffers: GPUBuffer[];
  readonly #textures: Texels[];
  /** Grown on demand: their sizes depend on the epoch. */
  readonly #scratch: Scratch;

  /** A group of `cells` models of `spec`'s shape on `device`, each from its initial parameters. */
  constructor(device: GPUDevice, spec: FusedSpec, cells: CellInit[]) {
    const C = cells.length;
    if (C < 1 || C > MAX_GROUP) {
      throw new Error(`a group holds 1 to ${MAX_GROUP} cells (got ${C})`);
    }
    this.device = device;
    this.cells = C;
    const tiles = spec.tiles ?? "cpu";
    this.spec = {
      ...spec,
      tiles,
      kernels: spec.kernels ?? loopsFor(spec.num_hiddens, tiles),
    };
    if (this.spec.kernels === "rows" && spec.num_hiddens > ROWS_MAX) {
      throw new Error(
        `the rows kernels take at most ${ROWS_MAX} hidden units (got ${spec.num_hiddens})`,
      );
    }
    if (C > 1 && this.spec.max_steps !== spec.num_steps) {
      throw new Error("detach: false trains one cell at a time");
    }
    const { model, buffers, textures } = makeModel(
      device,
      spec,
      C,
      tiles,
      this.spec.kernels,
    );
    this.#m = model;
    this.#buffers = buffers;
    this.#textures = textures;
    this.#scratch = new Scratch(model);
    const n = model.layout.floats;
    const packed = new Float32Array(C * n);
    cells.forEach((c, i) => packed.set(model.layout.pack(c.params), i * n));
    this.#writeParams(packed);
    this.#relu = cells.map((c) => c.activation === "relu");
    this.#writeHyper(cells.map(() => null));
  }

  /** Every cell's packed parameters, and W_hh and W_hq transposed (the update keeps those after). */
  #writeParams(packed: Float32Array<ArrayBuffer>) {
    const { layout, b, C } = this.#m;
    this.device.queue.writeBuffer(b.params, 0, packed);
    for (
      const [name, out] of [["W_hh", b.W_hh_T], ["W_hq", b.W_hq_T]] as const
    ) {
      const r = layout.regions[name];
      const t = new Float32Array(C * r.prows * r.stride);
      for (let c = 0; c < C; c++) {
        const from = c * layout.floats + r.offset, to = c * r.prows * r.stride;
        for (let i = 0; i < r.prows; i++) {
          for (let j = 0; j < r.stride; j++) {
            t[to + j * r.prows + i] = packed[from + i * r.stride + j];
          }
        }
      }
      this.device.queue.writeBuffer(out, 0, t);
    }
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
    const seconds = this.#clock.start();
    const N = Math.max(0, ...epochs.map((e) => e?.batches.length ?? 0));
    const replay = epochs.map((e) =>
      e ? replays(this.spec, e.options, e.batches.length) : false
    );
    if (this.cells > 1 && replay.some(Boolean)) {
      throw new Error("detach: false trains one cell at a time");
    }
    if (N === 0) return epochs.map(() => null);
    this.#writeHyper(epochs.map((e) => e?.options ?? null));
    const modes = this.#scratch.modes(N, (c, i) => {
      const e = epochs[c];
      if (!e || i >= e.batches.length) return [STATE.keep, 0];
      const fresh = i === 0 || e.options.sampling === "random";
      return [
        fresh ? STATE.fresh : replay[c] ? STATE.keep : STATE.carry,
        1,
      ];
    });
    const statsBuffer = this.#scratch.stats(N);
    // The whole epoch is one upload and one command buffer.
    const tokens = this.#scratch.tokens(N, (c, i) => {
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
      encodeMinibatch(rec, this.#m, i, L, tokens[i], modes, statsBuffer);
    }
    rec.submit();
    const stats = await this.#scratch.read(statsBuffer, 0, this.cells * N * 2);
    const s = seconds();
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
        seconds: s,
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
    const asked = this.#evaluate(
      cells.map((e) => evalRows(e) === B ? e : null),
    );
    // The short cells' weights are read now, in order with the calls.
    const weights = cells.map((e, c) => {
      const rows = evalRows(e);
      return rows === 0 || rows === B ? null : this.values(c);
    });
    for (const w of weights) w?.catch(() => {}); // awaited below
    const out = await asked;
    for (const [c, e] of cells.entries()) {
      if (!weights[c]) continue;
      const short = new FusedCells(
        this.device,
        {
          ...this.spec,
          batch_size: evalRows(e),
          max_steps: this.spec.num_steps,
        },
        [{ params: await weights[c], activation: this.#activation(c) }],
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
    const modes = this.#scratch.modes(N, (c, i) => {
      const e = cells[c];
      if (!e || i >= e.batches.length) return [STATE.keep, 0];
      return [i === 0 || !e.carry ? STATE.fresh : STATE.carry, 0];
    });
    const statsBuffer = this.#scratch.stats(N);
    const tokens = this.#scratch.tokens(N, (c, i) => {
      const list = cells[c]?.batches;
      return list && i < list.length ? { xs: [list[i].X], Y: list[i].Y } : null;
    });
    const rec = new Recorder(this.#m.gpu, false, this.cells);
    for (let i = 0; i < N; i++) {
      encodeForward(rec, this.#m, this.spec.num_steps, tokens[i], {
        i,
        modes,
      });
      // Its norm half sums stale gradients: unused.
      rec.dispatch(this.#m.k.stats, {
        sizes: { i },
        losses: this.#m.b.losses,
        grads: this.#m.b.grads,
        stats: statsBuffer,
      }, [1, 1]);
    }
    rec.submit();
    const stats = await this.#scratch.read(statsBuffer, 0, this.cells * N * 2);
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
    const [tok] = this.#scratch.tokens(1, () => ({ xs: [X], Y }));
    const modes = this.#scratch.modes(1, () => [STATE.keep, 0]);
    const state = new Float32Array(B * Hp);
    if (H0) {
      for (let b = 0; b < B; b++) {
        state.set(H0.subarray(b * H, (b + 1) * H), b * Hp);
      }
    }
    this.device.queue.writeBuffer(this.#m.b.hs, 0, state);
    const rec = new Recorder(this.#m.gpu);
    encodeGradients(rec, this.#m, T, tok, { i: 0, modes });
    rec.submit();
    const losses = await this.#scratch.read(this.#m.b.losses, 0, T * B);
    const last = await this.#scratch.read(this.#m.b.hs, T * B * Hp, B * Hp);
    const Hn = new Float32Array(B * H);
    for (let b = 0; b < B; b++) {
      Hn.set(last.subarray(b * Hp, b * Hp + H), b * H);
    }
    return {
      loss: losses.reduce((a, l) => a + l, 0) / losses.length,
      grads: this.#m.layout.unpack(
        await this.#scratch.read(this.#m.b.grads, 0, this.#m.layout.floats),
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
    const saved = await this.#scratch.read(this.#m.b.params);
    const rec = new Recorder(this.#m.gpu, true, this.cells);
    this.#recordOne(rec, { xs: [batch.X], Y: batch.Y }, [STATE.fresh, 1]);
    const times = await rec.resolve();
    this.#writeParams(saved as Float32Array<ArrayBuffer>);
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
    const [tok] = this.#scratch.tokens(1, () => seq);
    const modes = this.#scratch.modes(1, () => mode);
    const statsBuffer = this.#scratch.stats(1);
    const T = this.spec.num_steps;
    encodeMinibatch(rec, this.#m, 0, T, tok, modes, statsBuffer);
  }

  /** Cell `c`'s current parameter values, read back (prediction runs on them). */
  async values(c = 0): Promise<ParamValues> {
    const n = this.#m.layout.floats;
    return this.#m.layout.unpack(
      await this.#scratch.read(this.#m.b.params, c * n, n),
    );
  }

  /** Frees the buffers (the device and its pipelines stay). */
  destroy(): void {
    for (const t of this.#textures) {
      this.#m.gpu.forget(t.view);
      t.texture.destroy();
    }
    for (const b of this.#buffers) {
      this.#m.gpu.forget(b);
      b.destroy();
    }
    this.#scratch.destroy();
  }
}

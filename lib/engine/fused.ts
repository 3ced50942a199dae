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
 * parameters in `layout.ts`; this module lays out the buffers and records
 * what an epoch does.
 *
 * @module
 */
import type { Minibatch } from "../data/iterators.ts";
import type { ParamValues } from "../model/rnn.ts";
import type {
  BpttEngine,
  BpttSpec,
  EpochOptions,
  EpochStats,
  Gradients,
} from "./engine.ts";
import {
  colsum,
  gather,
  logitsSliced,
  minibatchStats,
  outer,
  outerSliced,
  pad,
  productStore,
  scatter,
  sgdUpdate,
  SLICE_NAMES,
  SLICES,
  softmaxCE,
  stepBackward,
  stepForward,
  transpose,
  WIDE,
} from "./kernels.ts";
import { Gpu, type Resource } from "./gpu.ts";
import { ParamLayout } from "./layout.ts";
import { type KernelTimes, Recorder } from "./recorder.ts";
import { productGroups, type Tile } from "./tile.ts";
import { TILES, type Tiles } from "./tiles.ts";
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

/** Where one minibatch's token arrays lie in the `tokens` buffer. */
interface Tokens {
  x: Resource;
  y: Resource;
  order: Resource;
  start: Resource;
}

const UNIFORM = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;

/** The kernels one model uses, chosen by its spec and the adapter's tiles. */
function kernelsFor(
  spec: Required<FusedSpec>,
  tiles: Tiles,
  sizes: { Hp: number; Vp: number; Ep: number; n: number },
  uniformA: boolean,
  uniformD: boolean,
) {
  const { batch_size: B, num_steps: T, activation } = spec;
  const { Hp, Vp, Ep, n } = sizes;
  const a = uniformA ? "uniform" : "storage";
  // Up to SLICES steps per weight-gradient sum, from uniform slices when
  // the adapter reads them faster, else from storage.
  const sliced = uniformA ? tiles.sliced : null;
  const tile = {
    step: tiles.step(B, Hp),
    logits: sliced ? sliced.logits(B, Vp) : tiles.wide(Vp),
    P: tiles.wide(Hp),
    dEx: tiles.wide(Ep),
    dW_hh: sliced ? sliced.outer(Hp, Hp) : tiles.outer(Hp, Hp),
    dW_hq: sliced ? sliced.outer(Hp, Vp) : tiles.outer(Hp, Vp),
    dW_xh: tiles.outer(Ep, Hp),
  };
  const op = uniformA ? "+=" : "=";
  return {
    tile,
    sliced: sliced !== null,
    forwardOneHot: stepForward(tile.step, activation, "one_hot", a),
    forwardEmbedded: stepForward(tile.step, activation, "embedding", a),
    backward: stepBackward(
      tile.step,
      activation,
      a,
      uniformD ? "uniform" : "storage",
    ),
    logitsSliced: logitsSliced(tile.logits),
    logits: productStore(tile.logits, "nn", true),
    P: productStore(tile.P, "nn", false),
    dEx: productStore(tile.dEx, "nt", false),
    dW_hhSliced: outerSliced(tile.dW_hh),
    dW_hqSliced: outerSliced(tile.dW_hq),
    dW_hh: outer(tile.dW_hh, op),
    dW_hq: outer(tile.dW_hq, op),
    dW_xh: outer(tile.dW_xh),
    softmax: softmaxCE(T * B, spec.vocab_size, Vp),
    stats: minibatchStats(T * B, n / 4),
  };
}

/** Workgroups of a weight gradient with K·… rows of G per `tile.rb`. */
const gradientGroups = (t: Tile, K: number, N: number): [number, number] => [
  N / 4 / (t.lanes * t.cv),
  K / t.rb,
];

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
  readonly #gpu: Gpu;
  readonly #layout: ParamLayout;
  readonly #B: number;
  readonly #T: number;
  readonly #Hp: number;
  readonly #Vp: number;
  readonly #Ep: number;
  /** The step products read their A operand from a uniform slot (faster on llvmpipe) when a state fits one. */
  readonly #uniformA: boolean;
  /** One step's dlogits fit a uniform slot too (and start 256-byte aligned): the backward step reads them so. */
  readonly #uniformD: boolean;
  readonly #k: ReturnType<typeof kernelsFor>;
  readonly #buffers: GPUBuffer[] = [];
  readonly #b: {
    params: GPUBuffer;
    grads: GPUBuffer;
    hs: GPUBuffer;
    carry: GPUBuffer;
    W_hh_T: GPUBuffer;
    W_hq_T: GPUBuffer;
    da: GPUBuffer;
    logits: GPUBuffer;
    zeros: GPUBuffer;
    losses: GPUBuffer;
    P: GPUBuffer;
    Ex: GPUBuffer;
    dEx: GPUBuffer;
    hcur: [GPUBuffer, GPUBuffer];
    dcur: [GPUBuffer, GPUBuffer];
    hyper: GPUBuffer;
  };
  /** Grown on demand: their sizes depend on the epoch. */
  #stats: GPUBuffer | null = null;
  #tokens: GPUBuffer | null = null;

  constructor(device: GPUDevice, spec: FusedSpec, params: ParamValues) {
    this.device = device;
    this.#gpu = Gpu.of(device);
    this.spec = {
      ...spec,
      max_steps: spec.max_steps ?? spec.num_steps,
      tiles: spec.tiles ?? "cpu",
    };
    const { batch_size: B, num_steps: T } = spec;
    const embedding = spec.input === "embedding";
    this.#B = B;
    this.#T = T;
    const Hp = this.#Hp = pad(spec.num_hiddens);
    const Vp = this.#Vp = pad(spec.vocab_size);
    const Ep = this.#Ep = embedding ? pad(spec.embed_size) : 0;
    const L = this.spec.max_steps;
    this.#layout = new ParamLayout(spec);
    const n = this.#layout.floats;
    const fits = (floats: number) =>
      floats * 4 <=
        Math.min(UNIFORM_BYTES, device.limits.maxUniformBufferBindingSize) &&
      (floats * 4) % device.limits.minUniformBufferOffsetAlignment === 0;
    this.#uniformA = fits(B * Hp);
    this.#uniformD = this.#uniformA && fits(B * Vp);
    this.#k = kernelsFor(
      this.spec,
      TILES[this.spec.tiles],
      { Hp, Vp, Ep, n },
      this.#uniformA,
      this.#uniformD,
    );

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
    const slack = this.#uniformA ? UNIFORM_BYTES : 0;
    this.#b = {
      params: buffer(n),
      grads: buffer(n),
      // States of steps 0…L, 0 the initial one.
      hs: buffer((L + 1) * B * Hp, slot, slack),
      carry: buffer(B * Hp),
      W_hh_T: buffer(Hp * Hp),
      W_hq_T: buffer(Vp * Hp),
      da: buffer(L * B * Hp),
      logits: buffer(T * B * Vp, slot, slack),
      // dlogits of the steps before the loss window (`detach: false`).
      zeros: buffer(B * Vp, slot, slack),
      losses: buffer(T * B),
      P: buffer(embedding ? L * B * Hp : 0),
      Ex: buffer(embedding ? L * B * Ep : 0),
      dEx: buffer(embedding ? L * B * Ep : 0),
      hcur: [buffer(B * Hp, slot, slack), buffer(B * Hp, slot, slack)],
      dcur: [buffer(B * Hp, slot, slack), buffer(B * Hp, slot, slack)],
      hyper: buffer(4, UNIFORM),
    };
    device.queue.writeBuffer(this.#b.params, 0, this.#layout.pack(params));
  }

  /** Parameter (or gradient) `name`'s region of the packed buffer `of`. */
  #region(of: GPUBuffer, name: string): Resource {
    return { buffer: of, ...this.#layout.bytes(name) };
  }

  /** A uniform slot of `buffer` from float `at`. */
  #slot(buffer: GPUBuffer, at: number): Resource {
    return { buffer, offset: at * 4, size: UNIFORM_BYTES };
  }

  /**
   * The uniform slices A0…A7 for `n` consecutive states of `hs` from slot
   * `first` (unused slices repeat the first).
   */
  #slices(
    first: number,
    n: number,
  ): Record<typeof SLICE_NAMES[number], Resource> {
    const floats = this.#B * this.#Hp;
    return Object.fromEntries(
      SLICE_NAMES.map((name, s) => [
        name,
        this.#slot(this.#b.hs, (first + (s < n ? s : 0)) * floats),
      ]),
    ) as Record<typeof SLICE_NAMES[number], Resource>;
  }

  /**
   * Forward over L steps from state slot 0, and the loss (per row, in
   * `losses`) of the last num_steps; their logits become dlogits.
   */
  #encodeForward(rec: Recorder, L: number, tok: Tokens) {
    const B = this.#B, T = this.#T, Hp = this.#Hp, Vp = this.#Vp;
    const HV = Hp / 4, VV = Vp / 4, EV = this.#Ep / 4;
    const w = L - T; // first step of the loss window
    const rows = L * B;
    const b = this.#b, k = this.#k, gpu = this.#gpu;
    if (this.spec.input === "embedding") {
      // Embedded inputs: their projection P for all steps at once.
      rec.dispatch(gather, {
        step: gpu.step({ n: rows, N: EV }),
        x: tok.x,
        table: this.#region(b.params, "W_embed"),
        out: b.Ex,
      }, [EV / 8, Math.ceil(rows / 8)]);
      rec.dispatch(
        k.P,
        {
          step: gpu.step({ M: rows, K: EV, N: HV }),
          A: b.Ex,
          W: this.#region(b.params, "W_xh"),
          C: b.P,
        },
        productGroups(k.tile.P, rows, Hp),
        "P",
      );
    }
    // Each step reads its input state from a buffer of its own (a writable
    // buffer cannot also be read through another binding, and on llvmpipe a
    // uniform buffer's loads are one address for all lanes) and writes the
    // next step's into the other of two.
    rec.copy(b.hs, 0, b.hcur[0], 0, B * Hp * 4);
    const groups = productGroups(k.tile.step, B, Hp);
    for (let t = 0; t < L; t++) {
      const A = b.hcur[t % 2];
      const step = {
        step: gpu.step({ t, M: B, K: HV, N: HV }),
        A: this.#uniformA ? this.#slot(A, 0) : A,
        W: this.#region(b.params, "W_hh"),
        b_h: this.#region(b.params, "b_h"),
        hs: b.hs,
        next: b.hcur[(t + 1) % 2],
      };
      if (this.spec.input === "embedding") {
        rec.dispatch(k.forwardEmbedded, { ...step, P: b.P }, groups);
      } else {
        rec.dispatch(k.forwardOneHot, {
          ...step,
          x: tok.x,
          W_xh: this.#region(b.params, "W_xh"),
        }, groups);
      }
    }
    // logits_t = H_t W_hq + b_q over the loss window, H_t in slot t + 1.
    const W_hq = this.#region(b.params, "W_hq");
    const b_q = this.#region(b.params, "b_q");
    if (k.sliced) {
      const [x, y] = productGroups(k.tile.logits, B, Vp);
      for (let t = w; t < L; t += SLICES) {
        const s = Math.min(SLICES, L - t);
        rec.dispatch(
          k.logitsSliced,
          {
            step: gpu.step({ o: (t - w) * B, M: B, K: HV, N: VV, s }),
            ...this.#slices(t + 1, s),
            W: W_hq,
            C: b.logits,
            bias: b_q,
          },
          [x, s * y],
          "logits",
        );
      }
    } else {
      rec.dispatch(
        k.logits,
        {
          step: gpu.step({ a: (w + 1) * B * HV, M: T * B, K: HV, N: VV }),
          A: b.hs,
          W: W_hq,
          C: b.logits,
          bias: b_q,
        },
        productGroups(k.tile.logits, T * B, Vp),
        "logits",
      );
    }
    rec.dispatch(k.softmax, {
      y: tok.y,
      logits: b.logits,
      losses: b.losses,
    }, [Math.ceil(T * B / WIDE), 1]);
  }

  /**
   * Forward over L steps from state slot 0 and the loss on the last
   * num_steps, then backward through all L steps; leaves the gradients in
   * `grads`.
   */
  #encodeGradients(rec: Recorder, L: number, tok: Tokens) {
    this.#encodeForward(rec, L, tok);
    const B = this.#B, T = this.#T, Hp = this.#Hp, Vp = this.#Vp;
    const HV = Hp / 4, VV = Vp / 4, EV = this.#Ep / 4;
    const w = L - T; // first step of the loss window
    const V = this.spec.vocab_size;
    const rows = L * B;
    const b = this.#b, k = this.#k, gpu = this.#gpu;
    rec.clear(b.dcur[(L - 1) % 2], 0, B * Hp * 4); // dA after the last step
    rec.dispatch(
      transpose,
      {
        step: gpu.step({ M: HV, N: HV }),
        m: this.#region(b.params, "W_hh"),
        out: b.W_hh_T,
      },
      [Math.ceil(Hp * Hp / 16 / WIDE), 1],
      "transpose W_hh",
    );
    rec.dispatch(
      transpose,
      {
        step: gpu.step({ M: HV, N: VV }),
        m: this.#region(b.params, "W_hq"),
        out: b.W_hq_T,
      },
      [Math.ceil(Hp * Vp / 16 / WIDE), 1],
      "transpose W_hq",
    );
    const groups = productGroups(k.tile.step, B, Hp);
    for (let t = L - 1; t >= 0; t--) {
      // The output layer's share: dlogits_t, zeros before the window.
      const D: Resource = t < w
        ? (this.#uniformD ? this.#slot(b.zeros, 0) : b.zeros)
        : (this.#uniformD ? this.#slot(b.logits, (t - w) * B * Vp) : b.logits);
      const o = this.#uniformD || t < w ? 0 : (t - w) * B * VV;
      const A = b.dcur[t % 2];
      rec.dispatch(k.backward, {
        step: gpu.step({ t, o, M: B, K: HV, N: HV, K2: VV }),
        A: this.#uniformA ? this.#slot(A, 0) : A,
        W: b.W_hh_T,
        W_q: b.W_hq_T,
        D,
        hs: b.hs,
        da: b.da,
        next: b.dcur[(t + 1) % 2],
      }, groups);
    }
    // Weight gradients: with uniform state slots, G is cleared and each
    // SLICES steps' sum is added to it; else one sum over all rows.
    const dW_hh = this.#region(b.grads, "W_hh");
    const dW_hq = this.#region(b.grads, "W_hq");
    const hh = gradientGroups(k.tile.dW_hh, Hp, Hp);
    const hq = gradientGroups(k.tile.dW_hq, Hp, Vp);
    if (this.#uniformA) {
      for (const name of ["W_hh", "W_hq"]) {
        const r = this.#layout.bytes(name);
        rec.clear(b.grads, r.offset, r.size);
      }
      // dW_hh = Σ_t H_{t−1}ᵀ dA_t: H_{t−1} is slot t.
      for (let t = 0; t < L; t += SLICES) {
        const s = Math.min(SLICES, L - t);
        if (k.sliced) {
          rec.dispatch(
            k.dW_hhSliced,
            {
              step: gpu.step({ o: t * B, M: B, K: HV, N: HV, s }),
              ...this.#slices(t, s),
              D: b.da,
              G: dW_hh,
            },
            hh,
            "dW_hh",
          );
        } else {
          rec.dispatch(
            k.dW_hh,
            {
              step: gpu.step({
                a: t * B * HV,
                o: t * B,
                n: s * B,
                K: HV,
                N: HV,
              }),
              A: b.hs,
              D: b.da,
              G: dW_hh,
            },
            hh,
            "dW_hh",
          );
        }
      }
      // dW_hq = Σ_t H_tᵀ dlogits_t over the window: H_t is slot t + 1.
      for (let t = w; t < L; t += SLICES) {
        const s = Math.min(SLICES, L - t);
        if (k.sliced) {
          rec.dispatch(
            k.dW_hqSliced,
            {
              step: gpu.step({ o: (t - w) * B, M: B, K: HV, N: VV, s }),
              ...this.#slices(t + 1, s),
              D: b.logits,
              G: dW_hq,
            },
            hq,
            "dW_hq",
          );
        } else {
          rec.dispatch(
            k.dW_hq,
            {
              step: gpu.step({
                a: (t + 1) * B * HV,
                o: (t - w) * B,
                n: s * B,
                K: HV,
                N: VV,
              }),
              A: b.hs,
              D: b.logits,
              G: dW_hq,
            },
            hq,
            "dW_hq",
          );
        }
      }
    } else {
      rec.dispatch(
        k.dW_hh,
        {
          step: gpu.step({ n: rows, K: HV, N: HV }),
          A: b.hs,
          D: b.da,
          G: dW_hh,
        },
        hh,
        "dW_hh",
      );
      rec.dispatch(
        k.dW_hq,
        {
          step: gpu.step({ a: (w + 1) * B * HV, n: T * B, K: HV, N: VV }),
          A: b.hs,
          D: b.logits,
          G: dW_hq,
        },
        hq,
        "dW_hq",
      );
    }
    rec.dispatch(
      colsum,
      {
        step: gpu.step({ n: rows, N: HV }),
        D: b.da,
        G: this.#region(b.grads, "b_h"),
      },
      [HV / 8, 1],
      "db_h",
    );
    rec.dispatch(
      colsum,
      {
        step: gpu.step({ n: T * B, N: VV }),
        D: b.logits,
        G: this.#region(b.grads, "b_q"),
      },
      [VV / 8, 1],
      "db_q",
    );
    if (this.spec.input === "embedding") {
      rec.dispatch(
        k.dW_xh,
        {
          step: gpu.step({ n: rows, K: EV, N: HV }),
          A: b.Ex,
          D: b.da,
          G: this.#region(b.grads, "W_xh"),
        },
        gradientGroups(k.tile.dW_xh, this.#Ep, Hp),
        "dW_xh",
      );
      rec.dispatch(
        k.dEx,
        {
          step: gpu.step({ M: rows, K: HV, N: EV }),
          A: b.da,
          W: this.#region(b.params, "W_xh"),
          C: b.dEx,
        },
        productGroups(k.tile.dEx, rows, this.#Ep),
        "dEx",
      );
      rec.dispatch(scatter, {
        step: gpu.step({ N: EV }),
        order: tok.order,
        start: tok.start,
        D: b.dEx,
        G: this.#region(b.grads, "W_embed"),
      }, [EV / 8, V]);
    } else {
      rec.dispatch(scatter, {
        step: gpu.step({ N: HV }),
        order: tok.order,
        start: tok.start,
        D: b.da,
        G: this.#region(b.grads, "W_xh"),
      }, [HV / 8, V]);
    }
  }

  /**
   * Minibatch `i` of an epoch: its initial state (see `#encodeState`),
   * gradients over L steps, loss and norm into slot i of `stats`, and the
   * clipped SGD update.
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
    const b = this.#b, gpu = this.#gpu;
    const n = this.#layout.floats / 4;
    rec.dispatch(this.#k.stats, {
      step: gpu.step({ t: i }),
      losses: b.losses,
      grads: b.grads,
      stats: this.#stats!,
    }, [1, 1]);
    rec.dispatch(sgdUpdate, {
      step: gpu.step({ t: i, n }),
      hyper: b.hyper,
      stats: this.#stats!,
      grads: b.grads,
      params: b.params,
    }, [Math.ceil(n / WIDE), 1]);
  }

  /**
   * The initial state in slot 0: zeros when `fresh`, else the last one of
   * the minibatch before when `carry`, else slot 0 as it is (`detach:
   * false` restarts from the epoch's first state).
   */
  #encodeState(rec: Recorder, state: { fresh: boolean; carry: boolean }) {
    const b = this.#b;
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
    this.#growStats(list.length);
    const tokens = this.#upload(list.map((b) => ({ xs: [b.X], Y: b.Y })));
    const rec = new Recorder(this.#gpu);
    list.forEach((_, i) => {
      this.#encodeState(rec, { fresh: i === 0 || !carry, carry: true });
      this.#encodeForward(rec, this.#T, tokens[i]);
      // Its norm half sums stale gradients: unused.
      rec.dispatch(this.#k.stats, {
        step: this.#gpu.step({ t: i }),
        losses: this.#b.losses,
        grads: this.#b.grads,
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
    const saved = await this.#read(this.#b.params);
    const [tok] = this.#upload([{ xs: [batch.X], Y: batch.Y }]);
    this.#growStats(1);
    const rec = new Recorder(this.#gpu, true);
    this.#encodeMinibatch(rec, 0, this.#T, tok, { fresh: true, carry: false });
    const times = await rec.resolve();
    this.device.queue.writeBuffer(
      this.#b.params,
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
      this.#gpu.forget(old);
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
    const B = this.#B, T = this.#T, Hp = this.#Hp, H = this.spec.num_hiddens;
    const [tok] = this.#upload([{ xs: [X], Y }]);
    const state = new Float32Array(B * Hp);
    if (H0) {
      for (let b = 0; b < B; b++) {
        state.set(H0.subarray(b * H, (b + 1) * H), b * Hp);
      }
    }
    this.device.queue.writeBuffer(this.#b.hs, 0, state);
    const rec = new Recorder(this.#gpu);
    this.#encodeGradients(rec, T, tok);
    rec.submit();
    const losses = await this.#read(this.#b.losses, 0, T * B);
    const last = await this.#read(this.#b.hs, T * B * Hp, B * Hp);
    const Hn = new Float32Array(B * H);
    for (let b = 0; b < B; b++) {
      Hn.set(last.subarray(b * Hp, b * Hp + H), b * H);
    }
    return {
      loss: losses.reduce((a, l) => a + l, 0) / losses.length,
      grads: this.#layout.unpack(
        await this.#read(this.#b.grads, 0, this.#layout.floats),
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
    const B = this.#B, T = this.#T;
    const start = performance.now();
    const theta = options.clip === "off" ? 3.4e38 : options.clip;
    this.device.queue.writeBuffer(
      this.#b.hyper,
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
    this.#growStats(list.length);
    // The whole epoch is one upload and one command buffer.
    const tokens = this.#upload(list.map((batch, i) => ({
      xs: replay ? list.slice(0, i + 1).map((b) => b.X) : [batch.X],
      Y: batch.Y,
    })));
    const rec = new Recorder(this.#gpu);
    list.forEach((_, i) => {
      const L = replay ? (i + 1) * T : T;
      this.#encodeMinibatch(rec, i, L, tokens[i], {
        fresh: i === 0 || options.sampling === "random",
        carry: !replay,
      });
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
    return this.#layout.unpack(
      await this.#read(this.#b.params, 0, this.#layout.floats),
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
    const B = this.#B, T = this.#T;
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
    if (this.#gpu.error) throw new Error(`WebGPU: ${this.#gpu.error}`);
    return out;
  }

  /** Frees the buffers (the device and its pipelines stay). */
  destroy(): void {
    for (const b of [...this.#buffers, this.#stats, this.#tokens]) {
      if (!b) continue;
      this.#gpu.forget(b);
      b.destroy();
    }
  }
}

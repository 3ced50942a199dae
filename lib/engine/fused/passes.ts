/**
 * What one minibatch of the fused engine dispatches, recorded into a
 * command buffer: the forward steps and the loss, the backward steps and
 * the weight gradients, the loss and norm sums and the clipped SGD update.
 * Each pass is a function of the models' sizes, kernels and buffers
 * ({@linkcode Model}), and each dispatch covers every cell of the group;
 * `fused.ts` holds them and decides which passes an epoch runs.
 *
 * @module
 */
import {
  colsum,
  copy,
  gather,
  initialState,
  logitsSliced,
  minibatchStats,
  outer,
  outerSliced,
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
import type { Gpu, Resource } from "./gpu.ts";
import type { ParamLayout } from "./layout.ts";
import type { Recorder } from "./recorder.ts";
import { productGroups, type Tile } from "./tile.ts";
import type { Tiles } from "./tiles.ts";
import { UNIFORM_BYTES } from "./wgsl.ts";
import type { GroupSpec } from "../group.ts";

/** Where one minibatch's token arrays lie in the `tokens` buffer (cell 0's, the others' following at the buffer's stride). */
export interface Tokens {
  x: Resource;
  y: Resource;
  order: Resource;
  start: Resource;
}

/** The models' GPU buffers, each holding every cell's part in turn (widths padded, see `fused.ts`). */
export interface Buffers {
  params: GPUBuffer;
  grads: GPUBuffer;
  /** States of steps 0…L, slot 0 the initial one. */
  hs: GPUBuffer;
  W_hh_T: GPUBuffer;
  W_hq_T: GPUBuffer;
  da: GPUBuffer;
  /** Logits of the loss window, then dlogits. */
  logits: GPUBuffer;
  /** dlogits of the steps before the loss window (`detach: false`). */
  zeros: GPUBuffer;
  losses: GPUBuffer;
  P: GPUBuffer;
  Ex: GPUBuffer;
  dEx: GPUBuffer;
  /** The step products' A operands: states, and dA in the backward steps. */
  hcur: [GPUBuffer, GPUBuffer];
  dcur: [GPUBuffer, GPUBuffer];
  /** Each cell's lr, θ and activation (`HYPER`). */
  hyper: GPUBuffer;
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
  /**
   * A state fits a uniform slot: the weight gradients are summed eight
   * steps at a time (the engine's arithmetic for such shapes, whatever the
   * group's size).
   */
  chunked: boolean;
  /** A group of one whose state fits a uniform slot (faster on llvmpipe): the step products read it so. */
  uniformA: boolean;
  /** One step's dlogits fit one too (and start 256-byte aligned). */
  uniformD: boolean;
  k: Kernels;
  b: Buffers;
}

/** The kernels of one model. */
export type Kernels = ReturnType<typeof kernelsFor>;

/** The kernels a group uses, chosen by its spec and the adapter's tiles. */
export function kernelsFor(
  spec: GroupSpec,
  tiles: Tiles,
  sizes: { Hp: number; Vp: number; Ep: number; n: number },
  shape: { chunked: boolean; uniformA: boolean; uniformD: boolean },
) {
  const { batch_size: B, num_steps: T } = spec;
  const { Hp, Vp, Ep, n } = sizes;
  const a = shape.uniformA ? "uniform" : "storage";
  // With states that fit uniform slots each weight-gradient sum covers up
  // to SLICES steps (the engine's arithmetic); the adapter's tiles say
  // whether a group of one reads those steps as uniform slices or from
  // storage.
  const sliced = shape.uniformA ? tiles.sliced : null;
  const tile = {
    step: tiles.step(B, Hp),
    logits: sliced ? sliced.logits(B, Vp) : tiles.wide(Vp),
    P: tiles.wide(Hp),
    dEx: tiles.wide(Ep),
    dW_hh: sliced ? sliced.outer(Hp, Hp) : tiles.outer(Hp, Hp),
    dW_hq: sliced ? sliced.outer(Hp, Vp) : tiles.outer(Hp, Vp),
    dW_xh: tiles.outer(Ep, Hp),
  };
  const op = shape.chunked ? "+=" : "=";
  return {
    tile,
    sliced: sliced !== null,
    forwardOneHot: stepForward(tile.step, "one_hot", a),
    forwardEmbedded: stepForward(tile.step, "embedding", a),
    backward: stepBackward(
      tile.step,
      a,
      shape.uniformD ? "uniform" : "storage",
    ),
    logitsSliced: logitsSliced(tile.logits),
    logits: productStore(tile.logits, "nn", true),
    P: productStore(tile.P, "nn", false),
    dEx: productStore(tile.dEx, "nt", false),
    /** The weight gradients' kernels, from storage and from slices. */
    dW: {
      hh: {
        tile: tile.dW_hh,
        kernel: outer(tile.dW_hh, op),
        sliced: outerSliced(tile.dW_hh),
      },
      hq: {
        tile: tile.dW_hq,
        kernel: outer(tile.dW_hq, op),
        sliced: outerSliced(tile.dW_hq),
      },
    },
    dW_xh: outer(tile.dW_xh),
    softmax: softmaxCE(T * B, spec.vocab_size, Vp),
    stats: minibatchStats(T * B, n / 4),
  };
}

/** Workgroups of a weight gradient G (K × N floats): rb rows of G and lanes·cv vec4 columns each. */
const gradientGroups = (t: Tile, K: number, N: number): [number, number] => [
  N / 4 / (t.lanes * t.cv),
  K / t.rb,
];

/** Parameter (or gradient) `name`'s region of the packed buffer `of`, from cell 0's to the last cell's. */
export function region(m: Model, of: GPUBuffer, name: string): Resource {
  const { offset, size } = m.layout.bytes(name);
  return { buffer: of, offset, size: size + (m.C - 1) * m.layout.floats * 4 };
}

/** A uniform slot of `buffer` from float `at`. */
export function slot(buffer: GPUBuffer, at: number): Resource {
  return { buffer, offset: at * 4, size: UNIFORM_BYTES };
}

/**
 * The uniform slices A0…A7 for `n` consecutive states of `hs` from slot
 * `first` (unused slices repeat the first).
 */
function slices(
  m: Model,
  first: number,
  n: number,
): Record<typeof SLICE_NAMES[number], Resource> {
  const floats = m.B * m.Hp;
  return Object.fromEntries(
    SLICE_NAMES.map((name, s) => [
      name,
      slot(m.b.hs, (first + (s < n ? s : 0)) * floats),
    ]),
  ) as Record<typeof SLICE_NAMES[number], Resource>;
}

/**
 * Forward over L steps from state slot 0, and the loss (per row, in
 * `losses`) of the last num_steps; their logits become dlogits.
 */
export function encodeForward(
  rec: Recorder,
  m: Model,
  L: number,
  tok: Tokens,
) {
  const B = m.B, T = m.T, Hp = m.Hp, Vp = m.Vp;
  const HV = Hp / 4, VV = Vp / 4, EV = m.Ep / 4;
  const w = L - T; // first step of the loss window
  const rows = L * B;
  const b = m.b, k = m.k, gpu = m.gpu;
  if (m.spec.input === "embedding") {
    // Embedded inputs: their projection P for all steps at once.
    rec.dispatch(gather, {
      step: gpu.step({ n: rows, N: EV }),
      x: tok.x,
      table: region(m, b.params, "W_embed"),
      out: b.Ex,
    }, [EV / 8, Math.ceil(rows / 8)]);
    rec.dispatch(
      k.P,
      {
        step: gpu.step({ M: rows, K: EV, N: HV }),
        A: b.Ex,
        W: region(m, b.params, "W_xh"),
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
  const state = B * Hp / 4;
  rec.dispatch(copy, {
    step: gpu.step({ n: state }),
    src: b.hs,
    out: b.hcur[0],
  }, [Math.ceil(state / WIDE), 1]);
  const groups = productGroups(k.tile.step, B, Hp);
  for (let t = 0; t < L; t++) {
    const A = b.hcur[t % 2];
    const step = {
      step: gpu.step({ t, M: B, K: HV, N: HV }),
      hyper: b.hyper,
      A: m.uniformA ? slot(A, 0) : A,
      W: region(m, b.params, "W_hh"),
      b_h: region(m, b.params, "b_h"),
      hs: b.hs,
      next: b.hcur[(t + 1) % 2],
    };
    if (m.spec.input === "embedding") {
      rec.dispatch(k.forwardEmbedded, { ...step, P: b.P }, groups);
    } else {
      rec.dispatch(k.forwardOneHot, {
        ...step,
        x: tok.x,
        W_xh: region(m, b.params, "W_xh"),
      }, groups);
    }
  }
  // logits_t = H_t W_hq + b_q over the loss window, H_t in slot t + 1.
  const W_hq = region(m, b.params, "W_hq");
  const b_q = region(m, b.params, "b_q");
  if (k.sliced) {
    const [x, y] = productGroups(k.tile.logits, B, Vp);
    for (let t = w; t < L; t += SLICES) {
      const s = Math.min(SLICES, L - t);
      rec.dispatch(
        k.logitsSliced,
        {
          step: gpu.step({ o: (t - w) * B, M: B, K: HV, N: VV, s }),
          ...slices(m, t + 1, s),
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
export function encodeGradients(
  rec: Recorder,
  m: Model,
  L: number,
  tok: Tokens,
) {
  encodeForward(rec, m, L, tok);
  const B = m.B, T = m.T, Hp = m.Hp, Vp = m.Vp;
  const HV = Hp / 4, VV = Vp / 4, EV = m.Ep / 4;
  const w = L - T; // first step of the loss window
  const V = m.spec.vocab_size;
  const rows = L * B;
  const b = m.b, k = m.k, gpu = m.gpu;
  rec.clear(b.dcur[(L - 1) % 2], 0, m.C * B * Hp * 4); // dA after the last step
  // Summed eight steps at a time, dW_hh and dW_hq are added to zeros.
  if (m.chunked) rec.clear(b.grads, 0, m.C * m.layout.floats * 4);
  // W_hhᵀ and W_hqᵀ: the backward steps read their rows.
  for (
    const [name, out, NV] of [
      ["W_hh", b.W_hh_T, HV],
      ["W_hq", b.W_hq_T, VV],
    ] as const
  ) {
    rec.dispatch(
      transpose,
      {
        step: gpu.step({ M: HV, N: NV }),
        m: region(m, b.params, name),
        out,
      },
      [Math.ceil(HV * NV / WIDE), 1],
      `transpose ${name}`,
    );
  }
  const groups = productGroups(k.tile.step, B, Hp);
  for (let t = L - 1; t >= 0; t--) {
    // The output layer's share: dlogits_t, zeros before the window.
    const D: Resource = t < w
      ? (m.uniformD ? slot(b.zeros, 0) : b.zeros)
      : (m.uniformD ? slot(b.logits, (t - w) * B * Vp) : b.logits);
    const o = m.uniformD || t < w ? 0 : (t - w) * B * VV;
    const A = b.dcur[t % 2];
    rec.dispatch(k.backward, {
      step: gpu.step({ t, o, M: B, K: HV, N: HV, K2: VV }),
      hyper: b.hyper,
      A: m.uniformA ? slot(A, 0) : A,
      W: b.W_hh_T,
      W_q: b.W_hq_T,
      D,
      hs: b.hs,
      da: b.da,
      next: b.dcur[(t + 1) % 2],
    }, groups);
  }
  // Weight gradients G = Σ_t Aᵀ D_t over steps first…L − 1: dW_hh with A =
  // H_{t−1} (state slot t) and D = dA_t, dW_hq with A = H_t (slot t + 1)
  // and D = dlogits_t over the loss window.
  const weights = [
    { name: "W_hh", first: 0, slot: 0, D: b.da, N: Hp, ...k.dW.hh },
    { name: "W_hq", first: w, slot: 1, D: b.logits, N: Vp, ...k.dW.hq },
  ];
  for (const g of weights) {
    const G = region(m, b.grads, g.name);
    const groups = gradientGroups(g.tile, Hp, g.N);
    const NV = g.N / 4, label = `d${g.name}`;
    if (!m.chunked) {
      // One sum over all its rows.
      rec.dispatch(
        g.kernel,
        {
          step: gpu.step({
            a: (g.first + g.slot) * B * HV,
            n: (L - g.first) * B,
            K: HV,
            N: NV,
          }),
          A: b.hs,
          D: g.D,
          G,
        },
        groups,
        label,
      );
      continue;
    }
    // Each SLICES steps' sum is added to G (cleared above).
    for (let t = g.first; t < L; t += SLICES) {
      const s = Math.min(SLICES, L - t), o = (t - g.first) * B;
      if (k.sliced) {
        rec.dispatch(
          g.sliced,
          {
            step: gpu.step({ o, M: B, K: HV, N: NV, s }),
            ...slices(m, t + g.slot, s),
            D: g.D,
            G,
          },
          groups,
          label,
        );
      } else {
        rec.dispatch(
          g.kernel,
          {
            step: gpu.step({
              a: (t + g.slot) * B * HV,
              o,
              n: s * B,
              K: HV,
              N: NV,
            }),
            A: b.hs,
            D: g.D,
            G,
          },
          groups,
          label,
        );
      }
    }
  }
  rec.dispatch(
    colsum,
    {
      step: gpu.step({ n: rows, N: HV }),
      D: b.da,
      G: region(m, b.grads, "b_h"),
    },
    [HV / 8, 1],
    "db_h",
  );
  rec.dispatch(
    colsum,
    {
      step: gpu.step({ n: T * B, N: VV }),
      D: b.logits,
      G: region(m, b.grads, "b_q"),
    },
    [VV / 8, 1],
    "db_q",
  );
  if (m.spec.input === "embedding") {
    rec.dispatch(
      k.dW_xh,
      {
        step: gpu.step({ n: rows, K: EV, N: HV }),
        A: b.Ex,
        D: b.da,
        G: region(m, b.grads, "W_xh"),
      },
      gradientGroups(k.tile.dW_xh, m.Ep, Hp),
      "dW_xh",
    );
    rec.dispatch(
      k.dEx,
      {
        step: gpu.step({ M: rows, K: HV, N: EV }),
        A: b.da,
        W: region(m, b.params, "W_xh"),
        C: b.dEx,
      },
      productGroups(k.tile.dEx, rows, m.Ep),
      "dEx",
    );
    rec.dispatch(scatter, {
      step: gpu.step({ N: EV }),
      order: tok.order,
      start: tok.start,
      D: b.dEx,
      G: region(m, b.grads, "W_embed"),
    }, [EV / 8, V]);
  } else {
    rec.dispatch(scatter, {
      step: gpu.step({ N: HV }),
      order: tok.order,
      start: tok.start,
      D: b.da,
      G: region(m, b.grads, "W_xh"),
    }, [HV / 8, V]);
  }
}

/** What each cell does in each minibatch of an epoch, as the `modes` buffer holds it: per cell, per minibatch, [state, update]. */
export const STATE = { keep: 0, fresh: 1, carry: 2 } as const;

/**
 * Minibatch `i` of an epoch: each cell's initial state (`modes`, see
 * {@linkcode encodeState}), gradients over L steps, loss and norm into
 * slot i of `stats`, and the clipped SGD update (for the cells whose
 * `modes` say so).
 */
export function encodeMinibatch(
  rec: Recorder,
  m: Model,
  i: number,
  L: number,
  tok: Tokens,
  modes: GPUBuffer,
  stats: GPUBuffer,
) {
  encodeState(rec, m, i, modes);
  encodeGradients(rec, m, L, tok);
  const b = m.b, gpu = m.gpu;
  const n = m.layout.floats / 4;
  rec.dispatch(m.k.stats, {
    step: gpu.step({ t: i }),
    losses: b.losses,
    grads: b.grads,
    stats: stats,
  }, [1, 1]);
  rec.dispatch(sgdUpdate, {
    step: gpu.step({ t: i, n }),
    hyper: b.hyper,
    modes,
    stats: stats,
    grads: b.grads,
    params: b.params,
  }, [Math.ceil(n / WIDE), 1]);
}

/**
 * Each cell's initial state in slot 0 for minibatch `i`, as its `modes`
 * entry says ({@linkcode STATE}): zeros (fresh), the last one of the
 * minibatch before (carry), or slot 0 as it is (keep: `detach: false`
 * restarts from the epoch's first state).
 */
export function encodeState(
  rec: Recorder,
  m: Model,
  i: number,
  modes: GPUBuffer,
) {
  const n = m.B * m.Hp / 4;
  rec.dispatch(initialState, {
    step: m.gpu.step({ t: i, n, K: m.T }),
    modes,
    hs: m.b.hs,
  }, [Math.ceil(n / WIDE), 1]);
}

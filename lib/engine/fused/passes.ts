/**
 * What one minibatch of the fused engine dispatches, recorded into a
 * command buffer: the forward steps and the loss, the backward steps and
 * the weight gradients, the loss and norm sums and the clipped SGD update.
 * Each pass is a function of a group's sizes, kernels and buffers
 * ({@linkcode Model}); each dispatch covers every cell of the group and
 * names what it binds; `fused.ts` holds them and decides which passes an
 * epoch runs.
 *
 * @module
 */
import { SLICES, WIDE } from "./kernels.ts";
import type { Kernels } from "./kernels.ts";
import type { Gpu, Resource } from "./gpu.ts";
import type { ParamLayout, StepRows } from "./layout.ts";
import type { Recorder } from "./recorder.ts";
import { gradientGroups, productGroups } from "./tiles.ts";
import { UNIFORM_BYTES } from "./wgsl.ts";
import type { GroupSpec } from "../group.ts";

/** Where one minibatch's token arrays lie in the `tokens` buffer (cell 0's, the others' following at the buffer's stride). */
export interface Tokens {
  /** The inputs of every step the backward pass reaches, time-major. */
  x: Resource;
  /** The targets of the loss window, time-major. */
  y: Resource;
  /** Rows grouped by token, for the lookups' gradient. */
  order: Resource;
  /** Where each token's rows start in `order`. */
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
  /** dL/dA_t of every step. */
  da: GPUBuffer;
  /** Logits of the loss window, then dlogits. */
  logits: GPUBuffer;
  /** dlogits of the steps before the loss window (`detach: false`). */
  zeros: GPUBuffer;
  losses: GPUBuffer;
  /** The embedded inputs' projection, E_x W_xh of every step. */
  P: GPUBuffer;
  /** The embedded inputs, E_x. */
  Ex: GPUBuffer;
  dEx: GPUBuffer;
  /** The step products' A operands: states, and dA in the backward steps (two take turns). */
  hcur: [GPUBuffer, GPUBuffer];
  dcur: [GPUBuffer, GPUBuffer];
  /** Each cell's lr, θ and activation (`Hyper`). */
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
  /** A group of one whose state fits a uniform slot (faster on llvmpipe): the step products read it so. */
  uniformA: boolean;
  /** One step's dlogits fit one too (and start 256-byte aligned). */
  uniformD: boolean;
  k: Kernels;
  b: Buffers;
}

/** Parameter (or gradient) `name`'s region of the packed buffer `of`, from cell 0's to the last cell's. */
export function region(m: Model, of: GPUBuffer, name: string): Resource {
  const { offset, size } = m.layout.bytes(name);
  return { buffer: of, offset, size: size + (m.C - 1) * m.layout.floats * 4 };
}

/** A uniform slot of `buffer` from float `at`. */
export const slot = (buffer: GPUBuffer, at: number): Resource => ({
  buffer,
  offset: at * 4,
  size: UNIFORM_BYTES,
});

/** A step's A operand: the uniform slot, or the storage binding, the other one unused. */
const operand = (m: Model, buffer: GPUBuffer) =>
  m.uniformA
    ? { A_slot: slot(buffer, 0), A: null }
    : { A_slot: null, A: buffer };

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
  const { B, T, Hp, Vp, b, k } = m;
  const HV = Hp / 4, EV = m.Ep / 4;
  const w = L - T; // first step of the loss window
  const rows = L * B;
  const oneHot = m.spec.input === "one_hot";
  if (!oneHot) {
    // Embedded inputs: their projection P for all steps at once.
    rec.dispatch(k.gather, {
      sizes: { rows, N: EV },
      x: tok.x,
      table: region(m, b.params, "W_embed"),
      out: b.Ex,
    }, [EV / 8, Math.ceil(rows / 8)]);
    rec.dispatch(
      k.P,
      {
        sizes: { rows, K: EV, N: HV, a: 0, o: 0 },
        A: b.Ex,
        W: region(m, b.params, "W_xh"),
        C: b.P,
        bias: null,
      },
      productGroups(k.tile.P, rows, Hp),
      "P",
    );
  }
  const state = B * HV;
  rec.dispatch(k.copy, { sizes: { n: state }, src: b.hs, out: b.hcur[0] }, [
    Math.ceil(state / WIDE),
    1,
  ]);
  const groups = productGroups(k.tile.step, B, Hp);
  for (let t = 0; t < L; t++) {
    rec.dispatch(k.forward, {
      sizes: { t, rows: B, width: HV },
      hyper: b.hyper,
      ...operand(m, b.hcur[t % 2]),
      W: region(m, b.params, "W_hh"),
      x: oneHot ? tok.x : null,
      W_xh: oneHot ? region(m, b.params, "W_xh") : null,
      P: oneHot ? null : b.P,
      b_h: region(m, b.params, "b_h"),
      hs: b.hs,
      next: b.hcur[(t + 1) % 2],
    }, groups);
  }
  // logits_t = H_t W_hq + b_q over the loss window, H_t in slot t + 1.
  rec.dispatch(
    k.logits,
    {
      sizes: {
        rows: T * B,
        K: HV,
        N: Vp / 4,
        a: m.states.vec4(w + 1),
        o: 0,
      },
      A: b.hs,
      W: region(m, b.params, "W_hq"),
      C: b.logits,
      bias: region(m, b.params, "b_q"),
    },
    productGroups(k.tile.logits, T * B, Vp),
    "logits",
  );
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
  const { B, T, Hp, Vp, b, k, states, outputs } = m;
  const HV = Hp / 4, VV = Vp / 4, EV = m.Ep / 4;
  const w = L - T; // first step of the loss window
  const rows = L * B;
  rec.clear(b.dcur[(L - 1) % 2], 0, m.C * B * Hp * 4); // dA after the last step
  // Summed a few steps at a time, dW_hh and dW_hq are added to zeros.
  if (m.chunked) rec.clear(b.grads, 0, m.C * m.layout.floats * 4);
  // W_hhᵀ and W_hqᵀ: the backward steps read their rows.
  for (
    const [name, out, cols] of [
      ["W_hh", b.W_hh_T, HV],
      ["W_hq", b.W_hq_T, VV],
    ] as const
  ) {
    rec.dispatch(
      k.transpose,
      { sizes: { rows: HV, cols }, m: region(m, b.params, name), out },
      [Math.ceil(HV * cols / WIDE), 1],
      `transpose ${name}`,
    );
  }
  const groups = productGroups(k.tile.step, B, Hp);
  for (let t = L - 1; t >= 0; t--) {
    // The output layer's share: dlogits_t, zeros before the loss window.
    const D = t < w ? b.zeros : b.logits;
    const at = t < w ? 0 : outputs.vec4(t - w);
    rec.dispatch(k.backward, {
      sizes: { t, rows: B, width: HV, vwidth: VV, o: m.uniformD ? 0 : at },
      hyper: b.hyper,
      ...operand(m, b.dcur[t % 2]),
      W: b.W_hh_T,
      W_q: b.W_hq_T,
      D_slot: m.uniformD ? slot(D, 4 * at) : null,
      D: m.uniformD ? null : D,
      hs: b.hs,
      da: b.da,
      next: b.dcur[(t + 1) % 2],
    }, groups);
  }
  // Weight gradients G = Σ_t Aᵀ D_t over steps first…L − 1: dW_hh with
  // A = H_{t−1} (state slot t) and D = dA_t, dW_hq with A = H_t (slot
  // t + 1) and D = dlogits_t over the loss window.
  const weights = [
    {
      name: "W_hh",
      first: 0,
      slot: 0,
      D: b.da,
      N: Hp,
      tile: k.tile.dW_hh,
      ...k.dW.hh,
    },
    {
      name: "W_hq",
      first: w,
      slot: 1,
      D: b.logits,
      N: Vp,
      tile: k.tile.dW_hq,
      ...k.dW.hq,
    },
  ];
  for (const g of weights) {
    const G = region(m, b.grads, g.name);
    const groups = gradientGroups(g.tile, Hp, g.N);
    const label = `d${g.name}`;
    // One sum over all its rows, or each SLICES steps' sum added to G.
    const span = m.chunked ? SLICES : L - g.first;
    for (let t = g.first; t < L; t += span) {
      const s = Math.min(span, L - t);
      rec.dispatch(
        m.chunked ? g.add : g.store,
        {
          sizes: {
            rows: s * B,
            K: HV,
            N: g.N / 4,
            a: states.vec4(t + g.slot),
            o: states.row(t - g.first),
          },
          A: b.hs,
          D: g.D,
          G,
        },
        groups,
        label,
      );
    }
  }
  for (
    const [label, D, n, name, N] of [
      ["db_h", b.da, rows, "b_h", HV],
      ["db_q", b.logits, T * B, "b_q", VV],
    ] as const
  ) {
    rec.dispatch(
      k.colsum,
      { sizes: { rows: n, N }, D, G: region(m, b.grads, name) },
      [N / 8, 1],
      label,
    );
  }
  const V = m.spec.vocab_size;
  if (m.spec.input === "embedding") {
    rec.dispatch(
      k.dW_xh,
      {
        sizes: { rows, K: EV, N: HV, a: 0, o: 0 },
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
        sizes: { rows, K: HV, N: EV, a: 0, o: 0 },
        A: b.da,
        W: region(m, b.params, "W_xh"),
        C: b.dEx,
      },
      productGroups(k.tile.dEx, rows, m.Ep),
      "dEx",
    );
  }
  // dW_xh (one-hot) or dW_embed: each token's rows summed.
  const embedded = m.spec.input === "embedding";
  const NV = embedded ? EV : HV;
  rec.dispatch(k.scatter, {
    sizes: { N: NV },
    order: tok.order,
    start: tok.start,
    D: embedded ? b.dEx : b.da,
    G: region(m, b.grads, embedded ? "W_embed" : "W_xh"),
  }, [NV / 8, V]);
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
  const b = m.b, n = m.layout.floats / 4;
  rec.dispatch(m.k.stats, {
    sizes: { i },
    losses: b.losses,
    grads: b.grads,
    stats,
  }, [1, 1]);
  rec.dispatch(m.k.update, {
    sizes: { i, n },
    hyper: b.hyper,
    modes,
    stats,
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
  rec.dispatch(m.k.state, {
    sizes: { i, n, last: m.T },
    modes,
    hs: m.b.hs,
  }, [Math.ceil(n / WIDE), 1]);
}

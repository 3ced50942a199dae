/**
 * The fused engine's kernels: explicit forward and backward through time
 * for the chapter's RNN, f32, row-major, rows in time order (row r =
 * t·B + b). Each is a WGSL file in `wgsl/` that states the formula it
 * computes; this module names the constants each is compiled with (its
 * tile, and the choices a group's shape makes), so a pipeline depends on
 * them and not on the sizes, which come from each dispatch's `sizes`.
 *
 * @module
 */
import forward from "./wgsl/forward.wgsl" with { type: "text" };
import backward from "./wgsl/backward.wgsl" with { type: "text" };
import product from "./wgsl/product.wgsl" with { type: "text" };
import productT from "./wgsl/product_t.wgsl" with { type: "text" };
import outer from "./wgsl/outer.wgsl" with { type: "text" };
import transpose from "./wgsl/transpose.wgsl" with { type: "text" };
import copy from "./wgsl/copy.wgsl" with { type: "text" };
import state from "./wgsl/state.wgsl" with { type: "text" };
import gather from "./wgsl/gather.wgsl" with { type: "text" };
import scatter from "./wgsl/scatter.wgsl" with { type: "text" };
import colsum from "./wgsl/colsum.wgsl" with { type: "text" };
import softmax from "./wgsl/softmax.wgsl" with { type: "text" };
import stats from "./wgsl/stats.wgsl" with { type: "text" };
import update from "./wgsl/update.wgsl" with { type: "text" };
import { MAX_GROUP } from "../group.ts";
import { type Kernel, kernel, UNIFORM_BYTES } from "./wgsl.ts";
import type { Tile, Tiles } from "./tiles.ts";

export { MAX_GROUP };

/** Column widths are padded to a multiple of this (8 lanes × vec4). */
export const PAD = 32;
/** Invocations per workgroup of the elementwise kernels. */
export const WIDE = 64;
/** Steps a weight-gradient sum covers at most, where a state fits a uniform slot (the engine's arithmetic for such shapes). */
export const SLICES = 8;
/** vec4s of a uniform slot. */
const SLOT = UNIFORM_BYTES / 16;

/** `n` rounded up to a multiple of {@linkcode PAD}. */
export const pad = (n: number): number => Math.ceil(n / PAD) * PAD;

/** A tile's constants and its part of a label. */
const tiled = (t: Tile) => ({ RB: t.rb, CV: t.cv, LANES: t.lanes });
const tileName = (t: Tile) => `${t.rb}x${t.cv}x${t.lanes}`;

/** The WGSL files, by kernel, for a reader (`deno task wgsl`). */
export const SOURCES: Record<string, string> = {
  forward,
  backward,
  product,
  product_t: productT,
  outer,
  transpose,
  copy,
  state,
  gather,
  scatter,
  colsum,
  softmax,
  stats,
  update,
};

/** The forward step on tile `t`, its A a uniform slot or storage, its inputs one-hot or embedded. */
export const forwardKernel = (
  t: Tile,
  o: { uniformA: boolean; oneHot: boolean },
): Kernel =>
  kernel(`forward:${tileName(t)}`, forward, {
    ...tiled(t),
    A_IN_UNIFORM: o.uniformA,
    MAX_GROUP,
    SLOT,
    ONE_HOT: o.oneHot,
  });

/** A weight gradient on tile `t`, stored or added to G. */
export const outerKernel = (t: Tile, add: boolean): Kernel =>
  kernel(`outer:${add ? "add" : "store"}:${tileName(t)}`, outer, {
    ...tiled(t),
    ADD: add,
  });

/** What a group's shape decides of its kernels. */
export interface KernelShape {
  /** Rows per minibatch, steps, padded widths of H, V and E, and vocabulary. */
  B: number;
  T: number;
  Hp: number;
  Vp: number;
  Ep: number;
  V: number;
  /** vec4s of the packed parameters. */
  n4: number;
  /** One-hot inputs (else embedded). */
  oneHot: boolean;
  /** A group of one whose state fits a uniform slot: the steps read it so. */
  uniformA: boolean;
  /** One step's dlogits fit one too. */
  uniformD: boolean;
}

/** The kernels of a group: each compiled with its tile and the group's choices. */
export function kernelsFor(s: KernelShape, tiles: Tiles) {
  const tile = {
    step: tiles.step(s.B, s.Hp),
    logits: tiles.wide(s.Vp),
    P: tiles.wide(s.Hp),
    dEx: tiles.wide(s.Ep),
    dW_hh: tiles.outer(s.Hp, s.Hp),
    dW_hq: tiles.outer(s.Hp, s.Vp),
    dW_xh: tiles.outer(s.Ep, s.Hp),
  };
  const outerOf = outerKernel;
  const R = s.T * s.B;
  return {
    tile,
    forward: forwardKernel(tile.step, s),
    backward: kernel(`backward:${tileName(tile.step)}`, backward, {
      ...tiled(tile.step),
      A_IN_UNIFORM: s.uniformA,
      MAX_GROUP,
      SLOT,
      D_IN_UNIFORM: s.uniformD,
    }),
    logits: kernel(`logits:${tileName(tile.logits)}`, product, {
      ...tiled(tile.logits),
      BIAS: true,
    }),
    P: kernel(`P:${tileName(tile.P)}`, product, {
      ...tiled(tile.P),
      BIAS: false,
    }),
    dEx: kernel(`dEx:${tileName(tile.dEx)}`, productT, tiled(tile.dEx)),
    /** The weight gradients' kernels: stored, and added to (sums over a few steps at a time). */
    dW: {
      hh: { store: outerOf(tile.dW_hh, false), add: outerOf(tile.dW_hh, true) },
      hq: { store: outerOf(tile.dW_hq, false), add: outerOf(tile.dW_hq, true) },
    },
    dW_xh: outerOf(tile.dW_xh, false),
    transpose: kernel("transpose", transpose, { WIDE }),
    copy: kernel("copy", copy, { WIDE }),
    state: kernel("state", state, { WIDE }),
    gather: kernel("gather", gather),
    scatter: kernel("scatter", scatter),
    colsum: kernel("colsum", colsum),
    softmax: kernel(`softmax:${R}:${s.V}:${s.Vp}`, softmax, {
      R,
      V: s.V,
      Vp: s.Vp,
      WIDE,
    }),
    stats: kernel(`stats:${R}:${s.n4}`, stats, { R, N: s.n4, WIDE }),
    update: kernel("update", update, { MAX_GROUP, WIDE }),
  } satisfies Record<string, unknown>;
}

/** The kernels of one group. */
export type Kernels = ReturnType<typeof kernelsFor>;

/** Every kernel of a group, by name (`deno task wgsl` prints them). */
export function allKernels(k: Kernels): Record<string, Kernel> {
  return {
    forward: k.forward,
    backward: k.backward,
    logits: k.logits,
    P: k.P,
    dEx: k.dEx,
    "dW_hh store": k.dW.hh.store,
    "dW_hh add": k.dW.hh.add,
    "dW_hq store": k.dW.hq.store,
    "dW_hq add": k.dW.hq.add,
    dW_xh: k.dW_xh,
    transpose: k.transpose,
    copy: k.copy,
    state: k.state,
    gather: k.gather,
    scatter: k.scatter,
    colsum: k.colsum,
    softmax: k.softmax,
    stats: k.stats,
    update: k.update,
  };
}

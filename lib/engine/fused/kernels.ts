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
import forwardLoop from "./wgsl/forward_loop.wgsl" with { type: "text" };
import forwardRows from "./wgsl/forward_rows.wgsl" with { type: "text" };
import backwardRows from "./wgsl/backward_rows.wgsl" with { type: "text" };
import backwardLoop from "./wgsl/backward_loop.wgsl" with { type: "text" };
import outer from "./wgsl/outer.wgsl" with { type: "text" };
import productT from "./wgsl/product_t.wgsl" with { type: "text" };
import copy from "./wgsl/copy.wgsl" with { type: "text" };
import state from "./wgsl/state.wgsl" with { type: "text" };
import gather from "./wgsl/gather.wgsl" with { type: "text" };
import scatter from "./wgsl/scatter.wgsl" with { type: "text" };
import softmax from "./wgsl/softmax.wgsl" with { type: "text" };
import stats from "./wgsl/stats.wgsl" with { type: "text" };
import update from "./wgsl/update.wgsl" with { type: "text" };
import { MAX_GROUP } from "../group.ts";
import { type Kernel, kernel, TEXELS, UNIFORM_BYTES } from "./wgsl.ts";
import { LANES, ROWS_MAX, type Tile, type Tiles } from "./tiles.ts";

export { MAX_GROUP };

/** Column widths are padded to a multiple of this (8 lanes × vec4). */
export const PAD = 32;
/** Invocations per workgroup of the elementwise kernels. */
export const WIDE = 64;
/** Rows a texture has on every WebGPU device (the least `maxTextureDimension2D`). */
const TEXTURE_ROWS = 8192;

/**
 * Whether the recurrences (looped or per step) read W_hh, W_hhᵀ and W_hqᵀ,
 * and the logits W_hq, from textures, a layer per cell: where the tiles
 * say so, and W_hh (Hp × Hp) fits one.
 */
export const texturedWeights = (Hp: number, tiles: Tiles): boolean =>
  tiles.textures && Hp * Hp / 4 / TEXELS <= TEXTURE_ROWS;
/** Steps a weight-gradient sum covers at most, where a state fits a uniform slot (the engine's arithmetic for such shapes). */
export const SLICES = 8;
/**
 * Loop iterations one invocation may run, all its loops together: Mesa's
 * llvmpipe (lavapipe) leaves a loop after 65,535 in total, silently. A
 * dispatch whose loops would run longer (the looped recurrences over many
 * steps, a weight gradient or a lookup's gradient over many rows) is
 * split into several that go on from where the last stopped, which
 * changes no sum's order.
 */
export const LOOP_LIMIT = 65535;

/** vec4s of a uniform slot. */
const SLOT = UNIFORM_BYTES / 16;

/** `n` rounded up to a multiple of {@linkcode PAD}. */
export const pad = (n: number): number => Math.ceil(n / PAD) * PAD;

/** A tile's constants and its part of a label. */
const tiled = (t: Tile) => ({ RB: t.rb, CV: t.cv, LANES: t.lanes });
const tileName = (t: Tile) => `${t.rb}x${t.cv}x${t.lanes}`;

/** The WGSL files, by kernel, for a reader (`deno task wgsl`). */
export const SOURCES: Record<string, string> = {
  forward_rows: forwardRows,
  backward_rows: backwardRows,
  forward_loop: forwardLoop,
  backward_loop: backwardLoop,
  forward,
  backward,
  product,
  outer,
  product_t: productT,
  copy,
  state,
  gather,
  scatter,
  softmax,
  stats,
  update,
};

/** The forward step on tile `t`, its A a uniform slot or storage, its inputs one-hot or embedded. */
export const forwardKernel = (
  t: Tile,
  o: { uniformA: boolean; oneHot: boolean; textures?: boolean },
): Kernel =>
  kernel(`forward:${tileName(t)}`, forward, {
    ...tiled(t),
    A_IN_UNIFORM: o.uniformA,
    MAX_GROUP,
    SLOT,
    ONE_HOT: o.oneHot,
    W_TEXTURE: o.textures ?? false,
  });

/**
 * A weight gradient on tile `t`, with the column sums of D (its bias's
 * gradient) or without; with `gather`, A's rows picked by token; A and D
 * read from textures where `textures` says so.
 */
export const outerKernel = (
  t: Tile,
  bias: boolean,
  gather = false,
  textures = { A: false, D: false },
): Kernel =>
  kernel(
    `outer:${bias ? "bias" : gather ? "gather" : "weight"}:${tileName(t)}`,
    outer,
    {
      ...tiled(t),
      BIAS: bias,
      GATHER: gather,
      A_TEXTURE: textures.A,
      D_TEXTURE: textures.D,
    },
  );

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
  /** Where W_hh and W_hq start in them (vec4s). */
  W_hh: number;
  W_hq: number;
  /** One-hot inputs (else embedded). */
  oneHot: boolean;
  /** A group of one whose state fits a uniform slot: the steps read it so. */
  uniformA: boolean;
  /** One step's dlogits fit one too. */
  uniformD: boolean;
  /** Steps a minibatch's recurrence covers: T, or more with `detach: false`. */
  L: number;
}

/**
 * Whether the states, dA and dlogits of a minibatch are read from
 * textures by the products over all steps (the logits and the weight
 * gradients): where the tiles say so and each fits one.
 */
export const texturedStates = (s: KernelShape, tiles: Tiles): boolean =>
  tiles.textures &&
  Math.max((s.L + 1) * s.B * s.Hp, s.T * s.B * s.Vp) / 4 / TEXELS <=
    TEXTURE_ROWS;

/** The kernels of a group: each compiled with its tile and the group's choices. */
export function kernelsFor(s: KernelShape, tiles: Tiles) {
  const tile = {
    step: tiles.step(s.B, s.Hp),
    loop: tiles.loop(s.B, s.Hp),
    logits: tiles.wide(s.Vp),
    P: tiles.wide(s.Hp),
    dW_hh: tiles.outer(s.Hp, s.Hp),
    dW_hq: tiles.outer(s.Hp, s.Vp),
    dW_xh: tiles.outer(s.Ep, s.Hp),
    dEx: tiles.wide(s.Ep),
  };
  const R = s.T * s.B;
  const textures = texturedWeights(s.Hp, tiles);
  const states = texturedStates(s, tiles);
  return {
    tile,
    forwardLoop: kernel(`forward_loop:${tileName(tile.loop)}`, forwardLoop, {
      ...tiled(tile.loop),
      ONE_HOT: s.oneHot,
      W_TEXTURE: textures,
      MAX_GROUP,
    }),
    // Written out for H up to ROWS_MAX only: their code grows with H².
    forwardRows: s.Hp > ROWS_MAX ? null : kernel(
      `forward_rows:${s.Hp}`,
      forwardRows,
      { HV: s.Hp / 4, HK: s.Hp, LANES, ONE_HOT: s.oneHot, MAX_GROUP },
    ),
    backwardRows: s.Hp > ROWS_MAX ? null : kernel(
      `backward_rows:${s.Hp}:${s.Vp}`,
      backwardRows,
      {
        HV: s.Hp / 4,
        HK: s.Hp,
        HALF: s.Hp / 8,
        VK: s.Vp,
        LANES,
        EMBED: !s.oneHot,
        MAX_GROUP,
      },
    ),
    backwardLoop: kernel(
      `backward_loop:${tileName(tile.loop)}`,
      backwardLoop,
      {
        ...tiled(tile.loop),
        EMBED: !s.oneHot,
        W_TEXTURE: textures,
        MAX_GROUP,
      },
    ),
    forward: forwardKernel(tile.step, { ...s, textures }),
    backward: kernel(`backward:${tileName(tile.step)}`, backward, {
      ...tiled(tile.step),
      A_IN_UNIFORM: s.uniformA,
      W_TEXTURE: textures,
      MAX_GROUP,
      SLOT,
      D_IN_UNIFORM: s.uniformD,
    }),
    logits: kernel(`logits:${tileName(tile.logits)}`, product, {
      ...tiled(tile.logits),
      BIAS: true,
      A_TEXTURE: states,
      W_TEXTURE: textures,
    }),
    P: kernel(`P:${tileName(tile.P)}`, product, {
      ...tiled(tile.P),
      BIAS: false,
      A_TEXTURE: false,
      W_TEXTURE: false,
    }),
    /** The weight gradients, each with its bias's beside it (dW_xh has none). */
    dW_hh: outerKernel(tile.dW_hh, true, false, { A: states, D: states }),
    dW_hq: outerKernel(tile.dW_hq, true, false, { A: states, D: states }),
    dW_xh: outerKernel(tile.dW_xh, false, true, { A: false, D: states }),
    dEx: kernel(`dEx:${tileName(tile.dEx)}`, productT, tiled(tile.dEx)),
    copy: kernel("copy", copy, { WIDE }),
    state: kernel("state", state, { WIDE }),
    gather: kernel("gather", gather),
    // One-hot: dW_xh from dA (a texture where the states are); else dW_embed from dEx.
    scatter: kernel("scatter", scatter, {
      D_TEXTURE: states && s.oneHot,
    }),
    softmax: kernel(`softmax:${R}:${s.V}:${s.Vp}`, softmax, {
      R,
      V: s.V,
      Vp: s.Vp,
      WIDE,
    }),
    stats: kernel(`stats:${R}:${s.n4}`, stats, { R, N: s.n4, WIDE }),
    update: kernel(
      `update:${s.W_hh}:${s.W_hq}:${s.Hp}:${s.Vp}`,
      update,
      {
        HH: s.W_hh,
        HQ: s.W_hq,
        HP: s.Hp,
        HV: s.Hp / 4,
        QV: s.Vp / 4,
        MAX_GROUP,
        WIDE,
      },
    ),
  } satisfies Record<string, unknown>;
}

/** The kernels of one group. */
export type Kernels = ReturnType<typeof kernelsFor>;

/** Every kernel of a group, by name (`deno task wgsl` prints them). */
export function allKernels(k: Kernels): Record<string, Kernel> {
  return {
    ...(k.forwardRows ? { forward_rows: k.forwardRows } : {}),
    ...(k.backwardRows ? { backward_rows: k.backwardRows } : {}),
    forward_loop: k.forwardLoop,
    backward_loop: k.backwardLoop,
    forward: k.forward,
    backward: k.backward,
    logits: k.logits,
    P: k.P,
    dW_hh: k.dW_hh,
    dW_hq: k.dW_hq,
    dW_xh: k.dW_xh,
    dEx: k.dEx,
    copy: k.copy,
    state: k.state,
    gather: k.gather,
    scatter: k.scatter,
    softmax: k.softmax,
    stats: k.stats,
    update: k.update,
  };
}

/**
 * What one minibatch of the fused engine dispatches, recorded into a
 * command buffer: the forward recurrence and the loss, the backward
 * recurrence and the weight gradients, the loss and norm sums and the
 * clipped SGD update. Each recurrence is one dispatch that loops over the
 * steps (`m.looped`: a workgroup's rows, or one row per invocation where
 * `m.rows`; more only where a loop would pass llvmpipe's
 * {@linkcode LOOP_LIMIT}) or one dispatch per step. On a CPU adapter the
 * weights, and the states, dA and dlogits once written, are copied into
 * the textures the kernels read there (`copyWeights`, `copyStates`).
 * Each pass is a function of a group's sizes, kernels and buffers
 * ({@linkcode Model}); each dispatch covers every cell of the group and
 * names what it binds; `fused.ts` holds them and decides which passes an
 * epoch runs.
 *
 * @module
 */
import { LOOP_LIMIT, SLICES, WIDE } from "./kernels.ts";
import type { Resource } from "./gpu.ts";
import type { Recorder } from "./recorder.ts";
import { gradientGroups, LANES, productGroups } from "./tiles.ts";
import {
  copyStates,
  copyWeights,
  type Model,
  region,
  type Start,
} from "./model.ts";
import type { Tokens } from "./tokens.ts";
import { encodeBackwardSteps, encodeForwardSteps } from "./steps.ts";

/**
 * Each cell's initial state in slot 0, as `start` says, then forward over
 * L steps and the loss (per row, in `losses`) of the last num_steps;
 * their logits become dlogits.
 */
export function encodeForward(
  rec: Recorder,
  m: Model,
  L: number,
  tok: Tokens,
  start: Start,
) {
  const { B, T, Hp, Vp, b, k } = m;
  const HV = Hp / 4, EV = m.Ep / 4;
  const w = L - T; // first step of the loss window
  const oneHot = m.spec.input === "one_hot";
  if (m.looped) {
    // Loop iterations of a step and of setting H_0 (a loop of n counts n + 1,
    // a barrier among more than 8 invocations 1). A rows invocation has its
    // step written out: one iteration (and the embedded inputs' loop's).
    const { lanes, cv, rb } = k.tile.loop;
    const blocks = HV / (lanes * cv);
    const span = m.rows ? steps(1 + (oneHot ? 0 : EV + 1), 3) : steps(
      3 + blocks * (HV + 2 + (oneHot ? 0 : EV + 1)),
      rb * (Math.ceil(HV / lanes) + 2) + 3,
    );
    copyWeights(rec, m, "forward");
    for (let t0 = 0; t0 < L; t0 += span) {
      rec.dispatch(m.rows ? k.forwardRows! : k.forwardLoop, {
        sizes: {
          t0,
          t1: Math.min(L, t0 + span),
          rows: B,
          width: HV,
          ewidth: EV,
          i: start.i,
          last: T,
        },
        hyper: b.hyper,
        modes: start.modes,
        W: region(m, b.params, "W_hh"),
        x: tok.x,
        W_xh: region(m, b.params, "W_xh"),
        W_embed: oneHot ? null : region(m, b.params, "W_embed"),
        b_h: region(m, b.params, "b_h"),
        hs: b.hs,
        ...(m.rows ? {} : { W_tex: b.weights?.W_hh.view ?? null }),
      }, [1, Math.ceil(B / (m.rows ? LANES : rb))]);
    }
  } else {
    encodeForwardSteps(rec, m, L, tok, start);
  }
  copyStates(rec, m, "hs");
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
      A_tex: b.states?.hs.view ?? null,
      W_tex: b.weights?.W_hq.view ?? null,
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

/** Steps one looped dispatch may cover: `perStep` loop iterations each, after `before`. */
function steps(perStep: number, before: number): number {
  // A few iterations to spare: the count is the compiler's, not ours.
  const n = Math.floor((LOOP_LIMIT - 64 - before) / perStep);
  if (n < 1) {
    throw new Error(
      `a step takes ${perStep} loop iterations, over ${LOOP_LIMIT}`,
    );
  }
  return n;
}

/**
 * Each cell's initial state as `start` says, forward over L steps and the
 * loss on the last num_steps, then backward through all L steps; leaves
 * the gradients in `grads`.
 */
export function encodeGradients(
  rec: Recorder,
  m: Model,
  L: number,
  tok: Tokens,
  start: Start,
) {
  encodeForward(rec, m, L, tok, start);
  copyStates(rec, m, "logits");
  const { B, T, Hp, Vp, b, k, states } = m;
  const HV = Hp / 4, VV = Vp / 4, EV = m.Ep / 4;
  const w = L - T; // first step of the loss window
  const rows = L * B;
  const embedded = m.spec.input === "embedding";
  if (m.looped) {
    const { lanes, cv, rb } = k.tile.loop;
    const blocks = HV / (lanes * cv), products = Math.ceil(EV / lanes);
    const span = m.rows
      // A step: one iteration, and its loop over dE's columns.
      ? steps(1 + (embedded ? EV + 1 : 0), 1)
      : steps(
        3 + blocks * (HV + VV + 3) + (embedded ? 1 + products * (HV + 2) : 0),
        1,
      );
    copyWeights(rec, m, "backward");
    for (let t1 = L; t1 > 0; t1 -= span) {
      rec.dispatch(m.rows ? k.backwardRows! : k.backwardLoop, {
        sizes: {
          t0: Math.max(0, t1 - span),
          t1,
          steps: L,
          rows: B,
          width: HV,
          vwidth: VV,
          ewidth: EV,
          w,
        },
        hyper: b.hyper,
        W: b.W_hh_T,
        W_q: b.W_hq_T,
        D: b.logits,
        hs: b.hs,
        da: b.da,
        W_xh: embedded ? region(m, b.params, "W_xh") : null,
        dEx: embedded ? b.dEx : null,
        ...(m.rows ? {} : {
          W_tex: b.weights?.W_hh_T.view ?? null,
          W_q_tex: b.weights?.W_hq_T.view ?? null,
        }),
      }, [1, Math.ceil(B / (m.rows ? LANES / 2 : rb))]);
    }
  } else {
    encodeBackwardSteps(rec, m, L);
  }
  copyStates(rec, m, "da");
  // Weight gradients G = Σ_t Aᵀ D_t over steps first…L − 1, and the
  // biases' Σ_t D_t: dW_hh with A = H_{t−1} (state slot t) and D = dA_t,
  // dW_hq with A = H_t (slot t + 1) and D = dlogits_t over the loss window.
  // Where a state fits a uniform slot they are sums of SLICES steps' sums.
  for (
    const g of [
      { name: "W_hh", bias: "b_h", first: 0, D: b.da, N: Hp, D_tex: "da" },
      {
        name: "W_hq",
        bias: "b_q",
        first: w,
        D: b.logits,
        N: Vp,
        D_tex: "logits",
      },
    ] as const
  ) {
    encodeOuter(rec, m, {
      rows: (L - g.first) * B,
      slice: m.chunked ? SLICES * B : (L - g.first) * B,
      K: HV,
      N: g.N / 4,
      a: states.vec4(g.first + (g.name === "W_hq" ? 1 : 0)),
    }, {
      A: b.hs,
      x: null,
      D: g.D,
      G: region(m, b.grads, g.name),
      G_b: region(m, b.grads, g.bias),
      A_tex: b.states?.hs.view ?? null,
      D_tex: b.states?.[g.D_tex].view ?? null,
    }, `d${g.name}`);
  }
  if (embedded) {
    // dW_xh = Σ_t E_xᵀ dA_t, E_x rows of W_embed.
    encodeOuter(rec, m, { rows, slice: rows, K: EV, N: HV, a: 0 }, {
      A: region(m, b.params, "W_embed"),
      x: tok.x,
      D: b.da,
      G: region(m, b.grads, "W_xh"),
      G_b: null,
      A_tex: null,
      D_tex: b.states?.da.view ?? null,
    }, "dW_xh");
    if (!m.looped) {
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
  }
  // dW_xh (one-hot) or dW_embed: each token's rows summed (at most rows of them).
  const NV = embedded ? EV : HV;
  const take = LOOP_LIMIT - 2;
  for (let skip = 0; skip < rows; skip += take) {
    rec.dispatch(k.scatter, {
      sizes: { N: NV, skip, take, carry: skip > 0 ? 1 : 0 },
      order: tok.order,
      start: tok.start,
      D: embedded ? b.dEx : b.da,
      G: region(m, b.grads, embedded ? "W_embed" : "W_xh"),
      D_tex: embedded ? null : b.states?.da.view ?? null,
    }, [NV / 8, m.spec.vocab_size]);
  }
}

/**
 * A weight gradient G = Σ_r A[r]ᵀ D[r] over `s.rows` rows (partial sums
 * of `s.slice` rows, in turn), and its bias's where `r.G_b` is given: one
 * dispatch, or several that go on from where the last stopped, each
 * within the loop limit.
 */
function encodeOuter(
  rec: Recorder,
  m: Model,
  s: { rows: number; slice: number; K: number; N: number; a: number },
  r: {
    A: Resource;
    x: Resource | null;
    D: GPUBuffer;
    G: Resource;
    G_b: Resource | null;
    A_tex: GPUTextureView | null;
    D_tex: GPUTextureView | null;
  },
  name: "dW_hh" | "dW_hq" | "dW_xh",
) {
  // A sum longer than a dispatch may loop is cut into slices that fit
  // (a loop of n iterations counts n + 1).
  const slice = Math.min(s.slice, LOOP_LIMIT - 4);
  const per = Math.floor((LOOP_LIMIT - 1) / (slice + 2)) * slice;
  for (let o = 0; o < s.rows; o += per) {
    rec.dispatch(
      m.k[name],
      {
        sizes: {
          rows: Math.min(per, s.rows - o),
          slice,
          carry: o > 0 ? 1 : 0,
          K: s.K,
          N: s.N,
          a: s.a + (r.x ? 0 : o * s.K),
          o,
        },
        ...r,
      },
      gradientGroups(m.k.tile[name], s.K * 4, s.N * 4),
      name,
    );
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
  encodeGradients(rec, m, L, tok, { i, modes });
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
    W_T: b.W_hh_T,
    W_q_T: b.W_hq_T,
  }, [Math.ceil(n / WIDE), 1]);
}

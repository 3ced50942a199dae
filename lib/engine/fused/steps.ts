/**
 * The recurrences one dispatch per step, the fused engine's kernels for
 * shapes where they are faster than the looped ones (`loopsFor`): each
 * step's product reads the state before it as a uniform slot where a
 * group of one's state fits one (one load, broadcast, on llvmpipe), and
 * two operand buffers take turns. Same numbers as the looped kernels.
 *
 * @module
 */
import { WIDE } from "./kernels.ts";
import type { Resource } from "./gpu.ts";
import { copyWeights, type Model, region, type Start } from "./model.ts";
import type { Tokens } from "./tokens.ts";
import type { Recorder } from "./recorder.ts";
import { productGroups } from "./tiles.ts";
import { UNIFORM_BYTES } from "./wgsl.ts";

/** A uniform slot of `buffer` from float `at`. */
const slot = (buffer: GPUBuffer, at: number): Resource => ({
  buffer,
  offset: at * 4,
  size: UNIFORM_BYTES,
});

/** A step's A operand: the uniform slot, or the storage binding, the other one unused. */
const operand = (m: Model, buffer: GPUBuffer) =>
  m.uniformA
    ? { A_slot: slot(buffer, 0), A: null }
    : { A_slot: null, A: buffer };

/** The forward steps one dispatch each (see `encodeForward` in `passes.ts`). */
export function encodeForwardSteps(
  rec: Recorder,
  m: Model,
  L: number,
  tok: Tokens,
  start: Start,
) {
  const { B, Hp, b, k } = m;
  const HV = Hp / 4, EV = m.Ep / 4;
  const rows = L * B;
  const oneHot = m.spec.input === "one_hot";
  encodeState(rec, m, start.i, start.modes);
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
        A_tex: null,
        W_tex: null,
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
  copyWeights(rec, m, "forward");
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
      W_tex: b.weights?.W_hh.view ?? null,
    }, groups);
  }
}

/** The backward steps one dispatch each (see `encodeGradients` in `passes.ts`). */
export function encodeBackwardSteps(rec: Recorder, m: Model, L: number) {
  const { B, T, Hp, Vp, b, k, outputs } = m;
  const HV = Hp / 4, VV = Vp / 4;
  const w = L - T;
  rec.clear(b.dcur[(L - 1) % 2], 0, m.C * B * Hp * 4); // dA after the last step
  copyWeights(rec, m, "backward");
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
      W_tex: b.weights?.W_hh_T.view ?? null,
      W_q_tex: b.weights?.W_hq_T.view ?? null,
    }, groups);
  }
}

/**
 * Each cell's initial state in slot 0 for minibatch `i`, as its `modes`
 * entry says (`STATE` in `passes.ts`): zeros (fresh), the last one of the
 * minibatch before (carry), or slot 0 as it is (keep: `detach: false`
 * restarts from the epoch's first state).
 */
function encodeState(
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

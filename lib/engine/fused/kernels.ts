/**
 * WGSL kernels of the fused engine: explicit forward and backward through
 * time for the chapter's RNN, f32, row-major, rows in time order (row r =
 * t·B + b). Each kernel states the formula it computes and declares its
 * bindings by name ({@linkcode kernel}); sizes come from `step` (see
 * {@linkcode STEP}), so a pipeline depends on the tile and the input mode,
 * not on the sizes. Every dispatch covers all cells of a group, each cell
 * with its own buffers' parts (`X_`), hyperparameters and activation
 * (`hyper[cell]`): a cell computes what it would alone. Only the loss and
 * norm sums keep their row counts as constants: they divide by them, and a
 * division by a constant may round differently from one by a variable.
 *
 * Widths that are columns (H, V, E) are padded to {@linkcode PAD} with
 * zeros, which stay zero through training; row counts need no padding.
 *
 * @module
 */
import {
  type Binding,
  type Kernel,
  kernel,
  read,
  readWrite,
  SLOT,
  uniform,
} from "./wgsl.ts";
import {
  gradientTile,
  overTile,
  productTile,
  type RowRange,
  type Segment,
  type Tile,
} from "./tile.ts";

/** Column widths are padded to a multiple of this (8 lanes × vec4). */
export const PAD = 32;
/** Invocations per workgroup of the elementwise kernels. */
export const WIDE = 64;
/** State slots bound as uniform slices per dispatch of the sliced kernels (WebGPU guarantees 12 uniform bindings per stage). */
export const SLICES = 8;

/** `n` rounded up to a multiple of {@linkcode PAD}. */
export const pad = (n: number): number => Math.ceil(n / PAD) * PAD;

export { MAX_GROUP } from "../group.ts";
import { MAX_GROUP } from "../group.ts";

/** Each cell's hyperparameters, as the uniform `hyper` holds them. */
export const HYPER = `struct Hyper { lr: f32, theta: f32, relu: u32, _0: u32 }`;

/** The `hyper` binding: one {@linkcode HYPER} per cell. */
const hyper = () => uniform(`array<Hyper, ${MAX_GROUP}>`);

/** Where a product's A operand lives: a uniform slot (one state) or storage from `step.a`. */
export type Operand = "uniform" | "storage";

/** φ and φ′ (the latter from φ's output h): tanh, or ReLU for a cell whose `relu` is set. */
const ACTIVATION = `${HYPER}
fn phi(a: vec4f, relu: bool) -> vec4f {
  if (relu) { return max(a, vec4f()); }
  return tanh(a);
}
fn dphi(h: vec4f, relu: bool) -> vec4f {
  if (relu) { return select(vec4f(), vec4f(1.0), h > vec4f()); }
  return 1.0 - h * h;
}
`;

const operand = (a: Operand): Binding =>
  a === "uniform" ? uniform(SLOT) : read();

const u32s = read("array<u32>");
const f32s = read("array<f32>");

/** The opening of a one-tile product kernel: M rows and NV output vec4s from `step`, and the tile's first row r0. */
const productMain = (t: Tile) =>
  `  let M = step.M; let NV = step.N;
  let r0 = wg.y * ${t.rb}u;
`;

/**
 * The segment A·W of a product, K = `step.K`: row r of A at vec4
 * `step.a` + r·K of this cell's A (storage), or at r·K of a uniform slot.
 */
const timesW = (A: string, a: Operand | "slice" = "storage"): Segment => ({
  K: "step.K",
  W: "W",
  load: (row) =>
    a === "storage"
      ? `${A}[${A}_ + step.a + (${row}) * step.K + k]`
      : `${A}[(${row}) * step.K + k]`,
});

/** Raw sums into `next` (the forward and backward steps' epilogues read them back). */
const storeNext = (row: string, col: string, acc: string) =>
  `next[next_ + (${row}) * NV + ${col}] = ${acc};`;

/** Raw sums into C from row `step.o`. */
const storeC = (row: string, col: string, acc: string) =>
  `C[C_ + (step.o + ${row}) * NV + ${col}] = ${acc};`;

/** The bias epilogue of a product into C. */
const ADD_BIAS =
  "C[C_ + (step.o + row) * NV + col] = C[C_ + (step.o + row) * NV + col] + bias[bias_ + col];";

/** Bindings of a forward step besides its input's. */
type StepNames = "step" | "hyper" | "A" | "W" | "b_h" | "hs" | "next";

/**
 * One step forward, H_t = φ(X_t W_xh + H_{t−1} W_hh + b_h), for t =
 * `step.t`, M = B rows, K = N = H/4. A is H_{t−1}; the result goes to state
 * slot t + 1 of `hs` and to `next`, the next step's A (two such buffers
 * take turns). One-hot inputs read X_t W_xh as the row W_xh[x] (one
 * address for all lanes); embedded inputs read P_t, their projection
 * computed for all steps beforehand. A is a uniform slot only for a group
 * of one cell.
 */
export function stepForward(
  t: Tile,
  input: "one_hot",
  a: Operand,
): Kernel<StepNames | "x" | "W_xh">;
export function stepForward(
  t: Tile,
  input: "embedding",
  a: Operand,
): Kernel<StepNames | "P">;
export function stepForward(
  t: Tile,
  input: "one_hot" | "embedding",
  a: Operand,
): Kernel {
  const projection = input === "one_hot"
    ? "W_xh[W_xh_ + x[x_ + step.t * M + row] * NV + col]"
    : "P[P_ + (step.t * M + row) * NV + col]";
  const inputs: Record<string, Binding> = input === "one_hot"
    ? { x: u32s, W_xh: read() }
    : { P: read() };
  return kernel(
    `forward:${input}:${a}:${tileName(t)}`,
    {
      step: uniform("Step"),
      hyper: hyper(),
      A: operand(a),
      W: read(),
      ...inputs,
      b_h: read(),
      hs: readWrite(),
      next: readWrite(),
    },
    {
      size: t.lanes,
      prelude: ACTIVATION,
      main: `  let relu = hyper[cell].relu != 0u;
${productMain(t)}${productTile(t, "nn", [timesW("A", a)], storeNext)}${
        overTile(
          t,
          `let h = phi(next[next_ + row * NV + col] + ${projection} + b_h[b_h_ + col], relu); hs[hs_ + ((step.t + 1u) * M + row) * NV + col] = h; next[next_ + row * NV + col] = h;`,
        )
      }`,
    },
  );
}

/**
 * One step backward, dA_t = (dA_{t+1} W_hhᵀ + dlogits_t W_hqᵀ) ⊙ φ′(H_t)
 * for t = `step.t`: A is dA_{t+1} (zeros after the last step; written by
 * the step before into `next`, as in the forward step), W is W_hhᵀ
 * (transposed once per minibatch: row-wise loads run faster than the
 * "nt" product's), and the output layer's share is a second, short
 * segment of the same sum (K2 = V/4): D is dlogits_t, a uniform slot or
 * read from `step.o` (vec4s), and zeros before the loss window. H_t is
 * state slot t + 1 of `hs`; dA_t goes to `da` and to `next`.
 */
export function stepBackward(t: Tile, a: Operand, d: Operand) {
  return kernel(
    `backward:${a}:${d}:${tileName(t)}`,
    {
      step: uniform("Step"),
      hyper: hyper(),
      A: operand(a),
      W: read(),
      W_q: read(),
      D: operand(d),
      hs: read(),
      da: readWrite(),
      next: readWrite(),
    },
    {
      size: t.lanes,
      prelude: ACTIVATION,
      main: `  let relu = hyper[cell].relu != 0u;
${productMain(t)}${
        productTile(t, "nn", [
          timesW("A", a),
          {
            K: "step.K2",
            W: "W_q",
            load: (row) =>
              d === "uniform"
                ? `D[(${row}) * step.K2 + k]`
                : `D[D_ + step.o + (${row}) * step.K2 + k]`,
          },
        ], storeNext)
      }${
        overTile(
          t,
          "let r = (step.t * M + row) * NV + col; let d = next[next_ + row * NV + col] * dphi(hs[hs_ + r + M * NV], relu); da[da_ + r] = d; next[next_ + row * NV + col] = d;",
        )
      }`,
    },
  );
}

/**
 * A product stored at row `step.o` + row of C, C = A·W (`"nn"`, W is K ×
 * N) or A·Wᵀ (`"nt"`, W is N × K), plus `bias` when given: the logits
 * H_t W_hq + b_q, the embedded inputs' projection P = E_x W_xh, and their
 * gradient dE_x = dA W_xhᵀ. A is read from storage at `step.a` (vec4s);
 * sizes M, K, N from `step`.
 */
export function productStore(
  t: Tile,
  layout: "nn" | "nt",
  bias: true,
): Kernel<"step" | "A" | "W" | "C" | "bias">;
export function productStore(
  t: Tile,
  layout: "nn" | "nt",
  bias: false,
): Kernel<"step" | "A" | "W" | "C">;
export function productStore(
  t: Tile,
  layout: "nn" | "nt",
  bias: boolean,
): Kernel {
  return kernel(
    `product:${layout}:${bias}:${tileName(t)}`,
    {
      step: uniform("Step"),
      A: read(),
      W: read(),
      C: readWrite(),
      ...(bias ? { bias: read() } : {}) as Record<string, Binding>,
    },
    {
      size: t.lanes,
      main: `${productMain(t)}${productTile(t, layout, [timesW("A")], storeC)}${
        bias ? overTile(t, ADD_BIAS) : ""
      }`,
    },
  );
}

/** The names of the sliced kernels' uniform slots, one state each. */
export const SLICE_NAMES = [
  "A0",
  "A1",
  "A2",
  "A3",
  "A4",
  "A5",
  "A6",
  "A7",
] as const;

/** Uniform bindings A0…A7, one state slot each. */
const slices = () =>
  Object.fromEntries(
    SLICE_NAMES.map((name) => [name, uniform(SLOT)]),
  ) as Record<
    typeof SLICE_NAMES[number],
    Binding
  >;

/**
 * The logits of `step.s` steps at once, C = A_s·W + bias for each slice
 * s, each step's state a uniform slot of its own (`A0`…): row s·M + row of
 * C at `step.o`. Workgroups: the product's, times the slices in use. One
 * cell's states only: a group of one.
 */
export function logitsSliced(t: Tile) {
  let cases = "";
  for (let s = 0; s < SLICES; s++) {
    cases += `    case ${s}u: {\n${
      productTile(t, "nn", [timesW(`A${s}`, "slice")], storeC, `${s}u * M + `)
    }    }\n`;
  }
  return kernel(
    `logits:${tileName(t)}`,
    {
      step: uniform("Step"),
      ...slices(),
      W: read(),
      C: readWrite(),
      bias: read(),
    },
    {
      size: t.lanes,
      main: `  let M = step.M; let NV = step.N;
  let groups = (M + ${t.rb - 1}u) / ${t.rb}u;
  let r0 = (wg.y % groups) * ${t.rb}u;
  let s = wg.y / groups;
  let col0 = wg.x * ${t.lanes * t.cv}u + l.x;
  switch s {
${cases}    default: {}
  }
${overTile(t, ADD_BIAS, "s * M + ")}`,
    },
  );
}

/**
 * A weight gradient over `step.n` rows, G = Σ_r A[r]ᵀ D[r] (G is K·4 × N·4;
 * A from vec4 `step.a`, D from row `step.o`), stored (`op` "=") or added
 * to G ("+="): dW_hh = Σ_t H_{t−1}ᵀ dA_t, dW_hq = Σ_t H_tᵀ dlogits_t, and
 * dW_xh for embedded inputs. Workgroups: (N/(lanes·cv), K·4/rb).
 */
export function outer(t: Tile, op: "=" | "+=" = "=") {
  return kernel(
    `outer:${op === "=" ? "store" : "add"}:${tileName(t)}`,
    {
      step: uniform("Step"),
      A: read(),
      D: read(),
      G: readWrite(),
    },
    {
      size: t.lanes,
      main: `  let K = step.K; let NV = step.N;
${
        gradientTile(t, [{
          rows: "step.n",
          A: (i) => `A[A_ + step.a + ${i}]`,
          D: "step.o + r",
        }], op)
      }`,
    },
  );
}

/**
 * The same weight gradient over `step.s` steps of M rows each, G += Σ_s
 * A_sᵀ D_s, each A_s a state slot bound as a uniform slice (`A0`…), D_s
 * from row `step.o` + s·M. The sum of up to {@linkcode SLICES} steps is
 * added to G (cleared before the first). One cell's states only.
 */
export function outerSliced(t: Tile) {
  const ranges: RowRange[] = Array.from({ length: SLICES }, (_, s) => ({
    rows: "step.M",
    A: (i) => `A${s}[${i}]`,
    D: `step.o + ${s}u * step.M + r`,
    when: s === 0 ? undefined : `${s}u < step.s`,
  }));
  return kernel(
    `outerSliced:${tileName(t)}`,
    {
      step: uniform("Step"),
      ...slices(),
      D: read(),
      G: readWrite(),
    },
    {
      size: t.lanes,
      main: `  let K = step.K; let NV = step.N;
${gradientTile(t, ranges, "+=")}`,
    },
  );
}

/**
 * Transpose of a 4·M × 4·N matrix (sizes in `step`), one invocation per
 * 4 × 4 block: four vec4 loads and four vec4 stores, where one invocation
 * per element would make 16 scattered scalar stores.
 */
export const transpose = kernel(
  "transpose",
  {
    step: uniform("Step"),
    m: read(),
    out: readWrite(),
  },
  {
    size: WIDE,
    main: `  let rows = step.M; let cols = step.N;
  if (g.x >= rows * cols) { return; }
  let i = g.x / cols;
  let j = g.x % cols;
  let r0 = m[m_ + (4u * i) * cols + j];
  let r1 = m[m_ + (4u * i + 1u) * cols + j];
  let r2 = m[m_ + (4u * i + 2u) * cols + j];
  let r3 = m[m_ + (4u * i + 3u) * cols + j];
  out[out_ + (4u * j) * rows + i] = vec4f(r0.x, r1.x, r2.x, r3.x);
  out[out_ + (4u * j + 1u) * rows + i] = vec4f(r0.y, r1.y, r2.y, r3.y);
  out[out_ + (4u * j + 2u) * rows + i] = vec4f(r0.z, r1.z, r2.z, r3.z);
  out[out_ + (4u * j + 3u) * rows + i] = vec4f(r0.w, r1.w, r2.w, r3.w);`,
  },
);

/**
 * A copy of `step.n` vec4s, out[o + i] = src[a + i] (`step.a`, `step.o`):
 * the initial state into the first step's A.
 */
export const copy = kernel(
  "copy",
  {
    step: uniform("Step"),
    src: read(),
    out: readWrite(),
  },
  {
    size: WIDE,
    main:
      `  if (g.x < step.n) { out[out_ + step.o + g.x] = src[src_ + step.a + g.x]; }`,
  },
);

/**
 * The initial state of a minibatch, state slot 0 of `hs` (`step.n`
 * vec4s): for each cell as its `modes` entry for minibatch `step.t` says,
 * kept (0), zeros (1, a fresh state), or the last state of the minibatch
 * before, slot `step.K` (2, carried on).
 */
export const initialState = kernel(
  "state",
  {
    step: uniform("Step"),
    modes: read("array<u32>"),
    hs: readWrite(),
  },
  {
    size: WIDE,
    main: `  let mode = modes[modes_ + 2u * step.t];
  if (g.x >= step.n || mode == 0u) { return; }
  hs[hs_ + g.x] = select(hs[hs_ + step.K * step.n + g.x], vec4f(), mode == 1u);`,
  },
);

/**
 * Rows of a table picked by token, out[r] = table[x_r] for `step.n` rows
 * of N vec4s: the embedded inputs. Workgroups: (N/8, ⌈n/8⌉).
 */
export const gather = kernel(
  "gather",
  {
    step: uniform("Step"),
    x: u32s,
    table: read(),
    out: readWrite(),
  },
  {
    size: 8,
    main: `  let NV = step.N;
  let col = wg.x * 8u + l.x;
  for (var r = wg.y * 8u; r < min(wg.y * 8u + 8u, step.n); r++) {
    out[out_ + r * NV + col] = table[table_ + x[x_ + r] * NV + col];
  }`,
  },
);

/**
 * The gradient of a row lookup, G[v] = Σ_{x_r = v} D[r] (rows of N vec4s):
 * rows arrive grouped by token (`order`, with token v's rows at
 * start[v]…start[v+1]), so each workgroup sums only its token's rows.
 * Workgroups: (N/8, rows of G).
 */
export const scatter = kernel(
  "scatter",
  {
    step: uniform("Step"),
    order: u32s,
    start: u32s,
    D: read(),
    G: readWrite(),
  },
  {
    size: 8,
    main: `  let NV = step.N;
  let col = wg.x * 8u + l.x;
  let v = wg.y;
  var acc = vec4f();
  for (var i = start[start_ + v]; i < start[start_ + v + 1u]; i++) {
    acc += D[D_ + order[order_ + i] * NV + col];
  }
  G[G_ + v * NV + col] = acc;`,
  },
);

/** Column sums over `step.n` rows of N vec4s (the bias gradients). Workgroups: N/8. */
export const colsum = kernel(
  "colsum",
  {
    step: uniform("Step"),
    D: read(),
    G: readWrite(),
  },
  {
    size: 8,
    main: `  let NV = step.N;
  let col = wg.x * 8u + l.x;
  var acc = vec4f();
  for (var r = 0u; r < step.n; r++) { acc += D[D_ + r * NV + col]; }
  G[G_ + col] = acc;`,
  },
);

/**
 * Softmax cross-entropy and its gradient, one invocation per row of the
 * loss window (R rows of Vp logits, the first V real): loss_r = logsumexp −
 * logit[y]; the logits are overwritten by dlogits = (softmax − onehot(y))/R,
 * the gradient of the mean loss (padded columns get 0).
 */
export const softmaxCE = (R: number, V: number, Vp: number) =>
  kernel(
    `softmax:${R}:${V}:${Vp}`,
    {
      y: u32s,
      logits: readWrite("array<f32>"),
      losses: readWrite("array<f32>"),
    },
    {
      size: WIDE,
      main: `  let r = g.x;
  if (r >= ${R}u) { return; }
  let base = logits_ + r * ${Vp}u;
  let yr = y[y_ + r];
  var m = -3.0e38;
  for (var v = 0u; v < ${V}u; v++) { m = max(m, logits[base + v]); }
  var s = 0.0;
  for (var v = 0u; v < ${V}u; v++) { s += exp(logits[base + v] - m); }
  let lse = m + log(s);
  losses[losses_ + r] = lse - logits[base + yr];
  for (var v = 0u; v < ${V}u; v++) {
    let p = exp(logits[base + v] - lse);
    logits[base + v] = (p - select(0.0, 1.0, v == yr)) / ${R}.0;
  }`,
    },
  );

/**
 * Sums of one minibatch, by a single workgroup per cell: the mean loss
 * over R rows into stats[2·t] and the squared global gradient norm ‖g‖²
 * into stats[2·t + 1], for t = `step.t`. The gradients are one buffer,
 * `grads`, of n vec4s.
 */
export const minibatchStats = (R: number, n: number) =>
  kernel(
    `stats:${R}:${n}`,
    {
      step: uniform("Step"),
      losses: f32s,
      grads: read(),
      stats: readWrite("array<f32>"),
    },
    {
      size: WIDE,
      prelude: `var<workgroup> partLoss: array<f32, ${WIDE}>;
var<workgroup> partNorm: array<f32, ${WIDE}>;`,
      main: `  let i = l.x;
  var loss = 0.0;
  for (var r = i; r < ${R}u; r += ${WIDE}u) { loss += losses[losses_ + r]; }
  var sq = vec4f();
  for (var j = i; j < ${n}u; j += ${WIDE}u) {
    sq = fma(grads[grads_ + j], grads[grads_ + j], sq);
  }
  partLoss[i] = loss;
  partNorm[i] = sq.x + sq.y + sq.z + sq.w;
  workgroupBarrier();
  if (i == 0u) {
    var a = 0.0; var b = 0.0;
    for (var k = 0u; k < ${WIDE}u; k++) { a += partLoss[k]; b += partNorm[k]; }
    stats[stats_ + 2u * step.t] = a / ${R}.0;
    stats[stats_ + 2u * step.t + 1u] = b;
  }`,
    },
  );

/**
 * SGD step with global-norm clipping over all parameters at once (one
 * buffer of `step.n` vec4s): p ← p − lr · min(1, θ/‖g‖) · g, ‖g‖² from
 * stats[2·t + 1] (θ = 3.4e38 with clipping off). A cell whose `modes`
 * entry for minibatch t says no update (it has fewer minibatches this
 * epoch, or has stopped) keeps its parameters.
 */
export const sgdUpdate = kernel(
  "update",
  {
    step: uniform("Step"),
    hyper: hyper(),
    modes: read("array<u32>"),
    stats: f32s,
    grads: read(),
    params: readWrite(),
  },
  {
    size: WIDE,
    prelude: HYPER,
    main:
      `  if (g.x >= step.n || modes[modes_ + 2u * step.t + 1u] == 0u) { return; }
  let norm = sqrt(stats[stats_ + 2u * step.t + 1u]);
  let scale = min(1.0, hyper[cell].theta / norm);
  params[params_ + g.x] -= hyper[cell].lr * scale * grads[grads_ + g.x];`,
  },
);

/** A tile's part of a pipeline's name. */
const tileName = (t: Tile) => `${t.rb}x${t.cv}x${t.lanes}`;

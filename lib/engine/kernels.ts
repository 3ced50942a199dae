/**
 * WGSL kernels of the fused engine: explicit forward and backward through
 * time for the chapter's RNN, f32, row-major, rows in time order
 * (row r = t·B + b).
 *
 * Every kernel is written for how a software adapter runs it as much as for
 * a GPU: Mesa's llvmpipe runs 8 invocations of a workgroup as the lanes of
 * one SIMD register, so workgroups are 8 wide, each lane owns `vec4`
 * columns (contiguous loads), and the rows a workgroup computes come from
 * its workgroup id, so their loads are the same address in every lane.
 * Widths that are columns (H, V, E) are padded to {@linkcode PAD} with
 * zeros, which stay zero through training; row counts need no padding.
 *
 * @module
 */

/** Column widths are padded to a multiple of this (8 lanes × vec4). */
export const PAD = 32;
/** Invocations per workgroup of the matrix kernels: one SIMD register on llvmpipe. */
export const LANES = 8;
/** Invocations per workgroup of the elementwise kernels. */
export const WIDE = 64;

/** `n` rounded up to a multiple of {@linkcode PAD}. */
export const pad = (n: number): number => Math.ceil(n / PAD) * PAD;

/** Hidden-layer nonlinearity. */
export type Kind = "tanh" | "relu";

const activation = (kind: Kind) =>
  kind === "tanh"
    ? "fn phi(a: vec4f) -> vec4f { return tanh(a); }\nfn dphi(h: vec4f) -> vec4f { return 1.0 - h * h; }\n"
    : "fn phi(a: vec4f) -> vec4f { return max(a, vec4f()); }\nfn dphi(h: vec4f) -> vec4f { return select(vec4f(), vec4f(1.0), h > vec4f()); }\n";

/**
 * Per-dispatch values: `t` the step, `a` where A starts (in vec4s), `o` the
 * first output row, `n` a row count. Which ones a kernel reads is its own.
 */
const STEP = "struct Step { t: u32, a: u32, o: u32, n: u32 }\n" +
  "@group(0) @binding(0) var<uniform> step: Step;\n";

/** Shape of a matrix product kernel. */
export interface ProductShape {
  /** Rows of A and of the result. */
  M: number;
  /** Inner width, a multiple of 4. */
  K: number;
  /** Columns of the result, a multiple of {@linkcode PAD}. */
  N: number;
  /** A as a uniform buffer (its M·K floats bound at an offset) or a storage buffer read from `step.a`. */
  a: "uniform" | "storage";
  /** W is K × N (`"nn"`) or N × K, used transposed (`"nt"`). */
  layout: "nn" | "nt";
  /** Rows per workgroup. */
  rb: number;
  /** vec4 columns per lane. */
  cv: number;
  /** Invocations per workgroup (default {@linkcode LANES}). */
  lanes?: number;
}

/**
 * Workgroups of a product, as `dispatchWorkgroups(x, y)` takes them.
 */
export const productGroups = (s: ProductShape): [number, number] => [
  s.N / 4 / ((s.lanes ?? LANES) * s.cv),
  Math.ceil(s.M / s.rb),
];

/**
 * A blocked matrix product C = A·W (or A·Wᵀ) whose result goes to
 * `epilogue`, a WGSL statement that sees `row`, `col` (a vec4 column) and
 * `acc` (vec4f). Bindings 0–2 are step, A and W; `bindings` declares the
 * epilogue's own from binding 3 on. Each workgroup computes `rb` rows ×
 * 8·`cv` vec4 columns; each lane `rb` × `cv` vec4 accumulators in registers.
 * Segments in `more` add products of their own A and W to the same sum.
 */
export function product(
  s: ProductShape,
  bindings: string,
  epilogue: string,
  prelude = "",
  more: Segment[] = [],
): string {
  const A = s.a === "uniform"
    ? `var<uniform> A: array<vec4f, ${s.M * s.K / 4}>`
    : "var<storage, read> A: array<vec4f>";
  return `${STEP}${prelude}
@group(0) @binding(1) ${A};
@group(0) @binding(2) var<storage, read> W: array<vec4f>;
${bindings}
@compute @workgroup_size(${s.lanes ?? LANES})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let r0 = wg.y * ${s.rb}u;
${
    tile(
      s,
      [
        {
          K: s.K,
          W: "W",
          load: (row) => `A[step.a + (${row}) * ${s.K / 4}u + k]`,
        },
        ...more,
      ],
      epilogue,
      "",
    )
  }}`;
}

/**
 * The product over `steps` slices of A of M rows each, slice s bound as a
 * uniform buffer of its own at binding 1 + s (one binding holds at most 64
 * KiB; on llvmpipe its loads are one address for all lanes, where storage
 * loads go lane by lane). W is binding steps + 1, `bindings` follow from
 * steps + 2. The epilogue's `row` counts across slices: s·M + the row.
 * Workgroups: see {@linkcode productGroups} (`steps` times the rows).
 */
export function productSteps(
  s: Omit<ProductShape, "a"> & { steps: number },
  bindings: string,
  epilogue: string,
): string {
  const { M, K, rb, steps } = s;
  const groups = Math.ceil(M / rb);
  let decl = "", cases = "";
  for (let st = 0; st < steps; st++) {
    decl += `@group(0) @binding(${st + 1}) var<uniform> A${st}: array<vec4f, ${
      M * K / 4
    }>;\n`;
    cases += `    case ${st}u: ${
      tile(
        { ...s, a: "uniform" },
        [{ K, W: "W", load: (row) => `A${st}[(${row}) * ${K / 4}u + k]` }],
        epilogue,
        `${st * M}u + `,
      )
    }`;
  }
  return `${STEP}${decl}@group(0) @binding(${
    steps + 1
  }) var<storage, read> W: array<vec4f>;
${bindings}
@compute @workgroup_size(${s.lanes ?? LANES})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let r0 = (wg.y % ${groups}u) * ${rb}u;
  switch wg.y / ${groups}u {
${cases}    default: {}
  }
}`;
}

/**
 * One K range of a product: row `row` of A at vec4 column k is `load(row)`,
 * and W is the storage array named `W` (K × N, or N × K for `"nt"`).
 */
export interface Segment {
  K: number;
  load: (row: string) => string;
  W: string;
}

/**
 * One workgroup's tile of a product, a WGSL block: rows r0…, the sum over
 * `segments` of A·W, `rb` × `cv` vec4 accumulators per lane, results
 * through `epilogue` with `row` = `rowBase` + the row.
 */
function tile(
  s: ProductShape,
  segments: Segment[],
  epilogue: string,
  rowBase: string,
): string {
  const { M, N, rb, cv } = s;
  const NV = N / 4;
  const lanes = s.lanes ?? LANES;
  const rowOf = (i: number) =>
    M % rb === 0 ? `r0 + ${i}u` : `min(r0 + ${i}u, ${M - 1}u)`;
  let loops = "";
  for (const { K, load, W } of segments) {
    const KV = K / 4;
    let loop = "";
    for (let c = 0; c < cv; c++) {
      for (let m = 0; m < 4; m++) {
        loop += s.layout === "nn"
          ? `    let w${m}_${c} = ${W}[(k * 4u + ${m}u) * ${NV}u + col0 + ${
            c * lanes
          }u];\n`
          : `    let w${m}_${c} = ${W}[((col0 + ${
            c * lanes
          }u) * 4u + ${m}u) * ${KV}u + k];\n`;
      }
    }
    for (let i = 0; i < rb; i++) {
      loop += `    let a${i} = ${load(rowOf(i))};\n`;
      for (let c = 0; c < cv; c++) {
        const acc = `acc${i}_${c}`;
        loop += s.layout === "nn"
          ? `    ${acc} = fma(vec4f(a${i}.x), w0_${c}, fma(vec4f(a${i}.y), w1_${c}, fma(vec4f(a${i}.z), w2_${c}, fma(vec4f(a${i}.w), w3_${c}, ${acc}))));\n`
          : `    ${acc} += vec4f(dot(a${i}, w0_${c}), dot(a${i}, w1_${c}), dot(a${i}, w2_${c}), dot(a${i}, w3_${c}));\n`;
      }
    }
    loops += `  for (var k = 0u; k < ${KV}u; k++) {\n${loop}  }\n`;
  }
  let decl = "", store = "";
  for (let i = 0; i < rb; i++) {
    for (let c = 0; c < cv; c++) {
      decl += `  var acc${i}_${c} = vec4f();\n`;
      store +=
        `  if (r0 + ${i}u < ${M}u) { let row = ${rowBase}r0 + ${i}u; let col = col0 + ${
          c * lanes
        }u; let acc = acc${i}_${c}; ${epilogue} }\n`;
    }
  }
  return `{
  let col0 = wg.x * ${lanes * cv}u + l.x;
${decl}${loops}${store}}
`;
}

/** Sizes the step kernels are specialised for (padded widths). */
export interface StepDims {
  B: number;
  /** Padded num_hiddens. */
  Hp: number;
}

/**
 * One step forward, H_t = φ(X_t W_xh + H_{t−1} W_hh + b_h). A is H_{t−1};
 * the result goes to state slot t + 1 of `hs` and to `next`, the next
 * step's A (two such buffers take turns, so no copy is needed). One-hot inputs read
 * X_t W_xh as the row W_xh[x] (the same address in every lane); embedded
 * inputs read P_t, their projection computed for all steps beforehand.
 */
export const stepForward = (
  { B, Hp }: StepDims,
  kind: Kind,
  input: "one_hot" | "embedding",
  shape: Omit<ProductShape, "M" | "K" | "N" | "layout">,
): string => {
  const HV = Hp / 4;
  const [bindings, projection] = input === "one_hot"
    ? [
      `@group(0) @binding(3) var<storage, read> x: array<u32>;
@group(0) @binding(4) var<storage, read> W_xh: array<vec4f>;`,
      `W_xh[x[step.t * ${B}u + row] * ${HV}u + col]`,
    ]
    : [
      `@group(0) @binding(3) var<storage, read> P: array<vec4f>;`,
      `P[(step.t * ${B}u + row) * ${HV}u + col]`,
    ];
  const n = input === "one_hot" ? 5 : 4;
  return product(
    { ...shape, M: B, K: Hp, N: Hp, layout: "nn" },
    `${bindings}
@group(0) @binding(${n}) var<storage, read> b_h: array<vec4f>;
@group(0) @binding(${n + 1}) var<storage, read_write> hs: array<vec4f>;
@group(0) @binding(${n + 2}) var<storage, read_write> next: array<vec4f>;`,
    `let h = phi(acc + ${projection} + b_h[col]); hs[((step.t + 1u) * ${B}u + row) * ${HV}u + col] = h; next[row * ${HV}u + col] = h;`,
    activation(kind),
  );
};

/**
 * One step backward: dA_t = (dA_{t+1} W_hhᵀ + dlogits_t W_hqᵀ) ⊙ φ′(H_t),
 * where A is dA_{t+1} (zeros after the last step; written by the step
 * before into `next`, as in the forward step), W is W_hhᵀ (transposed once
 * per minibatch: row-wise loads run faster than the "nt" product's), and the
 * output layer's share is a second, short segment of the same sum (K = Vp):
 * D is dlogits_t, a uniform slice or (`d: "storage"`) read from `step.o`
 * (in vec4s), and zeros before the loss window.
 */
export const stepBackward = (
  { B, Hp, Vp }: StepDims & { /** Padded vocabulary size. */ Vp: number },
  kind: Kind,
  shape: Omit<ProductShape, "M" | "K" | "N" | "layout">,
  d: "uniform" | "storage",
): string => {
  const HV = Hp / 4, VV = Vp / 4;
  return product(
    { ...shape, M: B, K: Hp, N: Hp, layout: "nn" },
    `@group(0) @binding(3) var<storage, read> W_q: array<vec4f>;
@group(0) @binding(4) ${
      d === "uniform"
        ? `var<uniform> D: array<vec4f, ${B * VV}>`
        : "var<storage, read> D: array<vec4f>"
    };
@group(0) @binding(5) var<storage, read> hs: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> da: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> next: array<vec4f>;`,
    `let r = (step.t * ${B}u + row) * ${HV}u + col; let d = acc * dphi(hs[r + ${
      B * HV
    }u]); da[r] = d; next[row * ${HV}u + col] = d;`,
    activation(kind),
    [{
      K: Vp,
      W: "W_q",
      load: (row) =>
        `D[${d === "uniform" ? "" : "step.o + "}(${row}) * ${VV}u + k]`,
    }],
  );
};

/**
 * Transpose of a rows × cols matrix (both multiples of 4), one invocation
 * per 4 × 4 block: four vec4 loads and four vec4 stores, where one
 * invocation per element would make 16 scattered scalar stores.
 * Invocations: rows · cols / 16.
 */
export const transpose = (rows: number, cols: number): string => `
@group(0) @binding(0) var<storage, read> m: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4f>;
@compute @workgroup_size(${WIDE})
fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x >= ${rows * cols / 16}u) { return; }
  let i = g.x / ${cols / 4}u;
  let j = g.x % ${cols / 4}u;
  let r0 = m[(4u * i) * ${cols / 4}u + j];
  let r1 = m[(4u * i + 1u) * ${cols / 4}u + j];
  let r2 = m[(4u * i + 2u) * ${cols / 4}u + j];
  let r3 = m[(4u * i + 3u) * ${cols / 4}u + j];
  out[(4u * j) * ${rows / 4}u + i] = vec4f(r0.x, r1.x, r2.x, r3.x);
  out[(4u * j + 1u) * ${rows / 4}u + i] = vec4f(r0.y, r1.y, r2.y, r3.y);
  out[(4u * j + 2u) * ${rows / 4}u + i] = vec4f(r0.z, r1.z, r2.z, r3.z);
  out[(4u * j + 3u) * ${rows / 4}u + i] = vec4f(r0.w, r1.w, r2.w, r3.w);
}`;

/**
 * A product whose result is stored at row `step.o + row` of C, optionally
 * plus a bias; over `steps` uniform slices of A (see
 * {@linkcode productSteps}) when given.
 */
export const productStore = (
  s: ProductShape,
  bias: boolean,
  steps?: number,
): string => {
  const first = steps ? steps + 2 : 3;
  const bindings =
    `@group(0) @binding(${first}) var<storage, read_write> C: array<vec4f>;` +
    (bias
      ? `\n@group(0) @binding(${
        first + 1
      }) var<storage, read> bias: array<vec4f>;`
      : "");
  const epilogue = `C[(step.o + row) * ${s.N / 4}u + col] = acc${
    bias ? " + bias[col]" : ""
  };`;
  return steps
    ? productSteps({ ...s, steps }, bindings, epilogue)
    : product(s, bindings, epilogue);
};

/** Shape of a weight-gradient kernel G = Aᵀ D over `step.n` rows. */
export interface OuterShape {
  /** Columns of A = rows of G, a multiple of `rb`. */
  K: number;
  /** Columns of D and of G, a multiple of {@linkcode PAD}. */
  N: number;
  /** Rows of G per workgroup, a multiple of 4. */
  rb: number;
  /** vec4 columns per lane. */
  cv: number;
  /** Invocations per workgroup (default {@linkcode LANES}). */
  lanes?: number;
}

/** Workgroups of a weight-gradient kernel. */
export const outerGroups = (s: OuterShape): [number, number] => [
  s.N / 4 / ((s.lanes ?? LANES) * s.cv),
  s.K / s.rb,
];

/**
 * A weight gradient summed over rows, G[k, j] = Σ_r A[r, k] · D[r, j]:
 * dW_hh = Σ_t H_{t−1}ᵀ dA_t, dW_hq = Σ_t H_tᵀ dlogits_t, and dW_xh for
 * embedded inputs. A starts at `step.a` (vec4s), rows number `step.n`.
 */
export function outer(s: OuterShape): string {
  return weightGradient(
    s,
    `@group(0) @binding(1) var<storage, read> A: array<vec4f>;
@group(0) @binding(2) var<storage, read> D: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> G: array<vec4f>;`,
    [{ rows: "step.n", A: "A[step.a + ", D: "r" }],
    "=",
  );
}

/**
 * The same weight gradient over S steps of `rows` rows each, A being S
 * state slots bound as S uniform buffers (one address for all lanes on
 * llvmpipe, where storage loads go lane by lane): G += Σ_s A_sᵀ D_s, D
 * from row `step.o`. A few dispatches cover all steps; G is cleared first.
 */
export function outerSteps(
  s: OuterShape & { rows: number; steps: number },
): string {
  const { rows, steps } = s;
  let bindings = "";
  for (let st = 0; st < steps; st++) {
    bindings += `@group(0) @binding(${
      st + 1
    }) var<uniform> A${st}: array<vec4f, ${rows * s.K / 4}>;\n`;
  }
  return weightGradient(
    s,
    `${bindings}@group(0) @binding(${
      steps + 1
    }) var<storage, read> D: array<vec4f>;
@group(0) @binding(${steps + 2}) var<storage, read_write> G: array<vec4f>;`,
    Array.from({ length: steps }, (_, st) => ({
      rows: `${rows}u`,
      A: `A${st}[`,
      D: `(step.o + ${st * rows}u + r)`,
    })),
    "+=",
  );
}

/**
 * What `outer` and `outerSteps` share: each workgroup owns rb rows of G
 * (k0…) and each lane cv vec4 columns; every loop walks its rows r, loading
 * A at `A…r·K/4 + k4 + q]` (four k per vec4) and D at row `D`, and the
 * accumulators are stored into G with `op`.
 */
function weightGradient(
  s: OuterShape,
  bindings: string,
  loops: { rows: string; A: string; D: string }[],
  op: "=" | "+=",
): string {
  const { K, N, rb, cv } = s;
  const KV = K / 4, NV = N / 4;
  const lanes = s.lanes ?? LANES;
  let decl = "", body = "", store = "";
  for (let i = 0; i < rb; i++) {
    for (let c = 0; c < cv; c++) {
      decl += `  var acc${i}_${c} = vec4f();\n`;
      store += `  G[(k0 + ${i}u) * ${NV}u + col0 + ${
        c * lanes
      }u] ${op} acc${i}_${c};\n`;
    }
  }
  for (const loop of loops) {
    body += `  for (var r = 0u; r < ${loop.rows}; r++) {\n`;
    for (let c = 0; c < cv; c++) {
      body += `    let d${c} = D[${loop.D} * ${NV}u + col0 + ${c * lanes}u];\n`;
    }
    for (let q = 0; q < rb / 4; q++) {
      body += `    let a${q} = ${loop.A}r * ${KV}u + k4 + ${q}u];\n`;
      for (let m = 0; m < 4; m++) {
        for (let c = 0; c < cv; c++) {
          const acc = `acc${4 * q + m}_${c}`;
          body += `    ${acc} = fma(vec4f(a${q}[${m}]), d${c}, ${acc});\n`;
        }
      }
    }
    body += "  }\n";
  }
  return `${STEP}${bindings}
@compute @workgroup_size(${lanes})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let k0 = wg.y * ${rb}u;
  let k4 = k0 / 4u;
  let col0 = wg.x * ${lanes * cv}u + l.x;
${decl}${body}${store}}`;
}

/**
 * Rows of a table picked by token, out[r] = table[x_r] for `step.n` rows:
 * the one-hot input projection (rows of W_xh) or the embedded inputs.
 * Workgroups: (N/32, ⌈n/8⌉).
 */
export const gather = (N: number): string =>
  `${STEP}
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read> table: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4f>;
@compute @workgroup_size(${LANES})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let col = wg.x * ${LANES}u + l.x;
  for (var r = wg.y * 8u; r < min(wg.y * 8u + 8u, step.n); r++) {
    out[r * ${N / 4}u + col] = table[x[r] * ${N / 4}u + col];
  }
}`;

/**
 * The gradient of a row lookup, G[v] = Σ_{x_r = v} D[r]: rows arrive
 * grouped by token (`order`, with token v's rows at start[v]…start[v+1]),
 * so each workgroup sums only its token's rows. Workgroups: (N/32, rows of G).
 */
export const scatter = (N: number): string => `
@group(0) @binding(0) var<storage, read> order: array<u32>;
@group(0) @binding(1) var<storage, read> start: array<u32>;
@group(0) @binding(2) var<storage, read> D: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> G: array<vec4f>;
@compute @workgroup_size(${LANES})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let col = wg.x * ${LANES}u + l.x;
  let v = wg.y;
  var acc = vec4f();
  for (var i = start[v]; i < start[v + 1u]; i++) { acc += D[order[i] * ${
  N / 4
}u + col]; }
  G[v * ${N / 4}u + col] = acc;
}`;

/** Column sums over `step.n` rows (the bias gradients). Workgroups: N/32. */
export const colsum = (N: number): string =>
  `${STEP}
@group(0) @binding(1) var<storage, read> D: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> G: array<vec4f>;
@compute @workgroup_size(${LANES})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let col = wg.x * ${LANES}u + l.x;
  var acc = vec4f();
  for (var r = 0u; r < step.n; r++) { acc += D[r * ${N / 4}u + col]; }
  G[col] = acc;
}`;

/**
 * Softmax cross-entropy and its gradient, one invocation per row of the
 * loss window (R rows of Vp logits, the first V real): loss_r = logsumexp −
 * logit[y]; the logits are overwritten by dlogits = (softmax − onehot(y))/R,
 * the gradient of the mean loss (padded columns get 0).
 */
export const softmaxCE = (R: number, V: number, Vp: number): string => `
@group(0) @binding(0) var<storage, read> y: array<u32>;
@group(0) @binding(1) var<storage, read_write> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> losses: array<f32>;
@compute @workgroup_size(${WIDE})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let r = g.x;
  if (r >= ${R}u) { return; }
  let base = r * ${Vp}u;
  var m = -3.0e38;
  for (var v = 0u; v < ${V}u; v++) { m = max(m, logits[base + v]); }
  var s = 0.0;
  for (var v = 0u; v < ${V}u; v++) { s += exp(logits[base + v] - m); }
  let lse = m + log(s);
  losses[r] = lse - logits[base + y[r]];
  for (var v = 0u; v < ${V}u; v++) {
    let p = exp(logits[base + v] - lse);
    logits[base + v] = (p - select(0.0, 1.0, v == y[r])) / ${R}.0;
  }
}`;

/**
 * Sums of one minibatch, by a single workgroup: the mean loss into
 * `stats[2·slot]` and the squared global gradient norm into
 * `stats[2·slot + 1]`. The gradients are one buffer, `grads`, `n` vec4s.
 */
export const minibatchStats = (R: number, n: number): string => `
struct Slot { i: u32 }
@group(0) @binding(0) var<uniform> slot: Slot;
@group(0) @binding(1) var<storage, read> losses: array<f32>;
@group(0) @binding(2) var<storage, read> grads: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;
var<workgroup> partLoss: array<f32, ${WIDE}>;
var<workgroup> partNorm: array<f32, ${WIDE}>;
@compute @workgroup_size(${WIDE})
fn main(@builtin(local_invocation_index) l: u32) {
  var loss = 0.0;
  for (var r = l; r < ${R}u; r += ${WIDE}u) { loss += losses[r]; }
  var sq = vec4f();
  for (var i = l; i < ${n}u; i += ${WIDE}u) { sq = fma(grads[i], grads[i], sq); }
  partLoss[l] = loss;
  partNorm[l] = sq.x + sq.y + sq.z + sq.w;
  workgroupBarrier();
  if (l == 0u) {
    var a = 0.0; var b = 0.0;
    for (var k = 0u; k < ${WIDE}u; k++) { a += partLoss[k]; b += partNorm[k]; }
    stats[2u * slot.i] = a / ${R}.0;
    stats[2u * slot.i + 1u] = b;
  }
}`;

/**
 * SGD step with global-norm clipping over all parameters at once (one
 * buffer, `n` vec4s): p ← p − lr · min(1, θ/‖g‖) · g (θ = +∞ with
 * clipping off).
 */
export const sgdUpdate = (n: number): string => `
struct Slot { i: u32 }
struct Hyper { lr: f32, theta: f32 }
@group(0) @binding(0) var<uniform> slot: Slot;
@group(0) @binding(1) var<uniform> hyper: Hyper;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> grads: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> params: array<vec4f>;
@compute @workgroup_size(${WIDE})
fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x >= ${n}u) { return; }
  let norm = sqrt(stats[2u * slot.i + 1u]);
  let scale = min(1.0, hyper.theta / norm);
  params[g.x] -= hyper.lr * scale * grads[g.x];
}`;

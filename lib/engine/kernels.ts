/**
 * WGSL kernels of the fused engine: explicit forward and backward through
 * time for the chapter's RNN (one-hot inputs), f32, row-major, rows in time
 * order (row r = t·B + b). Written for clarity first, not yet tuned; every
 * kernel bounds-checks, so sizes need not be multiples of the workgroup.
 *
 * @module
 */

/** Sizes the kernels are specialised for (baked in as constants). */
export interface Dims {
  /** batch_size */
  B: number;
  /** num_steps */
  T: number;
  /** num_hiddens */
  H: number;
  /** vocabulary size */
  V: number;
}

/** Threads per workgroup of every kernel. */
export const WORKGROUP = 64;

const consts = ({ B, T, H, V }: Dims) =>
  `const B: u32 = ${B}u;\nconst T: u32 = ${T}u;\nconst H: u32 = ${H}u;\nconst V: u32 = ${V}u;\n`;

const activation = (kind: "tanh" | "relu") =>
  kind === "tanh"
    ? "fn phi(a: f32) -> f32 { return tanh(a); }\nfn dphi(h: f32) -> f32 { return 1.0 - h * h; }\n"
    : "fn phi(a: f32) -> f32 { return max(a, 0.0); }\nfn dphi(h: f32) -> f32 { return select(0.0, 1.0, h > 0.0); }\n";

/** Rows and columns of the register block each thread of a blocked kernel computes. */
export const RB = 8;
export const CB = 4;

/** Threads of a blocked kernel over a rows × cols output. */
export const blockedThreads = (rows: number, cols: number): number =>
  Math.ceil(rows / RB) * Math.ceil(cols / CB);

/**
 * Shared prologue of the blocked kernels: this thread's block of rows
 * (r0 … r0 + RB − 1) and columns (c0 … c0 + CB − 1) of a rows × cols
 * output. Reads use indices clamped into range, so any size works; only
 * in-range results are written.
 */
const block = (rows: string, cols: string) => `
  let ncb = (${cols} + ${CB - 1}u) / ${CB}u;
  let r0 = (g.x / ncb) * ${RB}u;
  let c0 = (g.x % ncb) * ${CB}u;
  if (r0 >= ${rows}) { return; }
  let cc = vec4u(min(c0, ${cols} - 1u), min(c0 + 1u, ${cols} - 1u), min(c0 + 2u, ${cols} - 1u), min(c0 + 3u, ${cols} - 1u));
  var acc: array<vec4f, ${RB}>;`;

/** The 4 columns of this thread's block, row `base` of a row-major matrix. */
const cols4 = (m: string, base: string) =>
  `vec4f(${m}[${base} + cc.x], ${m}[${base} + cc.y], ${m}[${base} + cc.z], ${m}[${base} + cc.w])`;

/** Writes the in-range entries of this thread's block: `store` sees `row`, `col` and `acc[i][c]`. */
const storeBlock = (rows: string, cols: string, store: string) => `
  for (var i = 0u; i < ${RB}u; i++) {
    let row = r0 + i;
    if (row >= ${rows}) { break; }
    for (var c = 0u; c < ${CB}u; c++) {
      let col = c0 + c;
      if (col < ${cols}) { ${store} }
    }
  }`;

/**
 * One step forward, for every row b and unit j:
 * H_t = φ(W_xh[x_t] + H_{t−1} W_hh + b_h). `hs` holds T + 1 states, the
 * first being the initial state; step t reads slot t and writes slot t + 1.
 * Each thread computes an RB × CB block.
 */
export const stepForward = (d: Dims, kind: "tanh" | "relu"): string =>
  consts(d) + activation(kind) + `
struct Step { t: u32 }
@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read> W_xh: array<f32>;
@group(0) @binding(3) var<storage, read> W_hh: array<f32>;
@group(0) @binding(4) var<storage, read> b_h: array<f32>;
@group(0) @binding(5) var<storage, read_write> hs: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) g: vec3u) {${block("B", "H")}
  let t = step.t;
  for (var k = 0u; k < H; k++) {
    let w = ${cols4("W_hh", "k * H")};
    for (var i = 0u; i < ${RB}u; i++) {
      acc[i] += hs[(t * B + min(r0 + i, B - 1u)) * H + k] * w;
    }
  }
${
    storeBlock(
      "B",
      "H",
      "hs[((t + 1u) * B + row) * H + col] = phi(acc[i][c] + W_xh[x[t * B + row] * H + col] + b_h[col]);",
    )
  }
}`;

/** W_hhᵀ, so the backward step reads it row by row like the forward step reads W_hh. */
export const transpose = (d: Dims): string =>
  consts(d) + `
@group(0) @binding(0) var<storage, read> W_hh: array<f32>;
@group(0) @binding(1) var<storage, read_write> W_hh_T: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x >= H * H) { return; }
  let i = g.x / H;
  let j = g.x % H;
  W_hh_T[j * H + i] = W_hh[i * H + j];
}`;

/**
 * Output layer, softmax cross-entropy and its gradient, one thread per row:
 * logits = H_t W_hq + b_q; loss_r = logsumexp − logit[y]; dlogits =
 * (softmax − onehot(y)) / (T·B), the gradient of the mean loss.
 */
export const outputLoss = (d: Dims): string =>
  consts(d) + `
@group(0) @binding(0) var<storage, read> hs: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<u32>;
@group(0) @binding(2) var<storage, read> W_hq: array<f32>;
@group(0) @binding(3) var<storage, read> b_q: array<f32>;
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(5) var<storage, read_write> losses: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let r = g.x;
  if (r >= T * B) { return; }
  let h = (B + r) * H; // state after step t lives in slot t + 1
  var m = -3.0e38;
  for (var v = 0u; v < V; v++) {
    var z = b_q[v];
    for (var k = 0u; k < H; k++) { z += hs[h + k] * W_hq[k * V + v]; }
    dlogits[r * V + v] = z;
    m = max(m, z);
  }
  var s = 0.0;
  for (var v = 0u; v < V; v++) { s += exp(dlogits[r * V + v] - m); }
  let lse = m + log(s);
  losses[r] = lse - dlogits[r * V + y[r]];
  let n = f32(T * B);
  for (var v = 0u; v < V; v++) {
    let p = exp(dlogits[r * V + v] - lse);
    dlogits[r * V + v] = (p - select(0.0, 1.0, v == y[r])) / n;
  }
}`;

/**
 * One step backward through time, from the last step down:
 * dA_t = (dlogits_t W_hqᵀ + dA_{t+1} W_hhᵀ) ⊙ φ′(H_t), with dA_T = 0.
 * dA_t is the gradient at the pre-activation of step t. Blocked like the
 * forward step, reading W_hhᵀ.
 */
export const stepBackward = (d: Dims, kind: "tanh" | "relu"): string =>
  consts(d) + activation(kind) + `
struct Step { t: u32 }
@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> hs: array<f32>;
@group(0) @binding(2) var<storage, read> dlogits: array<f32>;
@group(0) @binding(3) var<storage, read> W_hq: array<f32>;
@group(0) @binding(4) var<storage, read> W_hh_T: array<f32>;
@group(0) @binding(5) var<storage, read_write> da: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) g: vec3u) {${block("B", "H")}
  let t = step.t;
  for (var v = 0u; v < V; v++) {
    let w = vec4f(W_hq[cc.x * V + v], W_hq[cc.y * V + v], W_hq[cc.z * V + v], W_hq[cc.w * V + v]); // column v of W_hq
    for (var i = 0u; i < ${RB}u; i++) {
      acc[i] += dlogits[(t * B + min(r0 + i, B - 1u)) * V + v] * w;
    }
  }
  if (t + 1u < T) {
    for (var k = 0u; k < H; k++) {
      let w = ${cols4("W_hh_T", "k * H")};
      for (var i = 0u; i < ${RB}u; i++) {
        acc[i] += da[((t + 1u) * B + min(r0 + i, B - 1u)) * H + k] * w;
      }
    }
  }
${
    storeBlock(
      "B",
      "H",
      "da[(t * B + row) * H + col] = acc[i][c] * dphi(hs[((t + 1u) * B + row) * H + col]);",
    )
  }
}`;

/**
 * A weight gradient that is a product over all T·B rows,
 * G[k, j] = Σ_r A[r, k] · D[r, j]: dW_hh = Σ_t H_{t−1}ᵀ dA_t (A = states
 * 0…T−1, D = dA, K = H) and dW_hq = Σ_t H_tᵀ dlogits_t (A = states 1…T,
 * D = dlogits, K = V). Each thread computes an RB × CB block of the H × K
 * result.
 */
export const gradOuter = (d: Dims, which: "W_hh" | "W_hq"): string => {
  const K = which === "W_hh" ? "H" : "V";
  const first = which === "W_hh" ? "0u" : "B * H"; // W_hq pairs row r with state slot t + 1
  return consts(d) + `
@group(0) @binding(0) var<storage, read> hs: array<f32>;
@group(0) @binding(1) var<storage, read> D: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;
const K: u32 = ${K};
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) g: vec3u) {${block("H", "K")}
  for (var r = 0u; r < T * B; r++) {
    let a = ${cols4("D", "r * K")};
    for (var i = 0u; i < ${RB}u; i++) {
      acc[i] += hs[${first} + r * H + min(r0 + i, H - 1u)] * a;
    }
  }
${storeBlock("H", "K", "grad[row * K + col] = acc[i][c];")}
}`;
};

/**
 * dW_xh: the one-hot product is a scatter, dW_xh[v] = Σ_{x_r = v} dA_r. One
 * thread per unit j walks the rows once, with one accumulator per token.
 */
export const gradWxh = (d: Dims): string =>
  consts(d) + `
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read> da: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let j = g.x;
  if (j >= H) { return; }
  var acc: array<f32, V>;
  for (var r = 0u; r < T * B; r++) { acc[x[r]] += da[r * H + j]; }
  for (var v = 0u; v < V; v++) { grad[v * H + j] = acc[v]; }
}`;

/** Bias gradients: db_h = Σ_r dA_r, db_q = Σ_r dlogits_r, one thread per unit. */
export const biasGrad = (d: Dims, which: "b_h" | "b_q"): string => {
  const [n, src] = which === "b_h" ? ["H", "da"] : ["V", "dlogits"];
  return consts(d) + `
@group(0) @binding(0) var<storage, read> ${src}: array<f32>;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.x;
  if (i >= ${n}) { return; }
  var acc = 0.0;
  for (var r = 0u; r < T * B; r++) { acc += ${src}[r * ${n} + i]; }
  grad[i] = acc;
}`;
};

/**
 * Sums of one minibatch, by a single workgroup: the mean loss into
 * `stats[2·slot]` and the squared global gradient norm (all five gradients)
 * into `stats[2·slot + 1]`.
 */
export const minibatchStats = (d: Dims): string =>
  consts(d) + `
struct Slot { i: u32 }
@group(0) @binding(0) var<uniform> slot: Slot;
@group(0) @binding(1) var<storage, read> losses: array<f32>;
@group(0) @binding(2) var<storage, read> dW_xh: array<f32>;
@group(0) @binding(3) var<storage, read> dW_hh: array<f32>;
@group(0) @binding(4) var<storage, read> db_h: array<f32>;
@group(0) @binding(5) var<storage, read> dW_hq: array<f32>;
@group(0) @binding(6) var<storage, read> db_q: array<f32>;
@group(0) @binding(7) var<storage, read_write> stats: array<f32>;
var<workgroup> partLoss: array<f32, ${WORKGROUP}>;
var<workgroup> partNorm: array<f32, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) l: u32) {
  var loss = 0.0;
  for (var r = l; r < T * B; r += ${WORKGROUP}u) { loss += losses[r]; }
  var sq = 0.0;
  for (var i = l; i < V * H; i += ${WORKGROUP}u) { sq += dW_xh[i] * dW_xh[i]; }
  for (var i = l; i < H * H; i += ${WORKGROUP}u) { sq += dW_hh[i] * dW_hh[i]; }
  for (var i = l; i < H; i += ${WORKGROUP}u) { sq += db_h[i] * db_h[i]; }
  for (var i = l; i < H * V; i += ${WORKGROUP}u) { sq += dW_hq[i] * dW_hq[i]; }
  for (var i = l; i < V; i += ${WORKGROUP}u) { sq += db_q[i] * db_q[i]; }
  partLoss[l] = loss;
  partNorm[l] = sq;
  workgroupBarrier();
  if (l == 0u) {
    var a = 0.0; var b = 0.0;
    for (var k = 0u; k < ${WORKGROUP}u; k++) { a += partLoss[k]; b += partNorm[k]; }
    stats[2u * slot.i] = a / f32(T * B);
    stats[2u * slot.i + 1u] = b;
  }
}`;

/**
 * SGD step with global-norm clipping, one thread per weight:
 * p ← p − lr · min(1, θ/‖g‖) · g (θ = +∞ with clipping off).
 */
export const sgdUpdate = (): string => `
struct Slot { i: u32 }
struct Hyper { lr: f32, theta: f32 }
@group(0) @binding(0) var<uniform> slot: Slot;
@group(0) @binding(1) var<uniform> hyper: Hyper;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> param: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x >= arrayLength(&param)) { return; }
  let norm = sqrt(stats[2u * slot.i + 1u]);
  let scale = min(1.0, hyper.theta / norm);
  param[g.x] -= hyper.lr * scale * grad[g.x];
}`;

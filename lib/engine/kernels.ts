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

/**
 * One step forward, for every row b and unit j:
 * H_t = φ(W_xh[x_t] + H_{t−1} W_hh + b_h). `hs` holds T + 1 states, the
 * first being the initial state; step t reads slot t and writes slot t + 1.
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
fn main(@builtin(global_invocation_id) g: vec3u) {
  let b = g.x / H;
  let j = g.x % H;
  if (b >= B) { return; }
  let t = step.t;
  let prev = (t * B + b) * H;
  var a = W_xh[x[t * B + b] * H + j] + b_h[j];
  for (var k = 0u; k < H; k++) { a += hs[prev + k] * W_hh[k * H + j]; }
  hs[((t + 1u) * B + b) * H + j] = phi(a);
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
 * dA_t is the gradient at the pre-activation of step t.
 */
export const stepBackward = (d: Dims, kind: "tanh" | "relu"): string =>
  consts(d) + activation(kind) + `
struct Step { t: u32 }
@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> hs: array<f32>;
@group(0) @binding(2) var<storage, read> dlogits: array<f32>;
@group(0) @binding(3) var<storage, read> W_hq: array<f32>;
@group(0) @binding(4) var<storage, read> W_hh: array<f32>;
@group(0) @binding(5) var<storage, read_write> da: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let b = g.x / H;
  let j = g.x % H;
  if (b >= B) { return; }
  let t = step.t;
  let r = t * B + b;
  var dh = 0.0;
  for (var v = 0u; v < V; v++) { dh += dlogits[r * V + v] * W_hq[j * V + v]; }
  if (t + 1u < T) {
    let next = (r + B) * H;
    for (var k = 0u; k < H; k++) { dh += da[next + k] * W_hh[j * H + k]; }
  }
  da[r * H + j] = dh * dphi(hs[(r + B) * H + j]);
}`;

/**
 * Weight gradients as sums over all T·B rows, one thread per weight:
 * dW_hh = Σ H_{t−1}ᵀ dA_t, dW_xh[v] = Σ_{x=v} dA, db_h = Σ dA,
 * dW_hq = Σ H_tᵀ dlogits, db_q = Σ dlogits. `which` picks the weight.
 */
export const weightGrad = (
  d: Dims,
  which: "W_hh" | "W_xh" | "b_h" | "W_hq" | "b_q",
): string => {
  const body = {
    W_hh: `let k = i / H; let j = i % H; if (k >= H) { return; }
  for (var r = 0u; r < T * B; r++) { acc += hs[r * H + k] * da[r * H + j]; }`,
    W_xh: `let v = i / H; let j = i % H; if (v >= V) { return; }
  for (var r = 0u; r < T * B; r++) { acc += select(0.0, da[r * H + j], x[r] == v); }`,
    b_h: `if (i >= H) { return; }
  for (var r = 0u; r < T * B; r++) { acc += da[r * H + i]; }`,
    W_hq: `let k = i / V; let v = i % V; if (k >= H) { return; }
  for (var r = 0u; r < T * B; r++) { acc += hs[(r + B) * H + k] * dlogits[r * V + v]; }`,
    b_q: `if (i >= V) { return; }
  for (var r = 0u; r < T * B; r++) { acc += dlogits[r * V + i]; }`,
  }[which];
  return consts(d) + `
@group(0) @binding(0) var<storage, read> hs: array<f32>;
@group(0) @binding(1) var<storage, read> da: array<f32>;
@group(0) @binding(2) var<storage, read> dlogits: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<u32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) g: vec3u) {
  // Every binding stays in the layout, used or not, so one layout serves all five.
  _ = arrayLength(&hs); _ = arrayLength(&da); _ = arrayLength(&dlogits); _ = arrayLength(&x);
  let i = g.x;
  var acc = 0.0;
  ${body}
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

// The backward recurrence of a small model over steps sizes.t1 − 1 down
// to sizes.t0 of a minibatch of L = sizes.steps steps in one dispatch, two
// invocations per row:
//
//   dA_t = (dA_{t+1} W_hhᵀ + dlogits_t W_hqᵀ) ⊙ φ′(H_t)
//   dE_t = dA_t W_xhᵀ                                   (EMBED)
//
// with dA_{L+1} = 0 and dlogits_t = 0 before the loss window (steps
// before sizes.w), each dA_t into slot t − 1 of `da` (and dE_t into
// `dEx`). As in the forward rows kernel, a row steps back through time in
// registers, here held by two invocations: each computes half of dA_t's
// columns, with its half of W_hhᵀ and W_hqᵀ in registers (both whole in
// one invocation compile several times slower on llvmpipe), and the two
// halves meet in workgroup memory, a barrier between steps. Every sum
// runs as in the backward loop, so the numbers are the same.
//
// Constants: HV (H / 4), HK (H), HALF (HV / 2), VK (V, padded), LANES;
// EMBED; MAX_GROUP.

struct Sizes {
  t0: u32,     // the lowest step here
  t1: u32,     // the step after the highest
  steps: u32,  // L
  rows: u32,   // M = B
  width: u32,  // H / 4
  vwidth: u32, // V / 4
  ewidth: u32, // E / 4 (EMBED)
  w: u32,      // the first step of the loss window
}
struct Cells { W: u32, W_q: u32, D: u32, hs: u32, da: u32, W_xh: u32, dEx: u32 }

var<uniform> sizes: Sizes;
var<uniform> hyper: array<Hyper, MAX_GROUP>;
var<storage, read> W: array<vec4f>;   // W_hhᵀ
var<storage, read> W_q: array<vec4f>; // W_hqᵀ
var<storage, read> D: array<vec4f>;   // dlogits of the loss window
var<storage, read> hs: array<vec4f>;
var<storage, read_write> da: array<vec4f>;
var<storage, read> W_xh: array<vec4f>;      // (EMBED)
var<storage, read_write> dEx: array<vec4f>; // (EMBED)
var<uniform> cells: Cells;

var<workgroup> share: array<vec4f, LANES / 2u * HV>; // dA_t of its rows

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let cell = wg.z;
  let W_ = cell * cells.W; let W_q_ = cell * cells.W_q; let D_ = cell * cells.D;
  let hs_ = cell * cells.hs; let da_ = cell * cells.da;
  let W_xh_ = cell * cells.W_xh; let dEx_ = cell * cells.dEx;
  let relu = hyper[cell].relu != 0u;
  let M = sizes.rows; let EV = sizes.ewidth; let L = sizes.steps;
  let S = M * HV; // vec4s of a state slot
  // Row l / 2 of the workgroup's, the columns of half l % 2; rows past M
  // repeat the last (not stored).
  let row = wg.y * (LANES / 2u) + l.x / 2u;
  let r = min(row, M - 1u);
  let mine = row < M;
  let half = l.x % 2u;
  let c0 = half * HALF;
  let at = (l.x / 2u) * HV; // its row in `share`

  // registers
  var w: array<array<vec4f, HALF>, HK>;
  // unroll
  for (var k = 0u; k < HK; k++) {
    // unroll
    for (var c = 0u; c < HALF; c++) { w[k][c] = W[W_ + k * HV + c0 + c]; }
  }
  // registers
  var wq: array<array<vec4f, HALF>, VK>;
  // unroll
  for (var k = 0u; k < VK; k++) {
    // unroll
    for (var c = 0u; c < HALF; c++) { wq[k][c] = W_q[W_q_ + k * HV + c0 + c]; }
  }
  // dA_{t1} of this row: what the dispatch before wrote (or unused: t1 = L).
  let first = da_ + min(sizes.t1, L - 1u) * S + r * HV;
  // registers
  var g: array<vec4f, HV>;
  // unroll
  for (var k = 0u; k < HV; k++) { g[k] = da[first + k]; }

  for (var u = sizes.t1; u > sizes.t0; u--) {
    let t = u - 1u;
    // dA_{t+1} (zeros after the last step) and dlogits_t (zeros before the window).
    let after = t + 1u < L;
    let inWindow = t >= sizes.w;
    let dl = D_ + ((max(t, sizes.w) - sizes.w) * M + r) * (VK / 4u);
    // registers
    var acc: array<vec4f, HALF>;
    // dA_{t+1} W_hhᵀ
    // unroll
    for (var k = 0u; k < HV; k++) {
      let a = select(vec4f(), g[k], after);
      // unroll
      for (var c = 0u; c < HALF; c++) {
        acc[c] = fma(vec4f(a.x), w[k * 4u][c], fma(vec4f(a.y), w[k * 4u + 1u][c], fma(vec4f(a.z), w[k * 4u + 2u][c], fma(vec4f(a.w), w[k * 4u + 3u][c], acc[c]))));
      }
    }
    // + dlogits_t W_hqᵀ
    // unroll
    for (var k = 0u; k < VK / 4u; k++) {
      let d = select(vec4f(), D[dl + k], inWindow);
      // unroll
      for (var c = 0u; c < HALF; c++) {
        acc[c] = fma(vec4f(d.x), wq[k * 4u][c], fma(vec4f(d.y), wq[k * 4u + 1u][c], fma(vec4f(d.z), wq[k * 4u + 2u][c], fma(vec4f(d.w), wq[k * 4u + 3u][c], acc[c]))));
      }
    }
    // ⊙ φ′(H_t), H_t in slot t + 1; the halves of dA_t meet in `share`.
    let h = hs_ + (t + 1u) * S + r * HV + c0;
    let out = da_ + t * S + r * HV + c0;
    workgroupBarrier(); // the step before has read `share`
    // unroll
    for (var c = 0u; c < HALF; c++) {
      let v = acc[c] * dphi(hs[h + c], relu);
      share[at + c0 + c] = v;
      if (mine) { da[out + c] = v; }
    }
    workgroupBarrier();
    // unroll
    for (var k = 0u; k < HV; k++) { g[k] = share[at + k]; }
    if (EMBED) {
      // dE_t = dA_t W_xhᵀ, a dot product per column, k ascending; each
      // half takes every other column.
      for (var e = half; e < EV; e += 2u) {
        var de = vec4f();
        // unroll
        for (var k = 0u; k < HV; k++) {
          let w0 = W_xh[W_xh_ + (e * 4u) * HV + k]; let w1 = W_xh[W_xh_ + (e * 4u + 1u) * HV + k];
          let w2 = W_xh[W_xh_ + (e * 4u + 2u) * HV + k]; let w3 = W_xh[W_xh_ + (e * 4u + 3u) * HV + k];
          de += vec4f(dot(g[k], w0), dot(g[k], w1), dot(g[k], w2), dot(g[k], w3));
        }
        if (mine) { dEx[dEx_ + (t * M + r) * EV + e] = de; }
      }
    }
  }
}

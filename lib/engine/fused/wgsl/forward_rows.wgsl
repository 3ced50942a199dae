// The forward recurrence of a small model over steps sizes.t0 … sizes.t1 − 1
// of a minibatch in one dispatch, one row per invocation:
//
//   H_0 = 0, the last state of the minibatch before, or kept (modes)
//   H_t = φ(X_t W_xh + H_{t−1} W_hh + b_h)
//
// each H_t into state slot t of `hs` (H_0 set where t0 = 0). A row is a
// sequence of its own, so an invocation steps its row through time with
// its state in registers, and with W_hh and b_h in registers too (read
// once): no barrier, and no load of the state. That suits a CPU adapter,
// where every load is costly and registers are not, for H up to ROWS_MAX.
// Every sum runs as in the forward loop (k ascending, within a vec4 of k
// over w, z, y, x innermost first), so the numbers are the same.
//
// Constants: HV (H / 4), HK (H), LANES; ONE_HOT; MAX_GROUP.

struct Sizes {
  t0: u32,     // the first step here
  t1: u32,     // the step after the last
  rows: u32,   // M = B
  width: u32,  // H / 4
  ewidth: u32, // E / 4 (embedded)
  i: u32,      // the minibatch, for its mode
  last: u32,   // the slot of the carried state
}
struct Cells { modes: u32, W: u32, x: u32, W_xh: u32, W_embed: u32, b_h: u32, hs: u32 }

var<uniform> sizes: Sizes;
var<uniform> hyper: array<Hyper, MAX_GROUP>;
var<storage, read> modes: array<u32>;     // per minibatch: [state, update]
var<storage, read> W: array<vec4f>;      // W_hh
var<storage, read> x: array<u32>;        // tokens, time-major
var<storage, read> W_xh: array<vec4f>;
var<storage, read> W_embed: array<vec4f>; // (embedded)
var<storage, read> b_h: array<vec4f>;
var<storage, read_write> hs: array<vec4f>;
var<uniform> cells: Cells;

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let cell = wg.z;
  let modes_ = cell * cells.modes; let W_ = cell * cells.W; let x_ = cell * cells.x;
  let W_xh_ = cell * cells.W_xh; let W_embed_ = cell * cells.W_embed;
  let b_h_ = cell * cells.b_h; let hs_ = cell * cells.hs;
  let relu = hyper[cell].relu != 0u;
  let M = sizes.rows; let EV = sizes.ewidth;
  let S = M * HV; // vec4s of a state slot
  // Rows past M repeat the last (not stored).
  let r = min(wg.y * LANES + l.x, M - 1u);
  let mine = wg.y * LANES + l.x < M;

  // registers
  var w: array<array<vec4f, HV>, HK>;
  // unroll
  for (var k = 0u; k < HK; k++) {
    // unroll
    for (var c = 0u; c < HV; c++) { w[k][c] = W[W_ + k * HV + c]; }
  }
  // registers
  var b: array<vec4f, HV>;
  // unroll
  for (var c = 0u; c < HV; c++) { b[c] = b_h[b_h_ + c]; }

  // H_{t0} of this row: 1 zeros, 2 carried from slot `last`, 0 kept (t0 = 0);
  // the slot t0 the dispatch before wrote, otherwise.
  let mode = modes[modes_ + 2u * sizes.i];
  let first = hs_ + sizes.t0 * S + r * HV;
  let start = select(first, first + sizes.last * S, sizes.t0 == 0u && mode == 2u);
  let zero = sizes.t0 == 0u && mode == 1u;
  // registers
  var h: array<vec4f, HV>;
  // unroll
  for (var c = 0u; c < HV; c++) { h[c] = select(hs[start + c], vec4f(), zero); }
  if (sizes.t0 == 0u && mode != 0u && mine) {
    // unroll
    for (var c = 0u; c < HV; c++) { hs[first + c] = h[c]; }
  }

  for (var t = sizes.t0; t < sizes.t1; t++) {
    // H_{t−1} W_hh
    // registers
    var acc: array<vec4f, HV>;
    // unroll
    for (var k = 0u; k < HV; k++) {
      let a = h[k];
      // unroll
      for (var c = 0u; c < HV; c++) {
        acc[c] = fma(vec4f(a.x), w[k * 4u][c], fma(vec4f(a.y), w[k * 4u + 1u][c], fma(vec4f(a.z), w[k * 4u + 2u][c], fma(vec4f(a.w), w[k * 4u + 3u][c], acc[c]))));
      }
    }
    // X_t W_xh: a row of W_xh, or E_x W_xh.
    let token = x[x_ + t * M + r];
    // registers
    var xw: array<vec4f, HV>;
    if (ONE_HOT) {
      // unroll
      for (var c = 0u; c < HV; c++) { xw[c] = W_xh[W_xh_ + token * HV + c]; }
    } else {
      for (var k = 0u; k < EV; k++) {
        let e = W_embed[W_embed_ + token * EV + k];
        // unroll
        for (var c = 0u; c < HV; c++) {
          let at = W_xh_ + k * 4u * HV + c;
          xw[c] = fma(vec4f(e.x), W_xh[at], fma(vec4f(e.y), W_xh[at + HV], fma(vec4f(e.z), W_xh[at + 2u * HV], fma(vec4f(e.w), W_xh[at + 3u * HV], xw[c]))));
        }
      }
    }
    // + X_t W_xh + b_h, through φ.
    let out = hs_ + (t + 1u) * S + r * HV;
    // unroll
    for (var c = 0u; c < HV; c++) {
      h[c] = phi(acc[c] + xw[c] + b[c], relu);
      if (mine) { hs[out + c] = h[c]; }
    }
  }
}

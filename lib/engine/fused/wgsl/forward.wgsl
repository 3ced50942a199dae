// One step forward, for t = sizes.t:
//
//   H_t = φ(X_t W_xh + H_{t−1} W_hh + b_h)
//
// over M = B rows of width K = H/4 vec4s. A is H_{t−1}: a uniform slot
// (A_slot, a group of one whose state fits one: one load for all lanes on
// a CPU adapter) or storage (A). X_t W_xh is row x of W_xh for one-hot
// inputs, and P_t, computed for all steps beforehand, for embedded ones.
// H_t goes to state slot t + 1 of `hs`, and to `next`, the next step's A
// (two buffers take turns: a buffer written here cannot also be read).
//
// Each workgroup computes RB rows × LANES·CV vec4 columns; each sum runs
// over k ascending, within a vec4 of k over w, z, y, x innermost first
// (the engine's numbers depend on that order). W_hh is read from W, or
// where W_TEXTURE from W_tex (as in the forward loop).
//
// Constants: RB, CV, LANES (the tile); A_IN_UNIFORM; ONE_HOT; W_TEXTURE; MAX_GROUP; SLOT.

struct Sizes {
  t: u32,     // the step
  rows: u32,  // M = B
  width: u32, // H / 4
}
struct Cells { A: u32, W: u32, x: u32, W_xh: u32, P: u32, b_h: u32, hs: u32, next: u32 }

var<uniform> sizes: Sizes;
var<uniform> hyper: array<Hyper, MAX_GROUP>;
var<uniform> A_slot: array<vec4f, SLOT>;
var<storage, read> A: array<vec4f>;
var<storage, read> W: array<vec4f>;     // W_hh
var<storage, read> x: array<u32>;       // tokens, time-major (one-hot)
var<storage, read> W_xh: array<vec4f>;  // (one-hot)
var<storage, read> P: array<vec4f>;     // X W_xh of every step (embedded)
var<storage, read> b_h: array<vec4f>;
var<storage, read_write> hs: array<vec4f>;
var<storage, read_write> next: array<vec4f>;
var W_tex: texture_2d_array<f32>;       // W_hh (W_TEXTURE)
var<uniform> cells: Cells;

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let cell = wg.z;
  let A_ = cell * cells.A; let W_ = cell * cells.W; let x_ = cell * cells.x;
  let W_xh_ = cell * cells.W_xh; let P_ = cell * cells.P;
  let b_h_ = cell * cells.b_h; let hs_ = cell * cells.hs; let next_ = cell * cells.next;
  let relu = hyper[cell].relu != 0u;
  let M = sizes.rows; let K = sizes.width; let NV = sizes.width;
  let r0 = wg.y * RB;
  let col0 = wg.x * LANES * CV + l.x;

  // H_{t−1} W_hh, rows past M repeating the last (not stored).
  // registers
  var acc: array<array<vec4f, CV>, RB>;
  for (var k = 0u; k < K; k++) {
    // registers
    var w: array<array<vec4f, 4>, CV>;
    // unroll
    for (var c = 0u; c < CV; c++) {
      // unroll
      for (var m = 0u; m < 4u; m++) {
        let at = (k * 4u + m) * NV + col0 + c * LANES;
        if (W_TEXTURE) {
          w[c][m] = texel(W_tex, at, cell);
        } else {
          w[c][m] = W[W_ + at];
        }
      }
    }
    // unroll
    for (var i = 0u; i < RB; i++) {
      let row = min(r0 + i, M - 1u);
      var a: vec4f;
      if (A_IN_UNIFORM) { a = A_slot[row * K + k]; } else { a = A[A_ + row * K + k]; }
      // unroll
      for (var c = 0u; c < CV; c++) {
        acc[i][c] = fma(vec4f(a.x), w[c][0], fma(vec4f(a.y), w[c][1], fma(vec4f(a.z), w[c][2], fma(vec4f(a.w), w[c][3], acc[i][c]))));
      }
    }
  }
  // unroll
  for (var i = 0u; i < RB; i++) {
    // unroll
    for (var c = 0u; c < CV; c++) {
      if (r0 + i < M) { next[next_ + (r0 + i) * NV + col0 + c * LANES] = acc[i][c]; }
    }
  }

  // + X_t W_xh + b_h, through φ.
  for (var i = 0u; i < RB; i++) {
    if (r0 + i >= M) { break; }
    let row = r0 + i;
    for (var c = 0u; c < CV; c++) {
      let col = col0 + c * LANES;
      var xw: vec4f;
      if (ONE_HOT) {
        xw = W_xh[W_xh_ + x[x_ + sizes.t * M + row] * NV + col];
      } else {
        xw = P[P_ + (sizes.t * M + row) * NV + col];
      }
      let h = phi(next[next_ + row * NV + col] + xw + b_h[b_h_ + col], relu);
      hs[hs_ + ((sizes.t + 1u) * M + row) * NV + col] = h;
      next[next_ + row * NV + col] = h;
    }
  }
}

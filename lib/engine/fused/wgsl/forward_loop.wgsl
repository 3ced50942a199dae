// The forward recurrence over steps sizes.t0 … sizes.t1 − 1 of a
// minibatch in one dispatch:
//
//   H_0 = 0, the last state of the minibatch before, or kept (modes)
//   H_t = φ(X_t W_xh + H_{t−1} W_hh + b_h)
//
// each H_t into state slot t of `hs` (H_0 set where t0 = 0). The rows of
// a minibatch are sequences of their own, so a workgroup owns RB rows of
// one cell and steps them through time by itself, a barrier between
// steps: H_{t−1} is the slot it wrote before. X_t W_xh is row x of W_xh
// for one-hot inputs; for embedded ones it is E_x W_xh, E_x row x of
// W_embed, summed as the product kernel sums it. Every sum runs as in the
// step kernels (k ascending, within a vec4 of k over w, z, y, x innermost
// first), so the numbers are theirs. W_hh is read from W, or where
// W_TEXTURE from W_tex: the same vec4s, TEXELS a row, a layer per cell (a
// CPU adapter fetches a texel for all lanes at once, where it loads
// storage lane by lane).
//
// Constants: RB, CV, LANES (the tile); ONE_HOT; W_TEXTURE; MAX_GROUP.

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
var W_tex: texture_2d_array<f32>;         // W_hh (W_TEXTURE)
var<uniform> cells: Cells;

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let cell = wg.z;
  let modes_ = cell * cells.modes; let W_ = cell * cells.W; let x_ = cell * cells.x;
  let W_xh_ = cell * cells.W_xh; let W_embed_ = cell * cells.W_embed;
  let b_h_ = cell * cells.b_h; let hs_ = cell * cells.hs;
  let relu = hyper[cell].relu != 0u;
  let M = sizes.rows; let K = sizes.width; let NV = sizes.width; let EV = sizes.ewidth;
  let S = M * NV; // vec4s of a state slot
  let r0 = wg.y * RB;

  // H_0 of these rows: 1 zeros, 2 carried from slot `last`, 0 kept.
  let mode = modes[modes_ + 2u * sizes.i];
  if (sizes.t0 == 0u && mode != 0u) {
    for (var i = 0u; i < min(RB, M - r0); i++) {
      for (var c = l.x; c < NV; c += LANES) {
        let at = hs_ + (r0 + i) * NV + c;
        hs[at] = select(hs[at + sizes.last * S], vec4f(), mode == 1u);
      }
    }
  }
  storageBarrier();

  for (var t = sizes.t0; t < sizes.t1; t++) {
    let prev = hs_ + t * S; let out = hs_ + (t + 1u) * S;
    for (var block = 0u; block < NV / (LANES * CV); block++) {
      let col0 = block * LANES * CV + l.x;
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
          let a = hs[prev + min(r0 + i, M - 1u) * K + k];
          // unroll
          for (var c = 0u; c < CV; c++) {
            acc[i][c] = fma(vec4f(a.x), w[c][0], fma(vec4f(a.y), w[c][1], fma(vec4f(a.z), w[c][2], fma(vec4f(a.w), w[c][3], acc[i][c]))));
          }
        }
      }
      // X_t W_xh: a row of W_xh, or E_x W_xh.
      // registers
      var xw: array<array<vec4f, CV>, RB>;
      if (ONE_HOT) {
        // unroll
        for (var i = 0u; i < RB; i++) {
          let token = x[x_ + t * M + min(r0 + i, M - 1u)];
          // unroll
          for (var c = 0u; c < CV; c++) { xw[i][c] = W_xh[W_xh_ + token * NV + col0 + c * LANES]; }
        }
      } else {
        for (var k = 0u; k < EV; k++) {
          // registers
          var w: array<array<vec4f, 4>, CV>;
          // unroll
          for (var c = 0u; c < CV; c++) {
            // unroll
            for (var m = 0u; m < 4u; m++) {
              w[c][m] = W_xh[W_xh_ + (k * 4u + m) * NV + col0 + c * LANES];
            }
          }
          // unroll
          for (var i = 0u; i < RB; i++) {
            let e = W_embed[W_embed_ + x[x_ + t * M + min(r0 + i, M - 1u)] * EV + k];
            // unroll
            for (var c = 0u; c < CV; c++) {
              xw[i][c] = fma(vec4f(e.x), w[c][0], fma(vec4f(e.y), w[c][1], fma(vec4f(e.z), w[c][2], fma(vec4f(e.w), w[c][3], xw[i][c]))));
            }
          }
        }
      }
      // + X_t W_xh + b_h, through φ.
      // unroll
      for (var i = 0u; i < RB; i++) {
        // unroll
        for (var c = 0u; c < CV; c++) {
          if (r0 + i < M) {
            let col = col0 + c * LANES;
            hs[out + (r0 + i) * NV + col] = phi(acc[i][c] + xw[i][c] + b_h[b_h_ + col], relu);
          }
        }
      }
    }
    storageBarrier();
  }
}

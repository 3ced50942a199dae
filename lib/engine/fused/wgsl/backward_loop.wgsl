// The backward recurrence over steps sizes.t1 − 1 down to sizes.t0 of a
// minibatch of L = sizes.steps steps, in one dispatch:
//
//   dA_t = (dA_{t+1} W_hhᵀ + dlogits_t W_hqᵀ) ⊙ φ′(H_t)
//   dE_t = dA_t W_xhᵀ                                   (EMBED)
//
// with dA_{L+1} = 0 and dlogits_t = 0 before the loss window (steps
// before sizes.w), each dA_t into slot t − 1 of `da` (and dE_t into
// `dEx`). As in the forward loop, a workgroup owns RB rows of one cell
// and steps them back through time by itself. W is W_hhᵀ and W_q is
// W_hqᵀ (kept beside the parameters by the update), or where W_TEXTURE
// W_tex and W_q_tex, the same vec4s as textures (as in the forward loop);
// D holds the loss window's dlogits. Every sum runs as in the backward
// step kernel and the transposed product kernel, so the numbers are
// theirs.
//
// Constants: RB, CV, LANES (the tile); EMBED; W_TEXTURE; MAX_GROUP.

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
var W_tex: texture_2d_array<f32>;   // W_hhᵀ (W_TEXTURE)
var W_q_tex: texture_2d_array<f32>; // W_hqᵀ (W_TEXTURE)
var<uniform> cells: Cells;

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let cell = wg.z;
  let W_ = cell * cells.W; let W_q_ = cell * cells.W_q; let D_ = cell * cells.D;
  let hs_ = cell * cells.hs; let da_ = cell * cells.da;
  let W_xh_ = cell * cells.W_xh; let dEx_ = cell * cells.dEx;
  let relu = hyper[cell].relu != 0u;
  let M = sizes.rows; let K = sizes.width; let K2 = sizes.vwidth; let NV = sizes.width;
  let EV = sizes.ewidth; let L = sizes.steps;
  let S = M * NV; // vec4s of a state slot
  let r0 = wg.y * RB;

  for (var u = sizes.t1; u > sizes.t0; u--) {
    let t = u - 1u;
    // dA_{t+1} (zeros after the last step) and dlogits_t (zeros before the window).
    let after = t + 1u < L;
    let next = da_ + min(t + 1u, L - 1u) * S;
    let inWindow = t >= sizes.w;
    let dl = D_ + (max(t, sizes.w) - sizes.w) * M * K2;
    for (var block = 0u; block < NV / (LANES * CV); block++) {
      let col0 = block * LANES * CV + l.x;
      // registers
      var acc: array<array<vec4f, CV>, RB>;
      // dA_{t+1} W_hhᵀ
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
          let a = select(vec4f(), da[next + min(r0 + i, M - 1u) * K + k], after);
          // unroll
          for (var c = 0u; c < CV; c++) {
            acc[i][c] = fma(vec4f(a.x), w[c][0], fma(vec4f(a.y), w[c][1], fma(vec4f(a.z), w[c][2], fma(vec4f(a.w), w[c][3], acc[i][c]))));
          }
        }
      }
      // + dlogits_t W_hqᵀ
      for (var k = 0u; k < K2; k++) {
        // registers
        var w: array<array<vec4f, 4>, CV>;
        // unroll
        for (var c = 0u; c < CV; c++) {
          // unroll
          for (var m = 0u; m < 4u; m++) {
            let at = (k * 4u + m) * NV + col0 + c * LANES;
            if (W_TEXTURE) {
              w[c][m] = texel(W_q_tex, at, cell);
            } else {
              w[c][m] = W_q[W_q_ + at];
            }
          }
        }
        // unroll
        for (var i = 0u; i < RB; i++) {
          let d = select(vec4f(), D[dl + min(r0 + i, M - 1u) * K2 + k], inWindow);
          // unroll
          for (var c = 0u; c < CV; c++) {
            acc[i][c] = fma(vec4f(d.x), w[c][0], fma(vec4f(d.y), w[c][1], fma(vec4f(d.z), w[c][2], fma(vec4f(d.w), w[c][3], acc[i][c]))));
          }
        }
      }
      // ⊙ φ′(H_t), H_t in slot t + 1.
      // unroll
      for (var i = 0u; i < RB; i++) {
        // unroll
        for (var c = 0u; c < CV; c++) {
          if (r0 + i < M) {
            let at = (r0 + i) * NV + col0 + c * LANES;
            da[da_ + t * S + at] = acc[i][c] * dphi(hs[hs_ + (t + 1u) * S + at], relu);
          }
        }
      }
    }
    storageBarrier();
    if (EMBED) {
      // dE_t = dA_t W_xhᵀ, a dot product per column, k ascending.
      for (var e = l.x; e < EV; e += LANES) {
        // registers
        var de: array<vec4f, RB>;
        for (var k = 0u; k < K; k++) {
          let w0 = W_xh[W_xh_ + (e * 4u) * K + k]; let w1 = W_xh[W_xh_ + (e * 4u + 1u) * K + k];
          let w2 = W_xh[W_xh_ + (e * 4u + 2u) * K + k]; let w3 = W_xh[W_xh_ + (e * 4u + 3u) * K + k];
          // unroll
          for (var i = 0u; i < RB; i++) {
            let a = da[da_ + t * S + min(r0 + i, M - 1u) * K + k];
            de[i] += vec4f(dot(a, w0), dot(a, w1), dot(a, w2), dot(a, w3));
          }
        }
        // unroll
        for (var i = 0u; i < RB; i++) {
          if (r0 + i < M) { dEx[dEx_ + (t * M + r0 + i) * EV + e] = de[i]; }
        }
      }
    }
  }
}

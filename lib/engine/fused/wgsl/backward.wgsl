// One step backward, for t = sizes.t:
//
//   dA_t = (dA_{t+1} W_hhᵀ + dlogits_t W_hqᵀ) ⊙ φ′(H_t)
//
// over M = B rows. A is dA_{t+1} (zeros after the last step; written by
// the step before into `next`, as in the forward step), a uniform slot or
// storage; W is W_hhᵀ, transposed once per minibatch (rows are read
// whole). The output layer's share is a second segment of the same sum,
// of width V/4: D is dlogits_t, a uniform slot (D_slot) or storage from
// vec4 sizes.o, and zeros before the loss window. H_t is state slot t + 1
// of `hs`; dA_t goes to `da` and to `next`. W_hhᵀ and W_hqᵀ are read
// from W and W_q, or where W_TEXTURE from W_tex and W_q_tex (as in the
// backward loop).
//
// Constants: RB, CV, LANES (the tile); A_IN_UNIFORM; D_IN_UNIFORM;
// W_TEXTURE; MAX_GROUP; SLOT.

struct Sizes {
  t: u32,      // the step
  rows: u32,   // M = B
  width: u32,  // H / 4
  vwidth: u32, // V / 4
  o: u32,      // where dlogits_t starts in D (vec4s)
}
struct Cells { A: u32, W: u32, W_q: u32, D: u32, hs: u32, da: u32, next: u32 }

var<uniform> sizes: Sizes;
var<uniform> hyper: array<Hyper, MAX_GROUP>;
var<uniform> A_slot: array<vec4f, SLOT>;
var<storage, read> A: array<vec4f>;
var<storage, read> W: array<vec4f>;   // W_hhᵀ
var<storage, read> W_q: array<vec4f>; // W_hqᵀ
var<uniform> D_slot: array<vec4f, SLOT>;
var<storage, read> D: array<vec4f>;
var<storage, read> hs: array<vec4f>;
var<storage, read_write> da: array<vec4f>;
var<storage, read_write> next: array<vec4f>;
var W_tex: texture_2d_array<f32>;   // W_hhᵀ (W_TEXTURE)
var W_q_tex: texture_2d_array<f32>; // W_hqᵀ (W_TEXTURE)
var<uniform> cells: Cells;

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let cell = wg.z;
  let A_ = cell * cells.A; let W_ = cell * cells.W; let W_q_ = cell * cells.W_q;
  let D_ = cell * cells.D; let hs_ = cell * cells.hs; let da_ = cell * cells.da;
  let next_ = cell * cells.next;
  let relu = hyper[cell].relu != 0u;
  let M = sizes.rows; let K = sizes.width; let K2 = sizes.vwidth; let NV = sizes.width;
  let r0 = wg.y * RB;
  let col0 = wg.x * LANES * CV + l.x;

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
      let row = min(r0 + i, M - 1u);
      var a: vec4f;
      if (A_IN_UNIFORM) { a = A_slot[row * K + k]; } else { a = A[A_ + row * K + k]; }
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
      let row = min(r0 + i, M - 1u);
      var d: vec4f;
      if (D_IN_UNIFORM) { d = D_slot[row * K2 + k]; } else { d = D[D_ + sizes.o + row * K2 + k]; }
      // unroll
      for (var c = 0u; c < CV; c++) {
        acc[i][c] = fma(vec4f(d.x), w[c][0], fma(vec4f(d.y), w[c][1], fma(vec4f(d.z), w[c][2], fma(vec4f(d.w), w[c][3], acc[i][c]))));
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

  // ⊙ φ′(H_t)
  for (var i = 0u; i < RB; i++) {
    if (r0 + i >= M) { break; }
    let row = r0 + i;
    for (var c = 0u; c < CV; c++) {
      let col = col0 + c * LANES;
      let r = (sizes.t * M + row) * NV + col;
      let d = next[next_ + row * NV + col] * dphi(hs[hs_ + r + M * NV], relu);
      da[da_ + r] = d;
      next[next_ + row * NV + col] = d;
    }
  }
}

// A product over many rows at once, stored from row sizes.o of C:
//
//   C = A·W + bias   (BIAS: the logits H_t W_hq + b_q of the loss window)
//   C = A·W          (the embedded inputs' projection P = E_x W_xh)
//
// A is read from vec4 sizes.a of storage, or where A_TEXTURE of A_tex
// (TEXELS a row, a layer per cell); W is K·4 × N·4, from storage or where
// W_TEXTURE from W_tex. Sums run as in the step kernels (k ascending, w,
// z, y, x innermost first).
//
// Constants: RB, CV, LANES (the tile); BIAS; A_TEXTURE, W_TEXTURE.

struct Sizes {
  rows: u32, // M
  K: u32,    // A's width (vec4s)
  N: u32,    // C's width (vec4s)
  a: u32,    // where A starts (vec4s)
  o: u32,    // C's first row
}
struct Cells { A: u32, W: u32, C: u32, bias: u32 }

var<uniform> sizes: Sizes;
var<storage, read> A: array<vec4f>;
var<storage, read> W: array<vec4f>;
var<storage, read_write> C: array<vec4f>;
var<storage, read> bias: array<vec4f>;
var A_tex: texture_2d_array<f32>; // (A_TEXTURE)
var W_tex: texture_2d_array<f32>; // (W_TEXTURE)
var<uniform> cells: Cells;

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let cell = wg.z;
  let A_ = cell * cells.A; let W_ = cell * cells.W; let C_ = cell * cells.C;
  let bias_ = cell * cells.bias;
  let M = sizes.rows; let K = sizes.K; let NV = sizes.N;
  let r0 = wg.y * RB;
  let col0 = wg.x * LANES * CV + l.x;

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
      let at = sizes.a + min(r0 + i, M - 1u) * K + k;
      var a: vec4f;
      if (A_TEXTURE) {
        a = texel(A_tex, at, cell);
      } else {
        a = A[A_ + at];
      }
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
      if (r0 + i < M) { C[C_ + (sizes.o + r0 + i) * NV + col0 + c * LANES] = acc[i][c]; }
    }
  }
  if (BIAS) {
    for (var i = 0u; i < RB; i++) {
      if (r0 + i >= M) { break; }
      let row = r0 + i;
      for (var c = 0u; c < CV; c++) {
        let col = col0 + c * LANES;
        C[C_ + (sizes.o + row) * NV + col] = C[C_ + (sizes.o + row) * NV + col] + bias[bias_ + col];
      }
    }
  }
}

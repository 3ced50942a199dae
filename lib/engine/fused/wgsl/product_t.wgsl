// A product with W used transposed, over many rows at once:
//
//   C = A·Wᵀ   (the gradient of the embedded inputs, dE_x = dA W_xhᵀ)
//
// W is N·4 × K·4 (rows of W are columns of Wᵀ, read as dot products). A
// from storage from vec4 sizes.a; C from row sizes.o.
//
// Constants: RB, CV, LANES (the tile).

struct Sizes {
  rows: u32, // M
  K: u32,    // A's width (vec4s)
  N: u32,    // C's width (vec4s)
  a: u32,    // where A starts (vec4s)
  o: u32,    // C's first row
}
struct Cells { A: u32, W: u32, C: u32 }

var<uniform> sizes: Sizes;
var<storage, read> A: array<vec4f>;
var<storage, read> W: array<vec4f>;
var<storage, read_write> C: array<vec4f>;
var<uniform> cells: Cells;

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let cell = wg.z;
  let A_ = cell * cells.A; let W_ = cell * cells.W; let C_ = cell * cells.C;
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
        w[c][m] = W[W_ + ((col0 + c * LANES) * 4u + m) * K + k];
      }
    }
    // unroll
    for (var i = 0u; i < RB; i++) {
      let a = A[A_ + sizes.a + min(r0 + i, M - 1u) * K + k];
      // unroll
      for (var c = 0u; c < CV; c++) {
        acc[i][c] += vec4f(dot(a, w[c][0]), dot(a, w[c][1]), dot(a, w[c][2]), dot(a, w[c][3]));
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
}

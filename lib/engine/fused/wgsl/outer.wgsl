// A weight gradient, a sum of outer products over sizes.rows rows:
//
//   G = Σ_r A[r]ᵀ D[r]      (stored; with ADD, added to G)
//
// dW_hh = Σ_t H_{t−1}ᵀ dA_t, dW_hq = Σ_t H_tᵀ dlogits_t, and dW_xh for
// embedded inputs. A (K·4 wide) from vec4 sizes.a, D from row sizes.o; G
// is K·4 × N·4. Each workgroup owns RB rows of G (RB a multiple of 4),
// each invocation CV vec4 columns; each sum runs over r ascending.
//
// Constants: RB, CV, LANES (the tile); ADD.

struct Sizes {
  rows: u32, // rows summed over
  K: u32,    // A's width (vec4s)
  N: u32,    // D's and G's width (vec4s)
  a: u32,    // where A starts (vec4s)
  o: u32,    // D's first row
}
struct Cells { A: u32, D: u32, G: u32 }

var<uniform> sizes: Sizes;
var<storage, read> A: array<vec4f>;
var<storage, read> D: array<vec4f>;
var<storage, read_write> G: array<vec4f>;
var<uniform> cells: Cells;

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let cell = wg.z;
  let A_ = cell * cells.A; let D_ = cell * cells.D; let G_ = cell * cells.G;
  let K = sizes.K; let NV = sizes.N;
  let k0 = wg.y * RB;
  let k4 = k0 / 4u;
  let col0 = wg.x * LANES * CV + l.x;

  // registers
  var acc: array<array<vec4f, CV>, RB>;
  for (var r = 0u; r < sizes.rows; r++) {
    // registers
    var d: array<vec4f, CV>;
    // unroll
    for (var c = 0u; c < CV; c++) { d[c] = D[D_ + (sizes.o + r) * NV + col0 + c * LANES]; }
    // unroll
    for (var q = 0u; q < RB / 4u; q++) {
      let a = A[A_ + sizes.a + r * K + k4 + q];
      // unroll
      for (var m = 0u; m < 4u; m++) {
        // unroll
        for (var c = 0u; c < CV; c++) {
          acc[4u * q + m][c] = fma(vec4f(a[m]), d[c], acc[4u * q + m][c]);
        }
      }
    }
  }
  // unroll
  for (var i = 0u; i < RB; i++) {
    // unroll
    for (var c = 0u; c < CV; c++) {
      if (ADD) {
        G[G_ + (k0 + i) * NV + col0 + c * LANES] += acc[i][c];
      } else {
        G[G_ + (k0 + i) * NV + col0 + c * LANES] = acc[i][c];
      }
    }
  }
}

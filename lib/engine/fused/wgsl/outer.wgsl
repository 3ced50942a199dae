// A weight gradient, a sum of outer products over sizes.rows rows, and
// with BIAS the column sums of D (the bias gradient beside it):
//
//   G = Σ_r A[r]ᵀ D[r]        G_b = Σ_r D[r]
//
// dW_hh = Σ_t H_{t−1}ᵀ dA_t (and db_h), dW_hq = Σ_t H_tᵀ dlogits_t (and
// db_q), and dW_xh for embedded inputs. A (K·4 wide) from vec4 sizes.a,
// or with GATHER row x_r of A (dW_xh: the embedded inputs are rows of
// W_embed); D from row sizes.o; G is K·4 × N·4. G sums partial sums of sizes.slice
// rows each, in turn (the engine's arithmetic where a state fits a uniform
// slot; slice = rows is one sum), from G as it is where sizes.carry is 1
// (a sum too long for one dispatch goes on in the next). Each workgroup owns RB rows of G (RB a
// multiple of 4), each invocation CV vec4 columns; the first row of
// workgroups also writes G_b. Each sum runs over r ascending. Where
// A_TEXTURE (D_TEXTURE) A (D) is read from A_tex (D_tex): the same vec4s,
// TEXELS a row, a layer per cell (as the recurrences read their weights).
//
// Constants: RB, CV, LANES (the tile); BIAS; GATHER; A_TEXTURE, D_TEXTURE.

struct Sizes {
  rows: u32,  // rows summed over
  slice: u32, // rows of each partial sum
  carry: u32, // 1: add to G
  K: u32,     // A's width (vec4s)
  N: u32,     // D's and G's width (vec4s)
  a: u32,     // where A starts (vec4s)
  o: u32,     // D's first row
}
struct Cells { A: u32, x: u32, D: u32, G: u32, G_b: u32 }

var<uniform> sizes: Sizes;
var<storage, read> A: array<vec4f>;
var<storage, read> x: array<u32>; // tokens (GATHER)
var<storage, read> D: array<vec4f>;
var<storage, read_write> G: array<vec4f>;
var<storage, read_write> G_b: array<vec4f>; // (BIAS)
var A_tex: texture_2d_array<f32>; // (A_TEXTURE)
var D_tex: texture_2d_array<f32>; // (D_TEXTURE)
var<uniform> cells: Cells;

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let cell = wg.z;
  let A_ = cell * cells.A; let x_ = cell * cells.x; let D_ = cell * cells.D; let G_ = cell * cells.G;
  let G_b_ = cell * cells.G_b;
  let K = sizes.K; let NV = sizes.N;
  let k0 = wg.y * RB;
  let k4 = k0 / 4u;
  let col0 = wg.x * LANES * CV + l.x;

  // registers
  var g: array<array<vec4f, CV>, RB>;
  // registers
  var b: array<vec4f, CV>;
  if (sizes.carry != 0u) {
    // unroll
    for (var i = 0u; i < RB; i++) {
      // unroll
      for (var c = 0u; c < CV; c++) { g[i][c] = G[G_ + (k0 + i) * NV + col0 + c * LANES]; }
    }
    if (BIAS) {
      // unroll
      for (var c = 0u; c < CV; c++) { b[c] = G_b[G_b_ + col0 + c * LANES]; }
    }
  }
  for (var r0 = 0u; r0 < sizes.rows; r0 += sizes.slice) {
    // registers
    var acc: array<array<vec4f, CV>, RB>;
    for (var r = r0; r < min(r0 + sizes.slice, sizes.rows); r++) {
      // registers
      var d: array<vec4f, CV>;
      // unroll
      for (var c = 0u; c < CV; c++) {
        let at = (sizes.o + r) * NV + col0 + c * LANES;
        if (D_TEXTURE) {
          d[c] = texel(D_tex, at, cell);
        } else {
          d[c] = D[D_ + at];
        }
      }
      if (BIAS) {
        // unroll
        for (var c = 0u; c < CV; c++) { b[c] += d[c]; }
      }
      var ar = r;
      if (GATHER) { ar = x[x_ + sizes.o + r]; }
      // unroll
      for (var q = 0u; q < RB / 4u; q++) {
        let at = sizes.a + ar * K + k4 + q;
        var a: vec4f;
        if (A_TEXTURE) {
          a = texel(A_tex, at, cell);
        } else {
          a = A[A_ + at];
        }
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
      for (var c = 0u; c < CV; c++) { g[i][c] += acc[i][c]; }
    }
  }
  // unroll
  for (var i = 0u; i < RB; i++) {
    // unroll
    for (var c = 0u; c < CV; c++) { G[G_ + (k0 + i) * NV + col0 + c * LANES] = g[i][c]; }
  }
  if (BIAS && wg.y == 0u) {
    // unroll
    for (var c = 0u; c < CV; c++) { G_b[G_b_ + col0 + c * LANES] = b[c]; }
  }
}

// The gradient of a row lookup, G[v] = Σ_{x_r = v} D[r] (rows of N vec4s):
// dW_xh for one-hot inputs, dW_embed for embedded ones. Rows arrive
// grouped by token (`order`, token v's rows at start[v]…start[v+1]), so
// each workgroup sums only its token's rows, in the order they came. D is
// read from storage, or where D_TEXTURE from D_tex (TEXELS a row, a layer
// per cell). Workgroups: (N/8, rows of G).
//
// Constants: D_TEXTURE.

struct Sizes {
  N: u32,     // vec4s of a row
  skip: u32,  // rows of each token summed before
  take: u32,  // rows of each token summed here, at most
  carry: u32, // 1: add to G
}
struct Cells { order: u32, start: u32, D: u32, G: u32 }

var<uniform> sizes: Sizes;
var<storage, read> order: array<u32>;
var<storage, read> start: array<u32>;
var<storage, read> D: array<vec4f>;
var<storage, read_write> G: array<vec4f>;
var D_tex: texture_2d_array<f32>; // (D_TEXTURE)
var<uniform> cells: Cells;

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let cell = wg.z;
  let order_ = cell * cells.order; let start_ = cell * cells.start;
  let D_ = cell * cells.D; let G_ = cell * cells.G;
  let NV = sizes.N;
  let col = wg.x * 8u + l.x;
  let v = wg.y;
  var acc = select(vec4f(), G[G_ + v * NV + col], sizes.carry != 0u);
  let first = start[start_ + v] + sizes.skip;
  for (var i = first; i < min(start[start_ + v + 1u], first + sizes.take); i++) {
    let at = order[order_ + i] * NV + col;
    if (D_TEXTURE) {
      acc += texel(D_tex, at, cell);
    } else {
      acc += D[D_ + at];
    }
  }
  G[G_ + v * NV + col] = acc;
}

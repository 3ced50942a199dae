// Column sums over sizes.rows rows of N vec4s, G = Σ_r D[r]: the bias
// gradients db_h = Σ dA_t and db_q = Σ dlogits_t. Workgroups: N/8.

struct Sizes {
  rows: u32,
  N: u32, // vec4s of a row
}
struct Cells { D: u32, G: u32 }

var<uniform> sizes: Sizes;
var<storage, read> D: array<vec4f>;
var<storage, read_write> G: array<vec4f>;
var<uniform> cells: Cells;

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let cell = wg.z;
  let D_ = cell * cells.D; let G_ = cell * cells.G;
  let NV = sizes.N;
  let col = wg.x * 8u + l.x;
  var acc = vec4f();
  for (var r = 0u; r < sizes.rows; r++) { acc += D[D_ + r * NV + col]; }
  G[G_ + col] = acc;
}

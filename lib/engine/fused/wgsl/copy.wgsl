// A copy of sizes.n vec4s, out[i] = src[i]: a minibatch's initial state
// into the first step's A.
//
// Constants: WIDE.

struct Sizes {
  n: u32, // vec4s
}
struct Cells { src: u32, out: u32 }

var<uniform> sizes: Sizes;
var<storage, read> src: array<vec4f>;
var<storage, read_write> out: array<vec4f>;
var<uniform> cells: Cells;

@compute @workgroup_size(WIDE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(global_invocation_id) g: vec3u) {
  let cell = wg.z;
  if (g.x < sizes.n) { out[cell * cells.out + g.x] = src[cell * cells.src + g.x]; }
}

// The transpose of a 4·M × 4·N matrix, out = mᵀ, one invocation per 4 × 4
// block: four vec4 loads and four vec4 stores (one invocation per
// element would make 16 scattered scalar stores). W_hhᵀ and W_hqᵀ, which
// the backward steps read by rows.
//
// Constants: WIDE.

struct Sizes {
  rows: u32, // M (vec4s of m's rows / 4)
  cols: u32, // N (vec4s)
}
struct Cells { m: u32, out: u32 }

var<uniform> sizes: Sizes;
var<storage, read> m: array<vec4f>;
var<storage, read_write> out: array<vec4f>;
var<uniform> cells: Cells;

@compute @workgroup_size(WIDE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(global_invocation_id) g: vec3u) {
  let cell = wg.z;
  let m_ = cell * cells.m; let out_ = cell * cells.out;
  let rows = sizes.rows; let cols = sizes.cols;
  if (g.x >= rows * cols) { return; }
  let i = g.x / cols;
  let j = g.x % cols;
  let r0 = m[m_ + (4u * i) * cols + j];
  let r1 = m[m_ + (4u * i + 1u) * cols + j];
  let r2 = m[m_ + (4u * i + 2u) * cols + j];
  let r3 = m[m_ + (4u * i + 3u) * cols + j];
  out[out_ + (4u * j) * rows + i] = vec4f(r0.x, r1.x, r2.x, r3.x);
  out[out_ + (4u * j + 1u) * rows + i] = vec4f(r0.y, r1.y, r2.y, r3.y);
  out[out_ + (4u * j + 2u) * rows + i] = vec4f(r0.z, r1.z, r2.z, r3.z);
  out[out_ + (4u * j + 3u) * rows + i] = vec4f(r0.w, r1.w, r2.w, r3.w);
}

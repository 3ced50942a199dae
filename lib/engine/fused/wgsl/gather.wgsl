// Rows of a table picked by token, out[r] = table[x_r], for sizes.rows
// rows of N vec4s: the embedded inputs E_x. Workgroups: (N/8, ⌈rows/8⌉).

struct Sizes {
  rows: u32,
  N: u32, // vec4s of a row
}
struct Cells { x: u32, table: u32, out: u32 }

var<uniform> sizes: Sizes;
var<storage, read> x: array<u32>;
var<storage, read> table: array<vec4f>;
var<storage, read_write> out: array<vec4f>;
var<uniform> cells: Cells;

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let cell = wg.z;
  let x_ = cell * cells.x; let table_ = cell * cells.table; let out_ = cell * cells.out;
  let NV = sizes.N;
  let col = wg.x * 8u + l.x;
  for (var r = wg.y * 8u; r < min(wg.y * 8u + 8u, sizes.rows); r++) {
    out[out_ + r * NV + col] = table[table_ + x[x_ + r] * NV + col];
  }
}

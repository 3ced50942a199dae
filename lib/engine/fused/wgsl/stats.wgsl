// Sums of one minibatch, by a single workgroup per cell: the mean loss
// over R rows into stats[2·i], and the squared global gradient norm ‖g‖²
// (all parameters' gradients are one buffer of N vec4s) into stats[2·i + 1],
// for minibatch i = sizes.i. R stays a constant, as in the softmax.
//
// Constants: R, N; WIDE.

struct Sizes {
  i: u32, // the minibatch
}
struct Cells { losses: u32, grads: u32, stats: u32 }

var<uniform> sizes: Sizes;
var<storage, read> losses: array<f32>;
var<storage, read> grads: array<vec4f>;
var<storage, read_write> stats: array<f32>;
var<uniform> cells: Cells;

var<workgroup> partLoss: array<f32, WIDE>;
var<workgroup> partNorm: array<f32, WIDE>;

@compute @workgroup_size(WIDE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let cell = wg.z;
  let losses_ = cell * cells.losses; let grads_ = cell * cells.grads; let stats_ = cell * cells.stats;
  let i = l.x;
  var loss = 0.0;
  for (var r = i; r < R; r += WIDE) { loss += losses[losses_ + r]; }
  var sq = vec4f();
  for (var j = i; j < N; j += WIDE) {
    sq = fma(grads[grads_ + j], grads[grads_ + j], sq);
  }
  partLoss[i] = loss;
  partNorm[i] = sq.x + sq.y + sq.z + sq.w;
  workgroupBarrier();
  if (i == 0u) {
    var a = 0.0; var b = 0.0;
    for (var k = 0u; k < WIDE; k++) { a += partLoss[k]; b += partNorm[k]; }
    stats[stats_ + 2u * sizes.i] = a / f32(R);
    stats[stats_ + 2u * sizes.i + 1u] = b;
  }
}

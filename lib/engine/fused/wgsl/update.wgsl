// The SGD step with global-norm clipping, over all parameters at once
// (one buffer of sizes.n vec4s):
//
//   p ← p − lr · min(1, θ/‖g‖) · g
//
// with ‖g‖² from stats[2·i + 1] for minibatch i = sizes.i (θ = 3.4e38
// with clipping off). A cell whose mode for minibatch i says no update
// (it has fewer minibatches this epoch, or has stopped) keeps its
// parameters. W_hh and W_hq are also written transposed, to W_T and W_q_T
// (as floats, scattered), which the backward pass reads by rows.
//
// Constants: HH, HQ (where W_hh and W_hq start, vec4s), HP (their padded
// rows), HV, QV (their vec4s per row); MAX_GROUP; WIDE.

struct Sizes {
  i: u32, // the minibatch
  n: u32, // vec4s of the parameters
}
struct Cells { modes: u32, stats: u32, grads: u32, params: u32, W_T: u32, W_q_T: u32 }

var<uniform> sizes: Sizes;
var<uniform> hyper: array<Hyper, MAX_GROUP>;
var<storage, read> modes: array<u32>; // per minibatch: [state, update]
var<storage, read> stats: array<f32>;
var<storage, read> grads: array<vec4f>;
var<storage, read_write> params: array<vec4f>;
var<storage, read_write> W_T: array<f32>;   // W_hhᵀ
var<storage, read_write> W_q_T: array<f32>; // W_hqᵀ
var<uniform> cells: Cells;

@compute @workgroup_size(WIDE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(global_invocation_id) g: vec3u) {
  let cell = wg.z;
  let modes_ = cell * cells.modes; let stats_ = cell * cells.stats;
  let grads_ = cell * cells.grads; let params_ = cell * cells.params;
  let W_T_ = cell * cells.W_T; let W_q_T_ = cell * cells.W_q_T;
  if (g.x >= sizes.n || modes[modes_ + 2u * sizes.i + 1u] == 0u) { return; }
  let norm = sqrt(stats[stats_ + 2u * sizes.i + 1u]);
  let scale = min(1.0, hyper[cell].theta / norm);
  let p = params[params_ + g.x] - hyper[cell].lr * scale * grads[grads_ + g.x];
  params[params_ + g.x] = p;
  // Element (r, 4c + q) of a matrix is element (4c + q, r) of its transpose.
  if (g.x >= HH && g.x < HH + HP * HV) {
    let r = (g.x - HH) / HV; let c = (g.x - HH) % HV;
    for (var q = 0u; q < 4u; q++) { W_T[W_T_ + (4u * c + q) * HP + r] = p[q]; }
  } else if (g.x >= HQ && g.x < HQ + HP * QV) {
    let r = (g.x - HQ) / QV; let c = (g.x - HQ) % QV;
    for (var q = 0u; q < 4u; q++) { W_q_T[W_q_T_ + (4u * c + q) * HP + r] = p[q]; }
  }
}

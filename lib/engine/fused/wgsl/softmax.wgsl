// Softmax cross-entropy and its gradient, one invocation per row of the
// loss window (R rows of Vp logits, the first V real):
//
//   loss_r = logsumexp(logits_r) − logits_r[y_r]
//   dlogits_r = (softmax(logits_r) − onehot(y_r)) / R
//
// the gradient of the mean loss (padded columns get 0), written over the
// logits. R stays a constant: a division by a constant may round
// differently from one by a variable.
//
// Constants: R, V, Vp; WIDE.

struct Cells { y: u32, logits: u32, losses: u32 }

var<storage, read> y: array<u32>;
var<storage, read_write> logits: array<f32>;
var<storage, read_write> losses: array<f32>;
var<uniform> cells: Cells;

@compute @workgroup_size(WIDE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(global_invocation_id) g: vec3u) {
  let cell = wg.z;
  let y_ = cell * cells.y; let logits_ = cell * cells.logits; let losses_ = cell * cells.losses;
  let r = g.x;
  if (r >= R) { return; }
  let base = logits_ + r * Vp;
  let yr = y[y_ + r];
  var m = -3.0e38;
  for (var v = 0u; v < V; v++) { m = max(m, logits[base + v]); }
  var s = 0.0;
  for (var v = 0u; v < V; v++) { s += exp(logits[base + v] - m); }
  let lse = m + log(s);
  losses[losses_ + r] = lse - logits[base + yr];
  for (var v = 0u; v < V; v++) {
    let p = exp(logits[base + v] - lse);
    logits[base + v] = (p - select(0.0, 1.0, v == yr)) / f32(R);
  }
}

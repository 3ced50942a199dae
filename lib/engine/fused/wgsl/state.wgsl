// A minibatch's initial state, state slot 0 of `hs` (sizes.n vec4s), for
// each cell as its mode for minibatch sizes.i says: kept (0: detach:
// false restarts from the epoch's first state), zeros (1: a fresh state),
// or the last state of the minibatch before, slot sizes.last (2: carried
// on, detached).
//
// Constants: WIDE.

struct Sizes {
  i: u32,    // the minibatch
  n: u32,    // vec4s of a state
  last: u32, // the slot of the last step's state
}
struct Cells { modes: u32, hs: u32 }

var<uniform> sizes: Sizes;
var<storage, read> modes: array<u32>; // per minibatch: [state, update]
var<storage, read_write> hs: array<vec4f>;
var<uniform> cells: Cells;

@compute @workgroup_size(WIDE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(global_invocation_id) g: vec3u) {
  let cell = wg.z;
  let modes_ = cell * cells.modes; let hs_ = cell * cells.hs;
  let mode = modes[modes_ + 2u * sizes.i];
  if (g.x >= sizes.n || mode == 0u) { return; }
  hs[hs_ + g.x] = select(hs[hs_ + sizes.last * sizes.n + g.x], vec4f(), mode == 1u);
}

// What every kernel of the fused engine shares.
//
// A dispatch covers every cell (model) of a group, the cell being the
// workgroup's z. Each storage binding holds every cell's part in turn: a
// kernel reads cell `cell`'s part from `X_ = cell * cells.X` on, where the
// uniform `cells` gives each storage binding's elements per cell (the
// engine fills it in from the buffers' strides). Widths are in vec4s and
// padded with zeros, which stay zero through training.

// Each cell's hyperparameters, one entry per cell of the group.
struct Hyper {
  lr: f32,    // SGD learning rate
  theta: f32, // clipping threshold θ on the global norm (3.4e38: off)
  relu: u32,  // φ is ReLU (1) or tanh (0)
  _pad: u32,
}

// φ, the hidden layer's nonlinearity: tanh, or ReLU where `relu`.
fn phi(a: vec4f, relu: bool) -> vec4f {
  if (relu) { return max(a, vec4f()); }
  return tanh(a);
}

// φ′ from φ's output h: 1 − h² for tanh, 1 where h > 0 for ReLU.
fn dphi(h: vec4f, relu: bool) -> vec4f {
  if (relu) { return select(vec4f(), vec4f(1.0), h > vec4f()); }
  return 1.0 - h * h;
}

// A buffer held as a texture (`texels.ts`, on a CPU adapter): each cell's
// part in a layer of its own, TEXELS vec4s a row (1,024 bytes, a multiple
// of the 256 a copy's rows take).
const TEXELS = 64u;

// Vec4 `at` of cell `cell`'s part: texel (at % TEXELS, at / TEXELS) of its layer.
fn texel(t: texture_2d_array<f32>, at: u32, cell: u32) -> vec4f {
  return textureLoad(t, vec2u(at % TEXELS, at / TEXELS), cell, 0);
}

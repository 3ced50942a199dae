// lib/data/prng.ts
function makeRng(seed) {
  let a = seed >>> 0 ^ 2654435769;
  const random = () => {
    a = a + 1831565813 >>> 0;
    let t = a;
    t = Math.imul(t ^ t >>> 15, t | 1);
    t ^= t + Math.imul(t ^ t >>> 7, t | 61);
    return ((t ^ t >>> 14) >>> 0) / 4294967296;
  };
  return {
    random,
    randint: (lo, hi) => lo + Math.floor(random() * (hi - lo + 1)),
    normal: () => {
      const u = 1 - random();
      const v = random();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    shuffle(xs) {
      for (let i = xs.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [xs[i], xs[j]] = [
          xs[j],
          xs[i]
        ];
      }
      return xs;
    }
  };
}

// lib/data/iterators.ts
function* seqDataIterRandom(corpus, batch_size, num_steps, rng) {
  const data = corpus.subarray(rng.randint(0, num_steps - 1));
  const num_subseqs = Math.floor((data.length - 1) / num_steps);
  const initial_indices = rng.shuffle(Array.from({
    length: num_subseqs
  }, (_, i) => i * num_steps));
  const num_batches = Math.floor(num_subseqs / batch_size);
  for (let i = 0; i < batch_size * num_batches; i += batch_size) {
    const X = new Int32Array(batch_size * num_steps);
    const Y = new Int32Array(batch_size * num_steps);
    for (let b = 0; b < batch_size; b++) {
      const j = initial_indices[i + b];
      X.set(data.subarray(j, j + num_steps), b * num_steps);
      Y.set(data.subarray(j + 1, j + 1 + num_steps), b * num_steps);
    }
    yield {
      X,
      Y,
      batch_size,
      num_steps
    };
  }
}
function* seqDataIterSequential(corpus, batch_size, num_steps, rng, offset = rng.randint(0, num_steps)) {
  const num_tokens = Math.floor((corpus.length - offset - 1) / batch_size) * batch_size;
  const Xs = corpus.subarray(offset, offset + num_tokens);
  const Ys = corpus.subarray(offset + 1, offset + 1 + num_tokens);
  const cols = num_tokens / batch_size;
  const num_batches = Math.floor(cols / num_steps);
  for (let i = 0; i < num_steps * num_batches; i += num_steps) {
    const X = new Int32Array(batch_size * num_steps);
    const Y = new Int32Array(batch_size * num_steps);
    for (let b = 0; b < batch_size; b++) {
      X.set(Xs.subarray(b * cols + i, b * cols + i + num_steps), b * num_steps);
      Y.set(Ys.subarray(b * cols + i, b * cols + i + num_steps), b * num_steps);
    }
    yield {
      X,
      Y,
      batch_size,
      num_steps
    };
  }
}
function dataIter(sampling, corpus, batch_size, num_steps, rng) {
  return sampling === "random" ? seqDataIterRandom(corpus, batch_size, num_steps, rng) : seqDataIterSequential(corpus, batch_size, num_steps, rng);
}

// lib/model/params.ts
function get_params(spec, rng) {
  const { vocab_size: V, num_hiddens: H, embed_size: E } = spec;
  const normal = (rows, cols, std) => ({
    shape: [
      rows,
      cols
    ],
    values: Float32Array.from({
      length: rows * cols
    }, () => rng.normal() * std)
  });
  const zeros = (cols) => ({
    shape: [
      cols
    ],
    values: new Float32Array(cols)
  });
  const embedding = spec.input === "embedding";
  return {
    ...embedding ? {
      W_embed: normal(V, E, 1)
    } : {},
    W_xh: normal(embedding ? E : V, H, 0.01),
    W_hh: normal(H, H, 0.01),
    b_h: zeros(H),
    W_hq: normal(H, V, 0.01),
    b_q: zeros(V)
  };
}

// lib/engine/engine.ts
function replays(spec, options, minibatches) {
  const replay = !options.detach && options.sampling === "sequential";
  const steps = minibatches * spec.num_steps;
  if (replay && steps > spec.max_steps) {
    throw new Error(`detach: false needs max_steps \u2265 ${steps} (got ${spec.max_steps})`);
  }
  return replay;
}

// lib/engine/wgsl.ts
var uniform = (type) => ({
  access: "uniform",
  type
});
var read = (type = "array<vec4f>") => ({
  access: "read",
  type
});
var readWrite = (type = "array<vec4f>") => ({
  access: "read_write",
  type
});
function elementBytes(type) {
  return /^array<vec4[fu]>$/.test(type) ? 16 : 4;
}
var UNIFORM_BYTES = 65536;
var SLOT = `array<vec4f, ${UNIFORM_BYTES / 16}>`;
var STEP = `struct Step {
  t: u32,  // the time step, or a minibatch's slot in stats
  a: u32,  // where A starts (vec4s)
  o: u32,  // the first output row, or where D starts (vec4s)
  n: u32,  // rows (or vec4s) to go through
  M: u32,  // rows of a product
  K: u32,  // its inner width (vec4s)
  N: u32,  // its output width (vec4s)
  K2: u32, // the inner width of a second segment (vec4s)
  s: u32,  // slices in use, of a kernel over several
  _0: u32, _1: u32, _2: u32,
}
`;
function stepWords(v) {
  const { t = 0, a = 0, o = 0, n = 0, M = 0, K = 0, N = 0, K2 = 0, s = 0 } = v;
  return new Uint32Array([
    t,
    a,
    o,
    n,
    M,
    K,
    N,
    K2,
    s,
    0,
    0,
    0
  ]);
}
var cellBindings = (k) => k.bindings.filter(([, b]) => b.access !== "uniform");
function kernel(label, bindings, code) {
  const entries = Object.entries(bindings);
  const declarations = entries.map(([name, b], i) => `@group(0) @binding(${i}) var<${b.access === "uniform" ? "uniform" : `storage, ${b.access}`}> ${name}: ${b.type};`).join("\n");
  const stored = entries.filter(([, b]) => b.access !== "uniform");
  const cells = `struct Cells {
${stored.map(([name]) => `  ${name}: u32,
`).join("")}}
@group(0) @binding(${entries.length}) var<uniform> cells: Cells;`;
  const bases = stored.map(([name]) => `  let ${name}_ = cell * cells.${name};
`).join("");
  return {
    label,
    code: `${STEP}${declarations}
${cells}
${code.prelude ?? ""}
@compute @workgroup_size(${code.size})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u, @builtin(global_invocation_id) g: vec3u) {
  let cell = wg.z;
${bases}${code.main}
}`,
    bindings: entries
  };
}

// lib/engine/tile.ts
var LANES = 8;
var productGroups = (t, M, N) => [
  N / 4 / (t.lanes * t.cv),
  Math.ceil(M / t.rb)
];
var each = (t, f) => {
  let out = "";
  for (let i = 0; i < t.rb; i++) for (let c = 0; c < t.cv; c++) out += f(i, c);
  return out;
};
function productTile(t, layout, segments, store, rowBase = "") {
  const { cv, lanes } = t;
  const col = (c) => `col0 + ${c * lanes}u`;
  let loops = "";
  for (const { K, load, W } of segments) {
    let body = "";
    for (let c = 0; c < cv; c++) {
      for (let m = 0; m < 4; m++) {
        body += layout === "nn" ? `    let w${m}_${c} = ${W}[${W}_ + (k * 4u + ${m}u) * NV + ${col(c)}];
` : `    let w${m}_${c} = ${W}[${W}_ + ((${col(c)}) * 4u + ${m}u) * ${K} + k];
`;
      }
    }
    for (let i = 0; i < t.rb; i++) {
      body += `    let a${i} = ${load(`min(r0 + ${i}u, M - 1u)`)};
`;
      for (let c = 0; c < cv; c++) {
        const acc = `acc${i}_${c}`;
        body += layout === "nn" ? `    ${acc} = fma(vec4f(a${i}.x), w0_${c}, fma(vec4f(a${i}.y), w1_${c}, fma(vec4f(a${i}.z), w2_${c}, fma(vec4f(a${i}.w), w3_${c}, ${acc}))));
` : `    ${acc} += vec4f(dot(a${i}, w0_${c}), dot(a${i}, w1_${c}), dot(a${i}, w2_${c}), dot(a${i}, w3_${c}));
`;
      }
    }
    loops += `  for (var k = 0u; k < ${K}; k++) {
${body}  }
`;
  }
  return `  let col0 = wg.x * ${lanes * cv}u + l.x;
${each(t, (i, c) => `  var acc${i}_${c} = vec4f();
`)}${loops}${each(t, (i, c) => `  if (r0 + ${i}u < M) { ${store(`${rowBase}r0 + ${i}u`, col(c), `acc${i}_${c}`)} }
`)}`;
}
function overTile(t, body, rowBase = "") {
  return `  for (var i = 0u; i < ${t.rb}u; i++) {
    if (r0 + i >= M) { break; }
    let row = ${rowBase}r0 + i;
    for (var c = 0u; c < ${t.cv}u; c++) {
      let col = col0 + c * ${t.lanes}u;
      ${body}
    }
  }
`;
}
function gradientTile(t, ranges, op) {
  const { rb, cv, lanes } = t;
  const col = (c) => `col0 + ${c * lanes}u`;
  let loops = "";
  for (const range of ranges) {
    let body = "";
    for (let c = 0; c < cv; c++) {
      body += `    let d${c} = D[D_ + (${range.D}) * NV + ${col(c)}];
`;
    }
    for (let q = 0; q < rb / 4; q++) {
      body += `    let a${q} = ${range.A(`r * K + k4 + ${q}u`)};
`;
      for (let m = 0; m < 4; m++) {
        for (let c = 0; c < cv; c++) {
          const acc = `acc${4 * q + m}_${c}`;
          body += `    ${acc} = fma(vec4f(a${q}[${m}]), d${c}, ${acc});
`;
        }
      }
    }
    const loop = `  for (var r = 0u; r < ${range.rows}; r++) {
${body}  }
`;
    loops += range.when ? `  if (${range.when}) {
${loop}  }
` : loop;
  }
  return `  let k0 = wg.y * ${rb}u;
  let k4 = k0 / 4u;
  let col0 = wg.x * ${lanes * cv}u + l.x;
${each(t, (i, c) => `  var acc${i}_${c} = vec4f();
`)}${loops}${each(t, (i, c) => `  G[G_ + (k0 + ${i}u) * NV + ${col(c)}] ${op} acc${i}_${c};
`)}`;
}

// lib/engine/kernels.ts
var PAD = 32;
var WIDE = 64;
var SLICES = 8;
var pad = (n) => Math.ceil(n / PAD) * PAD;
var MAX_CELLS = 256;
var HYPER = `struct Hyper { lr: f32, theta: f32, relu: u32, _0: u32 }`;
var hyper = () => uniform(`array<Hyper, ${MAX_CELLS}>`);
var ACTIVATION = `${HYPER}
fn phi(a: vec4f, relu: bool) -> vec4f {
  if (relu) { return max(a, vec4f()); }
  return tanh(a);
}
fn dphi(h: vec4f, relu: bool) -> vec4f {
  if (relu) { return select(vec4f(), vec4f(1.0), h > vec4f()); }
  return 1.0 - h * h;
}
`;
var operand = (a) => a === "uniform" ? uniform(SLOT) : read();
var u32s = read("array<u32>");
var f32s = read("array<f32>");
var productMain = (t) => `  let M = step.M; let NV = step.N;
  let r0 = wg.y * ${t.rb}u;
`;
var timesW = (A, a = "storage") => ({
  K: "step.K",
  W: "W",
  load: (row) => a === "storage" ? `${A}[${A}_ + step.a + (${row}) * step.K + k]` : `${A}[(${row}) * step.K + k]`
});
var storeNext = (row, col, acc) => `next[next_ + (${row}) * NV + ${col}] = ${acc};`;
var storeC = (row, col, acc) => `C[C_ + (step.o + ${row}) * NV + ${col}] = ${acc};`;
var ADD_BIAS = "C[C_ + (step.o + row) * NV + col] = C[C_ + (step.o + row) * NV + col] + bias[bias_ + col];";
function stepForward(t, input, a) {
  const projection = input === "one_hot" ? "W_xh[W_xh_ + x[x_ + step.t * M + row] * NV + col]" : "P[P_ + (step.t * M + row) * NV + col]";
  const inputs = input === "one_hot" ? {
    x: u32s,
    W_xh: read()
  } : {
    P: read()
  };
  return kernel(`forward:${input}:${a}:${tileName(t)}`, {
    step: uniform("Step"),
    hyper: hyper(),
    A: operand(a),
    W: read(),
    ...inputs,
    b_h: read(),
    hs: readWrite(),
    next: readWrite()
  }, {
    size: t.lanes,
    prelude: ACTIVATION,
    main: `  let relu = hyper[cell].relu != 0u;
${productMain(t)}${productTile(t, "nn", [
      timesW("A", a)
    ], storeNext)}${overTile(t, `let h = phi(next[next_ + row * NV + col] + ${projection} + b_h[b_h_ + col], relu); hs[hs_ + ((step.t + 1u) * M + row) * NV + col] = h; next[next_ + row * NV + col] = h;`)}`
  });
}
function stepBackward(t, a, d) {
  return kernel(`backward:${a}:${d}:${tileName(t)}`, {
    step: uniform("Step"),
    hyper: hyper(),
    A: operand(a),
    W: read(),
    W_q: read(),
    D: operand(d),
    hs: read(),
    da: readWrite(),
    next: readWrite()
  }, {
    size: t.lanes,
    prelude: ACTIVATION,
    main: `  let relu = hyper[cell].relu != 0u;
${productMain(t)}${productTile(t, "nn", [
      timesW("A", a),
      {
        K: "step.K2",
        W: "W_q",
        load: (row) => d === "uniform" ? `D[(${row}) * step.K2 + k]` : `D[D_ + step.o + (${row}) * step.K2 + k]`
      }
    ], storeNext)}${overTile(t, "let r = (step.t * M + row) * NV + col; let d = next[next_ + row * NV + col] * dphi(hs[hs_ + r + M * NV], relu); da[da_ + r] = d; next[next_ + row * NV + col] = d;")}`
  });
}
function productStore(t, layout, bias) {
  return kernel(`product:${layout}:${bias}:${tileName(t)}`, {
    step: uniform("Step"),
    A: read(),
    W: read(),
    C: readWrite(),
    ...bias ? {
      bias: read()
    } : {}
  }, {
    size: t.lanes,
    main: `${productMain(t)}${productTile(t, layout, [
      timesW("A")
    ], storeC)}${bias ? overTile(t, ADD_BIAS) : ""}`
  });
}
var SLICE_NAMES = [
  "A0",
  "A1",
  "A2",
  "A3",
  "A4",
  "A5",
  "A6",
  "A7"
];
var slices = () => Object.fromEntries(SLICE_NAMES.map((name) => [
  name,
  uniform(SLOT)
]));
function logitsSliced(t) {
  let cases = "";
  for (let s = 0; s < SLICES; s++) {
    cases += `    case ${s}u: {
${productTile(t, "nn", [
      timesW(`A${s}`, "slice")
    ], storeC, `${s}u * M + `)}    }
`;
  }
  return kernel(`logits:${tileName(t)}`, {
    step: uniform("Step"),
    ...slices(),
    W: read(),
    C: readWrite(),
    bias: read()
  }, {
    size: t.lanes,
    main: `  let M = step.M; let NV = step.N;
  let groups = (M + ${t.rb - 1}u) / ${t.rb}u;
  let r0 = (wg.y % groups) * ${t.rb}u;
  let s = wg.y / groups;
  let col0 = wg.x * ${t.lanes * t.cv}u + l.x;
  switch s {
${cases}    default: {}
  }
${overTile(t, ADD_BIAS, "s * M + ")}`
  });
}
function outer(t, op = "=") {
  return kernel(`outer:${op === "=" ? "store" : "add"}:${tileName(t)}`, {
    step: uniform("Step"),
    A: read(),
    D: read(),
    G: readWrite()
  }, {
    size: t.lanes,
    main: `  let K = step.K; let NV = step.N;
${gradientTile(t, [
      {
        rows: "step.n",
        A: (i) => `A[A_ + step.a + ${i}]`,
        D: "step.o + r"
      }
    ], op)}`
  });
}
function outerSliced(t) {
  const ranges = Array.from({
    length: SLICES
  }, (_, s) => ({
    rows: "step.M",
    A: (i) => `A${s}[${i}]`,
    D: `step.o + ${s}u * step.M + r`,
    when: s === 0 ? void 0 : `${s}u < step.s`
  }));
  return kernel(`outerSliced:${tileName(t)}`, {
    step: uniform("Step"),
    ...slices(),
    D: read(),
    G: readWrite()
  }, {
    size: t.lanes,
    main: `  let K = step.K; let NV = step.N;
${gradientTile(t, ranges, "+=")}`
  });
}
var transpose = kernel("transpose", {
  step: uniform("Step"),
  m: read(),
  out: readWrite()
}, {
  size: WIDE,
  main: `  let rows = step.M; let cols = step.N;
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
  out[out_ + (4u * j + 3u) * rows + i] = vec4f(r0.w, r1.w, r2.w, r3.w);`
});
var copy = kernel("copy", {
  step: uniform("Step"),
  src: read(),
  out: readWrite()
}, {
  size: WIDE,
  main: `  if (g.x < step.n) { out[out_ + step.o + g.x] = src[src_ + step.a + g.x]; }`
});
var initialState = kernel("state", {
  step: uniform("Step"),
  modes: read("array<u32>"),
  hs: readWrite()
}, {
  size: WIDE,
  main: `  let mode = modes[modes_ + 2u * step.t];
  if (g.x >= step.n || mode == 0u) { return; }
  hs[hs_ + g.x] = select(hs[hs_ + step.K * step.n + g.x], vec4f(), mode == 1u);`
});
var gather = kernel("gather", {
  step: uniform("Step"),
  x: u32s,
  table: read(),
  out: readWrite()
}, {
  size: 8,
  main: `  let NV = step.N;
  let col = wg.x * 8u + l.x;
  for (var r = wg.y * 8u; r < min(wg.y * 8u + 8u, step.n); r++) {
    out[out_ + r * NV + col] = table[table_ + x[x_ + r] * NV + col];
  }`
});
var scatter = kernel("scatter", {
  step: uniform("Step"),
  order: u32s,
  start: u32s,
  D: read(),
  G: readWrite()
}, {
  size: 8,
  main: `  let NV = step.N;
  let col = wg.x * 8u + l.x;
  let v = wg.y;
  var acc = vec4f();
  for (var i = start[start_ + v]; i < start[start_ + v + 1u]; i++) {
    acc += D[D_ + order[order_ + i] * NV + col];
  }
  G[G_ + v * NV + col] = acc;`
});
var colsum = kernel("colsum", {
  step: uniform("Step"),
  D: read(),
  G: readWrite()
}, {
  size: 8,
  main: `  let NV = step.N;
  let col = wg.x * 8u + l.x;
  var acc = vec4f();
  for (var r = 0u; r < step.n; r++) { acc += D[D_ + r * NV + col]; }
  G[G_ + col] = acc;`
});
var softmaxCE = (R, V, Vp) => kernel(`softmax:${R}:${V}:${Vp}`, {
  y: u32s,
  logits: readWrite("array<f32>"),
  losses: readWrite("array<f32>")
}, {
  size: WIDE,
  main: `  let r = g.x;
  if (r >= ${R}u) { return; }
  let base = logits_ + r * ${Vp}u;
  let yr = y[y_ + r];
  var m = -3.0e38;
  for (var v = 0u; v < ${V}u; v++) { m = max(m, logits[base + v]); }
  var s = 0.0;
  for (var v = 0u; v < ${V}u; v++) { s += exp(logits[base + v] - m); }
  let lse = m + log(s);
  losses[losses_ + r] = lse - logits[base + yr];
  for (var v = 0u; v < ${V}u; v++) {
    let p = exp(logits[base + v] - lse);
    logits[base + v] = (p - select(0.0, 1.0, v == yr)) / ${R}.0;
  }`
});
var minibatchStats = (R, n) => kernel(`stats:${R}:${n}`, {
  step: uniform("Step"),
  losses: f32s,
  grads: read(),
  stats: readWrite("array<f32>")
}, {
  size: WIDE,
  prelude: `var<workgroup> partLoss: array<f32, ${WIDE}>;
var<workgroup> partNorm: array<f32, ${WIDE}>;`,
  main: `  let i = l.x;
  var loss = 0.0;
  for (var r = i; r < ${R}u; r += ${WIDE}u) { loss += losses[losses_ + r]; }
  var sq = vec4f();
  for (var j = i; j < ${n}u; j += ${WIDE}u) {
    sq = fma(grads[grads_ + j], grads[grads_ + j], sq);
  }
  partLoss[i] = loss;
  partNorm[i] = sq.x + sq.y + sq.z + sq.w;
  workgroupBarrier();
  if (i == 0u) {
    var a = 0.0; var b = 0.0;
    for (var k = 0u; k < ${WIDE}u; k++) { a += partLoss[k]; b += partNorm[k]; }
    stats[stats_ + 2u * step.t] = a / ${R}.0;
    stats[stats_ + 2u * step.t + 1u] = b;
  }`
});
var sgdUpdate = kernel("update", {
  step: uniform("Step"),
  hyper: hyper(),
  modes: read("array<u32>"),
  stats: f32s,
  grads: read(),
  params: readWrite()
}, {
  size: WIDE,
  prelude: HYPER,
  main: `  if (g.x >= step.n || modes[modes_ + 2u * step.t + 1u] == 0u) { return; }
  let norm = sqrt(stats[stats_ + 2u * step.t + 1u]);
  let scale = min(1.0, hyper[cell].theta / norm);
  params[params_ + g.x] -= hyper[cell].lr * scale * grads[grads_ + g.x];`
});
var tileName = (t) => `${t.rb}x${t.cv}x${t.lanes}`;

// lib/engine/passes.ts
function kernelsFor(spec, tiles, sizes, shape) {
  const { batch_size: B, num_steps: T } = spec;
  const { Hp, Vp, Ep, n } = sizes;
  const a = shape.uniformA ? "uniform" : "storage";
  const sliced = shape.uniformA ? tiles.sliced : null;
  const tile = {
    step: tiles.step(B, Hp),
    logits: sliced ? sliced.logits(B, Vp) : tiles.wide(Vp),
    P: tiles.wide(Hp),
    dEx: tiles.wide(Ep),
    dW_hh: sliced ? sliced.outer(Hp, Hp) : tiles.outer(Hp, Hp),
    dW_hq: sliced ? sliced.outer(Hp, Vp) : tiles.outer(Hp, Vp),
    dW_xh: tiles.outer(Ep, Hp)
  };
  const op = shape.chunked ? "+=" : "=";
  return {
    tile,
    sliced: sliced !== null,
    forwardOneHot: stepForward(tile.step, "one_hot", a),
    forwardEmbedded: stepForward(tile.step, "embedding", a),
    backward: stepBackward(tile.step, a, shape.uniformD ? "uniform" : "storage"),
    logitsSliced: logitsSliced(tile.logits),
    logits: productStore(tile.logits, "nn", true),
    P: productStore(tile.P, "nn", false),
    dEx: productStore(tile.dEx, "nt", false),
    /** The weight gradients' kernels, from storage and from slices. */
    dW: {
      hh: {
        tile: tile.dW_hh,
        kernel: outer(tile.dW_hh, op),
        sliced: outerSliced(tile.dW_hh)
      },
      hq: {
        tile: tile.dW_hq,
        kernel: outer(tile.dW_hq, op),
        sliced: outerSliced(tile.dW_hq)
      }
    },
    dW_xh: outer(tile.dW_xh),
    softmax: softmaxCE(T * B, spec.vocab_size, Vp),
    stats: minibatchStats(T * B, n / 4)
  };
}
var gradientGroups = (t, K, N) => [
  N / 4 / (t.lanes * t.cv),
  K / t.rb
];
function region(m, of, name) {
  const { offset, size } = m.layout.bytes(name);
  return {
    buffer: of,
    offset,
    size: size + (m.C - 1) * m.layout.floats * 4
  };
}
function slot(buffer, at) {
  return {
    buffer,
    offset: at * 4,
    size: UNIFORM_BYTES
  };
}
function slices2(m, first, n) {
  const floats = m.B * m.Hp;
  return Object.fromEntries(SLICE_NAMES.map((name, s) => [
    name,
    slot(m.b.hs, (first + (s < n ? s : 0)) * floats)
  ]));
}
function encodeForward(rec, m, L, tok) {
  const B = m.B, T = m.T, Hp = m.Hp, Vp = m.Vp;
  const HV = Hp / 4, VV = Vp / 4, EV = m.Ep / 4;
  const w = L - T;
  const rows = L * B;
  const b = m.b, k = m.k, gpu = m.gpu;
  if (m.spec.input === "embedding") {
    rec.dispatch(gather, {
      step: gpu.step({
        n: rows,
        N: EV
      }),
      x: tok.x,
      table: region(m, b.params, "W_embed"),
      out: b.Ex
    }, [
      EV / 8,
      Math.ceil(rows / 8)
    ]);
    rec.dispatch(k.P, {
      step: gpu.step({
        M: rows,
        K: EV,
        N: HV
      }),
      A: b.Ex,
      W: region(m, b.params, "W_xh"),
      C: b.P
    }, productGroups(k.tile.P, rows, Hp), "P");
  }
  const state = B * Hp / 4;
  rec.dispatch(copy, {
    step: gpu.step({
      n: state
    }),
    src: b.hs,
    out: b.hcur[0]
  }, [
    Math.ceil(state / WIDE),
    1
  ]);
  const groups = productGroups(k.tile.step, B, Hp);
  for (let t = 0; t < L; t++) {
    const A = b.hcur[t % 2];
    const step = {
      step: gpu.step({
        t,
        M: B,
        K: HV,
        N: HV
      }),
      hyper: b.hyper,
      A: m.uniformA ? slot(A, 0) : A,
      W: region(m, b.params, "W_hh"),
      b_h: region(m, b.params, "b_h"),
      hs: b.hs,
      next: b.hcur[(t + 1) % 2]
    };
    if (m.spec.input === "embedding") {
      rec.dispatch(k.forwardEmbedded, {
        ...step,
        P: b.P
      }, groups);
    } else {
      rec.dispatch(k.forwardOneHot, {
        ...step,
        x: tok.x,
        W_xh: region(m, b.params, "W_xh")
      }, groups);
    }
  }
  const W_hq = region(m, b.params, "W_hq");
  const b_q = region(m, b.params, "b_q");
  if (k.sliced) {
    const [x, y] = productGroups(k.tile.logits, B, Vp);
    for (let t = w; t < L; t += SLICES) {
      const s = Math.min(SLICES, L - t);
      rec.dispatch(k.logitsSliced, {
        step: gpu.step({
          o: (t - w) * B,
          M: B,
          K: HV,
          N: VV,
          s
        }),
        ...slices2(m, t + 1, s),
        W: W_hq,
        C: b.logits,
        bias: b_q
      }, [
        x,
        s * y
      ], "logits");
    }
  } else {
    rec.dispatch(k.logits, {
      step: gpu.step({
        a: (w + 1) * B * HV,
        M: T * B,
        K: HV,
        N: VV
      }),
      A: b.hs,
      W: W_hq,
      C: b.logits,
      bias: b_q
    }, productGroups(k.tile.logits, T * B, Vp), "logits");
  }
  rec.dispatch(k.softmax, {
    y: tok.y,
    logits: b.logits,
    losses: b.losses
  }, [
    Math.ceil(T * B / WIDE),
    1
  ]);
}
function encodeGradients(rec, m, L, tok) {
  encodeForward(rec, m, L, tok);
  const B = m.B, T = m.T, Hp = m.Hp, Vp = m.Vp;
  const HV = Hp / 4, VV = Vp / 4, EV = m.Ep / 4;
  const w = L - T;
  const V = m.spec.vocab_size;
  const rows = L * B;
  const b = m.b, k = m.k, gpu = m.gpu;
  rec.clear(b.dcur[(L - 1) % 2], 0, m.C * B * Hp * 4);
  if (m.chunked) rec.clear(b.grads, 0, m.C * m.layout.floats * 4);
  for (const [name, out, NV] of [
    [
      "W_hh",
      b.W_hh_T,
      HV
    ],
    [
      "W_hq",
      b.W_hq_T,
      VV
    ]
  ]) {
    rec.dispatch(transpose, {
      step: gpu.step({
        M: HV,
        N: NV
      }),
      m: region(m, b.params, name),
      out
    }, [
      Math.ceil(HV * NV / WIDE),
      1
    ], `transpose ${name}`);
  }
  const groups = productGroups(k.tile.step, B, Hp);
  for (let t = L - 1; t >= 0; t--) {
    const D = t < w ? m.uniformD ? slot(b.zeros, 0) : b.zeros : m.uniformD ? slot(b.logits, (t - w) * B * Vp) : b.logits;
    const o = m.uniformD || t < w ? 0 : (t - w) * B * VV;
    const A = b.dcur[t % 2];
    rec.dispatch(k.backward, {
      step: gpu.step({
        t,
        o,
        M: B,
        K: HV,
        N: HV,
        K2: VV
      }),
      hyper: b.hyper,
      A: m.uniformA ? slot(A, 0) : A,
      W: b.W_hh_T,
      W_q: b.W_hq_T,
      D,
      hs: b.hs,
      da: b.da,
      next: b.dcur[(t + 1) % 2]
    }, groups);
  }
  const weights = [
    {
      name: "W_hh",
      first: 0,
      slot: 0,
      D: b.da,
      N: Hp,
      ...k.dW.hh
    },
    {
      name: "W_hq",
      first: w,
      slot: 1,
      D: b.logits,
      N: Vp,
      ...k.dW.hq
    }
  ];
  for (const g of weights) {
    const G = region(m, b.grads, g.name);
    const groups2 = gradientGroups(g.tile, Hp, g.N);
    const NV = g.N / 4, label = `d${g.name}`;
    if (!m.chunked) {
      rec.dispatch(g.kernel, {
        step: gpu.step({
          a: (g.first + g.slot) * B * HV,
          n: (L - g.first) * B,
          K: HV,
          N: NV
        }),
        A: b.hs,
        D: g.D,
        G
      }, groups2, label);
      continue;
    }
    for (let t = g.first; t < L; t += SLICES) {
      const s = Math.min(SLICES, L - t), o = (t - g.first) * B;
      if (k.sliced) {
        rec.dispatch(g.sliced, {
          step: gpu.step({
            o,
            M: B,
            K: HV,
            N: NV,
            s
          }),
          ...slices2(m, t + g.slot, s),
          D: g.D,
          G
        }, groups2, label);
      } else {
        rec.dispatch(g.kernel, {
          step: gpu.step({
            a: (t + g.slot) * B * HV,
            o,
            n: s * B,
            K: HV,
            N: NV
          }),
          A: b.hs,
          D: g.D,
          G
        }, groups2, label);
      }
    }
  }
  rec.dispatch(colsum, {
    step: gpu.step({
      n: rows,
      N: HV
    }),
    D: b.da,
    G: region(m, b.grads, "b_h")
  }, [
    HV / 8,
    1
  ], "db_h");
  rec.dispatch(colsum, {
    step: gpu.step({
      n: T * B,
      N: VV
    }),
    D: b.logits,
    G: region(m, b.grads, "b_q")
  }, [
    VV / 8,
    1
  ], "db_q");
  if (m.spec.input === "embedding") {
    rec.dispatch(k.dW_xh, {
      step: gpu.step({
        n: rows,
        K: EV,
        N: HV
      }),
      A: b.Ex,
      D: b.da,
      G: region(m, b.grads, "W_xh")
    }, gradientGroups(k.tile.dW_xh, m.Ep, Hp), "dW_xh");
    rec.dispatch(k.dEx, {
      step: gpu.step({
        M: rows,
        K: HV,
        N: EV
      }),
      A: b.da,
      W: region(m, b.params, "W_xh"),
      C: b.dEx
    }, productGroups(k.tile.dEx, rows, m.Ep), "dEx");
    rec.dispatch(scatter, {
      step: gpu.step({
        N: EV
      }),
      order: tok.order,
      start: tok.start,
      D: b.dEx,
      G: region(m, b.grads, "W_embed")
    }, [
      EV / 8,
      V
    ]);
  } else {
    rec.dispatch(scatter, {
      step: gpu.step({
        N: HV
      }),
      order: tok.order,
      start: tok.start,
      D: b.da,
      G: region(m, b.grads, "W_xh")
    }, [
      HV / 8,
      V
    ]);
  }
}
var STATE = {
  keep: 0,
  fresh: 1,
  carry: 2
};
function encodeMinibatch(rec, m, i, L, tok, modes, stats) {
  encodeState(rec, m, i, modes);
  encodeGradients(rec, m, L, tok);
  const b = m.b, gpu = m.gpu;
  const n = m.layout.floats / 4;
  rec.dispatch(m.k.stats, {
    step: gpu.step({
      t: i
    }),
    losses: b.losses,
    grads: b.grads,
    stats
  }, [
    1,
    1
  ]);
  rec.dispatch(sgdUpdate, {
    step: gpu.step({
      t: i,
      n
    }),
    hyper: b.hyper,
    modes,
    stats,
    grads: b.grads,
    params: b.params
  }, [
    Math.ceil(n / WIDE),
    1
  ]);
}
function encodeState(rec, m, i, modes) {
  const n = m.B * m.Hp / 4;
  rec.dispatch(initialState, {
    step: m.gpu.step({
      t: i,
      n,
      K: m.T
    }),
    modes,
    hs: m.b.hs
  }, [
    Math.ceil(n / WIDE),
    1
  ]);
}

// lib/engine/gpu.ts
var BUFFER_TYPE = {
  uniform: "uniform",
  read: "read-only-storage",
  read_write: "storage"
};
var known = /* @__PURE__ */ new WeakMap();
var Gpu = class _Gpu {
  device;
  /** The device's first validation or out-of-memory error, if any. */
  error;
  #pipelines = /* @__PURE__ */ new Map();
  #groups = /* @__PURE__ */ new Map();
  #steps = /* @__PURE__ */ new Map();
  #strides = /* @__PURE__ */ new WeakMap();
  #ids = /* @__PURE__ */ new WeakMap();
  #nextId = 1;
  constructor(device) {
    this.device = device;
    device.addEventListener("uncapturederror", (e) => {
      this.error ??= e.error.message;
    });
  }
  /** The helper of `device` (one per device). */
  static of(device) {
    let gpu = known.get(device);
    if (!gpu) known.set(device, gpu = new _Gpu(device));
    return gpu;
  }
  /** Kernels compiled so far on this device. */
  get compiled() {
    return this.#pipelines.size;
  }
  /**
   * The pipeline of `k`, made on first use and shared by every model on
   * the device: its layout comes from the kernel's declared bindings.
   */
  pipeline(k) {
    let p = this.#pipelines.get(k.code);
    if (p) return p;
    const layout = this.device.createBindGroupLayout({
      label: k.label,
      entries: [
        ...k.bindings.map(([, b]) => b.access),
        "uniform"
      ].map((access, binding) => ({
        binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: {
          type: BUFFER_TYPE[access]
        }
      }))
    });
    p = this.device.createComputePipeline({
      label: k.label,
      layout: this.device.createPipelineLayout({
        bindGroupLayouts: [
          layout
        ]
      }),
      compute: {
        module: this.device.createShaderModule({
          label: k.label,
          code: k.code
        }),
        entryPoint: "main"
      }
    });
    this.#pipelines.set(k.code, p);
    return p;
  }
  /** The bind group of `k` over `resources` (by binding name), made on first use. */
  bind(k, resources) {
    const pipeline = this.pipeline(k);
    const cells = new Uint32Array(Math.max(4, Math.ceil(cellBindings(k).length / 4) * 4));
    cellBindings(k).forEach(([name, b], i) => {
      const r = resources[name];
      const buffer = r instanceof GPUBuffer ? r : r.buffer;
      cells[i] = (this.#strides.get(buffer) ?? 0) / elementBytes(b.type);
    });
    const parts = k.bindings.map(([name]) => {
      const r = resources[name];
      return r instanceof GPUBuffer ? `${this.#id(r)}` : `${this.#id(r.buffer)}:${r.offset}:${r.size}`;
    });
    const key = `${this.#id(pipeline)}|${parts.join("|")}|${cells.join(",")}`;
    let group = this.#groups.get(key);
    if (group) return group;
    group = this.device.createBindGroup({
      label: k.label,
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        ...k.bindings.map(([name], binding) => {
          const r = resources[name];
          return {
            binding,
            resource: r instanceof GPUBuffer ? {
              buffer: r
            } : r
          };
        }),
        {
          binding: k.bindings.length,
          resource: {
            buffer: this.#uniform("cells", cells)
          }
        }
      ]
    });
    this.#groups.set(key, group);
    return group;
  }
  /** A uniform buffer holding `values` as a `Step`, made once per distinct value. */
  step(values) {
    return this.#uniform("step", stepWords(values));
  }
  /**
   * Says that `buffer` holds its cells one after another, `bytes` apart
   * (a buffer not named here is shared: stride 0).
   */
  perCell(buffer, bytes) {
    this.#strides.set(buffer, bytes);
  }
  /** A uniform buffer holding `words`, made once per distinct value. */
  #uniform(kind, words) {
    const key = `${kind}:${words.join(",")}`;
    let b = this.#steps.get(key);
    if (!b) {
      b = this.device.createBuffer({
        size: words.byteLength,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST
      });
      this.device.queue.writeBuffer(b, 0, words);
      this.#steps.set(key, b);
    }
    return b;
  }
  /** Drops the bind groups that use `buffer` (before it is destroyed). */
  forget(buffer) {
    const id = this.#ids.get(buffer);
    if (id === void 0) return;
    for (const key of [
      ...this.#groups.keys()
    ]) {
      if (key.split("|").slice(1).some((p) => p.split(":")[0] === `${id}`)) {
        this.#groups.delete(key);
      }
    }
  }
  #id(o) {
    let id = this.#ids.get(o);
    if (id === void 0) this.#ids.set(o, id = this.#nextId++);
    return id;
  }
};

// lib/engine/layout.ts
var ParamLayout = class {
  regions = {};
  /** Floats in the buffer (a multiple of 64). */
  floats;
  constructor(spec) {
    const { vocab_size: V, num_hiddens: H, embed_size: E } = spec;
    const embedding = spec.input === "embedding";
    let offset = 0;
    const region2 = (name, rows, cols, prows) => {
      const stride = pad(cols);
      this.regions[name] = {
        offset,
        rows,
        cols,
        stride,
        prows
      };
      offset += Math.ceil(prows * stride / 64) * 64;
    };
    if (embedding) region2("W_embed", V, E, V);
    region2("W_xh", embedding ? E : V, H, embedding ? pad(E) : V);
    region2("W_hh", H, H, pad(H));
    region2("b_h", 1, H, 1);
    region2("W_hq", H, V, pad(H));
    region2("b_q", 1, V, 1);
    this.floats = offset;
  }
  /** Byte range of parameter `name` in a packed buffer. */
  bytes(name) {
    const r = this.regions[name];
    return {
      offset: r.offset * 4,
      size: r.prows * r.stride * 4
    };
  }
  /** Parameters in the packed, padded layout. */
  pack(params) {
    const out = new Float32Array(this.floats);
    for (const [name, r] of Object.entries(this.regions)) {
      const src = params[name].values;
      for (let i = 0; i < r.rows; i++) {
        out.set(src.subarray(i * r.cols, (i + 1) * r.cols), r.offset + i * r.stride);
      }
    }
    return out;
  }
  /** The packed layout back to d2l shapes. */
  unpack(packed) {
    const out = {};
    for (const [name, r] of Object.entries(this.regions)) {
      const values = new Float32Array(r.rows * r.cols);
      for (let i = 0; i < r.rows; i++) {
        const at = r.offset + i * r.stride;
        values.set(packed.subarray(at, at + r.cols), i * r.cols);
      }
      const vector = name.startsWith("b_");
      out[name] = {
        shape: vector ? [
          r.cols
        ] : [
          r.rows,
          r.cols
        ],
        values
      };
    }
    return out;
  }
};

// lib/engine/recorder.ts
var Recorder = class {
  #gpu;
  #encoder;
  #pass = null;
  #query;
  #names = [];
  #cells;
  /** Dispatches recorded. */
  dispatches = 0;
  /**
   * A recording for `cells` cells (each dispatch's workgroups repeat over
   * z for them). With `profile`, each dispatch is timed (needs the
   * "timestamp-query" feature).
   */
  constructor(gpu, profile = false, cells = 1) {
    this.#gpu = gpu;
    this.#cells = cells;
    this.#encoder = gpu.device.createCommandEncoder();
    this.#query = profile ? gpu.device.createQuerySet({
      type: "timestamp",
      count: 4096
    }) : null;
  }
  /**
   * Records kernel `k` over `resources` as `groups` workgroups; `name` is
   * what a profile sums it under.
   */
  dispatch(k, resources, groups, name = k.label.split(":")[0]) {
    const pass = this.#passFor(name);
    pass.setPipeline(this.#gpu.pipeline(k));
    pass.setBindGroup(0, this.#gpu.bind(k, resources));
    pass.dispatchWorkgroups(groups[0], groups[1], this.#cells);
    this.dispatches++;
    if (this.#query) this.#end();
  }
  copy(src, srcOffset, dst, dstOffset, bytes) {
    this.#end();
    this.#encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }
  clear(buffer, offset, bytes) {
    this.#end();
    this.#encoder.clearBuffer(buffer, offset, bytes);
  }
  /** Submits what was recorded. */
  submit() {
    this.#end();
    this.#gpu.device.queue.submit([
      this.#encoder.finish()
    ]);
  }
  /** Submits, then sums the timestamps per kernel label. */
  async resolve() {
    const device = this.#gpu.device;
    const n = this.#names.length * 2;
    const resolved = device.createBuffer({
      size: n * 8,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC
    });
    const staging = device.createBuffer({
      size: n * 8,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST
    });
    this.#end();
    this.#encoder.resolveQuerySet(this.#query, 0, n, resolved, 0);
    this.#encoder.copyBufferToBuffer(resolved, 0, staging, 0, n * 8);
    device.queue.submit([
      this.#encoder.finish()
    ]);
    await staging.mapAsync(GPUMapMode.READ);
    const ns = new BigUint64Array(staging.getMappedRange().slice(0));
    staging.unmap();
    const out = {};
    this.#names.forEach((name, i) => {
      const o = out[name] ??= {
        ms: 0,
        dispatches: 0
      };
      o.ms += Number(ns[2 * i + 1] - ns[2 * i]) / 1e6;
      o.dispatches++;
    });
    for (const b of [
      resolved,
      staging
    ]) b.destroy();
    this.#query.destroy();
    return out;
  }
  #passFor(label) {
    if (this.#query) {
      const i = this.#names.push(label) - 1;
      return this.#pass = this.#encoder.beginComputePass({
        timestampWrites: {
          querySet: this.#query,
          beginningOfPassWriteIndex: 2 * i,
          endOfPassWriteIndex: 2 * i + 1
        }
      });
    }
    return this.#pass ??= this.#encoder.beginComputePass();
  }
  #end() {
    this.#pass?.end();
    this.#pass = null;
  }
};

// lib/engine/tiles.ts
var widestCv = (N, max) => {
  let cv = max;
  while (N / 4 % (LANES * cv) !== 0) cv /= 2;
  return cv;
};
var widestLanes = (N) => {
  let lanes = 64;
  while (N / 4 % lanes !== 0) lanes /= 2;
  return lanes;
};
var gpuOuter = (_K, N) => ({
  rb: 4,
  cv: 1,
  lanes: widestLanes(N)
});
var TILES = {
  cpu: {
    step: (B, N) => ({
      rb: Math.min(B, 16),
      cv: widestCv(N, 4),
      lanes: LANES
    }),
    wide: (N) => ({
      rb: 8,
      cv: widestCv(N, 2),
      lanes: LANES
    }),
    outer: (_K, N) => ({
      rb: 16,
      cv: widestCv(N, 4),
      lanes: LANES
    }),
    // As fast from storage, and a sliced kernel is eight copies of a tile.
    sliced: null
  },
  gpu: {
    step: (_B, N) => ({
      rb: 2,
      cv: 1,
      lanes: widestLanes(N)
    }),
    wide: (N) => ({
      rb: 4,
      cv: 1,
      lanes: widestLanes(N)
    }),
    outer: gpuOuter,
    sliced: {
      logits: (_B, N) => ({
        rb: 2,
        cv: 1,
        lanes: widestLanes(N)
      }),
      outer: gpuOuter
    }
  }
};
function isSoftware(adapter) {
  const { isFallbackAdapter, description } = adapter.info;
  return Boolean(isFallbackAdapter) || /llvmpipe|lavapipe|swiftshader/i.test(description);
}

// lib/engine/fused.ts
var UNIFORM = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
var STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
var FusedCells = class {
  /** The device the buffers live on. */
  device;
  /** What the model(s) are built for, defaults filled in. */
  spec;
  /** Cells in the group. */
  cells;
  #m;
  #relu;
  #buffers = [];
  /** Grown on demand: their sizes depend on the epoch. */
  #stats = null;
  #modes = null;
  #tokens = null;
  /** A group of `cells` models of `spec`'s shape on `device`, each from its initial parameters. */
  constructor(device, spec, cells) {
    const C = cells.length;
    if (C < 1 || C > MAX_CELLS) {
      throw new Error(`a group holds 1 to ${MAX_CELLS} cells (got ${C})`);
    }
    this.device = device;
    this.cells = C;
    this.spec = {
      ...spec,
      max_steps: spec.max_steps ?? spec.num_steps,
      tiles: spec.tiles ?? "cpu"
    };
    if (C > 1 && this.spec.max_steps !== spec.num_steps) {
      throw new Error("detach: false trains one cell at a time");
    }
    const { batch_size: B, num_steps: T } = spec;
    const embedding = spec.input === "embedding";
    const Hp = pad(spec.num_hiddens);
    const Vp = pad(spec.vocab_size);
    const Ep = embedding ? pad(spec.embed_size) : 0;
    const L = this.spec.max_steps;
    const layout = new ParamLayout(spec);
    const n = layout.floats;
    const fits = (floats) => floats * 4 <= Math.min(UNIFORM_BYTES, device.limits.maxUniformBufferBindingSize) && floats * 4 % device.limits.minUniformBufferOffsetAlignment === 0;
    const chunked = fits(B * Hp);
    const uniformA = C === 1 && chunked;
    const uniformD = uniformA && fits(B * Vp);
    const gpu = Gpu.of(device);
    const buffer = (floats, usage = STORAGE, slack2 = 0) => {
      const bytes = Math.ceil(floats / 4) * 16;
      const b2 = device.createBuffer({
        size: Math.max(16, C * bytes + slack2),
        usage
      });
      gpu.perCell(b2, bytes);
      this.#buffers.push(b2);
      return b2;
    };
    const slot2 = STORAGE | GPUBufferUsage.UNIFORM;
    const slack = uniformA ? UNIFORM_BYTES : 0;
    const b = {
      params: buffer(n),
      grads: buffer(n),
      hs: buffer((L + 1) * B * Hp, slot2, slack),
      W_hh_T: buffer(Hp * Hp),
      W_hq_T: buffer(Vp * Hp),
      da: buffer(L * B * Hp),
      logits: buffer(T * B * Vp, slot2, slack),
      zeros: device.createBuffer({
        size: B * Vp * 4 + slack,
        usage: slot2
      }),
      losses: buffer(T * B),
      P: buffer(embedding ? L * B * Hp : 0),
      Ex: buffer(embedding ? L * B * Ep : 0),
      dEx: buffer(embedding ? L * B * Ep : 0),
      hcur: [
        buffer(B * Hp, slot2, slack),
        buffer(B * Hp, slot2, slack)
      ],
      dcur: [
        buffer(B * Hp, slot2, slack),
        buffer(B * Hp, slot2, slack)
      ],
      hyper: device.createBuffer({
        size: MAX_CELLS * 16,
        usage: UNIFORM
      })
    };
    this.#buffers.push(b.zeros, b.hyper);
    this.#m = {
      gpu,
      spec: this.spec,
      layout,
      C,
      B,
      T,
      Hp,
      Vp,
      Ep,
      chunked,
      uniformA,
      uniformD,
      k: kernelsFor(this.spec, TILES[this.spec.tiles], {
        Hp,
        Vp,
        Ep,
        n
      }, {
        chunked,
        uniformA,
        uniformD
      }),
      b
    };
    const packed = new Float32Array(C * n);
    cells.forEach((c, i) => packed.set(layout.pack(c.params), i * n));
    device.queue.writeBuffer(b.params, 0, packed);
    this.#relu = cells.map((c) => c.activation === "relu");
    this.#writeHyper(cells.map(() => null));
  }
  /** Each cell's lr, θ (3.4e38 with clipping off) and activation into `hyper`. */
  #writeHyper(options) {
    const data = new ArrayBuffer(this.cells * 16);
    const f = new Float32Array(data), u = new Uint32Array(data);
    options.forEach((o, c) => {
      f[4 * c] = o?.lr ?? 0;
      f[4 * c + 1] = !o || o.clip === "off" ? 34e37 : o.clip;
      u[4 * c + 2] = this.#relu[c] ? 1 : 0;
    });
    this.device.queue.writeBuffer(this.#m.b.hyper, 0, data);
  }
  /**
   * One epoch of SGD for every cell at once, each as d2l's
   * `train_epoch_ch8` (see {@linkcode FusedRnn.trainEpoch}) with its own
   * minibatches and options; a null cell trains no more (its parameters
   * stay). Cells may have different numbers of minibatches: one with fewer
   * stops updating after its last. Losses and norms are read back once,
   * at the end; every cell's `seconds` is the epoch's.
   */
  async trainEpochs(epochs) {
    const { batch_size: B, num_steps: T } = this.spec;
    const start = performance.now();
    const N = Math.max(0, ...epochs.map((e) => e?.batches.length ?? 0));
    const replay = epochs.map((e) => e ? replays(this.spec, e.options, e.batches.length) : false);
    if (this.cells > 1 && replay.some(Boolean)) {
      throw new Error("detach: false trains one cell at a time");
    }
    if (N === 0) return epochs.map(() => null);
    this.#writeHyper(epochs.map((e) => e?.options ?? null));
    const modes = this.#writeModes(N, (c, i) => {
      const e = epochs[c];
      if (!e || i >= e.batches.length) return [
        STATE.keep,
        0
      ];
      const fresh = i === 0 || e.options.sampling === "random";
      return [
        fresh ? STATE.fresh : replay[c] ? STATE.keep : STATE.carry,
        1
      ];
    });
    this.#growStats(N);
    const tokens = this.#upload(N, (c, i) => {
      const list = epochs[c]?.batches;
      if (!list || i >= list.length) return null;
      return {
        xs: replay[c] ? list.slice(0, i + 1).map((b) => b.X) : [
          list[i].X
        ],
        Y: list[i].Y
      };
    });
    const rec = new Recorder(this.#m.gpu, false, this.cells);
    for (let i = 0; i < N; i++) {
      const L = replay[0] ? (i + 1) * T : T;
      encodeMinibatch(rec, this.#m, i, L, tokens[i], modes, this.#stats);
    }
    rec.submit();
    const stats = await this.#read(this.#stats, 0, this.cells * N * 2);
    const seconds = (performance.now() - start) / 1e3;
    return epochs.map((e, c) => {
      if (!e) return null;
      const at = (i) => stats[c * N * 2 + 2 * i];
      const n = e.batches.length;
      return {
        losses: e.batches.map((_, i) => at(i)),
        grad_norms: e.batches.map((_, i) => Math.sqrt(stats[c * N * 2 + 2 * i + 1])),
        tokens: n * B * T,
        seconds
      };
    });
  }
  /**
   * Mean cross-entropy of each cell's `batches` (each minibatch's mean
   * over its tokens, averaged) under its current weights, forward only;
   * each minibatch starts from the last one's state (`carry`) or from
   * zeros. A null cell, or one without minibatches, gives NaN. One command
   * buffer, one read-back.
   */
  async evaluateCells(cells) {
    const N = Math.max(0, ...cells.map((e) => e?.batches.length ?? 0));
    if (N === 0) return cells.map(() => NaN);
    const modes = this.#writeModes(N, (c, i) => {
      const e = cells[c];
      if (!e || i >= e.batches.length) return [
        STATE.keep,
        0
      ];
      return [
        i === 0 || !e.carry ? STATE.fresh : STATE.carry,
        0
      ];
    });
    this.#growStats(N);
    const tokens = this.#upload(N, (c, i) => {
      const list = cells[c]?.batches;
      return list && i < list.length ? {
        xs: [
          list[i].X
        ],
        Y: list[i].Y
      } : null;
    });
    const rec = new Recorder(this.#m.gpu, false, this.cells);
    for (let i = 0; i < N; i++) {
      encodeState(rec, this.#m, i, modes);
      encodeForward(rec, this.#m, this.spec.num_steps, tokens[i]);
      rec.dispatch(this.#m.k.stats, {
        step: this.#m.gpu.step({
          t: i
        }),
        losses: this.#m.b.losses,
        grads: this.#m.b.grads,
        stats: this.#stats
      }, [
        1,
        1
      ]);
    }
    rec.submit();
    const stats = await this.#read(this.#stats, 0, this.cells * N * 2);
    return cells.map((e, c) => {
      const n = e?.batches.length ?? 0;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += stats[c * N * 2 + 2 * i];
      return n ? sum / n : NaN;
    });
  }
  /**
   * Loss and gradients of one minibatch of a group of one, without an
   * update (see {@linkcode FusedRnn.gradients}).
   */
  async gradients(X, Y, H0) {
    if (this.cells !== 1) throw new Error("gradients: a group of one only");
    const B = this.spec.batch_size, T = this.spec.num_steps, Hp = this.#m.Hp, H = this.spec.num_hiddens;
    const [tok] = this.#upload(1, () => ({
      xs: [
        X
      ],
      Y
    }));
    const state = new Float32Array(B * Hp);
    if (H0) {
      for (let b = 0; b < B; b++) {
        state.set(H0.subarray(b * H, (b + 1) * H), b * Hp);
      }
    }
    this.device.queue.writeBuffer(this.#m.b.hs, 0, state);
    const rec = new Recorder(this.#m.gpu);
    encodeGradients(rec, this.#m, T, tok);
    rec.submit();
    const losses = await this.#read(this.#m.b.losses, 0, T * B);
    const last = await this.#read(this.#m.b.hs, T * B * Hp, B * Hp);
    const Hn = new Float32Array(B * H);
    for (let b = 0; b < B; b++) {
      Hn.set(last.subarray(b * Hp, b * Hp + H), b * H);
    }
    return {
      loss: losses.reduce((a, l) => a + l, 0) / losses.length,
      grads: this.#m.layout.unpack(await this.#read(this.#m.b.grads, 0, this.#m.layout.floats)),
      H: Hn
    };
  }
  /**
   * Time per kernel of one minibatch of sequential training for every
   * cell (no update is kept: the parameters are restored), from GPU
   * timestamps: milliseconds summed over each kernel's dispatches, and
   * their count. Needs the device's "timestamp-query" feature.
   */
  async profile(batch) {
    const saved = await this.#read(this.#m.b.params);
    const rec = new Recorder(this.#m.gpu, true, this.cells);
    this.#recordOne(rec, {
      xs: [
        batch.X
      ],
      Y: batch.Y
    }, [
      STATE.fresh,
      1
    ]);
    const times = await rec.resolve();
    this.device.queue.writeBuffer(this.#m.b.params, 0, saved);
    return times;
  }
  /** Dispatches one minibatch of training records (they do not grow with the cells). */
  dispatchesPerMinibatch() {
    const rec = new Recorder(this.#m.gpu, false, this.cells);
    this.#recordOne(rec, null, [
      STATE.keep,
      0
    ]);
    return rec.dispatches;
  }
  /** Records one minibatch of `seq` (zeros when null) for every cell, each with `mode`. */
  #recordOne(rec, seq, mode) {
    const [tok] = this.#upload(1, () => seq);
    const modes = this.#writeModes(1, () => mode);
    this.#growStats(1);
    const T = this.spec.num_steps;
    encodeMinibatch(rec, this.#m, 0, T, tok, modes, this.#stats);
  }
  /** Cell `c`'s current parameter values, read back (prediction runs on them). */
  async values(c = 0) {
    const n = this.#m.layout.floats;
    return this.#m.layout.unpack(await this.#read(this.#m.b.params, c * n, n));
  }
  /** Room for `minibatches` slots of (loss, ‖g‖²) per cell in `stats`: cell c's from c · 2 · minibatches on. */
  #growStats(minibatches) {
    this.#stats = this.#grow(this.#stats, this.cells * minibatches * 8);
    this.#m.gpu.perCell(this.#stats, minibatches * 8);
  }
  /** Each cell's [state, update] for each of `minibatches` minibatches, into `modes` (cell c's from c · 2 · minibatches on). */
  #writeModes(minibatches, mode) {
    const words = new Uint32Array(this.cells * minibatches * 2);
    for (let c = 0; c < this.cells; c++) {
      for (let i = 0; i < minibatches; i++) {
        words.set(mode(c, i), (c * minibatches + i) * 2);
      }
    }
    const modes = this.#modes = this.#grow(this.#modes, words.byteLength);
    this.#m.gpu.perCell(modes, minibatches * 8);
    this.device.queue.writeBuffer(modes, 0, words);
    return modes;
  }
  /** `old` when it holds `bytes`, else a new storage buffer that does. */
  #grow(old, bytes) {
    if (old && old.size >= bytes) return old;
    if (old) {
      this.#m.gpu.forget(old);
      old.destroy();
    }
    return this.device.createBuffer({
      size: Math.max(16, Math.ceil(bytes / 16) * 16),
      usage: STORAGE
    });
  }
  /**
   * Uploads the tokens of `minibatches` minibatches for every cell at
   * once, into one buffer: per minibatch, per cell, the sequence of
   * minibatches its backward pass reaches (`xs`, all L steps) in
   * time-major order, the last one's targets `Y`, and the rows grouped by
   * token for the scatter kernel (`order`, `start`); a cell without one
   * (null) gets zeros. Each cell's block is as long as the others', so a
   * minibatch's arrays for all cells are one binding each. Returns where
   * cell 0's arrays of each minibatch lie.
   */
  #upload(minibatches, seqOf) {
    const B = this.spec.batch_size, T = this.spec.num_steps;
    const V = this.spec.vocab_size, C = this.cells;
    const align = (n) => Math.ceil(n / 64) * 64;
    const seqs = Array.from({
      length: minibatches
    }, (_, i) => Array.from({
      length: C
    }, (_2, c) => seqOf(c, i)));
    const steps = seqs.map((row) => (row[0]?.xs.length ?? 1) * T);
    const parts = steps.map((L) => [
      L * B,
      T * B,
      L * B,
      V + 1
    ].map(align));
    const block = parts.map((p) => p.reduce((a, b) => a + b, 0));
    const total = block.reduce((a, b) => a + C * b, 0);
    const buffer = this.#tokens = this.#grow(this.#tokens, total * 4);
    this.#m.gpu.perCell(buffer, C > 1 ? block[0] * 4 : 0);
    const data = new Uint32Array(total);
    const range = (at2, n) => ({
      buffer,
      offset: at2 * 4,
      size: ((C - 1) * block[0] + n) * 4
    });
    let at = 0;
    const out = seqs.map((row, i) => {
      const [xN, yN, orderN] = parts[i];
      const first = at;
      row.forEach((seq, c) => {
        const xAt = first + c * block[i], yAt = xAt + xN;
        const orderAt = yAt + yN, startAt = orderAt + orderN;
        if (!seq) return;
        const L2 = seq.xs.length * T;
        const x = data.subarray(xAt, xAt + L2 * B);
        seq.xs.forEach((X, s) => {
          for (let b = 0; b < B; b++) {
            for (let t = 0; t < T; t++) x[(s * T + t) * B + b] = X[b * T + t];
          }
        });
        for (let b = 0; b < B; b++) {
          for (let t = 0; t < T; t++) data[yAt + t * B + b] = seq.Y[b * T + t];
        }
        const start = data.subarray(startAt, startAt + V + 1);
        for (const v of x) start[v + 1]++;
        for (let v = 0; v < V; v++) start[v + 1] += start[v];
        const next = start.slice(0, V);
        x.forEach((v, r) => data[orderAt + next[v]++] = r);
      });
      at += C * block[i];
      const L = steps[i];
      return {
        x: range(first, L * B),
        y: range(first + xN, T * B),
        order: range(first + xN + yN, L * B),
        start: range(first + xN + yN + orderN, V + 1)
      };
    });
    this.device.queue.writeBuffer(buffer, 0, data);
    return out;
  }
  /** Reads `floats` floats of a buffer from float `offset`; throws the device's first error, if any. */
  async #read(source, offset = 0, floats = source.size / 4 - offset) {
    const staging = this.device.createBuffer({
      size: floats * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST
    });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(source, offset * 4, staging, 0, floats * 4);
    this.device.queue.submit([
      encoder.finish()
    ]);
    await staging.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    if (this.#m.gpu.error) throw new Error(`WebGPU: ${this.#m.gpu.error}`);
    return out;
  }
  /** Frees the buffers (the device and its pipelines stay). */
  destroy() {
    for (const b of [
      ...this.#buffers,
      this.#stats,
      this.#modes,
      this.#tokens
    ]) {
      if (!b) continue;
      this.#m.gpu.forget(b);
      b.destroy();
    }
  }
};

// lib/serve/app/trainer.ts
async function adapterHere() {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return null;
  const name = adapter.info.description || adapter.info.vendor || adapter.info.architecture || "WebGPU";
  return isSoftware(adapter) ? `${name} (software)` : name;
}
async function trainHere(config, train, vocab_size, epochs, onEpoch, signal) {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) throw new Error("this browser has no WebGPU adapter");
  const device = await adapter.requestDevice();
  const seeded = (salt) => makeRng((config.seed ^ salt) >>> 0);
  const data = seeded(1540483477);
  const spec = {
    vocab_size,
    num_hiddens: config.num_hiddens,
    activation: config.activation,
    input: config.input,
    embed_size: config.embed_size
  };
  const { batch_size: B, num_steps: T } = config;
  const perEpoch = Math.max(1, Math.floor((train.length - 1) / B / T));
  const group = new FusedCells(device, {
    ...spec,
    batch_size: B,
    num_steps: T,
    max_steps: config.detach ? T : perEpoch * T,
    tiles: isSoftware(adapter) ? "cpu" : "gpu"
  }, [
    {
      params: get_params(spec, seeded(0)),
      activation: config.activation
    }
  ]);
  try {
    for (let epoch = 1; epoch <= epochs && !signal?.aborted; epoch++) {
      const batches = [
        ...dataIter(config.sampling, train, B, T, data)
      ];
      const [stats] = await group.trainEpochs([
        {
          batches,
          options: config
        }
      ]);
      if (!stats || stats.losses.length === 0) break;
      const mean = stats.losses.reduce((a, b) => a + b, 0) / stats.losses.length;
      const train_ppl = Math.exp(mean);
      onEpoch({
        epoch,
        train_ppl,
        tokens_per_sec: stats.tokens / stats.seconds
      });
      if (!Number.isFinite(train_ppl)) break;
    }
  } finally {
    group.destroy();
    device.destroy();
  }
}
export {
  adapterHere,
  trainHere
};

import assert from "node:assert/strict";
import { makeRng } from "../../data/prng.ts";
import {
  dataIter,
  type Minibatch,
  type Sampling,
  seqDataIterSequential,
} from "../../data/iterators.ts";
import { loadCorpus } from "../../data/vocab.ts";
import {
  type Activation,
  get_params,
  type InputMode,
} from "../../model/params.ts";
import { FusedCells, groupCapacity } from "./fused.ts";
import { fusedGroup } from "./split.ts";
import { openDevice } from "./gpu.ts";
import { type Recurrence, ROWS_MAX } from "./tiles.ts";
import { type CellEpoch, type EpochOptions, SplitGroup } from "../group.ts";

const { device } = await openDevice();

const TEXT =
  "the time traveller for so it will be convenient to speak of him was expounding a recondite matter to us "
    .repeat(8);

/** One cell of a group: how it trains. */
interface CellCase {
  activation: Activation;
  lr: number;
  clip: number | "off";
  sampling: Sampling;
  seed: number;
}

/** A cell's run: every epoch's losses and norms, validation, and the final parameters. */
interface Run {
  losses: number[][];
  norms: number[][];
  val: number;
  params: Float32Array[];
}

/** Two runs are the same bit for bit: every loss, norm, validation and parameter (-0 is not 0). */
function assertSameRun(a: Run, b: Run, what: string) {
  assert.deepEqual(a.losses, b.losses, `${what} losses`);
  assert.deepEqual(a.norms, b.norms, `${what} norms`);
  assert.ok(Object.is(a.val, b.val), `${what} validation`);
  a.params.forEach((p, k) =>
    assert.ok(
      p.every((v, j) => Object.is(v, b.params[k][j])),
      `${what} parameter ${k}`,
    )
  );
}

/**
 * Trains `cases` as one group for `epochs` epochs, and each alone, from
 * the same initial values and data order; a cell whose loss is not finite
 * stops (as train_ch8 stops it) and the others go on.
 */
async function groupAndAlone(
  shape: {
    B: number;
    T: number;
    H: number;
    input: InputMode;
    E: number;
    tiles: "cpu" | "gpu";
    tokens: number;
  },
  cases: CellCase[],
  epochs: number,
): Promise<{ group: Run[]; alone: Run[] }> {
  const { vocab, train, val } = loadCorpus(TEXT, shape.tokens, 200);
  const spec = {
    vocab_size: vocab.length,
    num_hiddens: shape.H,
    input: shape.input,
    embed_size: shape.E,
    batch_size: shape.B,
    num_steps: shape.T,
    max_steps: shape.T,
    tiles: shape.tiles,
  };
  const init = (c: CellCase) =>
    get_params({ ...spec, activation: c.activation }, makeRng(c.seed));
  const options = (c: CellCase): EpochOptions => ({
    lr: c.lr,
    clip: c.clip,
    sampling: c.sampling,
    detach: true,
  });
  const valBatches = (): Minibatch[] => [
    ...seqDataIterSequential(val, shape.B, shape.T, makeRng(0), 0),
  ];
  const empty = (): Run => ({ losses: [], norms: [], val: NaN, params: [] });

  const group = new FusedCells(
    device,
    { ...spec, activation: "tanh" },
    cases.map((c) => ({ params: init(c), activation: c.activation })),
  );
  const rngs = cases.map((c) => makeRng(c.seed + 100));
  const runs = cases.map(empty);
  const stopped = cases.map(() => false);
  for (let e = 0; e < epochs; e++) {
    const work: CellEpoch[] = cases.map((c, i) =>
      stopped[i] ? null : {
        batches: [...dataIter(c.sampling, train, shape.B, shape.T, rngs[i])],
        options: options(c),
      }
    );
    const stats = await group.trainEpochs(work);
    stats.forEach((s, i) => {
      if (!s) return;
      runs[i].losses.push(s.losses);
      runs[i].norms.push(s.grad_norms);
      if (s.losses.some((l) => !Number.isFinite(l))) stopped[i] = true;
    });
  }
  const vals = await group.evaluate(
    cases.map((c) => ({
      batches: valBatches(),
      carry: c.sampling === "sequential",
    })),
  );
  for (const [i, run] of runs.entries()) {
    run.val = vals[i];
    run.params = Object.values(await group.values(i)).map((p) => p.values);
  }
  group.destroy();

  const alone: Run[] = [];
  for (const c of cases) {
    const net = new FusedCells(
      device,
      { ...spec, activation: c.activation },
      [{ params: init(c), activation: c.activation }],
    );
    const rng = makeRng(c.seed + 100), run = empty();
    for (let e = 0; e < epochs; e++) {
      const [s] = await net.trainEpochs([{
        batches: [...dataIter(c.sampling, train, shape.B, shape.T, rng)],
        options: options(c),
      }]);
      run.losses.push(s!.losses);
      run.norms.push(s!.grad_norms);
      if (s!.losses.some((l) => !Number.isFinite(l))) break;
    }
    [run.val] = await net.evaluate([{
      batches: valBatches(),
      carry: c.sampling === "sequential",
    }]);
    run.params = Object.values(await net.values(0)).map((p) => p.values);
    alone.push(run);
    net.destroy();
  }
  return { group: runs, alone };
}

const MIXED: CellCase[] = [
  { activation: "tanh", lr: 1, clip: 1, sampling: "sequential", seed: 1 },
  { activation: "relu", lr: 0.5, clip: "off", sampling: "random", seed: 2 },
  { activation: "tanh", lr: 2, clip: 0.05, sampling: "random", seed: 3 },
  // Blows up: its loss turns non-finite within a few epochs.
  { activation: "relu", lr: 200, clip: "off", sampling: "sequential", seed: 4 },
  { activation: "tanh", lr: 1, clip: 1, sampling: "sequential", seed: 5 },
];

for (
  const shape of [
    // Odd sizes; states that fit a uniform slot (eight-step sums).
    {
      B: 3,
      T: 5,
      H: 37,
      input: "one_hot",
      E: 1,
      tiles: "cpu",
      tokens: 450,
    },
    { B: 4, T: 6, H: 40, input: "embedding", E: 9, tiles: "cpu", tokens: 400 },
    // GPU tiles, read from storage where a group of one reads slices.
    { B: 3, T: 9, H: 64, input: "one_hot", E: 1, tiles: "gpu", tokens: 450 },
    // A state over 64 KiB: sums over all steps at once.
    {
      B: 40,
      T: 3,
      H: 420,
      input: "one_hot",
      E: 1,
      tiles: "cpu",
      tokens: 500,
    },
  ] as const
) {
  Deno.test(`a group's cells train exactly as each alone: every loss, norm, validation and parameter bit-identical (B=${shape.B} T=${shape.T} H=${shape.H} ${shape.input}, ${shape.tiles} tiles; tanh with relu, clip with off, sequential with random, one diverging)`, async () => {
    const { group, alone } = await groupAndAlone(shape, MIXED, 4);
    for (const [i, run] of group.entries()) {
      assertSameRun(run, alone[i], JSON.stringify(MIXED[i]));
    }
    // The diverging cell did diverge, and stopped; the others trained on.
    assert.ok(group[3].losses.length < 4, "cell 4 stopped early");
    assert.equal(group[0].losses.length, 4);
  });
}

/** Dispatches per minibatch of a group of `cells` tanh cells of `spec`. */
function dispatches(
  spec: ConstructorParameters<typeof FusedCells>[1],
  cells: number,
): number {
  const g = new FusedCells(
    device,
    spec,
    Array.from({ length: cells }, (_, i) => ({
      params: get_params(spec, makeRng(i)),
      activation: "tanh" as const,
    })),
  );
  const n = g.dispatchesPerMinibatch();
  g.destroy();
  return n;
}

Deno.test("a group's dispatches per minibatch do not grow with its cells", () => {
  const { vocab } = loadCorpus(TEXT, 600);
  const spec = {
    vocab_size: vocab.length,
    num_hiddens: 32,
    input: "one_hot" as const,
    embed_size: 1,
    batch_size: 4,
    num_steps: 7,
    max_steps: 7,
    activation: "tanh" as const,
  };
  const count = (cells: number) => dispatches(spec, cells);
  assert.equal(count(8), count(2));
  assert.equal(count(24), count(2));
});

/** Trains one cell with each kind of recurrence kernel, from the same values and data; every epoch's losses and norms, validation and parameters. */
async function eachKernel(
  shape: {
    B: number;
    T: number;
    H: number;
    input: InputMode;
    tiles: "cpu" | "gpu";
  },
  c: CellCase,
  detach: boolean,
  epochs = 3,
  tokens = 300,
): Promise<Partial<Record<Recurrence, Run>>> {
  const { vocab, train, val } = loadCorpus(TEXT.repeat(3), tokens, 120);
  const batches = (rng: ReturnType<typeof makeRng>) => [
    ...dataIter(c.sampling, train, shape.B, shape.T, rng),
  ];
  const N = batches(makeRng(0)).length;
  const spec = {
    vocab_size: vocab.length,
    num_hiddens: shape.H,
    input: shape.input,
    embed_size: 9,
    batch_size: shape.B,
    num_steps: shape.T,
    max_steps: detach ? shape.T : shape.T * N,
    activation: c.activation,
    tiles: shape.tiles,
  };
  const out: Partial<Record<Recurrence, Run>> = {};
  const kinds = ["looped", "steps", ...(shape.H <= ROWS_MAX ? ["rows"] : [])];
  for (const kernels of kinds as Recurrence[]) {
    const net = new FusedCells(device, { ...spec, kernels }, [{
      params: get_params(spec, makeRng(c.seed)),
      activation: c.activation,
    }]);
    const rng = makeRng(c.seed + 100);
    const run: Run = { losses: [], norms: [], val: NaN, params: [] };
    for (let e = 0; e < epochs; e++) {
      const [s] = await net.trainEpochs([{
        batches: batches(rng),
        options: { lr: c.lr, clip: c.clip, sampling: c.sampling, detach },
      }]);
      run.losses.push(s!.losses);
      run.norms.push(s!.grad_norms);
    }
    [run.val] = await net.evaluate([{
      batches: [...seqDataIterSequential(val, shape.B, shape.T, makeRng(0), 0)],
      carry: true,
    }]);
    run.params = Object.values(await net.values(0)).map((p) => p.values);
    net.destroy();
    out[kernels] = run;
  }
  return out;
}

for (
  const shape of [
    // Rows per workgroup that do not divide the batch (16 and 4 on CPU tiles).
    { B: 20, T: 4, H: 40, input: "one_hot", tiles: "cpu" },
    // One row; one-hot and embedded.
    { B: 1, T: 6, H: 8, input: "one_hot", tiles: "cpu" },
    { B: 1, T: 5, H: 24, input: "embedding", tiles: "cpu" },
    // GPU tiles: 2 rows a workgroup, the last with one.
    { B: 7, T: 5, H: 64, input: "embedding", tiles: "gpu" },
    // A state over 64 KiB (no eight-step sums), wider than 2 × 8 lanes.
    { B: 40, T: 3, H: 420, input: "one_hot", tiles: "cpu" },
  ] as const
) {
  Deno.test(`looped, per-step${shape.H <= ROWS_MAX ? " and rows" : ""} kernels train bit-identically (B=${shape.B} T=${shape.T} H=${shape.H} ${shape.input}, ${shape.tiles} tiles; tanh and relu, clip θ and off, sequential and random, detach: false)`, async () => {
    const cases: [CellCase, boolean][] = [
      [MIXED[0], true],
      [MIXED[1], true],
      [MIXED[2], true],
      [{ ...MIXED[0], activation: "relu" }, false],
    ];
    for (const [c, detach] of cases) {
      const { looped, steps, rows } = await eachKernel(shape, c, detach);
      assertSameRun(looped!, steps!, `${JSON.stringify(c)} detach: ${detach}`);
      if (shape.H <= ROWS_MAX) {
        assertSameRun(rows!, steps!, `rows: ${JSON.stringify(c)} ${detach}`);
      }
    }
  });
}

Deno.test("a recurrence longer than llvmpipe's 65,535 loop iterations a dispatch (detach: false over 385 steps) is split over dispatches without changing a number", async () => {
  for (const tiles of ["cpu", "gpu"] as const) {
    const { looped, steps } = await eachKernel(
      { B: 2, T: 35, H: 512, input: "one_hot", tiles },
      MIXED[0],
      false,
      1,
      840,
    );
    assert.equal(looped!.losses[0].length, 11); // up to 385 steps
    assertSameRun(looped!, steps!, tiles);
  }
});

Deno.test("the looped and rows kernels train a minibatch in at most 10 dispatches, one-hot or embedded, for 1 cell or 24", () => {
  const { vocab } = loadCorpus(TEXT, 600);
  for (const input of ["one_hot", "embedding"] as const) {
    const spec = {
      vocab_size: vocab.length,
      num_hiddens: 32,
      input,
      embed_size: 8,
      batch_size: 4,
      num_steps: 35,
      max_steps: 35,
      activation: "tanh" as const,
    };
    for (const kernels of ["looped", "rows"] as const) {
      for (const cells of [1, 24]) {
        const n = dispatches({ ...spec, kernels }, cells);
        assert.ok(n <= 10, `${input}, ${kernels}, ${cells} cells: ${n}`);
      }
    }
  }
});

/** The chapter's shape (batch 32, 35 steps, 512 hidden units, one-hot over 28 tokens). */
const CHAPTER = {
  vocab_size: 28,
  num_hiddens: 512,
  input: "one_hot" as const,
  embed_size: 32,
  batch_size: 32,
  num_steps: 35,
  max_steps: 35,
  activation: "tanh" as const,
};

Deno.test("groupCapacity: the cells whose buffers fit a binding and a buffer of the device", () => {
  // 36 state slots of 32 × 512 floats: 2,359,296 bytes a cell.
  assert.equal(
    groupCapacity(CHAPTER, {
      maxStorageBufferBindingSize: 2 ** 27,
      maxBufferSize: 2 ** 31,
    }),
    56,
  );
  assert.equal(
    groupCapacity(CHAPTER, {
      maxStorageBufferBindingSize: 2 ** 32 - 1,
      maxBufferSize: 2 ** 27,
    }),
    56,
  );
  assert.equal(
    groupCapacity(CHAPTER, {
      maxStorageBufferBindingSize: 2 ** 32 - 1,
      maxBufferSize: 2 ** 40,
    }),
    256,
  );
  assert.equal(
    groupCapacity({ ...CHAPTER, max_steps: 35 * 1000 }, {
      maxStorageBufferBindingSize: 2 ** 27,
      maxBufferSize: 2 ** 31,
    }),
    1,
  );
});

Deno.test("a GPU host's default group, 64 cells of the chapter's size, trains on this device: split to fit its bindings, each cell as it trains alone", async () => {
  const text = TEXT.repeat(2).slice(0, 1200);
  const { train } = loadCorpus(text, 1200, 0);
  const batches = [...seqDataIterSequential(train, 32, 35, makeRng(0), 0)];
  assert.equal(batches.length, 1);
  const spec = { ...CHAPTER, vocab_size: loadCorpus(text).vocab.length };
  const init = (seed: number) => ({
    params: get_params(spec, makeRng(seed)),
    activation: "tanh" as const,
  });
  const options = {
    lr: 1,
    clip: 1,
    sampling: "sequential",
    detach: true,
  } as const;
  const group = fusedGroup(
    device,
    spec,
    Array.from({ length: 64 }, (_, seed) => init(seed)),
  );
  const capacity = groupCapacity(spec, device.limits);
  assert.equal(group.cells, 64);
  if (capacity < 64) {
    assert.ok(group instanceof SplitGroup);
    assert.ok(group.parts.every((p) => p.cells <= capacity));
  }
  const stats = await group.trainEpochs(
    Array.from({ length: 64 }, () => ({ batches, options })),
  );
  const last = capacity < 64 ? [0, capacity - 1, capacity, 63] : [0, 63];
  for (const c of last) {
    const alone = new FusedCells(device, spec, [init(c)]);
    const [s] = await alone.trainEpochs([{ batches, options }]);
    assert.deepEqual(stats[c]!.losses, s!.losses, `cell ${c} loss`);
    assert.deepEqual(stats[c]!.grad_norms, s!.grad_norms, `cell ${c} norm`);
    const [a, b] = [await group.values(c), await alone.values(0)];
    assert.ok(
      a.W_hh.values.every((v, j) => Object.is(v, b.W_hh.values[j])),
      `cell ${c} W_hh`,
    );
    alone.destroy();
  }
  group.destroy();
});

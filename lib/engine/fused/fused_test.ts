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
import { FusedCells } from "./fused.ts";
import { openDevice } from "./gpu.ts";
import type { CellEpoch, EpochOptions } from "../group.ts";

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
      const c = JSON.stringify(MIXED[i]);
      assert.deepEqual(run.losses, alone[i].losses, `${c} losses`);
      assert.deepEqual(run.norms, alone[i].norms, `${c} norms`);
      assert.ok(Object.is(run.val, alone[i].val), `${c} validation`);
      run.params.forEach((p, k) =>
        assert.ok(
          p.every((v, j) => Object.is(v, alone[i].params[k][j])),
          `${c} parameter ${k}`,
        )
      );
    }
    // The diverging cell did diverge, and stopped; the others trained on.
    assert.ok(group[3].losses.length < 4, "cell 4 stopped early");
    assert.equal(group[0].losses.length, 4);
  });
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
  const count = (cells: number) => {
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
  };
  assert.equal(count(8), count(2));
  assert.equal(count(24), count(2));
});

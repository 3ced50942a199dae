import assert from "node:assert/strict";
import { loadCorpus } from "../data/vocab.ts";
import { setBackend } from "../model/backend.ts";
import { resolveConfig, type TrainConfig } from "./config.ts";
import { train_ch8, type TrainResult } from "./train.ts";
import { groupKey, train_cells } from "./cells.ts";

const TEXT = `The Time Traveller (for so it will be convenient to speak of him)
was expounding a recondite matter to us. His grey eyes shone and
twinkled, and his usually pale face was flushed and animated. The
fire burned brightly, and the soft radiance of the incandescent
lights in the lilies of silver caught the bubbles that flashed and
passed in our glasses.`.repeat(3);

const cell = (over: Partial<TrainConfig>) =>
  resolveConfig({
    num_hiddens: 20,
    num_steps: 7,
    batch_size: 4,
    num_epochs: 5,
    max_tokens: 500,
    val_tokens: 120,
    eval_every: 2,
    num_preds: 12,
    engine: "fused",
    ...over,
  });

/** A record without what measures time, which differs from run to run. */
function numbers(r: TrainResult) {
  const { wall_seconds: _w, tokens_per_sec: _t, epochs, ...rest } = r;
  return {
    ...rest,
    epochs: epochs.map(({ tokens_per_sec: _a, seconds: _b, ...e }) => e),
  };
}

Deno.test("train_cells: each cell's record is train_ch8's alone (curves, validation, texts, norms); one diverges, cells end at their own epoch", async () => {
  await setBackend("webgpu");
  const configs = [
    cell({ seed: 0 }),
    cell({ seed: 1, activation: "relu", clip: "off", lr: 0.5 }),
    cell({ seed: 2, sampling: "random", clip: 0.05, lr: 2, num_epochs: 3 }),
    cell({ seed: 3, activation: "relu", clip: "off", lr: 300 }),
    cell({ seed: 4, eval_every: 3, num_epochs: 4 }),
  ];
  const corpus = loadCorpus(TEXT, 500, 120);
  const done: number[] = [];
  const group = await train_cells(configs.map((config, i) => ({
    config,
    corpus,
    hooks: {
      sample_alphas: [1, 4],
      onResult: () => {
        done.push(i);
      },
    },
  })));
  const alone: TrainResult[] = [];
  for (const config of configs) {
    alone.push(await train_ch8(config, corpus, { sample_alphas: [1, 4] }));
  }
  group.forEach((r, i) =>
    assert.deepEqual(numbers(r), numbers(alone[i]), `cell ${i}`)
  );
  assert.equal(group[3].status, "diverged");
  assert.deepEqual(
    group.map((r) => r.train_ppl.length),
    [5, 5, 3, 3, 4].map((n, i) => i === 3 ? group[3].diverged_epoch! - 1 : n),
  );
  // Each was handed over as it finished: the short and the diverged first.
  assert.deepEqual(done.toSorted(), [0, 1, 2, 3, 4]);
  assert.ok(done.indexOf(2) < done.indexOf(0), `order ${done}`);
  assert.ok(done.indexOf(3) < done.indexOf(0), `order ${done}`);
});

Deno.test("groupKey: cells of one shape on the fused engine share a key; other engines, sizes or detach: false do not", () => {
  const a = cell({});
  assert.equal(
    groupKey(a, 28),
    groupKey(
      cell({ lr: 2, seed: 5, activation: "relu", sampling: "random" }),
      28,
    ),
  );
  assert.notEqual(groupKey(a, 28), groupKey(a, 27));
  assert.notEqual(groupKey(a, 28), groupKey(cell({ num_hiddens: 21 }), 28));
  assert.equal(groupKey(cell({ detach: false }), 28), null);
  assert.equal(groupKey(cell({ engine: "blas" }), 28), null);
});

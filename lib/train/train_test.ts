import assert from "node:assert/strict";
import { loadCorpus } from "../data/vocab.ts";
import { readCorpus } from "../data/source.ts";
import { PASSAGE, TEST_DATA_DIR } from "../data/testdata.ts";
import {
  type BackendName,
  type Engine,
  resolveConfig,
  type TrainConfig,
} from "../config/config.ts";
import { groupKey } from "../engine/group.ts";
import { numbers, requires } from "../testing.ts";
import {
  Ch8Run,
  epochResult,
  minTrainTokens,
  type RunState,
  train_cells,
  train_ch8,
  type TrainResult,
} from "./train.ts";

const TEXT = PASSAGE;

const small = (over: Partial<TrainConfig> = {}) =>
  resolveConfig({
    num_hiddens: 16,
    num_steps: 7,
    batch_size: 4,
    num_epochs: 3,
    max_tokens: 250,
    val_tokens: 60,
    eval_every: 2,
    num_preds: 10,
    ...over,
  });

function run(over: Partial<TrainConfig> = {}) {
  const config = small(over);
  return train_ch8(
    config,
    loadCorpus(TEXT, config.max_tokens, config.val_tokens),
  );
}

const ENGINES: [Engine, BackendName][] = [
  ["fused", "webgpu"],
  ["blas", "cpu"],
  ["reference", "webgpu"],
  ["reference", "wasm"],
  ["reference", "cpu"],
];

// Each engine once (the reference on its quickest backend; the others are
// compared with it below).
for (
  const [engine, backend] of ENGINES.filter(([e, b]) =>
    e !== "reference" || b === "cpu"
  )
) {
  Deno.test({
    name:
      `train_ch8 on ${engine} (${backend}): one perplexity per epoch, validation at eval epochs, samples, stats; the same seed twice is the same record, another seed another`,
    ...requires([engine === "blas" ? "blas" : "webgpu"], async () => {
      const r = await run({ engine, backend, seed: 3 });
      assert.equal(r.status, "done", r.error ?? "");
      assert.equal(r.train_ppl.length, 3);
      assert.deepEqual(r.val_ppl.map((v) => v.epoch), [2, 3]);
      assert.equal(r.final.train_ppl, r.train_ppl[2]);
      assert.equal(
        r.final.best_val_ppl,
        Math.min(...r.val_ppl.map((v) => v.ppl)),
      );
      assert.deepEqual(r.samples.map((s) => s.prefix), [
        "time traveller",
        "traveller",
      ]);
      assert.ok(r.samples[0].text.startsWith("time traveller"));
      assert.equal(r.onehot_as_embedding, 0);
      assert.ok(r.tokens_per_sec > 0);
      assert.ok(r.grad_norm.max >= r.grad_norm.mean && r.grad_norm.mean > 0);
      assert.deepEqual(r.epochs.map((e) => e.epoch), [1, 2, 3]);
      assert.deepEqual(
        numbers(await run({ engine, backend, seed: 3 })),
        numbers(r),
      );
      const other = await run({ engine, backend, seed: 4 });
      assert.equal(other.train_ppl.length, 3);
      assert.notDeepEqual(other.train_ppl, r.train_ppl);
    }),
  });
}

Deno.test({
  name:
    "every engine agrees with the reference on tfjs's cpu backend within float32 tolerance, for each activation, clipping and sampling",
  ...requires(["webgpu", "blas"], async () => {
    for (
      const over of [
        {},
        { activation: "relu" as const, clip: "off" as const },
        { sampling: "random" as const },
      ]
    ) {
      const ref = await run({ ...over, engine: "reference", backend: "cpu" });
      assert.equal(ref.status, "done");
      assert.equal(ref.train_ppl.length, 3);
      for (const [engine, backend] of ENGINES.slice(0, 4)) {
        const r = await run({ ...over, engine, backend });
        const what = `${engine} on ${backend} ${JSON.stringify(over)}`;
        assert.equal(r.status, "done", `${what}: ${r.error}`);
        assert.equal(r.train_ppl.length, ref.train_ppl.length, what);
        r.train_ppl.forEach((p, i) => {
          const rel = Math.abs(p - ref.train_ppl[i]) / ref.train_ppl[i];
          assert.ok(
            rel < 1e-4,
            `${what} epoch ${i + 1}: ${p} vs ${ref.train_ppl[i]}`,
          );
        });
      }
    }
  }),
});

Deno.test({
  name:
    "a run that must diverge is marked diverged with its epoch, not a fake number (every engine)",
  ...requires(["webgpu", "blas"], async () => {
    for (const engine of ["fused", "blas", "reference"] as const) {
      const r = await run({
        lr: 1e6,
        clip: "off",
        activation: "relu",
        num_epochs: 5,
        engine,
      });
      assert.equal(r.status, "diverged", engine);
      assert.equal(r.diverged_epoch, r.train_ppl.length + 1);
      assert.ok(r.diverged_epoch! <= 5);
      assert.ok(r.train_ppl.every(Number.isFinite));
      assert.deepEqual(r.samples, []);
      assert.ok(Number.isFinite(JSON.parse(JSON.stringify(r)).tokens_per_sec));
    }
  }),
});

Deno.test("an epoch without a minibatch is an error, never a perplexity of 1; a held-out text too short for one minibatch has no validation", () => {
  assert.throws(
    () => epochResult({ losses: [], grad_norms: [], tokens: 0, seconds: 0 }),
    /no minibatch/,
  );
  assert.equal(minTrainTokens({ batch_size: 32, num_steps: 35 }), 32 * 35 + 36);
  const r = new Ch8Run(small(), loadCorpus(TEXT, 250, 5));
  assert.equal(r.validation(), null, "5 tokens: no chunk of 7 steps");
  const long = new Ch8Run(small(), loadCorpus(TEXT, 250, 17));
  // 16 targets: two rows of seven steps, fewer than the batch's four.
  assert.deepEqual(long.validation()?.batches.map((b) => b.batch_size), [2]);
});

Deno.test({
  name:
    "a held-out text shorter than a minibatch's rows is evaluated on fewer rows by every engine, as the reference does",
  ...requires(["webgpu", "blas"], async () => {
    const results: number[][] = [];
    for (const [engine, backend] of ENGINES.slice(0, 3)) {
      const r = await run({ engine, backend, val_tokens: 17 });
      assert.equal(r.status, "done", r.error ?? "");
      assert.equal(r.val_ppl.length, 2);
      results.push(r.val_ppl.map((v) => v.ppl));
    }
    for (const vals of results.slice(1)) {
      vals.forEach((v, i) =>
        assert.ok(Math.abs(v - results[0][i]) / results[0][i] < 1e-4, `${v}`)
      );
    }
  }),
});

Deno.test({
  name: "a short run on The Time Machine lowers perplexity clearly (fused)",
  ...requires(["book", "webgpu"], async () => {
    const { text } = await readCorpus("timemachine", {
      dataDir: TEST_DATA_DIR,
      offline: true,
    });
    const config = resolveConfig({
      num_hiddens: 64,
      num_epochs: 8,
      eval_every: 8,
      num_preds: 20,
      engine: "fused",
    });
    const r = await train_ch8(
      config,
      loadCorpus(text, config.max_tokens, config.val_tokens),
    );
    assert.equal(r.status, "done");
    assert.equal(r.train_ppl.length, 8);
    // Starts near uniform over 28 tokens (measured: 25.0 → 17.2 in eight epochs).
    const curve = r.train_ppl.map((p) => p.toFixed(2)).join(", ");
    assert.ok(r.train_ppl[0] > 20, curve);
    assert.ok(r.final.train_ppl! < 0.75 * r.train_ppl[0], curve);
    for (let i = 1; i < r.train_ppl.length; i++) {
      assert.ok(r.train_ppl[i] < r.train_ppl[i - 1], curve);
    }
    assert.ok(r.final.val_ppl! < 0.75 * 28, `val ${r.final.val_ppl}`);
  }),
});

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

for (const engine of ["fused", "blas"] as const) {
  Deno.test({
    name:
      `train_cells on ${engine}: each cell's record is train_ch8's alone (curves, validation, texts, norms); one diverges, cells end at their own epoch, each handed over as it ends`,
    ...requires([engine === "blas" ? "blas" : "webgpu"], async () => {
      const configs = [
        cell({ engine, seed: 0 }),
        cell({ engine, seed: 1, activation: "relu", clip: "off", lr: 0.5 }),
        cell({
          engine,
          seed: 2,
          sampling: "random",
          clip: 0.05,
          lr: 2,
          num_epochs: 3,
        }),
        cell({ engine, seed: 3, activation: "relu", clip: "off", lr: 300 }),
        cell({ engine, seed: 4, eval_every: 3, num_epochs: 4 }),
      ];
      const corpus = loadCorpus(TEXT.repeat(3), 500, 120);
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
      assert.equal(group.length, configs.length);
      const alone: TrainResult[] = [];
      for (const config of configs) {
        alone.push(await train_ch8(config, corpus, { sample_alphas: [1, 4] }));
      }
      assert.deepEqual(group.map((r) => r.status), [
        "done",
        "done",
        "done",
        "diverged",
        "done",
      ]);
      group.forEach((r, i) =>
        assert.deepEqual(numbers(r), numbers(alone[i]), `cell ${i}`)
      );
      assert.deepEqual(
        group.map((r) => r.train_ppl.length),
        [5, 5, 3, group[3].diverged_epoch! - 1, 4],
      );
      assert.ok(group[3].diverged_epoch! <= 5);
      // Each was handed over as it finished: on the fused engine, where
      // they train together, the short and the diverged first; on the
      // blas engine, one after another.
      assert.deepEqual(done.toSorted(), [0, 1, 2, 3, 4]);
      if (engine === "fused") {
        assert.ok(done.indexOf(2) < done.indexOf(0), `order ${done}`);
        assert.ok(done.indexOf(3) < done.indexOf(0), `order ${done}`);
      } else {
        assert.deepEqual(done, [0, 1, 2, 3, 4]);
      }
    }),
  });
}

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

Deno.test({
  name:
    "a run restored from a checkpoint goes on bit for bit as the run it was taken from (blas, fused, a fused group; sequential, random, detach: false; restored at its last epoch, only its texts are left)",
  ...requires(["webgpu", "blas"], async () => {
    const configs = [
      small({ engine: "blas", backend: "cpu", num_epochs: 5, seed: 1 }),
      small({
        engine: "blas",
        backend: "cpu",
        num_epochs: 5,
        detach: false,
      }),
      small({ engine: "fused", backend: "webgpu", num_epochs: 5, seed: 2 }),
      small({
        engine: "fused",
        backend: "webgpu",
        num_epochs: 5,
        sampling: "random",
        seed: 3,
      }),
    ];
    const corpus = loadCorpus(TEXT, 250, 60);
    const states = configs.map(() => new Map<number, RunState>());
    // Uninterrupted, checkpointed after every epoch (the last one included).
    const whole = await train_cells(
      configs.map((config, i) => ({
        config,
        corpus,
        hooks: { onCheckpoint: (s) => void states[i].set(s.epoch, s) },
      })),
      8,
      { every_seconds: 0, final: true },
    );
    assert.deepEqual(states.map((s) => [...s.keys()]), [
      ...configs.map(() => [1, 2, 3, 4, 5]),
    ]);
    // The two fused cells train as one group, and go on from other epochs.
    for (const from of [[2, 3, 1, 4], [4, 1, 5, 2]]) {
      const resumed = await train_cells(
        configs.map((config, i) => ({
          config,
          corpus,
          resume: states[i].get(from[i]),
        })),
        8,
      );
      resumed.forEach((r, i) =>
        assert.deepEqual(
          numbers(r),
          numbers(whole[i]),
          `${configs[i].engine} ${configs[i].sampling} from epoch ${from[i]}`,
        )
      );
    }
    // A state is the run's, not a view of it: the run went on after it.
    assert.equal(states[0].get(2)!.result.train_ppl.length, 2);
  }),
});

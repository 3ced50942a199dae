import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { makeRng } from "../data/prng.ts";
import { loadCorpus } from "../data/vocab.ts";
import { setBackend } from "../engine/backend.ts";
import { oneHotAsEmbedding, predict, sampleIndex, stepper } from "./predict.ts";
import { get_params, RNNModelScratch } from "./rnn.ts";

Deno.test("sampleIndex draws from q ∝ P^α: α = 1 follows P, large α is greedy", () => {
  const probs = [0.1, 0.6, 0.3];
  const logits = probs.map(Math.log);
  const rng = makeRng(0);
  const n = 20000;
  const counts = [0, 0, 0];
  for (let i = 0; i < n; i++) counts[sampleIndex(logits, 1, rng)]++;
  probs.forEach((p, i) =>
    assert.ok(Math.abs(counts[i] / n - p) < 0.015, `${i}: ${counts[i] / n}`)
  );
  // α = 2: q ∝ (0.01, 0.36, 0.09), so q(1) = 0.36 / 0.46.
  const sharp =
    Array.from({ length: n }, () => sampleIndex(logits, 2, rng)).filter((i) =>
      i === 1
    ).length / n;
  assert.ok(Math.abs(sharp - 0.36 / 0.46) < 0.015, `α=2: ${sharp}`);
  for (let i = 0; i < 100; i++) assert.equal(sampleIndex(logits, 1000, rng), 1);
});

Deno.test("predict keeps the prefix, adds num_preds characters, is greedy-deterministic and seeded when sampling", () => {
  const { vocab } = loadCorpus("the time traveller smiled");
  const s = {
    vocab_size: vocab.length,
    num_hiddens: 16,
    activation: "tanh" as const,
    input: "one_hot" as const,
    embed_size: 4,
  };
  const net = { spec: s, params: get_params(s, makeRng(0)) };
  const a = predict("time traveller", 10, net, vocab);
  assert.ok(a.startsWith("time traveller"));
  // An untrained model may emit <unk>, one token of five characters.
  assert.equal(a.replaceAll("<unk>", "?").length, "time traveller".length + 10);
  assert.equal(predict("time traveller", 10, net, vocab), a);
  const sample = (seed: number) =>
    predict("time", 30, net, vocab, {
      kind: "sample",
      alpha: 1,
      rng: makeRng(seed),
    });
  assert.equal(sample(1), sample(1));
  assert.notEqual(sample(1), sample(2));
});

Deno.test("stepper: the CPU recurrence gives the tfjs model's logits, each activation and input mode", async () => {
  await setBackend("cpu");
  for (
    const [activation, input] of [
      ["tanh", "one_hot"],
      ["relu", "one_hot"],
      ["tanh", "embedding"],
    ] as const
  ) {
    const spec = {
      vocab_size: 7,
      num_hiddens: 12,
      activation,
      input,
      embed_size: 5,
    };
    // Weights large enough that the state matters.
    const params = get_params(spec, makeRng(3));
    for (const p of Object.values(params)) {
      p.values = p.values.map((v, i) => v * 30 + (i % 3) * 0.01);
    }
    const net = new RNNModelScratch(spec, params);
    const tokens = [3, 0, 6, 6, 1, 2];
    const X = tf.tensor2d([tokens], [1, tokens.length], "int32");
    const [Y, H] = net.forward(X, net.begin_state(1));
    const expected = await Y.data();
    tf.dispose([X, Y, H]);
    const step = stepper(spec, params);
    tokens.forEach((x, t) => {
      const logits = step(x);
      for (let q = 0; q < spec.vocab_size; q++) {
        const e = expected[t * spec.vocab_size + q];
        assert.ok(
          Math.abs(logits[q] - e) <= 1e-4 * Math.max(1, Math.abs(e)),
          `${activation} ${input} step ${t} logit ${q}: ${logits[q]} vs ${e}`,
        );
      }
    });
    net.dispose();
  }
});

Deno.test("oneHotAsEmbedding: one-hot inputs are an identity embedding (exercise 1), exactly", () => {
  for (const activation of ["tanh", "relu"] as const) {
    const spec = {
      vocab_size: 9,
      num_hiddens: 16,
      activation,
      input: "one_hot" as const,
      embed_size: 4,
    };
    const params = get_params(spec, makeRng(5));
    // Large weights, so the recurrence is far from linear.
    for (const p of Object.values(params)) {
      p.values = p.values.map((v) => v * 50);
    }
    const tokens = Int32Array.from([1, 8, 0, 3, 3, 7, 2]);
    assert.equal(oneHotAsEmbedding({ spec, params }, tokens), 0, activation);
  }
});

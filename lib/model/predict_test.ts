import assert from "node:assert/strict";
import { makeRng } from "../data/prng.ts";
import { loadCorpus } from "../data/vocab.ts";
import { setBackend } from "./backend.ts";
import { predict, sampleIndex } from "./predict.ts";
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

Deno.test("predict keeps the prefix, adds num_preds characters, is greedy-deterministic and seeded when sampling", async () => {
  await setBackend("webgpu");
  const { vocab } = loadCorpus("the time traveller smiled");
  const s = {
    vocab_size: vocab.length,
    num_hiddens: 16,
    activation: "tanh" as const,
    input: "one_hot" as const,
    embed_size: 4,
  };
  const net = new RNNModelScratch(s, get_params(s, makeRng(0)));
  const a = await predict("time traveller", 10, net, vocab);
  assert.ok(a.startsWith("time traveller"));
  // An untrained model may emit <unk>, one token of five characters.
  assert.equal(a.replaceAll("<unk>", "?").length, "time traveller".length + 10);
  assert.equal(await predict("time traveller", 10, net, vocab), a);
  const sample = (seed: number) =>
    predict("time", 30, net, vocab, {
      kind: "sample",
      alpha: 1,
      rng: makeRng(seed),
    });
  assert.equal(await sample(1), await sample(1));
  assert.notEqual(await sample(1), await sample(2));
  net.dispose();
});

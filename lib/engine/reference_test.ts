import assert from "node:assert/strict";
import { PASSAGE } from "../data/testdata.ts";
import * as tf from "@tensorflow/tfjs";
import { setBackend } from "./backend.ts";
import { evaluate, grad_clipping, train_epoch } from "./reference.ts";
import { makeRng } from "../data/prng.ts";
import { dataIter, seqDataIterSequential } from "../data/iterators.ts";
import { loadCorpus } from "../data/vocab.ts";
import { get_params, RNNModelScratch } from "../model/rnn.ts";

const globalNorm = async (ts: tf.Tensor[]) =>
  Math.sqrt(
    (await Promise.all(ts.map((t) => t.data()))).flatMap((d) => [...d]).reduce(
      (a, x) => a + x * x,
      0,
    ),
  );

Deno.test("grad_clipping: over θ the global norm becomes θ, direction kept; under θ untouched; off untouched", async () => {
  await setBackend("webgpu");
  const grads = [tf.tensor1d([3, 0]), tf.tensor2d([[0, 4]])]; // global norm 5
  const over = grad_clipping(grads, 1);
  assert.ok(
    Math.abs((await over.norm.data())[0] - 5) < 1e-6,
    "pre-clip norm reported",
  );
  assert.ok(Math.abs(await globalNorm(over.grads) - 1) < 1e-6);
  assert.deepEqual([...await over.grads[0].data()].map((x) => +x.toFixed(6)), [
    0.6,
    0,
  ]);
  const under = grad_clipping(grads, 10);
  assert.deepEqual(await under.grads[1].data(), await grads[1].data());
  const off = grad_clipping(grads, "off");
  assert.equal(off.grads, grads);
  assert.ok(Math.abs((await off.norm.data())[0] - 5) < 1e-6);
});

const TEXT = PASSAGE;

/** A tanh, one-hot model with seed-0 parameters. */
function smallNet(vocab_size: number, num_hiddens: number) {
  const spec = {
    vocab_size,
    num_hiddens,
    activation: "tanh" as const,
    input: "one_hot" as const,
    embed_size: 4,
  };
  return new RNNModelScratch(spec, get_params(spec, makeRng(0)));
}

Deno.test("train_epoch leaves no tensors behind, with and without detaching", async () => {
  await setBackend("webgpu");
  const { vocab, train } = loadCorpus(TEXT, 250);
  const net = smallNet(vocab.length, 8);
  for (const detach of [true, false]) {
    const before = tf.memory().numTensors;
    const r = await train_epoch(
      net,
      dataIter("sequential", train, 4, 7, makeRng(1)),
      { lr: 1, clip: 1, sampling: "sequential", detach },
    );
    assert.equal(r.losses.length, 8, "every minibatch trained");
    assert.equal(tf.memory().numTensors, before, `detach ${detach}`);
  }
  net.dispose();
});

Deno.test("detach: false backpropagates to the epoch's start: first minibatch as with detach, later ones differ", async () => {
  await setBackend("cpu");
  const { vocab, train } = loadCorpus(TEXT, 250);
  const run = async (detach: boolean, batches: number) => {
    const net = smallNet(vocab.length, 8);
    const iter = [...dataIter("sequential", train, 4, 7, makeRng(1))].slice(
      0,
      batches,
    );
    const r = await train_epoch(net, iter, {
      lr: 1,
      clip: "off",
      sampling: "sequential",
      detach,
    });
    assert.equal(r.grad_norms.length, batches);
    const values = await net.values();
    net.dispose();
    return { r, values };
  };
  const [a1, b1] = [await run(true, 1), await run(false, 1)];
  assert.deepEqual(a1.values, b1.values);
  const [a3, b3] = [await run(true, 3), await run(false, 3)];
  // Minibatch 2's gradient now also reaches W_hh through minibatch 1: the norms differ.
  assert.equal(a3.r.grad_norms[0], b3.r.grad_norms[0]);
  assert.notEqual(a3.r.grad_norms[1], b3.r.grad_norms[1]);
  assert.notDeepEqual(a3.values.W_hh.values, b3.values.W_hh.values);
});

Deno.test("evaluate: an untrained model is close to uniform over the vocabulary; no minibatch is no number", async () => {
  await setBackend("cpu");
  const { vocab } = loadCorpus(TEXT);
  const net = smallNet(vocab.length, 4);
  const tokens = new Int32Array(100).fill(3);
  const batches = [...seqDataIterSequential(tokens, 4, 7, makeRng(0), 0)];
  assert.equal(batches.length, 3);
  const loss = await evaluate(net, batches, true);
  assert.ok(
    Math.abs(Math.exp(loss) - vocab.length) < 1,
    `${Math.exp(loss)} vs ${vocab.length}`,
  );
  assert.ok(Number.isNaN(await evaluate(net, [], true)));
  net.dispose();
});

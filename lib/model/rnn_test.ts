import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { makeRng } from "../data/prng.ts";
import { setBackend } from "../engine/backend.ts";
import { UserError } from "../errors.ts";
import {
  cross_entropy,
  get_params,
  one_hot,
  type ParamValues,
  RNNModelScratch,
  type RnnSpec,
} from "./rnn.ts";

const spec = (over: Partial<RnnSpec> = {}): RnnSpec => ({
  vocab_size: 28,
  num_hiddens: 512,
  activation: "tanh",
  input: "one_hot",
  embed_size: 8,
  ...over,
});

Deno.test("the chapter's shape checks on WebGPU: one-hot (5, 2, 28), output (10, 28), state (2, 512)", async () => {
  const info = await setBackend("webgpu");
  assert.equal(info.backend, "webgpu");
  assert.ok(info.adapter, "adapter info recorded");
  const X = tf.tensor2d([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]], [2, 5], "int32");
  const inputs = one_hot(X, 28);
  assert.deepEqual(inputs.shape, [5, 2, 28]);
  // Time first: inputs[t][b] is the one-hot of X[b][t].
  const values = (await inputs.array()) as number[][][];
  assert.equal(values[3][1][8], 1);
  assert.equal(values[3][1].reduce((a, b) => a + b), 1);
  const net = new RNNModelScratch(spec(), get_params(spec(), makeRng(0)));
  const state = net.begin_state(X.shape[0]);
  const [Y, H] = net.forward(X, state);
  assert.deepEqual(Y.shape, [10, 28]);
  assert.deepEqual(H.shape, [2, 512]);
  tf.dispose([X, inputs, state, Y, H]);
  net.dispose();
});

Deno.test("get_params: N(0, 0.01²) weights, zero biases, embedding variant adds W_embed (V×E)", () => {
  const p = get_params(spec(), makeRng(1));
  assert.deepEqual(Object.keys(p), ["W_xh", "W_hh", "b_h", "W_hq", "b_q"]);
  assert.deepEqual(p.W_hh.shape, [512, 512]);
  const w = p.W_hh.values;
  const sd = Math.sqrt(w.reduce((a, x) => a + x * x, 0) / w.length);
  assert.ok(Math.abs(sd - 0.01) < 0.0002, `sd ${sd}`);
  assert.ok(
    p.b_h.values.every((x) => x === 0) && p.b_q.values.every((x) => x === 0),
  );
  const e = get_params(spec({ input: "embedding" }), makeRng(1));
  assert.deepEqual(e.W_embed.shape, [28, 8]);
  assert.deepEqual(e.W_xh.shape, [8, 512]);
  assert.deepEqual(
    get_params(spec(), makeRng(1)).W_xh.values,
    p.W_xh.values,
    "seeded",
  );
});

Deno.test("exercise 1: one-hot · W_xh picks rows of W_xh, exactly an embedding lookup", async () => {
  await setBackend("webgpu");
  const W = tf.tensor2d(get_params(spec(), makeRng(2)).W_xh.values, [28, 512]);
  const idx = tf.tensor1d([3, 0, 27, 3, 11], "int32");
  const viaOneHot = tf.matMul(tf.cast(tf.oneHot(idx, 28), "float32"), W);
  const viaLookup = tf.gather(W, idx);
  assert.deepEqual(await viaOneHot.data(), await viaLookup.data());
  tf.dispose([W, idx, viaOneHot, viaLookup]);
});

Deno.test("cross_entropy is the mean of −log softmax at the target", async () => {
  await setBackend("cpu");
  const logits = [[1, 2, 0.5], [0, 0, 3]];
  const y = [1, 2];
  const expected =
    logits.map((row, i) =>
      -(row[y[i]] - Math.log(row.reduce((a, l) => a + Math.exp(l), 0)))
    ).reduce((a, b) => a + b) / 2;
  const loss = cross_entropy(tf.tensor2d(logits), tf.tensor1d(y, "int32"));
  assert.ok(Math.abs((await loss.data())[0] - expected) < 1e-6);
});

/** Loss of a small model on a fixed batch, for gradient checks. */
function smallProblem(over: Partial<RnnSpec>) {
  const s = spec({ vocab_size: 5, num_hiddens: 4, embed_size: 3, ...over });
  const rng = makeRng(5);
  // Larger weights than the chapter's 0.01, so gradients are well above float32 noise.
  const values: ParamValues = get_params(s, rng);
  for (const p of Object.values(values)) {
    p.values = p.values.map(() => rng.normal() * 0.5);
  }
  const X = tf.tensor2d([[0, 1, 2], [3, 4, 1]], [2, 3], "int32");
  const y = tf.tensor1d([1, 3, 2, 4, 0, 2], "int32");
  const H0 = tf.tensor2d([[0.1, -0.2, 0.3, 0], [0, 0.5, -0.1, 0.2]]);
  const loss = (net: RNNModelScratch) =>
    cross_entropy(net.forward(X, H0)[0], y);
  return { s, values, loss, dispose: () => tf.dispose([X, y, H0]) };
}

for (
  const over of [{}, { activation: "relu" as const }, {
    input: "embedding" as const,
  }]
) {
  Deno.test(`gradients agree with central finite differences (${JSON.stringify(over)})`, async () => {
    await setBackend("cpu");
    const { s, values, loss, dispose } = smallProblem(over);
    const net = new RNNModelScratch(s, values);
    const vars = Object.values(net.params);
    const { grads } = tf.variableGrads(() => loss(net), vars);
    const eps = 1e-2;
    for (const [name, p] of Object.entries(values)) {
      const g = await grads[net.params[name].name].data();
      for (let i = 0; i < p.values.length; i++) {
        const at = (delta: number) => {
          const shifted = structuredClone(values);
          shifted[name].values[i] += delta;
          const probe = new RNNModelScratch(s, shifted);
          const l = tf.tidy(() => loss(probe).dataSync()[0]);
          probe.dispose();
          return l;
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        const tol = 2e-3 + 1e-2 * Math.abs(numeric);
        assert.ok(
          Math.abs(g[i] - numeric) < tol,
          `${name}[${i}]: autograd ${g[i]} vs finite difference ${numeric}`,
        );
      }
    }
    tf.dispose(Object.values(grads));
    net.dispose();
    dispose();
  });
}

Deno.test("no WebGPU adapter: one clear error naming the fallback flags", async () => {
  for (
    const gpu of [null, { requestAdapter: () => Promise.resolve(null) }]
  ) {
    await assert.rejects(
      setBackend("webgpu", gpu),
      (e) =>
        e instanceof UserError &&
        e.message.startsWith("backend webgpu: no WebGPU adapter found") &&
        e.message.includes("--backend wasm or --backend cpu"),
    );
  }
});

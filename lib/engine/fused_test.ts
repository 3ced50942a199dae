import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { makeRng } from "../data/prng.ts";
import { setBackend } from "../model/backend.ts";
import {
  cross_entropy,
  get_params,
  RNNModelScratch,
  type RnnSpec,
} from "../model/rnn.ts";
import { FusedRnn } from "./fused.ts";

/** Largest difference relative to the reference's largest magnitude. */
const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let diff = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-12);
};

const configs = [
  { B: 3, T: 5, H: 7, V: 6, activation: "tanh" as const },
  { B: 4, T: 9, H: 33, V: 11, activation: "relu" as const },
  { B: 5, T: 3, H: 65, V: 28, activation: "tanh" as const },
];

for (const { B, T, H, V, activation } of configs) {
  Deno.test(`fused loss and every gradient match tfjs autograd within 1e-4 (B=${B} T=${T} H=${H} V=${V} ${activation})`, async () => {
    await setBackend("cpu");
    const spec: RnnSpec = {
      vocab_size: V,
      num_hiddens: H,
      activation,
      input: "one_hot",
      embed_size: 1,
    };
    const rng = makeRng(B * 100 + H);
    const values = get_params(spec, rng);
    // Larger weights than 0.01, so gradients are far from float32 noise.
    for (const p of Object.values(values)) {
      p.values = p.values.map(() => rng.normal() * 0.3);
    }
    const X = Int32Array.from({ length: B * T }, () => rng.randint(0, V - 1));
    const Y = Int32Array.from({ length: B * T }, () => rng.randint(0, V - 1));
    const H0 = Float32Array.from({ length: B * H }, () => rng.normal() * 0.5);

    const net = new RNNModelScratch(spec, values);
    const yTimeMajor = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) yTimeMajor[t * B + b] = Y[b * T + t];
    }
    const { value, grads } = tf.variableGrads(() => {
      const [logits] = net.forward(
        tf.tensor2d(X, [B, T], "int32"),
        tf.tensor2d(H0, [B, H]),
      );
      return cross_entropy(logits, tf.tensor1d(yTimeMajor, "int32"));
    }, Object.values(net.params));
    const refLoss = (await value.data())[0];

    const adapter = await navigator.gpu.requestAdapter();
    const device = await adapter!.requestDevice();
    const fused = new FusedRnn(device, {
      batch_size: B,
      num_steps: T,
      num_hiddens: H,
      vocab_size: V,
      activation,
      input: "one_hot",
      embed_size: 1,
    }, values);
    const out = await fused.gradients(X, Y, H0);
    assert.ok(
      Math.abs(out.loss - refLoss) / refLoss < 1e-5,
      `loss ${out.loss} vs ${refLoss}`,
    );
    for (const name of ["W_xh", "W_hh", "b_h", "W_hq", "b_q"] as const) {
      const ref = await grads[net.params[name].name].data();
      const err = relErr(out.grads[name].values, ref);
      assert.ok(err < 1e-4, `${name}: relative error ${err}`);
    }
    const again = await fused.gradients(X, Y, H0);
    assert.deepEqual(again.grads, out.grads, "bit-identical twice");
    fused.destroy();
    device.destroy();
    net.dispose();
  });
}

Deno.test("fused training epochs follow the reference engine's (losses, norms, parameters)", async () => {
  const { loadCorpus } = await import("../data/vocab.ts");
  const { dataIter } = await import("../data/iterators.ts");
  const { train_epoch } = await import("../train/train.ts");
  await setBackend("cpu");
  const text =
    "the time traveller for so it will be convenient to speak of him was expounding a recondite matter to us "
      .repeat(6);
  const { vocab, train } = loadCorpus(text, 600);
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter!.requestDevice();
  for (
    const o of [
      {
        activation: "tanh" as const,
        clip: 1 as const,
        sampling: "sequential" as const,
        lr: 1,
      },
      {
        activation: "relu" as const,
        clip: "off" as const,
        sampling: "random" as const,
        lr: 0.5,
      },
      {
        activation: "tanh" as const,
        clip: 0.05,
        sampling: "sequential" as const,
        lr: 2,
      },
    ]
  ) {
    const B = 4, T = 7;
    const spec: RnnSpec = {
      vocab_size: vocab.length,
      num_hiddens: 24,
      activation: o.activation,
      input: "one_hot",
      embed_size: 1,
    };
    const values = get_params(spec, makeRng(1));
    const ref = new RNNModelScratch(spec, values);
    const fused = new FusedRnn(device, {
      batch_size: B,
      num_steps: T,
      num_hiddens: 24,
      vocab_size: vocab.length,
      activation: o.activation,
      input: "one_hot",
      embed_size: 1,
    }, values);
    const refRng = makeRng(2), fusedRng = makeRng(2);
    for (let epoch = 0; epoch < 5; epoch++) {
      const r = await train_epoch(
        ref,
        dataIter(o.sampling, train, B, T, refRng),
        { ...o, detach: true },
      );
      const f = await fused.trainEpoch(
        dataIter(o.sampling, train, B, T, fusedRng),
        { ...o, detach: true },
      );
      const ppl = Math.exp(
        f.losses.reduce((a, b) => a + b, 0) / f.losses.length,
      );
      assert.ok(
        Math.abs(ppl - r.ppl) / r.ppl < 1e-4,
        `${JSON.stringify(o)} epoch ${epoch}: ${ppl} vs ${r.ppl}`,
      );
      assert.ok(
        relErr(f.grad_norms, r.grad_norms) < 1e-3,
        `norms ${f.grad_norms} vs ${r.grad_norms}`,
      );
    }
    const a = await fused.values(), b = await ref.values();
    for (const name of Object.keys(b)) {
      assert.ok(relErr(a[name].values, b[name].values) < 1e-4, name);
    }
    fused.destroy();
    ref.dispose();
  }
  device.destroy();
});

import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { makeRng } from "../data/prng.ts";
import { dataIter, seqDataIterSequential } from "../data/iterators.ts";
import { loadCorpus } from "../data/vocab.ts";
import { readCorpus } from "../data/source.ts";
import { HAVE_TIME_MACHINE, TEST_DATA_DIR } from "../data/testdata.ts";
import { setBackend } from "../model/backend.ts";
import {
  type Activation,
  cross_entropy,
  get_params,
  type InputMode,
  RNNModelScratch,
  type RnnSpec,
} from "../model/rnn.ts";
import { resolveConfig } from "../train/config.ts";
import { evaluate, train_ch8, train_epoch } from "../train/train.ts";
import { FusedRnn } from "./fused.ts";
import { BlasRnn } from "./blas.ts";
import { openCblas } from "./cblas.ts";
import { openDevice } from "./gpu.ts";
import type { BpttEngine, BpttSpec } from "./engine.ts";
import type { ParamValues } from "../model/rnn.ts";

/** Largest difference relative to the reference's largest magnitude. */
const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let diff = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-12);
};

// One device for every test, as in training: its pipelines are shared.
const { device } = await openDevice();
const blas = openCblas();

/** Each engine under test, built for a spec from initial values. */
const ENGINES: {
  name: string;
  make: (spec: BpttSpec, values: ParamValues) => BpttEngine;
  ignore?: boolean;
}[] = [
  {
    name: "fused, cpu tiles",
    make: (spec, values) =>
      new FusedRnn(device, { ...spec, tiles: "cpu" }, values),
  },
  {
    name: "fused, gpu tiles",
    make: (spec, values) =>
      new FusedRnn(device, { ...spec, tiles: "gpu" }, values),
  },
  {
    name: "blas",
    make: (spec, values) => new BlasRnn(blas!, spec, values),
    ignore: !blas,
  },
];

const TEXT =
  "the time traveller for so it will be convenient to speak of him was expounding a recondite matter to us "
    .repeat(6);

// Odd sizes, none a multiple of the kernels' tiles; each activation and input mode.
const configs: {
  B: number;
  T: number;
  H: number;
  V: number;
  activation: Activation;
  input: InputMode;
  E: number;
}[] = [
  { B: 3, T: 5, H: 7, V: 6, activation: "tanh", input: "one_hot", E: 1 },
  { B: 4, T: 9, H: 33, V: 11, activation: "relu", input: "one_hot", E: 1 },
  { B: 5, T: 3, H: 65, V: 28, activation: "tanh", input: "one_hot", E: 1 },
  { B: 5, T: 4, H: 40, V: 13, activation: "tanh", input: "embedding", E: 9 },
  { B: 2, T: 6, H: 19, V: 28, activation: "relu", input: "embedding", E: 33 },
  // A state slot over 64 KiB: the kernels read it from storage, not uniform.
  { B: 40, T: 3, H: 420, V: 9, activation: "tanh", input: "one_hot", E: 1 },
];

// Every config on every engine, and a padded width of 256 for the GPU
// tiles' 64-lane workgroups.
const cases = [
  ...configs,
  {
    B: 3,
    T: 4,
    H: 250,
    V: 7,
    activation: "relu" as const,
    input: "one_hot" as const,
    E: 1,
  },
];

for (const engine of ENGINES) {
  for (const { B, T, H, V, activation, input, E } of cases) {
    Deno.test({
      name:
        `${engine.name}: loss and every gradient match tfjs autograd within 1e-4 (B=${B} T=${T} H=${H} V=${V} ${activation} ${input}${
          input === "embedding" ? ` E=${E}` : ""
        })`,
      ignore: engine.ignore,
      fn: async () => {
        await setBackend("cpu");
        const spec: RnnSpec = {
          vocab_size: V,
          num_hiddens: H,
          activation,
          input,
          embed_size: E,
        };
        const rng = makeRng(B * 100 + H);
        const values = get_params(spec, rng);
        // Larger weights than 0.01, so gradients are far from float32 noise.
        for (const p of Object.values(values)) {
          p.values = p.values.map(() => rng.normal() * 0.3);
        }
        const X = Int32Array.from(
          { length: B * T },
          () => rng.randint(0, V - 1),
        );
        const Y = Int32Array.from(
          { length: B * T },
          () => rng.randint(0, V - 1),
        );
        const H0 = Float32Array.from(
          { length: B * H },
          () => rng.normal() * 0.5,
        );

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

        const fused = engine.make(
          { batch_size: B, num_steps: T, ...spec },
          values,
        );
        const out = await fused.gradients(X, Y, H0);
        assert.ok(
          Math.abs(out.loss - refLoss) / refLoss < 1e-5,
          `loss ${out.loss} vs ${refLoss}`,
        );
        for (const name of Object.keys(values)) {
          const ref = await grads[net.params[name].name].data();
          assert.deepEqual(out.grads[name].shape, values[name].shape, name);
          const err = relErr(out.grads[name].values, ref);
          assert.ok(err < 1e-4, `${name}: relative error ${err}`);
        }
        const again = await fused.gradients(X, Y, H0);
        assert.deepEqual(again.grads, out.grads, "bit-identical twice");
        fused.destroy();
        net.dispose();
      },
    });
  }
}

for (const engine of ENGINES) {
  Deno.test({
    name:
      `${engine.name}: training epochs follow the reference engine's (losses, norms, parameters, validation), every feature`,
    ignore: engine.ignore,
    fn: async () => {
      await setBackend("cpu");
      const { vocab, train } = loadCorpus(TEXT, 600);
      const options = [
        { activation: "tanh", clip: 1, sampling: "sequential", lr: 1 },
        { activation: "relu", clip: "off", sampling: "random", lr: 0.5 },
        { activation: "tanh", clip: 0.05, sampling: "sequential", lr: 2 },
        { input: "embedding", clip: 1, sampling: "random", lr: 1 },
        { detach: false, clip: 1, sampling: "sequential", lr: 1 },
        { detach: false, input: "embedding", clip: "off", lr: 0.5 },
      ] as const;
      for (const o of options) {
        const B = 4, T = 7;
        const spec: RnnSpec = {
          vocab_size: vocab.length,
          num_hiddens: 24,
          activation: "activation" in o ? o.activation : "tanh",
          input: "input" in o ? o.input : "one_hot",
          embed_size: 5,
        };
        const epoch = {
          lr: o.lr,
          clip: o.clip,
          sampling: "sampling" in o ? o.sampling : "sequential" as const,
          detach: "detach" in o ? o.detach : true,
        };
        const values = get_params(spec, makeRng(1));
        const ref = new RNNModelScratch(spec, values);
        const perEpoch = Math.floor((train.length - 1) / B / T);
        const fused = engine.make({
          batch_size: B,
          num_steps: T,
          ...spec,
          max_steps: perEpoch * T,
        }, values);
        const refRng = makeRng(2), fusedRng = makeRng(2);
        for (let e = 0; e < 4; e++) {
          const r = await train_epoch(
            ref,
            dataIter(epoch.sampling, train, B, T, refRng),
            epoch,
          );
          const f = await fused.trainEpoch(
            dataIter(epoch.sampling, train, B, T, fusedRng),
            epoch,
          );
          const ppl = Math.exp(
            f.losses.reduce((a, b) => a + b, 0) / f.losses.length,
          );
          assert.ok(
            Math.abs(ppl - r.ppl) / r.ppl < 1e-4,
            `${JSON.stringify(o)} epoch ${e}: ${ppl} vs ${r.ppl}`,
          );
          assert.ok(
            relErr(f.grad_norms, r.grad_norms) < 1e-3,
            `${JSON.stringify(o)} norms ${f.grad_norms} vs ${r.grad_norms}`,
          );
        }
        // Validation, forward only, as tfjs's `evaluate` computes it.
        const held = train.slice(0, 150);
        const refVal = (await evaluate(ref, held, {
          batch_size: B,
          num_steps: T,
          sampling: epoch.sampling,
        }))!;
        const fusedVal = Math.exp(
          await fused.evaluate(
            seqDataIterSequential(held, B, T, makeRng(0), 0),
            epoch.sampling === "sequential",
          ),
        );
        assert.ok(
          Math.abs(fusedVal - refVal) / refVal < 1e-4,
          `${JSON.stringify(o)} validation ${fusedVal} vs ${refVal}`,
        );
        const a = await fused.values(), b = await ref.values();
        for (const name of Object.keys(b)) {
          assert.ok(
            relErr(a[name].values, b[name].values) < 1e-4,
            `${JSON.stringify(o)} ${name}`,
          );
        }
        fused.destroy();
        ref.dispose();
      }
    },
  });
}

for (const engine of ["fused", "blas"] as const) {
  Deno.test({
    name:
      `20 epochs of The Time Machine: the ${engine} engine's perplexity curve is the reference's within 1 %`,
    ignore: !HAVE_TIME_MACHINE || (engine === "blas" && !blas),
    async fn() {
      const { text } = await readCorpus("timemachine", {
        dataDir: TEST_DATA_DIR,
        offline: true,
      });
      // The chapter's setup with fewer hidden units, so the reference is quick.
      const base = { num_hiddens: 96, num_epochs: 20, eval_every: 10 };
      const corpus = loadCorpus(text);
      await setBackend("wasm");
      const ref = await train_ch8(
        resolveConfig({ ...base, backend: "wasm", engine: "reference" }),
        corpus,
      );
      const config = resolveConfig({ ...base, engine });
      await setBackend(config.backend);
      const fused = await train_ch8(config, corpus);
      assert.equal(fused.status, "done", fused.error ?? "");
      assert.equal(fused.train_ppl.length, 20);
      fused.train_ppl.forEach((p, i) => {
        const rel = Math.abs(p - ref.train_ppl[i]) / ref.train_ppl[i];
        assert.ok(rel < 0.01, `epoch ${i + 1}: ${p} vs ${ref.train_ppl[i]}`);
      });
      fused.val_ppl.forEach((v, i) => {
        const rel = Math.abs(v.ppl - ref.val_ppl[i].ppl) / ref.val_ppl[i].ppl;
        assert.ok(rel < 0.01, `validation at epoch ${v.epoch}`);
      });
      assert.ok(fused.train_ppl[19] < fused.train_ppl[0] * 0.7, "it learns");
    },
  });
}

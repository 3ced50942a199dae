import assert from "node:assert/strict";
import { makeRng } from "../data/prng.ts";
import { dataIter, seqDataIterSequential } from "../data/iterators.ts";
import { loadCorpus } from "../data/vocab.ts";
import { readCorpus } from "../data/source.ts";
import { TEST_DATA_DIR } from "../data/testdata.ts";
import { setBackend } from "./backend.ts";
import {
  type Activation,
  get_params,
  type InputMode,
  type ParamValues,
  type RnnSpec,
} from "../model/params.ts";
import { resolveConfig } from "../config/config.ts";
import { train_ch8 } from "../train/train.ts";
import type { EngineGroup, GroupSpec } from "./group.ts";
import { FusedCells } from "./fused/fused.ts";
import { BlasCells } from "./blas/cells.ts";
import { openCblas } from "./blas/cblas.ts";
import { openDevice } from "./fused/gpu.ts";
import { ReferenceCells } from "./reference.ts";
import { type Capability, requires } from "../testing.ts";

/** Largest difference relative to the reference's largest magnitude. */
const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length, "as many values");
  let diff = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-12);
};

// One device for every test, as in training: its pipelines are shared.
const { device } = await openDevice();

/** Each engine under test: a group of one model of a spec, from initial values. */
const ENGINES: {
  name: string;
  needs: Capability[];
  make: (spec: GroupSpec, values: ParamValues) => EngineGroup;
}[] = [
  {
    name: "fused, cpu tiles",
    needs: ["webgpu"],
    make: (spec, values) =>
      new FusedCells(device, { ...spec, tiles: "cpu" }, [{
        params: values,
        activation: spec.activation,
      }]),
  },
  {
    name: "fused, gpu tiles",
    needs: ["webgpu"],
    make: (spec, values) =>
      new FusedCells(device, { ...spec, tiles: "gpu" }, [{
        params: values,
        activation: spec.activation,
      }]),
  },
  {
    name: "blas",
    needs: ["blas"],
    make: (spec, values) =>
      new BlasCells(openCblas()!, spec, [{
        params: values,
        activation: spec.activation,
      }]),
  },
];

/** The reference: tfjs autograd on its cpu backend. */
async function reference(spec: GroupSpec, values: ParamValues) {
  await setBackend("cpu");
  return new ReferenceCells(spec, [{
    params: values,
    activation: spec.activation,
  }]);
}

/** What the reference computes for a case, computed once for every engine under test. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => made ??= make();
}

const TEXT =
  "the time traveller for so it will be convenient to speak of him was expounding a recondite matter to us "
    .repeat(6);

// Odd sizes, none a multiple of the kernels' tiles; each activation and input mode.
const cases: {
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
  // A padded width of 256 for the GPU tiles' 64-lane workgroups.
  { B: 3, T: 4, H: 250, V: 7, activation: "relu", input: "one_hot", E: 1 },
];

/** A gradient case: its spec, values (weights larger than 0.01, so gradients are far from float32 noise), a minibatch and a state. */
function gradientCase(c: typeof cases[number]) {
  const { B, T, H, V, activation, input, E } = c;
  const spec: GroupSpec = {
    vocab_size: V,
    num_hiddens: H,
    activation,
    input,
    embed_size: E,
    batch_size: B,
    num_steps: T,
    max_steps: T,
  };
  const rng = makeRng(B * 100 + H);
  const values = get_params(spec, rng);
  for (const p of Object.values(values)) {
    p.values = p.values.map(() => rng.normal() * 0.3);
  }
  const tokens = () =>
    Int32Array.from({ length: B * T }, () => rng.randint(0, V - 1));
  const X = tokens(), Y = tokens();
  const H0 = Float32Array.from({ length: B * H }, () => rng.normal() * 0.5);
  const want = once(async () => {
    const ref = await reference(spec, values);
    const g = await ref.gradients(X, Y, H0);
    ref.destroy();
    return g;
  });
  return { spec, values, X, Y, H0, want };
}

const gradientCases = cases.map((c) => ({ c, ...gradientCase(c) }));

for (const engine of ENGINES) {
  for (const { c, spec, values, X, Y, H0, want: reference } of gradientCases) {
    const { B, T, H, V, activation, input, E } = c;
    Deno.test({
      name:
        `${engine.name}: loss and every gradient match tfjs autograd within 1e-4 (B=${B} T=${T} H=${H} V=${V} ${activation} ${input}${
          input === "embedding" ? ` E=${E}` : ""
        })`,
      ...requires(engine.needs, async () => {
        const want = await reference();
        const group = engine.make(spec, values);
        const out = await group.gradients(X, Y, H0);
        assert.ok(
          Math.abs(out.loss - want.loss) / want.loss < 1e-5,
          `loss ${out.loss} vs ${want.loss}`,
        );
        assert.deepEqual(
          Object.keys(out.grads).sort(),
          Object.keys(values).sort(),
          "a gradient for every parameter",
        );
        for (const name of Object.keys(values)) {
          assert.deepEqual(out.grads[name].shape, values[name].shape, name);
          const err = relErr(out.grads[name].values, want.grads[name].values);
          assert.ok(err < 1e-4, `${name}: relative error ${err}`);
        }
        assert.ok(relErr(out.H, want.H) < 1e-4, "the last state");
        const again = await group.gradients(X, Y, H0);
        assert.deepEqual(again.grads, out.grads, "bit-identical twice");
        group.destroy();
      }),
    });
  }
}

/** The training comparisons: every feature, each a spec, epoch options and what the reference computed, once. */
const trainingCases = (() => {
  const { vocab, train } = loadCorpus(TEXT, 450);
  const B = 4, T = 7;
  const perEpoch = Math.floor((train.length - 1) / B / T);
  const held = train.slice(0, 150);
  const options = [
    { activation: "tanh", clip: 1, sampling: "sequential", lr: 1 },
    { activation: "relu", clip: "off", sampling: "random", lr: 0.5 },
    { activation: "tanh", clip: 0.05, sampling: "sequential", lr: 2 },
    { input: "embedding", clip: 1, sampling: "random", lr: 1 },
    { detach: false, clip: 1, sampling: "sequential", lr: 1 },
    { detach: false, input: "embedding", clip: "off", lr: 0.5 },
  ] as const;
  return options.map((o) => {
    const spec: GroupSpec = {
      vocab_size: vocab.length,
      num_hiddens: 24,
      activation: "activation" in o ? o.activation : "tanh",
      input: "input" in o ? o.input : "one_hot",
      embed_size: 5,
      batch_size: B,
      num_steps: T,
      max_steps: perEpoch * T,
    };
    const epoch = {
      lr: o.lr,
      clip: o.clip,
      sampling: "sampling" in o ? o.sampling : "sequential" as const,
      detach: "detach" in o ? o.detach : true,
    };
    const values = get_params(spec as RnnSpec, makeRng(1));
    /** Four epochs' minibatches (two without detaching, which replays each epoch), in one data order. */
    const epochs = (() => {
      const rng = makeRng(2);
      return Array.from(
        { length: epoch.detach ? 4 : 2 },
        () => [...dataIter(epoch.sampling, train, B, T, rng)],
      );
    })();
    // Validation as the reference computes it; and with fewer rows than a
    // minibatch (a short held-out text).
    const checks = [B, 2].map((rows) => ({
      batches: [...seqDataIterSequential(held, rows, T, makeRng(0), 0)],
      carry: epoch.sampling === "sequential",
    }));
    const run = async (group: EngineGroup) => {
      const stats = [];
      for (const batches of epochs) {
        stats.push((await group.trainEpochs([{ batches, options: epoch }]))[0]);
      }
      const vals = [];
      for (const check of checks) vals.push((await group.evaluate([check]))[0]);
      return { stats, vals, values: await group.values(0) };
    };
    const want = once(async () => {
      const ref = await reference(spec, values);
      const r = await run(ref);
      ref.destroy();
      return r;
    });
    const sizes = epochs.map((e) => e.length);
    return { what: JSON.stringify(o), spec, values, sizes, run, want };
  });
})();

for (const engine of ENGINES) {
  Deno.test({
    name:
      `${engine.name}: training epochs follow the reference engine's (losses, norms, parameters, validation), every feature`,
    ...requires(engine.needs, async () => {
      for (const { what, spec, values, sizes, run, want } of trainingCases) {
        const ref = await want();
        const group = engine.make(spec, values);
        const got = await run(group);
        group.destroy();
        assert.equal(got.stats.length, ref.stats.length);
        assert.ok(got.stats.length >= 2);
        got.stats.forEach((f, e) => {
          const r = ref.stats[e];
          assert.ok(r && f, "both trained");
          assert.equal(f.losses.length, sizes[e], `${what}: every minibatch`);
          assert.equal(r.losses.length, sizes[e]);
          assert.ok(
            relErr(f.losses, r.losses) < 1e-4,
            `${what} epoch ${e}: losses ${f.losses} vs ${r.losses}`,
          );
          assert.ok(
            relErr(f.grad_norms, r.grad_norms) < 1e-3,
            `${what} norms ${f.grad_norms} vs ${r.grad_norms}`,
          );
        });
        got.vals.forEach((v, i) => {
          const w = ref.vals[i];
          assert.ok(Number.isFinite(w) && w > 0, `${w}`);
          assert.ok(
            Math.abs(v - w) / w < 1e-5,
            `${what} validation ${i}: ${v} vs ${w}`,
          );
        });
        assert.deepEqual(
          Object.keys(got.values).sort(),
          Object.keys(ref.values).sort(),
        );
        for (const name of Object.keys(ref.values)) {
          assert.ok(
            relErr(got.values[name].values, ref.values[name].values) < 1e-4,
            `${what} ${name}`,
          );
        }
      }
    }),
  });
}

/** The reference's 20 epochs of The Time Machine, for every engine compared with it. */
const timeMachine = once(async () => {
  const { text } = await readCorpus("timemachine", {
    dataDir: TEST_DATA_DIR,
    offline: true,
  });
  const corpus = loadCorpus(text);
  const ref = await train_ch8(
    resolveConfig({ ...TM, backend: "wasm", engine: "reference" }),
    corpus,
  );
  return { corpus, ref };
});

/** The chapter's setup with fewer hidden units, so the reference is quick. */
const TM = { num_hiddens: 48, num_epochs: 20, eval_every: 10 };

for (const engine of ["fused", "blas"] as const) {
  Deno.test({
    name:
      `20 epochs of The Time Machine: the ${engine} engine's perplexity curve is the reference's within 1 %`,
    ...requires(
      ["book", engine === "blas" ? "blas" : "webgpu"],
      async () => {
        const { corpus, ref } = await timeMachine();
        const run = await train_ch8(resolveConfig({ ...TM, engine }), corpus);
        for (const r of [ref, run]) {
          assert.equal(r.status, "done", r.error ?? "");
          assert.equal(r.train_ppl.length, 20);
          assert.deepEqual(r.val_ppl.map((v) => v.epoch), [10, 20]);
        }
        run.train_ppl.forEach((p, i) => {
          const rel = Math.abs(p - ref.train_ppl[i]) / ref.train_ppl[i];
          assert.ok(rel < 0.01, `epoch ${i + 1}: ${p} vs ${ref.train_ppl[i]}`);
        });
        run.val_ppl.forEach((v, i) => {
          const rel = Math.abs(v.ppl - ref.val_ppl[i].ppl) /
            ref.val_ppl[i].ppl;
          assert.ok(rel < 0.01, `validation at epoch ${v.epoch}`);
        });
        assert.ok(run.train_ppl[19] < run.train_ppl[0] * 0.7, "it learns");
      },
    ),
  });
}

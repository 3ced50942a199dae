import assert from "node:assert/strict";
import { UserError } from "../errors.ts";
import { type ExperimentSpec, MAX_CELLS, validateExperiment } from "./spec.ts";
import { expandConfigs } from "./grid.ts";

const good: ExperimentSpec = {
  name: "tiny",
  description: "A tiny grid.",
  exercises: ["4"],
  base: { num_hiddens: 8, num_epochs: 2 },
  grid: { clip: [1, "off"], activation: ["tanh", "relu"] },
  seeds: [0, 1],
};

const rejects = (raw: unknown, message: RegExp, options = {}) =>
  assert.throws(
    () =>
      validateExperiment(raw, "experiments/tiny.ts", {
        expectedName: "tiny",
        ...options,
      }),
    (e) => e instanceof UserError && message.test(e.message),
    String(message),
  );

Deno.test("a valid experiment passes unchanged", () => {
  assert.deepEqual(
    validateExperiment(good, "experiments/tiny.ts", { expectedName: "tiny" }),
    good,
  );
});

Deno.test("each bad-input class is one error naming the file, key path and value", () => {
  rejects(
    { ...good, colour: "red" },
    /^experiments\/tiny\.ts: unknown key "colour"/,
  );
  rejects(
    { ...good, name: "other" },
    /^experiments\/tiny\.ts: name: must equal the file name "tiny" \(got "other"\)/,
  );
  rejects(
    { ...good, seeds: "0" },
    /^experiments\/tiny\.ts: seeds: .*\(got "0"\)/,
  );
  rejects(
    { ...good, seeds: [] },
    /^experiments\/tiny\.ts: seeds: at least one seed/,
  );
  rejects({ ...good, seeds: [0, 0] }, /seeds: duplicated value 0/);
  rejects(
    { ...good, base: { lr: 0 } },
    /^experiments\/tiny\.ts: base: lr: .*\(got 0\)/,
  );
  rejects({ ...good, base: { num_steps: 0 } }, /base: num_steps: .*\(got 0\)/);
  rejects(
    { ...good, grid: { lr: [1, -2] } },
    /^experiments\/tiny\.ts: grid\.lr\[1\]: lr: .*\(got -2\)/,
  );
  rejects(
    { ...good, grid: { activation: ["tanh", "sigmoid"] } },
    /grid\.activation\[1\]: activation: .*\(got "sigmoid"\)/,
  );
  rejects(
    { ...good, grid: { lr: [] } },
    /^experiments\/tiny\.ts: grid\.lr: an axis needs at least one value/,
  );
  rejects(
    { ...good, grid: { lr: [1, 1] } },
    /grid\.lr\[1\]: duplicated value 1/,
  );
  rejects(
    { ...good, grid: { hidden_size: [8] } },
    /^experiments\/tiny\.ts: grid\.hidden_size: not a config key/,
  );
  rejects({ ...good, base: { colour: 1 } }, /base\.colour: not a config key/);
  rejects(
    { ...good, grid: { seed: [0, 1] } },
    /grid\.seed: list seeds under "seeds"/,
  );
  rejects(
    { ...good, include: [{ lr: "x" }] },
    /include\[0\]: lr: .*\(got "x"\)/,
  );
  rejects({ ...good, description: 3 }, /description: .*\(got 3\)/);
  // Exclude entries are typed like axes, each value alone.
  rejects(
    { ...good, exclude: [{ clip: "none" }] },
    /^experiments\/tiny\.ts: exclude\[0\]: clip: .*\(got "none"\)/,
  );
  rejects(
    { ...good, exclude: [{ activation: "tanh" }, { lr: "1" }] },
    /^experiments\/tiny\.ts: exclude\[1\]: lr: .*\(got "1"\)/,
  );
  rejects(
    { ...good, exclude: [{ colour: 1 }] },
    /exclude\[0\]\.colour: not a config key/,
  );
  rejects(
    undefined,
    /^experiments\/tiny\.ts: no default export \(write `export default defineExperiment\(\{ \.\.\. \}\)`\)$/,
  );
  // A pattern may name a value that is fine alone, whatever the base.
  validateExperiment(
    {
      ...good,
      base: { sampling: "random" },
      exclude: [{ detach: false }],
    },
    "experiments/tiny.ts",
  );
});

Deno.test("a grid above the cell limit needs allowLarge", () => {
  const big = {
    ...good,
    grid: { num_hiddens: Array.from({ length: MAX_CELLS }, (_, i) => i + 1) },
  };
  const spec = validateExperiment(big, "experiments/tiny.ts");
  assert.throws(
    () => expandConfigs(spec, { file: "experiments/tiny.ts" }),
    (e) =>
      e instanceof UserError &&
      /^experiments\/tiny\.ts: grid: 128 cells exceed the limit of 64; pass --allow-large/
        .test(e.message),
  );
  assert.equal(expandConfigs(spec, { allowLarge: true }).length, 2 * MAX_CELLS);
  // With exclude the count is known only by building: "more than".
  const pruned = { ...spec, exclude: [{ num_hiddens: 1 }] };
  assert.throws(
    () => expandConfigs(pruned, { file: "experiments/tiny.ts" }),
    /grid: more than 64 cells exceed the limit of 64/,
  );
});

Deno.test("a grid of a million cells is counted, not built: refused at once with and without allowLarge", () => {
  const axis = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  const huge = validateExperiment({
    ...good,
    grid: {
      num_hiddens: axis(100),
      num_steps: axis(100),
      batch_size: axis(50),
    },
    seeds: [0, 1],
  }, "experiments/tiny.ts");
  const before = Deno.memoryUsage().heapUsed;
  const t0 = performance.now();
  // --allow-large would not help: the message says so, either way.
  for (const allowLarge of [false, true]) {
    assert.throws(
      () => expandConfigs(huge, { file: "experiments/tiny.ts", allowLarge }),
      /^UserError: experiments\/tiny\.ts: grid: 1,000,000 cells exceed the most rnnlab runs as one experiment, 10,000, even with --allow-large; split it/,
    );
  }
  // Just above the limit, with --allow-large, it is built.
  const large = { ...huge, grid: { num_hiddens: axis(100) } };
  assert.throws(
    () => expandConfigs(large, { file: "experiments/tiny.ts" }),
    /grid: 200 cells exceed the limit of 64; pass --allow-large/,
  );
  assert.equal(expandConfigs(large, { allowLarge: true }).length, 200);
  const ms = performance.now() - t0;
  const mb = (Deno.memoryUsage().heapUsed - before) / 1e6;
  // The acceptance bound (1 s, 100 MB), far above what counting takes.
  assert.ok(ms < 1000 && mb < 100, `${ms.toFixed(0)} ms, ${mb.toFixed(0)} MB`);
});

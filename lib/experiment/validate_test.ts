import assert from "node:assert/strict";
import { resolveConfig } from "../config/config.ts";
import { checkCellFile } from "./validate.ts";
import { decodeCell, encodeCell } from "./format.ts";
import { storedRun } from "./testing.ts";

const config = resolveConfig({ num_hiddens: 8, num_epochs: 4, eval_every: 2 });

/** A cell as JSON to break at will: wrong types are the point. */
// deno-lint-ignore no-explicit-any
type Loose = Record<string, any>;

/** Why a file is refused, or "accepted". */
async function why(value: unknown, id: string): Promise<string> {
  const checked = await checkCellFile(value, id);
  return "reason" in checked ? checked.reason : "accepted";
}

Deno.test("checkCellFile: a stored run passes; plausible bad values, other shapes and another cell's content do not, each with its reason", async () => {
  const good = await storedRun(config);
  const file = encodeCell(good);
  assert.deepEqual(await checkCellFile(file, good.id), { record: good });
  const bad = async (
    change: (c: Loose) => void,
    reason: RegExp,
    id = good.id,
  ) => {
    const c = structuredClone(file) as Loose;
    change(c);
    assert.match(await why(c, id), reason);
  };
  await bad((c) => c.final.val_ppl = -5, /^final\.val_ppl: .*\(got -5\)$/);
  await bad(
    (c) => c.curves.train_ppl[1] = "7",
    /^curves\.train_ppl\.1: .*\(got "7"\)$/,
  );
  await bad((c) => c.evals[0].val_ppl = 0, /^evals\.0\.val_ppl: .*\(got 0\)/);
  await bad((c) => c.status = "finished", /^status: .*\(got "finished"\)/);
  await bad((c) => delete c.config.lr, /config: not a complete config/);
  await bad((c) => c.config.lr = -1, /config: lr: .*\(got -1\)/);
  // Consistent numbers, but not what the id says was run.
  await bad(
    (c) => c.config.lr = 2,
    /is not the hash of its config, corpus and engine/,
  );
  await bad((c) => c.engine = "fused/2", /is not the hash/);
  // Another cell's content under this file name.
  const other = encodeCell(await storedRun({ ...config, seed: 1 }));
  assert.match(
    await why(other, good.id),
    /^id [0-9a-f]{16} is not the file's name$/,
  );
  // Curves that disagree with the status or with each other.
  await bad(
    (c) => {
      for (const k of Object.keys(c.curves)) c.curves[k].pop();
      c.evals.pop();
    },
    /^status done but 3 of 4 epochs/,
  );
  await bad((c) => c.curves.seconds.pop(), /^curves\.seconds: 3 values/);
  await bad((c) => c.evals[0].epoch = 9, /^evals: .*beyond the 4 trained/);
  await bad((c) => c.final.train_ppl = 9, /^final\.train_ppl 9 is not/);
  await bad((c) => c.final.best_val_ppl = 1, /^final\.best_val_ppl 1 is not/);
  await bad((c) => c.evals.reverse(), /val_ppl epochs are not increasing/);
  await bad((c) => {
    c.status = "diverged";
    c.diverged_epoch = 2;
  }, /^diverged_epoch 2 after 4 epochs/);
  // Not a cell at all.
  assert.match(await why({ hello: 1 }, good.id), /^schema: /);
  assert.match(await why([1, 2], good.id), /^the file: /);
  assert.match(await why(null, good.id), /^the file: /);
  // A reference must say where, in a directory beside this one.
  const ref = {
    schema: file.schema,
    id: good.id,
    experiment: "x",
    point: {},
    overrides: {},
    reused_from: "d2l-baseline",
    ref: { dir: "d2l-baseline", sha1: "0".repeat(40) },
  };
  assert.equal(await why(ref, good.id), "accepted");
  assert.match(
    await why({ ...ref, ref: { ...ref.ref, dir: "../etc" } }, good.id),
    /^ref\.dir: expected a directory name/,
  );
  assert.match(
    await why({ ...ref, ref: { ...ref.ref, dir: ".." } }, good.id),
    /^ref\.dir: expected a directory name/,
  );
  assert.match(await why(ref, "0".repeat(16)), /is not the file's name/);
  // A failed cell is retried whatever its numbers; only its id must fit.
  await bad(
    (c) => {
      c.status = "failed";
      c.corpus.sha1 = "";
      for (const k of Object.keys(c.curves)) c.curves[k] = [];
      c.evals = [];
    },
    /^accepted$/,
  );
});

Deno.test("checkCellFile: a cell stored as rnnlab.cell/1 (curves repeated) is read as the same record, and checked as strictly", async () => {
  const good = await storedRun(config);
  const v1 = { ...good, schema: "rnnlab.cell/1" } as Loose;
  assert.deepEqual(await checkCellFile(v1, good.id), { record: good });
  const bad = async (change: (c: Loose) => void, reason: RegExp) => {
    const c = structuredClone(v1);
    change(c);
    assert.match(await why(c, good.id), reason);
  };
  await bad((c) => c.train_ppl[1] = "7", /^train_ppl\.1: .*\(got "7"\)$/);
  await bad((c) => c.epochs[2].train_ppl = 99, /epochs and train_ppl disagree/);
  await bad((c) => c.epochs[1].val_ppl = 3, /epochs and val_ppl disagree/);
  await bad((c) => c.final.val_ppl = -5, /^final\.val_ppl: .*\(got -5\)$/);
});

Deno.test("encodeCell and decodeCell: each curve stored once, read back as the same record", async () => {
  const run = await storedRun(config, { alphas: [2] });
  run.epochs[1].sample = "time traveller the";
  delete run.epochs[3].sample;
  run.epochs[0].grad_norm_max = null as unknown as number; // an overflow
  const file = encodeCell(run);
  assert.deepEqual(Object.keys(file.curves).length, 6);
  assert.deepEqual(file.evals, [
    { epoch: 2, val_ppl: run.val_ppl[0].ppl, sample: "time traveller the" },
    { epoch: 4, val_ppl: run.val_ppl[1].ppl },
  ]);
  assert.ok(!("epochs" in file) && !("train_ppl" in file));
  assert.deepEqual(decodeCell(file), run);
  // An evaluation whose text was too short keeps its null.
  run.epochs[3].val_ppl = null;
  run.val_ppl.pop();
  assert.deepEqual(decodeCell(encodeCell(run)), run);
});

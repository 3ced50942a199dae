import assert from "node:assert/strict";
import { resolveConfig } from "../train/config.ts";
import { checkCell } from "./validate.ts";
import { storedRun } from "./testing.ts";

const config = resolveConfig({ num_hiddens: 8, num_epochs: 4, eval_every: 2 });

/** A cell as JSON to break at will: wrong types are the point. */
// deno-lint-ignore no-explicit-any
type Loose = Record<string, any>;

Deno.test("checkCell: a stored run passes; plausible bad values, other shapes and another cell's content do not, each with its reason", async () => {
  const good = await storedRun(config);
  assert.equal(await checkCell(good, good.id), null);
  const bad = async (
    change: (c: Loose) => void,
    reason: RegExp,
    id = good.id,
  ) => {
    const c = structuredClone(good) as Loose;
    change(c);
    const why = await checkCell(c, id);
    assert.match(why ?? "accepted", reason);
  };
  await bad((c) => c.final.val_ppl = -5, /^final\.val_ppl: .*\(got -5\)$/);
  await bad((c) => c.train_ppl[1] = "7", /^train_ppl\.1: .*\(got "7"\)$/);
  await bad((c) => c.epochs[0].train_ppl = null, /^epochs\.0\.train_ppl/);
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
  const other = await storedRun({ ...config, seed: 1 });
  assert.match(
    await checkCell(other, good.id) ?? "",
    /^id [0-9a-f]{16} is not the file's name$/,
  );
  // Curves that disagree with the status or with each other.
  await bad(
    (c) => {
      c.train_ppl.pop();
      c.epochs.pop();
    },
    /^status done but 3 of 4 epochs/,
  );
  await bad((c) => c.final.train_ppl = 9, /^final\.train_ppl 9 is not/);
  await bad((c) => c.final.best_val_ppl = 1, /^final\.best_val_ppl 1 is not/);
  await bad((c) => c.val_ppl.reverse(), /val_ppl epochs are not increasing/);
  await bad((c) => c.epochs[2].train_ppl = 99, /epochs and train_ppl disagree/);
  await bad((c) => {
    c.status = "diverged";
    c.diverged_epoch = 2;
  }, /^diverged_epoch 2 after 4 epochs/);
  // Not a cell at all.
  assert.match(await checkCell({ hello: 1 }, good.id) ?? "", /^schema: /);
  assert.match(await checkCell([1, 2], good.id) ?? "", /^the file: /);
  assert.match(await checkCell(null, good.id) ?? "", /^the file: /);
  // A failed cell is retried whatever its numbers; only its id must fit.
  await bad(
    (c) => {
      c.status = "failed";
      c.corpus.sha1 = "";
      c.train_ppl = [];
      c.epochs = [];
    },
    /^accepted$/,
  );
});

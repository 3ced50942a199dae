import assert from "node:assert/strict";
import { buildResults } from "./report.ts";
import {
  cellRows,
  filterRows,
  formatCsv,
  formatTable,
  sortRows,
} from "./show.ts";
import { fixtureCell, spec } from "../experiment/testing.ts";
import { UserError } from "../errors.ts";

const cells = [
  fixtureCell({ clip: 1, seed: 0 }, [9, 4, 2]),
  fixtureCell({ clip: 1, seed: 1 }, [9, 4, 3]),
  fixtureCell({ clip: "off", seed: 0 }, [9, 30], "diverged"),
];
const rows = cellRows(buildResults(spec, cells, {}));

Deno.test("cellRows: one row per cell, the grid's keys first, then seed, status, perplexities, throughput, where", () => {
  assert.equal(rows.length, 3);
  assert.deepEqual(Object.keys(rows[0]), [
    "clip",
    "seed",
    "status",
    "train_ppl",
    "val_ppl",
    "best_val_ppl",
    "tokens_per_sec",
    "diverged_epoch",
    "blew_up_epoch",
    "computed_on",
    "id",
  ]);
  assert.deepEqual(
    rows.map((r) => [r.clip, r.seed, r.status, r.train_ppl]),
    [[1, 0, "done", 2], [1, 1, "done", 3], ["off", 0, "diverged", 30]],
  );
  assert.equal(rows[2].diverged_epoch, 3);
  assert.equal(rows[0].computed_on, "webgpu (llvmpipe)");
});

Deno.test("filterRows and sortRows: by any column, as text; a missing column or empty selection names what is there", () => {
  assert.equal(filterRows(rows, ["clip=1"]).length, 2);
  assert.equal(filterRows(rows, ["clip=1", "seed=1"]).length, 1);
  assert.throws(
    () => filterRows(rows, ["clip=2"]),
    (e) =>
      e instanceof UserError &&
      e.message === "--filter clip=2: no cell has it (clip: 1, off)",
  );
  assert.throws(
    () => filterRows(rows, ["lr=1"]),
    (e) =>
      e instanceof UserError &&
      /no column lr \(columns: clip, seed/.test(e.message),
  );
  assert.deepEqual(sortRows(rows, "train_ppl", true).map((r) => r.train_ppl), [
    30,
    3,
    2,
  ]);
  assert.deepEqual(sortRows(rows, "status").map((r) => r.status), [
    "diverged",
    "done",
    "done",
  ]);
  assert.throws(() => sortRows(rows, "nope"), /--sort nope: no such column/);
  // Numbers as numbers (as text, 100 would sort before 12 and 9).
  const wide = cellRows(buildResults(spec, [
    fixtureCell({ clip: 1, seed: 0 }, [12]),
    fixtureCell({ clip: 1, seed: 1 }, [100]),
    fixtureCell({ clip: 1, seed: 2 }, [9]),
  ], {}));
  assert.deepEqual(sortRows(wide, "train_ppl").map((r) => r.train_ppl), [
    9,
    12,
    100,
  ]);
  // Empty last, either way.
  for (const reverse of [false, true]) {
    assert.deepEqual(
      sortRows(rows, "diverged_epoch", reverse).map((r) => r.diverged_epoch),
      [3, null, null],
    );
  }
});

Deno.test("formatCsv quotes what needs quoting and keeps full precision; formatTable aligns", () => {
  const csv = formatCsv([{ a: 'x,"y"', b: 1 / 3, c: null }]);
  assert.equal(csv, 'a,b,c\n"x,""y""",0.3333333333333333,\n');
  const table = formatTable(rows).split("\n");
  assert.equal(table.length, 4);
  assert.match(table[0], /^clip {2}seed {2}status/);
  // Numbers right-aligned in their column.
  const at = table[0].indexOf("train_ppl") + "train_ppl".length;
  for (const line of table.slice(1)) assert.match(line[at - 1], /\d/);
});

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { buildResults, fmt, readResults } from "./report.ts";
import {
  cellRows,
  filterRows,
  formatCsv,
  formatTable,
  pointRows,
  sortRows,
  type Spread,
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

Deno.test("pointRows: one row per grid point, n and each metric's mean, std, min and max over the same cells as the report; a filter of the cells first", () => {
  const results = buildResults(spec, cells, {});
  const points = pointRows(results);
  assert.equal(points.length, 2);
  assert.deepEqual(Object.keys(points[0]), [
    "clip",
    "n",
    "train_ppl",
    "val_ppl",
    "best_val_ppl",
    "tokens_per_sec",
    "diverged",
    "failed",
  ]);
  const [clip1, off] = points;
  assert.equal(clip1.n, 2);
  assert.deepEqual(clip1.train_ppl, {
    mean: 2.5,
    std: Math.SQRT1_2,
    min: 2,
    max: 3,
  });
  assert.equal(
    (clip1.best_val_ppl as { mean: number }).mean,
    results.rows[0].best_val_ppl!.mean,
  );
  // A diverged cell counts in n and diverged, not in the perplexities.
  assert.deepEqual([off.n, off.train_ppl, off.diverged], [1, null, 1]);
  assert.deepEqual(off.tokens_per_sec, {
    mean: 1000,
    std: 0,
    min: 1000,
    max: 1000,
  });
  const one = pointRows(results, new Set([cells[1].id]));
  assert.deepEqual(one.map((r) => [r.clip, r.n]), [[1, 1]]);
  assert.match(
    formatTable(points),
    /^1 +2 +2\.5000 ± 0\.7071 \(2\.0000–3\.0000\)/m,
  );
  assert.match(
    formatCsv(points).split("\n")[0],
    /^clip,n,train_ppl_mean,train_ppl_std,train_ppl_min,train_ppl_max,val_ppl_mean,/,
  );
  assert.deepEqual(
    sortRows(points, "train_ppl", true).map((r) => r.clip),
    [1, "off"],
  );
});

Deno.test("pointRows agrees with the Markdown table's mean ± sd of every committed experiment", async () => {
  const root = new URL("../../results/", import.meta.url);
  let checked = 0;
  for await (const e of Deno.readDir(root)) {
    const dir = fileURLToPath(new URL(e.name, root));
    const read = await readResults(dir).catch(() => undefined);
    if (!read || !("results" in read) || !read.results.rows.length) continue;
    const md = await Deno.readTextFile(`${dir}/README.md`);
    // The first table after "## Results", its header left out.
    const after = md.slice(md.indexOf("## Results")).split("\n");
    const start = after.findIndex((l) => l.startsWith("| "));
    const end = after.findIndex((l, i) => i > start && !l.startsWith("| "));
    const table = after.slice(start + 1, end);
    const keys = read.results.varying_keys.length;
    const points = pointRows(read.results);
    assert.equal(points.length, table.length - 1, e.name); // less the --- line
    for (const [i, p] of points.entries()) {
      const columns = table[i + 1].slice(2, -2).split(" | ").map((c) =>
        c.replaceAll("*", "")
      );
      assert.equal(Number(columns[keys]), p.n, `${e.name} seeds`);
      for (
        const [metric, at, digits] of [
          ["train_ppl", 1, 2],
          ["val_ppl", 2, 2],
          ["best_val_ppl", 3, 2],
          ["tokens_per_sec", 4, 0],
        ] as const
      ) {
        const s = p[metric] as Spread | null;
        const shown = s === null
          ? "–"
          : fmt({ mean: s.mean, sd: s.std, n: 2 }, digits);
        const cell = columns[keys + at];
        // One value (or equal ones) is shown without its ± 0.
        assert.ok(
          cell === shown || (s?.std === 0 && shown.startsWith(`${cell} ±`)),
          `${e.name} row ${i + 1} ${metric}: ${cell} vs ${shown}`,
        );
        checked++;
      }
    }
  }
  assert.ok(checked > 100, `${checked} values checked`);
});

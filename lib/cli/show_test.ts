import assert from "node:assert/strict";
import { runTask } from "./cli_testing.ts";

Deno.test("deno task show: the committed d2l-baseline as a table, CSV and JSON; sorted and filtered; bad flags are one error", async () => {
  const table = await runTask("show", [
    "d2l-baseline",
    "--sort",
    "best_val_ppl",
  ]);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trim().split("\n");
  assert.equal(lines.length, 7, "a header and six cells");
  assert.match(lines[0], /^sampling +seed +status +train_ppl/);
  // Sorted by the full numbers (the table rounds them): the JSON's order,
  // every value a number, ascending.
  const ordered = await runTask("show", [
    "d2l-baseline",
    "--json",
    "--sort",
    "best_val_ppl",
  ]);
  assert.equal(ordered.code, 0, ordered.stderr);
  const sorted = JSON.parse(ordered.stdout) as {
    id: string;
    best_val_ppl: number;
  }[];
  const best = sorted.map((c) => c.best_val_ppl);
  assert.equal(best.length, 6);
  assert.ok(best.every((b) => typeof b === "number" && b > 0), `${best}`);
  assert.ok(best.every((b, i) => i === 0 || best[i - 1] <= b), `${best}`);
  assert.deepEqual(
    lines.slice(1).map((l) => l.trim().split(/\s+/).at(-1)),
    sorted.map((c) => c.id),
    "the table in the same order",
  );

  const csv = await runTask("show", [
    "d2l-baseline",
    "--csv",
    "--filter",
    "sampling=random",
  ]);
  assert.equal(csv.code, 0, csv.stderr);
  const rows = csv.stdout.trim().split("\n");
  assert.equal(rows.length, 4);
  assert.equal(
    rows[0],
    "sampling,seed,status,train_ppl,val_ppl,best_val_ppl,tokens_per_sec,diverged_epoch,blew_up_epoch,computed_on,id",
  );
  assert.ok(rows.slice(1).every((r) => r.startsWith("random,")));

  const json = await runTask("show", ["d2l-baseline", "--json"]);
  const cells = JSON.parse(json.stdout);
  assert.equal(cells.length, 6);
  assert.equal(typeof cells[0].best_val_ppl, "number");

  for (
    const [args, message] of [
      [
        ["d2l-baseline", "--sort", "nope"],
        /^error: --sort nope: no such column/,
      ],
      [
        ["d2l-baseline", "--filter", "seed=9"],
        /^error: --filter seed=9: no cell has it \(seed: 0, 1, 2\)/,
      ],
      [
        ["d2l-baseline", "--csv", "--json"],
        /^error: --csv and --json: choose one/,
      ],
      [["nope"], /^error: experiment nope: .*nope: no such directory/],
    ] as const
  ) {
    const r = await runTask("show", [...args]);
    assert.equal(r.code, 2, `${args}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

Deno.test("deno task show --aggregate: one row per grid point of the committed clipping-ablation, n and mean ± std (min–max), as a table, CSV and JSON; a filter selects cells first", async () => {
  const table = await runTask("show", ["clipping-ablation", "--aggregate"]);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trim().split("\n");
  assert.equal(lines.length, 9, "a header and eight points");
  assert.match(lines[0], /^clip +activation +lr +n +train_ppl +val_ppl/);
  assert.match(
    lines[1],
    /^1 +tanh +1 +3 +1\.0392 ± 0\.0019 \(1\.0370–1\.0405\)/,
  );
  const json = await runTask("show", [
    "clipping-ablation",
    "--aggregate",
    "--json",
    "--sort",
    "best_val_ppl",
  ]);
  assert.equal(json.code, 0, json.stderr);
  const points = JSON.parse(json.stdout);
  assert.equal(points.length, 8);
  for (const p of points) {
    assert.equal(p.n, 3);
    const b = p.best_val_ppl;
    assert.ok(
      b.min <= b.mean && b.mean <= b.max && b.std >= 0,
      JSON.stringify(b),
    );
  }
  const best = points.map((p: { best_val_ppl: { mean: number } }) =>
    p.best_val_ppl.mean
  );
  assert.ok(
    best.every((b: number, i: number) => i === 0 || best[i - 1] <= b),
    `${best}`,
  );
  const csv = await runTask("show", [
    "clipping-ablation",
    "--aggregate",
    "--csv",
    "--filter",
    "seed=0",
  ]);
  assert.equal(csv.code, 0, csv.stderr);
  const rows = csv.stdout.trim().split("\n");
  assert.equal(rows.length, 9);
  assert.match(
    rows[0],
    /^clip,activation,lr,n,train_ppl_mean,train_ppl_std,train_ppl_min,train_ppl_max,/,
  );
  assert.ok(
    rows.slice(1).every((r) => r.split(",")[3] === "1"),
    "one seed each",
  );
});

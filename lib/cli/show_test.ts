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

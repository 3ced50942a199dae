import assert from "node:assert/strict";
import { UserError } from "../errors.ts";
import { resolveConfig } from "../config/config.ts";
import type { ExperimentSpec } from "./spec.ts";
import {
  canonicalJson,
  cellId,
  expandConfigs,
  filterCells,
  makeCells,
  shardCells,
  varyingKeys,
} from "./grid.ts";

const spec: ExperimentSpec = {
  name: "tiny",
  description: "",
  exercises: ["4"],
  base: { num_hiddens: 8 },
  grid: { clip: [1, "off"], activation: ["tanh", "relu"], lr: [1, 2] },
  include: [{ clip: 0.5, activation: "tanh", lr: 1 }],
  exclude: [{ clip: "off", activation: "relu" }],
  seeds: [0, 1],
};

Deno.test("expansion: product + include − exclude, × seeds, overrides on top, duplicates collapsed", () => {
  const configs = expandConfigs(spec);
  // (2·2·2 − 2 excluded + 1 included) × 2 seeds
  assert.equal(configs.length, (8 - 2 + 1) * 2);
  assert.ok(configs.every((c) => c.num_hiddens === 8));
  assert.ok(!configs.some((c) => c.clip === "off" && c.activation === "relu"));
  assert.equal(configs.filter((c) => c.clip === 0.5).length, 2);
  // Overriding an axis collapses it: lr=3 everywhere leaves (4 − 1 + 1) points.
  assert.equal(expandConfigs(spec, { overrides: { lr: 3 } }).length, 4 * 2);
  assert.deepEqual(varyingKeys(configs, Object.keys(spec.grid!)), [
    "clip",
    "activation",
    "lr",
  ]);
});

Deno.test("cell ids are stable across key order and change with config, corpus or engine", async () => {
  const a = resolveConfig({ lr: 2, clip: "off" });
  const b = JSON.parse(canonicalJson(a));
  const reordered = Object.fromEntries(Object.entries(a).reverse()) as typeof a;
  assert.equal(await cellId(a, "sha"), await cellId(reordered, "sha"));
  assert.equal(await cellId(a, "sha"), await cellId(b, "sha"));
  assert.match(await cellId(a, "sha"), /^[0-9a-f]{16}$/);
  assert.notEqual(await cellId(a, "sha"), await cellId({ ...a, lr: 3 }, "sha"));
  assert.notEqual(await cellId(a, "sha"), await cellId(a, "other"));
  assert.notEqual(await cellId(a, "sha"), await cellId(a, "sha", "fused/0"));
  const reference = { ...a, engine: "reference" as const };
  assert.notEqual(await cellId(a, "sha"), await cellId(reference, "sha"));
});

Deno.test("shards partition the cells exactly; filters select by value", async () => {
  const cells = await makeCells(expandConfigs(spec), () => "sha");
  for (const n of [1, 2, 3, 5]) {
    const shards = Array.from(
      { length: n },
      (_, i) => shardCells(cells, `${i + 1}/${n}`),
    );
    const ids = shards.flat().map((c) => c.id).sort();
    assert.deepEqual(ids, cells.map((c) => c.id).sort(), `n=${n}`);
    assert.equal(new Set(ids).size, cells.length);
    assert.deepEqual(
      shardCells([...cells].reverse(), `1/${n}`),
      shards[0],
      "independent of input order",
    );
  }
  assert.throws(() => shardCells(cells, "0/3"), /--shard: expected i\/n/);
  assert.throws(() => shardCells(cells, "4/3"), /--shard/);
  assert.equal(filterCells(cells, ["clip=off"]).length, 2 * 2);
  assert.equal(filterCells(cells, ["clip=off", "seed=1"]).length, 2);
  assert.throws(
    () => filterCells(cells, ["colour=red"]),
    /--filter: colour: not a config key/,
  );
  assert.throws(
    () => filterCells(cells, ["clip"]),
    /--filter: expected key=value/,
  );
  // A selection of nothing is an error that shows what there is.
  assert.throws(
    () => filterCells(cells, ["lr=3"]),
    (e) =>
      e instanceof UserError &&
      e.message === "--filter lr=3: no cell has it (lr: 1, 2)",
  );
  assert.throws(
    () => filterCells(cells, ["clip=off", "activation=relu"]),
    /: --filter clip=off --filter activation=relu: no cell has all of them$/,
  );
});

Deno.test("letters: ascii, the book's default, leaves the config as it was (so every stored id stays); unicode is a key of its own", async () => {
  const sha1 = "090b5e7e70c295757f55df93cb0a180b9691891a";
  assert.deepEqual(resolveConfig({ letters: "ascii" }), resolveConfig({}));
  assert.ok(!("letters" in resolveConfig({})));
  // The chapter's cell as results/d2l-baseline stores it.
  assert.equal(
    await cellId(resolveConfig({ letters: "ascii" }), sha1),
    "36fe10a4dbedc37c",
  );
  const unicode = resolveConfig({ letters: "unicode" });
  assert.equal(unicode.letters, "unicode");
  assert.notEqual(await cellId(unicode, sha1), "36fe10a4dbedc37c");
  assert.throws(
    () => resolveConfig({ letters: "latin" }, "flags"),
    /^UserError: flags: letters: .*\(got "latin"\)$/,
  );
});

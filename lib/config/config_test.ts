import assert from "node:assert/strict";
import { UserError } from "../errors.ts";
import {
  CONFIG_KEYS,
  KEYS,
  leavesEngine,
  parseFlagValue,
  resolveConfig,
} from "./config.ts";

Deno.test("resolveConfig fills in the chapter's defaults", () => {
  const c = resolveConfig({});
  assert.deepEqual(
    [
      c.num_hiddens,
      c.num_steps,
      c.batch_size,
      c.lr,
      c.num_epochs,
      c.max_tokens,
      c.clip,
    ],
    [512, 35, 32, 1, 500, 10_000, 1],
  );
  assert.deepEqual([
    c.activation,
    c.sampling,
    c.detach,
    c.input,
    c.corpus,
    c.backend,
  ], [
    "tanh",
    "sequential",
    true,
    "one_hot",
    "timemachine",
    "webgpu",
  ]);
  assert.ok(
    CONFIG_KEYS.includes("num_hiddens") && CONFIG_KEYS.includes("clip"),
  );
});

Deno.test("bad config values give one error naming where, the key and the value", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ lr: -1 }, /^flags: lr: .*\(got -1\)/],
    [{ num_steps: 0 }, /^flags: num_steps: .*\(got 0\)/],
    [{ num_hiddens: 2.5 }, /^flags: num_hiddens: .*\(got 2\.5\)/],
    [
      { clip: "sometimes" },
      /^flags: clip: expected a number > 0 or "off" \(got "sometimes"\)/,
    ],
    [
      { activation: "sigmoid" },
      /^flags: activation: .*"tanh".*\(got "sigmoid"\)/,
    ],
    [{ hidden: 3 }, /^flags: unknown key "hidden" \(known keys: num_hiddens,/],
    [
      { detach: false, sampling: "random" },
      /^flags: detach: false needs sampling: sequential/,
    ],
  ];
  for (const [partial, message] of cases) {
    assert.throws(
      () => resolveConfig(partial, "flags"),
      (e) => e instanceof UserError && message.test(e.message),
    );
  }
});

Deno.test("parseFlagValue turns flag strings into the values each key expects", () => {
  assert.equal(parseFlagValue("lr", "0.5"), 0.5);
  assert.equal(parseFlagValue("lr", "fast"), "fast"); // left for the schema to reject by name
  assert.equal(parseFlagValue("num_steps", ""), "");
  assert.equal(parseFlagValue("clip", "off"), "off");
  assert.equal(parseFlagValue("clip", "2"), 2);
  assert.equal(parseFlagValue("detach", "false"), false);
  assert.equal(parseFlagValue("detach", "no"), "no");
  assert.equal(parseFlagValue("corpus", "123"), "123");
});

Deno.test("engine: fused by default on webgpu, reference elsewhere; fused off WebGPU is refused by name", () => {
  assert.equal(resolveConfig({}).engine, "fused");
  assert.equal(resolveConfig({ backend: "wasm" }).engine, "reference");
  assert.equal(
    resolveConfig({ engine: "reference" }).engine,
    "reference",
  );
  assert.throws(
    () => resolveConfig({ backend: "cpu", engine: "fused" }, "flags"),
    (e) =>
      e instanceof UserError &&
      /^flags: engine: fused runs on WebGPU only.*\(got "fused"\)$/.test(
        e.message,
      ),
  );
  assert.throws(
    () => resolveConfig({ engine: "turbo" }, "flags"),
    (e) => e instanceof UserError && /engine.*"turbo"/.test(e.message),
  );
});

Deno.test("engine and backend: one named gives the other; neither named is the machine's pick, and only its engine and backend", () => {
  assert.deepEqual(
    [
      resolveConfig({ engine: "blas" }).engine,
      resolveConfig({ engine: "blas" }).backend,
    ],
    ["blas", "cpu"],
  );
  assert.equal(
    resolveConfig({ engine: "blas", backend: "wasm" }).backend,
    "wasm",
  );
  assert.equal(resolveConfig({ engine: "reference" }).backend, "webgpu");
  const machine = { engine: "blas", backend: "cpu", why: "OpenBLAS" } as const;
  const picked = resolveConfig({ lr: 2 }, "flags", machine);
  assert.deepEqual([picked.engine, picked.backend], ["blas", "cpu"]);
  assert.ok(!("why" in picked), "the pick's reason is not config");
  // A config that names either is not the machine's to change.
  assert.equal(
    resolveConfig({ backend: "webgpu" }, "x", machine).engine,
    "fused",
  );
  assert.equal(
    resolveConfig({ engine: "fused" }, "x", machine).backend,
    "webgpu",
  );
  assert.equal(leavesEngine({ lr: 2 }), true);
  assert.equal(leavesEngine({ backend: "wasm" }), false);
  assert.equal(leavesEngine({ engine: "blas" }), false);
});

Deno.test("a key is one entry: a toy key added to the table is validated, defaulted, a flag with help, read from its text, and a column where it varies", async () => {
  const { Command } = await import("commander");
  const { int } = await import("./key.ts");
  const { KEYS, configOf } = await import("./config.ts");
  const { varyingKeys } = await import("../experiment/grid.ts");
  const toy = configOf({
    ...KEYS,
    toy: int({ default: 3, min: 1, unit: "toys", help: "a toy key" }),
  });
  assert.equal(toy.names.at(-1), "toy");
  const c = toy.resolve({});
  const n: number = c.toy; // the type has it, as a number
  assert.equal(n, 3);
  assert.equal(toy.resolve({ toy: 7 }).toy, 7);
  assert.throws(
    () => toy.resolve({ toy: 0 }, "flags"),
    (e) =>
      e instanceof UserError && /^flags: toy: .*\(got 0\)$/.test(e.message),
  );
  assert.throws(
    () => toy.resolve({ toys: 1 }, "flags"),
    (e) =>
      e instanceof UserError && /unknown key "toys" .*, toy\)$/.test(e.message),
  );
  assert.equal(toy.parseFlag("toy", "5"), 5);
  assert.equal(toy.parseFlag("toy", "five"), "five");
  const flag = toy.flags().find((f) => f.flag === "--toy <value>");
  assert.deepEqual(flag, {
    flag: "--toy <value>",
    help: "a toy key: <n> (default 3)",
  });
  const program = new Command().exitOverride();
  for (const { flag, help } of toy.flags()) program.option(flag, help);
  program.parse(["--toy", "9"], { from: "user" });
  const given = program.opts<Record<string, string>>();
  assert.equal(toy.resolve({ toy: toy.parseFlag("toy", given.toy) }).toy, 9);
  assert.match(
    program.helpInformation(),
    /--toy <value> +a toy key: <n> \(default 3\)/,
  );
  // A grid over it: the key is a column of the tables.
  const configs = [toy.resolve({ toy: 1 }), toy.resolve({ toy: 2 })];
  assert.deepEqual(varyingKeys(configs as never), ["toy"]);
  // rnnlab's own table has no such key.
  assert.throws(() => resolveConfig({ toy: 1 }), UserError);
});

Deno.test("the README's flag table of deno task train has every config key, with its default", async () => {
  const readme = await Deno.readTextFile(
    new URL("../../README.md", import.meta.url),
  );
  const rows = new Map(
    [...readme.matchAll(/^\| `--(\w+)` +\| ([^|]*?) +\|/gm)].map((
      m,
    ) => [m[1], m[2]]),
  );
  for (const name of CONFIG_KEYS) {
    const key = KEYS[name];
    assert.ok(rows.has(name), `README: no row for --${name}`);
    const shown = key.default === undefined
      ? "see meaning"
      : String(key.default);
    assert.equal(rows.get(name), shown, `README: --${name}'s default`);
  }
});

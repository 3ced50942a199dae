import assert from "node:assert/strict";
import { loadCorpus } from "../data/vocab.ts";
import { describeCorpus } from "../data/describe.ts";
import { resolveConfig } from "../config/config.ts";
import { train_ch8 } from "../train/train.ts";
import { PASSAGE } from "../data/testdata.ts";
import { nextUp } from "../testing.ts";
import { type CellRecord, recordHeader } from "./cell.ts";
import { compareCells } from "./compare.ts";
import { fixtureEnv } from "./testing.ts";

/** A real run's record: every field a cell has, filled in by training. */
async function record(): Promise<CellRecord> {
  const config = resolveConfig({
    engine: "reference",
    backend: "cpu",
    num_hiddens: 8,
    num_steps: 5,
    batch_size: 4,
    num_epochs: 3,
    max_tokens: 250,
    val_tokens: 60,
    eval_every: 2,
    num_preds: 8,
  });
  const corpus = loadCorpus(PASSAGE, config.max_tokens, config.val_tokens);
  const result = await train_ch8(config, corpus, { sample_alphas: [2] });
  assert.equal(result.status, "done");
  const cell = { id: "0123456789abcdef", config, point: {}, also: [] };
  return {
    ...recordHeader({
      experiment: "fixture",
      cells: [cell],
      overrides: {},
      alphas: [2],
      source: {},
    }, cell),
    ...result,
    corpus: describeCorpus(
      { name: "passage", source: "x", sha1: "s".repeat(40), text: PASSAGE },
      corpus,
    ),
    env: fixtureEnv("llvmpipe"),
  };
}

type Path = (string | number)[];

/** Every leaf of a value, with its path. */
function leaves(value: unknown, path: Path = []): [Path, unknown][] {
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) =>
      leaves(v, [...path, Array.isArray(value) ? Number(k) : k])
    );
  }
  return [[path, value]];
}

/** What a record holds that is no result: times, where it ran, how it is filed. */
const ASIDE =
  /^(schema|config|experiment|point|overrides|env)(\.|$)|^(wall_seconds|tokens_per_sec)$|^epochs\.\d+\.(seconds|tokens_per_sec)$|^corpus\.source$/;
/^(schema|id|config|experiment|point|overrides|env|wall_seconds|tokens_per_sec)$|^epochs\.\d+\.(seconds|tokens_per_sec)$|^corpus\.source$/;

/** The name compareCells gives the quantity at `path`. */
function quantity(r: CellRecord, path: Path): string {
  if (path[0] === "samples") {
    const s = r.samples[path[1] as number];
    return `samples[${s.decoding}${
      s.alpha === undefined ? "" : ` α=${s.alpha}`
    } ${JSON.stringify(s.prefix)}].${path[2]}`;
  }
  return path.filter((p) => typeof p === "string").join(".");
}

/** `r` with the value at `path` replaced by `f` of it. */
function changed(r: CellRecord, path: Path, f: (v: unknown) => unknown) {
  const copy = structuredClone(r) as unknown as Record<
    string | number,
    unknown
  >;
  let at = copy;
  for (const p of path.slice(0, -1)) at = at[p] as typeof at;
  at[path.at(-1)!] = f(at[path.at(-1)!]);
  return copy as unknown as CellRecord;
}

Deno.test("compareCells compares every number and text of a cell: one unit in the last place of any one is a difference at tolerance 0; times and environment are not", async () => {
  const r = await record();
  const all = leaves(r);
  // The record has what this test is about.
  for (
    const name of [
      "epochs.grad_norm_mean",
      "epochs.clipped_fraction",
      "val_ppl.ppl",
      "final.best_val_ppl",
      "grad_norm.clipped_fraction",
      "onehot_as_embedding",
      "epochs.sample",
      "corpus.dropped_letters.count",
    ]
  ) {
    assert.ok(all.some(([p]) => quantity(r, p) === name), name);
  }
  assert.ok(all.some(([p]) => p.at(-1) === "mean_log_prob"));
  assert.ok(compareCells([r], [structuredClone(r)], 0).ok, "itself");
  let numbers = 0, texts = 0;
  for (const [path, value] of all) {
    const where = path.join(".");
    if (where === "id") {
      // The id is what pairs the cells: another is another cell.
      const c = compareCells([r], [changed(r, path, () => "f".repeat(16))], 0);
      assert.deepEqual([c.ok, c.onlyA, c.deltas.length], [false, [r.id], 0]);
      continue;
    }
    const other = changed(
      r,
      path,
      (v) =>
        typeof v === "number"
          ? nextUp(v)
          : typeof v === "string"
          ? `${v}!`
          : typeof v === "boolean"
          ? !v
          : 1,
    );
    const c = compareCells([r], [other], 0);
    if (ASIDE.test(where)) {
      assert.ok(c.ok, `${where} is set aside`);
      continue;
    }
    assert.ok(!c.ok, `a change of ${where} (${value}) went unnoticed`);
    if (
      path[0] === "samples" && typeof path[2] === "string" &&
      ["prefix", "decoding", "alpha"].includes(path[2])
    ) {
      continue; // what names the sample: it is another sample now
    }
    assert.deepEqual(
      c.deltas.filter((d) => !d.ok).map((d) => d.metric),
      [quantity(r, path)],
      where,
    );
    if (typeof value === "number") numbers++;
    else texts++;
  }
  assert.ok(numbers > 30 && texts > 5, `${numbers} numbers, ${texts} others`);
  // With a tolerance, numbers may differ a little and texts with them.
  const near = changed(
    r,
    ["epochs", 1, "train_ppl"],
    (v) => nextUp(v as number),
  );
  assert.ok(compareCells([r], [near], 1e-12).ok);
  const retold = changed(r, ["samples", 0, "text"], (v) => `${v}!`);
  assert.ok(compareCells([r], [retold], 1e-12).ok);
  assert.ok(!compareCells([r], [retold], 0).ok);
});

import assert from "node:assert/strict";
import { DASHES, groupRows, lineStyles, palette } from "./groups.ts";
import type { Row } from "./table.ts";

/** A cell row as the page builds it. */
const row = (
  point: Record<string, unknown>,
  seed: number,
  train: number[],
  status = "done",
): Row => ({
  ...point,
  seed,
  status,
  train_ppl: train.at(-1) ?? null,
  val_ppl: train.at(-1)! * 2,
  best_val_ppl: Math.min(...train) * 2,
  tokens_per_sec: 1000 + seed,
  blew_up_epoch: null,
  _id: `${JSON.stringify(point)}${seed}`,
  _label: `${JSON.stringify(point)} seed=${seed}`,
  _train: train,
  _val: train.map((p, i) => [i + 1, p * 2] as [number, number]),
  _running: false,
  _config: { ...point, seed },
});

Deno.test("groupRows: a group per grid point, its metrics over the finished seeds (sample std), its curves as mean ± std per epoch", () => {
  const rows = [
    row({ lr: 1 }, 0, [9, 4, 2]),
    row({ lr: 2 }, 0, [9, 40]),
    row({ lr: 1 }, 1, [9, 4, 4]),
    row({ lr: 1 }, 2, [9, 5], "diverged"),
  ];
  const [one, two] = groupRows(rows, ["lr"], 28);
  assert.equal(one.label, "lr=1");
  assert.deepEqual(one.rows.map((r) => r.seed), [0, 1, 2]);
  assert.deepEqual(one.metrics.train_ppl, {
    mean: 3,
    std: Math.SQRT2,
    min: 2,
    max: 4,
    n: 2,
  });
  assert.equal(one.metrics.tokens_per_sec!.n, 3, "throughput of every run");
  assert.equal(one.diverged, 1);
  // Epoch 3 has two seeds (the diverged one stopped at 2): mean 3, std √2,
  // the band kept within the seeds' own range.
  assert.deepEqual(one.train[2], { epoch: 3, mean: 3, lo: 2, hi: 4 });
  assert.deepEqual(one.train[0], { epoch: 1, mean: 9, lo: 9, hi: 9 });
  // A finished run above the vocabulary size counts as diverged.
  assert.equal(two.diverged, 1);
});

Deno.test("lineStyles: a colour per value of one key and a dash per combination of the others but the split key; never two lines alike in a figure; more combinations than dashes give every line its own colour", () => {
  const points = [];
  for (const clip of [1, "off"]) {
    for (const activation of ["tanh", "relu"]) {
      for (const lr of [1, 2]) points.push({ clip, activation, lr });
    }
  }
  const keys = ["clip", "activation", "lr"];
  const groups = groupRows(points.map((p) => row(p, 0, [3, 2])), keys);
  const looks = (colour: string | null, facet: string | null) => {
    const styles = lineStyles(groups, keys, colour, facet);
    const byFacet = new Map<unknown, string[]>();
    for (const g of groups) {
      const f = facet ? g.point[facet] : "";
      const s = styles.get(g.label)!;
      byFacet.set(f, [...byFacet.get(f) ?? [], `${s.colour}|${s.dash}`]);
    }
    return [...byFacet.values()];
  };
  for (
    const [colour, facet] of [
      [null, null],
      ["activation", null],
      ["activation", "clip"],
      ["lr", "activation"],
    ] as const
  ) {
    for (const figure of looks(colour, facet)) {
      assert.equal(
        new Set(figure).size,
        figure.length,
        `${colour} ${facet}: ${figure}`,
      );
    }
  }
  const styles = lineStyles(groups, keys, "activation", "clip");
  assert.deepEqual(
    [...new Set([...styles.values()].map((s) => s.colour))].sort(),
    ["activation=relu", "activation=tanh"],
  );
  // Nine values of a key beside the colour's: more than the dashes.
  const many = groupRows(
    Array.from(
      { length: 2 * (DASHES.length + 1) },
      (_, i) => row({ a: i % 2, b: Math.floor(i / 2) }, 0, [2]),
    ),
    ["a", "b"],
  );
  const own = lineStyles(many, ["a", "b"], "a", null);
  assert.equal(
    new Set([...own.values()].map((s) => s.colour)).size,
    many.length,
  );
  assert.equal(new Set(palette(30)).size, 30);
  assert.equal(new Set(palette(7)).size, 7);
});

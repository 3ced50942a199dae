import assert from "node:assert/strict";
import type { EpochLog } from "../train/result.ts";
import {
  type Displayable,
  LiveFigure,
  type MediaBundle,
  table,
} from "./display.ts";

const bundle = (d: Displayable): MediaBundle =>
  d[Symbol.for("Jupyter.display")]();

Deno.test("table: Markdown for the notebook, aligned text elsewhere; numbers to 4 digits, | escaped, null as –", () => {
  const b = bundle(table([
    { point: "clip=1", ppl: 8.4712, n: 3, note: "a|b" },
    { point: "clip=off", ppl: 0.01, n: 12, note: null },
  ]));
  assert.equal(
    b["text/markdown"],
    [
      "| point | ppl | n | note |",
      "| --- | --- | --- | --- |",
      "| clip=1 | 8.471 | 3 | a\\|b |",
      "| clip=off | 0.01 | 12 | – |",
    ].join("\n"),
  );
  assert.equal(
    b["text/plain"],
    [
      "point     ppl    n   note",
      "clip=1    8.471  3   a|b",
      "clip=off  0.01   12  –",
    ].join("\n"),
  );
});

Deno.test("LiveFigure: drawn in place, in order, every `every` epochs and once at the end, with every epoch", async () => {
  const shown: { svg: string; plain: string; update: boolean }[] = [];
  const live = new LiveFigure(
    { id: "run", point: { sampling: "random" }, seed: 0, vocab_size: 28 },
    async (b, update) => {
      // A slow front end: drawings must still arrive one at a time, in order.
      await new Promise((r) => setTimeout(r, shown.length ? 0 : 50));
      shown.push({ svg: b["image/svg+xml"], plain: b["text/plain"], update });
    },
    2,
  );
  const log = (epoch: number): EpochLog => ({
    epoch,
    train_ppl: 30 - epoch,
    tokens_per_sec: 1,
    seconds: 1,
    grad_norm_mean: 1,
    grad_norm_max: 1,
    clipped_fraction: 0,
    ...(epoch === 5 ? { val_ppl: 20 } : {}),
  });
  for (let e = 1; e <= 5; e++) live.onEpoch(log(e));
  await live.done();
  assert.deepEqual(shown.map((s) => s.update), [false, true, true]);
  // Each drawing holds the epochs up to its own (2, 4, then all 5), not
  // the run as it is when the drawing happens.
  assert.ok(shown.every((s) => s.svg.startsWith("<svg")), "SVG drawn");
  assert.deepEqual(shown.map((s) => s.plain), [
    "training perplexity of 1 run, to epoch 2",
    "training perplexity of 1 run, to epoch 4",
    "training perplexity of 1 run, to epoch 5",
  ]);
});

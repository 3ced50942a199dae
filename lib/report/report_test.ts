import assert from "node:assert/strict";
import { XMLValidator } from "fast-xml-parser";
import type { CellRecord } from "../experiment/cell.ts";
import type { ExperimentSpec } from "../experiment/spec.ts";
import { fixtureCell, fixtureEnv, spec } from "../experiment/testing.ts";
import { blowUpEpoch, divergedText, summarize } from "./aggregate.ts";
import { cellRows } from "./show.ts";
import { buildResults, renderMarkdown, writeReport } from "./report.ts";
import {
  figureData,
  perplexitySvg,
  pointLabel,
  pointValue,
  runOf,
} from "./plot.ts";
import { compareCells, formatComparison } from "./compare.ts";

const cells = [
  fixtureCell({ clip: 1, seed: 0 }, [20, 10, 5]),
  fixtureCell({ clip: 1, seed: 1 }, [20, 12, 7]),
  fixtureCell({ clip: "off", seed: 0 }, [20, 30], "diverged"),
  fixtureCell({ clip: "off", seed: 1 }, [20, 15, 9]),
];

Deno.test("summary rows: mean ± sd over seeds of finished cells, divergences counted, best marked", () => {
  const rows = summarize(buildResults(spec, cells, {}).cells);
  assert.equal(rows.length, 2);
  const [on, off] = rows;
  assert.deepEqual(on.point, { clip: 1 });
  assert.equal(on.final_train_ppl!.mean, 6);
  assert.ok(Math.abs(on.final_train_ppl!.sd - Math.SQRT2) < 1e-12);
  assert.equal(
    off.final_train_ppl!.n,
    1,
    "the diverged cell is left out of the mean",
  );
  assert.equal(off.diverged, 1);
  assert.equal(on.clipped_pct!.mean, 25);
  assert.ok(on.best && !off.best);
});

Deno.test("a finished cell worse than a uniform guess counts as diverged; ★ goes to the lowest best validation perplexity", () => {
  const withVocab = (c: CellRecord, size: number): CellRecord => ({
    ...c,
    corpus: { ...c.corpus, vocab: Array.from({ length: size }, String) },
  });
  const rows = summarize([
    // Clipped: best validation 7.5 early, memorised to 30 by the end.
    withVocab(fixtureCell({ clip: 1 }, [5, 20]), 28),
    // Unclipped: blew up to 1e50 (finite), though its best validation is 15.
    withVocab(fixtureCell({ clip: "off" }, [10, 1e50]), 28),
  ]);
  const [on, off] = rows;
  assert.equal(on.diverged, 0);
  assert.equal(off.diverged, 1, "final train ppl 1e50 > 28 tokens");
  assert.equal(off.final_train_ppl!.n, 1, "a finite blow-up stays in");
  assert.ok(on.best && !off.best);
  // Best validation 7.5 (final 30) beats best 12 (final 18).
  const [early, steady] = summarize([
    fixtureCell({ clip: 1 }, [5, 20]),
    fixtureCell({ clip: "off" }, [8, 12]),
  ]);
  assert.ok(early.best && !steady.best);
  // Without a vocabulary (old records) only a non-finite loss counts.
  assert.equal(
    summarize([fixtureCell({ clip: "off" }, [10, 1e50])])[0].diverged,
    0,
  );
});

Deno.test("the Markdown report has the exercise, the command, the environment, one row per grid point and the figures", () => {
  const md = renderMarkdown(buildResults(spec, cells, {}));
  assert.match(md, /^# fixture$/m);
  assert.match(md, /\*\*Exercise:\*\* 4\. No clipping\?/);
  assert.match(md, /^deno task exp fixture$/m);
  assert.match(md, /backend: webgpu \(llvmpipe\)/);
  assert.match(md, /^\| clip \| seeds \| train ppl \| val ppl \|/m);
  assert.match(
    md,
    /^\| ★ 1 \| 2 \| 6\.00 ± 1\.41 \| 9\.00 ± 2\.12 \| \*\*9\.00 ± 2\.12\*\* \|/m,
  );
  assert.match(
    md,
    /^\| off \| 2 \| 9\.00 \| 13\.50 \| .* \| 1\/2 \(epoch 3\) \|$/m,
  );
  assert.match(md, /`time traveller seed0`/);
  assert.match(md, /!\[Training perplexity per epoch\]\(train_ppl\.svg\)/);
  // A run that blew up shows its numbers in exponent form.
  const exploded = renderMarkdown(
    buildResults(spec, [
      fixtureCell({ clip: 1 }, [20, 5]),
      fixtureCell({ clip: "off" }, [20, 3e57]),
    ], {}),
  );
  assert.match(exploded, /^\| off \| 1 \| 3\.00e\+57 \| 4\.50e\+57 \|/m);
  const overridden = renderMarkdown(
    buildResults(spec, cells, { num_epochs: 5 }),
  );
  assert.match(overridden, /^deno task exp fixture --set num_epochs=5$/m);
  assert.match(overridden, /Overrides \(--set\): num_epochs=5/);
  assert.doesNotMatch(md, /## Reading/);
  const read = renderMarkdown(
    buildResults({ ...spec, reading: "Clipping kept it alive." }, cells, {}),
  );
  assert.match(read, /^## Reading\n\nClipping kept it alive\.$/m);
});

Deno.test("SVG curves are valid XML: a thin line per cell and a mean line per grid point where seeds repeat it", async () => {
  for (const metric of ["train", "val"] as const) {
    const svg = await perplexitySvg(cells, metric);
    assert.equal(XMLValidator.validate(svg), true);
    assert.equal(
      svg.match(/aria-roledescription="line mark"/g)?.length,
      cells.length + 2,
      metric,
    );
    assert.match(svg, /lines: mean over seeds/);
  }
});

Deno.test("figureData: runs that blow up leave the plot at twice the vocabulary, marked where they do; bands only where seeds repeat and stay in", () => {
  const withVocab = (c: ReturnType<typeof fixtureCell>) => ({
    ...c,
    corpus: { ...c.corpus, vocab: Array.from({ length: 28 }, String) },
  });
  const tame = [
    withVocab(fixtureCell({ clip: 1, seed: 0 }, [20, 10, 5])),
    withVocab(fixtureCell({ clip: 1, seed: 1 }, [20, 12, 7])),
  ];
  const calm = figureData(tame.map(runOf), "train");
  assert.equal(calm.ceiling, null, "nothing above 56: the axis is free");
  assert.deepEqual(calm.exits, []);
  const mean = calm.means.find((m) => m.epoch === 3)!;
  assert.ok(Math.abs(mean.mean - Math.sqrt(35)) < 1e-12, "geometric mean");
  assert.ok(mean.lo < mean.mean && mean.mean < mean.hi && mean.band);
  const wild = figureData(
    [
      ...tame,
      withVocab(fixtureCell({ clip: "off", seed: 0 }, [20, 9e40, 3e90])),
      withVocab(fixtureCell({ clip: "off", seed: 1 }, [20, 30, 40])),
    ].map(runOf),
    "train",
  );
  assert.equal(wild.ceiling, 56);
  assert.deepEqual(wild.exits, [{ epoch: 2, ppl: 56, point: "clip=off" }]);
  assert.equal(
    wild.means.find((m) => m.point === "clip=off" && m.epoch === 2)!.band,
    false,
    "no band where a seed left the plot",
  );
});

Deno.test("writeReport writes results.json, README.md and both SVGs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeReport(dir, buildResults(spec, cells, {}));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "README.md",
      "results.json",
      "train_ppl.svg",
      "val_ppl.svg",
    ]);
    const results = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
    assert.equal(results.schema, "rnnlab.results/2");
    assert.deepEqual(results.cells, cells.map((c) => c.id), "cells by id");
    assert.deepEqual(results.varying_keys, ["clip"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compare detects a changed number or text and passes identical sets", () => {
  assert.ok(compareCells(cells, structuredClone(cells), 0).ok);
  const changed = structuredClone(cells);
  changed[1].train_ppl[1] *= 1 + 1e-5;
  const c = compareCells(cells, changed, 1e-6);
  assert.ok(!c.ok);
  assert.deepEqual(c.deltas.filter((d) => !d.ok).map((d) => [d.id, d.metric]), [
    [cells[1].id, "train_ppl"],
  ]);
  assert.ok(compareCells(cells, changed, 1e-4).ok, "within a looser tolerance");
  const missing = compareCells(cells, cells.slice(1), 0);
  assert.ok(!missing.ok);
  assert.deepEqual(missing.onlyA, [cells[0].id]);
  assert.ok(compareCells(cells, cells.slice(1), 0, { subset: true }).ok);
  const retold = structuredClone(cells);
  retold[0].samples[0].text += "!";
  assert.deepEqual(
    compareCells(cells, retold, 0).deltas.filter((d) => !d.ok).map((d) =>
      d.metric
    ),
    ['samples[greedy "time traveller"].text'],
  );
  assert.ok(compareCells(cells, retold, 1e-6).ok, "texts may differ off 0");
});

Deno.test("a grid over input modes reports exercise 1's check from the one-hot cells", () => {
  const byInput: ExperimentSpec = {
    ...spec,
    grid: { input: ["one_hot", "embedding"] },
  };
  const cells = (["one_hot", "embedding"] as const).map((input) => {
    const c = fixtureCell({ input }, [5, 3]);
    c.point = { input };
    c.corpus.vocab = [..."abcdefg"];
    if (input === "one_hot") c.onehot_as_embedding = 2.5e-7;
    return c;
  });
  const md = renderMarkdown(buildResults(byInput, cells, {}));
  assert.match(
    md,
    /Exercise 1, checked\.\*\* .*\(1 cell\).*W_embed = I \(7 × 7\).*\|Δ logit\| 2\.5e-7\./s,
  );
  // Without an input axis, no such paragraph.
  assert.doesNotMatch(
    renderMarkdown(buildResults(spec, [fixtureCell({}, [5, 3])], {})),
    /Exercise 1, checked/,
  );
});

Deno.test("a grid point's label and table values leave out embed_size with one-hot inputs", () => {
  const onehot = { input: "one_hot", embed_size: 32 };
  const embedding = { input: "embedding", embed_size: 8 };
  assert.equal(pointLabel(onehot), "input=one_hot");
  assert.equal(pointLabel(embedding), "input=embedding embed_size=8");
  assert.equal(pointValue(onehot, "embed_size"), "–");
  assert.equal(pointValue(embedding, "embed_size"), "8");
});

Deno.test("a table of cells from two adapters says per row what each ran on", () => {
  const gpu = fixtureCell({ clip: "off", seed: 0 }, [20, 15, 9]);
  gpu.env = fixtureEnv("NVIDIA H200");
  const one = renderMarkdown(buildResults(spec, cells, {}));
  assert.doesNotMatch(one, /computed on/, "one adapter: no column");
  const two = renderMarkdown(
    buildResults(spec, [cells[0], cells[1], gpu, cells[3]], {}),
  );
  assert.match(two, /\| diverged \| computed on \|$/m);
  assert.match(two, /^\| ★ 1 \| 2 \| .* \| webgpu \(llvmpipe\) \|$/m);
  assert.match(
    two,
    /^\| off \| 2 \| .* \| webgpu \(NVIDIA H200\); webgpu \(llvmpipe\) \|$/m,
  );
});

Deno.test("formatComparison: a line per cell with its largest relative difference, even when it is 0, and a line per difference", () => {
  const same = formatComparison(
    compareCells(cells, structuredClone(cells), 0),
    ["a", "b"],
    0,
  );
  assert.match(
    same,
    new RegExp(
      `^  ${cells[0].id} .* seed=0: \\d+ quantities, largest rel 0\\.00e\\+0$`,
      "m",
    ),
  );
  assert.match(same, /^same: (\d+) of \1 values within tolerance$/m);
  const changed = structuredClone(cells);
  changed[1].train_ppl[0] *= 1 + 1e-9;
  const text = formatComparison(compareCells(cells, changed, 0), ["a", "b"], 0);
  assert.match(
    text,
    new RegExp(
      `^✗ ${
        cells[1].id
      } .*  train_ppl: \\d+ vs \\d+ values  \\(rel 1\\.00e-9\\)$`,
      "m",
    ),
  );
  assert.match(text, /^DIFFERENT: /m);
});

Deno.test("a blow-up is named with its epoch: training perplexity above the vocabulary size after having been below it, or a non-finite loss; in the table and in show's columns", () => {
  const vocab = Array.from({ length: 28 }, (_, i) => String(i));
  const withVocab = (c: CellRecord) => ({
    ...c,
    corpus: { ...c.corpus, vocab },
  });
  const blew = withVocab(
    fixtureCell({ clip: "off", seed: 0 }, [20, 5, 4, 4.4e22, 3e30]),
  );
  // Above 28 from the start and never below: no epoch to name.
  const never = withVocab(fixtureCell({ clip: "off", seed: 1 }, [40, 35, 30]));
  const fine = withVocab(fixtureCell({ clip: 1, seed: 0 }, [30, 20, 5]));
  const nan = withVocab(
    fixtureCell({ clip: 1, seed: 1 }, [20, 10], "diverged"),
  );
  assert.equal(blowUpEpoch(blew), 4);
  assert.equal(blowUpEpoch(never), null);
  assert.equal(blowUpEpoch(fine), null);
  assert.equal(blowUpEpoch(nan), 3);
  const results = buildResults(spec, [blew, never, fine, nan], {});
  const [off, on] = summarize(results.cells);
  assert.deepEqual(off.blew_up_at, [4]);
  assert.equal(divergedText(off), "2/2 (epoch 4)");
  assert.equal(divergedText(on), "1/2 (epoch 3)");
  assert.match(renderMarkdown(results), /\| 2\/2 \(epoch 4\) \|/);
  assert.deepEqual(
    cellRows(results).map((r) => r.blew_up_epoch),
    results.cells.map((c) => c.id === blew.id ? 4 : c.id === nan.id ? 3 : null),
  );
});

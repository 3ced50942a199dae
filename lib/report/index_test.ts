import assert from "node:assert/strict";
import type { ExperimentSpec } from "../experiment/spec.ts";
import { buildResults } from "./report.ts";
import { refreshIndex, renderIndex } from "./index.ts";
import { fixtureCell, spec as fixture } from "../experiment/testing.ts";

const spec: ExperimentSpec = { ...fixture, reading: "Clipping wins here." };

Deno.test("renderIndex: each experiment's exercise, command, headline numbers from its results, and reading", () => {
  const cells = [
    fixtureCell({ clip: 1, seed: 0 }, [9, 4, 2]),
    fixtureCell({ clip: 1, seed: 1 }, [9, 4, 4]),
    fixtureCell({ clip: "off", seed: 0 }, [9, 30], "diverged"),
  ];
  const md = renderIndex([
    { spec, planned: 4, results: buildResults(spec, cells, {}) },
    {
      spec: { ...spec, name: "later", reading: undefined },
      planned: 6,
      results: null,
    },
  ]);
  assert.match(md, /## \[fixture\]\(fixture\/README\.md\)/);
  assert.match(md, /> 4\. No clipping\?/);
  assert.match(md, /deno task exp fixture\n/);
  assert.match(md, /3 of 4 cells stored \(the rest not run yet\)/);
  // Train ppl 2 and 4 → 3.00 ± 1.41; validation is 1.5× the curve.
  assert.match(
    md,
    /\| ★ clip=1 \| 0, 1 \| 3\.00 ± 1\.41 \| 4\.50 ± 2\.12 \| 4\.50 ± 2\.12 \| 0\/2 \|/,
  );
  assert.match(md, /\| clip=off \| 0 \| – \| – \| – \| 1\/1 \(epoch 3\) \|/);
  assert.match(md, /\*\*Reading\.\*\* Clipping wins here\./);
  // Not run: no link to a report that does not exist, and no table.
  assert.match(md, /## later\n/);
  assert.match(md, /Not run yet \(6 cells\)\./);
});

Deno.test("refreshIndex: a broken experiment file or a damaged results.json is left out with a warning; the others are indexed", async () => {
  const root = await Deno.makeTempDir({ prefix: "rnnlab-index-" });
  try {
    const experiments = `${root}/experiments`, results = `${root}/results`;
    await Deno.mkdir(experiments);
    await Deno.mkdir(`${results}/damaged`, { recursive: true });
    const good = (name: string) =>
      `export default ${
        JSON.stringify({ ...fixture, name, reading: undefined })
      };\n`;
    await Deno.writeTextFile(`${experiments}/good.ts`, good("good"));
    await Deno.writeTextFile(`${experiments}/damaged.ts`, good("damaged"));
    await Deno.writeTextFile(`${experiments}/broken.ts`, "export default {");
    await Deno.writeTextFile(`${experiments}/noexport.ts`, "export {};\n");
    await Deno.writeTextFile(`${results}/damaged/results.json`, "{ trunc");
    const warnings = await refreshIndex(results, experiments);
    assert.equal(warnings.length, 3, warnings.join("\n"));
    assert.match(
      warnings[0],
      /^warning: .*broken\.ts: cannot be loaded.*; left out of the index$/,
    );
    assert.match(
      warnings[1],
      /^warning: .*damaged\/results\.json: .*; its results left out of the index$/,
    );
    assert.match(
      warnings[2],
      /^warning: .*noexport\.ts: no default export.*; left out of the index$/,
    );
    const md = await Deno.readTextFile(`${results}/README.md`);
    assert.match(md, /^## good\n/m);
    assert.match(md, /^## damaged\n/m);
    assert.doesNotMatch(md, /broken|noexport/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

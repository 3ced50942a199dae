import assert from "node:assert/strict";
import type { ExperimentSpec } from "../experiment/spec.ts";
import { buildResults } from "./report.ts";
import { renderIndex } from "./index.ts";
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
  assert.match(md, /\| clip=off \| 0 \| – \| – \| – \| 1\/1 \|/);
  assert.match(md, /\*\*Reading\.\*\* Clipping wins here\./);
  // Not run: no link to a report that does not exist, and no table.
  assert.match(md, /## later\n/);
  assert.match(md, /Not run yet \(6 cells\)\./);
});

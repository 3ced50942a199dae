import assert from "node:assert/strict";
import { decodingRows, distinctNgrams, repeatedNgrams } from "./decoding.ts";
import { decodingTable } from "./report.ts";
import { fixtureCell } from "../experiment/testing.ts";

Deno.test("distinctNgrams and repeatedNgrams: a loop repeats, fresh text does not", () => {
  assert.equal(distinctNgrams("abcabc", 3), 0.75);
  assert.equal(repeatedNgrams("abcabcabc", 3), 4 / 7);
  assert.equal(repeatedNgrams("abcdefgh", 3), 0);
  assert.equal(distinctNgrams("ab", 3), null);
  assert.equal(repeatedNgrams("ab", 3), null);
});

Deno.test("decodingRows: per decoding over seeds, on the generated part only, greedy first", () => {
  const cells = [0, 1].map((seed) => {
    const c = fixtureCell({ seed }, [5, 3]);
    c.samples = [
      {
        prefix: "time traveller",
        decoding: "greedy",
        text: "time traveller" + "the ".repeat(5),
        mean_log_prob: -0.5,
      },
      {
        prefix: "time traveller",
        decoding: "sample",
        alpha: 2,
        text: "time traveller" + "abcdefghijklmnop",
        mean_log_prob: -1 - seed,
      },
    ];
    return c;
  });
  const rows = decodingRows(cells);
  assert.deepEqual(rows.map((r) => [r.decoding, r.alpha]), [
    ["greedy", null],
    ["sample", 2],
  ]);
  // "the the the the the ": 13 8-grams, those from position 4 on (9)
  // repeat earlier ones.
  assert.equal(rows[0].repeated_8!.mean, 9 / 13);
  assert.equal(rows[0].mean_log_prob!.mean, -0.5);
  assert.equal(rows[1].repeated_8!.mean, 0);
  assert.equal(rows[1].distinct_4!.mean, 1);
  assert.deepEqual(
    [rows[1].mean_log_prob!.mean, rows[1].mean_log_prob!.n],
    [-1.5, 2],
  );
  const table = decodingTable(cells).join("\n");
  assert.match(
    table,
    /\| clip=1 \| sample, α = 2 \| -1\.500 ± 0\.707 \| 1\.000 ± 0\.000 \| 0\.000 ± 0\.000 \|/,
  );
  // Cells without sampling give no table.
  assert.deepEqual(decodingRows([fixtureCell({}, [5, 3])]), []);
});

import assert from "node:assert/strict";
import { differences, masked, normalize, type Notebook } from "./check.ts";

const nb = (plain: string, svg = "<svg/>"): Notebook => ({
  cells: [
    { cell_type: "markdown", source: ["# Title\n", "text"] },
    {
      cell_type: "code",
      source: 'train("sequential")',
      outputs: [
        {
          output_type: "display_data",
          data: { "text/plain": plain, "image/svg+xml": svg },
        },
        { output_type: "stream", name: "stdout", text: ["done in 3.5 s\n"] },
      ],
    },
  ],
});

Deno.test("masked: tokens/s and seconds are masked, perplexities are not", () => {
  assert.equal(
    masked("blas: 41949 tokens/s, 7.2 s; ppl 1.04, 12 steps"),
    "blas: … tokens/s, … s; ppl 1.04, 12 steps",
  );
  assert.equal(masked("1,234.5 tokens/s in 100 s"), "… tokens/s in … s");
});

Deno.test("differences: none between runs that differ only in times and tokens/s", () => {
  const a = nb("ppl 1.04 at 41949 tokens/s");
  const b = nb("ppl 1.04 at 39000 tokens/s");
  (b.cells[1].outputs![1] as { text: string[] }).text = ["done in 4.1 s\n"];
  assert.deepEqual(differences(a, b), []);
  // What is compared: kinds, sources and every output, masked.
  assert.deepEqual(normalize(a)[1], [
    "code",
    'train("sequential")',
    "image/svg+xml: <svg/>",
    "text/plain: ppl 1.04 at … tokens/s",
    "stdout: done in … s\n",
  ]);
});

Deno.test("differences: a number, a figure, a source, a missing output or a cell count is a difference", () => {
  const a = nb("ppl 1.04");
  assert.deepEqual(differences(a, nb("ppl 1.05")), [
    'cell 2 ("train(\\"sequential\\")"): committed "text/plain: ppl 1.04", now "text/plain: ppl 1.05"',
  ]);
  assert.equal(differences(a, nb("ppl 1.04", "<svg>x</svg>")).length, 1);
  // In a long output, the line that differs, with its place.
  assert.deepEqual(
    differences(
      nb("point  ppl\nclip=1  8.47\nclip=off  7.13"),
      nb("point  ppl\nclip=1  8.48\nclip=off  7.13"),
    ),
    [
      'cell 2 ("train(\\"sequential\\")"): committed "text/plain line 2: clip=1  8.47", now "text/plain line 2: clip=1  8.48"',
    ],
  );
  assert.deepEqual(
    differences(nb("a\nb"), nb("a\nb\nc")),
    ['cell 2 ("train(\\"sequential\\")"): committed (none), now "text/plain line 3: c"'],
  );
  const edited = nb("ppl 1.04");
  edited.cells[1].source = 'train("random")';
  assert.match(differences(a, edited)[0], /its source differs/);
  const lost = nb("ppl 1.04");
  lost.cells[1].outputs!.pop();
  assert.match(differences(a, lost)[0], /committed "stdout: .*now \(none\)/);
  assert.deepEqual(differences(a, { cells: a.cells.slice(0, 1) }), [
    "2 cells committed, 1 executed",
  ]);
});

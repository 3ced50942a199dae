import assert from "node:assert/strict";
import { makeRng } from "./prng.ts";
import {
  dataIter,
  type Minibatch,
  seqDataIterRandom,
  seqDataIterSequential,
} from "./iterators.ts";

const range = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
const row = (
  m: Minibatch,
  which: "X" | "Y",
  b: number,
) => [...m[which].subarray(b * m.num_steps, (b + 1) * m.num_steps)];

Deno.test("d2l defaults: both iterators give 8 minibatches of (32, 35) on 10,000 tokens", () => {
  for (const sampling of ["sequential", "random"] as const) {
    for (let seed = 0; seed < 20; seed++) {
      const batches = [
        ...dataIter(sampling, range(10_000), 32, 35, makeRng(seed)),
      ];
      assert.equal(batches.length, 8, `${sampling} seed ${seed}`);
      for (const m of batches) {
        assert.equal(m.X.length, 32 * 35);
        assert.equal(m.Y.length, 32 * 35);
      }
    }
  }
});

Deno.test("Y is X shifted by one token, in both iterators", () => {
  // With corpus[i] = i, the next token is the value plus one.
  for (const iter of [seqDataIterRandom, seqDataIterSequential]) {
    for (const m of iter(range(1000), 4, 7, makeRng(3))) {
      m.X.forEach((x, i) => assert.equal(m.Y[i], x + 1));
      for (let b = 0; b < 4; b++) {
        const xs = row(m, "X", b);
        xs.forEach((x, t) => t > 0 && assert.equal(x, xs[t - 1] + 1));
      }
    }
  }
});

Deno.test("sequential: row b of each minibatch continues row b of the previous one", () => {
  for (let seed = 0; seed < 10; seed++) {
    const batches = [
      ...seqDataIterSequential(range(1000), 4, 7, makeRng(seed)),
    ];
    const offset = batches[0].X[0];
    assert.ok(offset >= 0 && offset <= 7, `offset ${offset} in [0, num_steps]`);
    for (let i = 1; i < batches.length; i++) {
      for (let b = 0; b < 4; b++) {
        assert.equal(
          row(batches[i], "X", b)[0],
          row(batches[i - 1], "X", b)[6] + 1,
        );
      }
    }
  }
});

Deno.test("random: subsequences are disjoint, aligned to one offset, and cover all but the remainder", () => {
  const num_steps = 5, batch_size = 3, n = 100;
  const offsets = new Set<number>();
  for (let seed = 0; seed < 10; seed++) {
    const starts = [
      ...seqDataIterRandom(range(n), batch_size, num_steps, makeRng(seed)),
    ]
      .flatMap((m) =>
        Array.from({ length: batch_size }, (_, b) => row(m, "X", b)[0])
      );
    // d2l's offset: the seed's first draw of random.randint(0, num_steps − 1).
    const offset = makeRng(seed).randint(0, num_steps - 1);
    offsets.add(offset);
    assert.equal(Math.min(...starts) % num_steps, offset);
    const sorted = [...starts].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) {
      assert.ok(sorted[i] - sorted[i - 1] >= num_steps, "subsequences overlap");
    }
    for (const s of starts) assert.equal((s - offset) % num_steps, 0);
    const num_subseqs = Math.floor((n - offset - 1) / num_steps);
    assert.equal(
      starts.length,
      Math.floor(num_subseqs / batch_size) * batch_size,
    );
    // Shuffled: the starts do not come in text order.
    assert.notDeepEqual(starts, sorted);
  }
  assert.ok(offsets.size > 1, "the offset varies with the seed");
});

Deno.test("the same seed gives the same minibatches", () => {
  const a = [...dataIter("random", range(500), 4, 5, makeRng(9))];
  const b = [...dataIter("random", range(500), 4, 5, makeRng(9))];
  assert.deepEqual(a, b);
});

import assert from "node:assert/strict";
import { makeRng } from "./prng.ts";

Deno.test("makeRng: the same seed gives the same stream, another seed another", () => {
  const a = makeRng(7), b = makeRng(7), c = makeRng(8);
  const xs = Array.from({ length: 5 }, () => a.random());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.random()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c.random()));
  for (const x of xs) assert.ok(x >= 0 && x < 1);
});

Deno.test("randint covers [lo, hi] inclusive, like Python's random.randint", () => {
  const rng = makeRng(1);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) seen.add(rng.randint(0, 4));
  assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4]);
});

Deno.test("shuffle permutes, and normal has mean 0 and sd 1", () => {
  const rng = makeRng(2);
  const xs = rng.shuffle(Array.from({ length: 100 }, (_, i) => i));
  assert.deepEqual(
    [...xs].sort((a, b) => a - b),
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.notDeepEqual(xs, Array.from({ length: 100 }, (_, i) => i));
  const n = Array.from({ length: 20000 }, () => rng.normal());
  const mean = n.reduce((a, b) => a + b) / n.length;
  const sd = Math.sqrt(n.reduce((a, b) => a + (b - mean) ** 2, 0) / n.length);
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(sd - 1) < 0.03, `sd ${sd}`);
});

import assert from "node:assert/strict";
import {
  type CellEpoch,
  type EngineGroup,
  EpochClock,
  type EpochStats,
  SplitGroup,
} from "./group.ts";

/** A part whose every epoch takes `seconds` and answers with each cell's index. */
function part(first: number, cells: number, seconds: number): EngineGroup {
  return {
    cells,
    inOrder: true,
    trainEpochs: (epochs: CellEpoch[]) =>
      Promise.resolve(epochs.map((e, i): EpochStats | null =>
        e && {
          losses: [first + i],
          grad_norms: [],
          tokens: 10,
          seconds,
        }
      )),
    evaluate: (cells) => Promise.resolve(cells.map((_, i) => first + i)),
    gradients: () => Promise.reject(new Error("not used")),
    values: () => Promise.reject(new Error("not used")),
    destroy: () => {},
  };
}

Deno.test("a split group asks all its parts at once: cells in order, and an epoch takes the longest part's seconds, not their sum", async () => {
  const group = new SplitGroup([part(0, 2, 0.2), part(2, 1, 0.5)]);
  assert.equal(group.cells, 3);
  assert.equal(group.inOrder, true);
  const epoch = { batches: [], options: {} } as unknown as CellEpoch;
  const stats = await group.trainEpochs([epoch, null, epoch]);
  assert.deepEqual(stats.map((s) => s?.losses[0] ?? null), [0, null, 2]);
  assert.deepEqual(stats.map((s) => s?.seconds ?? null), [0.5, null, 0.5]);
  assert.deepEqual(await group.evaluate([null, null, null]), [0, 1, 2]);
});

Deno.test("EpochClock: an epoch asked for while the one before is in flight counts from that one's end; the seconds add up to the wall time", async () => {
  const clock = new EpochClock();
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const t0 = performance.now();
  const first = clock.start();
  await wait(10);
  const second = clock.start(); // asked while the first is in flight
  await wait(10);
  const a = first();
  const firstEnded = performance.now();
  await wait(10);
  const b = second();
  const secondEnded = performance.now();
  const near = (x: number, y: number) => Math.abs(x - y) < 0.005;
  assert.ok(near(b, (secondEnded - firstEnded) / 1000), `${b}`);
  assert.ok(near(a + b, (secondEnded - t0) / 1000), `${a} + ${b}`);
});

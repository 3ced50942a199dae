import assert from "node:assert/strict";
import { timeTiles } from "./tiles.ts";

Deno.test("timeTiles times every tile that fits the width, each a positive finite time", async () => {
  const gpu = await (await navigator.gpu.requestAdapter())!.requestDevice();
  const tiles = {
    step: [[4, 1], [4, 2], [4, 4]] as [number, number][],
    outer: [[32, 1]] as [number, number][],
  };
  const out = await timeTiles(gpu, 4, 32, tiles, 2);
  // H = 32 is 8 vec4 columns: only one vec4 per lane fits 8 lanes.
  assert.deepEqual(out.map((t) => [t.kernel, t.rb, t.cv]), [
    ["step", 4, 1],
    ["outer", 32, 1],
  ]);
  for (const t of out) {
    assert.ok(t.ms > 0 && Number.isFinite(t.gflops));
    assert.ok(t.first_s > 0 && Number.isFinite(t.first_s));
  }
  gpu.destroy();
});

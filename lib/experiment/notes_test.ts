import assert from "node:assert/strict";
import { adapterNote, verifyNote } from "./notes.ts";
import { fixtureCell, fixtureEnv } from "./testing.ts";

Deno.test("adapterNote: cells about to run on another adapter than the stored ones get a note", () => {
  const gpu = fixtureCell({ clip: 1 }, [5]);
  gpu.env = fixtureEnv("NVIDIA H200");
  const cells = [gpu, fixtureCell({ clip: "off" }, [5])]; // the second: llvmpipe
  const note = adapterNote(
    cells,
    { "fused/webgpu": "webgpu (llvmpipe)" },
    3,
    "r/x",
  );
  assert.match(
    note ?? "",
    /^note: 1 stored cells in r\/x ran on webgpu \(NVIDIA H200\); the 3 to run now run on webgpu \(llvmpipe\)/,
  );
  assert.equal(
    adapterNote(cells, { "fused/webgpu": "webgpu (llvmpipe)" }, 0, "r/x"),
    null,
    "nothing to run",
  );
  assert.equal(
    adapterNote([cells[1]], { "fused/webgpu": "webgpu (llvmpipe)" }, 3, "r/x"),
    null,
    "same adapter",
  );
});

Deno.test("verifyNote: stored cells from another adapter are named before --verify reruns them", () => {
  const gpu = fixtureCell({ clip: 1 }, [5]);
  gpu.env = fixtureEnv("NVIDIA H200");
  const cells = [gpu, fixtureCell({ clip: "off" }, [5])];
  assert.match(
    verifyNote(cells, { "fused/webgpu": "webgpu (llvmpipe)" }) ?? "",
    /^note: 1 of the 2 cells to verify ran on webgpu \(NVIDIA H200\); this machine runs webgpu \(llvmpipe\)\. .*--tolerance/,
  );
  assert.equal(
    verifyNote([cells[1]], { "fused/webgpu": "webgpu (llvmpipe)" }),
    null,
  );
});

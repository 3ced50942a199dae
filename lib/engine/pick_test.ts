import assert from "node:assert/strict";
import { pickEngine } from "./pick.ts";
import { openCblas } from "./cblas.ts";

/** A stand-in for navigator.gpu whose adapter says what it is. */
const gpuWith = (info: Partial<GPUAdapterInfo> | null) => ({
  requestAdapter: () =>
    Promise.resolve(
      info
        ? { info: { vendor: "", description: "", ...info } } as GPUAdapter
        : null,
    ),
});

Deno.test("pickEngine: fused on a hardware adapter; on a software one or none, blas where a CBLAS loads", async () => {
  const gpu = await pickEngine(gpuWith({ description: "NVIDIA H200" }));
  assert.deepEqual([gpu.engine, gpu.backend], ["fused", "webgpu"]);
  assert.match(gpu.why, /NVIDIA H200/);
  const soft = await pickEngine(
    gpuWith({ description: "llvmpipe (LLVM 15.0.6, 256 bits)" }),
  );
  const none = await pickEngine(gpuWith(null));
  if (openCblas()) {
    assert.deepEqual([soft.engine, soft.backend], ["blas", "cpu"]);
    assert.match(soft.why, /software one \(llvmpipe/);
    assert.deepEqual([none.engine, none.backend], ["blas", "cpu"]);
  } else {
    assert.deepEqual([soft.engine, soft.backend], ["fused", "webgpu"]);
    assert.deepEqual([none.engine, none.backend], ["reference", "wasm"]);
  }
  const fallback = await pickEngine(gpuWith({ isFallbackAdapter: true }));
  assert.notEqual(fallback.engine === "fused" && openCblas(), true);
});

import assert from "node:assert/strict";
import { pickEngine } from "./pick.ts";

/** A stand-in for navigator.gpu whose adapter says what it is. */
const gpuWith = (info: Partial<GPUAdapterInfo> | null) => ({
  requestAdapter: () =>
    Promise.resolve(
      info
        ? { info: { vendor: "", description: "", ...info } } as GPUAdapter
        : null,
    ),
});

const cblas = () => ({ description: "OpenBLAS 0.3.21" });
const none = () => null;

Deno.test("pickEngine: fused on a hardware adapter; on a software one or none, blas where a CBLAS loads, else fused on the software adapter, else the reference on wasm", async () => {
  const H200 = gpuWith({ description: "NVIDIA H200" });
  const llvmpipe = gpuWith({ description: "llvmpipe (LLVM 15.0.6, 256 bits)" });
  const fallback = gpuWith({ isFallbackAdapter: true });
  const noGpu = gpuWith(null);
  const cases = [
    [H200, cblas, "fused", "webgpu", /WebGPU on NVIDIA H200/],
    [H200, none, "fused", "webgpu", /WebGPU on NVIDIA H200/],
    [llvmpipe, cblas, "blas", "cpu", /OpenBLAS.*software one \(llvmpipe/],
    [
      llvmpipe,
      none,
      "fused",
      "webgpu",
      /software adapter \(llvmpipe.*no CBLAS/,
    ],
    [fallback, cblas, "blas", "cpu", /OpenBLAS/],
    [noGpu, cblas, "blas", "cpu", /^OpenBLAS 0\.3\.21$/],
    [noGpu, none, "reference", "wasm", /no WebGPU adapter and no CBLAS/],
  ] as const;
  for (const [gpu, blas, engine, backend, why] of cases) {
    const picked = await pickEngine(gpu, blas);
    assert.deepEqual([picked.engine, picked.backend], [engine, backend]);
    assert.match(picked.why, why);
  }
});

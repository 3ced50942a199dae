import assert from "node:assert/strict";
import { describeBackend, pickEngine } from "./pick.ts";

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

Deno.test("describeBackend: a fused run records which recurrence kernels its shape runs there (looped on a GPU; on a CPU adapter rows up to 32 hidden units, looped up to 128); other engines none", async () => {
  const H200 = gpuWith({ description: "NVIDIA H200" });
  const llvmpipe = gpuWith({ description: "llvmpipe (LLVM 15.0.6, 256 bits)" });
  const fused = { engine: "fused", backend: "webgpu" } as const;
  const cases = [
    [H200, 512, "looped"],
    [H200, 32, "looped"],
    [llvmpipe, 32, "rows"],
    [llvmpipe, 33, "looped"],
    [llvmpipe, 128, "looped"],
    [llvmpipe, 129, "steps"],
    [llvmpipe, 512, "steps"],
  ] as const;
  for (const [gpu, num_hiddens, kernels] of cases) {
    const info = await describeBackend({ ...fused, num_hiddens }, gpu);
    assert.equal(info.kernels, kernels, `${num_hiddens} hidden units`);
  }
  const blas = await describeBackend(
    { engine: "reference", backend: "webgpu", num_hiddens: 32 },
    H200,
  );
  assert.equal(blas.kernels, undefined);
});

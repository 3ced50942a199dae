import { denoProgram } from "../../env.ts";
import { requires } from "../../testing.ts";
import assert from "node:assert/strict";
import { lambert, tanhKernel } from "./simd.ts";
import { openCblas } from "./cblas.ts";

Deno.test("the SIMD kernel computes tanh(h + p) within 8 float32 steps of Math.tanh, over the whole range, any length", () => {
  const memory = new WebAssembly.Memory({ initial: 8 });
  const tanhAdd = tanhKernel(memory);
  const n = 40_001; // not a multiple of 4
  const h = new Float32Array(memory.buffer, 0, n + 3);
  const p = new Float32Array(memory.buffer, 4 * (n + 3), n + 3);
  // Dense near 0, out to ±12 (past where float32's tanh is ±1).
  for (let i = 0; i < n; i++) {
    const x = Math.sign(i - n / 2) * ((Math.abs(i - n / 2) / (n / 2)) ** 3) *
      12;
    h[i] = x / 3;
    p[i] = x - h[i];
  }
  const x = h.map((hi, i) => Math.fround(hi + p[i])); // the kernel's sum
  tanhAdd(h.byteOffset, p.byteOffset, n);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const want = Math.tanh(x[i]);
    const ulp = 2 ** (Math.floor(Math.log2(Math.abs(want) || 1)) - 23);
    worst = Math.max(worst, Math.abs(h[i] - want) / ulp);
  }
  assert.ok(worst <= 8, `${worst} float32 steps off`);
  assert.equal(h[0], -1);
  assert.equal(h[n - 1], 1);
});

Deno.test("Lambert's continued fraction cut after 29: integer coefficients, x·P(x²)/Q(x²) within 3e-10 of tanh on [0, 9.1]", () => {
  const { P, Q } = lambert();
  assert.equal(P.length, 8);
  assert.equal(Q.length, 8);
  assert.ok([...P, ...Q].every(Number.isSafeInteger));
  assert.equal(P[0], Q[0]); // tanh x ≈ x near 0
  let worst = 0;
  for (let i = 1; i <= 10_000; i++) {
    const x = 9.1 * i / 10_000, y = x * x;
    const at = (c: number[]) => c.reduceRight((acc, ci) => acc * y + ci, 0);
    worst = Math.max(worst, Math.abs(x * at(P) / at(Q) / Math.tanh(x) - 1));
  }
  assert.ok(worst < 3e-10, `${worst}`);
});

Deno.test({
  name:
    "sgemm computes C = α·op(A)·op(B) + β·C on row-major subarrays, each transpose; arrays too short are refused",
  ...requires(["blas"], () => {
    const blas = openCblas()!;
    assert.match(blas.description, /\S/);
    // A is 2 × 3, B is 3 × 2, stored inside larger arrays.
    const A = Float32Array.from([9, 1, 2, 3, 4, 5, 6]).subarray(1);
    const B = Float32Array.from([9, 9, 1, 2, 3, 4, 5, 6]).subarray(2);
    const C = Float32Array.from([7, 1, 1, 1, 1]);
    blas.sgemm(false, false, 2, 2, 3, 2, A, 3, B, 2, 1, C.subarray(1), 2);
    // 2·[[22, 28], [49, 64]] + 1
    assert.deepEqual([...C], [7, 45, 57, 99, 129]);
    // Aᵀ·A (3 × 3) and A·Aᵀ (2 × 2) through the transpose flags.
    const AtA = new Float32Array(9), AAt = new Float32Array(4);
    blas.sgemm(true, false, 3, 3, 2, 1, A, 3, A, 3, 0, AtA, 3);
    blas.sgemm(false, true, 2, 2, 3, 1, A, 3, A, 3, 0, AAt, 2);
    assert.deepEqual([...AtA], [17, 22, 27, 22, 29, 36, 27, 36, 45]);
    assert.deepEqual([...AAt], [14, 32, 32, 77]);
    // An array too short for its shape and stride is refused before the
    // library could write past its end.
    const before = [...AtA];
    assert.throws(
      () =>
        blas.sgemm(true, false, 3, 3, 2, 1, A, 3, A, 3, 0, AtA.subarray(1), 3),
      /sgemm: C is 3 × 3 with stride 3, its array holds 8/,
    );
    assert.throws(
      () => blas.sgemm(false, false, 2, 2, 3, 1, A, 4, B, 2, 0, AAt, 2),
      /sgemm: A is 2 × 3 with stride 4/,
    );
    assert.throws(
      () => blas.sgemm(false, true, 2, 2, 3, 1, A, 3, B, 2, 0, AAt, 2),
      /sgemm: B is 2 × 3 with stride 2/,
    );
    assert.deepEqual([...AtA], before);
  }),
});

Deno.test("a CBLAS that is there but cannot be loaded is an error naming it, not a quiet fallback", async () => {
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(
    script,
    `import { openCblas } from "${
      new URL("./cblas.ts", import.meta.url).href
    }"; try { openCblas(); console.log("loaded"); } catch (e) { console.log("error:", e.message); }`,
  );
  const probe = (env: Record<string, string>, ffi = "--allow-ffi") =>
    new Deno.Command(denoProgram(), {
      args: ["run", "--allow-read", "--allow-env", ffi, script],
      env,
    }).output().then((o) => new TextDecoder().decode(o.stdout));
  assert.match(
    await probe({ RNNLAB_BLAS: "/nonexistent/libopenblas.so.0" }),
    /^error: RNNLAB_BLAS=\/nonexistent\/libopenblas\.so\.0: /,
  );
  // An installed library this process may not load (no --allow-ffi for it).
  const installed = ["/usr/lib/x86_64-linux-gnu/libopenblas.so.0"].find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });
  if (installed) {
    assert.match(
      await probe({}, "--allow-ffi=/nowhere"),
      /^error: .*libopenblas\.so\.0: not allowed to load it \(--allow-ffi\)/,
    );
  }
  await Deno.remove(script);
});

import assert from "node:assert/strict";
import {
  evaluate,
  kernel,
  packStruct,
  registers,
  structs,
  unroll,
} from "./wgsl.ts";
import { SOURCES } from "./kernels.ts";
import { runTask } from "../../cli/cli_testing.ts";

Deno.test("evaluate: whole numbers, named constants, + − * / and parentheses; anything else is no constant", () => {
  assert.equal(evaluate("4u * 2u + 1u"), 9);
  assert.equal(evaluate("RB / 4u", { RB: 16 }), 4);
  assert.equal(evaluate("(1u + 2u) * 3u"), 9);
  assert.equal(evaluate("7u - 2u - 1u"), 4);
  assert.equal(evaluate("k + 1u"), null);
  assert.equal(evaluate("FLAG", { FLAG: true }), null);
  assert.equal(evaluate("2u +"), null);
});

Deno.test("unroll and registers write out a marked loop and split a marked array into one variable per element", () => {
  const source = `  // registers
  var acc: array<array<vec4f, CV>, 2u>;
  // unroll
  for (var i = 0u; i < 2u; i++) {
    // unroll
    for (var c = 0u; c < CV; c++) {
      acc[i][c] = acc[i][c] + vec4f(f32(i * CV + c));
    }
  }
  for (var k = 0u; k < 3u; k++) { acc[1][0] += vec4f(1.0); }
`;
  const code = registers(unroll(source, { CV: 3 }), { CV: 3 });
  assert.doesNotMatch(code, /\/\/ (unroll|registers)/);
  assert.doesNotMatch(code, /\bacc\[/, "every use is a variable");
  assert.match(code, /var acc_1_2 = vec4f\(\);/);
  assert.doesNotMatch(code, /acc_2_/);
  assert.match(code, /acc_1_2 = acc_1_2 \+ vec4f\(f32\(1u \* CV \+ 2u\)\);/);
  assert.match(code, /for \(var k = 0u; k < 3u; k\+\+\) \{ acc_1_0 \+= /);
  // Each copy in a block of its own, so its `let`s may repeat.
  assert.equal((code.match(/\{\s*\{\s*acc_0_/g) ?? []).length, 1);
  assert.throws(
    () =>
      registers(
        "  // registers\n  var a: array<f32, 4u>;\n  a[k] = 1.0;\n",
        {},
      ),
    /a\[k\] is not a constant element/,
  );
  assert.throws(
    () => unroll("// unroll\nfor (var i = 0u; i < n; i++) {}", {}),
    /the bound n is not a constant/,
  );
});

Deno.test("kernel: constants defined first, bindings numbered in the order the WGSL declares them (textures too), Cells checked against the storage bindings", () => {
  const k = kernel("copy", SOURCES.copy, { WIDE: 64 });
  assert.match(k.code, /^const WIDE = 64u;/);
  assert.deepEqual(
    k.bindings.map((b) => [b.name, b.access, b.type]),
    [
      ["sizes", "uniform", "Sizes"],
      ["src", "read", "array<vec4f>"],
      ["out", "read_write", "array<vec4f>"],
      ["cells", "uniform", "Cells"],
    ],
  );
  assert.match(
    k.code,
    /@group\(0\) @binding\(2\) var<storage, read_write> out:/,
  );
  assert.deepEqual(k.bindings[0].struct?.fields.map((f) => f.name), ["n"]);
  const broken = SOURCES.copy.replace(
    "struct Cells { src: u32, out: u32 }",
    "struct Cells { out: u32, src: u32 }",
  );
  assert.throws(
    () => kernel("copy", broken, { WIDE: 64 }),
    /struct Cells must list the storage bindings in order \(src,out\)/,
  );
  // A texture is a binding in its turn, with no entry in Cells (its layers are the cells).
  const textured = SOURCES.copy.replace(
    "var<storage, read_write> out",
    "var W_tex: texture_2d_array<f32>;\nvar<storage, read_write> out",
  );
  const t = kernel("copy", textured, { WIDE: 64 });
  assert.deepEqual(
    t.bindings.map((b) => [b.name, b.access]).slice(1, 4),
    [["src", "read"], ["W_tex", "texture"], ["out", "read_write"]],
  );
  assert.match(
    t.code,
    /@group\(0\) @binding\(2\) var W_tex: texture_2d_array<f32>;/,
  );
  assert.throws(
    () =>
      kernel(
        "copy",
        textured.replace("texture_2d_array<f32>", "texture_2d<f32>"),
        { WIDE: 64 },
      ),
    /W_tex is a texture_2d<f32>, not a binding/,
  );
});

Deno.test("packStruct: named values by the struct the WGSL declares; a missing or unknown field is an error", () => {
  const { Hyper } = structs(
    "struct Hyper { lr: f32, theta: f32, relu: u32, _pad: u32 }",
  );
  const bytes = packStruct(Hyper, { lr: 0.5, theta: 3.4e38, relu: 1 });
  const view = new DataView(bytes.buffer);
  assert.equal(bytes.byteLength, 16);
  assert.equal(view.getFloat32(0, true), 0.5);
  assert.equal(view.getFloat32(4, true), Math.fround(3.4e38));
  assert.equal(view.getUint32(8, true), 1);
  assert.throws(
    () => packStruct(Hyper, { lr: 1, theta: 1 }),
    /no value for relu/,
  );
  assert.throws(
    () => packStruct(Hyper, { lr: 1, theta: 1, relu: 0, rho: 2 }),
    /has no field rho/,
  );
});

Deno.test("deno task wgsl prints every kernel as compiled for a shape, and names them", async () => {
  const list = await runTask("wgsl", ["--list", "--tiles", "cpu"]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^forward {6}forward:16x4x8$/m);
  assert.match(list.stdout, /^softmax {6}softmax:1120:28:32$/m);
  const one = await runTask("wgsl", [
    "forward",
    "--num_hiddens",
    "64",
    "--tiles",
    "gpu",
    "--cells",
    "3",
  ]);
  assert.equal(one.code, 0, one.stderr);
  assert.match(
    one.stdout,
    /^\/\/ ==== forward: forward:2x1x16 \(B=32 T=35 H=64 V=28, gpu tiles, 3 cells\)$/m,
  );
  assert.match(one.stdout, /^const A_IN_UNIFORM = false;$/m);
  assert.match(one.stdout, /H_t = φ\(X_t W_xh \+ H_\{t−1\} W_hh \+ b_h\)/);
  assert.doesNotMatch(one.stdout, /\/\/ unroll|acc\[/);
  const bad = await runTask("wgsl", ["nope"]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /^error: no kernel "nope" \(kernels: forward_loop, backward_loop, forward, /m,
  );
});

import assert from "node:assert/strict";
import { runTask } from "./cli_testing.ts";

Deno.test("deno task bench: bad flags are one error with exit status 2, before any measuring", async () => {
  for (
    const [args, message] of [
      [
        ["--backends", "webgpu,tpu"],
        /^error: --backends: unknown backend "tpu"/,
      ],
      [
        ["--epochs", "0"],
        /^error: --epochs: expected a whole number ≥ 1, got "0"/,
      ],
      [
        ["--sizes", "32,x"],
        /^error: --sizes: expected a whole number ≥ 1, got "x"/,
      ],
    ] as const
  ) {
    const r = await runTask("bench", [...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
  }
});

Deno.test("deno task bench --sizes: each num_hiddens on the fused and blas engines, with the fused engine's dispatches per minibatch and kernels, as a table and JSON", async () => {
  const out = await Deno.makeTempDir();
  try {
    const r = await runTask("bench", [
      "--sizes",
      "16,40",
      "--epochs",
      "1",
      "--out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [json] = [...Deno.readDirSync(out)].map((e) => e.name).filter((n) =>
      /^sizes-.*\.json$/.test(n)
    );
    const result = JSON.parse(Deno.readTextFileSync(`${out}/${json}`));
    assert.deepEqual(result.sizes, [16, 40]);
    for (const h of [16, 40]) {
      const fused = result.rows.find((
        x: { num_hiddens: number; engine: string },
      ) => x.num_hiddens === h && x.engine === "fused");
      assert.ok(fused.tokens_per_sec > 0, JSON.stringify(fused));
      assert.equal(fused.kernels, h <= 32 ? "rows" : "looped");
      assert.ok(fused.dispatches_per_minibatch <= 10, JSON.stringify(fused));
      const blas = result.rows.find((
        x: { num_hiddens: number; engine: string },
      ) => x.num_hiddens === h && x.engine === "blas");
      assert.ok(blas.error || blas.tokens_per_sec > 0, JSON.stringify(blas));
    }
    const md = Deno.readTextFileSync(
      `${out}/${json.replace(/\.json$/, ".md")}`,
    );
    assert.match(md, /^\| 16 \| [\d,]+ \| .* \| 9 \| rows \| [\d.]+ \|$/m);
    assert.match(r.stdout, /^ +40 +fused +[\d,]+ +9 +looped/m);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("deno task bench --serve: starts deno task serve over results/ with its task's permissions, holds event streams open, answers every request of the clients, and says how fast and how large", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await runTask("bench", [
      "--serve",
      "--streams",
      "6",
      "--clients",
      "3",
      "--requests",
      "42",
      "--json",
      `${dir}/load.json`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^deno task serve, 6 event streams open, 3 clients at once over \d+ views: 42 requests in [\d.]+ s, 0 errors; p50 \d+ ms, p99 \d+ ms, max \d+ ms; server RSS \d+ MB at the start, \d+ MB peak, \d+ MB at the end$/m,
    );
    const load = JSON.parse(await Deno.readTextFile(`${dir}/load.json`));
    assert.equal(load.requests, 42);
    assert.ok(load.p50 <= load.p99 && load.p99 <= load.max);
    assert.ok(load.paths >= 3 + 2 * 8, `${load.paths} paths`);
    const bad = await runTask("bench", ["--serve", "--clients", "0"]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^error: --clients: expected a whole number ≥ 1, got "0"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

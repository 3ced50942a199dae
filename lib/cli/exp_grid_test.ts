import assert from "node:assert/strict";
import { cellFiles, TINY, world } from "./cli_testing.ts";
import { requires } from "../testing.ts";

Deno.test({
  name:
    "three shards merged by copying equal one run; compare agrees; a diverged cell is stored and exits 1",
  ...requires(["blas"], async () => {
    const spec = {
      ...TINY,
      grid: { clip: [1, "off"], lr: [1, 1e6] },
      base: { ...TINY.base, activation: "relu" },
    };
    await world({ tiny: spec }, async ({ root, run }) => {
      const single = `${root}/single`, merged = `${root}/merged`;
      const r = await run(["exp", "tiny", "--out", single, "--jobs", "2"]);
      assert.equal(r.code, 1, "a diverged cell makes the exit status 1");
      assert.match(
        r.stdout,
        /ran 4 cells \(\d done, [1-9] diverged, 0 failed\)/,
      );
      for (const i of [1, 2, 3]) {
        const s = await run([
          "exp",
          "tiny",
          "--out",
          `${root}/shard${i}`,
          "--shard",
          `${i}/3`,
          // Train the shards, rather than copy `single`'s cells beside them.
          "--no-reuse",
        ]);
        // Exit 1 only for a shard that holds a diverged cell.
        assert.equal(
          s.code,
          /ran \d+ cells \(\d+ done, 0 diverged/.test(s.stdout) ? 0 : 1,
          s.stdout + s.stderr,
        );
      }
      const shardCells = [1, 2, 3].map((i) => cellFiles(`${root}/shard${i}`));
      assert.deepEqual(
        shardCells.flat().sort(),
        cellFiles(single),
        "the shards partition the grid",
      );
      await Deno.mkdir(`${merged}/cells`, { recursive: true });
      for (const i of [1, 2, 3]) {
        for (const f of cellFiles(`${root}/shard${i}`)) {
          await Deno.copyFile(
            `${root}/shard${i}/cells/${f}`,
            `${merged}/cells/${f}`,
          );
        }
      }
      const again = await run(["exp", "tiny", "--out", single]);
      assert.equal(again.code, 0, "nothing ran, nothing diverged");
      const report = await run(["report", "tiny", "--out", merged]);
      assert.equal(report.code, 0, report.stderr);
      const a = JSON.parse(await Deno.readTextFile(`${single}/results.json`));
      const b = JSON.parse(await Deno.readTextFile(`${merged}/results.json`));
      const strip = (rows: { tokens_per_sec: unknown }[]) =>
        rows.map((row) => ({ ...row, tokens_per_sec: null }));
      assert.deepEqual(strip(b.rows), strip(a.rows));
      const cmp = await run(["compare", single, merged, "--tolerance", "0"]);
      assert.equal(cmp.code, 0, cmp.stdout);
    });
  }),
});

Deno.test({
  name:
    "--batch trains a grid's cells of one shape together (one process, the same dispatches); each cell is what --batch 1 computes, exactly",
  ...requires(["webgpu"], async () => {
    const fused = {
      ...TINY,
      base: { ...TINY.base, backend: "webgpu", engine: "fused", num_epochs: 3 },
      // tanh with relu, clip with off, sequential with random, one blowing up
      grid: { clip: [1, "off"], activation: ["tanh", "relu"] },
      include: [{ clip: "off", activation: "relu", lr: 1e6 }, {
        sampling: "random",
      }],
    };
    await world({ fused }, async ({ root, run }) => {
      const together = `${root}/together`, alone = `${root}/alone`;
      const a = await run(["exp", "fused", "--out", together, "--batch", "8"]);
      assert.match(a.stderr, /^6 cells train together: /m);
      assert.match(a.stdout, /ran 6 cells \(5 done, 1 diverged, 0 failed\)/);
      const b = await run([
        "exp",
        "fused",
        "--out",
        alone,
        "--batch",
        "1",
        "--no-reuse",
      ]);
      assert.doesNotMatch(b.stderr, /train together/);
      assert.match(b.stdout, /ran 6 cells \(5 done, 1 diverged, 0 failed\)/);
      const same = await run(["compare", together, alone, "--tolerance", "0"]);
      assert.equal(same.code, 0, same.stdout);
      assert.match(same.stdout, /^same: /m);
      // Each record says which recurrence kernels its shape ran.
      for (const f of cellFiles(together)) {
        const r = JSON.parse(
          await Deno.readTextFile(`${together}/cells/${f}`),
        );
        assert.match(r.env.kernels, /^(rows|looped|steps)$/, f);
      }
      // Verifying a batched grid reruns it batched, and agrees exactly.
      const verified = await run([
        "exp",
        "fused",
        "--out",
        together,
        "--verify",
        "--batch",
        "8",
      ]);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      assert.match(verified.stderr, /^6 cells train together: /m);
      assert.match(verified.stdout, /^same: /m);
    });
  }),
});

import assert from "node:assert/strict";
import {
  cellFiles,
  runTask,
  runTaskProcess,
  TINY,
  workersGone,
  world,
} from "./cli_testing.ts";
import { readCells } from "../experiment/store.ts";
import { numbers, requires } from "../testing.ts";

/** The epochs of the checkpoints kept in `dir` now. */
function checkpointEpochs(dir: string): number[] {
  try {
    return [...Deno.readDirSync(`${dir}/checkpoints`)]
      .filter((e) => e.name.endsWith(".json"))
      .map((e) => {
        try {
          return JSON.parse(
            Deno.readTextFileSync(`${dir}/checkpoints/${e.name}`),
          ).epoch as number;
        } catch {
          return 0; // being renamed into place
        }
      });
  } catch {
    return [];
  }
}

const GRIDS = {
  // One blas cell, long enough to be killed in the middle.
  blas: {
    ...TINY,
    base: { ...TINY.base, num_hiddens: 128, num_epochs: 600, eval_every: 50 },
    grid: { lr: [1] },
  },
  // Two fused cells of one shape, trained as one group (--batch 2), one
  // with random sampling.
  group: {
    ...TINY,
    base: {
      ...TINY.base,
      engine: "fused",
      backend: "webgpu",
      num_hiddens: 16,
      num_epochs: 120,
      eval_every: 20,
    },
    grid: { sampling: ["sequential", "random"] },
  },
};

for (
  const [name, caps, flags] of [
    ["blas", ["blas"], []],
    ["group", ["webgpu"], ["--batch", "2"]],
  ] as const
) {
  Deno.test({
    name:
      `kill -9 in the middle of a cell (${name}), then the same command: each cell resumes from its last checkpoint, says so, and is stored bit for bit as an uninterrupted run's; no checkpoint is left`,
    ...requires(
      [...caps],
      () =>
        world({ [name]: GRIDS[name] }, async ({ root, env }) => {
          const whole = await runTask(
            "exp",
            [name, "--out", `${root}/whole`, ...flags],
            env,
          );
          assert.equal(whole.code, 0, whole.stderr);
          const out = `${root}/killed`;
          // --no-reuse: the uninterrupted run beside it stores these cells.
          const args = [
            name,
            "--out",
            out,
            "--checkpoint-every",
            "0",
            "--no-reuse",
            ...flags,
          ];
          const child = runTaskProcess("exp", args, env);
          const deadline = Date.now() + 120_000;
          for (;;) {
            const epochs = checkpointEpochs(out);
            if (epochs.length && Math.min(...epochs) >= 3) break;
            if (Date.now() > deadline) {
              throw new Error(`no checkpoint kept: ${JSON.stringify(epochs)}`);
            }
            await new Promise((r) => setTimeout(r, 10));
          }
          child.kill("SIGKILL");
          await child.status;
          await workersGone(out);
          const kept = checkpointEpochs(out);
          assert.ok(kept.length >= 1, "a cell was in training");
          assert.ok(cellFiles(out).length < cellFiles(`${root}/whole`).length);
          const rerun = await runTask("exp", args, env);
          assert.equal(rerun.code, 0, rerun.stderr);
          const resumed = [
            ...rerun.stderr.matchAll(/resumed \S+ .* from epoch (\d+) \(/g),
          ].map((m) => Number(m[1]));
          assert.deepEqual(
            resumed.sort((a, b) => a - b),
            kept.sort((a, b) => a - b),
            rerun.stderr,
          );
          // Gone on from there: no cell trained its first epoch again.
          assert.doesNotMatch(rerun.stderr, / epoch 1\//);
          assert.deepEqual(
            (await readCells(out)).map(numbers),
            (await readCells(`${root}/whole`)).map(numbers),
          );
          assert.deepEqual(checkpointEpochs(out), []);
        }),
    ),
  });
}

Deno.test({
  name:
    "a checkpoint that is damaged is refused by name: the cell starts from epoch 0 and ends as an uninterrupted run",
  ...requires(
    ["blas"],
    () =>
      world({ blas: GRIDS.blas }, async ({ root, run, env }) => {
        const whole = await run(["exp", "blas", "--out", `${root}/whole`]);
        assert.equal(whole.code, 0, whole.stderr);
        // The cell's checkpoint, named as it will be looked for, but cut short.
        const out = `${root}/out`;
        const args = [
          "exp",
          "blas",
          "--out",
          out,
          "--checkpoint-every",
          "0",
          "--no-reuse",
        ];
        const child = runTaskProcess("exp", args.slice(1), env);
        const deadline = Date.now() + 120_000;
        while (checkpointEpochs(out).filter((e) => e >= 2).length === 0) {
          if (Date.now() > deadline) throw new Error("no checkpoint kept");
          await new Promise((r) => setTimeout(r, 10));
        }
        child.kill("SIGKILL");
        await child.status;
        await workersGone(out);
        const [name] = [...Deno.readDirSync(`${out}/checkpoints`)]
          .map((e) => e.name).filter((n) => n.endsWith(".json"));
        const path = `${out}/checkpoints/${name}`;
        const text = await Deno.readTextFile(path);
        await Deno.writeTextFile(path, text.slice(0, text.length / 2));
        const rerun = await run(args);
        assert.equal(rerun.code, 0, rerun.stderr);
        assert.match(
          rerun.stderr,
          new RegExp(
            `checkpoint .*checkpoints/${name} refused: damaged: not JSON .*; \\S+ \\S+ seed=0 starts from epoch 0`,
          ),
        );
        assert.doesNotMatch(rerun.stderr, /resumed/);
        assert.deepEqual(
          (await readCells(out)).map(numbers),
          (await readCells(`${root}/whole`)).map(numbers),
        );
      }),
  ),
});

Deno.test({
  name:
    "a checkpoint that cannot be written is one warning: the cells train on and are stored, and the grid exits 0",
  ...requires(["blas"], () =>
    world({ tiny: TINY }, async ({ root, run }) => {
      const out = `${root}/out`;
      await Deno.mkdir(out);
      // checkpoints/ cannot be made: a file holds its name.
      await Deno.writeTextFile(`${out}/checkpoints`, "");
      const r = await run([
        "exp",
        "tiny",
        "--out",
        out,
        "--checkpoint-every",
        "0",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const warnings = r.stderr.split("\n").filter((l) =>
        l.startsWith("warning: ")
      );
      assert.equal(warnings.length, 4, r.stderr); // one per job (cell)
      assert.match(
        warnings[0],
        /^warning: .*checkpoints: .*; training goes on without checkpoints$/,
      );
      assert.equal(cellFiles(out).length, 4);
    })),
});

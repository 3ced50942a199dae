import assert from "node:assert/strict";
import {
  cellFiles,
  GatedBook,
  runTask,
  runTaskProcess,
  TINY,
  workersGone,
  world,
} from "./cli_testing.ts";
import { acquireLock } from "../experiment/store.ts";
import { requires } from "../testing.ts";

/** Six cells of TINY's, trained one after another, reading `corpus`. */
async function sixCells(root: string, corpus: string) {
  const spec = {
    name: "tiny",
    ...TINY,
    grid: { clip: [1, "off"], lr: [1, 2, 3] },
    base: { ...TINY.base, corpus },
  };
  await Deno.writeTextFile(
    `${root}/experiments/tiny.ts`,
    `export default ${JSON.stringify(spec)};\n`,
  );
  return {
    RNNLAB_EXPERIMENTS_DIR: `${root}/experiments`,
    RNNLAB_OFFLINE: "1",
  };
}

/** Waits until `dir` stores `n` cells. */
async function stored(dir: string, n: number) {
  const deadline = Date.now() + 120_000;
  while (cellFiles(dir).length < n) {
    if (Date.now() > deadline) throw new Error(`${n} cells never stored`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test({
  name:
    "resume after kill -9: the cells stored stay, the one in flight is lost, the rerun finishes the grid and the lock goes with the killed runner",
  ...requires(["blas"], () =>
    world({}, async ({ root }) => {
      const book = await GatedBook.make(`${root}/book.fifo`);
      const env = await sixCells(root, book.path);
      const out = `${root}/results`;
      const child = runTaskProcess("exp", ["tiny", "--out", out], env);
      // The runner plans the grid (one read of the book), the worker
      // trains two cells (one read each); the third waits for the book.
      await book.feed(3);
      await stored(out, 2);
      child.kill("SIGKILL");
      await child.status;
      // The worker notices its runner is gone, and ends without a write.
      await workersGone(out);
      assert.equal(cellFiles(out).length, 2, "the third cell was in flight");
      const rerun = await book.serveUntil(
        runTask("exp", ["tiny", "--out", out], env),
      );
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.match(rerun.stdout, /ran 4 cells .* 2 already stored/);
      assert.equal(cellFiles(out).length, 6);
      for (const f of cellFiles(out)) {
        JSON.parse(await Deno.readTextFile(`${out}/cells/${f}`));
      }
      const third = await book.serveUntil(
        runTask("exp", ["tiny", "--out", out], env),
      );
      assert.equal(third.code, 0, "the lock was released");
      assert.match(third.stdout, /ran 0 cells .* 6 already stored/);
    })),
});

Deno.test({
  name:
    "the lock keeps a second runner out of a results directory while the first holds it",
  ...requires(["blas"], () =>
    world({}, async ({ root }) => {
      const env = await sixCells(root, `${root}/book.txt`);
      const out = `${root}/results`;
      await Deno.mkdir(out);
      const release = await acquireLock(out);
      const second = await runTask("exp", ["tiny", "--out", out], env);
      assert.equal(second.code, 2, second.stderr);
      assert.match(
        second.stderr,
        new RegExp(`\\.lock: another runner \\(pid ${Deno.pid}`),
      );
      assert.equal(cellFiles(out).length, 0);
      release();
      const after = await runTask("exp", ["tiny", "--out", out], env);
      assert.equal(after.code, 0, after.stderr);
      assert.equal(cellFiles(out).length, 6);
    })),
});

Deno.test({
  name:
    "SIGINT and SIGTERM stop the runner with one line of what it kept and how to finish; exit 130 and 143; the cell in flight is not stored",
  ...requires(["blas"], async () => {
    for (
      const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const
    ) {
      await world({}, async ({ root }) => {
        const book = await GatedBook.make(`${root}/book.fifo`);
        const env = await sixCells(root, book.path);
        const out = `${root}/results`;
        const child = runTaskProcess(
          "exp",
          ["tiny", "--out", out],
          env,
          "piped",
        );
        // Planned, one cell trained, the second waiting for the book.
        await book.feed(2);
        await stored(out, 1);
        child.kill(signal);
        const r = await child.output();
        const stderr = new TextDecoder().decode(r.stderr);
        assert.equal(r.code, code, stderr);
        assert.match(
          stderr,
          new RegExp(
            `^stopped \\(${signal}\\): 1 of 6 cells stored in .*; rerun the same command to finish$`,
            "m",
          ),
        );
        await workersGone(out);
        assert.equal(cellFiles(out).length, 1);
        assert.doesNotMatch(stderr, /\bat \S+:\d+:\d+/, "no stack trace");
      });
    }
  }),
});

Deno.test({
  name:
    "kill -9 of a group in flight: the cells it finished are stored as they finished, the rerun trains only the rest",
  ...requires(["webgpu"], async () => {
    const spec = {
      ...TINY,
      base: {
        ...TINY.base,
        backend: "webgpu",
        engine: "fused",
        num_hiddens: 32,
        eval_every: 5,
      },
      // One group; its 2-epoch cells finish long before its 50-epoch ones.
      grid: { num_epochs: [2, 50], lr: [1, 2] },
    };
    await world({ grouped: spec }, async ({ root, run }) => {
      const out = `${root}/results`;
      const child = runTaskProcess("exp", [
        "grouped",
        "--out",
        out,
        "--batch",
        "4",
      ], {
        RNNLAB_EXPERIMENTS_DIR: `${root}/experiments`,
        RNNLAB_OFFLINE: "1",
      });
      await stored(out, 2);
      // Seen: the two short cells stored while the long ones train on.
      assert.equal(cellFiles(out).length, 2);
      child.kill("SIGKILL");
      await child.status;
      await workersGone(out);
      assert.equal(cellFiles(out).length, 2, "the long ones were in flight");
      const rerun = await run(["exp", "grouped", "--out", out, "--batch", "4"]);
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.match(rerun.stdout, /ran 2 cells .* 2 already stored/);
      assert.match(rerun.stderr, /^2 cells train together: /m);
    });
  }),
});

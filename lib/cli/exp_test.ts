import assert from "node:assert/strict";
import { cellFiles, TINY, world } from "./cli_testing.ts";
import { readCell } from "../experiment/store.ts";
import { nextUp, requires } from "../testing.ts";

Deno.test({
  name:
    "deno task exp runs a grid end to end, writes JSON, Markdown and SVG; a second run computes zero cells",
  ...requires(["blas"], async () => {
    await world({ tiny: TINY }, async ({ root, run }) => {
      const out = `${root}/results`;
      const dry = await run(["exp", "tiny", "--out", out, "--dry-run"]);
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /4 cells: 4 to run, 0 to reuse, 0 stored/);
      assert.ok(
        !(await Deno.stat(out).catch(() => null)),
        "--dry-run writes nothing",
      );

      const first = await run(["exp", "tiny", "--out", out]);
      assert.equal(first.code, 0, first.stderr);
      assert.match(
        first.stdout,
        /ran 4 cells \(4 done, 0 diverged, 0 failed\), 0 reused, 0 already stored/,
      );
      assert.match(
        first.stderr,
        /^\[1\/4\] start /m,
        "plain progress lines when not a terminal",
      );
      assert.deepEqual(
        [...Deno.readDirSync(out)].map((e) => e.name).sort(),
        [
          ".lock",
          "README.md",
          "cells",
          "results.json",
          "train_ppl.svg",
          "val_ppl.svg",
        ],
      );
      assert.equal(cellFiles(out).length, 4);
      const results = JSON.parse(
        await Deno.readTextFile(`${out}/results.json`),
      );
      assert.equal(results.rows.length, 4);
      assert.deepEqual(results.varying_keys, ["clip", "lr"]);

      const second = await run(["exp", "tiny", "--out", out]);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /ran 0 cells .* 4 already stored/);

      const forced = await run([
        "exp",
        "tiny",
        "--out",
        out,
        "--force",
        "--filter",
        "clip=off",
        "--filter",
        "lr=2",
      ]);
      assert.match(forced.stdout, /ran 1 cells/);

      const verified = await run([
        "exp",
        "tiny",
        "--out",
        out,
        "--verify",
        "--filter",
        "seed=0",
      ]);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      assert.match(
        verified.stdout,
        /^same: (\d+) of \1 values within tolerance/m,
      );
      // Tamper with one stored number by one unit in its last place,
      // consistently: at tolerance 0 (exact) verify must notice, and a
      // tolerance of 1e-12 must not.
      const path = `${out}/cells/${cellFiles(out)[0]}`;
      const cell = JSON.parse(await Deno.readTextFile(path));
      cell.curves.train_ppl[1] = nextUp(cell.curves.train_ppl[1]);
      await Deno.writeTextFile(path, JSON.stringify(cell));
      const tampered = await run(["exp", "tiny", "--out", out, "--verify"]);
      assert.equal(tampered.code, 1, tampered.stdout);
      assert.match(
        tampered.stdout,
        /^✗ .* epochs\.train_ppl: 3 vs 3 values {2}\(rel \d\.\d\de-16\)$/m,
      );
      const loose = await run([
        "exp",
        "tiny",
        "--out",
        out,
        "--verify",
        "--tolerance",
        "1e-12",
      ]);
      assert.equal(loose.code, 0, loose.stdout);
      // Carelessly (the curves disagree): it is no cell, and verify names it.
      cell.curves.seconds.pop();
      await Deno.writeTextFile(path, JSON.stringify(cell));
      const broken = await run(["exp", "tiny", "--out", out, "--verify"]);
      assert.equal(broken.code, 1);
      assert.match(
        broken.stdout,
        /✗ .*\.json: not a valid cell: curves\.seconds: 2 values, train_ppl has 3/,
      );
    });
  }),
});

Deno.test({
  name:
    "a cell another experiment beside it stored (same id) is referred to, not trained or copied, and reruns to the same numbers",
  ...requires(["blas"], async () => {
    const lrOnly = { ...TINY, grid: { lr: [1, 3] } };
    const timed = { ...lrOnly, reuse: false };
    await world(
      { tiny: TINY, "tiny-lr": lrOnly, timed },
      async ({ root, run }) => {
        const first = await run([
          "exp",
          "tiny",
          "--out",
          `${root}/results/tiny`,
        ]);
        assert.equal(first.code, 0, first.stderr);
        const out = `${root}/results/tiny-lr`;
        const dry = await run(["exp", "tiny-lr", "--out", out, "--dry-run"]);
        assert.match(dry.stdout, /^reuse \(tiny\) {2}\w{16} {2}lr=1 seed=0$/m);
        assert.match(dry.stdout, /2 cells: 1 to run, 1 to reuse, 0 stored/);
        const none = await run([
          "exp",
          "tiny-lr",
          "--out",
          out,
          "--dry-run",
          "--no-reuse",
        ]);
        assert.match(none.stdout, /2 cells: 2 to run, 0 to reuse, 0 stored/);
        const own = await run([
          "exp",
          "timed",
          "--out",
          `${root}/results/timed`,
          "--dry-run",
        ]);
        assert.match(
          own.stdout,
          /2 cells: 2 to run, 0 to reuse, 0 stored/,
          "reuse: false",
        );

        const second = await run(["exp", "tiny-lr", "--out", out]);
        assert.equal(second.code, 0, second.stderr);
        assert.match(
          second.stdout,
          /ran 1 cells \(1 done.*\), 1 reused, 0 already stored/,
        );
        const [ref] = (await Promise.all(
          cellFiles(out).map(async (f) =>
            JSON.parse(await Deno.readTextFile(`${out}/cells/${f}`))
          ),
        )).filter((c) => c.reused_from);
        // Stored once: the reused cell names the run, it holds no numbers.
        assert.equal(ref.reused_from, "tiny");
        assert.equal(ref.ref.dir, "tiny");
        assert.ok(!("curves" in ref));
        const copy = await readCell(out, ref.id);
        assert.equal(copy?.experiment, "tiny-lr");
        assert.deepEqual(copy?.point, { lr: 1 });
        const source = await readCell(`${root}/results/tiny`, ref.id);
        assert.deepEqual(copy?.train_ppl, source?.train_ppl);
        assert.match(
          await Deno.readTextFile(`${out}/README.md`),
          /1 cell reused from \[tiny\]\(\.\.\/tiny\/README\.md\)/,
        );
        const results = JSON.parse(
          await Deno.readTextFile(`${out}/results.json`),
        );
        assert.deepEqual(
          results.cells.toSorted(),
          cellFiles(out).map((f) => f.slice(0, -".json".length)),
          "results.json names its cells by id",
        );
        // The copy is the run tiny-lr would have made: training it again agrees exactly.
        const verified = await run([
          "exp",
          "tiny-lr",
          "--out",
          out,
          "--verify",
          "--filter",
          "lr=1",
        ]);
        assert.equal(verified.code, 0, verified.stdout + verified.stderr);
        assert.match(verified.stdout, /^same: /m);
      },
    );
  }),
});

Deno.test({
  name:
    "--set runs go to their own directory under results/_local, and --list shows the grid",
  ...requires(["blas"], async () => {
    await world({ tiny: TINY }, async ({ root, run }) => {
      const list = await run(["exp", "--list"]);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^tiny {2}\(4 cells, ≈ .*\)$/m);
      const out = `${root}/results`;
      const dry = await run([
        "exp",
        "tiny",
        "--set",
        "num_epochs=2",
        "--dry-run",
      ]);
      assert.match(dry.stdout, /in results\/_local\/tiny--num_epochs=2$/m);
      const r = await run([
        "exp",
        "tiny",
        "--set",
        "num_epochs=2",
        "--out",
        out,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const readme = await Deno.readTextFile(`${out}/README.md`);
      assert.match(readme, /deno task exp tiny --set num_epochs=2/);
    });
  }),
});

Deno.test({
  name:
    "--set key=a,b,c sweeps: the list is an axis of its own (several multiply), validated like a grid axis, its directory under results/_local",
  ...requires(["blas"], async () => {
    await world({ tiny: TINY }, async ({ root, run }) => {
      const dry = await run([
        "exp",
        "tiny",
        "--set",
        "lr=0.5,1,3",
        "--set",
        "activation=tanh,relu",
        "--set",
        "num_epochs=2",
        "--dry-run",
      ]);
      assert.equal(dry.code, 0, dry.stderr);
      // clip (the grid) × lr (the sweep replaces the grid's lr) × activation.
      assert.match(
        dry.stdout,
        /^12 cells: 12 to run, 0 to reuse, 0 stored, in results\/_local\/tiny--lr=0\.5,1,3,activation=tanh,relu,num_epochs=2$/m,
      );
      assert.match(
        dry.stdout,
        /^to run {2}\w{16} {2}clip=off lr=3 activation=relu seed=0$/m,
      );
      const out = `${root}/results`;
      const r = await run([
        "exp",
        "tiny",
        "--set",
        "lr=1,3",
        "--set",
        "num_epochs=2",
        "--out",
        out,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const results = JSON.parse(
        await Deno.readTextFile(`${out}/results.json`),
      );
      assert.deepEqual(results.varying_keys, ["clip", "lr"]);
      assert.equal(results.rows.length, 4);
      assert.equal(
        results.command,
        "deno task exp tiny --set lr=1,3 --set num_epochs=2",
      );
      // The report of such a directory rebuilds the same grid.
      const report = await run(["report", "tiny", "--out", out]);
      assert.equal(report.code, 0, report.stderr);
      assert.match(report.stdout, /report of 4\/4 cells/);
      for (
        const [set, message] of [
          ["lr=1,-2", /^error: --set lr=1,-2: lr: .*\(got -2\)$/m],
          ["lr=1,1", /^error: --set lr=1,1: duplicated value 1$/m],
          ["clip=off,nope", /^error: --set clip=off,nope: clip: /m],
          ["seed=0,1", /^error: --set seed=0,1: seeds are the experiment's/m],
        ] as const
      ) {
        const bad = await run(["exp", "tiny", "--set", set, "--dry-run"]);
        assert.equal(bad.code, 2, `${set}: ${bad.stderr}`);
        assert.match(bad.stderr, message);
      }
    });
  }),
});

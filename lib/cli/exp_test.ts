import { denoProgram } from "../env.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  cellFiles,
  runTaskProcess,
  TINY,
  tinyTrain,
  world,
} from "./cli_testing.ts";
import { readCell } from "../experiment/store.ts";
import { nextUp } from "../testing.ts";

Deno.test("deno task exp runs a grid end to end, writes JSON, Markdown and SVG; a second run computes zero cells", async () => {
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
    const results = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
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
});

Deno.test("a cell another experiment beside it stored (same id) is referred to, not trained or copied, and reruns to the same numbers", async () => {
  const lrOnly = { ...TINY, grid: { lr: [1, 3] } };
  const timed = { ...lrOnly, reuse: false };
  await world(
    { tiny: TINY, "tiny-lr": lrOnly, timed },
    async ({ root, run }) => {
      const first = await run(["exp", "tiny", "--out", `${root}/results/tiny`]);
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
});

Deno.test("--set runs go to their own directory under results/_local, and --list shows the grid", async () => {
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
    const r = await run(["exp", "tiny", "--set", "num_epochs=2", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    const readme = await Deno.readTextFile(`${out}/README.md`);
    assert.match(readme, /deno task exp tiny --set num_epochs=2/);
  });
});

Deno.test("--set key=a,b,c sweeps: the list is an axis of its own (several multiply), validated like a grid axis, its directory under results/_local", async () => {
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
    const results = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
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
});

Deno.test("resume after kill -9: the rerun finishes the grid, losing at most the cells in flight; the lock keeps a second runner out", async () => {
  // Cells of a few seconds each, so the kill lands mid-grid.
  const spec = {
    ...TINY,
    grid: { clip: [1, "off"], lr: [1, 2, 3] },
    base: { ...TINY.base, num_epochs: 30, num_hiddens: 32 },
  };
  await world({ tiny: spec }, async ({ root, run }) => {
    const out = `${root}/results`;
    const child = runTaskProcess("exp", ["tiny", "--out", out], {
      RNNLAB_EXPERIMENTS_DIR: `${root}/experiments`,
      RNNLAB_OFFLINE: "1",
    });
    const deadline = Date.now() + 120_000;
    while (cellFiles(out).length < 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const second = await run(["exp", "tiny", "--out", out]);
    assert.equal(second.code, 2);
    assert.match(second.stderr, /\.lock: another runner \(pid \d+/);
    child.kill("SIGKILL");
    await child.status;
    const stored = cellFiles(out).length;
    assert.ok(stored >= 1 && stored < 6, `stored ${stored} of 6 when killed`);
    // Cells in flight notice the runner is gone and stop without writing.
    await new Promise((r) => setTimeout(r, 1500));
    const afterKill = cellFiles(out).length;
    assert.ok(afterKill <= stored + 1, "at most the cell in flight finishes");
    const rerun = await run(["exp", "tiny", "--out", out]);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(
      rerun.stdout,
      new RegExp(`ran ${6 - afterKill} cells .* ${afterKill} already stored`),
    );
    assert.equal(cellFiles(out).length, 6);
    for (const f of cellFiles(out)) {
      JSON.parse(await Deno.readTextFile(`${out}/cells/${f}`));
    }
    const third = await run(["exp", "tiny", "--out", out]);
    assert.equal(third.code, 0, "the lock was released");
    assert.match(third.stdout, /ran 0 cells .* 6 already stored/);
  });
});

Deno.test("kill -9 of a group in flight: the cells it finished are stored as they finished, the rerun trains only the rest", async () => {
  const spec = {
    ...TINY,
    base: {
      ...TINY.base,
      backend: "webgpu",
      engine: "fused",
      num_hiddens: 32,
      eval_every: 5,
    },
    // One group; its 2-epoch cells finish long before its 200-epoch ones.
    grid: { num_epochs: [2, 200], lr: [1, 2] },
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
    const deadline = Date.now() + 120_000;
    while (cellFiles(out).length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill("SIGKILL");
    await child.status;
    await new Promise((r) => setTimeout(r, 1500));
    const stored = cellFiles(out).length;
    assert.equal(stored, 2, "the two short cells, stored mid-group");
    const rerun = await run(["exp", "grouped", "--out", out, "--batch", "4"]);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stdout, /ran 2 cells .* 2 already stored/);
    assert.match(rerun.stderr, /^2 cells train together: /m);
  });
});

Deno.test("damaged cell files are named, never counted: report and compare name them (exit 1, or 2 with nothing valid left), the runner sets them aside and trains their cells again", async () => {
  const spec = { ...TINY, grid: { clip: [1, "off"], lr: [1, 2, 3] } };
  await world({ tiny: spec }, async ({ root, run }) => {
    const out = `${root}/results`;
    assert.equal((await run(["exp", "tiny", "--out", out])).code, 0);
    const files = cellFiles(out).map((f) => `${out}/cells/${f}`);
    assert.equal(files.length, 6);
    const first = await Deno.readTextFile(files[0]);
    const damage: [string, string | Uint8Array, RegExp][] = [
      [files[0], first.slice(0, first.length / 2), /not JSON/],
      [files[1], "", /empty file/],
      [files[2], new Uint8Array([0, 255, 1, 2, 3]), /not JSON/],
      [files[3], JSON.stringify({ cells: [1, 2] }), /schema: /],
      [
        files[4],
        JSON.stringify({
          ...JSON.parse(await Deno.readTextFile(files[4])),
          final: { train_ppl: 2, val_ppl: -5, best_val_ppl: 2 },
        }),
        /final\.val_ppl: .*\(got -5\)/,
      ],
      [files[5], await Deno.readTextFile(files[1]), /is not the file's name/],
    ];
    for (const [path, content] of damage) {
      if (typeof content === "string") await Deno.writeTextFile(path, content);
      else await Deno.writeFile(path, content);
    }
    const named = (text: string) => {
      for (const [path, , reason] of damage) {
        const line = text.split("\n").find((l) => l.includes(path));
        assert.ok(line, `${path} not named in:\n${text}`);
        assert.match(line.slice(line.indexOf(path) + path.length + 2), reason);
      }
    };
    // Every file is damaged: nothing to report, and each is named.
    const report = await run(["report", "tiny", "--out", out]);
    assert.equal(report.code, 2, report.stderr);
    named(report.stderr);
    assert.doesNotMatch(report.stderr, /\bat \S+:\d+:\d+/, "no stack trace");
    const cmp = await run(["compare", out, out]);
    assert.equal(cmp.code, 2, cmp.stderr);
    named(cmp.stderr);
    const dry = await run(["exp", "tiny", "--out", out, "--dry-run"]);
    assert.equal(dry.code, 0, dry.stderr);
    named(dry.stdout);
    assert.match(dry.stdout, /6 cells: 6 to run, 0 to reuse, 0 stored/);
    // The runner keeps the evidence aside and trains the cells again.
    const rerun = await run(["exp", "tiny", "--out", out]);
    assert.equal(rerun.code, 0, rerun.stderr);
    named(rerun.stderr);
    assert.match(
      rerun.stdout,
      /ran 6 cells .* 0 already stored; report of 6\/6/,
    );
    assert.equal([...Deno.readDirSync(`${out}/rejected`)].length, 6);
    assert.equal(cellFiles(out).length, 6);
    // One damaged file among good ones: the report leaves it out, exit 1.
    await Deno.writeTextFile(files[2], "{");
    const partial = await run(["report", "tiny", "--out", out]);
    assert.equal(partial.code, 1, partial.stderr);
    assert.match(partial.stderr, /not a valid cell, left out: not JSON/);
    assert.match(partial.stdout, /report of 5\/6 cells/);
    const results = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
    assert.equal(results.cells.length, 5);
  });
});

Deno.test("SIGINT and SIGTERM stop the runner with one line of what it kept and how to finish; exit 130 and 143", async () => {
  const spec = {
    ...TINY,
    grid: { clip: [1, "off"], lr: [1, 2, 3] },
    base: { ...TINY.base, num_epochs: 30, num_hiddens: 32 },
  };
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    await world({ tiny: spec }, async ({ root }) => {
      const out = `${root}/results`;
      const child = runTaskProcess("exp", ["tiny", "--out", out], {
        RNNLAB_EXPERIMENTS_DIR: `${root}/experiments`,
        RNNLAB_OFFLINE: "1",
      }, "piped");
      const deadline = Date.now() + 120_000;
      while (cellFiles(out).length < 1 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill(signal);
      const r = await child.output();
      const stderr = new TextDecoder().decode(r.stderr);
      assert.equal(r.code, code, stderr);
      const line = new RegExp(
        `^stopped \\(${signal}\\): (\\d) of 6 cells stored in .*; rerun the same command to finish$`,
        "m",
      ).exec(stderr);
      assert.ok(line, stderr);
      // The cell in flight may still store itself as the runner stops.
      const stored = cellFiles(out).length;
      assert.ok(
        stored >= Number(line[1]) && stored <= Number(line[1]) + 1,
        `said ${line[1]}, stored ${stored}`,
      );
      assert.doesNotMatch(stderr, /\bat \S+:\d+:\d+/, "no stack trace");
    });
  }
});

Deno.test("three shards merged by copying equal one run; compare agrees; a diverged cell is stored and exits 1", async () => {
  const spec = {
    ...TINY,
    grid: { clip: [1, "off"], lr: [1, 1e6] },
    base: { ...TINY.base, activation: "relu" },
  };
  await world({ tiny: spec }, async ({ root, run }) => {
    const single = `${root}/single`, merged = `${root}/merged`;
    const r = await run(["exp", "tiny", "--out", single, "--jobs", "2"]);
    assert.equal(r.code, 1, "a diverged cell makes the exit status 1");
    assert.match(r.stdout, /ran 4 cells \(\d done, [1-9] diverged, 0 failed\)/);
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
});

Deno.test("bad experiment files and flags: one error naming file, key and value; exit 2; nothing written", async () => {
  await world({
    tiny: TINY,
    badkey: { ...TINY, grid: { hidden: [8] } },
    badvalue: { ...TINY, grid: { lr: [1, -1] } },
    broken: "export default {",
    noexport: "export const spec = {};\n",
    short: { ...TINY, base: { ...TINY.base, batch_size: 60 } },
    nocorpus: `export default ${
      JSON.stringify({
        ...TINY,
        name: "nocorpus",
        base: { corpus: "none.txt" },
      })
    };\n`,
  }, async ({ root, run }) => {
    const out = `${root}/results`;
    const cases: [string[], RegExp][] = [
      [
        ["exp", "nope"],
        /^error: experiment "nope": no file .*nope\.ts \(experiments: badkey, badvalue, broken, nocorpus, noexport, short, tiny\)/,
      ],
      [
        ["exp", "badkey"],
        /^error: .*badkey\.ts: grid\.hidden: not a config key/,
      ],
      [
        ["exp", "badvalue"],
        /^error: .*badvalue\.ts: grid\.lr\[1\]: lr: .*\(got -1\)/,
      ],
      [["exp", "broken"], /^error: .*broken\.ts: cannot be loaded/],
      [
        ["exp", "noexport"],
        /^error: .*noexport\.ts: no default export \(write `export default defineExperiment/,
      ],
      // A grid point with no minibatch is refused before anything runs.
      [
        ["exp", "short"],
        /^error: .*short\.ts: batch_size 60 × num_steps 5 needs at least 306 training tokens .*, but max_tokens 300 of .*book\.txt gives 300$/m,
      ],
      [
        ["exp", "short", "--dry-run"],
        /^error: .*short\.ts: batch_size 60 × num_steps 5 needs at least 306/,
      ],
      [
        ["exp", "nocorpus"],
        /^error: .*nocorpus\.ts: corpus "none\.txt": /,
      ],
      [
        ["exp", "tiny", "--filter", "lr=3"],
        /^error: --filter lr=3: no cell has it \(lr: 1, 2\)$/m,
      ],
      [
        ["exp", "tiny", "--set", "colour=red"],
        /^error: --set colour=red: colour is not a config key/,
      ],
      [["exp", "tiny", "--set", "lr=0"], /^error: --set lr=0: lr: .*\(got 0\)/],
      [["exp", "tiny", "--shard", "4/3"], /^error: --shard: expected i\/n/],
      [
        ["exp", "tiny", "--jobs", "0"],
        /^error: --jobs: expected a whole number ≥ 1, got "0"/,
      ],
      [["exp", "tiny", "--bogus"], /^error: unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const r = await run([...args, "--out", out]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    assert.ok(!(await Deno.stat(out).catch(() => null)), "nothing written");
    // A broken file breaks only itself: --list marks it, the others run.
    const list = await run(["exp", "--list"]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      /^broken {2}\(broken: .*broken\.ts: cannot be loaded/m,
    );
    assert.match(list.stdout, /^noexport {2}\(broken: .*no default export/m);
    assert.match(list.stdout, /^tiny {2}\(4 cells, ≈ /m);
    const dry = await run(["exp", "tiny", "--out", out, "--dry-run"]);
    assert.equal(dry.code, 0, dry.stderr);
  });
});

Deno.test("a checkout whose path holds a space and non-ASCII letters: --list and a dry run work", async () => {
  const root = await Deno.makeTempDir({ prefix: "rnnlab my code ü " });
  try {
    const here = fileURLToPath(new URL("../..", import.meta.url));
    const copy = async (from: string, to: string) => {
      const info = await Deno.stat(from);
      if (info.isFile) return await Deno.copyFile(from, to);
      await Deno.mkdir(to, { recursive: true });
      for await (const e of Deno.readDir(from)) {
        if (e.name === "results" || e.name.startsWith(".")) continue;
        await copy(join(from, e.name), join(to, e.name));
      }
    };
    for (
      const name of ["lib", "experiments", "mod.ts", "deno.json", "deno.lock"]
    ) {
      await copy(join(here, name), join(root, name));
    }
    const task = JSON.parse(await Deno.readTextFile(join(here, "deno.json")))
      .tasks.exp.split(/\s+/).slice(2);
    const run = (args: string[]) =>
      new Deno.Command(denoProgram(), {
        args: [
          "run",
          ...task.slice(0, -1),
          join(root, "lib/cli/exp.ts"),
          ...args,
        ],
        cwd: root,
        env: { NO_COLOR: "1" },
      }).output();
    const list = await run(["--list"]);
    const text = new TextDecoder();
    assert.equal(list.code, 0, text.decode(list.stderr));
    assert.match(text.decode(list.stdout), /^clipping-ablation +\(24 cells/m);
    const dry = await run([
      "d2l-baseline",
      "--dry-run",
      "--set",
      "num_epochs=1",
      "--out",
      join(root, "out put"),
    ]);
    assert.equal(dry.code, 0, text.decode(dry.stderr));
    assert.match(text.decode(dry.stdout), /6 cells: 6 to run/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** A Turkish passage (the opening of The Time Machine, translated). */
const TURKISH =
  `Zaman Yolcusu (ona böyle demek uygun olacak) bize anlaşılması güç bir
konuyu açıklıyordu. Gri gözleri parlıyor ve ışıldıyordu; her zaman solgun olan
yüzü kızarmış ve canlanmıştı. İçimizden biri, Filby, "Işık nereye gider?" diye sordu.
`.repeat(3);

Deno.test("a text d2l's A–Z would gut is flagged by data, train and the runner, recorded in each cell, and kept whole with letters: unicode", async () => {
  const base = { ...TINY.base, num_epochs: 1 };
  await world({
    turkish: { ...TINY, base, grid: { letters: ["ascii", "unicode"] } },
  }, async ({ root, run }) => {
    const tr = `${root}/tr.txt`;
    await Deno.writeTextFile(tr, TURKISH);
    // The world points every experiment at its book; this one reads Turkish.
    const file = `${root}/experiments/turkish.ts`;
    await Deno.writeTextFile(
      file,
      (await Deno.readTextFile(file)).replace(`${root}/book.txt`, tr),
    );
    const warning =
      /^warning: .*tr\.txt: d2l's preprocessing keeps only A–Z and drops 14\.2 % of the letters \(81 of 570: ışüçöi\); letters: "unicode" \(--letters unicode\) keeps them$/m;
    const data = await run(["data", "--corpus", tr]);
    assert.equal(data.code, 0, data.stderr);
    assert.match(data.stderr, warning);
    assert.match(
      data.stdout,
      /^letters {8}ascii: 81 of 570 letters not A–Z, dropped \(ışüçöi\)$/m,
    );
    const whole = await run(["data", "--corpus", tr, "--letters", "unicode"]);
    assert.doesNotMatch(whole.stderr, /warning/);
    assert.match(whole.stdout, /^vocab .* ş .*$/m);
    const train = await run([...tinyTrain(tr, 1), "--quiet"]);
    assert.equal(train.code, 0, train.stderr);
    assert.match(train.stderr, warning);

    const out = `${root}/results`;
    const grid = await run(["exp", "turkish", "--out", out]);
    assert.equal(grid.code, 0, grid.stderr);
    assert.match(grid.stderr, warning);
    const cells = await Promise.all(
      cellFiles(out).map((f) => readCell(out, f.slice(0, -".json".length))),
    );
    const by = (letters?: string) =>
      cells.find((c) => c?.config.letters === letters)!;
    assert.deepEqual(by(undefined).corpus.dropped_letters, {
      count: 81,
      of: 570,
      chars: "ışüçöi",
    });
    assert.equal(by("unicode").corpus.dropped_letters?.count, 0);
    assert.ok(by("unicode").corpus.vocab.includes("ş"));
    assert.ok(!by(undefined).corpus.vocab.includes("ş"));
    // The table tells the two apart; a filter names the book's by value.
    const results = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
    assert.deepEqual(results.varying_keys, ["letters"]);
    assert.deepEqual(results.rows.map((r: { point: unknown }) => r.point), [
      { letters: "ascii" },
      { letters: "unicode" },
    ]);
    const ascii = await run([
      "exp",
      "turkish",
      "--out",
      out,
      "--dry-run",
      "--filter",
      "letters=ascii",
    ]);
    assert.match(ascii.stdout, /^1 cells: 0 to run, 0 to reuse, 1 stored/m);
  });
});

Deno.test("--batch trains a grid's cells of one shape together (one process, the same dispatches); each cell is what --batch 1 computes, exactly", async () => {
  const fused = {
    ...TINY,
    base: { ...TINY.base, backend: "webgpu", engine: "fused", num_epochs: 4 },
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
    // Verifying a batched grid reruns it batched, and agrees exactly.
    const verified = await run(["exp", "fused", "--out", together, "--verify"]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /^same: /m);
  });
});

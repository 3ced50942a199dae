import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { denoProgram } from "../env.ts";
import { cellFiles, TINY, tinyTrain, world } from "./cli_testing.ts";
import { readCell } from "../experiment/store.ts";
import { requires } from "../testing.ts";

Deno.test({
  name:
    "damaged cell files are named, never counted: report and compare name them (exit 1, or 2 with nothing valid left), the runner sets them aside and trains their cells again",
  ...requires(["blas"], async () => {
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
        if (typeof content === "string") {
          await Deno.writeTextFile(path, content);
        } else await Deno.writeFile(path, content);
      }
      const named = (text: string) => {
        for (const [path, , reason] of damage) {
          const line = text.split("\n").find((l) => l.includes(path));
          assert.ok(line, `${path} not named in:\n${text}`);
          assert.match(
            line.slice(line.indexOf(path) + path.length + 2),
            reason,
          );
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
      const results = JSON.parse(
        await Deno.readTextFile(`${out}/results.json`),
      );
      assert.equal(results.cells.length, 5);
    });
  }),
});

Deno.test("bad experiment files and flags: one error naming file, key and value; exit 2; nothing written", async () => {
  await world({
    tiny: TINY,
    badkey: { ...TINY, grid: { hidden: [8] } },
    badvalue: { ...TINY, grid: { lr: [1, -1] } },
    broken: "export default {",
    noexport: "export const spec = {};\n",
    short: { ...TINY, base: { ...TINY.base, batch_size: 60 } },
    badsearch: {
      ...TINY,
      grid: undefined,
      search: {
        space: { lr: { log_uniform: [2, 1] } },
        configurations: 3,
        rungs: [2],
      },
    },
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
        /^error: experiment "nope": no file .*nope\.ts \(experiments: badkey, badsearch, badvalue, broken, nocorpus, noexport, short, tiny\)/,
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
        ["exp", "badsearch"],
        /^error: .*badsearch\.ts: search\.space\.lr: expected lo < hi, got \[2, 1\]$/m,
      ],
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
      [
        ["exp", "tiny", "--checkpoint-every", "-1"],
        /^error: --checkpoint-every: expected a number of seconds ≥ 0, got "-1"/,
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

Deno.test({
  name:
    "a text d2l's A–Z would gut is flagged by data, train and the runner, recorded in each cell, and kept whole with letters: unicode",
  ...requires(["blas"], async () => {
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
      const results = JSON.parse(
        await Deno.readTextFile(`${out}/results.json`),
      );
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
  }),
});

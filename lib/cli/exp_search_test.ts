import assert from "node:assert/strict";
import { cellFiles, TINY, world } from "./cli_testing.ts";
import { requires } from "../testing.ts";

/** Nine tiny configurations, rungs at 2, 4 and 8 epochs, the winner at 12 with three seeds. */
const SEARCH = {
  description: "A tiny search.",
  exercises: ["2. How low can you go?"],
  base: { ...TINY.base, num_epochs: 12 },
  search: {
    space: {
      lr: { log_uniform: [0.25, 4] },
      num_hiddens: { choices: [8, 16] },
      input: {
        choices: [
          { input: "one_hot" },
          { input: "embedding", embed_size: 4 },
        ],
      },
    },
    configurations: 9,
    rungs: [2, 4, 8],
  },
  seeds: [0, 1, 2],
};

/** The decisions line a run or a report prints. */
const decisions = (stdout: string) =>
  /^search: (.*)$/m.exec(stdout)?.[1] ?? `no decisions in: ${stdout}`;

/** What a report's results.json says of the search, and its cells. */
const searchOf = (dir: string) => {
  const r = JSON.parse(Deno.readTextFileSync(`${dir}/results.json`));
  return { search: r.search, cells: [...r.cells].sort(), rows: r.rows };
};

Deno.test({
  name:
    "a search trains rung by rung, each rung going on from the one before; a rerun trains nothing, --dry-run shows every rung and --verify reruns every cell and derives the same decisions",
  ...requires(["blas"], () =>
    world({ s: SEARCH }, async ({ root, run }) => {
      const out = `${root}/out`;
      const dry = await run(["exp", "s", "--out", out, "--dry-run"]);
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /^rung 1 \(2 epochs\): 9 configurations$/m);
      assert.match(
        dry.stdout,
        /^rung 2 \(4 epochs\): 3 configurations, chosen once rung 1 is stored$/m,
      );
      assert.match(dry.stdout, /16 cells and 56 epochs in all/);
      assert.equal(cellFiles(out).length, 0);

      const first = await run(["exp", "s", "--out", out]);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /ran 16 cells \(16 done/);
      const said = decisions(first.stdout);
      assert.match(
        said,
        /^rung 1 \(2 epochs\): #\d, #\d, #\d went on of 9; rung 2 \(4 epochs\): #\d went on of 3; rung 3 \(8 epochs\): #\d won of 1$/,
      );
      // Rungs 2 and 3 and the winner's first seed go on from the rung before.
      const resumed = [
        ...first.stderr.matchAll(/^resumed \S+ .* from epoch (\d+)/gm),
      ]
        .map((m) => Number(m[1]));
      assert.deepEqual(resumed.sort((a, b) => a - b), [2, 2, 2, 4, 8]);
      assert.deepEqual([...Deno.readDirSync(`${out}/checkpoints`)], []);
      assert.equal(cellFiles(out).length, 16);
      const report = Deno.readTextFileSync(`${out}/README.md`);
      assert.match(report, /^## Search$/m);
      assert.match(report, /^\| #\d \| .* → \| .* → \| .* ★ \|$/m);
      const { rows } = searchOf(out);
      assert.equal(rows.length, 1);
      assert.deepEqual(rows[0].seeds, [0, 1, 2]);

      const again = await run(["exp", "s", "--out", out]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /ran 0 cells .* 16 already stored/);
      assert.equal(decisions(again.stdout), said);

      const verify = await run(["exp", "s", "--out", out, "--verify"]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      assert.match(verify.stdout, /same: \d+ of \d+ values within tolerance/);
      assert.match(
        verify.stdout,
        new RegExp(
          `^decisions: the same from the 16 rerun cells \\(${
            said.replace(/[()]/g, "\\$&")
          }\\)$`,
          "m",
        ),
      );

      // Its page as one file; a target that cannot be one is refused first.
      const html = await run([
        "report",
        "s",
        "--out",
        out,
        "--html",
        `${root}/s.html`,
      ]);
      assert.equal(html.code, 0, html.stderr);
      assert.match(
        await Deno.readTextFile(`${root}/s.html`),
        /globalThis\.RNNLAB_VIEW = \{"dir":"out"/,
      );
      for (
        const [target, message] of [
          [root, /^error: --html: .* is a directory; name a file$/m],
          [
            `${root}/none/s.html`,
            /^error: --html: directory ".*none" does not exist$/m,
          ],
        ]
      ) {
        const bad = await run([
          "report",
          "s",
          "--out",
          out,
          "--html",
          target as string,
        ]);
        assert.equal(bad.code, 2, bad.stderr);
        assert.match(bad.stderr, message as RegExp);
      }
      const sweep = await run(["exp", "s", "--out", out, "--set", "lr=1,2"]);
      assert.equal(sweep.code, 2);
      assert.match(
        sweep.stderr,
        /^error: --set lr: a search draws its own values; set one value, not a list$/m,
      );

      const filtered = await run([
        "exp",
        "s",
        "--out",
        out,
        "--filter",
        "num_hiddens=8",
      ]);
      assert.equal(filtered.code, 2);
      assert.match(
        filtered.stderr,
        /--filter num_hiddens=8: a search decides from all of its cells/,
      );
    })),
});

Deno.test({
  name:
    "a search sharded in two, run round by round as a Slurm array would, stops where a rung waits for the other shard and ends with the same cells and decisions as one run",
  ...requires(["blas"], () =>
    world({ s: SEARCH }, async ({ root, run }) => {
      const whole = await run(["exp", "s", "--out", `${root}/whole`]);
      assert.equal(whole.code, 0, whole.stderr);
      let waited = 0;
      for (let round = 0; round < 6; round++) {
        for (const i of [1, 2]) {
          const shard = await run([
            "exp",
            "s",
            "--shard",
            `${i}/2`,
            "--no-reuse",
            "--out",
            `${root}/shards/shard-${i}`,
          ]);
          assert.equal(shard.code, 0, shard.stderr);
          if (/waits for the other shards' cells/.test(shard.stdout)) waited++;
        }
      }
      assert.ok(waited >= 3, `a shard waited ${waited} times`);
      const merged = `${root}/merged`;
      await Deno.mkdir(`${merged}/cells`, { recursive: true });
      const names = [1, 2].flatMap((i) =>
        cellFiles(`${root}/shards/shard-${i}`).map((n) => [i, n] as const)
      );
      assert.equal(names.length, 16);
      for (const [i, n] of names) {
        await Deno.copyFile(
          `${root}/shards/shard-${i}/cells/${n}`,
          `${merged}/cells/${n}`,
        );
      }
      const report = await run(["report", "s", "--out", merged]);
      assert.equal(report.code, 0, report.stderr);
      const a = searchOf(`${root}/whole`), b = searchOf(merged);
      assert.deepEqual(b.cells, a.cells);
      assert.deepEqual(b.search, a.search);
    })),
});

/**
 * File-system faults, caused for real: a full disk (a small tmpfs), a
 * read-only mount, a file where a directory belongs, a path under /proc.
 * Each must end in one `error:` line naming the path, the right exit
 * status, and nothing half-written. Mounting needs root: without it the
 * tmpfs tests are ignored, or fail where RNNLAB_REQUIRE names root (the
 * runner's handling of a cell that cannot be stored is also tested
 * without a mount, in lib/experiment/runner_test.ts).
 */
import assert from "node:assert/strict";
import { type Ran, TINY, tinyTrain, world } from "./cli_testing.ts";
import { requires } from "../testing.ts";

async function sh(...args: string[]) {
  const out = await new Deno.Command(args[0], { args: args.slice(1) })
    .output();
  if (!out.success) {
    throw new Error(
      `${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/** A tmpfs of `size` (e.g. "12k") at a new directory, unmounted afterwards. */
async function withTmpfs(
  size: string,
  fn: (dir: string) => Promise<void>,
  options = "",
) {
  const dir = await Deno.makeTempDir({ prefix: "rnnlab-tmpfs-" });
  await sh(
    "mount",
    "-t",
    "tmpfs",
    "-o",
    `size=${size}${options}`,
    "tmpfs",
    dir,
  );
  try {
    await fn(dir);
  } finally {
    await sh("umount", dir);
    await Deno.remove(dir);
  }
}

/** The world of these tests: the tiny grid, as "tiny". */
const tiny = (fn: Parameters<typeof world>[1]) => world({ tiny: TINY }, fn);

/** One `error:` line on stderr, nothing that looks like a stack trace. */
function oneErrorLine(r: Ran, pattern: RegExp) {
  // Mesa's complaint about XDG_RUNTIME_DIR is not rnnlab's.
  const lines = r.stderr.trim().split("\n").filter((l) =>
    l.startsWith("error:") && !l.includes("XDG_RUNTIME_DIR")
  );
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
}

const names = (dir: string) =>
  [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test({
  name:
    "disk full mid-grid: the runner stops with one line saying what it kept, leaves no partial file, and the same command finishes once there is room; report on a full disk writes nothing",
  ...requires(["root", "blas"], () =>
    tiny(({ run }) =>
      // Room for the lock and a few small files: the disk fills mid-grid.
      withTmpfs("16k", async (out) => {
        const full = await run(["exp", "tiny", "--out", out]);
        assert.equal(full.code, 1, full.stdout + full.stderr);
        const stored = names(`${out}/cells`).length;
        assert.ok(stored >= 1 && stored < 4, `${stored} of 4 stored`);
        oneErrorLine(
          full,
          new RegExp(
            `^error: ${out}/cells/\\w{16}\\.json: no space left on the device; free some space; ` +
              `stopped: ${stored} of 4 cells stored in ${out}, ${
                4 - stored
              } missing; rerun the same command to finish$`,
          ),
        );
        assert.deepEqual(
          names(out),
          [".lock", "cells"],
          "no report, no live file",
        );
        assert.ok(
          names(`${out}/cells`).every((n) => /^\w{16}\.json$/.test(n)),
          "no temporary file left",
        );

        const report = await run(["report", "tiny", "--out", out]);
        assert.equal(report.code, 1, report.stderr);
        oneErrorLine(
          report,
          /: no space left on the device; free some space, then write the report again/,
        );
        assert.deepEqual(names(out), [".lock", "cells"], "no report, no temp");

        await sh("mount", "-o", "remount,size=4m", out);
        const rest = await run(["exp", "tiny", "--out", out]);
        assert.equal(rest.code, 0, rest.stderr);
        assert.match(
          rest.stdout,
          new RegExp(`ran ${4 - stored} cells .* ${stored} already stored`),
        );

        // A full disk leaves the report already there whole.
        const report_files = ["README.md", "results.json", "train_ppl.svg"];
        const before = await Promise.all(
          report_files.map((f) => Deno.readTextFile(`${out}/${f}`)),
        );
        const filler = await Deno.open(`${out}/filler`, {
          write: true,
          create: true,
        });
        const block = new Uint8Array(4096);
        try {
          for (;;) await filler.write(block);
        } catch { /* full */ }
        filler.close();
        const again = await run(["report", "tiny", "--out", out]);
        assert.equal(again.code, 1, again.stderr);
        oneErrorLine(again, /: no space left on the device; free some space/);
        assert.deepEqual(
          await Promise.all(
            report_files.map((f) => Deno.readTextFile(`${out}/${f}`)),
          ),
          before,
          "the previous report, whole",
        );
        assert.ok(
          names(out).every((n) => !n.includes(".tmp")),
          "no temporary file left",
        );
      })
    )),
});

Deno.test({
  name:
    "a read-only --out: one line naming it, exit 1, nothing written; train --json onto it is refused before training",
  ...requires(
    ["root"],
    () =>
      tiny(({ root, run }) =>
        withTmpfs("1m", async (out) => {
          const r = await run(["exp", "tiny", "--out", `${out}/x`]);
          assert.equal(r.code, 1, r.stderr);
          oneErrorLine(
            r,
            new RegExp(
              `^error: ${out}/x: read-only file system; choose a writable location`,
            ),
          );
          const t = await run([
            ...tinyTrain(`${root}/book.txt`, 1),
            "--json",
            `${out}/run.json`,
          ]);
          assert.equal(t.code, 2, t.stderr);
          oneErrorLine(t, /--json: .*run\.json: read-only file system/);
          assert.doesNotMatch(t.stdout, /epoch/, "refused before training");
          assert.deepEqual(names(out), []);
        }, ",ro")
      ),
  ),
});

Deno.test({
  name:
    "train --json whose disk fills while it trains keeps the run's record: written elsewhere, and the error says where",
  ...requires(["root", "blas"], () =>
    tiny(({ root, run }) =>
      // An empty probe fits, the record does not.
      withTmpfs("4k", async (out) => {
        await Deno.writeTextFile(`${out}/filler`, "x".repeat(4000));
        const t = await run([
          ...tinyTrain(`${root}/book.txt`, 2),
          "--quiet",
          "--json",
          `${out}/run.json`,
        ]);
        assert.equal(t.code, 1, t.stderr);
        oneErrorLine(
          t,
          /run\.json: no space left on the device; free some space, the record was written to (\S+) instead$/,
        );
        const kept = /written to (\S+) instead/.exec(t.stderr)![1];
        try {
          const record = JSON.parse(await Deno.readTextFile(kept));
          assert.equal(record.status, "done");
          assert.equal(record.train_ppl.length, 2);
        } finally {
          await Deno.remove(kept);
        }
        assert.deepEqual(names(out), ["filler"], "no partial file");
      })
    )),
});

Deno.test("a file where a directory belongs, or a path under /proc: one line, exit 2 or 1, no stack trace", async () => {
  await tiny(async ({ root, run }) => {
    const file = `${root}/book.txt`;
    const asOut = await run(["exp", "tiny", "--out", file]);
    assert.equal(asOut.code, 2);
    oneErrorLine(
      asOut,
      /^error: --out: .*book\.txt is a file, not a directory$/,
    );
    const proc = await run(["exp", "tiny", "--out", "/proc/rnnlab/x"]);
    assert.equal(proc.code, 1, proc.stderr);
    oneErrorLine(
      proc,
      /^error: \/proc\/rnnlab\/x\S*: this task's permissions do not reach it; choose another location$/,
    );
    const report = await run(["report", "tiny", "--out", file]);
    assert.equal(report.code, 2);
    oneErrorLine(report, /book\.txt is a file, not a results directory/);
    const compare = await run(["compare", file, root]);
    assert.equal(compare.code, 2);
    oneErrorLine(compare, /^error: dirA: .*book\.txt is a file/);
    const missing = await run(["compare", `${root}/none`, root]);
    assert.equal(missing.code, 2);
    oneErrorLine(missing, /^error: dirA: .*none: no such directory$/);
    const json = await run([
      "train",
      "--corpus",
      file,
      "--num_epochs",
      "1",
      "--json",
      root,
    ]);
    assert.equal(json.code, 2);
    oneErrorLine(json, /--json: .* is a directory; name a file$/);
    assert.doesNotMatch(json.stdout, /epoch/, "refused before training");
  });
});

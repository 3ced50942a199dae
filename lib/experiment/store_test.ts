import { denoProgram } from "../env.ts";
import assert from "node:assert/strict";
import { UserError } from "../errors.ts";
import { writeJsonAtomic } from "../fsutil.ts";
import { acquireLock } from "./store.ts";

Deno.test("the lock keeps a second runner out, names the holder, and is released", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const release = await acquireLock(dir);
    await assert.rejects(
      acquireLock(dir),
      (e) =>
        e instanceof UserError &&
        e.message.includes(`${dir}/.lock: another runner (pid ${Deno.pid}`),
    );
    release();
    (await acquireLock(dir))();
    await assert.rejects(
      acquireLock(dir).then(async (r) => {
        r();
        const again = await acquireLock(dir);
        await acquireLock(dir).finally(again);
      }),
      UserError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a lock held by a process killed with -9 is free again", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const holder = new Deno.Command(denoProgram(), {
      args: [
        "eval",
        `const f = await Deno.open(${
          JSON.stringify(`${dir}/.lock`)
        }, { write: true, create: true });
        await f.lock(true); console.log("locked"); setInterval(() => {}, 1000);`,
      ],
      stdout: "piped",
    }).spawn();
    const reader = holder.stdout.getReader();
    await reader.read(); // "locked"
    await assert.rejects(acquireLock(dir), UserError);
    holder.kill("SIGKILL");
    await holder.status;
    reader.releaseLock();
    await holder.stdout.cancel();
    const release = await acquireLock(dir);
    assert.equal(
      JSON.parse(await Deno.readTextFile(`${dir}/.lock`)).pid,
      Deno.pid,
    );
    release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("atomic writes: a concurrent reader never sees partial JSON", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/cell.json`;
  try {
    // A child process reads as fast as it can while this process rewrites a large file.
    const reader = new Deno.Command(denoProgram(), {
      args: [
        "eval",
        `let ok = 0, bad = 0;
         const end = Date.now() + 1500;
         while (Date.now() < end) {
           let text; try { text = Deno.readTextFileSync(${
          JSON.stringify(path)
        }); } catch { continue; }
           try { JSON.parse(text); ok++; } catch { bad++; }
         }
         console.log(JSON.stringify({ ok, bad }));`,
      ],
      stdout: "piped",
    }).spawn();
    const big = { train_ppl: Array.from({ length: 50_000 }, (_, i) => i / 7) };
    const until = Date.now() + 1500;
    let writes = 0;
    while (Date.now() < until) {
      await writeJsonAtomic(path, { ...big, n: writes++ });
    }
    const { ok, bad } = JSON.parse(
      new TextDecoder().decode((await reader.output()).stdout),
    );
    assert.equal(bad, 0, `${bad} partial reads`);
    assert.ok(ok > 10 && writes > 10, `reads ${ok}, writes ${writes}`);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [
      "cell.json",
    ], "no temporary files left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

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
    const big = { train_ppl: Array.from({ length: 50_000 }, (_, i) => i / 7) };
    let writes = 0;
    await writeJsonAtomic(path, { ...big, n: writes++ });
    // A child process reads the file over and over; it says each version
    // it sees (a handshake: the writes go on until it has seen several),
    // and its counts once its stdin closes.
    const reader = new Deno.Command(denoProgram(), {
      args: [
        "eval",
        `let ok = 0, bad = 0, done = false;
         const seen = new Set();
         (async () => { for await (const _ of Deno.stdin.readable) {} done = true; })();
         while (!done) {
           let text;
           try { text = await Deno.readTextFile(${
          JSON.stringify(path)
        }); } catch { continue; }
           let n;
           try { n = JSON.parse(text).n; ok++; } catch { bad++; continue; }
           if (!seen.has(n)) { seen.add(n); console.log("seen " + seen.size); }
         }
         console.log(JSON.stringify({ ok, bad, seen: seen.size }));`,
      ],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const lines = reader.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let text = "";
    const seen = () =>
      Number(/seen (\d+)\n(?![\s\S]*seen)/.exec(text)?.[1] ?? 0);
    const reading = (async () => {
      for (let r = await lines.read(); !r.done; r = await lines.read()) {
        text += r.value;
      }
    })();
    // Rewrite it until the reader has seen five versions come and go.
    while (seen() < 5) {
      await writeJsonAtomic(path, { ...big, n: writes++ });
      await new Promise((r) => setTimeout(r, 0));
    }
    await reader.stdin.close();
    await reading;
    await reader.status;
    const { ok, bad } = JSON.parse(text.trim().split("\n").at(-1)!);
    assert.equal(bad, 0, `${bad} partial reads`);
    assert.ok(ok >= 5, `reads ${ok}, writes ${writes}`);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [
      "cell.json",
    ], "no temporary files left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { denoProgram } from "../env.ts";
import { bundleArgs, ensureBundle, ENTRIES } from "./bundle.ts";
import { handler } from "./server.ts";

Deno.test("the page's scripts are built from their sources when missing or stale, and what is served is the bundle of the sources", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rnnlab-bundle-" });
  const fresh = await Deno.makeTempDir({ prefix: "rnnlab-fresh-" });
  try {
    const out = `${dir}/app`;
    assert.deepEqual(await ensureBundle(out), { dir: out, built: true });
    assert.deepEqual(await ensureBundle(out), { dir: out, built: false });
    // A stale stamp (the sources changed since) or a missing script: built again.
    await Deno.writeTextFile(`${out}/stamp`, "0000\n");
    assert.equal((await ensureBundle(out)).built, true);
    await Deno.remove(`${out}/trainer.js`);
    assert.equal((await ensureBundle(out)).built, true);
    // What the server hands the browser is what `deno bundle` makes of the sources now.
    const serve = handler({
      root: dir,
      experiments: dir,
      bundle: out,
      poll: 50,
    });
    for (const [name, entry] of Object.entries(ENTRIES)) {
      const built = await new Deno.Command(denoProgram(), {
        args: bundleArgs(entry, `${fresh}/${name}`),
      }).output();
      assert.ok(built.success, name);
      const served = await serve(
        new Request(`http://127.0.0.1/assets/${name}`),
      );
      assert.equal(served.status, 200);
      assert.equal(
        await served.text(),
        await Deno.readTextFile(`${fresh}/${name}`),
        name,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(fresh, { recursive: true });
  }
});

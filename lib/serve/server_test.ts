import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { handler } from "./server.ts";
import { looked } from "./data.ts";
import { ensureBundle } from "./bundle.ts";
import { runTaskProcess } from "../cli/cli_testing.ts";
import { writeCell } from "../experiment/store.ts";
import { storedRun } from "../experiment/testing.ts";
import { resolveConfig } from "../config/config.ts";

const EXPERIMENTS = fileURLToPath(
  new URL("../../experiments", import.meta.url),
);
const { dir: BUNDLE } = await ensureBundle();

/** A results tree with one directory, a symlink out of it, and a file symlink out. */
async function tree(
  fn: (
    root: string,
    get: (path: string, init?: RequestInit) => Promise<Response>,
  ) => Promise<void>,
) {
  const root = await Deno.makeTempDir({ prefix: "rnnlab-serve-" });
  const outside = await Deno.makeTempDir({ prefix: "rnnlab-outside-" });
  try {
    const run = await storedRun(
      resolveConfig({ num_epochs: 3, eval_every: 2 }),
    );
    await writeCell(`${root}/tiny`, run);
    await Deno.writeTextFile(`${outside}/secret.txt`, "secret\n");
    await Deno.mkdir(`${outside}/cells`);
    await writeCell(outside, { ...run });
    await Deno.symlink(outside, `${root}/evil`);
    await Deno.symlink(`${outside}/secret.txt`, `${root}/tiny/README.md`);
    const handle = handler({
      root,
      experiments: EXPERIMENTS,
      bundle: BUNDLE,
      poll: 50,
    });
    await fn(
      root,
      (path, init) => handle(new Request(`http://127.0.0.1${path}`, init)),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
}

Deno.test("serve: the API lists and shows what the tree holds; traversal, absolute paths, symlinks out and bad requests are 404, writes 405", async () => {
  await tree(async (_root, get) => {
    const list = await (await get("/api/experiments")).json();
    assert.deepEqual(
      list.map((d: { dir: string }) => d.dir),
      ["tiny"],
      "the symlink out is not listed",
    );
    assert.equal(list[0].stored, 1);
    const view = await (await get("/api/experiment?dir=tiny")).json();
    assert.equal(view.cells.length, 1);
    assert.equal(view.cells[0].train.length, 3);
    const id = view.cells[0].id;
    const cell = await (await get(`/api/cell?dir=tiny&id=${id}`)).json();
    assert.equal(cell.id, id);
    assert.equal((await get(`/files/tiny/cells/${id}.json`)).status, 200);
    const page = await get("/");
    assert.equal(page.status, 200);
    assert.match(
      await page.text(),
      /<script src="\/assets\/vega-embed\.min\.js">/,
    );
    for (
      const asset of [
        "app.js",
        "app.css",
        "vega.min.js",
        "vega-lite.min.js",
        "vega-embed.min.js",
      ]
    ) {
      const res = await get(`/assets/${asset}`);
      assert.equal(res.status, 200, asset);
      assert.ok((await res.arrayBuffer()).byteLength > 100, asset);
    }
    const refused = [
      "/..%2f..%2fetc/passwd",
      "/../../etc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/files/..%2f..%2fetc/passwd",
      "/files/tiny/..%2f..%2f..%2fetc%2fpasswd",
      "/files/%2fetc/passwd",
      "/files/evil/results.json",
      "/files/tiny/README.md", // a symlink out of the tree
      "/files/tiny/secret.txt",
      "/files/tiny/cells/..%2f..%2fx.json",
      "/assets/..%2f..%2fdeno.json",
      "/assets/server.ts",
      "/api/experiment?dir=../../etc",
      "/api/experiment?dir=%2Fetc",
      "/api/experiment?dir=evil",
      "/api/experiment?dir=tiny%2F..%2F..",
      "/api/cell?dir=tiny&id=..%2F..%2Fsecret",
      "/api/events?dir=..",
      "/api/nope",
      "/%E0%A4%A",
      "/nope",
    ];
    for (const path of refused) {
      const res = await get(path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(await res.text(), /secret/, path);
    }
    assert.equal(
      (await get("/api/experiments", { method: "POST" })).status,
      405,
    );
    assert.equal(
      (await get("/api/experiments", { method: "DELETE" })).status,
      405,
    );
    assert.equal((await get("/", { method: "HEAD" })).status, 200);
  });
});

Deno.test("serve: the event stream says when a directory's cells change", async () => {
  await tree(async (root, get) => {
    const res = await get("/api/events?dir=tiny");
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const first = await reader.read();
    assert.match(first.value ?? "", /^retry: /);
    await writeCell(
      `${root}/tiny`,
      await storedRun(resolveConfig({ num_epochs: 2, seed: 1 })),
    );
    let text = "";
    const deadline = Date.now() + 5000;
    while (!text.includes("event: change") && Date.now() < deadline) {
      text += (await reader.read()).value ?? "";
    }
    assert.match(text, /event: change/);
    await reader.cancel();
  });
});

Deno.test("serve: a change between loading a view and listening is announced (the view's state is the stream's start)", async () => {
  await tree(async (root, get) => {
    const view = await get("/api/experiment?dir=tiny");
    const since = view.headers.get("rnnlab-state");
    await view.body?.cancel();
    assert.match(since ?? "", /^[0-9a-f]{16}$/);
    const readUntil = async (res: Response, ms: number) => {
      const reader = res.body!.pipeThrough(new TextDecoderStream())
        .getReader();
      let text = "";
      const deadline = Date.now() + ms;
      while (!text.includes("event: change") && Date.now() < deadline) {
        const next = await Promise.race([
          reader.read(),
          new Promise<null>((r) => setTimeout(() => r(null), 300)),
        ]);
        if (next) text += next.value ?? "";
      }
      await reader.cancel();
      return text;
    };
    // Nothing changed since the view: the stream is quiet.
    assert.doesNotMatch(
      await readUntil(await get(`/api/events?dir=tiny&since=${since}`), 1000),
      /event: change/,
    );
    // A cell stored before the page listens is still announced.
    await writeCell(
      `${root}/tiny`,
      await storedRun(resolveConfig({ num_epochs: 2, seed: 2 })),
    );
    assert.match(
      await readUntil(await get(`/api/events?dir=tiny&since=${since}`), 5000),
      /event: change/,
    );
    const index = await get("/api/experiments");
    assert.match(index.headers.get("rnnlab-state") ?? "", /^[0-9a-f]{16}$/);
    await index.body?.cancel();
  });
});

Deno.test("deno task serve, started as a user starts it: with the task's permissions it builds the page's scripts, binds 127.0.0.1 and serves the page and the API", async () => {
  const server = runTaskProcess("serve", ["--port", "0"], {}, "piped");
  const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let text = "";
    while (!/serving .* at http:\/\/[^/]+\/ /.test(text)) {
      const { value, done } = await lines.read();
      if (done) break;
      text += value;
    }
    const m =
      /^serving results at http:\/\/127\.0\.0\.1:(\d+)\/ \(read-only; Ctrl-C stops\)$/m
        .exec(text);
    assert.ok(m, text);
    const base = `http://127.0.0.1:${m[1]}`;
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script src="\/assets\/app\.js">/);
    const app = await fetch(`${base}/assets/app.js`);
    assert.equal(app.status, 200);
    assert.match(await app.text(), /\/api\/experiments/);
    const list = await (await fetch(`${base}/api/experiments`)).json();
    assert.ok(list.some((d: { dir: string }) => d.dir === "d2l-baseline"));
  } finally {
    server.kill("SIGTERM");
    await lines.cancel();
    await server.status;
  }
});

Deno.test("serve under load (bounded, loopback): 60 event streams share one look at the tree per poll, 12 clients at once get every answer, and a view is read once per state", async () => {
  await tree(async (root) => {
    const handle = handler({
      root,
      experiments: EXPERIMENTS,
      bundle: BUNDLE,
      poll: 50,
    });
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      handle,
    );
    const base = `http://127.0.0.1:${server.addr.port}`;
    let streams: ReadableStreamDefaultReader<string>[] = [];
    try {
      streams = await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          const res = await fetch(
            `${base}/api/events${i % 2 ? "?dir=tiny" : ""}`,
          );
          const reader = res.body!.pipeThrough(new TextDecoderStream())
            .getReader();
          await reader.read(); // retry:
          return reader;
        }),
      );
      const looks = looked.dirs;
      const started = Date.now();
      const statuses: number[] = [];
      await Promise.all(
        Array.from({ length: 12 }, async (_, c) => {
          for (let k = 0; k < 10; k++) {
            const path = [
              "/api/experiments",
              "/api/experiment?dir=tiny",
              "/",
            ][(c + k) % 3];
            const res = await fetch(`${base}${path}`);
            await res.arrayBuffer();
            statuses.push(res.status);
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 300));
      const polls = (Date.now() - started) / 50;
      assert.equal(statuses.length, 120);
      assert.ok(statuses.every((s) => s === 200), `${statuses}`);
      // One look at the tree (one directory) per poll for all 60 streams,
      // and one per request that answers with a view's state: a look of
      // its own for each stream would be 60 a poll.
      const taken = looked.dirs - looks;
      assert.ok(
        taken <= polls + 2 + 80,
        `${taken} directory reads in ${polls.toFixed(0)} polls`,
      );
      // Nothing changed: the list and the view were each read once.
      assert.equal(handle.views.reads, 2);
      // A change reaches every stream, and the view is read again once.
      await writeCell(
        `${root}/tiny`,
        await storedRun(resolveConfig({ num_epochs: 2, seed: 1 })),
      );
      await Promise.all(streams.map(async (reader) => {
        let text = "";
        while (!text.includes("event: change")) {
          text += (await reader.read()).value ?? "";
        }
      }));
      const views = await Promise.all(
        Array.from(
          { length: 8 },
          () => fetch(`${base}/api/experiment?dir=tiny`).then((r) => r.json()),
        ),
      );
      assert.ok(views.every((v) => v.cells.length === 2));
      assert.equal(handle.views.reads, 3);
    } finally {
      // Open streams would hold the server's shutdown.
      await Promise.all(streams.map((r) => r.cancel()));
      await server.shutdown();
    }
  });
});

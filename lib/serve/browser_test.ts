/**
 * `deno task serve` in a real browser: headless Chromium (Debian's
 * `chromium`, which `.ci/run` installs) driven by puppeteer-core over the
 * committed results, copied, and a tiny grid run beside it. Skipped where
 * there is no /usr/bin/chromium. With RNNLAB_SCREENSHOTS=DIR it also saves
 * the index and one experiment's page there (the README's pictures).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { serveResults } from "./server.ts";
import { ensureBundle } from "./bundle.ts";
import {
  GatedBook,
  runTask,
  runTaskProcess,
  TINY,
} from "../cli/cli_testing.ts";
import { TEST_DATA_DIR } from "../data/testdata.ts";
import { CHROMIUM, requires } from "../testing.ts";

const RESULTS = fileURLToPath(new URL("../../results", import.meta.url));
const EXPERIMENTS = fileURLToPath(
  new URL("../../experiments", import.meta.url),
);
const SHOTS = Deno.env.get("RNNLAB_SCREENSHOTS");
const { dir: BUNDLE } = await ensureBundle();

async function copyTree(from: string, to: string) {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.name === "_local" || e.name.startsWith(".")) continue;
    if (e.isDirectory) await copyTree(join(from, e.name), join(to, e.name));
    else if (e.isFile) {
      await Deno.copyFile(join(from, e.name), join(to, e.name));
    }
  }
}

let launched: Promise<Browser> | undefined;
let running: Browser | undefined;

/** Headless Chromium, started once for the tests of this file (WebGPU on, for "train here"); it ends with them. */
function chromium(): Promise<Browser> {
  return launched ??= puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--enable-unsafe-webgpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  }).then((b) => running = b);
}

// The file's tests are over: nothing waits any more, so the browser is
// stopped at once.
globalThis.addEventListener("unload", () => {
  running?.process()?.kill("SIGKILL");
});

/** A page that records every console error, page error and failed request. */
async function openPage(browser: Browser, problems: string[]): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page: ${(e as Error).message}`));
  page.on("requestfailed", (r) => {
    // An event stream the page closes when it moves on is not a failure.
    if (!r.url().includes("/api/events")) {
      problems.push(`request: ${r.url()} ${r.failure()?.errorText}`);
    }
  });
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`response: ${r.url()} ${r.status()}`);
  });
  return page;
}

/** Serves `root` until `signal` aborts; its port, once it listens. */
function serveOn(
  root: string,
  experiments: string,
  signal: AbortSignal,
  poll?: number,
): Promise<number> {
  return new Promise((resolve) => {
    serveResults({
      root,
      experiments,
      bundle: BUNDLE,
      port: 0,
      poll,
      signal,
      onListen: (addr) => resolve(addr.port),
    });
  });
}

/** Shows a cell per row instead of a row per grid point. */
async function ungroup(page: Page): Promise<void> {
  await page.evaluate(`(() => {
    const box = document.getElementById("grouped");
    if (box.checked) box.click();
  })()`);
}

Deno.test({
  name:
    "serve in headless Chromium: the index lists every experiment, a page has a row per cell and draws its curves, a grid run beside it shows up live, no console errors",
  sanitizeOps: false,
  sanitizeResources: false,
  ...requires(["chromium", "blas"], async () => {
    const root = await Deno.makeTempDir({ prefix: "rnnlab-browse-" });
    const ac = new AbortController();
    let page: Page | undefined;
    const problems: string[] = [];
    try {
      await copyTree(RESULTS, root);
      const dirs = [...Deno.readDirSync(root)].filter((e) =>
        e.isDirectory && e.name !== "bench"
      ).map((e) => e.name).sort();
      const port = await serveOn(root, EXPERIMENTS, ac.signal, 200);
      const base = `http://127.0.0.1:${port}/`;
      const browser = await chromium();

      // The index: every experiment directory, with its text.
      page = await openPage(browser, problems);
      await page.goto(base, { waitUntil: "load" });
      await page.waitForSelector(".card.experiment");
      const listed = await page.$$eval(
        ".card.experiment",
        (cards) => cards.map((c) => c.getAttribute("data-dir")),
      );
      assert.deepEqual(listed, dirs);
      assert.match(
        await page.$eval("#experiments", (e) => e.textContent ?? ""),
        /Replace the gradient clipping with no clipping/,
      );
      if (SHOTS) await page.screenshot({ path: `${SHOTS}/serve-index.png` });

      // One experiment: a row per cell, both charts drawn.
      await page.goto(`${base}#/exp/clipping-ablation`, {
        waitUntil: "load",
      });
      await page.waitForSelector("#chart-train svg .mark-line path");
      // Grouped over seeds by default: a row per grid point.
      assert.equal((await page.$$("tr.group")).length, 8);
      await ungroup(page);
      assert.equal((await page.$$("tr.cell")).length, 24);
      const lines = await page.$$("#chart-val svg .mark-line path");
      assert.ok(lines.length >= 1, "the validation chart draws lines");
      // Sorting by a column and filtering keep the rows and their order honest.
      await page.type("#filter", "clip=off");
      assert.equal((await page.$$("tr.cell")).length, 12);
      // A cell's text and environment.
      await page.click("tr.cell td.status a");
      await page.waitForSelector("#samples tr td code");
      assert.match(
        await page.$eval("#environment", (e) => e.textContent ?? ""),
        /deno/,
      );
      if (SHOTS) {
        // Page code, as text: it runs in the browser.
        await page.evaluate(`(() => {
          const filter = document.getElementById("filter");
          filter.value = "";
          filter.dispatchEvent(new Event("input"));
          scrollTo(0, 0);
        })()`);
        await page.screenshot({
          path: `${SHOTS}/serve-experiment.png`,
          fullPage: true,
        });
      }

      // A tiny grid run into the tree shows up live on the index, then
      // its cells on its page, running and then stored. Its book is a
      // pipe: a cell runs for as long as the test holds the book back.
      await page.goto(base, { waitUntil: "load" });
      const experiments = await Deno.makeTempDir({
        prefix: "rnnlab-browse-exp-",
      });
      const book = await GatedBook.make(`${root}/book.fifo`);
      const spec = {
        name: "tiny",
        ...TINY,
        base: { ...TINY.base, corpus: book.path },
      };
      await Deno.writeTextFile(
        `${experiments}/tiny.ts`,
        `export default ${JSON.stringify(spec)};\n`,
      );
      const runner = runTaskProcess("exp", ["tiny", "--out", `${root}/tiny`], {
        RNNLAB_EXPERIMENTS_DIR: experiments,
        RNNLAB_OFFLINE: "1",
      }, "piped");
      try {
        // The runner plans the grid; its first cell waits for the book.
        await book.feed(1);
        await page.waitForSelector('.card.experiment[data-dir="tiny"]', {
          timeout: 60_000,
        });
        await page.goto(`${base}#/exp/tiny`, { waitUntil: "load" });
        await page.waitForSelector("#grouped", { timeout: 60_000 });
        await ungroup(page);
        await page.waitForSelector("tr.cell.running", { timeout: 60_000 });
        const ran = await book.serveUntil(runner.output());
        assert.equal(
          ran.code,
          0,
          `the runner finished the grid: ${
            new TextDecoder().decode(ran.stderr)
          }`,
        );
        await page.waitForFunction(
          `document.querySelectorAll("tr.cell:not(.running)").length === 4`,
          { timeout: 60_000 },
        );
        assert.equal((await page.$$("tr.cell")).length, 4);
      } finally {
        // A failure above leaves the runner waiting for its book.
        try {
          runner.kill("SIGKILL");
        } catch { /* it ended */ }
        await runner.status;
        await Deno.remove(experiments, { recursive: true });
      }
      assert.deepEqual(problems, [], problems.join("\n"));
    } finally {
      await page?.close();
      ac.abort();
      await Deno.remove(root, { recursive: true });
    }
  }),
});

// The rows kernels (up to 32 hidden units on a CPU adapter), and the looped
// ones with their weights in textures.
for (
  const [num_hiddens, kernels] of [[32, "rows"], [64, "looped"]] as const
) {
  Deno.test({
    name:
      `serve in headless Chromium: a cell of ${num_hiddens} hidden units trained again in the page, on the browser's WebGPU with the fused engine's ${kernels} kernels, follows its stored curve`,
    sanitizeOps: false,
    sanitizeResources: false,
    ...requires(["chromium", "book", "webgpu"], async () => {
      const root = await Deno.makeTempDir({ prefix: "rnnlab-train-here-" });
      const experiments = `${root}/experiments`;
      const ac = new AbortController();
      let page: Page | undefined;
      const problems: string[] = [];
      try {
        // One small fused cell on a book the page may train on (a known one).
        await Deno.mkdir(experiments);
        const spec = {
          name: "here",
          ...TINY,
          base: {
            ...TINY.base,
            corpus: "timemachine",
            engine: "fused",
            backend: "webgpu",
            num_epochs: 4,
            num_hiddens,
          },
          grid: {},
        };
        await Deno.writeTextFile(
          `${experiments}/here.ts`,
          `export default ${JSON.stringify(spec)};\n`,
        );
        const ran = await runTask("exp", [
          "here",
          "--out",
          `${root}/results/here`,
        ], {
          RNNLAB_EXPERIMENTS_DIR: experiments,
          RNNLAB_OFFLINE: "1",
          RNNLAB_DATA_DIR: TEST_DATA_DIR,
        });
        assert.equal(ran.code, 0, ran.stderr);
        Deno.env.set("RNNLAB_DATA_DIR", TEST_DATA_DIR);
        const port = await serveOn(`${root}/results`, experiments, ac.signal);
        const browser = await chromium();
        page = await openPage(browser, problems);
        await page.goto(`http://127.0.0.1:${port}/#/exp/here`, {
          waitUntil: "load",
        });
        await page.waitForSelector("#grouped");
        await ungroup(page);
        await page.waitForSelector("tr.cell td.status a");
        await page.click("tr.cell td.status a");
        await page.waitForSelector("#train-here");
        await page.$eval(
          "#here-epochs",
          (e) => (e as unknown as { value: string }).value = "3",
        );
        await page.click("#train-here");
        await page.waitForFunction(
          `/trained|failed|no WebGPU|not here/.test(document.getElementById("here-status").textContent)`,
          { timeout: 120_000 },
        ).catch(() => {});
        const said = await page.$eval("#here-status", (e) => e.textContent);
        assert.match(said ?? "", /trained/, `${said}; ${problems.join("; ")}`);
        // A software adapter: the CPU tiles, whose kernels are the ones named.
        assert.match(said ?? "", /\(software\)/, said ?? "");
        await page.waitForFunction(
          `document.querySelectorAll("tr.here-epoch").length === 3 &&
            /3 epochs trained/.test(document.getElementById("here-status").textContent)`,
          { timeout: 120_000 },
        );
        const rel = await page.$$eval(
          "tr.here-epoch td.here-rel",
          (tds) => tds.map((td) => Number(td.textContent)),
        );
        assert.equal(rel.length, 3);
        // Another adapter (SwiftShader against llvmpipe) rounds differently,
        // by a few units in float32's last place over three epochs.
        console.log(`train here: relative differences ${rel.join(", ")}`);
        assert.ok(rel.every((r) => r < 1e-6), `relative differences ${rel}`);
        assert.ok(
          (await page.$$("#here-chart svg .mark-line path")).length >= 1,
          "both curves drawn",
        );
        if (SHOTS && kernels === "rows") {
          const panel = await page.$("#detail");
          await panel!.screenshot({ path: `${SHOTS}/serve-train-here.png` });
        }
        assert.deepEqual(problems, [], problems.join("\n"));
      } finally {
        await page?.close();
        ac.abort();
        await Deno.remove(root, { recursive: true });
      }
    }),
  });
}

/** The keys a diff page lists as differing. */
const diffKeys = (page: Page) =>
  page.$$eval(
    "#diff-keys tr[data-key]",
    (trs) => trs.map((t) => t.getAttribute("data-key")),
  );

/** Per small multiple of `chart`, each line's colour and dash: no two alike within one. */
const lineLooks = (page: Page, chart: string) =>
  page.evaluate(`(() => {
    const facets = new Map();
    for (const p of document.querySelectorAll("${chart} svg .mark-line path")) {
      const facet = p.closest(".cell > g") ?? p.closest("svg");
      const looks = facets.get(facet) ?? [];
      looks.push(p.getAttribute("stroke") + " " + p.getAttribute("stroke-dasharray"));
      facets.set(facet, looks);
    }
    return [...facets.values()];
  })()`) as Promise<string[][]>;

Deno.test({
  name:
    "serve in headless Chromium: seeds grouped (a row and a banded line per grid point, coloured by one key and split by another, no two lines alike), parallel coordinates brushing the table and curves, a diff of two points and of two cells by URL, and the exported report opened from a file with the network off",
  sanitizeOps: false,
  sanitizeResources: false,
  ...requires(["chromium"], async () => {
    const ac = new AbortController();
    const out = await Deno.makeTempDir({ prefix: "rnnlab-export-" });
    let page: Page | undefined;
    const problems: string[] = [];
    try {
      const port = await serveOn(RESULTS, EXPERIMENTS, ac.signal);
      const base = `http://127.0.0.1:${port}/`;
      const browser = await chromium();
      page = await openPage(browser, problems);
      await page.goto(`${base}#/exp/clipping-ablation`, { waitUntil: "load" });
      await page.waitForSelector("#chart-train svg .mark-line path");

      // A row per grid point, its seeds under ▸; a line per point.
      assert.equal((await page.$$("tr.group")).length, 8);
      assert.match(
        await page.$eval(
          'tr.group[data-point="clip=1 activation=tanh lr=1"] td.best_val_ppl',
          (e) => e.textContent ?? "",
        ),
        /^8\.47 ± 0\.08$/, // the report's mean ± sd
      );
      await page.click(
        'tr.group[data-point="clip=1 activation=tanh lr=1"] a.expand',
      );
      assert.equal((await page.$$("tr.seed")).length, 3);
      assert.equal((await page.$$("#chart-val svg .mark-line path")).length, 8);
      assert.ok(
        (await page.$$("#chart-val svg .mark-area path")).length >= 8,
        "bands",
      );
      for (const looks of await lineLooks(page, "#chart-train")) {
        assert.equal(new Set(looks).size, looks.length, `${looks}`);
      }
      // Coloured by activation, split by clip: two figures of four lines.
      await page.select("#colour", "activation");
      await page.select("#facet", "clip");
      await page.waitForFunction(
        `document.querySelectorAll("#chart-train svg .cell > g").length === 2`,
      );
      const facets = await lineLooks(page, "#chart-train");
      assert.deepEqual(facets.map((f) => f.length), [4, 4]);
      for (const looks of facets) {
        assert.equal(new Set(looks).size, 4, `${looks}`);
      }
      if (SHOTS) {
        await (await page.$("#chart-train"))!.screenshot({
          path: `${SHOTS}/serve-grouped.png`,
        });
      }

      // Brushing ReLU on the activation axis keeps its 4 points in the
      // table, the curves and the lines of the parallel coordinates.
      const hit = await page.$(
        '#parallel g.axis[data-axis="activation"] rect.hit',
      );
      await hit!.scrollIntoView();
      const box = (await hit!.boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height - 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height - 30, {
        steps: 4,
      });
      await page.mouse.up();
      await page.waitForFunction(
        `document.querySelectorAll("tr.group").length === 4`,
      );
      assert.deepEqual(
        await page.$$eval(
          "tr.group td.activation",
          (tds) => [...new Set(tds.map((t) => t.textContent))],
        ),
        ["relu"],
      );
      assert.match(
        await page.$eval("#brushed", (e) => e.textContent ?? ""),
        /^4 of 8 grid points within the brushes on activation/,
      );
      await page.waitForFunction(
        `document.querySelectorAll("#chart-val svg .mark-line path").length === 4`,
      );
      assert.equal((await page.$$("#parallel polyline.kept")).length, 4);
      if (SHOTS) {
        await (await page.$("#parallel"))!.screenshot({
          path: `${SHOTS}/serve-parallel.png`,
        });
      }

      // A diff of two points from the table: only lr differs.
      await page.click(
        'tr.group[data-point="clip=1 activation=relu lr=1"] td:nth-child(3) input',
      );
      await page.click(
        'tr.group[data-point="clip=1 activation=relu lr=2"] td:nth-child(3) input',
      );
      await page.waitForSelector("#diff-link a");
      await page.click("#diff-link a");
      await page.waitForSelector("#diff-val svg .mark-line path");
      assert.deepEqual(
        await diffKeys(page),
        ["lr"],
      );
      assert.match(
        await page.$eval(
          '#diff-metrics tr[data-metric="best_val_ppl"]',
          (e) => e.textContent ?? "",
        ),
        /7\.2387 ± 0\.0402.*6\.8908 ± 0\.2214-0\.3480-4\.8%/,
      );
      if (SHOTS) {
        await page.screenshot({
          path: `${SHOTS}/serve-diff.png`,
          fullPage: true,
        });
      }
      // Two cells by URL: the same point, other seeds.
      const cells = JSON.parse(
        await (await fetch(`${base}api/experiment?dir=clipping-ablation`))
          .text(),
      ).cells.filter((
        c: { point: { clip: unknown; activation: string; lr: number } },
      ) =>
        c.point.clip === 1 && c.point.activation === "tanh" && c.point.lr === 1
      );
      await page.goto(
        `${base}#/diff/clipping-ablation/${cells[0].id}/${cells[1].id}`,
        {
          waitUntil: "load",
        },
      );
      // Only the hash changes: wait for the diff of the two cells to
      // replace the other.
      await page.waitForFunction(
        `document.getElementById("main").textContent.includes("B: ${
          cells[1].id
        }") && document.getElementById("diff-keys") !== null`,
      );
      assert.deepEqual(await diffKeys(page), ["seed"]);

      // The export: one file, opened from disk with the network off.
      const file = `${out}/clipping-ablation.html`;
      const made = await runTask("report", [
        "clipping-ablation",
        "--html",
        file,
      ]);
      assert.equal(made.code, 0, made.stderr);
      assert.match(
        made.stdout,
        /24 cells of clipping-ablation, [\d.]+ MB, self-contained/,
      );
      const html = await Deno.readTextFile(file);
      assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+stylesheet/);
      const offline = await openPage(browser, problems);
      await offline.setOfflineMode(true);
      const requests: string[] = [];
      offline.on("request", (r) => {
        if (!/^(file|data|about):/.test(r.url())) requests.push(r.url());
      });
      await offline.goto(`file://${file}`, { waitUntil: "load" });
      await offline.waitForSelector("#chart-val svg .mark-line path");
      assert.equal((await offline.$$("tr.group")).length, 8);
      assert.equal((await offline.$$("#parallel polyline")).length, 8);
      assert.ok(
        (await offline.$$("#chart-train svg .mark-area path")).length >= 8,
      );
      assert.deepEqual(requests, [], "nothing asked of the network");
      if (SHOTS) {
        await offline.screenshot({
          path: `${SHOTS}/export-offline.png`,
          fullPage: true,
        });
      }
      await offline.close();
      assert.deepEqual(problems, [], problems.join("\n"));
    } finally {
      await page?.close();
      ac.abort();
      await Deno.remove(out, { recursive: true });
    }
  }),
});

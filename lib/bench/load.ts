/**
 * `deno task serve` under load, as `deno task bench --serve` measures it:
 * `streams` event streams held open (pages left open), then `clients`
 * clients at once asking for the page's views until `requests` are
 * answered; each request's latency, the errors, and the server's resident
 * memory sampled every 250 ms (`ps`).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { denoProgram } from "../env.ts";

/** What {@linkcode measureLoad} found. */
export interface Load {
  requests: number;
  /** Requests not answered with 200 (or not answered at all). */
  errors: number;
  /** Latency percentiles, seconds. */
  p50: number;
  p99: number;
  max: number;
  /** Wall time of the requests, seconds. */
  seconds: number;
  /** The server's resident memory: at the start, the end and its peak, MB (null where unknown). */
  rss: { start: number | null; end: number | null; peak: number | null };
}

/** Options of {@linkcode measureLoad}. */
export interface LoadOptions {
  /** The server, e.g. `http://127.0.0.1:8000`. */
  base: string;
  /** The server's process id, for its memory. */
  pid?: number;
  streams: number;
  clients: number;
  requests: number;
  /** The paths asked for, one after another by each client. */
  paths: string[];
}

/** Resident memory of process `pid` in MB (`ps`: reading /proc takes all permissions), or null where it cannot be read. */
async function rssOf(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    const out = await new Deno.Command("ps", {
      args: ["-o", "rss=", "-p", String(pid)],
      stdout: "piped",
      stderr: "null",
    }).output();
    const kb = Number(new TextDecoder().decode(out.stdout).trim());
    return out.success && kb > 0 ? kb / 1024 : null;
  } catch {
    return null;
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
    : NaN;

/**
 * Holds the event streams open, runs the clients, and closes the streams.
 *
 * @example
 * ```ts
 * const load = await measureLoad({ base, streams: 200, clients: 32, requests: 3000, paths: ["/api/experiments"] });
 * load.p99; // seconds
 * ```
 */
export async function measureLoad(options: LoadOptions): Promise<Load> {
  const { base, pid, paths } = options;
  const start = await rssOf(pid);
  let peak = start;
  const sampler = setInterval(async () => {
    const now = await rssOf(pid);
    if (now !== null && (peak === null || now > peak)) peak = now;
  }, 250);
  const streams = await Promise.all(
    Array.from({ length: options.streams }, async (_, i) => {
      const dir = i % 2 ? "" : `?dir=${encodeURIComponent("d2l-baseline")}`;
      const res = await fetch(`${base}/api/events${dir}`);
      const reader = res.body!.getReader();
      await reader.read();
      return reader;
    }),
  );
  const latencies: number[] = [];
  let errors = 0, next = 0;
  const began = performance.now();
  try {
    await Promise.all(
      Array.from({ length: options.clients }, async () => {
        while (next < options.requests) {
          const path = paths[next++ % paths.length];
          const t = performance.now();
          try {
            const res = await fetch(`${base}${path}`);
            await res.arrayBuffer();
            if (res.status !== 200) errors++;
          } catch {
            errors++;
          }
          latencies.push((performance.now() - t) / 1000);
        }
      }),
    );
  } finally {
    clearInterval(sampler);
    await Promise.all(streams.map((r) => r.cancel().catch(() => {})));
  }
  const seconds = (performance.now() - began) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies.at(-1) ?? NaN,
    seconds,
    rss: { start, end: await rssOf(pid), peak },
  };
}

/** The serve task's `deno run` flags, as deno.json grants them. */
function serveArgs(): string[] {
  const tasks = JSON.parse(
    Deno.readTextFileSync(new URL("../../deno.json", import.meta.url)),
  ).tasks as Record<string, string>;
  return tasks.serve.split(/\s+/).slice(1);
}

/**
 * Starts `deno task serve --port 0` over `root` (its own process, with its
 * task's permissions), asks it for every view the page loads (the list,
 * each directory's view, a cell of each, the page and its script) under
 * the load of `options`, and stops it.
 *
 * @example
 * ```ts
 * const load = await serveUnderLoad("results", { streams: 200, clients: 32, requests: 3000 });
 * ```
 */
export async function serveUnderLoad(
  root: string,
  options: Omit<LoadOptions, "base" | "pid" | "paths">,
): Promise<Load & { paths: number }> {
  const child = new Deno.Command(denoProgram(), {
    args: [...serveArgs(), "--port", "0", "--root", root],
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  try {
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    let base: string | undefined;
    while (!base) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`deno task serve stopped: ${text.trim()}`);
      text += value;
      base = /at (http:\/\/\S+?)\/ /.exec(text)?.[1];
    }
    // Its output is not needed any more, but must not fill the pipe.
    (async () => {
      while (!(await lines.read()).done) { /* drain */ }
    })().catch(() => {});
    const list = await (await fetch(`${base}/api/experiments`)).json() as {
      dir: string;
    }[];
    const paths = ["/", "/assets/app.js", "/api/experiments"];
    for (const { dir } of list) {
      const q = encodeURIComponent(dir);
      const view = await (await fetch(`${base}/api/experiment?dir=${q}`))
        .json() as { cells: { id: string }[] };
      paths.push(`/api/experiment?dir=${q}`);
      if (view.cells[0]) {
        paths.push(`/api/cell?dir=${q}&id=${view.cells[0].id}`);
      }
    }
    const load = await measureLoad({ ...options, base, pid: child.pid, paths });
    return { ...load, paths: paths.length };
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

/**
 * `deno task serve`'s web app over a results tree: the page (`app/`), the
 * vega builds it draws with (from the npm packages, served from here: no
 * CDN, so it works offline), a JSON API, and server-sent events when a
 * results directory changes. Read-only: GET and HEAD only; only the named
 * routes exist, every name in a request is checked (a directory must lie
 * inside the tree), and anything else is a 404. A request that fails is a
 * 500 with one line on stderr; the server goes on.
 *
 * @example
 * ```ts
 * const server = serveResults({ root: "results", experiments: "experiments", port: 8000 });
 * await server.finished;
 * ```
 *
 * @module
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  KNOWN_CORPORA,
  readCorpus,
  sourceOptionsFromEnv,
} from "../data/source.ts";
import { corpusFor } from "../data/vocab.ts";
import {
  CELL_ID,
  cellView,
  experimentList,
  experimentView,
  fingerprint,
  fingerprints,
  safeDir,
} from "./data.ts";

/** Where the page's own files are. */
const APP = fileURLToPath(new URL("./app/", import.meta.url));

/** The files a request may name under `/assets/`: each one's path, resolved once; the page's scripts from `bundle` (`bundle.ts` builds them). */
function assetPaths(bundle: string): Record<string, string> {
  const require = createRequire(import.meta.url);
  const build = (pkg: string) => dirname(require.resolve(pkg));
  return {
    "app.js": join(bundle, "app.js"),
    "app.css": join(APP, "app.css"),
    // The engine for the page's "train here".
    "trainer.js": join(bundle, "trainer.js"),
    "vega.min.js": join(build("vega"), "vega.min.js"),
    "vega-lite.min.js": join(build("vega-lite"), "vega-lite.min.js"),
    "vega-embed.min.js": join(build("vega-embed"), "vega-embed.min.js"),
  };
}

/** Files of a results directory a request may name. */
const DIR_FILES = new Set([
  "README.md",
  "results.json",
  "train_ppl.svg",
  "val_ppl.svg",
]);

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  html: "text/html; charset=utf-8",
  json: "application/json; charset=utf-8",
  svg: "image/svg+xml",
  md: "text/markdown; charset=utf-8",
};

const typeOf = (path: string) => TYPES[path.split(".").at(-1)!] ?? "text/plain";

const notFound = () =>
  new Response("not found\n", {
    status: 404,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });

/** The header that carries a view's {@linkcode fingerprint}. */
const STATE = "rnnlab-state";

/** JSON already serialised, with the state it was read at when there is one. */
const jsonText = (text: string, state?: string) =>
  new Response(text, {
    headers: {
      "content-type": TYPES.json,
      "cache-control": "no-store",
      ...(state ? { [STATE]: state } : {}),
    },
  });

const json = (value: unknown) => jsonText(JSON.stringify(value));

async function file(path: string): Promise<Response> {
  try {
    return new Response(await Deno.readFile(path), {
      headers: { "content-type": typeOf(path), "cache-control": "no-cache" },
    });
  } catch {
    return notFound();
  }
}

/**
 * The training tokens of cell `id` of directory `rel`, for the page to
 * train it again: only for a book rnnlab knows by name, read from the data
 * directory or the download cache (never downloaded, never a path a cell
 * names), and only when its SHA-1 is the cell's.
 */
async function trainingTokens(root: string, rel: string, id: string) {
  const cell = await cellView(root, rel, id);
  if (!cell || !Object.hasOwn(KNOWN_CORPORA, cell.config.corpus)) return null;
  const text = await readCorpus(cell.config.corpus, {
    ...sourceOptionsFromEnv(),
    offline: true,
  }).catch(() => null);
  if (!text || text.sha1 !== cell.corpus.sha1) return null;
  const corpus = corpusFor(text.text, cell.config);
  return { vocab: corpus.vocab.idx_to_token, train: [...corpus.train] };
}

/** Options of {@linkcode serveResults}. */
export interface ServeOptions {
  /** The results tree. */
  root: string;
  /** The experiment files (their text heads each page). */
  experiments: string;
  /** Where the page's built scripts are (`ensureBundle`'s directory). */
  bundle: string;
  port: number;
  /** 127.0.0.1 unless given. */
  hostname?: string;
  /** How often a page's event stream looks for changes, ms. */
  poll?: number;
  onListen?: (addr: Deno.NetAddr) => void;
  signal?: AbortSignal;
}

/** One event stream: the directory it follows (or the tree), what it last saw, where it writes. */
interface Follower {
  rel: string | undefined;
  last: string;
  send: (text: string) => void;
}

/**
 * One look at the tree every `poll` ms, shared by every event stream (200
 * pages open cost one look, not 200), and only while one is open: each
 * stream is told `change` when its directory's fingerprint (or the tree's)
 * differs from what it last saw.
 */
export class Watcher {
  #followers = new Set<Follower>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #busy = false;

  constructor(readonly root: string, readonly poll: number) {}

  /** Follows `rel` from state `last`; returns how to stop. */
  follow(follower: Follower): () => void {
    this.#followers.add(follower);
    this.#timer ??= setInterval(() => this.look(), this.poll);
    return () => {
      this.#followers.delete(follower);
      if (this.#followers.size === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  /** One look: every follower whose state changed is told so. */
  async look(): Promise<void> {
    if (this.#busy || this.#followers.size === 0) return;
    this.#busy = true;
    try {
      const now = await fingerprints(this.root);
      for (const f of this.#followers) {
        // A directory that is no results directory (yet) has its own.
        const state = f.rel === undefined
          ? now.tree
          : now.dirs.get(f.rel) ?? await fingerprint(this.root, f.rel);
        if (state !== f.last) {
          f.last = state;
          f.send(`event: change\ndata: {}\n\n`);
        }
      }
    } finally {
      this.#busy = false;
    }
  }
}

/**
 * Server-sent events for directory `rel` (or the whole tree): `change`
 * whenever what it holds differs from state `since` (the fingerprint of
 * the view the page loaded; without it, of the tree when the stream
 * opens), so a change between loading a view and listening is not lost;
 * a comment every 15 s keeps the connection open. Every stream is one
 * follower of the shared `watcher`.
 */
function events(
  watcher: Watcher,
  rel: string | undefined,
  since: string | null,
) {
  let stop = () => {};
  let beat: ReturnType<typeof setInterval> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(new TextEncoder().encode(text));
        } catch {
          stop();
          clearInterval(beat);
        }
      };
      const now = await fingerprint(watcher.root, rel);
      send("retry: 2000\n\n");
      if (since !== null && since !== now) send(`event: change\ndata: {}\n\n`);
      stop = watcher.follow({ rel, last: now, send });
      beat = setInterval(() => send(": ping\n\n"), 15_000);
    },
    cancel() {
      stop();
      clearInterval(beat);
    },
  });
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-store",
    },
  });
}

/**
 * Views kept by the state they were read at: a view is read again only
 * when its fingerprint changed, and requests that arrive while it is being
 * read share that one reading.
 */
export class Views {
  #kept = new Map<string, { state: string; body: Promise<string | null> }>();
  /** Views read so far (the test counts them). */
  reads = 0;

  /** The view `key` at `state`: kept, or read with `read` (null: none). */
  get(
    key: string,
    state: string,
    read: () => Promise<unknown | null>,
  ): Promise<string | null> {
    const kept = this.#kept.get(key);
    if (kept?.state === state) return kept.body;
    this.reads++;
    const body = read().then((v) => v === null ? null : JSON.stringify(v));
    this.#kept.set(key, { state, body });
    // A failed reading, or none (no such directory), is not kept.
    const drop = () => {
      if (this.#kept.get(key)?.body === body) this.#kept.delete(key);
    };
    body.then((b) => b === null && drop(), drop);
    return body;
  }
}

/** A request handler, with the watcher its event streams share and the views it keeps. */
export type Handler = ((req: Request) => Promise<Response>) & {
  watcher: Watcher;
  views: Views;
};

/** The request handler over a results tree (see the module's description). */
export function handler(
  options: Pick<ServeOptions, "root" | "experiments" | "bundle" | "poll">,
): Handler {
  const assets = assetPaths(options.bundle);
  const { root, experiments } = options;
  const watcher = new Watcher(root, options.poll ?? 700);
  const views = new Views();
  const handle = async (req: Request): Promise<Response> => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("read-only\n", {
        status: 405,
        headers: { allow: "GET, HEAD" },
      });
    }
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return notFound();
    }
    // Each segment decoded alone: an encoded "/" stays inside its segment.
    let parts: string[];
    try {
      parts = url.pathname.split("/").slice(1).map(decodeURIComponent);
    } catch {
      return notFound();
    }
    const q = (k: string) => url.searchParams.get(k) ?? "";
    const [head, ...rest] = parts;
    if (parts.length === 1 && (head === "" || head === "index.html")) {
      return await file(join(APP, "index.html"));
    }
    if (head === "assets" && rest.length === 1 && rest[0] in assets) {
      return await file(assets[rest[0]]);
    }
    if (head === "api" && rest.length === 1) {
      switch (rest[0]) {
        // The state is taken before the view is read: a change while
        // reading makes the next event stream announce it.
        case "experiments": {
          const state = await fingerprint(root);
          const list = await views.get(
            "",
            state,
            () => experimentList(root, experiments),
          );
          return jsonText(list!, state);
        }
        case "experiment": {
          const dir = q("dir");
          const state = await fingerprint(root, dir);
          const view = await views.get(
            `dir:${dir}`,
            state,
            () => experimentView(root, dir, experiments),
          );
          return view === null ? notFound() : jsonText(view, state);
        }
        case "cell": {
          const cell = await cellView(root, q("dir"), q("id"));
          return cell ? json(cell) : notFound();
        }
        case "corpus": {
          const corpus = await trainingTokens(root, q("dir"), q("id"));
          return corpus ? json(corpus) : notFound();
        }
        case "events": {
          const dir = url.searchParams.get("dir") ?? undefined;
          if (dir !== undefined && !(await safeDir(root, dir))) {
            return notFound();
          }
          const since = url.searchParams.get("since");
          return events(
            watcher,
            dir,
            since && /^[0-9a-f]{16}$/.test(since) ? since : null,
          );
        }
      }
      return notFound();
    }
    // A results directory's report files and cells, by name.
    if (head === "files" && rest.length >= 2) {
      const name = rest.at(-1)!;
      const cells = rest.at(-2) === "cells";
      const rel = rest.slice(0, cells ? -2 : -1).join("/");
      const dir = await safeDir(root, rel);
      if (!dir) return notFound();
      if (
        cells && CELL_ID.test(name.replace(/\.json$/, "")) &&
        name.endsWith(".json")
      ) {
        const cell = await cellView(root, rel, name.slice(0, -5));
        return cell ? json(cell) : notFound();
      }
      if (!cells && DIR_FILES.has(name)) {
        // The file itself must lie in the directory (no symlink out).
        const real = await Deno.realPath(join(dir, name)).catch(() => null);
        return real && dirname(real) === dir ? await file(real) : notFound();
      }
    }
    return notFound();
  };
  return Object.assign(handle, { watcher, views });
}

/**
 * Serves the web app over `options.root` on `options.hostname`
 * (127.0.0.1) and `options.port`; a request that fails is a 500, logged
 * on one line.
 */
export function serveResults(options: ServeOptions): Deno.HttpServer {
  const handle = handler(options);
  return Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port,
    signal: options.signal,
    onListen: options.onListen ?? (() => {}),
    onError: (e) => {
      console.error(`error: ${(e as Error)?.message ?? e}`);
      return new Response("internal error\n", { status: 500 });
    },
  }, async (req) => {
    try {
      const res = await handle(req);
      return req.method === "HEAD"
        ? new Response(null, { status: res.status, headers: res.headers })
        : res;
    } catch (e) {
      console.error(`error: ${req.url}: ${(e as Error)?.message ?? e}`);
      return new Response("internal error\n", { status: 500 });
    }
  });
}

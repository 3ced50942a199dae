/**
 * Where corpus text comes from: a data directory, a download cache, the
 * public URL, or a local file. Verifies pinned SHA-1s, strips Project
 * Gutenberg boilerplate, and rejects empty, binary or non-UTF-8 files with one
 * clear error.
 *
 * @module
 */
import { UserError } from "../errors.ts";

/** A corpus known by name. */
export interface KnownCorpus {
  /** Public URL of the plain text. */
  url: string;
  /** File name looked up in the data directory and the cache. */
  file: string;
  /** Pinned SHA-1 of the file's bytes, where the source is fixed. */
  sha1?: string;
}

/** The corpora rnnlab knows by name; any other value is a local file path. */
export const KNOWN_CORPORA: Record<string, KnownCorpus> = {
  timemachine: {
    url: "http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt",
    file: "timemachine.txt",
    sha1: "090b5e7e70c295757f55df93cb0a180b9691891a",
  },
  // Project Gutenberg #36; Gutenberg re-issues files, so no SHA-1 is pinned
  // (the one read is recorded with every run instead).
  "war-of-the-worlds": {
    url: "https://www.gutenberg.org/cache/epub/36/pg36.txt",
    file: "war_of_the_worlds.txt",
  },
};

/** Where to look for corpus files. */
export interface SourceOptions {
  /** Directory holding the corpus files (`--data-dir`, `RNNLAB_DATA_DIR`); looked at first. */
  dataDir?: string;
  /** Download cache (`RNNLAB_CACHE_DIR`, default `~/.cache/rnnlab`). */
  cacheDir?: string;
  /** Never download (`RNNLAB_OFFLINE=1`). */
  offline?: boolean;
  /** Injected for tests; defaults to the global `fetch`. */
  fetch?: typeof fetch;
}

/** A corpus read and cleaned of boilerplate, with where it came from. */
export interface CorpusText {
  /** The name asked for (`timemachine`, `war-of-the-worlds` or a path). */
  name: string;
  /** The text, BOM and Gutenberg header/footer removed. */
  text: string;
  /** SHA-1 of the file's bytes as read. */
  sha1: string;
  /** The file path or URL it was read from. */
  source: string;
}

/** Hex SHA-1 of some bytes. */
export async function sha1Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    bytes as Uint8Array<ArrayBuffer>,
  );
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/**
 * Removes a Project Gutenberg header and footer (the `*** START OF …` and
 * `*** END OF …` lines and everything outside them); other text is returned
 * unchanged.
 *
 * @example
 * ```ts
 * stripGutenberg("licence\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\nbook\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\nlicence");
 * // "\nbook\n"
 * ```
 */
export function stripGutenberg(text: string): string {
  const start = /^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG.*$/m.exec(text);
  if (start) text = text.slice(start.index + start[0].length);
  const end = /^\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG.*$/m.exec(text);
  if (end) text = text.slice(0, end.index);
  return text;
}

/**
 * Decodes corpus bytes as UTF-8 text, rejecting what cannot be a book.
 * `where` names the file in the error.
 */
export function decodeCorpus(bytes: Uint8Array, where: string): string {
  if (bytes.length === 0) throw new UserError(`${where}: the file is empty`);
  if (bytes.includes(0)) {
    throw new UserError(
      `${where}: the file is binary (it contains NUL bytes), not UTF-8 text`,
    );
  }
  let text: string;
  try {
    // ignoreBOM: false (the default) drops a leading BOM.
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new UserError(`${where}: the file is not valid UTF-8 text`);
  }
  text = stripGutenberg(text);
  if (!/[A-Za-z]/.test(text)) {
    throw new UserError(
      `${where}: the text has no letters A–Z, so the character corpus would be empty`,
    );
  }
  return text;
}

async function readIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** Default cache directory: `$RNNLAB_CACHE_DIR`, `$XDG_CACHE_HOME/rnnlab` or `~/.cache/rnnlab`. */
export function defaultCacheDir(): string {
  const env = (k: string) => Deno.env.get(k) || undefined;
  return env("RNNLAB_CACHE_DIR") ??
    (env("XDG_CACHE_HOME")
      ? `${env("XDG_CACHE_HOME")}/rnnlab`
      : `${env("HOME") ?? "."}/.cache/rnnlab`);
}

/** Source options from the environment: `RNNLAB_DATA_DIR`, `RNNLAB_CACHE_DIR`, `RNNLAB_OFFLINE`. */
export function sourceOptionsFromEnv(): SourceOptions {
  const offline = Deno.env.get("RNNLAB_OFFLINE");
  return {
    dataDir: Deno.env.get("RNNLAB_DATA_DIR") || undefined,
    cacheDir: defaultCacheDir(),
    offline: offline !== undefined && offline !== "" && offline !== "0",
  };
}

async function checkSha1(
  bytes: Uint8Array,
  known: KnownCorpus,
  where: string,
): Promise<string> {
  const sha1 = await sha1Hex(bytes);
  if (known.sha1 && sha1 !== known.sha1) {
    throw new UserError(
      `${where}: SHA-1 is ${sha1}, expected ${known.sha1}; the file is not ${known.url}`,
    );
  }
  return sha1;
}

/**
 * Reads a corpus by name (`timemachine`, `war-of-the-worlds`) or local path.
 * Known corpora are looked up in the data directory, then the cache, then
 * downloaded into the cache (atomically, after the SHA-1 check).
 *
 * @example
 * ```ts
 * const { text, sha1 } = await readCorpus("timemachine", { dataDir: "../shared/data" });
 * ```
 */
export async function readCorpus(
  name: string,
  options: SourceOptions = {},
): Promise<CorpusText> {
  const known = Object.hasOwn(KNOWN_CORPORA, name)
    ? KNOWN_CORPORA[name]
    : undefined;
  if (!known) {
    const bytes = await readIfExists(name);
    if (!bytes) {
      throw new UserError(
        `corpus: "${name}" is neither a known corpus (${
          Object.keys(KNOWN_CORPORA).join(", ")
        }) nor an existing file`,
      );
    }
    return {
      name,
      text: decodeCorpus(bytes, name),
      sha1: await sha1Hex(bytes),
      source: name,
    };
  }
  for (const dir of [options.dataDir, options.cacheDir]) {
    if (!dir) continue;
    const path = `${dir}/${known.file}`;
    const bytes = await readIfExists(path);
    if (bytes) {
      const sha1 = await checkSha1(bytes, known, path);
      return { name, text: decodeCorpus(bytes, path), sha1, source: path };
    }
  }
  const hint = `download ${known.url} and save it as ${known.file} in a data ` +
    `directory given by --data-dir or RNNLAB_DATA_DIR`;
  if (options.offline || !options.cacheDir) {
    throw new UserError(
      `corpus "${name}": not found in the data directory` +
        `${options.dataDir ? ` ${options.dataDir}` : " (none given)"}` +
        ` or the cache, and downloads are off; ${hint}`,
    );
  }
  let bytes: Uint8Array;
  try {
    const response = await (options.fetch ?? fetch)(known.url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (e) {
    throw new UserError(
      `corpus "${name}": download from ${known.url} failed (${
        (e as Error).message
      }); ${hint}`,
    );
  }
  const sha1 = await checkSha1(bytes, known, known.url);
  const text = decodeCorpus(bytes, known.url);
  await Deno.mkdir(options.cacheDir, { recursive: true });
  const path = `${options.cacheDir}/${known.file}`;
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeFile(tmp, bytes);
  await Deno.rename(tmp, path);
  return { name, text, sha1, source: known.url };
}

/**
 * The page's scripts, built from their sources, never committed: `app.js`
 * (the page, `app/main.ts`) and `trainer.js` (the fused engine for "train
 * it again here", `app/trainer.ts`), bundled by `deno bundle` into an
 * ignored directory. A stamp beside them, the SHA-1 of every source file
 * the two reach and of Deno's version, says whether they are current:
 * they are built again only when it differs.
 *
 * @example
 * ```ts
 * const { dir, built } = await ensureBundle(); // dir holds app.js and trainer.js
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { sha1Hex } from "../data/source.ts";
import { denoProgram } from "../env.ts";
import { ROOT } from "../experiment/paths.ts";
import { writeTextAtomic } from "../fsutil.ts";

/** The scripts and the module each is bundled from. */
export const ENTRIES: Record<string, string> = {
  "app.js": fileURLToPath(new URL("./app/main.ts", import.meta.url)),
  "trainer.js": fileURLToPath(new URL("./app/trainer.ts", import.meta.url)),
};

/** Where the built scripts go (git ignores it). */
export const BUNDLE_DIR = `${ROOT}/.build/app`;

async function run(args: string[]): Promise<string> {
  const out = await new Deno.Command(denoProgram(), {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `deno ${args[0]}: ${text.decode(out.stderr).trim().split("\n").at(-1)}`,
    );
  }
  return text.decode(out.stdout);
}

/** The arguments of `deno bundle` that build script `out` from module `entry`. */
export const bundleArgs = (entry: string, out: string): string[] => [
  "bundle",
  "--quiet",
  "--platform",
  "browser",
  "--format",
  "esm",
  "-o",
  out,
  entry,
];

/** The local source files `entry` reaches, as `deno info` lists them. */
async function sources(entry: string): Promise<string[]> {
  const info = JSON.parse(await run(["info", "--json", entry])) as {
    modules: { specifier: string; local?: string }[];
  };
  return info.modules.filter((m) => m.specifier.startsWith("file:"))
    .map((m) => fileURLToPath(m.specifier)).sort();
}

/** The stamp of the sources as they are now. */
export async function sourceStamp(): Promise<string> {
  const files = [
    ...new Set((await Promise.all(Object.values(ENTRIES).map(sources))).flat()),
  ].sort();
  const parts = [`deno ${Deno.version.deno}`];
  for (const f of files) {
    parts.push(
      `${f.slice(ROOT.length)} ${await sha1Hex(await Deno.readFile(f))}`,
    );
  }
  return await sha1Hex(new TextEncoder().encode(parts.join("\n")));
}

/**
 * Builds the page's scripts into `dir` unless its stamp says they are
 * current; returns the directory and whether it built them.
 */
export async function ensureBundle(
  dir: string = BUNDLE_DIR,
): Promise<{ dir: string; built: boolean }> {
  const stamp = await sourceStamp();
  const old = await Deno.readTextFile(`${dir}/stamp`).catch(() => "");
  const present = await Promise.all(
    Object.keys(ENTRIES).map((f) =>
      Deno.stat(`${dir}/${f}`).then(() => true, () => false)
    ),
  );
  if (old.trim() === stamp && present.every(Boolean)) {
    return { dir, built: false };
  }
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, entry] of Object.entries(ENTRIES)) {
    const tmp = `${dir}/.${name}.${crypto.randomUUID()}.tmp`;
    try {
      await run(bundleArgs(entry, tmp));
      await Deno.rename(tmp, `${dir}/${name}`);
    } finally {
      await Deno.remove(tmp).catch(() => {});
    }
  }
  await writeTextAtomic(`${dir}/stamp`, stamp + "\n");
  return { dir, built: true };
}

/**
 * File helpers shared by the layers: atomic writes, so no reader ever sees a
 * half-written file, even after `kill -9`.
 *
 * @module
 */

/**
 * Writes `text` to `path` through a temporary file in the same directory and
 * a rename, which is atomic on POSIX file systems.
 *
 * @example
 * ```ts
 * await writeTextAtomic("results/x/README.md", "# x\n");
 * ```
 */
export async function writeTextAtomic(
  path: string,
  text: string,
): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Writes several files so that either all are replaced or none: each is
 * first written in full beside its target (the step that can fail, on a
 * full disk), and only then are they renamed into place.
 *
 * @example
 * ```ts
 * await writeFilesAtomic([["a/README.md", "# a\n"], ["a/results.json", "{}\n"]]);
 * ```
 */
export async function writeFilesAtomic(
  files: [path: string, text: string][],
): Promise<void> {
  const staged: [string, string][] = [];
  try {
    for (const [path, text] of files) {
      const tmp = `${path}.${crypto.randomUUID()}.tmp`;
      staged.push([tmp, path]);
      await Deno.writeTextFile(tmp, text);
    }
    for (const [tmp, path] of staged) await Deno.rename(tmp, path);
  } catch (e) {
    for (const [tmp] of staged) await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** {@linkcode writeTextAtomic} of pretty-printed JSON. */
export async function writeJsonAtomic(
  path: string,
  value: unknown,
): Promise<void> {
  await writeTextAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** Reads and parses a JSON file, or returns undefined when it does not exist. */
export async function readJsonIfExists<T>(
  path: string,
): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * A results directory: one JSON file per finished cell under `cells/`,
 * written atomically, and a lock so two runners never share it.
 *
 * @module
 */
import { basename, dirname } from "node:path";
import { UserError } from "../errors.ts";
import { readJsonIfExists, writeJsonAtomic } from "../fsutil.ts";
import type { CellRecord } from "./cell.ts";

/** Path of a cell's result file. */
export const cellPath = (dir: string, id: string): string =>
  `${dir}/cells/${id}.json`;

/** Reads a stored cell, or undefined when it has not finished. */
export function readCell(
  dir: string,
  id: string,
): Promise<CellRecord | undefined> {
  return readJsonIfExists<CellRecord>(cellPath(dir, id));
}

/** Stores a finished cell atomically. */
export async function writeCell(
  dir: string,
  record: CellRecord,
): Promise<void> {
  await Deno.mkdir(`${dir}/cells`, { recursive: true });
  await writeJsonAtomic(cellPath(dir, record.id), record);
}

/** Every stored cell of a results directory, sorted by id. */
export async function readCells(dir: string): Promise<CellRecord[]> {
  const out: CellRecord[] = [];
  try {
    for await (const e of Deno.readDir(`${dir}/cells`)) {
      if (e.isFile && e.name.endsWith(".json")) {
        out.push(JSON.parse(await Deno.readTextFile(`${dir}/cells/${e.name}`)));
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort((a, b) => a.id < b.id ? -1 : 1);
}

/**
 * The other results directories beside `dir` (its siblings that hold a
 * `cells/` folder), sorted by name.
 */
export async function siblingDirs(dir: string): Promise<string[]> {
  const parent = dirname(dir), self = basename(dir);
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(parent)) {
      if (!e.isDirectory || e.name === self) continue;
      const cells = await Deno.stat(`${parent}/${e.name}/cells`).catch(() =>
        undefined
      );
      if (cells?.isDirectory) out.push(`${parent}/${e.name}`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

/**
 * Takes `dir/.lock` for this process, or throws naming the holder. The lock
 * is an OS file lock (flock), so it dies with its process: after `kill -9`
 * the next runner simply takes it. The file itself stays, holding the last
 * holder's pid for error messages.
 * Returns the release function.
 */
export async function acquireLock(dir: string): Promise<() => void> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/.lock`;
  const file = await Deno.open(path, { read: true, write: true, create: true });
  if (!(await file.tryLock(true))) {
    file.close();
    const holder = await Deno.readTextFile(path).then(JSON.parse).catch(() =>
      undefined
    ) as
      | { pid: number; hostname: string }
      | undefined;
    throw new UserError(
      `${path}: another runner (pid ${holder?.pid ?? "?"} on ${
        holder?.hostname ?? "?"
      }) ` +
        `is using this results directory; wait for it to finish`,
    );
  }
  await file.truncate(0);
  await file.write(
    new TextEncoder().encode(
      JSON.stringify({ pid: Deno.pid, hostname: Deno.hostname() }) + "\n",
    ),
  );
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    file.unlockSync();
    file.close();
  };
}

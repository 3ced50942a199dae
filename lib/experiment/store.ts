/**
 * A results directory: one JSON file per finished cell under `cells/`,
 * written atomically, and a lock so two runners never share it.
 *
 * @module
 */
import { basename, dirname } from "node:path";
import { UserError } from "../errors.ts";
import { writeJsonAtomic } from "../fsutil.ts";
import type { CellRecord } from "./cell.ts";
import { checkCell } from "./validate.ts";

/** Path of a cell's result file. */
export const cellPath = (dir: string, id: string): string =>
  `${dir}/cells/${id}.json`;

/** A file in `cells/` that is not a stored cell, and why. */
export interface Rejected {
  path: string;
  reason: string;
}

/**
 * Reads and checks `cells/<id>.json` ({@linkcode checkCell}): the record,
 * the reason it is not one, or undefined when there is no such file.
 */
export async function readCellFile(
  dir: string,
  id: string,
): Promise<{ record: CellRecord } | Rejected | undefined> {
  const path = cellPath(dir, id);
  let text;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    return { path, reason: `cannot be read (${(e as Error).message})` };
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return {
      path,
      reason: text.length === 0
        ? "empty file"
        : `not JSON (${(e as Error).message})`,
    };
  }
  const reason = await checkCell(value, id);
  return reason ? { path, reason } : { record: value as CellRecord };
}

/**
 * Reads a stored cell, or undefined when it has not finished or its file
 * is not a valid cell (such a file is not a result).
 */
export async function readCell(
  dir: string,
  id: string,
): Promise<CellRecord | undefined> {
  const file = await readCellFile(dir, id);
  return file && "record" in file ? file.record : undefined;
}

/** Stores a finished cell atomically. */
export async function writeCell(
  dir: string,
  record: CellRecord,
): Promise<void> {
  await Deno.mkdir(`${dir}/cells`, { recursive: true });
  await writeJsonAtomic(cellPath(dir, record.id), record);
}

/**
 * Every file of a results directory's `cells/`, checked: the valid cells
 * sorted by id, and the files that are not cells with the reason.
 */
export async function scanCells(
  dir: string,
): Promise<{ cells: CellRecord[]; rejected: Rejected[] }> {
  const cells: CellRecord[] = [], rejected: Rejected[] = [];
  let names: string[] = [];
  try {
    for await (const e of Deno.readDir(`${dir}/cells`)) {
      if (e.isFile && e.name.endsWith(".json")) names.push(e.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  names = names.sort();
  for (const name of names) {
    const file = await readCellFile(dir, name.slice(0, -".json".length));
    if (!file) continue;
    if ("record" in file) cells.push(file.record);
    else rejected.push(file);
  }
  return { cells: cells.sort((a, b) => a.id < b.id ? -1 : 1), rejected };
}

/** Every valid stored cell of a results directory, sorted by id (see {@linkcode scanCells} for the rest). */
export async function readCells(dir: string): Promise<CellRecord[]> {
  return (await scanCells(dir)).cells;
}

/**
 * Moves a rejected cell file to `rejected/` beside `cells/` (named with the
 * time, so evidence is never overwritten) and returns where it went.
 */
export async function setAside(dir: string, file: Rejected): Promise<string> {
  await Deno.mkdir(`${dir}/rejected`, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const to = `${dir}/rejected/${basename(file.path, ".json")}.${stamp}.json`;
  await Deno.rename(file.path, to);
  return to;
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

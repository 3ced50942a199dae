/**
 * A results directory: one JSON file per finished cell under `cells/`
 * (a run, or a reference to the run a directory beside it stores), written
 * atomically, and a lock so two runners never share it.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { IoError, ioMessage, UserError } from "../errors.ts";
import { writeTextAtomic } from "../fsutil.ts";
import { sha1Hex } from "../data/source.ts";
import type { CellRecord } from "./cell.ts";
import { canonicalJson, type GridConfig, gridKey, storedKeys } from "./grid.ts";
import { engineVersion } from "../train/result.ts";
import { cellRef, compactJson, encodeCell, resolveRef } from "./format.ts";
import { checkCellFile } from "./validate.ts";

/** Path of a cell's result file. */
export const cellPath = (dir: string, id: string): string =>
  `${dir}/cells/${id}.json`;

/** A file in `cells/` that is not a stored cell, and why. */
export interface Rejected {
  /** The file. */
  path: string;
  /** Why it is not a stored cell. */
  reason: string;
}

/** A stored cell as read: its record, and where its run is stored in full. */
export interface Stored {
  /** The cell as read (a reference resolved). */
  record: CellRecord;
  /**
   * The results directory whose file holds the run (this one, or the one a
   * reference names) and the SHA-1 of that file's canonical JSON: what a
   * reference to this run records.
   */
  home: { dir: string; sha1: string };
}

/** Reads and parses a JSON file: the value, or why it is not JSON; undefined when missing. */
async function readJson(
  path: string,
): Promise<{ value: unknown } | { reason: string } | undefined> {
  let text;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    return { reason: `cannot be read (${(e as Error).message})` };
  }
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return {
      reason: text.length === 0
        ? "empty file"
        : `not JSON (${(e as Error).message})`,
    };
  }
}

/** SHA-1 of a value's canonical JSON: the same for the same content, whatever its layout or line ends. */
export const contentSha1 = (value: unknown): Promise<string> =>
  sha1Hex(new TextEncoder().encode(canonicalJson(value)));

/**
 * Reads and checks `cells/<id>.json` ({@linkcode checkCellFile}), following
 * a reference to the results directory beside `dir` that stores the run: the
 * record, the reason it is not one, or undefined when there is no such file.
 */
export async function readCellFile(
  dir: string,
  id: string,
): Promise<Stored | Rejected | undefined> {
  const path = cellPath(dir, id);
  const read = await readJson(path);
  if (!read) return undefined;
  if ("reason" in read) return { path, reason: read.reason };
  const checked = await checkCellFile(read.value, id);
  if ("reason" in checked) return { path, reason: checked.reason };
  if ("record" in checked) {
    return {
      record: checked.record,
      home: { dir, sha1: await contentSha1(read.value) },
    };
  }
  const { ref } = checked;
  const home = join(dirname(dir), ref.ref.dir);
  const target = cellPath(home, id);
  const source = await readJson(target);
  const why = (reason: string) => ({
    path,
    reason: `refers to ${target}, which ${reason}`,
  });
  if (!source) return why("is missing");
  if ("reason" in source) return why(`is no cell: ${source.reason}`);
  if (await contentSha1(source.value) !== ref.ref.sha1) {
    return why("changed since it was referred to (another run)");
  }
  const run = await checkCellFile(source.value, id);
  if ("reason" in run) return why(`is no cell: ${run.reason}`);
  if ("ref" in run) return why("is itself a reference");
  return {
    record: resolveRef(ref, run.record),
    home: { dir: home, sha1: ref.ref.sha1 },
  };
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

/** Stores a cell's run atomically, each curve once ({@linkcode encodeCell}). */
export async function writeCell(
  dir: string,
  record: CellRecord,
): Promise<void> {
  await Deno.mkdir(`${dir}/cells`, { recursive: true });
  await writeTextAtomic(
    cellPath(dir, record.id),
    compactJson(encodeCell(record)),
  );
}

/**
 * Stores `copy`, a cell of this experiment whose run `source` already
 * stores beside `dir`, as a reference to that run (atomically). The source
 * must be a sibling of `dir`.
 */
export async function writeRef(
  dir: string,
  copy: CellRecord,
  source: Stored,
): Promise<void> {
  if (resolve(dirname(source.home.dir)) !== resolve(dirname(dir))) {
    throw new Error(`${source.home.dir} is not beside ${dir}`);
  }
  await Deno.mkdir(`${dir}/cells`, { recursive: true });
  const ref = cellRef(copy, copy.reused_from ?? source.record.experiment, {
    dir: basename(source.home.dir),
    sha1: source.home.sha1,
  });
  await writeTextAtomic(cellPath(dir, copy.id), compactJson(ref));
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
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new IoError(ioMessage(e, `${dir}/cells`));
    }
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

/**
 * Which of `records` answers each grid config, in grid order (undefined
 * where none does): the same config and the current engine version, or,
 * where the grid left the engine to the machine, any engine a machine may
 * pick. Where two engines' runs answer one config, the one with the grid's
 * own engine is taken.
 */
export function answerGrid(
  records: CellRecord[],
  grid: GridConfig[],
): (CellRecord | undefined)[] {
  const rank = new Map(grid.map((g, i) => [gridKey(g), i]));
  const found: (CellRecord | undefined)[] = grid.map(() => undefined);
  for (const record of records) {
    if (record.engine !== engineVersion(record.config)) continue;
    for (const key of storedKeys(record.config)) {
      const i = rank.get(key);
      if (i === undefined) continue;
      const exact = canonicalJson(record.config) ===
        canonicalJson(grid[i].config);
      if (!found[i] || exact) found[i] = record;
      break;
    }
  }
  return found;
}

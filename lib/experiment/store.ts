/**
 * A results directory: one JSON file per finished cell under `cells/`,
 * written atomically, and a lock so two runners never share it.
 *
 * @module
 */
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

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    // No /proc (not Linux): assume alive, the user removes a stale lock by hand.
    return Deno.build.os !== "linux";
  }
}

/**
 * Takes `dir/.lock` for this process, or throws naming the holder. A lock
 * left by a process that no longer runs (killed with -9) is taken over.
 * Returns the release function.
 */
export async function acquireLock(dir: string): Promise<() => void> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/.lock`;
  const hostname = Deno.hostname();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await Deno.open(path, { write: true, createNew: true });
      await file.write(
        new TextEncoder().encode(
          JSON.stringify({ pid: Deno.pid, hostname }) + "\n",
        ),
      );
      file.close();
      return () => {
        try {
          Deno.removeSync(path);
        } catch { /* already gone */ }
      };
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      const holder = await readJsonIfExists<{ pid: number; hostname: string }>(
        path,
      ).catch(() => undefined);
      if (holder && holder.hostname === hostname && !alive(holder.pid)) {
        await Deno.remove(path).catch(() => {});
        continue;
      }
      throw new UserError(
        `${path}: another runner (pid ${holder?.pid ?? "?"} on ${
          holder?.hostname ?? "?"
        }) ` +
          `is using this results directory; wait for it, or delete the lock if it is stale`,
      );
    }
  }
  throw new UserError(`${path}: could not take the lock`);
}

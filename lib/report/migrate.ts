/**
 * Migration of a results tree from `rnnlab.cell/1` and `rnnlab.results/1`
 * (every curve stored twice or three times, every reused cell copied, every
 * cell embedded again in `results.json`) to `rnnlab.cell/2` and
 * `rnnlab.results/2`. No number changes: each cell is decoded again and
 * compared with what it was before anything is replaced, a copy becomes a
 * reference only to a run whose numbers are identical, and the reports keep
 * their rows.
 *
 * @example
 * ```ts
 * const summary = await migrateResults("results");
 * console.log(summary.refs, "copies became references");
 * ```
 *
 * @module
 */
import { join } from "node:path";
import type { CellRecord } from "../experiment/cell.ts";
import { canonicalJson } from "../experiment/grid.ts";
import { decodeCell, encodeCell } from "../experiment/format.ts";
import { checkCellFile } from "../experiment/validate.ts";
import {
  cellPath,
  readCellFile,
  type Rejected,
  type Stored,
  writeCell,
  writeRef,
} from "../experiment/store.ts";
import { writeJsonAtomic, writeTextAtomic } from "../fsutil.ts";
import { readResults, renderMarkdown, RESULTS_SCHEMA } from "./report.ts";

/** What {@linkcode migrateResults} did. */
export interface Migration {
  /** Results directories looked at. */
  dirs: string[];
  /** Cells rewritten as `rnnlab.cell/2` runs. */
  runs: number;
  /** Copies replaced by references to an identical run beside them. */
  refs: number;
  /** Files already in the current form. */
  current: number;
  /** `results.json` files rewritten to name their cells by id. */
  results: number;
  /** Files that are not valid cells: left as they are. */
  rejected: Rejected[];
  /** Bytes of the cell and results files before and after. */
  bytes: { before: number; after: number };
}

/** A cell file read for the migration. */
interface Found {
  dir: string;
  id: string;
  record: CellRecord;
  /** Already `rnnlab.cell/2`. */
  current: boolean;
}

/** The run of a record, without what says which experiment holds it. */
const runOf = (r: CellRecord) => {
  const { experiment: _e, point: _p, overrides: _o, reused_from: _r, ...run } =
    r;
  return canonicalJson(run);
};

async function size(path: string): Promise<number> {
  return (await Deno.stat(path).catch(() => null))?.size ?? 0;
}

/** Directories under `root` holding `cells/`, sorted. */
async function resultDirs(root: string): Promise<string[]> {
  const dirs: string[] = [];
  for await (const e of Deno.readDir(root)) {
    if (!e.isDirectory) continue;
    const cells = await Deno.stat(join(root, e.name, "cells")).catch(() =>
      null
    );
    if (cells?.isDirectory) dirs.push(join(root, e.name));
  }
  return dirs.sort();
}

/**
 * Migrates every results directory under `root` (those holding `cells/`):
 * cells to `rnnlab.cell/2`, a copy of a run stored beside it to a reference
 * to that run, and `results.json` to `rnnlab.results/2`, whose `README.md`
 * is written again from the same rows. Idempotent; files that are not valid
 * cells are listed and left alone.
 */
export async function migrateResults(root: string): Promise<Migration> {
  const dirs = await resultDirs(root);
  const summary: Migration = {
    dirs,
    runs: 0,
    refs: 0,
    current: 0,
    results: 0,
    rejected: [],
    bytes: { before: 0, after: 0 },
  };
  const found: Found[] = [];
  const files: string[] = [];
  for (const dir of dirs) {
    files.push(`${dir}/results.json`);
    for await (const e of Deno.readDir(`${dir}/cells`)) {
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      const id = e.name.slice(0, -".json".length);
      const path = cellPath(dir, id);
      files.push(path);
      let value: unknown;
      try {
        value = JSON.parse(await Deno.readTextFile(path));
      } catch (err) {
        summary.rejected.push({ path, reason: (err as Error).message });
        continue;
      }
      const checked = await checkCellFile(value, id);
      if ("reason" in checked) summary.rejected.push({ path, ...checked });
      else if ("ref" in checked) summary.current++;
      else {
        const current = (value as { schema: string }).schema ===
          checked.record.schema;
        found.push({ dir, id, record: checked.record, current });
      }
    }
  }
  for (const f of files) summary.bytes.before += await size(f);

  // Runs first, so references can name what is written.
  const byId = Map.groupBy(found, (f) => f.id);
  const sourceOf = (copy: Found): Found | undefined => {
    const candidates = (byId.get(copy.id) ?? []).filter((f) =>
      f !== copy && f.record.reused_from === undefined &&
      runOf(f.record) === runOf(copy.record)
    );
    const named = candidates.find((f) =>
      f.dir.endsWith(`/${copy.record.reused_from}`)
    );
    return named ?? candidates[0];
  };
  const copies = found.filter((f) =>
    f.record.reused_from !== undefined && sourceOf(f)
  );
  for (const f of found) {
    if (copies.includes(f)) continue;
    if (f.current) {
      summary.current++;
      continue;
    }
    const again = decodeCell(encodeCell(f.record));
    if (typeof again === "string" || runOf(again) !== runOf(f.record)) {
      throw new Error(`${cellPath(f.dir, f.id)}: would not read back the same`);
    }
    await writeCell(f.dir, f.record);
    summary.runs++;
  }
  for (const copy of copies) {
    const source = sourceOf(copy)!;
    const stored = await readCellFile(source.dir, source.id);
    if (!stored || !("record" in stored)) {
      throw new Error(`${cellPath(source.dir, source.id)}: not readable`);
    }
    await writeRef(copy.dir, copy.record, stored as Stored);
    const back = await readCellFile(copy.dir, copy.id);
    if (
      !back || !("record" in back) ||
      canonicalJson(back.record) !== canonicalJson(copy.record)
    ) {
      throw new Error(
        `${cellPath(copy.dir, copy.id)}: reference reads back otherwise`,
      );
    }
    summary.refs++;
  }

  for (const dir of dirs) {
    const path = `${dir}/results.json`;
    let raw: { schema?: string; cells?: { id: string }[] };
    try {
      raw = JSON.parse(await Deno.readTextFile(path));
    } catch {
      continue;
    }
    if (raw.schema !== "rnnlab.results/1" || !Array.isArray(raw.cells)) {
      continue;
    }
    // Each embedded cell must be what cells/ now says, before it is dropped.
    const ids = raw.cells.map((c) => c.id);
    let same = true;
    for (const [i, id] of ids.entries()) {
      const stored = await readCellFile(dir, id);
      const embedded = await checkCellFile(raw.cells[i], id);
      if (
        !stored || !("record" in stored) || !("record" in embedded) ||
        runOf(stored.record) !== runOf(embedded.record)
      ) {
        summary.rejected.push({
          path,
          reason: `cell ${id} differs from ${cellPath(dir, id)}; left as it is`,
        });
        same = false;
        break;
      }
    }
    if (!same) continue;
    await writeJsonAtomic(path, { ...raw, schema: RESULTS_SCHEMA, cells: ids });
    const read = await readResults(dir);
    if (!read || "reason" in read || read.rejected.length) {
      throw new Error(`${path}: does not read back`);
    }
    await writeTextAtomic(`${dir}/README.md`, renderMarkdown(read.results));
    summary.results++;
  }
  for (const f of files) summary.bytes.after += await size(f);
  return summary;
}

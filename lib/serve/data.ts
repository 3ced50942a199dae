/**
 * What `deno task serve` shows, read from a results tree: its results
 * directories (`results/<name>`, `results/_local/<name>--…`), each with
 * its experiment's text, its cells' numbers and curves, and the cells a
 * runner is training into it now (`live.json`). Every name from a request
 * is checked: a directory must lie inside the tree, symlinks included.
 *
 * @example
 * ```ts
 * const dirs = await experimentList("results", "experiments");
 * const view = await experimentView("results", "clipping-ablation", "experiments");
 * ```
 *
 * @module
 */
import { join, resolve, sep } from "node:path";
import { sha1Hex } from "../data/source.ts";
import { KEYS } from "../config/keys.ts";
import type { CellRecord } from "../experiment/cell.ts";
import { plannedCount } from "../experiment/search.ts";
import type { Live, LiveCell } from "../experiment/live.ts";
import { loadExperiment } from "../experiment/load.ts";
import type { ExperimentSpec } from "../experiment/spec.ts";
import { readCellFile, scanCells } from "../experiment/store.ts";
import type { SummaryRow } from "../report/aggregate.ts";
import { buildResults } from "../report/report.ts";
import { cellSummary, COLUMNS } from "../report/show.ts";

/** A results directory's name in the tree: `name`, or `_local/name--key=value,…`. */
const DIR = /^(_local\/)?[A-Za-z0-9][A-Za-z0-9._,=+-]*$/;

/** A cell id. */
export const CELL_ID = /^[0-9a-f]{16}$/;

/** A live cell older than this is a runner's leftover (killed): not shown. */
const STALE_MS = 5 * 60_000;

/**
 * The real path of directory `rel` of the tree at `root`, or null when it
 * is not a results directory's name, does not exist, or lies outside the
 * tree (`..`, an absolute path, a symlink out).
 */
export async function safeDir(
  root: string,
  rel: string,
): Promise<string | null> {
  if (!DIR.test(rel) || rel.split("/").some((p) => p === "." || p === "..")) {
    return null;
  }
  try {
    const top = await Deno.realPath(root);
    const real = await Deno.realPath(join(top, rel));
    if (!real.startsWith(top + sep)) return null;
    return (await Deno.stat(real)).isDirectory ? real : null;
  } catch {
    return null;
  }
}

/** The results directories of the tree, by name, sorted (committed first, then `_local`). */
export async function resultDirs(root: string): Promise<string[]> {
  const out: string[] = [];
  const scan = async (rel: string) => {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = [...Deno.readDirSync(join(root, rel))];
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name < b.name ? -1 : 1)) {
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (!rel && e.name === "_local") {
        await scan("_local");
        continue;
      }
      const dir = await safeDir(root, name);
      if (!dir) continue;
      const has = (f: string) =>
        Deno.stat(join(dir, f)).then(() => true, () => false);
      if (await has("cells") || await has("live.json")) out.push(name);
    }
  };
  await scan("");
  return out;
}

/** The experiment a results directory belongs to: the name before `--`. */
const experimentOf = (rel: string) =>
  rel.replace(/^_local\//, "").split("--")[0];

/** The experiment's spec: its file, else the one its results.json recorded, else its name alone. */
async function specOf(
  dir: string,
  rel: string,
  experiments: string,
): Promise<ExperimentSpec> {
  const name = experimentOf(rel);
  try {
    return (await loadExperiment(name, { dir: experiments, allowLarge: true }))
      .spec;
  } catch {
    try {
      const file = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
      if (file?.experiment?.name) return file.experiment as ExperimentSpec;
    } catch { /* none */ }
    return { name, description: "", exercises: [], seeds: [0] };
  }
}

/** The cells a runner trains into `dir` now, from its `live.json` (none when it is stale). */
async function running(dir: string): Promise<LiveCell[]> {
  try {
    const live = JSON.parse(
      await Deno.readTextFile(`${dir}/live.json`),
    ) as Live;
    const age = Date.now() - Date.parse(live.updated);
    return Array.isArray(live.cells) && age < STALE_MS ? live.cells : [];
  } catch {
    return [];
  }
}

/** A results directory as the index lists it. */
export interface DirSummary {
  dir: string;
  name: string;
  description: string;
  exercises: string[];
  reading: string | null;
  /** Valid cells stored. */
  stored: number;
  /** Cells the grid has (null when it cannot be expanded). */
  planned: number | null;
  /** Cells a runner trains into it now. */
  running: number;
  /** Files in `cells/` that are not valid cells. */
  rejected: number;
}

/** Every results directory of the tree, summarised. */
export async function experimentList(
  root: string,
  experiments: string,
): Promise<DirSummary[]> {
  const out: DirSummary[] = [];
  for (const rel of await resultDirs(root)) {
    const dir = (await safeDir(root, rel))!;
    const spec = await specOf(dir, rel, experiments);
    const { cells, rejected } = await scanCells(dir);
    let planned: number | null = null;
    try {
      planned = plannedCount(spec, { overrides: cells[0]?.overrides ?? {} });
    } catch { /* a spec of its name alone */ }
    out.push({
      dir: rel,
      name: spec.name,
      description: spec.description,
      exercises: spec.exercises,
      reading: spec.reading ?? null,
      stored: cells.length,
      planned: spec.description ? planned : null,
      running: (await running(dir)).filter((c) =>
        !cells.some((s) => s.id === c.id)
      ).length,
      rejected: rejected.length,
    });
  }
  return out;
}

/** A stored cell as the page's table and curves show it. */
export interface CellSummary {
  id: string;
  point: CellRecord["point"];
  seed: number;
  status: CellRecord["status"];
  train_ppl: number | null;
  val_ppl: number | null;
  best_val_ppl: number | null;
  tokens_per_sec: number;
  diverged_epoch: number | null;
  /** The epoch it blew up at (non-finite, or above the vocabulary size after having been below it). */
  blew_up_epoch: number | null;
  computed_on: string | null;
  reused_from: string | null;
  /** Its whole config (a diff names the keys that differ). */
  config: CellRecord["config"];
  /** Training perplexity per epoch. */
  train: number[];
  /** Validation perplexity per evaluation, [epoch, ppl]. */
  val: [number, number][];
}

/** One results directory as its page shows it. */
export interface ExperimentView {
  dir: string;
  spec: ExperimentSpec;
  command: string;
  varying_keys: string[];
  /** The columns of its table: the grid's keys, then `deno task show`'s (but the id). */
  columns: string[];
  /** What each config key means (the keys' help), for the table's titles. */
  keys: Record<string, string>;
  rows: SummaryRow[];
  /** The largest vocabulary of its cells (0 when none finished). */
  vocab_size: number;
  cells: CellSummary[];
  running: LiveCell[];
  rejected: { file: string; reason: string }[];
}

/** Directory `rel` of the tree as its page shows it, or null when there is none. */
export async function experimentView(
  root: string,
  rel: string,
  experiments: string,
): Promise<ExperimentView | null> {
  const dir = await safeDir(root, rel);
  if (!dir) return null;
  const spec = await specOf(dir, rel, experiments);
  const scan = await scanCells(dir);
  const overrides = scan.cells[0]?.overrides ?? {};
  const results = buildResults(spec, scan.cells, overrides);
  const stored = new Set(scan.cells.map((c) => c.id));
  return {
    dir: rel,
    spec,
    command: results.command,
    varying_keys: results.varying_keys,
    columns: [
      ...results.varying_keys,
      ...COLUMNS.filter((c) => c !== "id" && c !== "diverged_epoch"),
    ],
    keys: Object.fromEntries(
      Object.entries(KEYS).map(([name, k]) => [
        name,
        `${k.help}${k.unit ? ` (${k.unit})` : ""}`,
      ]),
    ),
    rows: results.rows,
    vocab_size: Math.max(0, ...scan.cells.map((c) => c.corpus.vocab.length)),
    cells: results.cells.map((c) => ({
      point: c.point,
      ...cellSummary(c),
      reused_from: c.reused_from ?? null,
      config: c.config,
      train: c.train_ppl,
      val: c.val_ppl.map((v) => [v.epoch, v.ppl]),
    })),
    running: (await running(dir)).filter((c) => !stored.has(c.id)),
    rejected: scan.rejected.map((r) => ({
      file: r.path.split("/").at(-1)!,
      reason: r.reason,
    })),
  };
}

/** Cell `id` of directory `rel`, whole (samples, environment, every epoch), or null. */
export async function cellView(
  root: string,
  rel: string,
  id: string,
): Promise<CellRecord | null> {
  if (!CELL_ID.test(id)) return null;
  const dir = await safeDir(root, rel);
  if (!dir) return null;
  const read = await readCellFile(dir, id);
  return read && "record" in read ? read.record : null;
}

/** How many times a directory's state was read for a fingerprint (the load test counts them). */
export const looked = { dirs: 0 };

/** What of directory `name` a fingerprint covers, as text (empty when it is no directory of the tree). */
async function dirState(root: string, name: string): Promise<string> {
  looked.dirs++;
  const dir = await safeDir(root, name);
  if (!dir) return "";
  const stamp = async (path: string) => {
    const info = await Deno.stat(path).catch(() => null);
    return info ? `${info.mtime?.getTime()}:${info.size}` : "-";
  };
  const cells = [
    ...await Array.fromAsync(Deno.readDir(join(dir, "cells"))).catch(() => []),
  ].map((e) => e.name).sort();
  // The folder's own time too: a cell written again under its name
  // (--force) changes no name, but renames into the folder.
  return `${name}|${cells.join(",")}|${await stamp(
    `${dir}/cells`,
  )}|${await stamp(
    `${dir}/live.json`,
  )}|${await stamp(`${dir}/results.json`)}`;
}

const hash = async (parts: string[]) =>
  (await sha1Hex(new TextEncoder().encode(parts.join("\n")))).slice(0, 16);

/**
 * What changes when a runner stores a cell, writes `live.json` or a report
 * is written, as a short hash: of directory `rel`, or of the whole tree.
 * A page reads it with the view it loaded and gives it to the event
 * stream, which then announces any change after that view.
 */
export async function fingerprint(root: string, rel?: string): Promise<string> {
  if (rel !== undefined) return await hash([await dirState(root, rel)]);
  return (await fingerprints(root)).tree;
}

/**
 * Every directory's {@linkcode fingerprint} and the tree's, from one look
 * at the tree (what one poll shared by every event stream needs).
 */
export async function fingerprints(
  root: string,
): Promise<{ tree: string; dirs: Map<string, string> }> {
  const names = await resultDirs(root);
  const states = await Promise.all(names.map((n) => dirState(root, n)));
  const dirs = new Map<string, string>();
  for (const [i, n] of names.entries()) dirs.set(n, await hash([states[i]]));
  return { tree: await hash(states.filter(Boolean)), dirs };
}

/** The tree's root as given, resolved (for messages). */
export const rootOf = (root: string): string => resolve(root);

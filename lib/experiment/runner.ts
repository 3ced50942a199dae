/**
 * Runs an experiment's cells: skips finished ones, refers to runs stored
 * beside the directory, and runs the rest in child processes (`jobs` at a
 * time), cells of one shape on the fused engine in groups trained together
 * (`batch` at most), storing each result the moment its cell ends.
 *
 * @module
 */
import { engineVersion, type EpochLog } from "../train/result.ts";
import { groupKey } from "../train/config.ts";
import type { SourceOptions } from "../data/source.ts";
import { type CellJob, type CellRecord, failedRecord } from "./cell.ts";
import {
  canonicalJson,
  type Cell,
  type GridConfig,
  gridKey,
  type Overrides,
  storedKeys,
} from "./grid.ts";
import { io, IoError } from "../errors.ts";
import {
  cellPath,
  readCell,
  readCellFile,
  readCells,
  type Rejected,
  setAside,
  siblingDirs,
  type Stored,
  writeCell,
  writeRef,
} from "./store.ts";
import { computedOn } from "../env.ts";
import { machineKey, type OnThisMachine } from "./notes.ts";
import { LiveLog } from "./live.ts";

/** Which cells a run will compute and which are already stored. */
export interface Plan {
  run: Cell[];
  cached: Cell[];
  /** Files of these cells that are not valid cells: their cells run again. */
  rejected: Rejected[];
}

/**
 * Splits cells into those to run and those already finished in `dir`,
 * under the cell's id or, for a cell whose engine the machine picked,
 * under another engine's (`also`). A stored `failed` cell is run again;
 * `done` and `diverged` ones are results; a file that is not a valid cell
 * is no result, and is listed in `rejected`.
 */
export async function planCells(
  dir: string,
  cells: Cell[],
  force = false,
): Promise<Plan> {
  const plan: Plan = { run: [], cached: [], rejected: [] };
  for (const cell of cells) {
    let stored = false;
    for (const id of [cell.id, ...cell.also]) {
      const file = await readCellFile(dir, id);
      if (!file) continue;
      if (!("record" in file)) plan.rejected.push(file);
      else if (!force && file.record.status !== "failed") stored = true;
    }
    (stored ? plan.cached : plan.run).push(cell);
  }
  return plan;
}

/**
 * The cells stored in `dir` that answer the grid (same config, current
 * engine version; any engine a machine may pick where the grid left it to
 * the machine), one per grid config, in grid order. Where two engines'
 * runs answer one config, the one with the grid's own engine is taken.
 */
export async function storedGridCells(
  dir: string,
  grid: GridConfig[],
): Promise<CellRecord[]> {
  const rank = new Map(grid.map((g, i) => [gridKey(g), i]));
  const found = new Map<number, CellRecord>();
  for (const record of await readCells(dir)) {
    if (record.engine !== engineVersion(record.config)) continue;
    for (const key of storedKeys(record.config)) {
      const i = rank.get(key);
      if (i === undefined) continue;
      const exact = canonicalJson(record.config) ===
        canonicalJson(grid[i].config);
      if (!found.has(i) || exact) found.set(i, record);
      break;
    }
  }
  return [...found].sort(([a], [b]) => a - b).map(([, record]) => record);
}

/** The sampling exponents a record's samples were drawn at, in order. */
const sampledAlphas = (record: CellRecord): number[] =>
  [
    ...new Set(
      record.samples.filter((s) => s.decoding === "sample").map((s) => s.alpha),
    ),
  ] as number[];

/**
 * Other experiments' stored runs of `cells`, by cell id, from the results
 * directories beside `dir` (listed once). A cell's id hashes its whole config,
 * the corpus SHA-1 and the engine version, and a run is deterministic on one
 * backend and adapter, so such a stored run is the run this experiment would
 * make (the chapter's configuration is a cell of most experiments). It must
 * also have been decoded at the same `alphas`, and, when `here` is given, have
 * run where this machine would run it (`here[engine/backend]`, as
 * {@linkcode computedOn} words it): other adapters round differently, so
 * their runs are other runs.
 */
export async function findStored(
  dir: string,
  cells: Cell[],
  alphas: number[],
  here?: OnThisMachine,
): Promise<Map<string, Stored>> {
  const others = await siblingDirs(dir);
  const found = new Map<string, Stored>();
  for (const cell of cells) {
    for (const other of others) {
      const file = await readCellFile(other, cell.id);
      const stored = file && "record" in file ? file.record : undefined;
      if (
        stored?.id === cell.id && stored.status !== "failed" &&
        String(sampledAlphas(stored)) === String(alphas) &&
        (here === undefined ||
          (stored.env !== null &&
            computedOn(stored.env) === here[machineKey(stored.config)]))
      ) {
        found.set(cell.id, file as Stored);
        break;
      }
    }
  }
  return found;
}

/**
 * Stores in `dir` the cells of `cells` that {@linkcode findStored} finds
 * beside it, each as a reference to the stored run (never a copy of its
 * numbers). Read back, such a cell has the source's numbers and environment,
 * this experiment's name, grid point and overrides, and names where it came
 * from in `reused_from`. Returns the cells still to run and the cells reused.
 *
 * @example
 * ```ts
 * const { run, reused } = await reuseStored("results/sampling", plan.run, {
 *   experiment: "sampling",
 *   alphas: [],
 *   overrides: {},
 * });
 * ```
 */
export async function reuseStored(
  dir: string,
  cells: Cell[],
  options: {
    experiment: string;
    alphas: number[];
    overrides: Overrides;
    here?: OnThisMachine;
  },
): Promise<{ run: Cell[]; reused: CellRecord[] }> {
  const found = await findStored(dir, cells, options.alphas, options.here);
  const run: Cell[] = [];
  const reused: CellRecord[] = [];
  for (const cell of cells) {
    const stored = found.get(cell.id);
    if (!stored) {
      run.push(cell);
      continue;
    }
    const copy: CellRecord = {
      ...stored.record,
      experiment: options.experiment,
      point: cell.point,
      overrides: options.overrides,
      reused_from: stored.record.reused_from ?? stored.record.experiment,
    };
    await writeRef(dir, copy, stored);
    reused.push(copy);
  }
  return { run, reused };
}

/** What the runner reports while it works. */
export interface RunnerEvents {
  /** A group of cells starts, trained together in one process. */
  onGroup?: (cells: Cell[]) => void;
  onStart?: (cell: Cell) => void;
  onEpoch?: (cell: Cell, log: EpochLog) => void;
  onEnd?: (cell: Cell, record: CellRecord) => void;
}

/** How to start a cell process: the program and its arguments (the results directory is appended). */
export interface CellCommand {
  program: string;
  args: string[];
}

/** Options of {@linkcode runCells}. */
export interface RunOptions {
  experiment: string;
  overrides: Overrides;
  alphas: number[];
  source: SourceOptions;
  /** Processes at a time, each training one group. */
  jobs: number;
  /** Most cells trained together in one group (1: each alone). */
  batch?: number;
  command: CellCommand;
  events?: RunnerEvents;
}

/**
 * The cells in groups to train together: those of one {@linkcode groupKey}
 * (the fused engine, one shape; the corpus and letters stand for the
 * vocabulary), at most `batch` each, in the order the cells come; every
 * other cell alone.
 */
export function groupCells(cells: Cell[], batch: number): Cell[][] {
  const groups: Cell[][] = [];
  const open = new Map<string, Cell[]>();
  for (const cell of cells) {
    const c = cell.config;
    const key = batch > 1
      ? groupKey(c, `${c.corpus}|${c.letters ?? "ascii"}`)
      : null;
    let group = key === null ? undefined : open.get(key);
    if (!group || group.length >= batch) {
      group = [];
      groups.push(group);
      if (key !== null) open.set(key, group);
    }
    group.push(cell);
  }
  return groups;
}

/**
 * Trains one group of cells in a child process, which stores each cell
 * the moment it finishes; returns the records in the order they ended.
 * A cell the process did not store (it crashed) is stored as failed.
 */
async function runGroup(
  dir: string,
  cells: Cell[],
  options: RunOptions,
): Promise<CellRecord[]> {
  const job: CellJob = {
    experiment: options.experiment,
    cells,
    overrides: options.overrides,
    alphas: options.alphas,
    source: options.source,
  };
  const events = options.events ?? {};
  const byId = new Map(cells.map((c) => [c.id, c]));
  events.onGroup?.(cells);
  for (const cell of cells) events.onStart?.(cell);
  const child = new Deno.Command(options.command.program, {
    args: [...options.command.args, dir],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  // A process that died at once cannot take it; its status says why.
  await writer.write(new TextEncoder().encode(JSON.stringify(job) + "\n"))
    .catch(() => {});
  const stderr = new Response(child.stderr).text();
  const records: CellRecord[] = [];
  const ended = (cell: Cell, record: CellRecord) => {
    records.push(record);
    events.onEnd?.(cell, record);
  };
  let buffer = "";
  let ioFailure: string | undefined;
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let event;
      try {
        event = JSON.parse(line);
      } catch {
        continue; // Not an event (a library's stray output): ignore.
      }
      const cell = byId.get(event.id);
      if (event.type === "epoch" && cell) {
        events.onEpoch?.(cell, event as EpochLog);
      } else if (event.type === "stored" && cell) {
        const record = await readCell(dir, cell.id);
        if (record) ended(cell, record);
      } else if (event.type === "io-error") {
        ioFailure = event.message;
      }
    }
  }
  const status = await child.status;
  await writer.close().catch(() => {});
  // A cell could not be stored (disk full, read-only): the grid stops.
  if (ioFailure) throw new IoError(ioFailure);
  // The process died without storing them (crash, out of memory): say why.
  const why = `cell process exited with status ${status.code}${
    status.signal ? ` (${status.signal})` : ""
  }: ${(await stderr).trim().split("\n").slice(-5).join(" | ")}`;
  for (const cell of cells) {
    if (records.some((r) => r.id === cell.id)) continue;
    const failed = failedRecord(job, cell, why);
    await io(cellPath(dir, cell.id), () => writeCell(dir, failed));
    ended(cell, failed);
  }
  return records;
}

/**
 * Runs `cells` into `dir` in groups ({@linkcode groupCells}, at most
 * `batch` cells trained together), `jobs` processes at a time. Each result
 * is stored (atomically) the moment its cell finishes, so an interrupted
 * run loses at most the cells in flight. Returns the records in the order
 * they finished. A cell that cannot be stored stops the grid: no other
 * group starts, and an {@linkcode IoError} says which file.
 */
export async function runCells(
  dir: string,
  cells: Cell[],
  options: RunOptions,
): Promise<CellRecord[]> {
  const queue = groupCells(cells, options.batch ?? 1);
  const done: CellRecord[] = [];
  let failure: unknown;
  const worker = async () => {
    for (let group = queue.shift(); group; group = queue.shift()) {
      try {
        done.push(...await runGroup(dir, group, options));
      } catch (e) {
        // No new group starts; the ones in flight finish (or fail to store) first.
        failure ??= e;
        queue.length = 0;
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.jobs) }, worker));
  if (failure) throw failure;
  return done;
}

/** What {@linkcode runGrid} tells as it goes, besides the cells' progress. */
export interface GridEvents extends RunnerEvents {
  /** A file that was not a valid cell was moved out of `cells/`. */
  onSetAside?: (file: Rejected, to: string) => void;
  /** Cells stored beside the directory were referred to instead of trained. */
  onReused?: (reused: CellRecord[]) => void;
  /** The cells about to run, before the first starts (awaited). */
  onRun?: (cells: Cell[]) => void | Promise<void>;
}

/** What {@linkcode runGrid} did. */
export interface GridRun {
  /** The cells run, in the order they finished. */
  records: CellRecord[];
  reused: CellRecord[];
  /** Cells that were stored already. */
  cached: number;
}

/**
 * Brings a results directory up to date with its grid: sets aside files
 * that are not valid cells, refers to runs stored beside it (when `reuse`),
 * and runs the rest ({@linkcode runCells}). The caller holds the lock. A file
 * that cannot be written stops it with an {@linkcode IoError}.
 *
 * @example
 * ```ts
 * const { records } = await runGrid(grid, { ...options, force: false, reuse: true });
 * ```
 */
export async function runGrid(
  g: {
    dir: string;
    cells: Cell[];
    alphas: number[];
    overrides: Overrides;
    spec: { name: string };
  },
  options: Omit<RunOptions, "experiment" | "overrides" | "alphas"> & {
    force: boolean;
    reuse: boolean;
    here?: OnThisMachine;
    events?: GridEvents;
  },
): Promise<GridRun> {
  const events = options.events ?? {};
  const plan = await planCells(g.dir, g.cells, options.force);
  // A file that is not a valid cell is kept, out of the way, as evidence.
  for (const r of plan.rejected) {
    events.onSetAside?.(r, await io(r.path, () => setAside(g.dir, r)));
  }
  const { run, reused } = options.reuse
    ? await io(g.dir, () =>
      reuseStored(g.dir, plan.run, {
        experiment: g.spec.name,
        alphas: g.alphas,
        overrides: g.overrides,
        here: options.here,
      }))
    : { run: plan.run, reused: [] };
  if (reused.length) events.onReused?.(reused);
  await events.onRun?.(run);
  // The cells in flight, for `deno task serve` to draw as they train.
  const live = new LiveLog(g.dir);
  try {
    const records = await runCells(g.dir, run, {
      ...options,
      experiment: g.spec.name,
      overrides: g.overrides,
      alphas: g.alphas,
      events: {
        ...events,
        onStart: (c) => {
          live.start(c);
          events.onStart?.(c);
        },
        onEpoch: (c, log) => {
          live.epoch(c, log);
          events.onEpoch?.(c, log);
        },
        onEnd: (c, r) => {
          live.end(c);
          events.onEnd?.(c, r);
        },
      },
    });
    return { records, reused, cached: plan.cached.length };
  } finally {
    await live.close();
  }
}

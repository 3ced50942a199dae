/**
 * Runs an experiment's cells: skips finished ones, refers to runs stored
 * beside the directory, and trains the rest in worker processes
 * (`pool.ts`), storing each result the moment its cell ends.
 *
 * @module
 */
import type { CellRecord } from "./cell.ts";
import type { Cell, GridConfig, Overrides } from "./grid.ts";
import { io } from "../errors.ts";
import {
  answerGrid,
  readCellFile,
  readCells,
  type Rejected,
  setAside,
} from "./store.ts";
import type { OnThisMachine } from "./notes.ts";
import { LiveLog } from "./live.ts";
import { runCells, type RunnerEvents, type RunOptions } from "./pool.ts";
import { reuseStored } from "./reuse.ts";

export {
  type CellCommand,
  groupCells,
  runCells,
  type RunnerEvents,
  type RunOptions,
} from "./pool.ts";
export { findStored, reuseStored } from "./reuse.ts";

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
  return answerGrid(await readCells(dir), grid).filter((r) => r !== undefined);
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

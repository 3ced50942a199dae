/**
 * Runs an experiment's cells: skips finished ones, runs the rest in child
 * processes (`jobs` at a time), and stores each result as soon as it ends.
 *
 * @module
 */
import type { TrainConfig } from "../train/config.ts";
import { engineVersion, type EpochLog } from "../train/train.ts";
import type { SourceOptions } from "../data/source.ts";
import { type CellJob, type CellRecord, failedRecord } from "./cell.ts";
import {
  canonicalJson,
  type Cell,
  type GridConfig,
  gridKey,
  storedKeys,
} from "./grid.ts";
import {
  readCell,
  readCellFile,
  readCells,
  type Rejected,
  siblingDirs,
  writeCell,
} from "./store.ts";
import { computedOn } from "../env.ts";

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

/**
 * Per engine and backend (`"fused/webgpu"`), what a cell run now would
 * compute on ({@linkcode computedOn}).
 */
export type OnThisMachine = Partial<Record<string, string>>;

/** The {@linkcode OnThisMachine} key of a config. */
export const machineKey = (c: Pick<TrainConfig, "engine" | "backend">) =>
  `${c.engine}/${c.backend}`;

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
): Promise<Map<string, CellRecord>> {
  const others = await siblingDirs(dir);
  const found = new Map<string, CellRecord>();
  for (const cell of cells) {
    for (const other of others) {
      const stored = await readCell(other, cell.id);
      if (
        stored?.id === cell.id && stored.status !== "failed" &&
        String(sampledAlphas(stored)) === String(alphas) &&
        (here === undefined ||
          (stored.env !== null &&
            computedOn(stored.env) === here[machineKey(stored.config)]))
      ) {
        found.set(cell.id, stored);
        break;
      }
    }
  }
  return found;
}

/**
 * Copies into `dir` the cells of `cells` that {@linkcode findStored} finds
 * beside it. A copy keeps the source's numbers and environment, takes this
 * experiment's name, grid point and overrides, and records where it came from
 * in `reused_from`. Returns the cells still to run and the copies made.
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
    overrides: Partial<TrainConfig>;
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
      ...stored,
      experiment: options.experiment,
      point: cell.point,
      overrides: options.overrides,
      reused_from: stored.reused_from ?? stored.experiment,
    };
    await writeCell(dir, copy);
    reused.push(copy);
  }
  return { run, reused };
}

/** What the runner reports while it works. */
export interface RunnerEvents {
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
  overrides: Partial<TrainConfig>;
  alphas: number[];
  source: SourceOptions;
  jobs: number;
  command: CellCommand;
  events?: RunnerEvents;
}

async function runOne(
  dir: string,
  cell: Cell,
  options: RunOptions,
): Promise<CellRecord> {
  const job: CellJob = {
    experiment: options.experiment,
    cell,
    overrides: options.overrides,
    alphas: options.alphas,
    source: options.source,
  };
  const child = new Deno.Command(options.command.program, {
    args: [...options.command.args, dir],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(job) + "\n"));
  const stderr = new Response(child.stderr).text();
  let buffer = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        const event = JSON.parse(line);
        if (event.type === "epoch") {
          options.events?.onEpoch?.(cell, event as EpochLog);
        }
      } catch {
        // Not an event (a library's stray output): ignore.
      }
    }
  }
  const status = await child.status;
  await writer.close().catch(() => {});
  const record = await readCell(dir, cell.id);
  if (status.success && record) return record;
  // The process died without a record (crash, out of memory): record why.
  const failed = failedRecord(
    job,
    `cell process exited with status ${status.code}${
      status.signal ? ` (${status.signal})` : ""
    }: ${(await stderr).trim().split("\n").slice(-5).join(" | ")}`,
  );
  await writeCell(dir, failed);
  return failed;
}

/**
 * Runs `cells` into `dir`, `jobs` processes at a time. Each result is stored
 * (atomically) the moment its process ends, so an interrupted run loses at
 * most the cells in flight. Returns the records in the order they finished.
 */
export async function runCells(
  dir: string,
  cells: Cell[],
  options: RunOptions,
): Promise<CellRecord[]> {
  const queue = [...cells];
  const done: CellRecord[] = [];
  const worker = async () => {
    for (let cell = queue.shift(); cell; cell = queue.shift()) {
      options.events?.onStart?.(cell);
      const record = await runOne(dir, cell, options);
      done.push(record);
      options.events?.onEnd?.(cell, record);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.jobs) }, worker));
  return done;
}

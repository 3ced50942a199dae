/**
 * Runs other experiments stored beside a results directory, referred to
 * instead of trained again: the same id means the same config, corpus and
 * engine, and a run is deterministic on one backend and adapter.
 *
 * @module
 */
import type { CellRecord } from "./cell.ts";
import type { Cell, Overrides } from "./grid.ts";
import { readCellFile, siblingDirs, type Stored, writeRef } from "./store.ts";
import { computedOn } from "../env.ts";
import { machineKey, type OnThisMachine } from "./notes.ts";

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

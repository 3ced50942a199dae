/**
 * `--verify`: reruns stored cells into a temporary directory, each with the
 * engine that computed it, and compares every number and generated text
 * with the stored ones.
 *
 * @module
 */
import { basename } from "node:path";
import { UserError } from "../errors.ts";
import type { SourceOptions } from "../data/source.ts";
import type { CellRecord } from "./cell.ts";
import type { Cell } from "./grid.ts";
import { type CellCommand, runCells, type RunnerEvents } from "./pool.ts";
import { type Rejected, scanCells } from "./store.ts";
import { compareCells, type Comparison } from "./compare.ts";

/** Options of {@linkcode verifyCells}. */
export interface VerifyOptions {
  experiment: string;
  alphas: number[];
  source: SourceOptions;
  jobs: number;
  /** Cells of one shape trained together, at most this many (default 1). */
  batch?: number;
  command: CellCommand;
  tolerance: number;
  events?: RunnerEvents;
}

/** What {@linkcode verifyCells} found. */
export interface Verification {
  /** The stored cells rerun. */
  committed: CellRecord[];
  /** Files of selected cells that are not valid cells: each a difference. */
  rejected: Rejected[];
  /** Null when there was nothing valid to rerun. */
  comparison: Comparison | null;
  /** The cells as rerun. */
  fresh: CellRecord[];
  ok: boolean;
}

/**
 * Reruns the stored cells of `dir` that answer `cells` (from `stored`,
 * what the directory answers of the grid) and compares them.
 *
 * @example
 * ```ts
 * const v = await verifyCells(dir, stored, cells, options);
 * v.ok; // true when every number and text agrees within the tolerance
 * ```
 */
export async function verifyCells(
  dir: string,
  stored: CellRecord[],
  cells: Cell[],
  options: VerifyOptions,
  onStart?: (committed: CellRecord[], rejected: Rejected[]) => void,
): Promise<Verification> {
  // The selected cells as stored, each rerun with the engine that
  // computed it (a machine may pick another for new cells).
  const selected = new Set(cells.flatMap((c) => [c.id, ...c.also]));
  const committed = stored.filter((r) => selected.has(r.id));
  const rejected = (await scanCells(dir)).rejected.filter((r) =>
    selected.has(basename(r.path, ".json"))
  );
  if (committed.length === 0) {
    if (rejected.length > 0) {
      return { committed, rejected, comparison: null, fresh: [], ok: false };
    }
    throw new UserError(
      `--verify: no stored cells to compare in ${dir} for the selected cells`,
    );
  }
  onStart?.(committed, rejected);
  const tmp = await Deno.makeTempDir({
    prefix: `rnnlab-verify-${options.experiment}-`,
  });
  try {
    const rerun = committed.map((r): Cell => ({
      id: r.id,
      config: r.config,
      point: r.point,
      also: [],
    }));
    const fresh = await runCells(tmp, rerun, {
      experiment: options.experiment,
      overrides: {},
      alphas: options.alphas,
      source: options.source,
      jobs: options.jobs,
      batch: options.batch,
      command: options.command,
      events: options.events,
    });
    const comparison = compareCells(committed, fresh, options.tolerance);
    return {
      committed,
      rejected,
      comparison,
      fresh,
      ok: comparison.ok && rejected.length === 0,
    };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

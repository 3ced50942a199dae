/**
 * Where a grid's cells ran and where this machine would run them: the notes
 * printed before a run or `--verify` mixes adapters, which round differently
 * (the chapter's cell ends at validation perplexity 78.15 ± 0.60 on an H200
 * and 84.80 ± 1.52 on llvmpipe, with best values 8.47 on both).
 *
 * @module
 */
import type { TrainConfig } from "../config/config.ts";
import { computedOn } from "../env.ts";
import { describeDevice } from "../engine/pick.ts";
import type { CellRecord } from "./cell.ts";

/**
 * Per engine and backend (`"fused/webgpu"`), what a cell run now would
 * compute on ({@linkcode computedOn}).
 */
export type OnThisMachine = Partial<Record<string, string>>;

/** The {@linkcode OnThisMachine} key of a config. */
export const machineKey = (c: Pick<TrainConfig, "engine" | "backend">) =>
  `${c.engine}/${c.backend}`;

/** Where this machine runs cells of each engine and backend `configs` use. */
export async function onThisMachine(
  configs: TrainConfig[],
): Promise<OnThisMachine> {
  const here: OnThisMachine = {};
  for (const c of configs) {
    here[machineKey(c)] ??= computedOn({
      backend: c.backend,
      adapter: await describeDevice(c),
    });
  }
  return here;
}

/** How many `stored` cells ran on another adapter than this machine's, and which. */
function ranElsewhere(
  stored: CellRecord[],
  here: OnThisMachine,
): { count: number; where: string } {
  const elsewhere = stored.filter((r) =>
    r.env !== null && here[machineKey(r.config)] !== undefined &&
    computedOn(r.env) !== here[machineKey(r.config)]
  );
  const where = [...new Set(elsewhere.map((r) => computedOn(r.env!)))];
  return { count: elsewhere.length, where: where.join(", ") };
}

const hereLabel = (here: OnThisMachine) =>
  [...new Set(Object.values(here))].join(", ");

/**
 * A note when cells are about to run on another adapter than stored cells of
 * the same grid: the table will then compare runs from two adapters.
 *
 * @example
 * ```ts
 * adapterNote(stored, await onThisMachine(configs), 3, "results/x"); // null, or a line
 * ```
 */
export function adapterNote(
  stored: CellRecord[],
  here: OnThisMachine,
  toRun: number,
  shown: string,
): string | null {
  const { count, where } = ranElsewhere(stored, here);
  if (toRun === 0 || count === 0) return null;
  const now = hereLabel(here);
  return `note: ${count} stored cells in ${shown} ran on ${where}; the ${toRun} to run now ` +
    `run on ${now}. Runs agree exactly only on one adapter, so the table will compare ` +
    `across adapters (its Environment section lists both).`;
}

/**
 * A note before `--verify` reruns cells that were stored from another
 * adapter: exact agreement is not to be expected there, so a failed
 * comparison is not a bug.
 */
export function verifyNote(
  stored: CellRecord[],
  here: OnThisMachine,
): string | null {
  const { count, where } = ranElsewhere(stored, here);
  if (count === 0) return null;
  const now = hereLabel(here);
  return `note: ${count} of the ${stored.length} cells to verify ran on ${where}; this ` +
    `machine runs ${now}. Runs agree exactly only on one adapter: expect differences ` +
    `there, or compare with --tolerance.`;
}

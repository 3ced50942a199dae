/**
 * `deno task compare <dirA> <dirB> [--tolerance REL]`: per-cell deltas
 * between two result directories (committed vs fresh, webgpu vs wasm).
 * Cells are matched by id, or with `--by config` by their config with the
 * backend set aside, so runs of one grid on two backends line up.
 *
 * Exit status: 0 when every number agrees within the tolerance, 1 otherwise
 * or when a file in `cells/` is not a valid cell (named, left out), 2 on
 * bad input.
 *
 * @module
 */
import { Command } from "commander";
import { UserError } from "../errors.ts";
import { scanCells } from "../experiment/store.ts";
import { canonicalJson } from "../experiment/grid.ts";
import type { CellRecord } from "../experiment/cell.ts";
import { compareCells, formatComparison } from "../report/compare.ts";
import {
  checkResultsDir,
  parseCommand,
  parseTolerance,
  runMain,
} from "./common.ts";

/** Re-keys cells by their config without the backend, for cross-backend comparisons. */
function byConfig(cells: CellRecord[]): CellRecord[] {
  return cells.map((c) => ({
    ...c,
    id: canonicalJson({ ...c.config, backend: undefined }),
  }));
}

async function main(): Promise<number> {
  const program = new Command()
    .name("deno task compare")
    .description("Compare two result directories cell by cell.")
    .argument("<dirA>")
    .argument("<dirB>")
    .option("--tolerance <rel>", "relative tolerance", "1e-6")
    .option(
      "--by <key>",
      "match cells by id or by config (backend set aside)",
      "id",
    );
  const status = parseCommand(program);
  if (status !== null) return status;
  const [dirA, dirB] = program.args;
  const opts = program.opts<{ tolerance: string; by: string }>();
  const tolerance = parseTolerance(opts.tolerance);
  if (opts.by !== "id" && opts.by !== "config") {
    throw new UserError(
      `--by: expected id or config, got ${JSON.stringify(opts.by)}`,
    );
  }
  await checkResultsDir(dirA, "dirA");
  await checkResultsDir(dirB, "dirB");
  const [scanA, scanB] = await Promise.all([scanCells(dirA), scanCells(dirB)]);
  const [a, b] = [scanA.cells, scanB.cells];
  const rejected = [...scanA.rejected, ...scanB.rejected];
  for (const r of rejected) {
    console.error(`error: ${r.path}: not a valid cell, left out: ${r.reason}`);
  }
  for (const [dir, cells] of [[dirA, a], [dirB, b]] as const) {
    if (cells.length === 0) {
      throw new UserError(
        `${dir}: no stored cells (expected ${dir}/cells/*.json)`,
      );
    }
  }
  const key = opts.by === "config" ? byConfig : (cells: CellRecord[]) => cells;
  const comparison = compareCells(key(a), key(b), tolerance);
  console.log(formatComparison(comparison, [dirA, dirB], tolerance));
  return comparison.ok && rejected.length === 0 ? 0 : 1;
}

if (import.meta.main) await runMain(main);

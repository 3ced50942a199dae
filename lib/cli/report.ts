/**
 * `deno task report <name> [--out DIR]`: regenerates an experiment's report
 * (results.json, README.md, SVG curves) from the cells stored in its results
 * directory — e.g. after copying shards' cells into one directory — and, for
 * `results/<name>`, the index `results/README.md`. `deno task report --index`
 * rewrites only the index; `--html FILE` writes the experiment's page as
 * one self-contained HTML file instead.
 *
 * @module
 */
import { Command } from "commander";
import { UserError } from "../errors.ts";
import { expandGrid } from "../experiment/grid.ts";
import { plannedCount } from "../experiment/search.ts";
import { loadExperiment } from "../experiment/load.ts";
import { type Rejected, scanCells } from "../experiment/store.ts";
import { storedGridCells } from "../experiment/runner.ts";
import { buildResults, writeReport } from "../report/report.ts";
import { refreshIndex } from "../report/index.ts";
import { outputDir } from "../experiment/paths.ts";
import {
  checkJsonTarget,
  checkResultsDir,
  parseCommand,
  runMain,
} from "./common.ts";
import { basename, dirname } from "node:path";
import { io } from "../errors.ts";
import { writeTextAtomic } from "../fsutil.ts";
import { EXPERIMENTS_DIR } from "../experiment/load.ts";
import { experimentView } from "../serve/data.ts";
import { exportHtml } from "../serve/export.ts";
import { ensureBundle } from "../serve/bundle.ts";

async function main(): Promise<number> {
  const program = new Command()
    .name("deno task report")
    .description("Regenerate an experiment's report from its stored cells.")
    .argument("[name]", "experiment name")
    .option("--out <dir>", "results directory (default results/<name>)")
    .option(
      "--index",
      "rewrite results/README.md, the index of all experiments, and exit",
    )
    .option(
      "--html <file>",
      "write the experiment's page as one self-contained HTML file (opens offline: grouped table, curves over seeds, parallel coordinates, diffs) instead of the report",
    );
  const status = parseCommand(program);
  if (status !== null) return status;
  const name = program.args[0];
  const { out, index, html } = program.opts<
    { out?: string; index?: boolean; html?: string }
  >();
  if (index) {
    for (const w of await refreshIndex()) console.error(w);
    console.log("results/README.md written");
    return 0;
  }
  if (!name) {
    throw new UserError(
      "missing experiment name (or --index); `deno task exp --list` shows them",
    );
  }
  const { spec, file } = await loadExperiment(name, { allowLarge: true });
  const dir = outputDir(name, {}, out);
  await checkResultsDir(dir, out ? "--out" : "results directory");
  if (html) return await writeHtml(dir, html);
  const { cells: stored, rejected } = await scanCells(dir);
  namesRejected(rejected);
  if (stored.length === 0) {
    throw new UserError(
      `${dir}: no stored cells to report (run deno task exp ${name})`,
    );
  }
  // Overridden runs record their --set values; the report keeps them.
  const overrides = stored[0].overrides ?? {};
  // A search's cells are those its decisions name (buildResults keeps them).
  const grid = spec.search
    ? []
    : expandGrid(spec, { overrides, allowLarge: true, file });
  const cells = spec.search ? stored : await storedGridCells(dir, grid);
  if (cells.length === 0) {
    throw new UserError(
      `${dir}: none of the ${stored.length} stored cells belongs to the current grid of ${file}`,
    );
  }
  const results = buildResults(spec, cells, overrides);
  await writeReport(dir, results);
  if (dir === outputDir(name, {})) {
    for (const w of await refreshIndex()) console.error(w);
  }
  console.log(
    `report of ${results.cells.length}/${
      plannedCount(spec, { overrides, file })
    } cells written to ${dir}/README.md`,
  );
  return rejected.length ? 1 : 0;
}

/** `--html FILE`: the page of results directory `dir`, self-contained, written atomically. */
async function writeHtml(dir: string, path: string): Promise<number> {
  await checkJsonTarget(path, "--html");
  const view = await experimentView(
    dirname(dir),
    basename(dir),
    EXPERIMENTS_DIR,
  );
  if (!view || view.cells.length === 0) {
    throw new UserError(`${dir}: no stored cells to export`);
  }
  for (const r of view.rejected) {
    console.error(
      `error: ${dir}/cells/${r.file}: not a valid cell, left out: ${r.reason}`,
    );
  }
  const text = await exportHtml(view, (await ensureBundle()).dir);
  await io(path, () => writeTextAtomic(path, text));
  console.log(
    `${path}: ${view.cells.length} cells of ${view.dir}, ${
      (text.length / 1e6).toFixed(1)
    } MB, self-contained (opens offline)`,
  );
  return view.rejected.length ? 1 : 0;
}

/** Names each file that is not a valid cell (left out of the report). */
function namesRejected(rejected: Rejected[]) {
  for (const r of rejected) {
    console.error(`error: ${r.path}: not a valid cell, left out: ${r.reason}`);
  }
}

if (import.meta.main) await runMain(main);

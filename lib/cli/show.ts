/**
 * `deno task show <name> [--aggregate] [--csv | --json] [--sort KEY]
 * [--filter k=v]`: an experiment's cells (or, `--aggregate`, its grid points
 * over their seeds) as a terminal table, or as CSV or JSON on stdout, from its
 * results directory (`--out`, default `results/<name>`).
 *
 * Exit status: 0, 1 when a cell file is not a valid cell (named, left out),
 * 2 on bad input.
 *
 * @module
 */
import { Command } from "commander";
import { UserError } from "../errors.ts";
import { outputDir, shownPath } from "../experiment/paths.ts";
import { readResults } from "../report/report.ts";
import {
  cellRows,
  filterRows,
  formatCsv,
  formatTable,
  pointRows,
  sortRows,
} from "../report/show.ts";
import { checkResultsDir, parseCommand, runMain } from "./common.ts";

const collect = (value: string, previous: string[]) => [...previous, value];

async function main(): Promise<number> {
  const program = new Command()
    .name("deno task show")
    .description("Print an experiment's cells as a table, CSV or JSON.")
    .argument("<name>", "experiment name")
    .option("--out <dir>", "results directory (default results/<name>)")
    .option("--csv", "CSV on stdout")
    .option("--json", "JSON on stdout (one object per cell)")
    .option(
      "--aggregate",
      "one row per grid point over its seeds: n, and each metric's mean ± std (min–max)",
    )
    .option("--sort <key>", "sort by this column (ascending; empty last)")
    .option("--reverse", "sort descending")
    .option(
      "--filter <key=value>",
      "only the cells with this value (repeatable)",
      collect,
      [],
    );
  const status = parseCommand(program);
  if (status !== null) return status;
  const [name] = program.args;
  const opts = program.opts<{
    out?: string;
    csv?: boolean;
    json?: boolean;
    sort?: string;
    reverse?: boolean;
    filter: string[];
    aggregate?: boolean;
  }>();
  if (opts.csv && opts.json) {
    throw new UserError("--csv and --json: choose one");
  }
  const dir = outputDir(name, {}, opts.out);
  await checkResultsDir(dir, opts.out ? "--out" : `experiment ${name}`);
  const read = await readResults(dir);
  if (!read) {
    throw new UserError(
      `${shownPath(dir)}: no results.json (run deno task exp ${name})`,
    );
  }
  if ("reason" in read) throw new UserError(read.reason);
  for (const r of read.rejected) {
    console.error(`error: ${r.path}: not a valid cell, left out: ${r.reason}`);
  }
  let rows = filterRows(cellRows(read.results), opts.filter);
  if (opts.aggregate) {
    rows = pointRows(read.results, new Set(rows.map((r) => String(r.id))));
  }
  if (opts.sort) rows = sortRows(rows, opts.sort, opts.reverse);
  if (opts.json) console.log(JSON.stringify(rows, null, 2));
  else if (opts.csv) {
    Deno.stdout.writeSync(new TextEncoder().encode(formatCsv(rows)));
  } else console.log(formatTable(rows));
  return read.rejected.length ? 1 : 0;
}

if (import.meta.main) await runMain(main);

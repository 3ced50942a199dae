/**
 * `deno task exp <name>`: expands an experiment's grid into cells, runs the
 * ones not stored yet (resumable, locked, optionally in parallel or as one
 * shard), and regenerates the report. See the README for every flag. The
 * work is the library's (`lib/experiment`, `lib/report`); this file parses
 * the flags and prints.
 *
 * Exit status: 0 when every cell this invocation ran finished, 1 when one
 * diverged or failed, `--verify` found differences or a file could not be
 * written, 2 on bad input.
 *
 * @module
 */
import { Command } from "commander";
import { io, IoError, UserError } from "../errors.ts";
import type { SourceOptions } from "../data/source.ts";
import { defaultBatch, pickEngine } from "../engine/pick.ts";
import type { CellJob, CellRecord } from "../experiment/cell.ts";
import { CHECKPOINT_SECONDS } from "../experiment/checkpoint.ts";
import {
  adapterNote,
  type OnThisMachine,
  onThisMachine,
  verifyNote,
} from "../experiment/notes.ts";
import { RESULTS_DIR } from "../experiment/paths.ts";
import { workerCommand } from "../experiment/worker.ts";
import { type PreparedGrid, prepareGrid } from "../experiment/prepare.ts";
import {
  type CellCommand,
  type GridRun,
  runGrid,
  storedGridCells,
} from "../experiment/runner.ts";
import { acquireLock } from "../experiment/store.ts";
import { formatComparison } from "../report/compare.ts";
import { refreshIndex } from "../report/index.ts";
import { buildResults, writeReport } from "../report/report.ts";
import { verifyCells } from "../experiment/verify.ts";
import {
  decisionsText,
  plannedCount,
  sameDecisions,
  searchConfigs,
  searchState,
} from "../experiment/search.ts";
import {
  runSearch,
  type SearchRun,
  type Stage,
} from "../experiment/search_run.ts";
import type { Cell } from "../experiment/grid.ts";
import type { Rejected } from "../experiment/store.ts";
import { type Progress, progress, runnerEvents } from "./progress.ts";
import { dryRun, label, list, searchDryRun, storedCount } from "./_plan.ts";
import {
  checkOutDir,
  DATA_DIR_OPTION,
  parseCommand,
  parseCount,
  parseSeconds,
  parseTolerance,
  plural,
  runMain,
  sourceOptions,
} from "./common.ts";

const collect = (value: string, previous: string[]) => [...previous, value];

/** Flags of `deno task exp`, as commander gives them. */
interface Flags {
  list?: boolean;
  set: string[];
  filter: string[];
  out?: string;
  force?: boolean;
  reuse: boolean;
  dryRun?: boolean;
  jobs: string;
  batch?: string;
  shard?: string;
  verify?: boolean;
  tolerance: string;
  allowLarge?: boolean;
  dataDir?: string;
  checkpointEvery: string;
}

async function verify(
  g: PreparedGrid,
  storedNow: CellRecord[],
  here: OnThisMachine,
  o: {
    source: SourceOptions;
    jobs: number;
    batch: number;
    command: CellCommand;
    tolerance: number;
  },
): Promise<number> {
  const rejectedLine = (r: { path: string; reason: string }) =>
    `✗ ${r.path}: not a valid cell: ${r.reason}`;
  let bar: Progress | undefined;
  const v = await verifyCells(g.dir, storedNow, g.cells, {
    experiment: g.spec.name,
    alphas: g.alphas,
    ...o,
    events: {
      onGroup: (cells) => bar?.group(cells),
      onStart: (c) => bar?.start(c),
      onEpoch: (c, log) =>
        bar?.epoch(c, log.epoch, log.train_ppl, log.tokens_per_sec),
      onEnd: (c, r) => bar?.end(c, r),
    },
  }, (committed, rejected) => {
    for (const r of rejected) console.log(rejectedLine(r));
    const note = verifyNote(committed, here);
    if (note) console.log(note);
    bar = progress(committed.length, 0, g.cells[0]?.config.num_epochs ?? 0);
  });
  bar?.stop();
  if (v.comparison === null) {
    for (const r of v.rejected) console.log(rejectedLine(r));
    return 1;
  }
  console.log(
    formatComparison(v.comparison, ["committed", "rerun"], o.tolerance),
  );
  if (!g.search) return v.ok ? 0 : 1;
  // The decisions again, from the rerun cells where they were rerun.
  const rerun = new Map(v.fresh.map((r) => [r.id, r]));
  const again = searchState(
    g.spec,
    storedNow.map((r) => rerun.get(r.id) ?? r),
    g.search.options,
  );
  const differences = sameDecisions(g.search.state, again);
  console.log(
    differences.length
      ? `✗ decisions differ: ${differences.join("; ")}`
      : `decisions: the same from the ${v.fresh.length} rerun cells (${
        decisionsText(again)
      })`,
  );
  return v.ok && differences.length === 0 ? 0 : 1;
}

/** Runs the grid's missing cells into its directory and writes the report. */
async function run(
  g: PreparedGrid,
  here: OnThisMachine,
  o: {
    source: SourceOptions;
    jobs: number;
    batch: number;
    command: CellCommand;
    force: boolean;
    checkpoints: CellJob["checkpoints"];
  },
): Promise<number> {
  const release = await io(g.shown, () => acquireLock(g.dir));
  // A search names its cells stage by stage.
  const known = [...g.cells];
  const kept = () =>
    `${
      storedCount(g.dir, known)
    } of ${known.length} cells stored in ${g.shown}`;
  // Stopped, the runner says what it kept: stored cells stay, and the same
  // command finishes the rest.
  const stop = (signal: "SIGINT" | "SIGTERM") => () => {
    release();
    try {
      Deno.removeSync(`${g.dir}/live.json`);
    } catch { /* none written yet */ }
    console.error(
      `\nstopped (${signal}): ${kept()}; rerun the same command to finish`,
    );
    Deno.exit(signal === "SIGINT" ? 130 : 143);
  };
  const onInt = stop("SIGINT"), onTerm = stop("SIGTERM");
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  let done: GridRun;
  let searched: SearchRun | undefined;
  let bar: Progress | undefined;
  const options = {
    ...o,
    reuse: g.reuse,
    here,
    events: {
      onSetAside: (r: Rejected, to: string) =>
        console.error(`set aside ${r.path} → ${to}: ${r.reason}`),
      onReused: (reused: CellRecord[]) => {
        for (const r of reused) {
          console.log(
            `reused ${r.id} ${label(r)} from results of ${r.reused_from}`,
          );
        }
      },
      onStage: (stage: Stage, cells: Cell[]) => {
        bar?.stop();
        bar = undefined;
        known.push(...cells.filter((c) => !known.some((k) => k.id === c.id)));
        console.error(
          `${stage.name}: ${plural(stage.configurations, "configuration")}, ${
            plural(cells.length, "cell")
          } to train`,
        );
      },
      onRun: async (cells: Cell[]) => {
        const stored = await storedGridCells(g.dir, g.grid);
        const note = adapterNote(stored, here, cells.length, g.shown);
        if (note) console.error(note);
        bar = progress(
          cells.length,
          g.search ? 0 : g.cells.length - cells.length,
          cells[0]?.config.num_epochs ?? 0,
        );
      },
      ...runnerEvents({
        group: (cells) => bar?.group(cells),
        start: (c) => bar?.start(c),
        epoch: (...a) => bar?.epoch(...a),
        end: (c, r) => bar?.end(c, r),
        note: (text) => bar ? bar.note(text) : console.error(text),
        stop: () => bar?.stop(),
      }),
    },
  };
  try {
    if (g.search) {
      searched = await runSearch({ ...g, search: g.search }, options);
      done = {
        records: searched.runs.flatMap((r) => r.records),
        reused: searched.runs.flatMap((r) => r.reused),
        cached: 0,
      };
    } else done = await runGrid(g, options);
  } catch (e) {
    if (!(e instanceof IoError)) throw e;
    // Disk full or read-only mid-grid: what is stored stays, nothing else
    // is written, and the same command finishes the rest.
    throw new IoError(
      `${e.message}; stopped: ${kept()}, ${
        known.length - storedCount(g.dir, known)
      } missing; rerun the same command to finish`,
    );
  } finally {
    bar?.stop();
    release();
    Deno.removeSignalListener("SIGINT", onInt);
    Deno.removeSignalListener("SIGTERM", onTerm);
  }
  const grid = searched ? searchConfigs(searched.state) : g.grid;
  const stored = await storedGridCells(g.dir, grid);
  await writeReport(g.dir, buildResults(g.spec, stored, g.overrides));
  if (g.dir === `${RESULTS_DIR}/${g.spec.name}`) {
    for (const w of await refreshIndex()) console.error(w);
  }
  const { records, reused } = done;
  const cached = searched
    ? stored.length - records.length - reused.length
    : done.cached;
  const count = (s: string) => records.filter((r) => r.status === s).length;
  const planned = g.search ? plannedCount(g.spec) : g.all.length;
  console.log(
    `${g.spec.name}: ran ${records.length} cells (${count("done")} done, ${
      count("diverged")
    } diverged, ${count("failed")} failed), ${reused.length} reused, ` +
      `${cached} already stored; ` +
      `report of ${stored.length}/${planned} cells in ${g.shown}/README.md`,
  );
  if (searched) {
    console.log(`search: ${decisionsText(searched.state)}`);
    if (searched.waiting) {
      console.log(
        `${searched.waiting.name} waits for the other shards' cells; ` +
          "run the same command again once they are stored",
      );
    }
  }
  return count("failed") + count("diverged") > 0 ? 1 : 0;
}

async function main(): Promise<number> {
  const program = new Command()
    .name("deno task exp")
    .description(
      "Run an experiment grid from experiments/<name>.ts and write its report under results/.",
    )
    .argument(
      "[name]",
      "experiment name (file name in experiments/ without .ts)",
    )
    .option(
      "--list",
      "list the experiments with their cell counts and time estimates",
    )
    .option(
      "--set <key=value>",
      "override a config key in every cell (repeatable); output goes to results/_local/",
      collect,
      [],
    )
    .option(
      "--filter <key=value>",
      "run only cells whose config has this value (repeatable)",
      collect,
      [],
    )
    .option("--out <dir>", "results directory (default results/<name>)")
    .option("--force", "rerun cells that are already stored")
    .option(
      "--no-reuse",
      "train every cell here, even one another experiment beside it already stored (same id)",
    )
    .option(
      "--dry-run",
      "list the cells and whether they are stored; run nothing, write nothing",
    )
    .option("--jobs <n>", "cells (or groups) to run in parallel processes", "1")
    .option(
      "--batch <n>",
      "most cells of one shape trained together, in the same dispatches (fused engine; default: 64 on a GPU, 1 on a CPU)",
    )
    .option(
      "--shard <i/n>",
      "run only shard i of n (a deterministic slice of the cells)",
    )
    .option(
      "--verify",
      "rerun the selected cells into a temporary directory and compare with the stored ones",
    )
    .option("--tolerance <rel>", "relative tolerance of --verify", "0")
    .option(
      "--checkpoint-every <seconds>",
      "keep each cell's state this often (0: every epoch), so that a killed run goes on from there",
      String(CHECKPOINT_SECONDS),
    )
    .option("--allow-large", "allow grids above the cell limit")
    .option(...DATA_DIR_OPTION);
  const status = parseCommand(program);
  if (status !== null) return status;
  const opts = program.opts<Flags>();
  if (opts.list) return await list();
  const name = program.args[0];
  if (!name) {
    throw new UserError(
      "missing experiment name; `deno task exp --list` shows them",
    );
  }
  const jobs = parseCount(opts.jobs, "--jobs");
  const batchFlag = opts.batch === undefined
    ? undefined
    : parseCount(opts.batch, "--batch");
  const tolerance = parseTolerance(opts.tolerance);
  const checkpointEvery = parseSeconds(
    opts.checkpointEvery,
    "--checkpoint-every",
  );
  if (opts.verify && opts.set.length) {
    throw new UserError(
      "--verify compares committed results; it takes no --set",
    );
  }
  if (opts.out) await checkOutDir(opts.out);
  const source = sourceOptions(opts.dataDir);
  const g = await prepareGrid({
    name,
    sets: opts.set,
    filters: opts.filter,
    shard: opts.shard,
    out: opts.out,
    allowLarge: opts.allowLarge,
    force: opts.force,
    reuse: opts.reuse,
    machine: pickEngine,
  }, source);
  for (const w of g.warnings) console.error(w);

  // What the directory answers of the grid now (a run adds to it).
  const storedNow = await storedGridCells(g.dir, g.grid);
  const here = await onThisMachine([
    ...g.grid.map((c) => c.config),
    ...storedNow.map((r) => r.config),
  ]);
  if (g.search && opts.filter.length && !opts.dryRun && !opts.verify) {
    throw new UserError(
      `--filter ${
        opts.filter[0]
      }: a search decides from all of its cells; --filter selects cells for --dry-run and --verify`,
    );
  }
  if (opts.dryRun) {
    return g.search
      ? await searchDryRun(g, !!opts.force)
      : await dryRun(g, storedNow, here, !!opts.force);
  }
  const batch = batchFlag ?? await defaultBatch();
  const command = workerCommand();
  if (opts.verify) {
    return await verify(g, storedNow, here, {
      source,
      jobs,
      batch,
      command,
      tolerance,
    });
  }
  return await run(g, here, {
    source,
    jobs,
    batch,
    command,
    force: !!opts.force,
    checkpoints: { every_seconds: checkpointEvery, keep_final: false },
  });
}

if (import.meta.main) await runMain(main);

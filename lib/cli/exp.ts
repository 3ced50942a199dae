/**
 * `deno task exp <name>`: expands an experiment's grid into cells, runs the
 * ones not stored yet (resumable, locked, optionally in parallel or as one
 * shard), and regenerates the report. See the README for every flag.
 *
 * Exit status: 0 when every cell this invocation ran finished, 1 when one
 * diverged or failed or `--verify` found differences, 2 on bad input.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import cliProgress from "cli-progress";
import { UserError } from "../errors.ts";
import { readCorpus } from "../data/source.ts";
import {
  CONFIG_KEYS,
  parseFlagValue,
  resolveConfig,
  type TrainConfig,
} from "../train/config.ts";
import {
  type Cell,
  expandConfigs,
  expandGrid,
  filterCells,
  makeCells,
  shardCells,
} from "../experiment/grid.ts";
import { listExperiments, loadExperiment } from "../experiment/load.ts";
import {
  findStored,
  machineKey,
  type OnThisMachine,
  planCells,
  reuseStored,
  runCells,
  type RunnerEvents,
  storedGridCells,
} from "../experiment/runner.ts";
import {
  acquireLock,
  cellPath,
  scanCells,
  setAside,
} from "../experiment/store.ts";
import { basename } from "node:path";
import type { CellRecord } from "../experiment/cell.ts";
import type { ExperimentSpec } from "../experiment/spec.ts";
import { buildResults, type Results, writeReport } from "../report/report.ts";
import { type IndexEntry, writeIndex } from "../report/index.ts";
import { readJsonIfExists } from "../fsutil.ts";
import { pointLabel } from "../report/plot.ts";
import { compareCells, formatComparison } from "../report/compare.ts";
import { computedOn } from "../env.ts";
import { describeDevice, pickEngine } from "../engine/pick.ts";
import { BLAS_DIRS } from "../engine/cblas.ts";
import {
  DATA_DIR_OPTION,
  parseCommand,
  parseCount,
  parseTolerance,
  runMain,
  sourceOptions,
} from "./common.ts";

/** Repository root, where `results/` lives. */
export const ROOT: string = fileURLToPath(new URL("../..", import.meta.url))
  .replace(/\/$/, "");

const collect = (value: string, previous: string[]) => [...previous, value];

/** Parses `--set key=value` terms into config values, naming a bad one. */
export function parseSets(sets: string[]): Partial<TrainConfig> {
  const out: Record<string, unknown> = {};
  for (const s of sets) {
    const eq = s.indexOf("=");
    const key = s.slice(0, eq);
    if (eq < 1) {
      throw new UserError(
        `--set: expected key=value, got ${JSON.stringify(s)}`,
      );
    }
    if (!(CONFIG_KEYS as string[]).includes(key)) {
      throw new UserError(
        `--set ${s}: ${key} is not a config key (known keys: ${
          CONFIG_KEYS.join(", ")
        })`,
      );
    }
    out[key] = parseFlagValue(key, s.slice(eq + 1));
  }
  // Validate each value alone so the error names the --set term.
  for (const [k, v] of Object.entries(out)) {
    resolveConfig({ [k]: v }, `--set ${k}=${v}`);
  }
  return out as Partial<TrainConfig>;
}

/** Where a run writes: `--out`, else `results/<name>`, or `results/_local/<name>--<sets>` with overrides. */
export function outputDir(
  name: string,
  overrides: Partial<TrainConfig>,
  out?: string,
): string {
  if (out) return out;
  const slug = Object.entries(overrides).map(([k, v]) => `${k}=${v}`).join(",");
  return slug
    ? `${ROOT}/results/_local/${name}--${slug}`
    : `${ROOT}/results/${name}`;
}

/** Where this machine runs cells of each engine and backend the grid uses. */
async function onThisMachine(configs: TrainConfig[]): Promise<OnThisMachine> {
  const here: OnThisMachine = {};
  for (const c of configs) {
    here[machineKey(c)] ??= computedOn({
      backend: c.backend,
      adapter: await describeDevice(c),
    });
  }
  return here;
}

/**
 * A note when cells are about to run on another adapter than stored cells of
 * the same grid: a table then compares runs from two adapters (measured: the
 * chapter's cell ends at validation perplexity 78.15 ± 0.60 on an H200 and
 * 84.80 ± 1.52 on llvmpipe, with best values 8.47 on both).
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
 * Rewrites `results/README.md`, the index of every experiment and its
 * committed results.
 */
export async function refreshIndex(resultsDir = `${ROOT}/results`) {
  const entries: IndexEntry[] = [];
  for (const name of await listExperiments()) {
    const { spec, file } = await loadExperiment(name, { allowLarge: true });
    const planned = expandConfigs(spec, { allowLarge: true, file }).length;
    const results = await readJsonIfExists<Results>(
      `${resultsDir}/${name}/results.json`,
    );
    entries.push({ spec, planned, results: results ?? null });
  }
  await writeIndex(resultsDir, entries);
}

const TASK_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  `--allow-ffi=${BLAS_DIRS.join(",")}`,
  "--allow-run=git",
  "--allow-net=d2l-data.s3-accelerate.amazonaws.com,www.gutenberg.org",
];

/**
 * Arithmetic rate per engine and backend on the 2-core development machine
 * at 512 hidden units: tokens/s from the committed `deno task bench`
 * (results/bench) × 6·(H² + 2HV) FLOP per token.
 */
const FLOPS: Record<string, number> = {
  "blas/cpu": 113e9,
  "fused/webgpu": 26.1e9,
  "reference/wasm": 11.1e9,
  "reference/webgpu": 2.4e9,
  "reference/cpu": 1.1e9,
};

function estimateSeconds(configs: TrainConfig[]): number {
  return configs.reduce((total, c) => {
    const V = 28, H = c.num_hiddens;
    const tokens = c.num_epochs * Math.min(c.max_tokens || 170_000, 170_000);
    const passes = c.detach ? 1 : 4.5;
    const rate = FLOPS[`${c.engine}/${c.backend}`];
    return total + tokens * passes * 6 * (H * H + 2 * H * V) / rate;
  }, 0);
}

const duration = (s: number) =>
  s < 90
    ? `${Math.round(s)} s`
    : s < 5400
    ? `${Math.round(s / 60)} min`
    : `${(s / 3600).toFixed(1)} h`;

async function list(): Promise<number> {
  const machine = await pickEngine();
  for (const name of await listExperiments()) {
    const { spec } = await loadExperiment(name, { allowLarge: true });
    const configs = expandConfigs(spec, { allowLarge: true, machine });
    console.log(
      `${name}  (${configs.length} cells, ≈ ${
        duration(estimateSeconds(configs))
      } on a 2-core CPU with ${machine.engine})`,
    );
    console.log(`  ${spec.description}`);
    console.log(`  exercises: ${spec.exercises.join("; ")}`);
  }
  return 0;
}

interface Progress {
  start(cell: Cell): void;
  epoch(cell: Cell, epoch: number, ppl: number, tps: number): void;
  end(cell: Cell, record: CellRecord): void;
  stop(): void;
}

function progress(total: number, cached: number, num_epochs: number): Progress {
  let done = 0;
  const label = (c: Cell) =>
    `${c.id.slice(0, 8)} ${pointLabel(c.point)} seed=${c.config.seed}`;
  if (Deno.stderr.isTerminal()) {
    // The bar counts epochs, so its ETA moves within a cell too.
    const epochsDone = new Map<string, number>();
    const value = () => [...epochsDone.values()].reduce((a, b) => a + b, 0);
    const bar = new cliProgress.SingleBar({
      format:
        "cells {cells}/{ncells} [{bar}] {percentage}% | ETA {eta_formatted} | {cell} epoch {epoch} ppl {ppl} {tps} tok/s",
      hideCursor: true,
      etaBuffer: 50,
    }, cliProgress.Presets.shades_classic);
    bar.start(Math.max(1, total * num_epochs), 0, {
      cells: 0,
      ncells: total,
      cell: "",
      epoch: "-",
      ppl: "-",
      tps: "-",
    });
    return {
      start: (c) =>
        bar.update({ cell: label(c), epoch: 0, ppl: "-", tps: "-" }),
      epoch: (c, epoch, ppl, tps) => {
        epochsDone.set(c.id, epoch);
        bar.update(value(), {
          cell: label(c),
          epoch: `${epoch}/${c.config.num_epochs}`,
          ppl: ppl.toFixed(2),
          tps: Math.round(tps),
        });
      },
      end: (c) => {
        epochsDone.set(c.id, c.config.num_epochs);
        bar.update(value(), { cells: ++done });
      },
      stop: () => bar.stop(),
    };
  }
  const log = (s: string) => console.error(s);
  log(
    `${total} cells to run (${cached} already stored), ${num_epochs} epochs each`,
  );
  return {
    start: (c) => log(`[${done + 1}/${total}] start ${label(c)}`),
    epoch: (c, epoch, ppl, tps) => {
      if (
        epoch === 1 || epoch % Math.max(1, c.config.eval_every) === 0 ||
        epoch === c.config.num_epochs
      ) {
        log(
          `[${done + 1}/${total}] ${
            label(c)
          } epoch ${epoch}/${c.config.num_epochs} ppl ${ppl.toFixed(2)} ${
            Math.round(tps)
          } tokens/s`,
        );
      }
    },
    end: (c, r) => {
      done++;
      const ppl = r.final.train_ppl === null
        ? ""
        : ` train ppl ${r.final.train_ppl.toFixed(2)}`;
      const val = r.final.val_ppl === null
        ? ""
        : ` val ppl ${r.final.val_ppl.toFixed(2)}`;
      log(
        `[${done}/${total}] ${r.status} ${label(c)}${ppl}${val}${
          r.error ? `: ${r.error}` : ""
        }`,
      );
    },
    stop: () => {},
  };
}

/** The runner's events shown by a {@linkcode Progress}. */
function runnerEvents(bar: Progress): RunnerEvents {
  return {
    onStart: (c) => bar.start(c),
    onEpoch: (c, log) =>
      bar.epoch(c, log.epoch, log.train_ppl, log.tokens_per_sec),
    onEnd: (c, r) => bar.end(c, r),
  };
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
    .option("--jobs <n>", "cells to run in parallel processes", "1")
    .option(
      "--shard <i/n>",
      "run only shard i of n (a deterministic slice of the cells)",
    )
    .option(
      "--verify",
      "rerun the selected cells into a temporary directory and compare with the stored ones",
    )
    .option("--tolerance <rel>", "relative tolerance of --verify", "0")
    .option("--allow-large", "allow grids above the cell limit")
    .option(...DATA_DIR_OPTION);
  const status = parseCommand(program);
  if (status !== null) return status;
  const opts = program.opts<{
    list?: boolean;
    set: string[];
    filter: string[];
    out?: string;
    force?: boolean;
    reuse: boolean;
    dryRun?: boolean;
    jobs: string;
    shard?: string;
    verify?: boolean;
    tolerance: string;
    allowLarge?: boolean;
    dataDir?: string;
  }>();
  if (opts.list) return await list();
  const name = program.args[0];
  if (!name) {
    throw new UserError(
      "missing experiment name; `deno task exp --list` shows them",
    );
  }
  const jobs = parseCount(opts.jobs, "--jobs");
  const tolerance = parseTolerance(opts.tolerance);
  if (opts.verify && opts.set.length) {
    throw new UserError(
      "--verify compares committed results; it takes no --set",
    );
  }

  const { spec, file } = await loadExperiment(name, {
    allowLarge: opts.allowLarge,
  });
  const overrides = parseSets(opts.set);
  const machine = await pickEngine();
  const grid = expandGrid(spec, {
    overrides,
    allowLarge: opts.allowLarge,
    file,
    machine,
  });
  const configs = grid.map((g) => g.config);
  const source = sourceOptions(opts.dataDir);
  const sha1s = new Map<string, string>();
  for (const corpus of new Set(configs.map((c) => c.corpus))) {
    sha1s.set(corpus, (await readCorpus(corpus, source)).sha1);
  }
  const all = await makeCells(
    grid,
    (corpus) => sha1s.get(corpus)!,
    Object.keys(spec.grid ?? {}),
  );
  let cells = filterCells(all, opts.filter);
  if (opts.shard) cells = shardCells(cells, opts.shard);
  const dir = outputDir(name, overrides, opts.out);
  const alphas = spec.report?.alphas ?? [];
  // --force means "train these again", so it never copies a stored run; nor
  // does an experiment that times its cells against each other.
  const reuse = opts.reuse && !opts.force && spec.reuse !== false;
  const shown = dir.startsWith(ROOT + "/") ? dir.slice(ROOT.length + 1) : dir;

  // What the directory answers of the grid now (a run adds to it).
  const storedNow = await storedGridCells(dir, grid);
  const here = await onThisMachine([
    ...configs,
    ...storedNow.map((r) => r.config),
  ]);

  if (opts.dryRun) {
    const plan = await planCells(dir, cells, opts.force);
    const cached = new Set(plan.cached.map((c) => c.id));
    const reusable = reuse
      ? await findStored(dir, plan.run, alphas, here)
      : new Map<string, CellRecord>();
    const note = adapterNote(
      storedNow,
      here,
      plan.run.length - reusable.size,
      shown,
    );
    if (note) console.log(note);
    for (const r of plan.rejected) {
      console.log(
        `rejected  ${r.path}: ${r.reason} (set aside when the grid runs, and its cell runs again)`,
      );
    }
    for (const c of cells) {
      const other = reusable.get(c.id);
      const state = cached.has(c.id)
        ? "stored"
        : other
        ? `reuse (${other.reused_from ?? other.experiment})`
        : "to run";
      console.log(
        `${state}  ${c.id}  ${pointLabel(c.point)} seed=${c.config.seed}`,
      );
    }
    console.log(
      `${cells.length} cells: ${
        plan.run.length - reusable.size
      } to run, ${reusable.size} to reuse, ${plan.cached.length} stored, in ${shown}`,
    );
    return 0;
  }

  // The running Deno when allowed; else `deno` from PATH, which the task's
  // --allow-run=git,deno grants.
  const self = Deno.permissions.querySync({
    name: "run",
    command: Deno.execPath(),
  });
  const command = {
    program: self.state === "granted" ? Deno.execPath() : "deno",
    args: [
      "run",
      ...TASK_PERMISSIONS,
      "--config",
      `${ROOT}/deno.json`,
      `${ROOT}/lib/cli/cell.ts`,
    ],
  };
  if (opts.verify) {
    return await verify(spec, dir, storedNow, cells, {
      here,
      source,
      jobs,
      command,
      tolerance,
      alphas,
    });
  }

  const release = await acquireLock(dir);
  // Stopped, the runner says what it kept: stored cells stay, and the same
  // command finishes the rest.
  const stop = (signal: "SIGINT" | "SIGTERM") => () => {
    release();
    const kept = cells.filter((c) =>
      [c.id, ...c.also].some((id) => {
        try {
          return Deno.statSync(cellPath(dir, id)).isFile;
        } catch {
          return false;
        }
      })
    ).length;
    console.error(
      `\nstopped (${signal}): ${kept} of ${cells.length} cells stored in ${shown}; ` +
        "rerun the same command to finish",
    );
    Deno.exit(signal === "SIGINT" ? 130 : 143);
  };
  const onInt = stop("SIGINT"), onTerm = stop("SIGTERM");
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  try {
    const plan = await planCells(dir, cells, opts.force);
    // A file that is not a valid cell is kept, out of the way, as evidence.
    for (const r of plan.rejected) {
      console.error(
        `set aside ${r.path} → ${await setAside(dir, r)}: ${r.reason}`,
      );
    }
    const { run, reused } = reuse
      ? await reuseStored(dir, plan.run, {
        experiment: name,
        alphas,
        overrides,
        here,
      })
      : { run: plan.run, reused: [] };
    const note = adapterNote(
      await storedGridCells(dir, grid),
      here,
      run.length,
      shown,
    );
    if (note) console.error(note);
    for (const r of reused) {
      console.log(
        `reused ${r.id} ${
          pointLabel(r.point)
        } seed=${r.config.seed} from results of ${r.reused_from}`,
      );
    }
    const bar = progress(
      run.length,
      plan.cached.length + reused.length,
      configs[0]?.num_epochs ?? 0,
    );
    const records = await runCells(dir, run, {
      experiment: name,
      overrides,
      alphas,
      source,
      jobs,
      command,
      events: runnerEvents(bar),
    });
    bar.stop();
    const stored = await storedGridCells(dir, grid);
    await writeReport(dir, buildResults(spec, stored, overrides));
    if (dir === outputDir(name, {})) await refreshIndex();
    const count = (s: string) => records.filter((r) => r.status === s).length;
    console.log(
      `${name}: ran ${records.length} cells (${count("done")} done, ${
        count("diverged")
      } diverged, ` +
        `${
          count("failed")
        } failed), ${reused.length} reused, ${plan.cached.length} already stored; ` +
        `report of ${stored.length}/${all.length} cells in ${shown}/README.md`,
    );
    return count("failed") + count("diverged") > 0 ? 1 : 0;
  } finally {
    release();
    Deno.removeSignalListener("SIGINT", onInt);
    Deno.removeSignalListener("SIGTERM", onTerm);
  }
}

async function verify(
  spec: ExperimentSpec,
  dir: string,
  stored: CellRecord[],
  cells: Cell[],
  o: {
    here: OnThisMachine;
    source: ReturnType<typeof sourceOptions>;
    jobs: number;
    command: { program: string; args: string[] };
    tolerance: number;
    alphas: number[];
  },
): Promise<number> {
  // The selected cells as stored, each rerun with the engine that
  // computed it (a machine may pick another for new cells).
  const selected = new Set(cells.flatMap((c) => [c.id, ...c.also]));
  const committed = stored.filter((r) => selected.has(r.id));
  // A selected cell's file that is not a valid cell is a difference too.
  const rejected = (await scanCells(dir)).rejected.filter((r) =>
    selected.has(basename(r.path, ".json"))
  );
  for (const r of rejected) {
    console.log(`✗ ${r.path}: not a valid cell: ${r.reason}`);
  }
  if (committed.length === 0 && rejected.length > 0) return 1;
  if (committed.length === 0) {
    throw new UserError(
      `--verify: no stored cells to compare in ${dir} for the selected cells`,
    );
  }
  const note = verifyNote(committed, o.here);
  if (note) console.log(note);
  const ids = new Set(committed.map((c) => c.id));
  const tmp = await Deno.makeTempDir({ prefix: `rnnlab-verify-${spec.name}-` });
  try {
    const bar = progress(ids.size, 0, cells[0]?.config.num_epochs ?? 0);
    const rerun = committed.map((r): Cell => ({
      id: r.id,
      config: r.config,
      point: r.point,
      also: [],
    }));
    const fresh = await runCells(tmp, rerun, {
      experiment: spec.name,
      overrides: {},
      alphas: o.alphas,
      source: o.source,
      jobs: o.jobs,
      command: o.command,
      events: runnerEvents(bar),
    });
    bar.stop();
    const comparison = compareCells(committed, fresh, o.tolerance);
    console.log(
      formatComparison(comparison, ["committed", "rerun"], o.tolerance),
    );
    return comparison.ok && rejected.length === 0 ? 0 : 1;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

if (import.meta.main) await runMain(main);

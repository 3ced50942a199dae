/**
 * A search's decisions (successive halving), from the stored cells alone:
 * the configurations drawn from the space with the experiment's first
 * seed, each rung's cells, which of them go on, and the winners' cells
 * with every seed. Nothing here trains, and the decisions depend on the
 * stored cells alone (`readSearch` only reads them), so a rerun, `--verify`
 * and every shard of a Slurm array derive the same decisions from the same
 * cells.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { makeRng } from "../data/prng.ts";
import {
  type EngineChoice,
  leavesEngine,
  resolveConfig,
  type TrainConfig,
} from "../config/config.ts";
import type { CellRecord } from "./cell.ts";
import {
  canonicalJson,
  type Cell,
  expandConfigs,
  type GridConfig,
  gridKey,
  type Overrides,
  parseShard,
  shardCells,
  splitOverrides,
} from "./grid.ts";
import type { Dimension, ExperimentSpec, SearchSpec } from "./spec.ts";
import { answerGrid, readCells, siblingDirs } from "./store.ts";
import { estimateSeconds } from "./estimate.ts";

/** Draws of a space before a search gives up finding a new configuration. */
const MAX_DRAWS = 1000;

/** One value of `dim` from `rng`, as config keys. */
function draw(
  key: string,
  dim: Dimension,
  rng: ReturnType<typeof makeRng>,
): Partial<TrainConfig> {
  if ("choices" in dim) {
    const value = dim.choices[Math.floor(rng.random() * dim.choices.length)];
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? value as Partial<TrainConfig>
      : { [key]: value };
  }
  if ("int" in dim) return { [key]: rng.randint(dim.int[0], dim.int[1]) };
  const [lo, hi] = dim.log_uniform.map(Math.log);
  return {
    [key]: Number(Math.exp(lo + rng.random() * (hi - lo)).toPrecision(3)),
  };
}

/**
 * The search's configurations: `configurations` distinct points of the
 * space, each key drawn in the order the space is written, from a
 * generator seeded with the experiment's first seed. A point drawn again
 * is drawn anew, so a small space is an error rather than a repeated cell.
 *
 * @example
 * ```ts
 * sampleSpace({ space: { lr: { log_uniform: [0.25, 4] } }, configurations: 2, rungs: [10] }, 0);
 * // [{ lr: 0.61 }, { lr: 2.17 }] (the same two for seed 0, on every machine)
 * ```
 */
export function sampleSpace(
  search: SearchSpec,
  seed: number,
  file = "search",
): Partial<TrainConfig>[] {
  const rng = makeRng(seed);
  const out: Partial<TrainConfig>[] = [];
  const seen = new Set<string>();
  for (let draws = 0; out.length < search.configurations; draws++) {
    if (draws === MAX_DRAWS * search.configurations) {
      throw new UserError(
        `${file}: search.configurations: ${search.configurations} distinct configurations ` +
          `not found in ${draws} draws of the space (found ${out.length}); ` +
          `widen the space or draw fewer`,
      );
    }
    const point = Object.assign(
      {},
      ...Object.entries(search.space).map(([k, d]) => draw(k, d, rng)),
    );
    const key = canonicalJson(point);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(point);
  }
  return out;
}

/** One configuration at one rung: its cell's config and, once stored, its record. */
export interface Member {
  /** The configuration's place in the drawn order (0-based): ties go to the earlier. */
  index: number;
  /** Its cell's config at this rung (or, a winner's, at the full budget with one seed). */
  grid: GridConfig;
  /** The stored cell (done or diverged), if there is one. */
  record?: CellRecord;
  /** Its metric: Infinity for a diverged cell, null before it is stored. */
  value: number | null;
}

/** A rung: its configurations and, once all are stored, which go on. */
export interface Rung {
  /** Epochs this rung trains to. */
  epochs: number;
  /** The configurations trained at this rung, in the order drawn. */
  members: Member[];
  /** The indices that go on (or, after the last rung, win); null until every member is stored. */
  kept: number[] | null;
}

/** Where a search stands. */
export interface SearchState {
  /** The drawn configurations, as config keys. */
  samples: Partial<TrainConfig>[];
  /** The rungs decided so far, and the first undecided one. */
  rungs: Rung[];
  /** The winners' cells with every seed at the full budget, once the last rung is decided. */
  finals: Member[] | null;
}

/** How a search's configs are resolved: `--set` values and the machine's engine. */
export interface SearchOptions {
  /** `--set` values, on top of every cell (a list is refused: a search draws its own). */
  overrides?: Overrides;
  /** Names the experiment file in errors. */
  file?: string;
  /** The engine this machine picks for cells that name none. */
  machine?: EngineChoice;
}

/**
 * The cell config of drawn configuration `sample` at `epochs` (the base's
 * `num_epochs` when undefined) and `seed`, `--set` values on top.
 */
export function cellConfig(
  spec: ExperimentSpec,
  sample: Partial<TrainConfig>,
  epochs: number | undefined,
  seed: number,
  options: SearchOptions,
): GridConfig {
  const { single, sweeps } = splitOverrides(options.overrides);
  if (sweeps.length) {
    throw new UserError(
      `--set ${
        sweeps[0][0]
      }: a search draws its own values; set one value, not a list`,
    );
  }
  const partial = {
    ...spec.base,
    ...sample,
    ...single,
    ...(epochs === undefined ? {} : { num_epochs: epochs }),
    seed,
  };
  return {
    config: resolveConfig(partial, options.file ?? spec.name, options.machine),
    auto: leavesEngine(partial),
  };
}

/** The metric of a stored cell: lower is better, Infinity when it diverged. */
export function metricOf(record: CellRecord, spec: SearchSpec): number {
  if (record.status !== "done") return Infinity;
  const metric = spec.metric ?? "best_val_ppl";
  const value = metric === "final_train_ppl"
    ? record.final.train_ppl
    : metric === "final_val_ppl"
    ? record.final.val_ppl
    : record.final.best_val_ppl;
  return value !== null && Number.isFinite(value) ? value : Infinity;
}

/** How many configurations go on from a rung of `n` (all rungs but the last). */
export const goOn = (n: number, search: SearchSpec): number =>
  Math.max(search.winners ?? 1, Math.floor(n / (search.eta ?? 3)));

/**
 * Where the search stands given the stored cells: every rung up to the
 * first whose cells are not all stored, each decided rung's survivors
 * (the lowest metric; a tie goes to the configuration drawn first), and
 * the winners' cells once the last rung is decided.
 *
 * @example
 * ```ts
 * const state = searchState(spec, await readCells(dir));
 * state.rungs.at(-1)?.kept; // null: the last rung listed still has cells to train
 * ```
 */
export function searchState(
  spec: ExperimentSpec,
  records: CellRecord[],
  options: SearchOptions = {},
): SearchState {
  const search = spec.search!;
  const samples = sampleSpace(search, spec.seeds[0], options.file);
  // A failed cell is no result: its configuration is trained again.
  const results = records.filter((r) =>
    r.status === "done" || r.status === "diverged"
  );
  const membersOf = (cells: [number, number | undefined, number][]) => {
    const grids = cells.map(([i, epochs, seed]) =>
      cellConfig(spec, samples[i], epochs, seed, options)
    );
    const answers = answerGrid(results, grids);
    return cells.map(([i], k): Member => ({
      index: i,
      grid: grids[k],
      record: answers[k],
      value: answers[k] ? metricOf(answers[k], search) : null,
    }));
  };
  let alive = samples.map((_, i) => i);
  const rungs: Rung[] = [];
  for (const [r, epochs] of search.rungs.entries()) {
    const members = membersOf(alive.map((i) => [i, epochs, spec.seeds[0]]));
    const decided = members.every((m) => m.record);
    const last = r === search.rungs.length - 1;
    const keep = last ? search.winners ?? 1 : goOn(members.length, search);
    const kept = decided
      ? [...members].sort((a, b) => a.value! - b.value! || a.index - b.index)
        .slice(0, keep).map((m) => m.index).sort((a, b) => a - b)
      : null;
    rungs.push({ epochs, members: members, kept });
    if (!kept) return { samples, rungs, finals: null };
    alive = kept;
  }
  const finals = membersOf(
    alive.flatMap((i) =>
      spec.seeds.map((
        seed,
      ): [number, undefined, number] => [i, undefined, seed])
    ),
  );
  return { samples, rungs, finals };
}

/**
 * Where the search in `dir` stands. A shard (`sharded`) also reads the
 * cells of the directories beside its own, the other shards': a rung is
 * decided from all of its cells, wherever they were trained.
 */
export async function readSearch(
  dir: string,
  spec: ExperimentSpec,
  options: SearchOptions & { sharded?: boolean } = {},
): Promise<SearchState> {
  const dirs = [dir, ...options.sharded ? await siblingDirs(dir) : []];
  const records = (await Promise.all(dirs.map(readCells))).flat();
  return searchState(spec, records, options);
}

/** Every member the search has named so far, rung by rung, then the finals. */
const allMembers = (state: SearchState): Member[] => [
  ...state.rungs.flatMap((r) => r.members),
  ...state.finals ?? [],
];

/** Every cell config the search has named so far, rung by rung, then the finals; each once. */
export function searchConfigs(state: SearchState): GridConfig[] {
  const seen = new Set<string>();
  return allMembers(state).map((m) => m.grid).filter((g) => {
    const key = gridKey(g);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** How many configurations each rung trains, when every rung has its full count. */
export function rungSizes(search: SearchSpec): number[] {
  const sizes = [search.configurations];
  while (sizes.length < search.rungs.length) {
    sizes.push(goOn(sizes.at(-1)!, search));
  }
  return sizes;
}

/**
 * The cells a finished search has: every rung's configurations and the
 * winners with every seed (a winner's first-seed cell at the full budget
 * is its last rung's when that rung is the full budget).
 */
export function plannedConfigs(spec: ExperimentSpec): number {
  const search = spec.search!;
  const winners = search.winners ?? 1;
  const full = resolveConfig(spec.base ?? {}).num_epochs;
  return rungSizes(search).reduce((a, b) => a + b, 0) +
    winners * spec.seeds.length -
    (search.rungs.at(-1) === full ? winners : 0);
}

/**
 * The epochs a search trains at most, per configuration drawn (a rung
 * goes on from the one before it): what its budget is made of.
 */
export function plannedEpochs(spec: ExperimentSpec): number {
  const search = spec.search!;
  const epochs = rungSizes(search).reduce(
    (sum, n, r) => sum + n * (search.rungs[r] - (search.rungs[r - 1] ?? 0)),
    0,
  );
  const winners = search.winners ?? 1;
  const full = resolveConfig(spec.base ?? {}).num_epochs;
  // The first seed goes on from the last rung; the others start afresh.
  return epochs + winners * (full - search.rungs.at(-1)!) +
    winners * (spec.seeds.length - 1) * full;
}

/**
 * Seconds a whole search takes on the 2-core machine
 * ({@linkcode estimateSeconds}): its epochs at its drawn configurations'
 * mean cost per epoch.
 */
export function searchSeconds(
  spec: ExperimentSpec,
  options: SearchOptions = {},
): number {
  const draws = sampleSpace(spec.search!, spec.seeds[0], options.file).map((
    s,
  ) => cellConfig(spec, s, 1, spec.seeds[0], options).config);
  return estimateSeconds(draws) / draws.length * plannedEpochs(spec);
}

/** Whether two searches' decisions agree: the same survivors at every rung. */
export function sameDecisions(a: SearchState, b: SearchState): string[] {
  const out: string[] = [];
  const n = Math.max(a.rungs.length, b.rungs.length);
  for (let r = 0; r < n; r++) {
    const x = a.rungs[r]?.kept, y = b.rungs[r]?.kept;
    if (JSON.stringify(x ?? null) !== JSON.stringify(y ?? null)) {
      out.push(
        `rung ${r + 1}: ${numbers(x)} vs ${numbers(y)}`,
      );
    }
  }
  return out;
}

/** Configurations as a person counts them, from #1. */
export const numbers = (indices: number[] | null | undefined): string =>
  indices ? indices.map((i) => `#${i + 1}`).join(", ") : "undecided";

/**
 * A search's shard `i/n`: a configuration's rung cells stay in one shard
 * (the configuration drawn k-th goes to shard k mod n), so each rung goes
 * on from the checkpoint its shard kept; the winners' cells are shared out
 * by id as a grid's are.
 */
export function shardSearch(
  cells: Cell[],
  state: SearchState,
  shard: string,
): Cell[] {
  const [i, n] = parseShard(shard);
  const rung = new Map(
    state.rungs.flatMap((r) => r.members).map((m) => [
      canonicalJson(m.grid.config),
      m.index,
    ]),
  );
  const finals = cells.filter((c) => !rung.has(canonicalJson(c.config)));
  const mine = new Set(shardCells(finals, shard));
  return cells.filter((c) => {
    const k = rung.get(canonicalJson(c.config));
    return k === undefined ? mine.has(c) : k % n === i - 1;
  });
}

/** The stored cells a search's state names, each once, rung by rung then the winners'. */
export function searchRecords(state: SearchState): CellRecord[] {
  const out = new Map<string, CellRecord>();
  for (const m of allMembers(state)) {
    if (m.record && !out.has(m.record.id)) out.set(m.record.id, m.record);
  }
  return [...out.values()];
}

/** How many cells an experiment has once run: a grid's, or a finished search's. */
export function plannedCount(
  spec: ExperimentSpec,
  options: { overrides?: Overrides; file?: string } = {},
): number {
  return spec.search
    ? plannedConfigs(spec)
    : expandConfigs(spec, { ...options, allowLarge: true }).length;
}

/**
 * The decisions in a line: each decided rung's survivors, then the winners.
 *
 * @example
 * ```ts
 * decisionsText(state); // "rung 1 (10 epochs): #2, #5, #9 went on; rung 2 (30 epochs): #5 won"
 * ```
 */
export function decisionsText(state: SearchState): string {
  const decided = state.rungs.filter((r) => r.kept);
  if (decided.length === 0) return "no rung decided yet";
  return decided.map((r, i) =>
    `rung ${i + 1} (${r.epochs} epochs): ${numbers(r.kept)} ${
      i === state.rungs.length - 1 && state.finals ? "won" : "went on"
    } of ${r.members.length}`
  ).join("; ");
}

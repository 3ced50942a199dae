/**
 * Grid expansion: an experiment spec becomes a list of cells, each a fully
 * resolved config (seed included) with a stable id.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { sha1Hex } from "../data/source.ts";
import {
  AUTO_ENGINES,
  CONFIG_KEYS,
  configValue,
  type EngineChoice,
  leavesEngine,
  resolveConfig,
  type TrainConfig,
} from "../config/config.ts";
import { engineVersion } from "../train/result.ts";
import {
  type ConfigValue,
  type ExperimentSpec,
  HARD_MAX_CELLS,
  MAX_CELLS,
} from "./spec.ts";

/** One run of the grid. */
export interface Cell {
  /** Stable hash of config, corpus SHA-1 and engine version. */
  id: string;
  /** The fully resolved config. */
  config: TrainConfig;
  /** The grid point: values of the keys that vary across cells (seed excluded). */
  point: Record<string, ConfigValue>;
  /**
   * When the machine picked the engine: the ids of the same run with each
   * other engine a machine may pick ({@linkcode AUTO_ENGINES}). A result
   * stored under any of them answers the cell, so committed results stay
   * valid on a machine that would train with another engine.
   */
  also: string[];
}

/** A resolved config, and whether the machine picked its engine (the experiment named neither engine nor backend). */
export interface GridConfig {
  /** The fully resolved config. */
  config: TrainConfig;
  /** Whether the machine picked its engine (the experiment named neither engine nor backend). */
  auto: boolean;
}

/** A cell before its id is known (the corpus SHA-1 is read later). */
export type CellConfig = TrainConfig;

/** The cartesian product of `axes`, one combination at a time. */
function* product(
  axes: [string, unknown[]][],
  at = 0,
  acc: Record<string, unknown> = {},
): Generator<Record<string, unknown>> {
  if (at === axes.length) {
    yield acc;
    return;
  }
  const [key, values] = axes[at];
  for (const v of values) yield* product(axes, at + 1, { ...acc, [key]: v });
}

const matches = (config: TrainConfig, partial: Record<string, unknown>) =>
  Object.entries(partial).every(([k, v]) =>
    JSON.stringify(configValue(config, k)) === JSON.stringify(v)
  );

/**
 * `--set` values: a value sets its key in every cell; a list of values is
 * an axis of its own (a sweep), multiplying the grid.
 */
export type Overrides = Partial<
  Record<keyof TrainConfig, ConfigValue | ConfigValue[]>
>;

/** The `--set` values that set one value, and those that sweep a list. */
export function splitOverrides(overrides: Overrides = {}): {
  single: Partial<TrainConfig>;
  sweeps: [string, ConfigValue[]][];
} {
  const entries = Object.entries(overrides);
  return {
    single: Object.fromEntries(
      entries.filter(([, v]) => !Array.isArray(v)),
    ) as Partial<TrainConfig>,
    sweeps: entries.filter(([, v]) => Array.isArray(v)) as [
      string,
      ConfigValue[],
    ][],
  };
}

/** Options of {@linkcode expandGrid}. */
export interface ExpandOptions {
  /** The `--set` values: on top of every cell, or (lists) axes of their own. */
  overrides?: Overrides;
  /** Allow more than {@linkcode MAX_CELLS} cells (up to {@linkcode HARD_MAX_CELLS}). */
  allowLarge?: boolean;
  /** Names the experiment file in errors. */
  file?: string;
  /** The engine this machine picks for cells that name none (`pickEngine`); default the book's. */
  machine?: EngineChoice;
}

/**
 * How many cells a spec can have at most, counted without building them:
 * (points of the product + include) × seeds. Exclude and duplicates can
 * only make it fewer.
 *
 * @example
 * ```ts
 * countCells({ name: "x", description: "", exercises: ["4"], grid: { clip: [1, "off"], lr: [1, 2] }, seeds: [0, 1] }); // 8
 * ```
 */
export function countCells(
  spec: ExperimentSpec,
  overrides?: Overrides,
): number {
  const axes = Object.values(spec.grid ?? {}) as unknown[][];
  const points = axes.reduce((n, values) => n * values.length, 1);
  const sweeps = splitOverrides(overrides).sweeps.reduce(
    (n, [, values]) => n * values.length,
    1,
  );
  return (points + (spec.include?.length ?? 0)) * sweeps * spec.seeds.length;
}

/**
 * Expands a spec into resolved configs: base × product(grid) + include −
 * exclude, × each `--set` sweep's values, × seeds, with the single `--set`
 * values on top.
 * Duplicates collapse. Throws when the count exceeds {@linkcode MAX_CELLS}
 * unless `allowLarge`, and above {@linkcode HARD_MAX_CELLS} in any case;
 * both refusals come before the grid is built (a grid of a million cells is
 * refused at once).
 *
 * @example
 * ```ts
 * expandConfigs({ name: "x", description: "", exercises: ["4"], grid: { clip: [1, "off"] }, seeds: [0, 1] }).length; // 4
 * ```
 */
export function expandConfigs(
  spec: ExperimentSpec,
  options: ExpandOptions = {},
): TrainConfig[] {
  return expandGrid(spec, options).map((g) => g.config);
}

/**
 * Refuses a grid too large to run, from its count alone (nothing is built):
 * above {@linkcode HARD_MAX_CELLS} always, above {@linkcode MAX_CELLS}
 * without `allowLarge` when nothing can drop or merge cells (otherwise
 * {@linkcode expandGrid} stops the moment it has built one too many).
 */
export function checkGridSize(
  spec: ExperimentSpec,
  options: Omit<ExpandOptions, "machine"> = {},
): void {
  const file = options.file ?? spec.name;
  const upTo = countCells(spec, options.overrides);
  if (upTo > HARD_MAX_CELLS) {
    throw new UserError(
      `${file}: grid: ${many(upTo)} cells exceed the most rnnlab runs as one ` +
        `experiment, ${
          many(HARD_MAX_CELLS)
        }, even with --allow-large; split it into several experiments`,
    );
  }
  if (!options.allowLarge && upTo > MAX_CELLS && isExact(spec, options)) {
    throw tooMany(file, many(upTo));
  }
}

const many = (n: number) => n.toLocaleString("en-US");

const tooMany = (file: string, count: string) =>
  new UserError(
    `${file}: grid: ${count} cells exceed the limit of ${MAX_CELLS}; pass --allow-large to run them`,
  );

/** Whether the count is exact: nothing can drop or merge cells. */
function isExact(spec: ExperimentSpec, options: ExpandOptions): boolean {
  const { single, sweeps } = splitOverrides(options.overrides);
  return !spec.exclude?.length && !spec.include?.length &&
    Object.keys(single).length === 0 &&
    sweeps.every(([k]) => !(k in (spec.grid ?? {})));
}

/** {@linkcode expandConfigs}, saying of each config whether the machine picked its engine. */
export function expandGrid(
  spec: ExperimentSpec,
  options: ExpandOptions = {},
): GridConfig[] {
  checkGridSize(spec, options);
  const file = options.file ?? spec.name;
  const upTo = countCells(spec, options.overrides);
  const { single, sweeps } = splitOverrides(options.overrides);
  const limit = options.allowLarge ? HARD_MAX_CELLS : MAX_CELLS;
  const exact = isExact(spec, options);
  function* points() {
    const axes = Object.entries(spec.grid ?? {}) as [string, unknown[]][];
    for (const p of product(axes)) yield { ...spec.base, ...p };
    for (const c of spec.include ?? []) yield { ...spec.base, ...c };
  }
  const seen = new Set<string>();
  const configs: GridConfig[] = [];
  const swept = [...product(sweeps)];
  for (const point of points()) {
    for (const sweep of swept) {
      for (const seed of spec.seeds) {
        const partial = { ...point, seed, ...single, ...sweep };
        const config = resolveConfig(partial, file, options.machine);
        if ((spec.exclude ?? []).some((ex) => matches(config, ex))) continue;
        const key = canonicalJson(config);
        if (seen.has(key)) continue;
        seen.add(key);
        configs.push({ config, auto: leavesEngine(partial) });
        // Stop as soon as the limit is passed: the refusal needs no more.
        if (configs.length > limit) {
          throw tooMany(file, exact ? many(upTo) : `more than ${many(limit)}`);
        }
      }
    }
  }
  return configs;
}

/** JSON with object keys sorted, so equal configs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(
          Object.entries(v).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
        )
        : v,
  );
}

/**
 * A cell's id: the first 16 hex digits of the SHA-1 of its canonical config,
 * corpus SHA-1 and engine version (the config names the engine). Any change to what computes the numbers
 * changes the id, so a stored result is never reused for a different run.
 */
export async function cellId(
  config: TrainConfig,
  corpusSha1: string,
  engine: string = engineVersion(config),
): Promise<string> {
  const text = canonicalJson({ config, corpus_sha1: corpusSha1, engine });
  return (await sha1Hex(new TextEncoder().encode(text))).slice(0, 16);
}

/**
 * The keys whose values differ across configs, seed excluded: those named in
 * `order` first (the grid's axes, as written), then the rest in config order.
 */
export function varyingKeys(
  configs: TrainConfig[],
  order: string[] = [],
): (keyof TrainConfig)[] {
  if (configs.length === 0) return [];
  const keys = [
    ...new Set([...order, ...configs.flatMap((c) => Object.keys(c))]),
  ] as (keyof TrainConfig)[];
  const value = (c: TrainConfig, k: string) =>
    JSON.stringify(configValue(c, k));
  return keys.filter((k) =>
    k !== "seed" && configs.some((c) => k in c) &&
    configs.some((c) => value(c, k) !== value(configs[0], k))
  );
}

/**
 * Attaches ids and grid points; `sha1Of` gives each corpus's SHA-1, `order`
 * the grid's axis order for the points' keys. Plain configs name their
 * engine; grid configs that leave it to the machine get the other
 * engines' ids too (`also`).
 */
export async function makeCells(
  configs: (TrainConfig | GridConfig)[],
  sha1Of: (corpus: string) => string,
  order: string[] = [],
): Promise<Cell[]> {
  const grid = configs.map((c) =>
    "config" in c ? c : { config: c, auto: false }
  );
  const keys = varyingKeys(grid.map((g) => g.config), order);
  return await Promise.all(grid.map(async ({ config, auto }) => {
    const sha1 = sha1Of(config.corpus);
    const others = auto
      ? AUTO_ENGINES.filter((e) =>
        e.engine !== config.engine || e.backend !== config.backend
      )
      : [];
    return {
      id: await cellId(config, sha1),
      config,
      point: Object.fromEntries(keys.map((k) => [k, configValue(config, k)])),
      also: await Promise.all(
        others.map((e) => cellId({ ...config, ...e }, sha1)),
      ),
    };
  }));
}

/**
 * What a stored record must match to answer a grid config: its config,
 * or, when the machine picks the engine, its config but for the engine
 * and backend, which must be one a machine may pick.
 */
export function gridKey(g: GridConfig): string {
  if (!g.auto) return canonicalJson(g.config);
  const { engine: _e, backend: _b, ...rest } = g.config;
  return `auto:${canonicalJson(rest)}`;
}

/** The key of a stored config under which {@linkcode gridKey} would find it. */
export function storedKeys(config: TrainConfig): string[] {
  const keys = [canonicalJson(config)];
  if (
    AUTO_ENGINES.some((e) =>
      e.engine === config.engine && e.backend === config.backend
    )
  ) keys.push(gridKey({ config, auto: true }));
  return keys;
}

/**
 * Parses `--filter key=value` terms and keeps the cells matching all of them.
 * Values are compared as the config holds them (`clip=off`, `lr=1`, `seed=0`).
 * A term no cell has, or terms no cell has together, is an error that lists
 * the values present: an empty selection is never what was meant.
 */
export function filterCells(cells: Cell[], filters: string[]): Cell[] {
  const terms = filters.map((f) => {
    const eq = f.indexOf("=");
    if (eq < 1) {
      throw new UserError(
        `--filter: expected key=value, got ${JSON.stringify(f)}`,
      );
    }
    const key = f.slice(0, eq);
    if (cells.length && !(CONFIG_KEYS as string[]).includes(key)) {
      throw new UserError(`--filter: ${key}: not a config key`);
    }
    return [key, f.slice(eq + 1)] as const;
  });
  const value = (c: Cell, k: string) => String(configValue(c.config, k));
  for (const [k, v] of terms) {
    if (cells.length && !cells.some((c) => value(c, k) === v)) {
      const present = [...new Set(cells.map((c) => value(c, k)))];
      throw new UserError(
        `--filter ${k}=${v}: no cell has it (${k}: ${present.join(", ")})`,
      );
    }
  }
  const kept = cells.filter((c) => terms.every(([k, v]) => value(c, k) === v));
  if (cells.length && terms.length && kept.length === 0) {
    throw new UserError(
      `${
        filters.map((f) => `--filter ${f}`).join(" ")
      }: no cell has all of them`,
    );
  }
  return kept;
}

/**
 * Shard `i` of `n` (1-based): cells sorted by id, every n-th from the i-th.
 * The n shards partition the grid exactly, whatever the machine.
 */
export function shardCells(cells: Cell[], shard: string): Cell[] {
  const [i, n] = parseShard(shard);
  return [...cells].sort((a, b) => a.id < b.id ? -1 : 1).filter((_, k) =>
    k % n === i - 1
  );
}

/** `--shard i/n` as [i, n], 1-based; anything else is an error naming it. */
export function parseShard(shard: string): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(shard);
  const [i, n] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!m || n < 1 || i < 1 || i > n) {
    throw new UserError(
      `--shard: expected i/n with 1 ≤ i ≤ n, got ${JSON.stringify(shard)}`,
    );
  }
  return [i, n];
}

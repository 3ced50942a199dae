/**
 * Grid expansion: an experiment spec becomes a list of cells, each a fully
 * resolved config (seed included) with a stable id.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { sha1Hex } from "../data/source.ts";
import { resolveConfig, type TrainConfig } from "../train/config.ts";
import { engineVersion } from "../train/train.ts";
import { type ConfigValue, type ExperimentSpec, MAX_CELLS } from "./spec.ts";

/** One run of the grid. */
export interface Cell {
  /** Stable hash of config, corpus SHA-1 and engine version. */
  id: string;
  config: TrainConfig;
  /** The grid point: values of the keys that vary across cells (seed excluded). */
  point: Record<string, ConfigValue>;
}

/** A cell before its id is known (the corpus SHA-1 is read later). */
export type CellConfig = TrainConfig;

function product(axes: [string, unknown[]][]): Record<string, unknown>[] {
  return axes.reduce<Record<string, unknown>[]>(
    (acc, [key, values]) =>
      acc.flatMap((c) => values.map((v) => ({ ...c, [key]: v }))),
    [{}],
  );
}

const matches = (config: TrainConfig, partial: Record<string, unknown>) =>
  Object.entries(partial).every(([k, v]) =>
    JSON.stringify(config[k as keyof TrainConfig]) === JSON.stringify(v)
  );

/**
 * Expands a spec into resolved configs: base × product(grid) + include −
 * exclude, then × seeds, then `overrides` (the `--set` values) on top.
 * Duplicates collapse. Throws when the count exceeds {@linkcode MAX_CELLS}
 * unless `allowLarge`.
 *
 * @example
 * ```ts
 * expandConfigs({ name: "x", description: "", exercises: ["4"], grid: { clip: [1, "off"] }, seeds: [0, 1] }).length; // 4
 * ```
 */
export function expandConfigs(
  spec: ExperimentSpec,
  options: {
    overrides?: Partial<TrainConfig>;
    allowLarge?: boolean;
    file?: string;
  } = {},
): TrainConfig[] {
  const points = product(
    Object.entries(spec.grid ?? {}) as [string, unknown[]][],
  )
    .map((p) => ({ ...spec.base, ...p }))
    .concat((spec.include ?? []).map((c) => ({ ...spec.base, ...c })));
  const seen = new Set<string>();
  const configs: TrainConfig[] = [];
  for (const point of points) {
    for (const seed of spec.seeds) {
      const config = resolveConfig(
        { ...point, seed, ...options.overrides },
        options.file ?? spec.name,
      );
      if ((spec.exclude ?? []).some((ex) => matches(config, ex))) continue;
      const key = canonicalJson(config);
      if (seen.has(key)) continue;
      seen.add(key);
      configs.push(config);
    }
  }
  if (configs.length > MAX_CELLS && !options.allowLarge) {
    throw new UserError(
      `${
        options.file ?? spec.name
      }: grid: ${configs.length} cells exceed the limit of ${MAX_CELLS}; ` +
        `pass --allow-large to run them`,
    );
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
  engine = engineVersion(config),
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
    ...new Set([...order, ...Object.keys(configs[0])]),
  ] as (keyof TrainConfig)[];
  return keys.filter((k) =>
    k !== "seed" && k in configs[0] &&
    configs.some((c) => JSON.stringify(c[k]) !== JSON.stringify(configs[0][k]))
  );
}

/**
 * Attaches ids and grid points; `sha1Of` gives each corpus's SHA-1, `order`
 * the grid's axis order for the points' keys.
 */
export async function makeCells(
  configs: TrainConfig[],
  sha1Of: (corpus: string) => string,
  order: string[] = [],
): Promise<Cell[]> {
  const keys = varyingKeys(configs, order);
  return await Promise.all(configs.map(async (config) => ({
    id: await cellId(config, sha1Of(config.corpus)),
    config,
    point: Object.fromEntries(keys.map((k) => [k, config[k]])),
  })));
}

/**
 * Parses `--filter key=value` terms and keeps the cells matching all of them.
 * Values are compared as the config holds them (`clip=off`, `lr=1`, `seed=0`).
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
    if (cells.length && !(key in cells[0].config)) {
      throw new UserError(`--filter: ${key}: not a config key`);
    }
    return [key, f.slice(eq + 1)] as const;
  });
  return cells.filter((c) =>
    terms.every(([k, v]) => String(c.config[k as keyof TrainConfig]) === v)
  );
}

/**
 * Shard `i` of `n` (1-based): cells sorted by id, every n-th from the i-th.
 * The n shards partition the grid exactly, whatever the machine.
 */
export function shardCells(cells: Cell[], shard: string): Cell[] {
  const m = /^(\d+)\/(\d+)$/.exec(shard);
  const [i, n] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!m || n < 1 || i < 1 || i > n) {
    throw new UserError(
      `--shard: expected i/n with 1 ≤ i ≤ n, got ${JSON.stringify(shard)}`,
    );
  }
  return [...cells].sort((a, b) => a.id < b.id ? -1 : 1).filter((_, k) =>
    k % n === i - 1
  );
}

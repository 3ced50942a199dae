/**
 * Experiment files: plain data describing a grid of runs, validated with a
 * schema so a mistake is one error naming the file, key path and value.
 *
 * @module
 */
import { z } from "zod";
import { UserError } from "../errors.ts";
import {
  CONFIG_KEYS,
  formatIssues,
  resolveConfig,
  type TrainConfig,
} from "../config/config.ts";

/** A config value a grid axis can take. */
export type ConfigValue = TrainConfig[keyof TrainConfig];

/**
 * One key of a search's space: one of some values (a value may be several
 * keys at once, `{ input: "embedding", embed_size: 16 }`), an integer in a
 * range, or a number in a range drawn uniformly in its logarithm (kept to
 * three significant digits, so that a config reads as written).
 */
export type Dimension =
  | { choices: (ConfigValue | Partial<TrainConfig>)[] }
  | { int: [number, number] }
  | { log_uniform: [number, number] };

/** What a search ranks its configurations by (lower is better). */
export const SEARCH_METRICS = [
  "best_val_ppl",
  "final_val_ppl",
  "final_train_ppl",
] as const;

/**
 * A search instead of a grid (exercise 2's "how low can you go?"):
 * successive halving. `configurations` points are drawn from `space` with
 * the experiment's first seed and trained to the first rung's epochs; the
 * best 1/`eta` of them on `metric` go on to the next rung from where they
 * stopped, and so on; the best `winners` after the last rung are trained
 * with every seed for the base's `num_epochs`.
 */
export interface SearchSpec {
  /** Config key (or a name for several keys chosen together) → what it may be. */
  space: Record<string, Dimension>;
  /** How many configurations to draw (K). */
  configurations: number;
  /** Epochs each rung trains to, ascending, each a multiple of `eval_every`. */
  rungs: number[];
  /** A rung keeps the best 1/eta of its configurations (default 3). */
  eta?: number;
  /** Ranking metric, lower is better (default best_val_ppl). */
  metric?: typeof SEARCH_METRICS[number];
  /** Configurations trained with every seed at the end (default 1). */
  winners?: number;
}

/** What an experiment reports besides perplexity. */
export interface ReportOptions {
  /** Sharpening exponents α at which each cell also samples text (exercise 3). */
  alphas?: number[];
}

/** An experiment as written in `experiments/<name>.ts`. */
export interface ExperimentSpec {
  /** Must equal the file name without `.ts`. */
  name: string;
  /** One or two sentences: what the experiment asks. */
  description: string;
  /** The chapter's exercise(s) it answers, quoted or numbered. */
  exercises: string[];
  /** Config shared by every cell (d2l keys; defaults are the chapter's). */
  base?: Partial<TrainConfig>;
  /** Axes: config key → values; the cells are the cartesian product. */
  grid?: Partial<{ [K in keyof TrainConfig]: TrainConfig[K][] }>;
  /** Extra combinations added to the product (each merged over `base`). */
  include?: Partial<TrainConfig>[];
  /** Combinations removed from the product: a cell matching every key of one entry is dropped. */
  exclude?: Partial<TrainConfig>[];
  /** A search over a space instead of a grid (no grid, include or exclude then). */
  search?: SearchSpec;
  /** Seeds; every grid point runs once per seed. */
  seeds: number[];
  /** What the report adds besides perplexity (sampling exponents α). */
  report?: ReportOptions;
  /**
   * Whether a cell another experiment already stored under the same id may be
   * referred to rather than trained (default true). False where the question is
   * running time, which only cells run side by side on one machine compare.
   */
  reuse?: boolean;
  /**
   * What the numbers say, a sentence or two written after reading the
   * generated table; the results index prints it under the table.
   */
  reading?: string;
}

/**
 * Typed helper for experiment files: returns the spec unchanged, so the file
 * stays plain data while the editor checks keys and types.
 *
 * @example
 * ```ts
 * export default defineExperiment({
 *   name: "d2l-baseline",
 *   description: "The chapter's two runs.",
 *   exercises: ["sec_rnn_scratch: sequential vs random"],
 *   grid: { sampling: ["sequential", "random"] },
 *   seeds: [0],
 * });
 * ```
 */
export function defineExperiment(spec: ExperimentSpec): ExperimentSpec {
  return spec;
}

/** Largest grid run without `--allow-large`. */
export const MAX_CELLS = 64;

/**
 * Largest grid run at all, `--allow-large` or not: ten thousand 500-epoch
 * cells are years of one machine's time, and a grid is built in memory.
 */
export const HARD_MAX_CELLS = 10_000;

const partialConfig = z.record(z.string(), z.unknown());

const ExperimentSchema = z.object({
  name: z.string().regex(
    /^[a-z0-9][a-z0-9-]*$/,
    "expected lowercase letters, digits and dashes",
  ),
  description: z.string().min(1),
  exercises: z.array(z.string().min(1)).min(1),
  base: partialConfig.optional(),
  grid: z.record(
    z.string(),
    z.array(z.unknown()).min(1, "an axis needs at least one value"),
  ).optional(),
  include: z.array(partialConfig).optional(),
  exclude: z.array(partialConfig).optional(),
  seeds: z.array(z.number().int().nonnegative()).min(1, "at least one seed"),
  report: z.object({ alphas: z.array(z.number().positive()).optional() })
    .strict().optional(),
  reading: z.string().min(1).optional(),
  reuse: z.boolean().optional(),
  search: z.object({
    space: z.record(
      z.string(),
      z.union([
        z.object({ choices: z.array(z.unknown()).min(1) }).strict(),
        z.object({ int: z.tuple([z.number().int(), z.number().int()]) })
          .strict(),
        z.object({
          log_uniform: z.tuple([z.number().positive(), z.number().positive()]),
        }).strict(),
      ], {
        error:
          "expected { choices: [...] }, { int: [lo, hi] } or { log_uniform: [lo, hi] }",
      }),
    ).refine((s) => Object.keys(s).length > 0, "an empty space"),
    configurations: z.number().int().min(1),
    rungs: z.array(z.number().int().min(1)).min(1),
    eta: z.number().int().min(2).optional(),
    metric: z.enum(SEARCH_METRICS).optional(),
    winners: z.number().int().min(1).optional(),
  }).strict().optional(),
}).strict();

/**
 * Validates a loaded experiment. `file` names it in errors. Every key in
 * `base`, `grid`, `include` and `exclude` must be a config key, every axis
 * value must be valid for its key, axes must not repeat values, and the grid
 * must stay under {@linkcode MAX_CELLS} unless `allowLarge`.
 */
export function validateExperiment(
  raw: unknown,
  file: string,
  options: { allowLarge?: boolean; expectedName?: string } = {},
): ExperimentSpec {
  if (raw === undefined) {
    throw new UserError(
      `${file}: no default export (write \`export default defineExperiment({ ... })\`)`,
    );
  }
  const parsed = ExperimentSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UserError(formatIssues(file, parsed.error, raw));
  }
  const spec = parsed.data as ExperimentSpec;
  if (
    options.expectedName !== undefined && spec.name !== options.expectedName
  ) {
    throw new UserError(
      `${file}: name: must equal the file name "${options.expectedName}" (got ${
        JSON.stringify(spec.name)
      })`,
    );
  }
  const known = new Set<string>(CONFIG_KEYS);
  const checkKeys = (
    obj: Record<string, unknown> | undefined,
    path: string,
  ) => {
    for (const key of Object.keys(obj ?? {})) {
      if (!known.has(key)) {
        throw new UserError(
          `${file}: ${path}.${key}: not a config key (known keys: ${
            CONFIG_KEYS.join(", ")
          })`,
        );
      }
    }
  };
  checkKeys(spec.base, "base");
  checkKeys(spec.grid, "grid");
  spec.include?.forEach((c, i) => checkKeys(c, `include[${i}]`));
  spec.exclude?.forEach((c, i) => checkKeys(c, `exclude[${i}]`));
  if (spec.search) checkSearch(spec, spec.search, file, known);
  if (spec.grid && "seed" in spec.grid) {
    throw new UserError(
      `${file}: grid.seed: list seeds under "seeds", not as a grid axis`,
    );
  }
  const seen = new Set<string>();
  for (const s of spec.seeds) {
    if (seen.has(String(s))) {
      throw new UserError(`${file}: seeds: duplicated value ${s}`);
    }
    seen.add(String(s));
  }
  // Each value checked alone over base, so the error names the axis.
  resolveConfig(spec.base ?? {}, `${file}: base`);
  for (const [key, values] of Object.entries(spec.grid ?? {})) {
    const distinct = new Set<string>();
    (values as unknown[]).forEach((value, i) => {
      const id = JSON.stringify(value);
      if (distinct.has(id)) {
        throw new UserError(
          `${file}: grid.${key}[${i}]: duplicated value ${id}`,
        );
      }
      distinct.add(id);
      resolveConfig(
        { ...spec.base, [key]: value },
        `${file}: grid.${key}[${i}]`,
      );
    });
  }
  spec.include?.forEach((c, i) =>
    resolveConfig({ ...spec.base, ...c }, `${file}: include[${i}]`)
  );
  // An exclude entry is a pattern, not a config: each value is checked
  // alone, typed as its axis is.
  spec.exclude?.forEach((c, i) => {
    for (const [key, value] of Object.entries(c)) {
      resolveConfig({ [key]: value }, `${file}: exclude[${i}]`);
    }
  });
  return spec;
}

/**
 * A search's own checks: no grid beside it, space keys that are config keys
 * (a joint choice's too) other than seed and num_epochs, values valid over
 * base, ranges with lo < hi, rungs ascending multiples of eval_every up to
 * num_epochs, and no more winners than configurations.
 */
function checkSearch(
  spec: ExperimentSpec,
  search: SearchSpec,
  file: string,
  known: Set<string>,
) {
  const at = `${file}: search`;
  for (const key of ["grid", "include", "exclude"] as const) {
    if (spec[key]) {
      throw new UserError(
        `${file}: ${key}: a search draws its configurations from search.space; write no ${key} beside it`,
      );
    }
  }
  const own = (key: string, where: string) => {
    if (!known.has(key)) {
      throw new UserError(
        `${where}: not a config key (known keys: ${[...known].join(", ")})`,
      );
    }
    if (key === "seed" || key === "num_epochs") {
      throw new UserError(
        `${where}: ${
          key === "seed"
            ? 'seeds are the experiment\'s "seeds"'
            : "a search's epochs are its rungs and the base's num_epochs"
        }, not a dimension`,
      );
    }
  };
  for (const [key, dim] of Object.entries(search.space)) {
    const where = `${at}.space.${key}`;
    if ("choices" in dim) {
      dim.choices.forEach((value, i) => {
        const joint = value !== null && typeof value === "object" &&
          !Array.isArray(value);
        const partial = joint
          ? value as Record<string, unknown>
          : { [key]: value };
        for (const k of Object.keys(partial)) {
          own(k, joint ? `${where}[${i}].${k}` : where);
        }
        resolveConfig({ ...spec.base, ...partial }, `${where}[${i}]`);
      });
      continue;
    }
    own(key, where);
    const [lo, hi] = "int" in dim ? dim.int : dim.log_uniform;
    if (!(lo < hi)) {
      throw new UserError(
        `${where}: expected lo < hi, got [${lo}, ${hi}]`,
      );
    }
    for (const v of [lo, hi]) {
      resolveConfig({ ...spec.base, [key]: v }, where);
    }
  }
  const base = resolveConfig(spec.base ?? {}, `${file}: base`);
  search.rungs.forEach((epochs, i) => {
    const where = `${at}.rungs[${i}]`;
    if (i > 0 && epochs <= search.rungs[i - 1]) {
      throw new UserError(
        `${where}: rungs must ascend (got ${epochs} after ${
          search.rungs[i - 1]
        })`,
      );
    }
    if (epochs % base.eval_every !== 0 || epochs > base.num_epochs) {
      throw new UserError(
        `${where}: a rung must be a multiple of eval_every ${base.eval_every} ` +
          `and at most num_epochs ${base.num_epochs}, so that its cells' curves are ` +
          `the start of the longer ones (got ${epochs})`,
      );
    }
  });
  if ((search.winners ?? 1) > search.configurations) {
    throw new UserError(
      `${at}.winners: ${search.winners} winners of ${search.configurations} configurations`,
    );
  }
}

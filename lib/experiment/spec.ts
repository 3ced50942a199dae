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

/**
 * From a request (`deno task exp NAME --set … --filter …`) to the cells to
 * run: the experiment file loaded and checked, `--set` values parsed, the
 * grid counted and built, its corpora read (their SHA-1s make the ids),
 * every cell checked to have a minibatch, and the selection made. Nothing
 * is written.
 *
 * @example
 * ```ts
 * const grid = await prepareGrid({ name: "clipping-ablation" }, source);
 * grid.cells.length; // 24
 * ```
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { readCorpus, type SourceOptions } from "../data/source.ts";
import { type Letters, lettersWarning, loadCorpus } from "../data/vocab.ts";
import {
  CONFIG_KEYS,
  type EngineChoice,
  parseFlagValue,
  resolveConfig,
  type TrainConfig,
} from "../config/config.ts";
import { minTrainTokens } from "../train/result.ts";
import {
  type Cell,
  checkGridSize,
  expandGrid,
  filterCells,
  type GridConfig,
  makeCells,
  type Overrides,
  shardCells,
  splitOverrides,
} from "./grid.ts";
import { loadExperiment } from "./load.ts";
import {
  cellConfig,
  readSearch,
  sampleSpace,
  searchConfigs,
  type SearchOptions,
  type SearchState,
  shardSearch,
} from "./search.ts";
import { outputDir, shownPath } from "./paths.ts";
import type { ConfigValue, ExperimentSpec } from "./spec.ts";

/**
 * Parses `--set key=value` terms into config values, naming a bad one: a
 * value sets its key in every cell, a comma-separated list (`lr=0.5,1,2`)
 * makes the key an axis of its own (a sweep; several multiply). Each value
 * is checked as a grid axis's is.
 *
 * @example
 * ```ts
 * parseSets(["num_epochs=5", "lr=0.5,1,2"]); // { num_epochs: 5, lr: [0.5, 1, 2] }
 * ```
 */
export function parseSets(sets: string[]): Overrides {
  const out: Record<string, ConfigValue | ConfigValue[]> = {};
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
    if (key === "seed" && s.includes(",")) {
      throw new UserError(
        `--set ${s}: seeds are the experiment's "seeds"; set one seed at a time`,
      );
    }
    const raw = s.slice(eq + 1).split(",");
    const values = raw.map((v) => {
      const value = parseFlagValue(key, v) as ConfigValue;
      // Each value alone, so the error names the --set term and value.
      resolveConfig({ [key]: value }, `--set ${s}`);
      return value;
    });
    const seen = new Set<string>();
    for (const v of values) {
      if (seen.has(JSON.stringify(v))) {
        throw new UserError(
          `--set ${s}: duplicated value ${JSON.stringify(v)}`,
        );
      }
      seen.add(JSON.stringify(v));
    }
    out[key] = values.length > 1 ? values : values[0];
  }
  return out as Overrides;
}

/** What a run of an experiment asks for. */
export interface GridRequest {
  name: string;
  /** `--set key=value` terms. */
  sets?: string[];
  /** `--filter key=value` terms. */
  filters?: string[];
  /** `--shard i/n`. */
  shard?: string;
  /** `--out`. */
  out?: string;
  allowLarge?: boolean;
  /** `--force`: train stored cells again (and so copy none). */
  force?: boolean;
  /** `--no-reuse` when false. */
  reuse?: boolean;
  /**
   * The engine this machine picks (`pickEngine`), or how to ask for it:
   * asked only once the experiment file is checked, so a file refused
   * (a grid far too large, a bad key) never opens a GPU adapter.
   */
  machine?: EngineChoice | (() => Promise<EngineChoice>);
}

/** A grid ready to run. */
export interface PreparedGrid {
  spec: ExperimentSpec;
  /** The experiment file, as shown in messages. */
  file: string;
  overrides: Overrides;
  /** Every config of the grid, with whether the machine picked its engine. */
  grid: GridConfig[];
  /** Every cell of the grid. */
  all: Cell[];
  /** The cells selected by `--filter` and `--shard`. */
  cells: Cell[];
  /** The results directory, and as a user reads it. */
  dir: string;
  shown: string;
  /** Sharpening exponents every cell samples at. */
  alphas: number[];
  /** Whether cells stored beside `dir` may be referred to instead of trained. */
  reuse: boolean;
  /** Warnings about the corpora (letters d2l's preprocessing drops). */
  warnings: string[];
  /** For a search: where it stands, and how its cells are named. */
  search?: PreparedSearch;
}

/** A search ready to go on: its state when prepared, and what names its cells. */
export interface PreparedSearch {
  state: SearchState;
  /** How its configs resolve (`--set` values, the machine's engine). */
  options: SearchOptions;
  /** Each corpus's SHA-1 (it makes the cells' ids). */
  sha1Of: (corpus: string) => string;
  /** The keys a cell's point shows: the space's, then the epochs. */
  order: string[];
  shard?: string;
}

/** A corpus as the grid needs it: its SHA-1, and its length per letters setting. */
interface CorpusFacts {
  sha1: string;
  source: string;
  length: Map<Letters, number>;
}

/**
 * Reads every corpus the configs name, once: a missing or bad one is an
 * error naming the experiment file. Warns when d2l's A–Z preprocessing
 * drops a large share of a corpus's letters.
 */
async function readCorpora(
  configs: TrainConfig[],
  source: SourceOptions,
  file: string,
): Promise<{ facts: Map<string, CorpusFacts>; warnings: string[] }> {
  const facts = new Map<string, CorpusFacts>();
  const warnings: string[] = [];
  for (const corpus of new Set(configs.map((c) => c.corpus))) {
    let text;
    try {
      text = await readCorpus(corpus, source);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      throw new UserError(
        `${file}: corpus ${JSON.stringify(corpus)}: ${e.message}`,
      );
    }
    const length = new Map<Letters, number>();
    const using = configs.filter((c) => c.corpus === corpus);
    for (const letters of new Set(using.map((c) => c.letters ?? "ascii"))) {
      length.set(letters, loadCorpus(text.text, 0, 0, letters).corpus_length);
    }
    if (using.some((c) => c.letters === undefined)) {
      const warning = lettersWarning(
        `${file}: corpus ${text.source}`,
        text.text,
      );
      if (warning) warnings.push(warning);
    }
    facts.set(corpus, { sha1: text.sha1, source: text.source, length });
  }
  return { facts, warnings };
}

/**
 * Rejects, before anything runs, a config whose training slice gives no
 * minibatch: `batch_size · num_steps` tokens after a random offset of up to
 * `num_steps`, plus the one token the targets run ahead.
 */
function checkMinibatches(
  configs: TrainConfig[],
  facts: Map<string, CorpusFacts>,
  file: string,
) {
  for (const c of configs) {
    const corpus = facts.get(c.corpus)!;
    const length = corpus.length.get(c.letters ?? "ascii")!;
    const tokens = c.max_tokens > 0 ? Math.min(c.max_tokens, length) : length;
    const needed = minTrainTokens(c);
    if (tokens < needed) {
      throw new UserError(
        `${file}: batch_size ${c.batch_size} × num_steps ${c.num_steps} needs at least ` +
          `${needed} training tokens (batch_size · num_steps + num_steps + 1), but ` +
          `max_tokens ${c.max_tokens} of ${corpus.source} gives ${tokens}`,
      );
    }
  }
}

/**
 * Loads, checks and expands an experiment into the cells a run would
 * compute; see the module's description. Bad input is a
 * {@linkcode UserError} naming the file, key and value.
 */
export async function prepareGrid(
  request: GridRequest,
  source: SourceOptions,
): Promise<PreparedGrid> {
  const { spec, file } = await loadExperiment(request.name, {
    allowLarge: request.allowLarge,
  });
  const overrides = parseSets(request.sets ?? []);
  checkGridSize(spec, { overrides, allowLarge: request.allowLarge, file });
  const machine = typeof request.machine === "function"
    ? await request.machine()
    : request.machine;
  // A search names its cells as it goes (below).
  const expanded = spec.search ? [] : expandGrid(spec, {
    overrides,
    allowLarge: request.allowLarge,
    file,
    machine,
  });
  // A search's every drawn configuration, at the full budget: each must
  // have its corpus and a minibatch before the first rung trains.
  const options: SearchOptions = { overrides, file, machine };
  const configs = spec.search
    ? sampleSpace(spec.search, spec.seeds[0], file).map((s) =>
      cellConfig(spec, s, undefined, spec.seeds[0], options).config
    )
    : expanded.map((g) => g.config);
  const { facts, warnings } = await readCorpora(configs, source, file);
  checkMinibatches(configs, facts, file);
  const sha1Of = (corpus: string) => facts.get(corpus)!.sha1;
  const dir = outputDir(request.name, overrides, request.out);
  const search: PreparedSearch | undefined = spec.search && {
    state: await readSearch(dir, spec, {
      ...options,
      sharded: request.shard !== undefined,
    }),
    options,
    sha1Of,
    order: [...Object.keys(spec.search.space), "num_epochs"],
    shard: request.shard,
  };
  const { grid, all } = search ? await searchCells(search) : {
    grid: expanded,
    all: await makeCells(expanded, sha1Of, [
      ...Object.keys(spec.grid ?? {}),
      ...splitOverrides(overrides).sweeps.map(([k]) => k),
    ]),
  };
  let cells = filterCells(all, request.filters ?? []);
  if (request.shard) {
    cells = search
      ? shardSearch(cells, search.state, request.shard)
      : shardCells(cells, request.shard);
  }
  return {
    spec,
    file,
    overrides,
    grid,
    all,
    cells,
    dir,
    shown: shownPath(dir),
    alphas: spec.report?.alphas ?? [],
    // --force means "train these again", so it never refers to a stored
    // run; nor does an experiment that times its cells against each other.
    reuse: request.reuse !== false && !request.force && spec.reuse !== false,
    warnings,
    search,
  };
}

/** The cells a search has named so far, as a grid's: its configs and their cells. */
export async function searchCells(
  search: Pick<PreparedSearch, "state" | "sha1Of" | "order">,
): Promise<{ grid: GridConfig[]; all: Cell[] }> {
  const grid = searchConfigs(search.state);
  return { grid, all: await makeCells(grid, search.sha1Of, search.order) };
}

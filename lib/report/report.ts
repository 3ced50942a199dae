/**
 * An experiment's report: `results.json` (versioned), `README.md` (one table,
 * generated text, figures) and the SVG curves, all generated from the stored
 * cells and written atomically.
 *
 * @module
 */
import type { CellRecord } from "../experiment/cell.ts";
import { cellPath, readCellFile, type Rejected } from "../experiment/store.ts";
import { checkCellFile } from "../experiment/validate.ts";
import type { ExperimentSpec } from "../experiment/spec.ts";
import { type Overrides, varyingKeys } from "../experiment/grid.ts";
import { searchRecords, searchState } from "../experiment/search.ts";
import { writeFilesAtomic } from "../fsutil.ts";
import { io } from "../errors.ts";
import { configValue } from "../config/config.ts";
import { summarize } from "./aggregate.ts";
import { perplexitySvg } from "./plot.ts";
import { renderMarkdown } from "./markdown.ts";
import { type Results, RESULTS_SCHEMA, type ResultsFile } from "./results.ts";

export { decodingTable, fmt, renderMarkdown } from "./markdown.ts";
export {
  type Results,
  RESULTS_SCHEMA,
  type ResultsFile,
  type SearchReport,
} from "./results.ts";

/** The file form of {@linkcode Results}. */
export const resultsFile = (results: Results): ResultsFile => ({
  ...results,
  cells: results.cells.map((c) => c.id),
});

/** Gives `cells` the grid points of `keys`, as the table shows them. */
export const withPoints = (
  cells: CellRecord[],
  keys: string[],
): CellRecord[] =>
  cells.map((c) => ({
    ...c,
    point: Object.fromEntries(
      keys.map((k) => [k, configValue(c.config, k)]),
    ),
  }));

/** The keys of a cell's point: the table's, and a search's epochs (its cells differ in their rungs). */
export const cellKeys = (
  results: Pick<Results, "varying_keys" | "search">,
): string[] =>
  results.search
    ? [...results.varying_keys, "num_epochs"]
    : results.varying_keys;

/** The command that reproduces an experiment, `--set` values included. */
export function reproduceCommand(
  name: string,
  overrides: Overrides,
): string {
  const sets = Object.entries(overrides).map(([k, v]) => ` --set ${k}=${v}`)
    .join("");
  return `deno task exp ${name}${sets}`;
}

/**
 * Builds the results object from stored cells. For a search, the cells are
 * those its decisions name (others are left out), and the rows are the
 * winners' over their seeds.
 */
export function buildResults(
  spec: ExperimentSpec,
  cells: CellRecord[],
  overrides: Overrides,
): Results {
  if (spec.search) return searchResults(spec, cells, overrides);
  // Grid points are derived again from the configs, so the table follows the
  // experiment file's axis order whatever the stored cells say.
  const keys = varyingKeys(
    cells.map((c) => c.config),
    Object.keys(spec.grid ?? {}),
  );
  const pointed = withPoints(cells, keys);
  return {
    ...head(spec, overrides, keys),
    rows: summarize(pointed),
    cells: pointed,
  };
}

/**
 * Writes `results.json`, `README.md`, `train_ppl.svg` and `val_ppl.svg` into
 * `dir`, all or none (a full disk leaves the previous report whole).
 */
export async function writeReport(
  dir: string,
  results: Results,
): Promise<void> {
  const [train, val] = await Promise.all([
    perplexitySvg(results.cells, "train"),
    perplexitySvg(results.cells, "val"),
  ]);
  await io(dir, async () => {
    await Deno.mkdir(dir, { recursive: true });
    await writeFilesAtomic([
      [`${dir}/train_ppl.svg`, train],
      [`${dir}/val_ppl.svg`, val],
      [
        `${dir}/results.json`,
        JSON.stringify(resultsFile(results), null, 2) + "\n",
      ],
      [`${dir}/README.md`, renderMarkdown(results)],
    ]);
  }, { after: "then write the report again (deno task report)" });
}

/** What {@linkcode readResults} found. */
export type ReadResults =
  | { results: Results; rejected: Rejected[] }
  | { reason: string };

/**
 * Reads `dir/results.json` with the cells it names, each read and checked
 * from `cells/` (a cell that is missing or not valid is left out and listed
 * in `rejected`); `rnnlab.results/1`, which embedded its cells, is read too.
 * Undefined when there is no such file; the reason when it is not results.
 */
export async function readResults(
  dir: string,
): Promise<ReadResults | undefined> {
  const path = `${dir}/results.json`;
  let file: ResultsFile | { schema: string; cells: unknown[] };
  try {
    file = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    return { reason: `${path}: ${(e as Error).message}` };
  }
  const schema = (file as { schema?: unknown } | null)?.schema;
  if (
    (schema !== RESULTS_SCHEMA && schema !== "rnnlab.results/1") ||
    !Array.isArray(file.cells) || !Array.isArray((file as ResultsFile).rows)
  ) {
    return {
      reason: `${path}: not ${RESULTS_SCHEMA} (schema ${
        JSON.stringify(schema)
      })`,
    };
  }
  const cells: CellRecord[] = [], rejected: Rejected[] = [];
  for (const entry of file.cells) {
    const id = typeof entry === "string"
      ? entry
      : String((entry as { id?: unknown })?.id);
    const read = typeof entry === "string"
      ? await readCellFile(dir, id)
      : await checkCellFile(entry, id).then((c) =>
        "record" in c ? { record: c.record } : {
          path,
          reason: "reason" in c ? c.reason : "an embedded reference",
        }
      );
    if (!read) rejected.push({ path: cellPath(dir, id), reason: "missing" });
    else if ("record" in read) cells.push(read.record);
    else rejected.push(read);
  }
  const results = file as ResultsFile;
  return {
    results: {
      ...results,
      schema: RESULTS_SCHEMA,
      cells: withPoints(cells, cellKeys(results)),
    },
    rejected,
  };
}

/** What every results object starts with: its schema, spec, overrides, command and key columns. */
const head = (
  spec: ExperimentSpec,
  overrides: Overrides,
  keys: string[],
): Pick<
  Results,
  "schema" | "experiment" | "overrides" | "command" | "varying_keys"
> => ({
  schema: RESULTS_SCHEMA,
  experiment: spec,
  overrides,
  command: reproduceCommand(spec.name, overrides),
  varying_keys: keys,
});

/** {@linkcode buildResults} of a search. */
function searchResults(
  spec: ExperimentSpec,
  stored: CellRecord[],
  overrides: Overrides,
): Results {
  const search = spec.search!;
  const state = searchState(spec, stored, { overrides });
  const space = Object.keys(search.space);
  const keys = varyingKeys(
    state.rungs[0].members.map((m) => m.grid.config),
    space,
  );
  const cells = withPoints(searchRecords(state), [...keys, "num_epochs"]);
  const finals = withPoints(
    (state.finals ?? []).flatMap((m) => m.record ? [m.record] : []),
    keys,
  );
  const winners = state.rungs.at(-1)?.kept ?? null;
  return {
    ...head(spec, overrides, keys),
    rows: summarize(finals),
    cells,
    search: {
      metric: search.metric ?? "best_val_ppl",
      rungs: search.rungs,
      configurations: state.samples.map((values, i) => ({
        configuration: i + 1,
        values,
        metric: state.rungs.map((r) =>
          r.members.find((m) => m.index === i)?.value ?? null
        ),
        went_on: state.rungs.flatMap((r) =>
          r.kept && r.members.some((m) => m.index === i)
            ? [r.kept.includes(i)]
            : []
        ),
      })),
      winners: winners && state.finals ? winners.map((i) => i + 1) : null,
    },
  };
}

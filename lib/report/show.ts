/**
 * An experiment's cells as rows of plain values, for a terminal table, CSV
 * or JSON (`deno task show`): per cell its grid point, seed, status, final
 * and best perplexities, throughput and where it ran.
 *
 * @example
 * ```ts
 * const rows = cellRows(results);
 * console.log(formatTable(sortRows(rows, "best_val_ppl")));
 * ```
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { computedOn } from "../env.ts";
import type { CellRecord } from "../experiment/cell.ts";
import { cellKeys, type Results } from "./report.ts";
import { blewUp, blowUpEpoch, stat } from "./aggregate.ts";

/** A metric over a grid point's seeds: mean, sample standard deviation, range. */
export interface Spread {
  mean: number;
  /** Sample standard deviation (0 for one value), as the reports' ± is. */
  std: number;
  min: number;
  max: number;
}

/** One cell, or one grid point over its seeds, as a row: column → value (null: none). */
export type Row = Record<string, string | number | Spread | null>;

/** The columns after the grid's keys. */
export const COLUMNS = [
  "seed",
  "status",
  "train_ppl",
  "val_ppl",
  "best_val_ppl",
  "tokens_per_sec",
  "diverged_epoch",
  "blew_up_epoch",
  "computed_on",
  "id",
] as const;

/**
 * What a table says of one cell, after its grid point: the columns of
 * {@linkcode COLUMNS} (the terminal table and the web app's both show these).
 */
export function cellSummary(c: CellRecord) {
  return {
    seed: c.config.seed,
    status: c.status,
    train_ppl: c.final.train_ppl,
    val_ppl: c.final.val_ppl,
    best_val_ppl: c.final.best_val_ppl,
    tokens_per_sec: c.tokens_per_sec,
    diverged_epoch: c.diverged_epoch,
    blew_up_epoch: blowUpEpoch(c),
    computed_on: c.env ? computedOn(c.env) : null,
    id: c.id,
  };
}

/** Every cell of `results` as a row, in the report's order (a search's: rung by rung, then the winners'). */
export function cellRows(results: Results): Row[] {
  const keys = cellKeys(results);
  return results.cells.map((c) => ({
    ...Object.fromEntries(
      keys.map((k) => [k, c.point[k] as string | number]),
    ),
    ...cellSummary(c),
  }));
}

/** Mean, std, min and max of the finite values, or null when there are none. */
function spread(values: (number | null)[]): Spread | null {
  const s = stat(values);
  if (!s) return null;
  const xs = values.filter((x): x is number => Number.isFinite(x));
  return {
    mean: s.mean,
    std: s.sd,
    min: Math.min(...xs),
    max: Math.max(...xs),
  };
}

/**
 * The grid points of `results` over their seeds, in the report's order: n
 * (cells), each metric's {@linkcode Spread} over the same cells the report's
 * mean ± sd is (perplexities over the cells that finished, throughput over
 * those that did not fail), and how many diverged. `ids` keeps only those
 * cells (a filter of the cell rows); a point left with none is left out.
 *
 * @example
 * ```ts
 * pointRows(results)[0].best_val_ppl; // { mean: 8.47, std: 0.08, min: 8.39, max: 8.55 }
 * ```
 */
export function pointRows(results: Results, ids?: Set<string>): Row[] {
  const byId = new Map(results.cells.map((c) => [c.id, c]));
  return results.rows.flatMap((r) => {
    const cells = r.cells.filter((id) => !ids || ids.has(id))
      .flatMap((id) => byId.get(id) ?? []);
    if (cells.length === 0) return [];
    const done = cells.filter((c) => c.status === "done");
    const ran = cells.filter((c) => c.status !== "failed");
    return [{
      ...Object.fromEntries(
        results.varying_keys.map((k) => [k, r.point[k] as string | number]),
      ),
      n: cells.length,
      train_ppl: spread(done.map((c) => c.final.train_ppl)),
      val_ppl: spread(done.map((c) => c.final.val_ppl)),
      best_val_ppl: spread(done.map((c) => c.final.best_val_ppl)),
      tokens_per_sec: spread(ran.map((c) => c.tokens_per_sec)),
      diverged: cells.filter(blewUp).length,
      failed: cells.filter((c) => c.status === "failed").length,
    }];
  });
}

/** The columns of `rows`, in order. */
export const columnsOf = (rows: Row[]): string[] =>
  rows.length ? Object.keys(rows[0]) : [];

/**
 * The rows whose columns hold these values (`key=value` terms, compared as
 * text). A key that is no column, or a selection that keeps nothing, is an
 * error listing what is there.
 */
export function filterRows(rows: Row[], terms: string[]): Row[] {
  const columns = columnsOf(rows);
  let kept = rows;
  for (const term of terms) {
    const eq = term.indexOf("=");
    const key = term.slice(0, eq), value = term.slice(eq + 1);
    if (eq < 1) {
      throw new UserError(
        `--filter: expected key=value, got ${JSON.stringify(term)}`,
      );
    }
    if (!columns.includes(key)) {
      throw new UserError(
        `--filter ${term}: no column ${key} (columns: ${columns.join(", ")})`,
      );
    }
    const next = kept.filter((r) => String(r[key]) === value);
    if (next.length === 0) {
      const present = [...new Set(kept.map((r) => String(r[key])))];
      throw new UserError(
        `--filter ${term}: no cell has it (${key}: ${present.join(", ")})`,
      );
    }
    kept = next;
  }
  return kept;
}

/** The rows sorted by column `key`: numbers as numbers, text as text, empty last. */
export function sortRows(rows: Row[], key: string, reverse = false): Row[] {
  const columns = columnsOf(rows);
  if (rows.length && !columns.includes(key)) {
    throw new UserError(
      `--sort ${key}: no such column (columns: ${columns.join(", ")})`,
    );
  }
  const sign = reverse ? -1 : 1;
  const value = (v: Row[string]) =>
    v !== null && typeof v === "object" ? v.mean : v;
  return [...rows].sort((a, b) => {
    const x = value(a[key]), y = value(b[key]);
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    return sign *
      (typeof x === "number" && typeof y === "number"
        ? x - y
        : String(x).localeCompare(String(y)));
  });
}

/** A value as text: perplexities to 4 decimals (a blow-up in exponent form), throughput whole, a spread as mean ± std (min–max), empty for none. */
const text = (key: string, v: Row[string]): string =>
  v === null
    ? ""
    : typeof v === "object"
    ? `${measure(key, v.mean)} ± ${measure(key, v.std)} (${
      measure(key, v.min)
    }–${measure(key, v.max)})`
    : typeof v !== "number"
    ? v
    : key === "tokens_per_sec"
    ? String(Math.round(v))
    : Math.abs(v) >= 1e6
    ? v.toExponential(3)
    : Number.isInteger(v)
    ? String(v)
    : v.toFixed(4);

/** A spread's number: throughput whole, the rest to 4 decimals (a blow-up in exponent form). */
const measure = (key: string, x: number) =>
  key === "tokens_per_sec"
    ? String(Math.round(x))
    : Math.abs(x) >= 1e6
    ? x.toExponential(3)
    : x.toFixed(4);

/** The rows as an aligned plain-text table, numbers right-aligned. */
export function formatTable(rows: Row[]): string {
  const columns = columnsOf(rows);
  const cells = rows.map((r) => columns.map((k) => text(k, r[k])));
  const width = columns.map((k, i) =>
    Math.max(k.length, ...cells.map((c) => c[i].length))
  );
  const numeric = columns.map((k) =>
    rows.every((r) => r[k] === null || typeof r[k] !== "string")
  );
  const line = (values: string[]) =>
    values.map((v, i) => numeric[i] ? v.padStart(width[i]) : v.padEnd(width[i]))
      .join("  ").trimEnd();
  return [line(columns), ...cells.map(line)].join("\n");
}

/** The rows as CSV (RFC 4180: fields with a comma, quote or line break quoted), full precision; a spread is four columns, `<metric>_mean`, `_std`, `_min`, `_max`. */
export function formatCsv(rows: Row[]): string {
  const spreads = new Set(
    columnsOf(rows).filter((k) =>
      rows.some((r) => r[k] !== null && typeof r[k] === "object")
    ),
  );
  rows = rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).flatMap(([k, v]) =>
        spreads.has(k)
          ? (["mean", "std", "min", "max"] as const).map((f) => [
            `${k}_${f}`,
            v !== null && typeof v === "object" ? v[f] : null,
          ])
          : [[k, v]]
      ),
    )
  );
  const columns = columnsOf(rows);
  const field = (v: Row[string]) => {
    const s = v === null ? "" : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [columns, ...rows.map((r) => columns.map((k) => r[k]))]
    .map((values) => values.map(field).join(",")).join("\n") + "\n";
}

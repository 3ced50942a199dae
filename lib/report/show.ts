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
import type { Results } from "./report.ts";
import { blowUpEpoch } from "./aggregate.ts";

/** One cell as a row: column → value (null: none). */
export type Row = Record<string, string | number | null>;

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

/** Every cell of `results` as a row, in the report's order. */
export function cellRows(results: Results): Row[] {
  return results.cells.map((c) => ({
    ...Object.fromEntries(
      results.varying_keys.map((k) => [k, c.point[k] as string | number]),
    ),
    ...cellSummary(c),
  }));
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
  return [...rows].sort((a, b) => {
    const x = a[key], y = b[key];
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    return sign *
      (typeof x === "number" && typeof y === "number"
        ? x - y
        : String(x).localeCompare(String(y)));
  });
}

/** A value as text: perplexities to 4 decimals (a blow-up in exponent form), throughput whole, empty for none. */
const text = (key: string, v: Row[string]) =>
  v === null
    ? ""
    : typeof v !== "number"
    ? v
    : key === "tokens_per_sec"
    ? String(Math.round(v))
    : Math.abs(v) >= 1e6
    ? v.toExponential(3)
    : Number.isInteger(v)
    ? String(v)
    : v.toFixed(4);

/** The rows as an aligned plain-text table, numbers right-aligned. */
export function formatTable(rows: Row[]): string {
  const columns = columnsOf(rows);
  const cells = rows.map((r) => columns.map((k) => text(k, r[k])));
  const width = columns.map((k, i) =>
    Math.max(k.length, ...cells.map((c) => c[i].length))
  );
  const numeric = columns.map((k) =>
    rows.every((r) => r[k] === null || typeof r[k] === "number")
  );
  const line = (values: string[]) =>
    values.map((v, i) => numeric[i] ? v.padStart(width[i]) : v.padEnd(width[i]))
      .join("  ").trimEnd();
  return [line(columns), ...cells.map(line)].join("\n");
}

/** The rows as CSV (RFC 4180: fields with a comma, quote or line break quoted), full precision. */
export function formatCsv(rows: Row[]): string {
  const columns = columnsOf(rows);
  const field = (v: Row[string]) => {
    const s = v === null ? "" : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [columns, ...rows.map((r) => columns.map((k) => r[k]))]
    .map((values) => values.map(field).join(",")).join("\n") + "\n";
}

/**
 * How a cell is written in `cells/<id>.json` (`rnnlab.cell/2`): each curve
 * once, as one column per quantity, and a cell another experiment trained
 * as a reference to its stored run instead of a copy. In memory a cell is
 * always the whole {@linkcode CellRecord}; only the file is compact.
 *
 * @example
 * ```ts
 * const file = encodeCell(record); // columns instead of one object per epoch
 * decodeCell(file); // the same record again
 * ```
 *
 * @module
 */
import type { EpochLog } from "../train/result.ts";
import { CELL_SCHEMA, type CellRecord } from "./cell.ts";

/** Schema tag of cells written before curves were stored once (still read). */
export const CELL_SCHEMA_V1 = "rnnlab.cell/1";

/** Per-epoch quantities, one value per trained epoch (epoch i + 1 at index i). */
export interface Curves {
  train_ppl: number[];
  tokens_per_sec: number[];
  seconds: number[];
  /** Null where a norm overflowed to Infinity (JSON has no Infinity). */
  grad_norm_mean: (number | null)[];
  grad_norm_max: (number | null)[];
  clipped_fraction: number[];
}

/** One evaluation: validation perplexity (null: the text was too short) and the greedy sample. */
export interface Evaluation {
  epoch: number;
  val_ppl: number | null;
  sample?: string;
}

/** A trained cell as stored: the record without its per-epoch objects and repeated curves. */
export type StoredCell =
  & Omit<CellRecord, "train_ppl" | "val_ppl" | "epochs">
  & { curves: Curves; evals: Evaluation[] };

/**
 * A cell whose run another results directory beside this one stores: the
 * same id, hence the same config, corpus and engine. `ref.dir` names that
 * directory (a sibling), `ref.sha1` the canonical JSON of the file it
 * referred to, so a source rerun since is noticed, never taken for this run.
 */
export interface CellRef {
  schema: typeof CELL_SCHEMA;
  id: string;
  experiment: string;
  point: CellRecord["point"];
  overrides: CellRecord["overrides"];
  /** The experiment that trained the run. */
  reused_from: string;
  ref: { dir: string; sha1: string };
}

/** What a cell file holds. */
export type CellFile = StoredCell | CellRef;

/** Whether a cell file is a reference to another directory's run. */
export const isRef = (file: CellFile): file is CellRef => "ref" in file;

const COLUMNS = [
  "train_ppl",
  "tokens_per_sec",
  "seconds",
  "grad_norm_mean",
  "grad_norm_max",
  "clipped_fraction",
] as const;

/** The record as a file: per-epoch objects become columns; validation values and samples, a list of evaluations. */
export function encodeCell(record: CellRecord): StoredCell {
  const { train_ppl: _t, val_ppl: _v, epochs, ...rest } = record;
  const curves = Object.fromEntries(
    COLUMNS.map((k) => [k, epochs.map((e) => e[k])]),
  ) as unknown as Curves;
  const evals = epochs.filter((e) => e.val_ppl !== undefined).map((e) => ({
    epoch: e.epoch,
    val_ppl: e.val_ppl ?? null,
    ...(e.sample === undefined ? {} : { sample: e.sample }),
  }));
  return { ...rest, schema: CELL_SCHEMA, curves, evals };
}

/**
 * The record a file describes: {@linkcode encodeCell} undone. Returns why
 * not when its columns disagree in length or its evaluations fall outside
 * them.
 */
export function decodeCell(file: StoredCell): CellRecord | string {
  const { curves, evals, ...rest } = file;
  const n = curves.train_ppl.length;
  for (const k of COLUMNS) {
    if (curves[k].length !== n) {
      return `curves.${k}: ${curves[k].length} values, train_ppl has ${n}`;
    }
  }
  const at = new Map(evals.map((e) => [e.epoch, e]));
  if (at.size !== evals.length || evals.some((e) => e.epoch > n)) {
    return `evals: epochs repeat or lie beyond the ${n} trained epochs`;
  }
  const epochs = curves.train_ppl.map((train_ppl, i): EpochLog => {
    const e = at.get(i + 1);
    return {
      epoch: i + 1,
      train_ppl,
      tokens_per_sec: curves.tokens_per_sec[i],
      seconds: curves.seconds[i],
      grad_norm_mean: curves.grad_norm_mean[i] as number,
      grad_norm_max: curves.grad_norm_max[i] as number,
      clipped_fraction: curves.clipped_fraction[i],
      ...(e ? { val_ppl: e.val_ppl } : {}),
      ...(e?.sample === undefined ? {} : { sample: e.sample }),
    };
  });
  const val_ppl = evals.filter((e) => e.val_ppl !== null).map((e) => ({
    epoch: e.epoch,
    ppl: e.val_ppl as number,
  }));
  return {
    ...rest,
    schema: CELL_SCHEMA,
    train_ppl: [...curves.train_ppl],
    val_ppl,
    epochs,
  } as CellRecord;
}

/** A reference to `source`'s run, as this experiment's cell (see {@linkcode CellRef}). */
export function cellRef(
  copy: Pick<CellRecord, "id" | "experiment" | "point" | "overrides">,
  reused_from: string,
  ref: CellRef["ref"],
): CellRef {
  return {
    schema: CELL_SCHEMA,
    id: copy.id,
    experiment: copy.experiment,
    point: copy.point,
    overrides: copy.overrides,
    reused_from,
    ref,
  };
}

/** The referenced run as this experiment's cell: its numbers, this experiment's name, point and overrides. */
export function resolveRef(ref: CellRef, source: CellRecord): CellRecord {
  return {
    ...source,
    experiment: ref.experiment,
    point: ref.point,
    overrides: ref.overrides,
    reused_from: ref.reused_from,
  };
}

/**
 * JSON with two-space indents, except that an array of numbers, strings or
 * nulls stays on one line: a 500-epoch curve is one line, not 500.
 */
export function compactJson(value: unknown): string {
  const scalar = (v: unknown) => v === null || typeof v !== "object";
  const write = (v: unknown, indent: string): string => {
    if (scalar(v)) return JSON.stringify(v) ?? "null";
    const inner = indent + "  ";
    if (Array.isArray(v)) {
      if (v.length === 0) return "[]";
      if (v.every(scalar)) return `[${v.map((x) => write(x, "")).join(", ")}]`;
      return `[\n${
        v.map((x) => inner + write(x, inner)).join(",\n")
      }\n${indent}]`;
    }
    const entries = Object.entries(v as object).filter(([, x]) =>
      x !== undefined
    );
    if (entries.length === 0) return "{}";
    return `{\n${
      entries.map(([k, x]) =>
        `${inner}${JSON.stringify(k)}: ${write(x, inner)}`
      )
        .join(",\n")
    }\n${indent}}`;
  };
  return write(value, "") + "\n";
}

/**
 * What a stored cell must be before a table, a comparison or the runner
 * believes it: JSON of the cell schema, numbers where numbers belong (a
 * perplexity is a finite number > 0), its id equal to its file name and to
 * the hash of its own config, corpus and engine, and a status its curves
 * agree with. A file that fails is not a result: the runner sets it aside
 * and trains the cell again; `report` and `compare` name it and exit 1.
 *
 * @example
 * ```ts
 * await checkCell(JSON.parse(text), "36fe10a4dbedc37c"); // null, or why not
 * ```
 *
 * @module
 */
import { z } from "zod";
import { canonicalJson, cellId } from "./grid.ts";
import { resolveConfig } from "../config/config.ts";
import { CELL_SCHEMA, type CellRecord } from "./cell.ts";
import {
  CELL_SCHEMA_V1,
  type CellRef,
  decodeCell,
  type StoredCell,
} from "./format.ts";

const ppl = z.number().finite().positive();
const count = z.number().int().positive();
const nonnegative = z.number().finite().nonnegative();
/** A gradient norm: JSON writes an overflowed one as null. */
const norm = nonnegative.nullable();

/** Fields every cell file has, full or reference. */
const header = {
  id: z.string().regex(/^[0-9a-f]{16}$/, "expected 16 hex digits"),
  experiment: z.string(),
  point: z.record(z.string(), z.unknown()),
  overrides: z.record(z.string(), z.unknown()),
};

/** What a run measured, besides its curves. */
const run = {
  ...header,
  engine: z.string().min(1),
  config: z.record(z.string(), z.unknown()),
  status: z.enum(["done", "diverged", "failed"]),
  diverged_epoch: count.nullable(),
  error: z.string().nullable(),
  tokens_per_sec: nonnegative,
  final: z.object({
    train_ppl: ppl.nullable(),
    val_ppl: ppl.nullable(),
    best_val_ppl: ppl.nullable(),
  }).strict(),
  grad_norm: z.object({
    mean: norm,
    max: norm,
    clipped_fraction: z.number().min(0).max(1),
  }).strict(),
  samples: z.array(
    z.object({
      prefix: z.string(),
      decoding: z.enum(["greedy", "sample"]),
      alpha: z.number().positive().finite().optional(),
      text: z.string(),
      mean_log_prob: z.number().finite().optional(),
    }).strict(),
  ),
  onehot_as_embedding: nonnegative.optional(),
  wall_seconds: nonnegative,
  corpus: z.object({ name: z.string(), sha1: z.string() }).passthrough(),
  env: z.object({ backend: z.string() }).passthrough().nullable(),
  reused_from: z.string().optional(),
};

/** A cell as `rnnlab.cell/1` stored it: the whole record, curves repeated. */
const CellShapeV1 = z.object({
  schema: z.literal(CELL_SCHEMA_V1),
  ...run,
  train_ppl: z.array(ppl),
  val_ppl: z.array(z.object({ epoch: count, ppl })),
  epochs: z.array(
    z.object({
      epoch: count,
      train_ppl: ppl,
      val_ppl: ppl.nullable().optional(),
      tokens_per_sec: nonnegative,
      seconds: nonnegative,
      grad_norm_mean: norm,
      grad_norm_max: norm,
      clipped_fraction: z.number().min(0).max(1),
      sample: z.string().optional(),
    }).strict(),
  ),
}).strict();

/** A trained cell as `rnnlab.cell/2` stores it: each curve once. */
const CellShape = z.object({
  schema: z.literal(CELL_SCHEMA),
  ...run,
  curves: z.object({
    train_ppl: z.array(ppl),
    tokens_per_sec: z.array(nonnegative),
    seconds: z.array(nonnegative),
    grad_norm_mean: z.array(norm),
    grad_norm_max: z.array(norm),
    clipped_fraction: z.array(z.number().min(0).max(1)),
  }).strict(),
  evals: z.array(
    z.object({
      epoch: count,
      val_ppl: ppl.nullable(),
      sample: z.string().optional(),
    }).strict(),
  ),
}).strict();

/** A reference to the run another results directory stores. */
const RefShape = z.object({
  schema: z.literal(CELL_SCHEMA),
  ...header,
  reused_from: z.string().min(1),
  ref: z.object({
    dir: z.string().regex(/^[^/\\]+$/, "expected a directory name")
      .refine((d) => d !== "." && d !== "..", "expected a directory name"),
    sha1: z.string().regex(/^[0-9a-f]{40}$/, "expected 40 hex digits"),
  }).strict(),
}).strict();

/** The first problem of `value` against `shape`, as `key: problem (got value)`. */
function shapeProblem(shape: z.ZodType, value: unknown): string | null {
  const parsed = shape.safeParse(value);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  let got: unknown = value;
  for (const k of issue.path) {
    got = (got as Record<PropertyKey, unknown>)?.[k as PropertyKey];
  }
  const path = issue.path.join(".");
  return `${path || "the file"}: ${issue.message}${
    got === undefined || typeof got === "object"
      ? ""
      : ` (got ${JSON.stringify(got)})`
  }`;
}

/** Why the curves of a finished or diverged cell disagree with its status, or null. */
function consistencyProblem(c: CellRecord): string | null {
  const n = c.train_ppl.length;
  if (c.status === "done" && n !== c.config.num_epochs) {
    return `status done but ${n} of ${c.config.num_epochs} epochs in train_ppl`;
  }
  if (c.status === "diverged" && c.diverged_epoch !== n + 1) {
    return `diverged_epoch ${c.diverged_epoch} after ${n} epochs in train_ppl`;
  }
  if (c.status === "done" && c.diverged_epoch !== null) {
    return "status done with a diverged_epoch";
  }
  if (
    c.epochs.length !== n ||
    c.epochs.some((e, i) => e.epoch !== i + 1 || e.train_ppl !== c.train_ppl[i])
  ) {
    return "epochs and train_ppl disagree";
  }
  const val = c.val_ppl;
  if (
    val.some((v, i) => v.epoch > n || (i > 0 && v.epoch <= val[i - 1].epoch))
  ) {
    return "val_ppl epochs are not increasing within the trained epochs";
  }
  const evaluated = c.epochs.filter((e) => e.val_ppl != null);
  if (
    evaluated.length !== val.length ||
    evaluated.some((e, i) =>
      e.epoch !== val[i].epoch || e.val_ppl !== val[i].ppl
    )
  ) {
    return "epochs and val_ppl disagree";
  }
  const want = {
    train_ppl: c.train_ppl.at(-1) ?? null,
    val_ppl: val.at(-1)?.ppl ?? null,
    best_val_ppl: val.length ? Math.min(...val.map((v) => v.ppl)) : null,
  };
  for (const k of ["train_ppl", "val_ppl", "best_val_ppl"] as const) {
    if (c.final[k] !== want[k]) {
      return `final.${k} ${c.final[k]} is not the curves' ${want[k]}`;
    }
  }
  return null;
}

/**
 * Why `record`, read from `cells/<fileId>.json`, is not a stored cell, or
 * null when it is one: its id must be the file's name and the hash of its
 * complete config, corpus and engine, and its curves must agree with its
 * status and with each other.
 */
export async function checkCell(
  record: CellRecord,
  fileId: string,
): Promise<string | null> {
  const c = record;
  if (c.id !== fileId) return `id ${c.id} is not the file's name`;
  let config;
  try {
    config = resolveConfig({ ...c.config }, "config");
  } catch (e) {
    return (e as Error).message;
  }
  if (canonicalJson(config) !== canonicalJson(c.config)) {
    return "config: not a complete config (keys missing)";
  }
  // A failed cell has no corpus to hash; it is retried whatever it holds.
  if (c.status === "failed") return null;
  const id = await cellId(config, c.corpus.sha1, c.engine);
  if (id !== c.id) {
    return `id ${c.id} is not the hash of its config, corpus and engine (${id})`;
  }
  return consistencyProblem(c);
}

/** What a cell file turned out to be. */
export type Checked =
  | { record: CellRecord }
  | { ref: CellRef }
  | { reason: string };

/**
 * Checks a parsed cell file, `cells/<fileId>.json`: a trained cell
 * (`rnnlab.cell/2`, or `rnnlab.cell/1` as stored before, migrated in memory)
 * comes back as its record once {@linkcode checkCell} accepts it; a
 * reference comes back as such, for the store to resolve and check.
 *
 * @example
 * ```ts
 * const checked = await checkCellFile(JSON.parse(text), "36fe10a4dbedc37c");
 * if ("reason" in checked) console.error(checked.reason);
 * ```
 */
export async function checkCellFile(
  value: unknown,
  fileId: string,
): Promise<Checked> {
  const schema = (value as { schema?: unknown } | null)?.schema;
  let record: CellRecord;
  if (schema === CELL_SCHEMA_V1) {
    const shape = shapeProblem(CellShapeV1, value);
    if (shape) return { reason: shape };
    record = { ...(value as CellRecord), schema: CELL_SCHEMA };
  } else if (
    value && typeof value === "object" && "ref" in value
  ) {
    const shape = shapeProblem(RefShape, value);
    if (shape) return { reason: shape };
    const ref = value as CellRef;
    if (ref.id !== fileId) {
      return { reason: `id ${ref.id} is not the file's name` };
    }
    return { ref };
  } else {
    const shape = shapeProblem(CellShape, value);
    if (shape) return { reason: shape };
    const decoded = decodeCell(value as StoredCell);
    if (typeof decoded === "string") return { reason: decoded };
    record = decoded;
  }
  const reason = await checkCell(record, fileId);
  return reason ? { reason } : { record };
}

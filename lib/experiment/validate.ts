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
import { resolveConfig } from "../train/config.ts";
import { CELL_SCHEMA, type CellRecord } from "./cell.ts";

const ppl = z.number().finite().positive();
const count = z.number().int().positive();
const nonnegative = z.number().finite().nonnegative();
/** A gradient norm: JSON writes an overflowed one as null. */
const norm = nonnegative.nullable();

/** The shape of a stored cell, `rnnlab.cell/1`. */
const CellShape = z.object({
  schema: z.literal(CELL_SCHEMA),
  id: z.string().regex(/^[0-9a-f]{16}$/, "expected 16 hex digits"),
  experiment: z.string(),
  engine: z.string().min(1),
  point: z.record(z.string(), z.unknown()),
  config: z.record(z.string(), z.unknown()),
  overrides: z.record(z.string(), z.unknown()),
  status: z.enum(["done", "diverged", "failed"]),
  diverged_epoch: count.nullable(),
  error: z.string().nullable(),
  train_ppl: z.array(ppl),
  val_ppl: z.array(z.object({ epoch: count, ppl })),
  tokens_per_sec: nonnegative,
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
}).strict();

/** The first problem with a value that should be a cell, as `key: problem (got value)`. */
function shapeProblem(value: unknown): string | null {
  const parsed = CellShape.safeParse(value);
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
 * Why `value`, read from `cells/<fileId>.json`, is not a stored cell, or
 * null when it is one.
 */
export async function checkCell(
  value: unknown,
  fileId: string,
): Promise<string | null> {
  const shape = shapeProblem(value);
  if (shape) return shape;
  const c = value as CellRecord;
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

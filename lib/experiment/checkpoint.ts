/**
 * Checkpoints: where a cell in training stands (weights, data order, epoch
 * and curves so far), kept in `checkpoints/<trajectory>.json` beside the
 * results every so often, so that a killed run goes on from there and not
 * from epoch 0. A checkpoint is never a result: nothing reads it but the
 * worker that resumes its cell, it is never committed, and it is removed
 * once the cell is stored (a search keeps its rungs' last ones, to go on
 * from). It is checked like a cell when read: a damaged one, or one of
 * another engine version, config, corpus or adapter, is refused by name.
 *
 * A checkpoint is named by its trajectory: the cell's id with `num_epochs`
 * left out. Training does not depend on how many epochs follow, so a run
 * of 100 epochs goes on from a 50-epoch cell's last state exactly as from
 * its own state at epoch 50.
 *
 * @example
 * ```ts
 * await writeCheckpoint(dir, { config, corpus_sha1, computed_on, state, final: false });
 * const found = await readCheckpoint(dir, { config, corpus_sha1, computed_on, vocab_size: 28 });
 * if (found && "state" in found) run.restore(found.state);
 * ```
 *
 * @module
 */
import { z } from "zod";
import { writeTextAtomic } from "../fsutil.ts";
import type { TrainConfig } from "../config/config.ts";
import { paramShapes, type ParamValues } from "../model/params.ts";
import { engineVersion } from "../train/result.ts";
import { rnnSpec, type RunState } from "../train/run.ts";
import { canonicalJson, cellId } from "./grid.ts";
import { contentSha1 } from "./store.ts";

/** Default least time between two checkpoints of a cell, in seconds: at most about a minute of work is lost. */
export const CHECKPOINT_SECONDS = 60;

/** Schema tag of a checkpoint file. */
export const CHECKPOINT_SCHEMA = "rnnlab.checkpoint/1";

/** What a checkpoint belongs to: a cell's config, its corpus, the adapter it computes on. */
export interface CheckpointOf {
  /** The cell's resolved config. */
  config: TrainConfig;
  /** The SHA-1 of the corpus it trains on. */
  corpus_sha1: string;
  /** Where it computes, as {@linkcode computedOn} says it (other adapters round otherwise). */
  computed_on: string;
}

/** The id of a cell's trajectory: its id with `num_epochs` left out. */
export const trajectoryId = (
  config: TrainConfig,
  corpus_sha1: string,
): Promise<string> =>
  cellId({ ...config, num_epochs: 0 }, corpus_sha1, engineVersion(config));

/** Where the checkpoint of a trajectory is kept. */
export const checkpointPath = (dir: string, trajectory: string): string =>
  `${dir}/checkpoints/${trajectory}.json`;

// JSON has no Infinity or NaN (a gradient norm can overflow): such a
// number is written as {"$": "Infinity"}, and read back as the number.
const NON_FINITE = "$";
const replacer = (_k: string, v: unknown) =>
  typeof v === "number" && !Number.isFinite(v)
    ? { [NON_FINITE]: String(v) }
    : v;
const reviver = (_k: string, v: unknown) =>
  v && typeof v === "object" && !Array.isArray(v) &&
    Object.keys(v).length === 1 && NON_FINITE in v
    ? Number((v as Record<string, string>)[NON_FINITE])
    : v;

/** Float32 values as base64 of their little-endian bytes (exact, and a third of JSON numbers' size). */
function encodeValues(values: Float32Array): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function decodeValues(base64: string): Float32Array {
  const text = atob(base64);
  const view = new DataView(new ArrayBuffer(text.length));
  for (let i = 0; i < text.length; i++) view.setUint8(i, text.charCodeAt(i));
  return Float32Array.from(
    { length: text.length / 4 },
    (_, i) => view.getFloat32(i * 4, true),
  );
}

/** Any number, Infinity and NaN too (zod's `number` takes finite ones only). */
const anyNumber = z.custom<number>(
  (v) => typeof v === "number",
  "expected a number",
);

const Header = z.object({
  schema: z.literal(CHECKPOINT_SCHEMA),
  trajectory: z.string(),
  engine: z.string(),
  corpus_sha1: z.string(),
  computed_on: z.string(),
  config: z.record(z.string(), z.unknown()),
  epoch: z.number().int().nonnegative(),
  final: z.boolean(),
  state: z.object({
    epoch: z.number().int().nonnegative(),
    data_rng: z.number().int().nonnegative(),
    result: z.object({
      train_ppl: z.array(z.number()),
      val_ppl: z.array(z.object({ epoch: z.number(), ppl: z.number() })),
      epochs: z.array(
        z.object({
          epoch: z.number().int(),
          train_ppl: z.number(),
          val_ppl: z.number().nullable().optional(),
          tokens_per_sec: z.number(),
          seconds: z.number(),
          grad_norm_mean: anyNumber,
          grad_norm_max: anyNumber,
          clipped_fraction: z.number(),
          sample: z.string().optional(),
        }).strict(),
      ),
    }),
    norms: z.array(anyNumber),
    tokens: z.number(),
    seconds: z.number(),
    wall_seconds: z.number(),
    params: z.record(
      z.string(),
      z.object({ shape: z.array(z.number().int()), values: z.string() }),
    ),
  }),
  sha1: z.string(),
}).strict();

/**
 * Keeps `state`, a run of `of` after `state.epoch` epochs, as its
 * trajectory's checkpoint (atomically: a reader never sees half of one).
 * `final`: taken after the cell's last epoch.
 */
export async function writeCheckpoint(
  dir: string,
  of: CheckpointOf & { state: RunState; final: boolean },
): Promise<void> {
  const trajectory = await trajectoryId(of.config, of.corpus_sha1);
  const params = Object.fromEntries(
    Object.entries(of.state.params).map((
      [name, p],
    ) => [name, { shape: p.shape, values: encodeValues(p.values) }]),
  );
  const body = JSON.parse(JSON.stringify(
    {
      schema: CHECKPOINT_SCHEMA,
      trajectory,
      engine: engineVersion(of.config),
      corpus_sha1: of.corpus_sha1,
      computed_on: of.computed_on,
      config: of.config,
      epoch: of.state.epoch,
      final: of.final,
      state: { ...of.state, params },
    },
    replacer,
  ));
  const sha1 = await contentSha1(body);
  await Deno.mkdir(`${dir}/checkpoints`, { recursive: true });
  await writeTextAtomic(
    checkpointPath(dir, trajectory),
    JSON.stringify({ ...body, sha1 }) + "\n",
  );
}

/** A checkpoint found for a cell: the state it goes on from, or why the file is refused. */
export type Found =
  | { path: string; state: RunState }
  | { path: string; refused: string };

/**
 * The checkpoint a cell of `of` (its vocabulary `vocab_size` tokens) goes
 * on from: its trajectory's, when it is whole and of the same engine
 * version, config but for `num_epochs`, corpus and adapter, and at an
 * epoch the cell reaches (a final state past an evaluation the longer
 * cell does not make is not). Undefined when there is none to go on from;
 * `refused` says why a file is not one.
 */
export async function readCheckpoint(
  dir: string,
  of: CheckpointOf & { vocab_size: number },
): Promise<Found | undefined> {
  const path = checkpointPath(
    dir,
    await trajectoryId(of.config, of.corpus_sha1),
  );
  let text;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    return { path, refused: `cannot be read (${(e as Error).message})` };
  }
  const refused = (why: string) => ({ path, refused: why });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return refused(`damaged: not JSON (${(e as Error).message})`);
  }
  const { sha1, ...written } = (raw ?? {}) as Record<string, unknown>;
  const parsed = Header.safeParse(JSON.parse(text, reviver));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return refused(
      `not a checkpoint: ${issue.path.join(".") || "(top)"}: ${issue.message}`,
    );
  }
  if (await contentSha1(written) !== sha1) {
    return refused("damaged: its content does not match its SHA-1");
  }
  const body = parsed.data;
  const engine = engineVersion(of.config);
  if (body.engine !== engine) {
    return refused(`of engine ${body.engine}, not ${engine}`);
  }
  if (body.corpus_sha1 !== of.corpus_sha1) {
    return refused(
      `of another corpus (SHA-1 ${body.corpus_sha1}, not ${of.corpus_sha1})`,
    );
  }
  const theirs: Record<string, unknown> = { ...body.config, num_epochs: 0 };
  const ours = { ...of.config, num_epochs: 0 } as Record<string, unknown>;
  if (canonicalJson(theirs) !== canonicalJson(ours)) {
    const keys = [...new Set([...Object.keys(theirs), ...Object.keys(ours)])]
      .filter((k) => JSON.stringify(theirs[k]) !== JSON.stringify(ours[k]));
    return refused(
      `of another config (${
        keys.map((k) =>
          `${k} ${JSON.stringify(theirs[k])}, not ${JSON.stringify(ours[k])}`
        ).join("; ")
      })`,
    );
  }
  if (body.computed_on !== of.computed_on) {
    return refused(
      `computed on ${body.computed_on}; this cell computes on ${of.computed_on}`,
    );
  }
  const state = body.state;
  const shapes = paramShapes(rnnSpec(of.config, of.vocab_size));
  const params: ParamValues = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const p = state.params[name];
    const values = p && decodeValues(p.values);
    const size = shape.reduce((a, b) => a * b, 1);
    if (
      !p || String(p.shape) !== String(shape) || values.length !== size
    ) {
      return refused(`damaged: ${name} is not ${shape.join("×")}`);
    }
    params[name] = { shape, values };
  }
  const { epoch } = body;
  if (epoch !== state.epoch || state.result.train_ppl.length !== epoch) {
    return refused(`damaged: its curves do not end at epoch ${epoch}`);
  }
  const { num_epochs, eval_every } = of.config;
  const evaluatedOnlyAsLast = body.final && epoch % eval_every !== 0;
  if (epoch > num_epochs || (epoch < num_epochs && evaluatedOnlyAsLast)) {
    return undefined;
  }
  return { path, state: { ...state, params } };
}

/** Removes a trajectory's checkpoint (its cell is stored); none is no error. */
export async function removeCheckpoint(
  dir: string,
  config: TrainConfig,
  corpus_sha1: string,
): Promise<void> {
  await Deno.remove(
    checkpointPath(dir, await trajectoryId(config, corpus_sha1)),
  ).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}

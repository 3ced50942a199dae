/**
 * The run configuration: d2l's hyperparameter names as plain data, their
 * defaults (the chapter's), and validation that names the key and value at
 * fault.
 *
 * @module
 */
import { z } from "zod";
import { UserError } from "../errors.ts";
import { type BackendName, BACKENDS } from "../model/adapter.ts";
import {
  AUTO_ENGINES,
  type Engine,
  type EngineChoice,
  ENGINES,
} from "../engine/pick.ts";

const positiveInt = z.number().int().positive();

export { AUTO_ENGINES, type Engine, type EngineChoice, ENGINES };

/** The backend beside an engine named without one. */
const BACKEND_OF: Record<Engine, BackendName> = {
  fused: "webgpu",
  blas: "cpu",
  reference: "webgpu",
};

/** Schema of a run's configuration; every key can be given as a `deno task train` flag. */
export const TrainConfigSchema = z.object({
  /** Hidden units H. */
  num_hiddens: positiveInt.default(512),
  /** Time steps T per subsequence (truncated BPTT length). */
  num_steps: positiveInt.default(35),
  batch_size: positiveInt.default(32),
  /** SGD learning rate. */
  lr: z.number().positive().finite().default(1),
  num_epochs: positiveInt.default(500),
  /** Training tokens (the first `max_tokens` of the corpus); 0 keeps all. */
  max_tokens: z.number().int().nonnegative().default(10_000),
  /** Held-out tokens after the training slice, for validation perplexity. */
  val_tokens: z.number().int().nonnegative().default(5_000),
  /** Gradient clipping threshold θ on the global norm, or "off". */
  clip: z.union([z.number().positive().finite(), z.literal("off")], {
    error: 'expected a number > 0 or "off"',
  }).default(1),
  activation: z.enum(["tanh", "relu"]).default("tanh"),
  sampling: z.enum(["sequential", "random"]).default("sequential"),
  /** Detach the state between minibatches (sequential sampling). */
  detach: z.boolean().default(true),
  input: z.enum(["one_hot", "embedding"]).default("one_hot"),
  /** Embedding width for `input: "embedding"`. */
  embed_size: positiveInt.default(32),
  /** `timemachine`, `war-of-the-worlds`, or a path to a UTF-8 text file. */
  corpus: z.string().min(1).default("timemachine"),
  /**
   * Letters the preprocessing keeps: `ascii`, the book's A–Z (the default),
   * or `unicode`, every letter of any script. Left out of a resolved config
   * when `ascii`, so the book's cells keep their ids.
   */
  letters: z.enum(["ascii", "unicode"]).optional(),
  /** Seed of every random choice: init, iterators, sampling. */
  seed: z.number().int().nonnegative().max(2 ** 32 - 1).default(0),
  /**
   * The tfjs backend: the reference engine trains on it, the others run
   * prediction on it. Default: the engine's (webgpu for fused and
   * reference, cpu for blas).
   */
  backend: z.enum(BACKENDS).optional(),
  /**
   * `fused` (explicit BPTT in WGSL kernels, WebGPU only), `blas` (explicit
   * BPTT on the CPU with the system's CBLAS) or `reference` (tfjs ops and
   * autograd, any backend). Default: fused with backend webgpu, reference
   * with another backend, and with neither named the machine's fastest
   * (`pickEngine`: fused on a GPU, else blas where a CBLAS is installed).
   */
  engine: z.enum(ENGINES).optional(),
  /** Evaluate validation perplexity every this many epochs (and at the end). */
  eval_every: positiveInt.default(10),
  /** Characters generated after each prefix. */
  num_preds: z.number().int().nonnegative().default(50),
}).strict().refine((c) => c.detach || c.sampling === "sequential", {
  message:
    "false needs sampling: sequential (random sampling starts every minibatch from a fresh state)",
  path: ["detach"],
}).refine(
  (c) => c.engine !== "fused" || (c.backend ?? "webgpu") === "webgpu",
  {
    message:
      "fused runs on WebGPU only: use backend webgpu, or engine blas, or engine reference with backend wasm or cpu",
    path: ["engine"],
  },
);

/**
 * A fully resolved run configuration: d2l's keys, each as the chapter
 * names it, with the chapter's defaults ({@linkcode resolveConfig}).
 */
export interface TrainConfig {
  /** Hidden units H (default 512). */
  num_hiddens: number;
  /** Time steps T per subsequence, the truncated BPTT length (default 35). */
  num_steps: number;
  /** Subsequences per minibatch (default 32). */
  batch_size: number;
  /** SGD learning rate (default 1). */
  lr: number;
  /** Epochs (default 500). */
  num_epochs: number;
  /** Training tokens, the corpus's first; 0 keeps all (default 10,000). */
  max_tokens: number;
  /** Held-out tokens after the training slice, for validation perplexity (default 5,000). */
  val_tokens: number;
  /** Gradient clipping threshold θ on the global norm, or "off" (default 1). */
  clip: number | "off";
  /** The hidden layer's nonlinearity (default tanh). */
  activation: "tanh" | "relu";
  /** Sequential partitioning or random sampling of minibatches (default sequential). */
  sampling: "sequential" | "random";
  /** Detach the state between minibatches; false needs sequential sampling (default true). */
  detach: boolean;
  /** One-hot inputs (the chapter's) or a learnt embedding (default one_hot). */
  input: "one_hot" | "embedding";
  /** Embedding width for `input: "embedding"` (default 32). */
  embed_size: number;
  /** `timemachine`, `war-of-the-worlds`, or a path to a UTF-8 text file. */
  corpus: string;
  /** `unicode` keeps every script's letters; absent: the book's A–Z. */
  letters?: "ascii" | "unicode";
  /** Seed of every random choice: initialisation, minibatch order, sampling (default 0). */
  seed: number;
  /** Evaluate validation perplexity every this many epochs, and after the last (default 10). */
  eval_every: number;
  /** Characters generated after each prefix (default 50). */
  num_preds: number;
  /** The training engine: fused, blas or reference. */
  engine: Engine;
  /** The tfjs backend beside it: webgpu, wasm or cpu. */
  backend: BackendName;
}

// The schema's output is a config: the compiler checks that they agree.
const _agrees = (
  c: z.infer<typeof TrainConfigSchema>,
): Omit<TrainConfig, "engine" | "backend"> => c;

/** The keys of {@linkcode TrainConfig}, in schema order. */
export const CONFIG_KEYS = Object.keys(
  TrainConfigSchema.shape,
) as (keyof TrainConfig)[];

/** Prefixes whose continuations every run reports, as in `train_ch8`. */
export const PREFIXES = ["time traveller", "traveller"];

/** Turns zod issues into one message: `where: key: problem (got value)`. */
export function formatIssues(
  where: string,
  error: z.ZodError,
  input: unknown,
): string {
  return error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") {
      return `${where}: unknown key ${
        issue.keys.map((k) => JSON.stringify(k)).join(", ")
      } (known keys: ${CONFIG_KEYS.join(", ")})`;
    }
    const path = issue.path.join(".");
    let value: unknown = input;
    for (const k of issue.path) {
      value = (value as Record<PropertyKey, unknown>)?.[k as PropertyKey];
    }
    const got = value === undefined ? "" : ` (got ${JSON.stringify(value)})`;
    return `${where}: ${path ? `${path}: ` : ""}${issue.message}${got}`;
  }).join("; ");
}

/**
 * Validates a partial config and fills in the chapter's defaults.
 * `where` names the source (a file or "flags") in the error. The engine
 * and backend come from the partial when it names either (the other
 * follows from it), else from `machine` (what this machine trains fastest
 * with, `pickEngine`), else the book's: fused on WebGPU.
 *
 * @example
 * ```ts
 * resolveConfig({ num_hiddens: 32 }).lr; // 1
 * resolveConfig({ engine: "blas" }).backend; // "cpu"
 * resolveConfig({ lr: -1 }); // throws UserError "config: lr: ... (got -1)"
 * ```
 */
export function resolveConfig(
  partial: Record<string, unknown>,
  where = "config",
  machine: EngineChoice = AUTO_ENGINES[0],
): TrainConfig {
  const parsed = TrainConfigSchema.safeParse(partial);
  if (!parsed.success) {
    throw new UserError(formatIssues(where, parsed.error, partial));
  }
  const { engine, backend, letters, ...rest } = parsed.data;
  const choice: EngineChoice = engine
    ? { engine, backend: backend ?? BACKEND_OF[engine] }
    : backend
    ? { engine: backend === "webgpu" ? "fused" : "reference", backend }
    : { engine: machine.engine, backend: machine.backend };
  return {
    ...rest,
    ...(letters === "unicode" ? { letters } : {}),
    ...choice,
  };
}

/**
 * A key's value in a resolved config, as a table or a filter shows it: a
 * key left out because it holds the book's default (`letters: "ascii"`)
 * reads as that default.
 *
 * @example
 * ```ts
 * configValue(resolveConfig({}), "letters"); // "ascii"
 * ```
 */
export function configValue(
  config: TrainConfig,
  key: string,
): TrainConfig[keyof TrainConfig] {
  const value = config[key as keyof TrainConfig];
  return value === undefined && key === "letters" ? "ascii" : value;
}

/** Whether a partial config leaves the engine to the machine (it names neither engine nor backend). */
export const leavesEngine = (partial: Record<string, unknown>): boolean =>
  partial.engine === undefined && partial.backend === undefined;

/**
 * Parses a flag's string into the JSON value its key expects: numbers for
 * numeric keys, `true`/`false` for `detach`, `off` or a number for `clip`.
 * Values that do not parse are passed on as strings, for the schema to reject
 * with the key's name.
 */
export function parseFlagValue(key: string, raw: string): unknown {
  if (key === "detach") {
    return raw === "true" ? true : raw === "false" ? false : raw;
  }
  if (key === "clip" && raw === "off") return raw;
  const numeric = [
    "num_hiddens",
    "num_steps",
    "batch_size",
    "lr",
    "num_epochs",
    "max_tokens",
    "val_tokens",
    "clip",
    "embed_size",
    "seed",
    "eval_every",
    "num_preds",
  ];
  if (numeric.includes(key)) {
    const n = Number(raw);
    return raw.trim() !== "" && Number.isFinite(n) ? n : raw;
  }
  return raw;
}

/**
 * What makes cells trainable in one group, as a string: the same engine
 * (fused), sizes (num_hiddens, num_steps, batch_size, input and
 * embed_size, vocabulary size, or what gives it: corpus and letters),
 * and `detach` (a `detach: false` cell trains alone: its replay grows with
 * the epoch). Null for a cell that trains alone.
 *
 * @example
 * ```ts
 * groupKey(config, 28) === groupKey({ ...config, lr: 2, seed: 1 }, 28); // true
 * ```
 */
export function groupKey(
  config: TrainConfig,
  vocab_size: number | string,
): string | null {
  if (config.engine !== "fused" || !config.detach) return null;
  const { num_hiddens, num_steps, batch_size, input, embed_size } = config;
  return JSON.stringify([
    num_hiddens,
    num_steps,
    batch_size,
    input,
    input === "embedding" ? embed_size : 0,
    vocab_size,
  ]);
}

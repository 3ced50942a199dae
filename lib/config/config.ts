/**
 * A run's configuration, derived from its keys' declarations
 * (`keys.ts`): the zod schema, the {@linkcode TrainConfig} type, how a
 * flag's text is read, the flags' help, and the chapter's defaults filled
 * in with one error naming the key and value at fault. {@linkcode configOf}
 * does it for any table of keys; {@linkcode CONFIG} is rnnlab's.
 *
 * @module
 */
import { z } from "zod";
import { UserError } from "../errors.ts";
import { type Key, type Schema, shownDefault, type ValueOf } from "./key.ts";

export type { Key, Schema, ValueOf };
import { BACKENDS, ENGINES, KEYS } from "./keys.ts";

export { BACKENDS, ENGINES, KEYS };

/** A training engine. */
export type Engine = typeof ENGINES[number];
/** One of {@linkcode BACKENDS}. */
export type BackendName = typeof BACKENDS[number];

/** An engine and the tfjs backend beside it. */
export interface EngineChoice {
  /** The training engine. */
  engine: Engine;
  /** The tfjs backend beside it. */
  backend: BackendName;
}

/**
 * The engines a machine may pick when a config names neither engine nor
 * backend, in the order `pickEngine` prefers them (the book's setup first:
 * the fused engine on WebGPU).
 */
export const AUTO_ENGINES: readonly EngineChoice[] = [
  { engine: "fused", backend: "webgpu" },
  { engine: "blas", backend: "cpu" },
  { engine: "reference", backend: "wasm" },
];

/** The backend beside an engine named without one. */
const BACKEND_OF: Record<Engine, BackendName> = {
  fused: "webgpu",
  blas: "cpu",
  reference: "webgpu",
};

/** A table of keys. */
export type Keys = Record<string, Key>;

/** The resolved config of a table of keys: every key, but those left out when they hold their default. */
export type ConfigOf<T extends Keys> =
  & {
    -readonly [K in keyof T as T[K] extends { omitDefault: true } ? never : K]:
      ValueOf<T[K]>;
  }
  & {
    -readonly [K in keyof T as T[K] extends { omitDefault: true } ? K : never]?:
      ValueOf<T[K]>;
  };

/**
 * A fully resolved run configuration: d2l's keys, each as the chapter
 * names it, with the chapter's defaults ({@linkcode resolveConfig}); what
 * each means is in `lib/config/keys.ts`.
 */
export type TrainConfig = ConfigOf<typeof KEYS>;

/** Zod issues as one message, `where: key: problem (got value)`; an unknown key lists the `known` ones. */
function issuesOf(
  known: string[],
  where: string,
  error: z.ZodError,
  input: unknown,
): string {
  return error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") {
      return `${where}: unknown key ${
        issue.keys.map((k) => JSON.stringify(k)).join(", ")
      } (known keys: ${known.join(", ")})`;
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

/** The rules between keys, checked after each key's own. */
function rules<S extends z.ZodType<Record<string, unknown>>>(schema: S) {
  return schema.refine((c) => c.detach !== false || c.sampling !== "random", {
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
}

/** Everything a table of keys gives ({@linkcode configOf}). */
export interface Config<T extends Keys> {
  /** The declarations. */
  keys: T;
  /** The keys, in order. */
  names: (keyof T & string)[];
  /** A partial config's schema: each key's type and range, defaults filled, unknown keys refused, the rules between keys checked. */
  schema: Schema<Record<string, unknown>>;
  /**
   * Validates a partial config and fills in the defaults. The engine
   * and backend come from the partial when it names either (the other
   * follows from it), else from `machine`, else the book's: fused on
   * WebGPU. A key whose default is left out is left out.
   */
  resolve(
    partial: Record<string, unknown>,
    where?: string,
    machine?: EngineChoice,
  ): ConfigOf<T>;
  /** A flag's text as the value its key expects (unknown keys and text that does not parse stay text). */
  parseFlag(name: string, raw: string): unknown;
  /** A key's value in a resolved config, a key left out reading as its default. */
  value(config: ConfigOf<T>, name: string): unknown;
  /** Each key as a command-line flag: `--name <value>` and its help, with its values and default. */
  flags(): { flag: string; help: string }[];
}

/**
 * Everything a table of keys gives: its schema, names, defaults, flags
 * and how a partial config becomes a whole one.
 *
 * @example
 * ```ts
 * const toy = configOf({ ...KEYS, toy: int({ default: 3, min: 1, help: "a toy" }) });
 * toy.resolve({}).toy; // 3
 * ```
 */
export function configOf<const T extends Keys>(keys: T): Config<T> {
  const names = Object.keys(keys) as (keyof T & string)[];
  const schema = rules(
    z.object(Object.fromEntries(
      names.map((name) => {
        const k = keys[name];
        // Every key's schema is a zod schema (key.ts builds them).
        const zod = k.schema as unknown as z.ZodType;
        return [
          name,
          k.default === undefined || k.omitDefault
            ? zod.optional()
            : zod.default(k.default as never),
        ];
      }),
    )).strict(),
  );

  return {
    /** The declarations. */
    keys,
    /** The keys, in order. */
    names,
    /** A partial config's schema: each key's type and range, defaults filled, unknown keys refused. */
    schema,
    /**
     * Validates a partial config and fills in the defaults. The engine
     * and backend come from the partial when it names either (the other
     * follows from it), else from `machine`, else the book's: fused on
     * WebGPU. A key whose default is left out is left out.
     */
    resolve(
      partial: Record<string, unknown>,
      where = "config",
      machine: EngineChoice = AUTO_ENGINES[0],
    ): ConfigOf<T> {
      const parsed = schema.safeParse(partial);
      if (!parsed.success) {
        throw new UserError(
          issuesOf(names, where, parsed.error, partial),
        );
      }
      const { engine, backend, ...rest } = parsed.data as Record<
        string,
        unknown
      >;
      const choice: EngineChoice = engine
        ? {
          engine: engine as Engine,
          backend: (backend as BackendName) ?? BACKEND_OF[engine as Engine],
        }
        : backend
        ? {
          engine: backend === "webgpu" ? "fused" : "reference",
          backend: backend as BackendName,
        }
        : { engine: machine.engine, backend: machine.backend };
      // Keys left out when they hold their default come after the others.
      const entries = Object.entries(rest);
      const always = entries.filter(([name]) => !keys[name].omitDefault);
      const unless = entries.filter(([name, value]) =>
        keys[name].omitDefault && value !== undefined &&
        value !== keys[name].default
      );
      return {
        ...Object.fromEntries([...always, ...unless]),
        ...choice,
      } as unknown as ConfigOf<T>;
    },
    /** A flag's text as the value its key expects (unknown keys and text that does not parse stay text). */
    parseFlag(name: string, raw: string): unknown {
      return Object.hasOwn(keys, name) ? keys[name].parse(raw) : raw;
    },
    /** A key's value in a resolved config, a key left out reading as its default. */
    value(config: ConfigOf<T>, name: string): unknown {
      const value = (config as Record<string, unknown>)[name];
      return value === undefined && Object.hasOwn(keys, name)
        ? keys[name].default
        : value;
    },
    /** Each key as a command-line flag: `--name <values>` and its help with the default. */
    flags(): { flag: string; help: string }[] {
      return names.map((name) => {
        const k = keys[name], d = shownDefault(k);
        return {
          flag: `--${name} <value>`,
          help: `${k.help}: ${k.values}${
            d === undefined ? "" : ` (default ${d})`
          }`,
        };
      });
    },
  };
}

/** rnnlab's config, from {@linkcode KEYS}. */
export const CONFIG: Config<typeof KEYS> = configOf(KEYS);

/** The keys of {@linkcode TrainConfig}, in order. */
export const CONFIG_KEYS = CONFIG.names as (keyof TrainConfig)[];

/** Turns zod issues into one message: `where: key: problem (got value)`. */
export function formatIssues(
  where: string,
  error: z.ZodError,
  input: unknown,
): string {
  return issuesOf(CONFIG.names, where, error, input);
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
  return CONFIG.resolve(partial, where, machine);
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
  return CONFIG.value(config, key) as TrainConfig[keyof TrainConfig];
}

/**
 * Parses a flag's string into the JSON value its key expects: numbers for
 * numeric keys, `true`/`false` for `detach`, `off` or a number for `clip`.
 * Values that do not parse are passed on as strings, for the schema to reject
 * with the key's name.
 */
export function parseFlagValue(key: string, raw: string): unknown {
  return CONFIG.parseFlag(key, raw);
}

/** Whether a partial config leaves the engine to the machine (it names neither engine nor backend). */
export const leavesEngine = (partial: Record<string, unknown>): boolean =>
  partial.engine === undefined && partial.backend === undefined;

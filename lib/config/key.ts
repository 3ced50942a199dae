/**
 * How a config key is declared: its schema (type and range), its default,
 * its unit and its help, in one record. The builders below make the
 * records of `keys.ts`; everything else about a key (the zod schema of a
 * config, the TypeScript type, the command-line flags and their help, how
 * a flag's text is read, the tables' and the page's labels) is derived
 * from them.
 *
 * @example
 * ```ts
 * const lr = real({ default: 1, help: "SGD learning rate" });
 * lr.parse("0.5"); // 0.5
 * lr.schema.safeParse(-1).success; // false
 * ```
 *
 * @module
 */
import { z } from "zod";

/** What a key's schema does (it is a zod schema): it checks a value. */
export interface Schema<T> {
  /** The value, or why it is not one of the key's. */
  safeParse(
    value: unknown,
  ): { success: true; data: T } | { success: false; error: unknown };
}

/** One config key. */
export interface Key<T = unknown> {
  /** What a value must be: its type and range (no default applied). */
  readonly schema: Schema<T>;
  /**
   * The chapter's value; absent where the key has none (`engine` and
   * `backend`, which the machine or the other one decides).
   */
  readonly default?: T;
  /**
   * Left out of a resolved config when it holds its default (`letters`:
   * the key came after results were stored, whose ids must not change).
   */
  readonly omitDefault?: boolean;
  /** What it means, in a few words (flags' help, tables' and the page's titles). */
  readonly help: string;
  /** Its unit, where it has one ("units", "steps", "tokens", "epochs"). */
  readonly unit?: string;
  /** The values it takes, in words: "tanh | relu", "<n>". */
  readonly values: string;
  /** A flag's text as the value the key expects; text that does not parse stays text, for the schema to reject by name. */
  readonly parse: (raw: string) => unknown;
}

/** The value type of a key. */
export type ValueOf<K> = K extends Key<infer T> ? T : never;

/** What every builder takes. */
export interface Common<T> {
  /** The chapter's value. */
  default?: T;
  /** What it means. */
  help: string;
  /** Its unit. */
  unit?: string;
  /** Left out of a resolved config when it holds its default. */
  omitDefault?: boolean;
}

/** A key built from options `O`: what it declares, `omitDefault` kept as written (the config type reads it). */
export type Built<T, O> = Key<T> & Pick<O, Extract<keyof O, "omitDefault">>;

/** Text as a finite number, or the text itself. */
const number = (raw: string): unknown => {
  const n = Number(raw);
  return raw.trim() !== "" && Number.isFinite(n) ? n : raw;
};

/** A whole number in [min, max]. */
export function int<
  const O extends Common<number> & { min: number; max?: number },
>(o: O): Built<number, O> {
  // zod words min 1 as "> 0" and min 0 as ">= 0", as people read them.
  const whole = z.number().int();
  let schema = o.min === 1
    ? whole.positive()
    : o.min === 0
    ? whole.nonnegative()
    : whole.min(o.min);
  if (o.max !== undefined) schema = schema.max(o.max);
  return { ...o, schema, values: "<n>", parse: number };
}

/** A finite number > 0. */
export function positive<const O extends Common<number>>(
  o: O,
): Built<number, O> {
  return {
    ...o,
    schema: z.number().positive().finite(),
    values: "<x>",
    parse: number,
  };
}

/** A finite number > 0, or the word `word` (`clip: "off"`). */
export function positiveOr<
  const W extends string,
  const O extends Common<number | W>,
>(word: W, o: O): Built<number | W, O> {
  return {
    ...o,
    schema: z.union([z.number().positive().finite(), z.literal(word)], {
      error: `expected a number > 0 or "${word}"`,
    }),
    values: `<x> | ${word}`,
    parse: (raw) => raw === word ? raw : number(raw),
  };
}

/** One of `choices`. */
export function choice<
  const C extends readonly [string, ...string[]],
  const O extends Common<C[number]>,
>(choices: C, o: O): Built<C[number], O> {
  return {
    ...o,
    schema: z.enum(choices) as unknown as z.ZodType<C[number]>,
    values: choices.join(" | "),
    parse: (raw) => raw,
  };
}

/** `true` or `false`. */
export function bool<const O extends Common<boolean>>(
  o: O,
): Built<boolean, O> {
  return {
    ...o,
    schema: z.boolean(),
    values: "true | false",
    parse: (raw) => raw === "true" ? true : raw === "false" ? false : raw,
  };
}

/** Text that is not empty. */
export function text<const O extends Common<string>>(
  o: O,
): Built<string, O> {
  return {
    ...o,
    schema: z.string().min(1),
    values: "<text>",
    parse: (raw) => raw,
  };
}

/** A key's default as its help shows it. */
export const shownDefault = (k: Key): string | undefined =>
  k.default === undefined ? undefined : String(k.default);

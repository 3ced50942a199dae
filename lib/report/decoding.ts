/**
 * Exercise 3's measures of generated text: how likely the model found it
 * (mean log-probability per character, recorded when it was generated), how
 * diverse it is (distinct character 4-grams) and how much it loops (character
 * 8-grams seen earlier in the same text), per decoding over seeds.
 *
 * @module
 */
import type { CellRecord } from "../experiment/cell.ts";
import { type Stat, stat } from "./aggregate.ts";

/**
 * Share of the character n-grams of `text` that are distinct (1 = no
 * n-gram repeats); null when `text` is shorter than n.
 *
 * @example
 * ```ts
 * distinctNgrams("abcabc", 3); // 3 distinct of 4 → 0.75
 * ```
 */
export function distinctNgrams(text: string, n: number): number | null {
  const grams = ngrams(text, n);
  return grams.length ? new Set(grams).size / grams.length : null;
}

/**
 * Share of the character n-grams of `text` that already occurred earlier
 * in it: near 1 for a loop ("the the the …"), near 0 for fresh text.
 *
 * @example
 * ```ts
 * repeatedNgrams("abcabcabc", 3); // 4 of 7 seen before → 0.571…
 * ```
 */
export function repeatedNgrams(text: string, n: number): number | null {
  const grams = ngrams(text, n);
  const seen = new Set<string>();
  let repeats = 0;
  for (const g of grams) {
    if (seen.has(g)) repeats++;
    seen.add(g);
  }
  return grams.length ? repeats / grams.length : null;
}

function ngrams(text: string, n: number): string[] {
  const chars = [...text];
  return Array.from(
    { length: Math.max(0, chars.length - n + 1) },
    (_, i) => chars.slice(i, i + n).join(""),
  );
}

/** One decoding's measures over seeds (each seed's mean over prefixes). */
export interface DecodingRow {
  decoding: "greedy" | "sample";
  alpha: number | null;
  mean_log_prob: Stat | null;
  distinct_4: Stat | null;
  repeated_8: Stat | null;
  /** One continuation, of the first finished cell and the first prefix. */
  example: string;
}

const mean = (xs: (number | null | undefined)[]) => {
  const v = xs.filter((x): x is number => typeof x === "number");
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};

/**
 * The measures per decoding (greedy first, then α ascending) over the
 * finished cells, on the generated part of each text (after the prefix).
 * Empty when no cell sampled.
 */
export function decodingRows(cells: CellRecord[]): DecodingRow[] {
  const done = cells.filter((c) => c.status === "done");
  const kinds = new Map<
    string,
    { decoding: "greedy" | "sample"; alpha: number | null }
  >();
  for (const c of done) {
    for (const s of c.samples) {
      const alpha = s.decoding === "sample" ? s.alpha! : null;
      kinds.set(`${s.decoding}:${alpha}`, { decoding: s.decoding, alpha });
    }
  }
  if (![...kinds.values()].some((k) => k.decoding === "sample")) return [];
  const order = [...kinds.values()].sort((a, b) =>
    (a.alpha ?? -Infinity) - (b.alpha ?? -Infinity)
  );
  return order.map(({ decoding, alpha }) => {
    const per = done.map((c) => {
      const samples = c.samples.filter((s) =>
        s.decoding === decoding && (decoding === "greedy" || s.alpha === alpha)
      );
      const generated = samples.map((s) => s.text.slice(s.prefix.length));
      return {
        logp: mean(samples.map((s) => s.mean_log_prob)),
        d4: mean(generated.map((t) => distinctNgrams(t, 4))),
        r8: mean(generated.map((t) => repeatedNgrams(t, 8))),
        example: samples[0]?.text ?? "",
      };
    });
    return {
      decoding,
      alpha,
      mean_log_prob: stat(per.map((p) => p.logp)),
      distinct_4: stat(per.map((p) => p.d4)),
      repeated_8: stat(per.map((p) => p.r8)),
      example: per.find((p) => p.example)?.example ?? "",
    };
  });
}

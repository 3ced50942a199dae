/**
 * Cell-by-cell comparison of two result sets (committed vs rerun, webgpu
 * vs wasm) with a relative tolerance: every number and text a cell
 * records is compared (curves, evaluations, norms, clipped fractions, the
 * diverged epoch, generated texts and their scores, the corpus), its times
 * and environment aside. At tolerance 0, a difference of one unit in the
 * last place of any one of them is a difference.
 *
 * @module
 */
import type { CellRecord } from "./cell.ts";

/** One compared quantity of a cell: a value, or a curve (a list of values). */
export interface Delta {
  /** The cell. */
  id: string;
  /** Its grid point. */
  point: CellRecord["point"];
  /** Its seed. */
  seed: number;
  /** What is compared: a field of the record, `epochs.grad_norm_max`, `samples[greedy "traveller"].text`. */
  metric: string;
  /** The value in A (a curve: its length; absent: null). */
  a: number | string | boolean | null;
  /** The value in B. */
  b: number | string | boolean | null;
  /** The largest |a − b| / max(|a|, |b|) over its values, Infinity when they cannot be compared (other texts, lengths, types). */
  rel: number;
  /** Whether it agrees within the tolerance. */
  ok: boolean;
  /** A curve: `a` and `b` are its lengths and `rel` the largest difference along it, so `rel` is always shown. */
  curve?: true;
}

/** Outcome of {@linkcode compareCells}. */
export interface Comparison {
  /** Every compared quantity. */
  deltas: Delta[];
  /** Ids present on one side only. */
  onlyA: string[];
  /** Ids present in B only. */
  onlyB: string[];
  /** No delta beyond tolerance, and (unless `subset`) the same cells on both sides. */
  ok: boolean;
}

/** One recorded value. */
export type Leaf = number | string | boolean | null;

/** What a record holds that is not a result: times, where it ran, how it is filed. */
const SET_ASIDE = new Set([
  "schema",
  "id",
  "config",
  "tokens_per_sec",
  "seconds",
  "wall_seconds",
  "env",
  "source",
  "experiment",
  "point",
  "overrides",
  "reused_from",
]);

/** Quantities cells stored before they were recorded lack: compared where both sides have them. */
const LATER = new Set(["dropped_letters", "onehot_as_embedding"]);

/** A sample's name: how it was decoded, after which prefix. */
const sampleName = (s: Record<string, unknown>) =>
  `[${s.decoding}${s.alpha === undefined ? "" : ` α=${s.alpha}`} ${
    JSON.stringify(s.prefix)
  }]`;

/**
 * Every quantity of a record, by name: a scalar field is a list of one
 * value; an array of values or of objects (the epochs, the validation
 * curve) is a curve per field; samples are named by their decoding and
 * prefix. Absent optional values (`val_ppl` on epochs that do not
 * evaluate) are left out of their curve's values but not of its name.
 */
export function quantities(record: CellRecord): Map<string, Leaf[]> {
  const out = new Map<string, Leaf[]>();
  const put = (name: string, value: Leaf) => {
    const list = out.get(name) ?? [];
    list.push(value);
    out.set(name, list);
  };
  const walk = (name: string, value: unknown, inCurve: boolean) => {
    if (value === undefined) return;
    if (value === null || typeof value !== "object") {
      put(name, value as Leaf);
      return;
    }
    if (Array.isArray(value)) {
      if (name === "samples") {
        for (const s of value) {
          for (const [k, v] of Object.entries(s)) {
            if (!["prefix", "decoding", "alpha"].includes(k)) {
              walk(`samples${sampleName(s)}.${k}`, v, false);
            }
          }
        }
        return;
      }
      if (!out.has(name) && value.length === 0) out.set(name, []);
      for (const v of value) walk(name, v, true);
      return;
    }
    for (const [k, v] of Object.entries(value)) {
      if (SET_ASIDE.has(k)) continue;
      walk(name ? `${name}.${k}` : k, v, inCurve);
    }
  };
  walk("", record, false);
  return out;
}

/** |a − b| / max(|a|, |b|) for numbers (0 when identical, NaN with NaN included), else 0 or Infinity. */
const relDiff = (a: Leaf | undefined, b: Leaf | undefined) =>
  Object.is(a, b) ? 0 : typeof a === "number" && typeof b === "number" &&
      Number.isFinite(a) && Number.isFinite(b)
    ? Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b))
    : Infinity;

/** Generated texts, which may differ where numbers may (a tolerance above 0). */
const isText = (metric: string) => /\.(text|sample)$/.test(metric);

/**
 * Compares cells with the same id, every quantity of each
 * ({@linkcode quantities}). With `subset`, cells of A missing from B are
 * allowed (B reran only some of them).
 *
 * @example
 * ```ts
 * const c = compareCells(committed, rerun, 0, { subset: true });
 * c.ok; // true when every number and text is the same
 * ```
 */
export function compareCells(
  a: CellRecord[],
  b: CellRecord[],
  tolerance: number,
  options: { subset?: boolean } = {},
): Comparison {
  const byIdA = new Map(a.map((c) => [c.id, c]));
  const byIdB = new Map(b.map((c) => [c.id, c]));
  const deltas: Delta[] = [];
  for (const [id, ca] of byIdA) {
    const cb = byIdB.get(id);
    if (!cb) continue;
    const base = { id, point: ca.point, seed: ca.config.seed };
    const qa = quantities(ca), qb = quantities(cb);
    for (const metric of new Set([...qa.keys(), ...qb.keys()])) {
      const xs = qa.get(metric), ys = qb.get(metric);
      const later = [...LATER].some((k) => metric.includes(k));
      if ((!xs || !ys) && later) continue;
      const n = Math.max(xs?.length ?? 0, ys?.length ?? 0);
      let rel = xs && ys && xs.length === ys.length ? 0 : Infinity;
      for (let i = 0; i < n && rel < Infinity; i++) {
        rel = Math.max(rel, relDiff(xs?.[i], ys?.[i]));
      }
      const curve = n > 1 || metric.startsWith("epochs.") ||
        metric.startsWith("val_ppl.") || metric === "train_ppl";
      const ok = rel <= tolerance ||
        (tolerance > 0 && isText(metric) && xs?.length === ys?.length);
      deltas.push({
        ...base,
        metric,
        a: curve ? xs?.length ?? null : xs?.[0] ?? null,
        b: curve ? ys?.length ?? null : ys?.[0] ?? null,
        rel,
        ok,
        ...(curve ? { curve: true as const } : {}),
      });
    }
  }
  const onlyA = [...byIdA.keys()].filter((id) => !byIdB.has(id));
  const onlyB = [...byIdB.keys()].filter((id) => !byIdA.has(id));
  return {
    deltas,
    onlyA,
    onlyB,
    ok: deltas.every((d) => d.ok) && onlyB.length === 0 &&
      (options.subset || onlyA.length === 0),
  };
}

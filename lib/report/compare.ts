/**
 * Cell-by-cell comparison of two result sets (committed vs fresh, webgpu vs
 * wasm), with a relative tolerance.
 *
 * @module
 */
import type { CellRecord } from "../experiment/cell.ts";
import { pointLabel } from "./plot.ts";

/** One compared number. */
export interface Delta {
  /** The cell. */
  id: string;
  /** Its grid point, as a label. */
  label: string;
  /** Its seed. */
  seed: number;
  /** What is compared. */
  metric: string;
  /** The value in A. */
  a: number | string | null;
  /** The value in B. */
  b: number | string | null;
  /** |a − b| / max(|a|, |b|), or Infinity when they cannot be compared. */
  rel: number;
  /** Whether it agrees within the tolerance. */
  ok: boolean;
  /**
   * A whole curve: `a` and `b` are its lengths in epochs and `rel` the largest
   * difference along it, so `rel` is the comparison and always shown.
   */
  curve?: true;
}

/** Outcome of {@linkcode compareCells}. */
export interface Comparison {
  /** Every compared number and text. */
  deltas: Delta[];
  /** Ids present on one side only. */
  onlyA: string[];
  /** Ids present in B only. */
  onlyB: string[];
  /** No delta beyond tolerance, and (unless `subset`) the same cells on both sides. */
  ok: boolean;
}

const relDiff = (a: number | null, b: number | null) =>
  a === null || b === null
    ? (a === b ? 0 : Infinity)
    : a === b
    ? 0
    : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));

/**
 * Compares cells with the same id: status, final and best perplexities, the
 * largest relative difference along the training curve, and the generated
 * texts (which must be equal when `tolerance` is 0). With `subset`,
 * cells of A missing from B are allowed (B reran only some of them).
 *
 * @example
 * ```ts
 * const c = compareCells(committed, fresh, 1e-6, { subset: true });
 * c.ok; // true when every number agrees within 1e-6 relative
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
    const base = { id, label: pointLabel(ca.point), seed: ca.config.seed };
    const num = (metric: string, x: number | null, y: number | null) => {
      const rel = relDiff(x, y);
      deltas.push({ ...base, metric, a: x, b: y, rel, ok: rel <= tolerance });
    };
    deltas.push({
      ...base,
      metric: "status",
      a: ca.status,
      b: cb.status,
      rel: ca.status === cb.status ? 0 : Infinity,
      ok: ca.status === cb.status,
    });
    // Generated texts must match when numbers must (tolerance 0); with a
    // tolerance the models differ a little and so may their texts.
    for (const sa of ca.samples) {
      const sb = cb.samples.find((s) =>
        s.prefix === sa.prefix && s.decoding === sa.decoding &&
        s.alpha === sa.alpha
      );
      const same = sb?.text === sa.text;
      deltas.push({
        ...base,
        metric: `text ${sa.decoding}${
          sa.alpha === undefined ? "" : ` α=${sa.alpha}`
        } "${sa.prefix}"`,
        a: sa.text,
        b: sb?.text ?? null,
        rel: same ? 0 : Infinity,
        ok: same || tolerance > 0,
      });
    }
    num("final train ppl", ca.final.train_ppl, cb.final.train_ppl);
    num("final val ppl", ca.final.val_ppl, cb.final.val_ppl);
    num("best val ppl", ca.final.best_val_ppl, cb.final.best_val_ppl);
    const n = Math.max(ca.train_ppl.length, cb.train_ppl.length);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      worst = Math.max(
        worst,
        relDiff(ca.train_ppl[i] ?? null, cb.train_ppl[i] ?? null),
      );
    }
    deltas.push({
      ...base,
      metric: "train curve (epochs, max rel)",
      a: ca.train_ppl.length,
      b: cb.train_ppl.length,
      rel: worst,
      ok: worst <= tolerance,
      curve: true,
    });
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

/** A plain-text table of the comparison, differences first. */
export function formatComparison(
  c: Comparison,
  labels: [string, string],
  tolerance: number,
): string {
  const show = (v: Delta["a"]) =>
    typeof v === "number"
      ? (Number.isInteger(v) ? String(v) : v.toPrecision(7))
      : String(v);
  const rows = [...c.deltas].sort((x, y) => Number(x.ok) - Number(y.ok));
  const lines = rows.map((d) =>
    `${d.ok ? "  " : "✗ "}${d.id}  ${d.label} seed=${d.seed}  ${d.metric}: ${
      show(d.a)
    } vs ${show(d.b)}` +
    (d.rel > 0 || d.curve
      ? `  (rel ${Number.isFinite(d.rel) ? d.rel.toExponential(2) : "∞"})`
      : "")
  );
  const bad = c.deltas.filter((d) => !d.ok).length;
  return [
    `${labels[0]} vs ${labels[1]}, tolerance ${tolerance} relative`,
    ...lines,
    ...c.onlyA.map((id) => `✗ ${id} only in ${labels[0]}`),
    ...c.onlyB.map((id) => `✗ ${id} only in ${labels[1]}`),
    `${c.ok ? "same" : "DIFFERENT"}: ${
      c.deltas.length - bad
    } of ${c.deltas.length} values within tolerance` +
    (c.onlyA.length + c.onlyB.length
      ? `, ${c.onlyA.length + c.onlyB.length} unmatched cells`
      : ""),
  ].join("\n");
}

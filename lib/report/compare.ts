/**
 * A comparison of two result sets as text: per cell, how many quantities
 * were compared and the largest relative difference among them, and each
 * quantity that differs beyond the tolerance on a line of its own.
 *
 * @module
 */
import type { Comparison, Delta } from "../experiment/compare.ts";
import { pointLabel } from "./plot.ts";

export {
  compareCells,
  type Comparison,
  type Delta,
  quantities,
} from "../experiment/compare.ts";

const show = (v: Delta["a"]) =>
  typeof v === "number"
    ? (Number.isInteger(v) ? String(v) : v.toPrecision(7))
    : String(v);

const rel = (x: number) => Number.isFinite(x) ? x.toExponential(2) : "∞";

/** A plain-text table of the comparison: a line per cell, then each difference. */
export function formatComparison(
  c: Comparison,
  labels: [string, string],
  tolerance: number,
): string {
  const cells = new Map<string, Delta[]>();
  for (const d of c.deltas) cells.set(d.id, [...cells.get(d.id) ?? [], d]);
  const lines: string[] = [];
  for (const [id, deltas] of cells) {
    const { point, seed } = deltas[0];
    const worst = deltas.reduce((w, d) => d.rel > w.rel ? d : w);
    lines.push(
      `  ${id}  ${
        pointLabel(point)
      } seed=${seed}: ${deltas.length} quantities, largest rel ${
        rel(worst.rel)
      }${worst.rel > 0 ? ` (${worst.metric})` : ""}`,
    );
  }
  for (const d of c.deltas.filter((d) => !d.ok)) {
    lines.push(
      `✗ ${d.id}  ${pointLabel(d.point)} seed=${d.seed}  ${d.metric}: ${
        show(d.a)
      } vs ${show(d.b)}${d.curve ? " values" : ""}  (rel ${rel(d.rel)})`,
    );
  }
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

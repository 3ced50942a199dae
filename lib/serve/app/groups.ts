/**
 * Cells grouped over their seeds, as the page and the exported report show
 * them: per grid point the number of cells, each metric's mean, std, min
 * and max (the perplexities over the cells that finished, as the reports'
 * mean ± sd), and its curves as a mean with a band of ± one std per epoch;
 * and how the lines of a figure are told apart (a colour per value of one
 * key, a dash per combination of the others, never two lines alike).
 *
 * @module
 */

/** A cell as the page holds it, a table row: its columns' values, and (under `_` names) what the charts, the diff and links need. */
export type Row = Record<string, unknown> & {
  _id: string;
  _label: string;
  _train: number[];
  _val: [number, number][];
  _running: boolean;
  /** Its config (none for a cell still running). */
  _config: Record<string, unknown> | null;
};

/** A metric over a point's cells. */
export interface Spread {
  mean: number;
  std: number;
  min: number;
  max: number;
  n: number;
}

/** A curve over seeds: per epoch the mean and the band. */
export interface Band {
  epoch: number;
  mean: number;
  lo: number;
  hi: number;
}

/** One grid point over its seeds. */
export interface Group {
  /** The point's key values. */
  point: Record<string, unknown>;
  /** `key=value …`, unique within a view. */
  label: string;
  /** Its cells (stored and running), by seed. */
  rows: Row[];
  metrics: Record<(typeof METRICS)[number], Spread | null>;
  /** Cells that diverged or blew up. */
  diverged: number;
  train: Band[];
  val: Band[];
}

/** The metrics a group gives, in the table's order. */
export const METRICS = [
  "train_ppl",
  "val_ppl",
  "best_val_ppl",
  "tokens_per_sec",
] as const;

/** Mean, sample std, min and max of the finite values, or null. */
export function spread(values: unknown[]): Spread | null {
  const xs = values.filter((x): x is number =>
    typeof x === "number" && Number.isFinite(x)
  );
  if (xs.length === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1
    ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1))
    : 0;
  return {
    mean,
    std,
    min: Math.min(...xs),
    max: Math.max(...xs),
    n: xs.length,
  };
}

/** Mean ± std per epoch over `curves` (each [epoch, value] pairs), the band kept within the values' own range. */
function band(curves: [number, number][][]): Band[] {
  const at = new Map<number, number[]>();
  for (const c of curves) {
    for (const [epoch, v] of c) {
      if (Number.isFinite(v) && v > 0) {
        at.set(epoch, [...at.get(epoch) ?? [], v]);
      }
    }
  }
  return [...at].sort(([a], [b]) => a - b).map(([epoch, vs]) => {
    const s = spread(vs)!;
    return {
      epoch,
      mean: s.mean,
      lo: Math.max(s.mean - s.std, s.min),
      hi: Math.min(s.mean + s.std, s.max),
    };
  });
}

/**
 * Whether a cell diverged as the reports count it: a non-finite loss, a
 * blow-up (above the vocabulary size after having been below it), or a
 * finished run that ended worse than a uniform guess.
 */
export const blewUp = (r: Row, vocab_size: number): boolean =>
  r.status === "diverged" || r.blew_up_epoch != null ||
  (r.status === "done" && vocab_size > 0 &&
    typeof r.train_ppl === "number" && r.train_ppl > vocab_size);

/** A grid point as `key=value …`. */
export const pointLabel = (point: Record<string, unknown>): string =>
  Object.entries(point).map(([k, v]) => `${k}=${v}`).join(" ") || "all";

/**
 * The rows grouped by their values of `keys`, in first-seen order:
 * perplexities over the cells that finished, throughput over those that
 * did not fail, curves over all of them.
 *
 * @example
 * ```ts
 * groupRows(rowsOf(view), view.varying_keys)[0].metrics.best_val_ppl?.mean;
 * ```
 */
export function groupRows(
  rows: Row[],
  keys: string[],
  vocab_size = 0,
): Group[] {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const label = pointLabel(Object.fromEntries(keys.map((k) => [k, r[k]])));
    groups.set(label, [...groups.get(label) ?? [], r]);
  }
  return [...groups].map(([label, members]) => {
    members.sort((a, b) => Number(a.seed) - Number(b.seed));
    const done = members.filter((r) => r.status === "done");
    const ran = members.filter((r) => r.status !== "failed");
    return {
      point: Object.fromEntries(keys.map((k) => [k, members[0][k]])),
      label,
      rows: members,
      metrics: {
        train_ppl: spread(done.map((r) => r.train_ppl)),
        val_ppl: spread(done.map((r) => r.val_ppl)),
        best_val_ppl: spread(done.map((r) => r.best_val_ppl)),
        tokens_per_sec: spread(ran.map((r) => r.tokens_per_sec)),
      },
      diverged: members.filter((r) => blewUp(r, vocab_size)).length,
      train: band(members.map((r) => r._train.map((p, i) => [i + 1, p]))),
      val: band(members.map((r) => r._val)),
    };
  });
}

/** Dash patterns told apart at a glance; more styles than these and every line gets a colour of its own. */
export const DASHES: number[][] = [
  [1, 0],
  [6, 3],
  [2, 2],
  [8, 3, 2, 3],
  [12, 4],
  [3, 5],
  [8, 3, 2, 3, 2, 3],
  [1, 4],
];

/** How each line of a figure looks: its colour's value, its dash. */
export interface LineStyle {
  colour: string;
  dash: number;
}

/**
 * The look of each group's line in a figure: a colour per value of
 * `colourKey` (or per group when it is null), a dash per combination of the
 * other keys but `facetKey`. Two lines of one figure (one facet) never look
 * alike: where the combinations outnumber the dashes, every line gets a
 * colour of its own instead.
 */
export function lineStyles(
  groups: Group[],
  keys: string[],
  colourKey: string | null,
  facetKey: string | null,
): Map<string, LineStyle> {
  const rest = keys.filter((k) => k !== colourKey && k !== facetKey);
  const styleOf = (g: Group) =>
    pointLabel(Object.fromEntries(rest.map((k) => [k, g.point[k]])));
  const styles = [...new Set(groups.map(styleOf))];
  const out = new Map<string, LineStyle>();
  if (colourKey === null || styles.length > DASHES.length) {
    for (const g of groups) out.set(g.label, { colour: g.label, dash: 0 });
    return out;
  }
  for (const g of groups) {
    out.set(g.label, {
      colour: `${colourKey}=${g.point[colourKey]}`,
      dash: styles.indexOf(styleOf(g)),
    });
  }
  return out;
}

/** `n` colours no two alike: the Tableau 10 up to ten, else evenly around the hue circle. */
export function palette(n: number): string[] {
  const tableau = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
  ];
  if (n <= tableau.length) return tableau.slice(0, n);
  return Array.from(
    { length: n },
    (_, i) =>
      `hsl(${Math.round((i * 360) / n)}, ${i % 2 ? 55 : 75}%, ${
        i % 3 ? 42 : 55
      }%)`,
  );
}

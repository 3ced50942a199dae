/**
 * Summary rows of an experiment: cells grouped by grid point, metrics as
 * mean ± sd over seeds.
 *
 * @module
 */
import type { CellRecord } from "../experiment/cell.ts";
import { canonicalJson } from "../experiment/grid.ts";

/** Mean and sample standard deviation (0 for one value); null when empty. */
export interface Stat {
  /** The mean. */
  mean: number;
  /** The sample standard deviation (0 for one value). */
  sd: number;
  /** How many values. */
  n: number;
}

/** Mean ± sd of the finite values, or null when there are none. */
export function stat(values: (number | null | undefined)[]): Stat | null {
  const xs = values.filter((x): x is number =>
    typeof x === "number" && Number.isFinite(x)
  );
  if (xs.length === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1
    ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1))
    : 0;
  return { mean, sd, n: xs.length };
}

/** One grid point's summary. */
export interface SummaryRow {
  /** The grid point: the varying keys' values. */
  point: CellRecord["point"];
  /** Cell ids, in seed order. */
  cells: string[];
  /** Its cells' seeds, in order. */
  seeds: number[];
  /** Over cells that finished (`done`). */
  final_train_ppl: Stat | null;
  /** Over cells that finished: the last validation perplexity. */
  final_val_ppl: Stat | null;
  /** Over cells that finished: the lowest validation perplexity. */
  best_val_ppl: Stat | null;
  /** Over cells that finished: training tokens per second. */
  tokens_per_sec: Stat | null;
  /** Percent of minibatches whose gradient norm exceeded θ. */
  clipped_pct: Stat | null;
  /** Over cells that finished: the largest gradient norm before clipping. */
  max_grad_norm: Stat | null;
  /** Cells whose loss turned non-finite, or that blew up or ended worse than a uniform guess. */
  diverged: number;
  /** The epoch each of those cells blew up at, where it has one ({@linkcode blowUpEpoch}), by seed. */
  blew_up_at: number[];
  /** Cells that failed (an error). */
  failed: number;
  /** Marks the row with the lowest mean best validation perplexity. */
  best: boolean;
}

/**
 * The epoch a cell blew up at: where its loss became non-finite, or the
 * first epoch whose training perplexity rose above the vocabulary size (worse
 * than a uniform guess) after an epoch below it. Null for a cell that did
 * not. Derived from the stored curve, so stored cells need no migration.
 *
 * @example
 * ```ts
 * blowUpEpoch(cell); // 212: perplexity 6.1 at epoch 211, 4.4e3 at 212 (28 characters)
 * ```
 */
export function blowUpEpoch(c: CellRecord): number | null {
  if (c.status === "diverged") return c.diverged_epoch;
  const V = c.corpus.vocab.length;
  if (c.status !== "done" || V === 0) return null;
  let below = false;
  for (const [i, ppl] of c.train_ppl.entries()) {
    if (below && ppl > V) return i + 1;
    below ||= ppl < V;
  }
  return null;
}

/**
 * Whether a cell diverged: its loss became non-finite (training stopped), it
 * blew up ({@linkcode blowUpEpoch}), or it finished with a training
 * perplexity above the vocabulary size, worse than a uniform guess
 * (unclipped tanh ended at 1e17-1e63 on an H200, yet finite).
 */
export const blewUp = (c: CellRecord): boolean =>
  blowUpEpoch(c) !== null ||
  (c.status === "done" && c.corpus.vocab.length > 0 &&
    (c.final.train_ppl ?? 0) > c.corpus.vocab.length);

/** A row's diverged cells as tables print them: `2/3 (epochs 212, 316)`. */
export function divergedText(
  r: Pick<SummaryRow, "diverged" | "blew_up_at" | "seeds">,
): string {
  const at = r.blew_up_at ?? []; // rows of reports written before it
  return `${r.diverged}/${r.seeds.length}${
    at.length ? ` (epoch${at.length > 1 ? "s" : ""} ${at.join(", ")})` : ""
  }`;
}

/**
 * Groups cells by grid point (seed excluded), in first-seen order, and marks
 * the best row: lowest mean best validation perplexity (else final
 * validation, else training perplexity).
 *
 * @example
 * ```ts
 * const rows = summarize(cells);
 * rows.find((r) => r.best)?.point; // e.g. { clip: 1, activation: "tanh" }
 * ```
 */
export function summarize(cells: CellRecord[]): SummaryRow[] {
  const groups = new Map<string, CellRecord[]>();
  for (const c of cells) {
    const key = canonicalJson(c.point);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const rows = [...groups.values()].map((group): SummaryRow => {
    group.sort((a, b) => a.config.seed - b.config.seed);
    const done = group.filter((c) => c.status === "done");
    return {
      point: group[0].point,
      cells: group.map((c) => c.id),
      seeds: group.map((c) => c.config.seed),
      final_train_ppl: stat(done.map((c) => c.final.train_ppl)),
      final_val_ppl: stat(done.map((c) => c.final.val_ppl)),
      best_val_ppl: stat(done.map((c) => c.final.best_val_ppl)),
      tokens_per_sec: stat(
        group.filter((c) => c.status !== "failed").map((c) => c.tokens_per_sec),
      ),
      clipped_pct: stat(
        group.filter((c) => c.status !== "failed").map((c) =>
          100 * c.grad_norm.clipped_fraction
        ),
      ),
      max_grad_norm: stat(
        group.filter((c) => c.status !== "failed").map((c) => c.grad_norm.max),
      ),
      diverged: group.filter(blewUp).length,
      blew_up_at: group.map(blowUpEpoch).filter((e) => e !== null),
      failed: group.filter((c) => c.status === "failed").length,
      best: false,
    };
  });
  // The best validation perplexity is what early stopping keeps; the final one
  // mostly measures how far 500 epochs memorise the training text.
  const score = (r: SummaryRow) =>
    r.best_val_ppl?.mean ?? r.final_val_ppl?.mean ?? r.final_train_ppl?.mean ??
      Infinity;
  const best = rows.reduce<SummaryRow | null>(
    (b, r) => (score(r) < (b ? score(b) : Infinity) ? r : b),
    null,
  );
  if (best) best.best = true;
  return rows;
}

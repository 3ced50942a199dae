/**
 * Perplexity curves as SVG, drawn headless with vega-lite: per grid point
 * (colour) the mean over seeds with its band and each seed's line,
 * log-scaled perplexity, runs that blow up leaving the plot at a marked
 * ceiling.
 *
 * @module
 */
import type { CellRecord } from "../experiment/cell.ts";

/**
 * Whether `key` has no effect at `point`: `embed_size` with one-hot inputs
 * (the config still holds its default, and the grid varies it elsewhere).
 */
const unused = (point: CellRecord["point"], key: string): boolean =>
  key === "embed_size" && point.input === "one_hot";

/** One value of a grid point for a table: "–" where it has no effect. */
export function pointValue(point: CellRecord["point"], key: string): string {
  return unused(point, key) ? "–" : String(point[key]);
}

/**
 * A readable label of a grid point, e.g. `clip=off activation=relu`, without
 * the values that have no effect there.
 *
 * @example
 * ```ts
 * pointLabel({ input: "one_hot", embed_size: 32 }); // "input=one_hot"
 * ```
 */
export function pointLabel(point: CellRecord["point"]): string {
  const parts = Object.entries(point).filter(([k]) => !unused(point, k))
    .map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(" ") : "all";
}

/**
 * What a figure draws of a run: its curves, its place in the grid, its
 * seed and its vocabulary's size. A stored cell gives one
 * ({@linkcode runOf}), and so does a `train_ch8` result.
 */
export interface Run {
  /** Tells one run's line from another's. */
  id: string;
  /** The grid point: the colour of its lines. */
  point: CellRecord["point"];
  /** The seed it trained with. */
  seed: number;
  /** Tokens in its vocabulary (the ceiling of a blown-up run is twice this). */
  vocab_size: number;
  /** Training perplexity per epoch. */
  train_ppl: number[];
  /** Validation perplexity at each evaluation. */
  val_ppl: { epoch: number; ppl: number }[];
}

/** A stored cell as a {@linkcode Run}. */
export const runOf = (c: CellRecord): Run => ({
  id: c.id,
  point: c.point,
  seed: c.config.seed,
  vocab_size: c.corpus.vocab.length,
  train_ppl: c.train_ppl,
  val_ppl: c.val_ppl,
});

/** One run's curve of `metric`: finite perplexities, by epoch. */
function curve(c: Run, metric: "train" | "val") {
  const points = metric === "train"
    ? c.train_ppl.map((ppl, i) => ({ epoch: i + 1, ppl }))
    : c.val_ppl.map(({ epoch, ppl }) => ({ epoch, ppl }));
  return points.filter((p) => Number.isFinite(p.ppl) && p.ppl > 0);
}

/**
 * What a figure of `metric` draws, as data: each cell's curve (`cells`);
 * per grid point and epoch the geometric mean over its seeds and, where
 * seeds repeat the point, ± one standard deviation of log perplexity
 * (`means`); and, when some run exceeds `ceiling` (twice the vocabulary:
 * worse than guessing), the axis stops there and `exits` marks the first
 * epoch each such run is above it.
 */
export function figureData(cells: Run[], metric: "train" | "val") {
  const V = Math.max(0, ...cells.map((c) => c.vocab_size));
  const rows = cells.flatMap((c) =>
    curve(c, metric).map((p) => ({
      ...p,
      cell: c.id,
      point: pointLabel(c.point),
      seed: c.seed,
    }))
  );
  const ceiling = V > 0 && rows.some((r) => r.ppl > 2 * V) ? 2 * V : null;
  const byPoint = Map.groupBy(rows, (r) => `${r.point}\u0000${r.epoch}`);
  const means = [...byPoint.values()].map((group) => {
    const logs = group.map((r) => Math.log(r.ppl));
    const m = logs.reduce((a, b) => a + b, 0) / logs.length;
    const sd = logs.length > 1
      ? Math.sqrt(
        logs.reduce((a, x) => a + (x - m) ** 2, 0) / (logs.length - 1),
      )
      : 0;
    return {
      point: group[0].point,
      epoch: group[0].epoch,
      seeds: group.length,
      // A band only where no seed has left the plot: its spread says nothing.
      band: ceiling === null || group.every((r) => r.ppl <= ceiling),
      mean: Math.exp(m),
      lo: Math.exp(m - sd),
      hi: Math.exp(m + sd),
    };
  });
  const exits = ceiling === null ? [] : cells.flatMap((c) => {
    const out = curve(c, metric).find((p) => p.ppl > ceiling);
    return out
      ? [{ epoch: out.epoch, ppl: ceiling, point: pointLabel(c.point) }]
      : [];
  });
  return { cells: rows, means, exits, ceiling };
}

/**
 * Renders `metric` (training perplexity per epoch, or validation perplexity
 * per evaluation) to an SVG string: per grid point the mean over seeds with
 * a band where seeds repeat it, each seed a thin line; runs that blow up
 * leave the plot at twice the vocabulary (marked ▲), so they hide no other.
 *
 * @example
 * ```ts
 * const svg = await perplexitySvg(cells, "train");
 * await Deno.writeTextFile("train_ppl.svg", svg);
 * ```
 */
export function perplexitySvg(
  cells: CellRecord[],
  metric: "train" | "val",
): Promise<string> {
  return renderSvg(perplexitySpec(cells.map(runOf), metric));
}

/**
 * The vega-lite specification of {@linkcode perplexitySvg}'s figure, for
 * any runs (stored cells through {@linkcode runOf}, or `train_ch8` results).
 */
export function perplexitySpec(
  cells: Run[],
  metric: "train" | "val",
): Record<string, unknown> {
  const data = figureData(cells, metric);
  const title = metric === "train"
    ? "Training perplexity"
    : "Validation perplexity";
  const repeated = data.means.some((m) => m.seeds > 1);
  const subtitle = [
    repeated
      ? "lines: mean over seeds (geometric), band: ± 1 sd; thin: each seed"
      : "",
    data.ceiling !== null
      ? `▲: a run leaves the plot above ${data.ceiling} (twice the vocabulary, worse than guessing)`
      : "",
  ].filter(Boolean);
  const x = {
    field: "epoch",
    type: "quantitative",
    title: "epoch",
    axis: { format: "d", tickMinStep: 1 },
  };
  const y = {
    field: "ppl",
    type: "quantitative",
    title: "perplexity (log scale)",
    scale: {
      type: "log",
      ...(data.ceiling !== null
        ? {
          domain: [
            Math.min(...data.cells.map((c) => c.ppl)) * 0.9,
            data.ceiling,
          ],
        }
        : {}),
    },
  };
  const color = {
    field: "point",
    type: "nominal",
    title: "grid point",
    legend: { labelLimit: 0 },
  };
  const layer = [
    ...(repeated
      ? [{
        data: { values: data.means.filter((m) => m.seeds > 1 && m.band) },
        mark: { type: "area", opacity: 0.18, clip: true },
        encoding: {
          x,
          y: { ...y, field: "lo" },
          y2: { field: "hi" },
          color,
        },
      }]
      : []),
    {
      data: { values: data.cells },
      // Validation has few points (every eval_every epochs): mark them, so a
      // single evaluation still shows.
      mark: {
        type: "line",
        clip: true,
        strokeWidth: repeated ? 0.6 : 1.5,
        opacity: repeated ? 0.45 : 1,
        ...(metric === "val" && !repeated ? { point: { size: 16 } } : {}),
      },
      encoding: {
        x,
        y,
        color,
        detail: { field: "cell", type: "nominal" },
      },
    },
    ...(repeated
      ? [{
        data: { values: data.means },
        mark: {
          type: "line",
          clip: true,
          strokeWidth: 1.8,
          ...(metric === "val" ? { point: { size: 14 } } : {}),
        },
        encoding: { x, y: { ...y, field: "mean" }, color },
      }]
      : []),
    ...(data.exits.length
      ? [{
        data: { values: data.exits },
        mark: { type: "point", shape: "triangle-up", filled: true, size: 60 },
        encoding: { x, y, color },
      }]
      : []),
  ];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, subtitle },
    width: 560,
    height: 320,
    layer,
    config: {
      font: "sans-serif",
      legend: { symbolType: "stroke", symbolStrokeWidth: 2, symbolOpacity: 1 },
    },
  };
}

/** A vega-lite specification drawn headless, as an SVG string. */
export async function renderSvg(
  vegaLite: Record<string, unknown>,
): Promise<string> {
  // vega is loaded when a figure is drawn: listing, planning and serving
  // cells need none.
  const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")]);
  // deno-lint-ignore no-explicit-any
  const spec = vl.compile(vegaLite as any).spec;
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

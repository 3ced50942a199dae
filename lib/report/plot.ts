/**
 * Perplexity curves as SVG, drawn headless with vega-lite: one line per cell,
 * coloured by grid point, log-scaled perplexity.
 *
 * @module
 */
import * as vega from "vega";
import * as vl from "vega-lite";
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
 * Renders one curve per cell of `metric` (training perplexity per epoch, or
 * validation perplexity per evaluation) to an SVG string.
 *
 * @example
 * ```ts
 * const svg = await perplexitySvg(cells, "train");
 * await Deno.writeTextFile("train_ppl.svg", svg);
 * ```
 */
export async function perplexitySvg(
  cells: CellRecord[],
  metric: "train" | "val",
): Promise<string> {
  const values = cells.flatMap((c) => {
    const points = metric === "train"
      ? c.train_ppl.map((ppl, i) => ({ epoch: i + 1, ppl }))
      : c.val_ppl.map(({ epoch, ppl }) => ({ epoch, ppl }));
    return points.filter((p) => Number.isFinite(p.ppl) && p.ppl > 0).map((
      p,
    ) => ({
      ...p,
      cell: c.id,
      point: pointLabel(c.point),
      seed: c.config.seed,
    }));
  });
  const title = metric === "train"
    ? "Training perplexity"
    : "Validation perplexity";
  const spec = vl.compile({
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 560,
    height: 320,
    data: { values },
    // Validation has few points (every eval_every epochs): mark them, so a
    // single evaluation still shows.
    mark: {
      type: "line",
      strokeWidth: 1.5,
      ...(metric === "val" ? { point: { size: 16 } } : {}),
    },
    encoding: {
      x: {
        field: "epoch",
        type: "quantitative",
        title: "epoch",
        axis: { format: "d", tickMinStep: 1 },
      },
      y: {
        field: "ppl",
        type: "quantitative",
        title: "perplexity (log scale)",
        scale: { type: "log" },
      },
      color: {
        field: "point",
        type: "nominal",
        title: "grid point",
        legend: { labelLimit: 0 },
      },
      detail: { field: "cell", type: "nominal" },
    },
    config: { font: "sans-serif" },
    // deno-lint-ignore no-explicit-any
  } as any).spec;
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

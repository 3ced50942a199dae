/// <reference lib="dom" />
/**
 * An experiment's perplexity curves (vega-lite, served by the app): per
 * grid point the mean over its seeds with a band of ± one std, coloured by
 * one key and split into small multiples by another (or the picked cells'
 * own curves), log or linear, the axis stopped at twice the vocabulary so
 * that a run that blows up hides no other.
 *
 * @module
 */
import type { ExperimentView } from "../data.ts";
import { h, state } from "./dom.ts";
import { pointKeys, visibleGroups, visibleRows } from "./table.ts";
import {
  DASHES,
  type Group,
  lineStyles,
  palette,
  pointLabel,
} from "./groups.ts";

/** vega-embed, loaded by the page's script tag. */
declare const vegaEmbed: (
  el: HTMLElement | string,
  spec: unknown,
  options?: unknown,
) => Promise<unknown>;

/** Draws a vega-lite spec into `el`. */
export const draw = (
  el: HTMLElement | string,
  spec: unknown,
): Promise<unknown> => vegaEmbed(el, spec, { actions: false, renderer: "svg" });

/** The x axis of every curve: whole epochs. */
const EPOCHS = {
  field: "epoch",
  type: "quantitative",
  title: "epoch",
  axis: { format: "d" },
};

/** A perplexity axis: log or linear, stopped at `ceiling` when given (from just under `low`). */
const perplexityAxis = (log: boolean, low: number, ceiling: number | null) => ({
  type: "quantitative",
  title: `perplexity${log ? " (log scale)" : ""}`,
  scale: {
    type: log ? "log" : "linear",
    ...(log ? {} : { zero: false }),
    ...(ceiling ? { domain: [low * 0.9, ceiling] } : {}),
  },
});

/** One point of a curve. */
interface Point {
  cell: string;
  epoch: number;
  ppl: number;
  running: boolean;
}

function chartSpec(
  values: Point[],
  metric: "train" | "val",
  log: boolean,
  ceiling: number | null,
) {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: metric === "train" ? "Training perplexity" : "Validation perplexity",
    width: 520,
    height: 260,
    data: { values },
    mark: {
      type: "line",
      point: metric === "val",
      strokeWidth: 1.5,
      clip: true,
    },
    encoding: {
      x: EPOCHS,
      y: {
        field: "ppl",
        ...perplexityAxis(
          log,
          Math.min(...values.map((v) => v.ppl)),
          ceiling,
        ),
      },
      color: {
        field: "cell",
        type: "nominal",
        title: "cell",
        legend: { labelLimit: 320 },
      },
      strokeDash: {
        field: "running",
        type: "nominal",
        legend: null,
        scale: { domain: [false, true], range: [[1, 0], [4, 3]] },
      },
      tooltip: [
        { field: "cell", type: "nominal" },
        { field: "epoch", type: "quantitative" },
        {
          field: "ppl",
          type: "quantitative",
          format: ".4f",
          title: "perplexity",
        },
      ],
    },
  };
}

/** One point of a grid point's curve over seeds: the mean and its band. */
interface BandPoint {
  line: string;
  colour: string;
  dash: number;
  facet: string;
  epoch: number;
  mean: number;
  lo: number;
  hi: number;
}

/**
 * Each group's mean curve with a band of ± one std over its seeds, a
 * colour per value of `colour` and a dash per combination of the other
 * keys ({@linkcode lineStyles}: no two lines of a figure alike), one figure
 * per value of `facet` (small multiples).
 */
export function groupSpec(
  groups: Group[],
  keys: string[],
  metric: "train" | "val",
  options: {
    colour: string | null;
    facet: string | null;
    log: boolean;
    ceiling: number | null;
  },
) {
  const styles = lineStyles(groups, keys, options.colour, options.facet);
  const values: BandPoint[] = groups.flatMap((g) =>
    g[metric].map((b) => ({
      line: g.label,
      colour: styles.get(g.label)!.colour,
      dash: styles.get(g.label)!.dash,
      facet: options.facet ? `${options.facet}=${g.point[options.facet]}` : "",
      ...b,
    }))
  );
  const colours = [...new Set(groups.map((g) => styles.get(g.label)!.colour))];
  const dashes = [...new Set(groups.map((g) => styles.get(g.label)!.dash))]
    .sort((a, b) => a - b);
  const rest = keys.filter((k) => k !== options.colour && k !== options.facet);
  const low = Math.min(...values.map((v) => v.lo));
  const y = perplexityAxis(options.log, low, options.ceiling);
  const colour = {
    field: "colour",
    type: "nominal",
    title: options.colour ?? "grid point",
    scale: { domain: colours, range: palette(colours.length) },
    // The legend shows the line, not the band's faint fill.
    legend: {
      labelLimit: 360,
      symbolType: "stroke",
      symbolOpacity: 1,
      symbolStrokeWidth: 2,
    },
  };
  const layer = [
    {
      mark: { type: "area", opacity: 0.15, clip: true },
      encoding: {
        x: EPOCHS,
        y: { field: "lo", ...y },
        y2: { field: "hi" },
        color: colour,
        detail: { field: "line", type: "nominal" },
      },
    },
    {
      mark: {
        type: "line",
        strokeWidth: 1.8,
        clip: true,
        point: metric === "val",
      },
      encoding: {
        x: EPOCHS,
        y: { field: "mean", ...y },
        color: colour,
        strokeDash: {
          field: "dash",
          type: "ordinal",
          title: rest.join(" ") || "line",
          scale: { domain: dashes, range: dashes.map((d) => DASHES[d]) },
          legend: dashes.length > 1
            ? {
              labelExpr: JSON.stringify(
                Object.fromEntries(
                  groups.map((g) => [
                    styles.get(g.label)!.dash,
                    pointLabel(
                      Object.fromEntries(rest.map((k) => [k, g.point[k]])),
                    ),
                  ]),
                ),
              ) + "[datum.value]",
            }
            : null,
        },
        detail: { field: "line", type: "nominal" },
        tooltip: [
          { field: "line", type: "nominal", title: "grid point" },
          { field: "epoch", type: "quantitative" },
          { field: "mean", type: "quantitative", format: ".4f", title: "mean" },
          {
            field: "lo",
            type: "quantitative",
            format: ".4f",
            title: "mean − std",
          },
          {
            field: "hi",
            type: "quantitative",
            format: ".4f",
            title: "mean + std",
          },
        ],
      },
    },
  ];
  const title = metric === "train"
    ? "Training perplexity, mean ± std over seeds"
    : "Validation perplexity, mean ± std over seeds";
  const base = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    data: { values },
  };
  return options.facet
    ? {
      ...base,
      facet: { field: "facet", type: "nominal", title: null },
      columns: 2,
      spec: { width: 300, height: 200, layer },
      resolve: { scale: { y: "shared" } },
    }
    : { ...base, width: 520, height: 260, layer };
}

/** The y axis's ceiling: twice the vocabulary when a curve goes past it and clamping is on. */
function ceilingOf(view: ExperimentView, top: number): number | null {
  return state.clamp && view.vocab_size && top > 2 * view.vocab_size
    ? 2 * view.vocab_size
    : null;
}

/** Draws the curves: one line per grid point with its band (grouped), or the picked cells'. */
export async function renderCharts(view: ExperimentView): Promise<void> {
  if (state.grouped) return await renderGroupCharts(view);
  const rows = visibleRows(view).filter((r) => state.picked.has(r._id));
  const positive = (p: Point) => Number.isFinite(p.ppl) && p.ppl > 0;
  const curves = {
    train: rows.flatMap((r) =>
      r._train.map((ppl, i) => ({
        cell: r._label,
        epoch: i + 1,
        ppl,
        running: r._running,
      })).filter(positive)
    ),
    val: rows.flatMap((r) =>
      r._val.map(([epoch, ppl]) => ({
        cell: r._label,
        epoch,
        ppl,
        running: r._running,
      })).filter(positive)
    ),
  };
  for (const metric of ["train", "val"] as const) {
    const el = document.getElementById(`chart-${metric}`);
    if (!el) continue;
    const values = curves[metric];
    if (values.length === 0) {
      el.replaceChildren(
        h("p", { class: "meta" }, "No cell picked: tick “plot” in the table."),
      );
      continue;
    }
    const top = Math.max(...values.map((v) => v.ppl));
    await draw(el, chartSpec(values, metric, state.log, ceilingOf(view, top)));
  }
}

/** Draws one mean line with its band per grid point shown (not unticked). */
async function renderGroupCharts(view: ExperimentView): Promise<void> {
  const keys = pointKeys(view);
  const groups = visibleGroups(view).filter((g) => !state.hidden.has(g.label));
  for (const metric of ["train", "val"] as const) {
    const el = document.getElementById(`chart-${metric}`);
    if (!el) continue;
    const shown = groups.filter((g) => g[metric].length);
    if (shown.length === 0) {
      el.replaceChildren(
        h(
          "p",
          { class: "meta" },
          "No grid point shown: tick “plot” in the table.",
        ),
      );
      continue;
    }
    const top = Math.max(...shown.flatMap((g) => g[metric].map((b) => b.hi)));
    await draw(
      el,
      groupSpec(shown, keys, metric, {
        colour: state.colour,
        facet: state.facet,
        log: state.log,
        ceiling: ceilingOf(view, top),
      }),
    );
  }
}

/** A checkbox for the charts' setting `state[key]`, redrawing them when it changes. */
export function chartToggle(
  key: "log" | "clamp",
  text: string,
  title?: string,
): HTMLElement {
  return h(
    "label",
    title ? { title } : {},
    h("input", {
      type: "checkbox",
      id: key,
      checked: state[key],
      onchange: (e: Event) => {
        state[key] = (e.target as HTMLInputElement).checked;
        if (state.view) renderCharts(state.view);
      },
    }),
    text,
  );
}

/// <reference lib="dom" />
/**
 * An experiment's perplexity curves (vega-lite, served by the app): the
 * picked cells' training and validation perplexity, log or linear, the
 * axis stopped at twice the vocabulary so that a run that blows up hides
 * no other.
 *
 * @module
 */
import type { ExperimentView } from "../data.ts";
import { h, state } from "./dom.ts";
import { rowsOf } from "./table.ts";

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
      x: {
        field: "epoch",
        type: "quantitative",
        title: "epoch",
        axis: { format: "d" },
      },
      y: {
        field: "ppl",
        type: "quantitative",
        title: `perplexity${log ? " (log scale)" : ""}`,
        scale: {
          type: log ? "log" : "linear",
          ...(log ? {} : { zero: false }),
          ...(ceiling
            ? { domain: [Math.min(...values.map((v) => v.ppl)) * 0.9, ceiling] }
            : {}),
        },
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

/** Draws the picked cells' training and validation curves. */
export async function renderCharts(view: ExperimentView): Promise<void> {
  const rows = rowsOf(view).filter((r) => state.picked.has(r._id));
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
    const ceiling = state.clamp && view.vocab_size && top > 2 * view.vocab_size
      ? 2 * view.vocab_size
      : null;
    await draw(el, chartSpec(values, metric, state.log, ceiling));
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

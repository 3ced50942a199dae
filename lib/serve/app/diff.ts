/// <reference lib="dom" />
/**
 * A diff of two cells or two grid points of one experiment: the config keys
 * that differ (only those), each metric's two values and their difference,
 * and their curves overlaid (a grid point's mean with its band over seeds).
 * Reached from the table (tick "diff" on two rows) and by its URL,
 * `#/diff/<dir>/<a>/<b>`, where a and b are cell ids or grid points.
 *
 * @module
 */
import type { ExperimentView } from "../data.ts";
import { h, num } from "./dom.ts";
import { draw, groupSpec } from "./charts.ts";
import { type Group, groupRows, METRICS, type Spread } from "./groups.ts";
import { pointKeys, type Row, rowsOf } from "./table.ts";

/** The link to the diff of `a` and `b` of directory `dir`. */
export const diffHref = (dir: string, a: string, b: string): string =>
  `#/diff/${[dir, a, b].map(encodeURIComponent).join("/")}`;

/** What a diff compares: a cell (one row) or a grid point (its rows), as a group. */
function side(view: ExperimentView, ref: string): Group | null {
  const rows = rowsOf(view);
  const keys = pointKeys(view);
  const cell = rows.find((r) => r._id === ref);
  // A cell stands as a group of one (its seed in its label).
  if (cell) {
    const [g] = groupRows([cell], keys, view.vocab_size);
    return { ...g, label: cell._label };
  }
  return groupRows(rows, keys, view.vocab_size).find((g) => g.label === ref) ??
    null;
}

/** A group's config: its first cell's, the seed left out when it has several. */
function configOf(g: Group): Record<string, unknown> {
  const first: Row = g.rows[0];
  const { seed, ...rest } = first._config ?? {};
  return g.rows.length > 1 ? rest : { ...rest, seed };
}

/** The keys whose values differ between two configs, in config order. */
export function differingKeys(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) =>
    JSON.stringify(a[k]) !== JSON.stringify(b[k])
  );
}

const text = (s: Spread | null, k: string) =>
  s === null
    ? "–"
    : k === "tokens_per_sec"
    ? Math.round(s.mean).toLocaleString("en-US") +
      (s.n > 1 ? ` ± ${Math.round(s.std)}` : "")
    : num(s.mean, 4) + (s.n > 1 ? ` ± ${num(s.std, 4)}` : "");

/** Draws the diff of `a` and `b` of `view` into `el`. */
export async function renderDiff(
  view: ExperimentView,
  a: string,
  b: string,
  el: HTMLElement,
): Promise<void> {
  const x = side(view, a), y = side(view, b);
  if (!x || !y) {
    el.replaceChildren(
      h(
        "p",
        { class: "error" },
        `No cell or grid point ${!x ? a : b} in ${view.dir}.`,
      ),
    );
    return;
  }
  const cx = configOf(x), cy = configOf(y);
  const keys = differingKeys(cx, cy);
  el.replaceChildren(
    h("h2", {}, "Config keys that differ"),
    keys.length
      ? h(
        "table",
        { id: "diff-keys" },
        h("tr", {}, h("th", {}, "key"), h("th", {}, "A"), h("th", {}, "B")),
        keys.map((k) =>
          h(
            "tr",
            { "data-key": k },
            h("td", {}, k),
            h("td", {}, String(cx[k] ?? "–")),
            h("td", {}, String(cy[k] ?? "–")),
          )
        ),
      )
      : h("p", { class: "meta" }, "None: the same config (other seeds)."),
    h("h2", {}, "Metrics"),
    h(
      "table",
      { id: "diff-metrics" },
      h(
        "tr",
        {},
        h("th", {}, "metric"),
        h("th", {}, `A (${x.rows.length} cell${x.rows.length > 1 ? "s" : ""})`),
        h("th", {}, `B (${y.rows.length} cell${y.rows.length > 1 ? "s" : ""})`),
        h("th", {}, "B − A"),
        h("th", {}, "(B − A) / A"),
      ),
      METRICS.map((k) => {
        const p = x.metrics[k], q = y.metrics[k];
        const d = p && q ? q.mean - p.mean : null;
        return h(
          "tr",
          { "data-metric": k },
          h("td", {}, k),
          h("td", { class: "num" }, text(p, k)),
          h("td", { class: "num" }, text(q, k)),
          h("td", { class: "num" }, d === null ? "–" : num(d, 4)),
          h(
            "td",
            { class: "num" },
            d === null || !p!.mean ? "–" : `${(100 * d / p!.mean).toFixed(1)}%`,
          ),
        );
      }),
    ),
    h("h2", {}, "Curves"),
    h(
      "div",
      { class: "charts" },
      h("div", { class: "chart", id: "diff-train" }),
      h("div", { class: "chart", id: "diff-val" }),
    ),
  );
  // A and B as two lines: the colour says which.
  const pair = [
    { ...x, label: `A: ${x.label}`, point: { side: "A" } },
    { ...y, label: `B: ${y.label}`, point: { side: "B" } },
  ];
  for (const metric of ["train", "val"] as const) {
    await draw(
      document.getElementById(`diff-${metric}`)!,
      groupSpec(pair, ["side"], metric, {
        colour: null,
        facet: null,
        log: true,
        ceiling: null,
      }),
    );
  }
}

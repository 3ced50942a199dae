/// <reference lib="dom" />
/**
 * An experiment's table of cells: a row per stored cell and per running
 * one, sortable by any column, filtered by `key=value` terms or words,
 * each row's "plot" box picking the cells whose curves are drawn.
 *
 * @module
 */
import type { ExperimentView } from "../data.ts";
import { type Brush, h, num, state } from "./dom.ts";
import {
  type Group,
  groupRows,
  METRICS,
  pointLabel,
  type Row,
  type Spread,
} from "./groups.ts";

export type { Row };

/** The table's rows: stored cells, then running ones. */
export function rowsOf(view: ExperimentView): Row[] {
  const stored = view.cells.map((c): Row => ({
    ...c.point,
    seed: c.seed,
    status: c.status,
    train_ppl: c.train_ppl,
    val_ppl: c.val_ppl,
    best_val_ppl: c.best_val_ppl,
    tokens_per_sec: c.tokens_per_sec,
    blew_up_epoch: c.blew_up_epoch,
    computed_on: c.computed_on,
    _id: c.id,
    _label: `${pointLabel(c.point)} seed=${c.seed}`,
    _train: c.train,
    _val: c.val,
    _running: false,
    _config: c.config,
  }));
  const running = view.running.map((c): Row => ({
    ...c.point,
    seed: c.seed,
    status: `running ${c.train_ppl.length}/${c.num_epochs}`,
    train_ppl: c.train_ppl.at(-1) ?? null,
    val_ppl: c.val_ppl.at(-1)?.ppl ?? null,
    best_val_ppl: c.val_ppl.length
      ? Math.min(...c.val_ppl.map((v) => v.ppl))
      : null,
    tokens_per_sec: c.tokens_per_sec,
    blew_up_epoch: null,
    computed_on: null,
    _id: c.id,
    _label: `${pointLabel(c.point)} seed=${c.seed} (running)`,
    _train: c.train_ppl,
    _val: c.val_ppl.map((v) => [v.epoch, v.ppl]),
    _running: true,
    _config: null,
  }));
  return [...stored, ...running];
}

/** The keys of a view's grid points (a search's epochs included), in order. */
export const pointKeys = (view: ExperimentView): string[] => [
  ...new Set([
    ...view.varying_keys,
    ...view.cells.flatMap((c) => Object.keys(c.point)),
  ]),
];

/** Whether `value` lies in `brush`. */
export function inBrush(value: unknown, brush: Brush): boolean {
  if ("values" in brush) return brush.values.includes(String(value));
  return typeof value === "number" && value >= brush.lo && value <= brush.hi;
}

/** A row's or a group's value on an axis of the parallel coordinates (a group's metric: its mean). */
export function axisValue(item: Row | Group, axis: string): unknown {
  if ("_id" in item) return item[axis];
  const g = item as Group;
  return axis in g.metrics
    ? g.metrics[axis as keyof Group["metrics"]]?.mean ?? null
    : g.point[axis];
}

/** Whether every brush holds the item. */
export const brushed = (item: Row | Group): boolean =>
  Object.entries(state.brush).every(([axis, b]) =>
    inBrush(axisValue(item, axis), b)
  );

/** The rows the filter and (cells shown alone) the brushes keep. */
export function visibleRows(view: ExperimentView): Row[] {
  const rows = filtered(rowsOf(view), state.filter);
  return state.grouped ? rows : rows.filter(brushed);
}

/** The grid points of the rows the filter keeps, those the brushes hold. */
export function visibleGroups(view: ExperimentView): Group[] {
  return groupRows(
    filtered(rowsOf(view), state.filter),
    pointKeys(view),
    view.vocab_size,
  ).filter(brushed);
}

/** The rows the filter keeps: `key=value` terms match a column exactly, other words any text. */
export function filtered(rows: Row[], filter: string): Row[] {
  const terms = filter.trim().split(/\s+/).filter(Boolean);
  return rows.filter((r) =>
    terms.every((t) => {
      const eq = t.indexOf("=");
      if (eq > 0) return String(r[t.slice(0, eq)]) === t.slice(eq + 1);
      return Object.entries(r).some(([k, v]) =>
        !k.startsWith("_") && String(v).toLowerCase().includes(t.toLowerCase())
      );
    })
  );
}

/** Items sorted by `value(item, key)` (missing values last). */
function sortBy<T>(
  items: T[],
  { key, desc }: { key: string | null; desc: boolean },
  value: (item: T, key: string) => unknown,
): T[] {
  if (!key) return items;
  const sign = desc ? -1 : 1;
  return [...items].sort((a, b) => {
    const x = value(a, key), y = value(b, key);
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return sign *
      (typeof x === "number" && typeof y === "number"
        ? x - y
        : String(x).localeCompare(String(y)));
  });
}

/** The rows sorted by a column (missing values last). */
export const sorted = (
  rows: Row[],
  sort: { key: string | null; desc: boolean },
): Row[] => sortBy(rows, sort, (r, k) => r[k]);

const NUMERIC = new Set([
  "seed",
  "train_ppl",
  "val_ppl",
  "best_val_ppl",
  "tokens_per_sec",
]);

/** What a table cell shows of a value. */
function shown(r: Row, k: string): string {
  const v = r[k];
  if (k === "tokens_per_sec") {
    return typeof v === "number" ? Math.round(v).toLocaleString("en-US") : "–";
  }
  if (k.endsWith("_ppl")) return num(v as number | null);
  return v === null || v === undefined ? "–" : String(v);
}

/** What the table does when a header, box or status is clicked. */
export interface TableActions {
  /** The sort changed: draw the table again. */
  redraw(): void;
  /** The picked cells changed: draw the curves again. */
  replot(): void;
  /** Show a cell's texts and environment. */
  detail(id: string): void;
}

/** The table of `rows`, its headers titled with the keys' help. */
export function renderTable(
  view: ExperimentView,
  rows: Row[],
  act: TableActions,
): HTMLElement {
  const columns = view.columns;
  const head = h(
    "tr",
    {},
    h("th", { title: "draw its curves" }, "plot"),
    h("th", { title: "tick two to diff them" }, "diff"),
    columns.map((k) =>
      h(
        "th",
        {
          class: state.sort.key === k
            ? `sorted${state.sort.desc ? " desc" : ""}`
            : "",
          title: view.keys[k] ?? "",
          onclick: () => {
            state.sort = state.sort.key === k
              ? { key: k, desc: !state.sort.desc }
              : { key: k, desc: false };
            act.redraw();
          },
        },
        k,
      )
    ),
  );
  const body = rows.map((r) =>
    h(
      "tr",
      {
        class: [
          "cell",
          r._running ? "running" : "",
          r.status === "diverged" || r.blew_up_epoch != null ? "diverged" : "",
          state.detail === r._id ? "selected" : "",
        ].join(" ").trim(),
        "data-id": r._id,
      },
      h(
        "td",
        {},
        plotBox(state.picked.has(r._id), "draw its curves", (on) => {
          if (on) state.picked.add(r._id);
          else state.picked.delete(r._id);
          act.replot();
        }),
      ),
      h("td", {}, diffBox(r._id, act)),
      columns.map((k) =>
        h(
          "td",
          { class: [NUMERIC.has(k) ? "num" : "", k].join(" ").trim() },
          k === "status" && !r._running
            ? h(
              "a",
              {
                href: "#",
                onclick: (e: Event) => {
                  e.preventDefault();
                  act.detail(r._id);
                },
              },
              shown(r, k),
            )
            : shown(r, k),
        )
      ),
    )
  );
  return h(
    "table",
    { id: "cells" },
    h("thead", {}, head),
    h("tbody", {}, body),
  );
}

/** A group's metric as the table shows it: mean ± std, or the one value. */
function spreadText(k: string, s: Spread | null): string {
  if (!s) return "–";
  const f = (x: number) =>
    k === "tokens_per_sec" ? Math.round(x).toLocaleString("en-US") : num(x);
  return s.n > 1 ? `${f(s.mean)} ± ${f(s.std)}` : f(s.mean);
}

/** The groups sorted by a key or a metric's mean (missing values last). */
export const sortedGroups = (
  groups: Group[],
  sort: { key: string | null; desc: boolean },
): Group[] => sortBy(groups, sort, axisValue);

/** A "plot" box: `change` hears whether it is ticked now. */
function plotBox(
  checked: boolean,
  title: string,
  change: (on: boolean) => void,
): HTMLElement {
  return h("input", {
    type: "checkbox",
    title,
    checked,
    onchange: (e: Event) => change((e.target as HTMLInputElement).checked),
  });
}

/** A "diff" box: ticks `id` for the diff (the oldest of two ticked goes). */
function diffBox(id: string, act: TableActions): HTMLElement {
  return h("input", {
    type: "checkbox",
    title: "diff: tick two",
    checked: state.diff.includes(id),
    onchange: (e: Event) => {
      state.diff = (e.target as HTMLInputElement).checked
        ? [...state.diff.filter((d) => d !== id), id].slice(-2)
        : state.diff.filter((d) => d !== id);
      act.redraw();
    },
  });
}

/**
 * The table of grid points: a row per point with n and each metric's mean
 * ± std over its seeds, ▸ opening its seeds' rows below it.
 */
export function renderGroupTable(
  view: ExperimentView,
  groups: Group[],
  act: TableActions,
): HTMLElement {
  const keys = pointKeys(view);
  const columns = [...keys, "n", ...METRICS, "diverged"];
  const cellColumns = view.columns;
  const header = (k: string) =>
    h(
      "th",
      {
        class: state.sort.key === k
          ? `sorted${state.sort.desc ? " desc" : ""}`
          : "",
        title: view.keys[k] ??
          (k === "n" ? "cells (seeds)" : "mean ± std over seeds"),
        onclick: () => {
          state.sort = state.sort.key === k
            ? { key: k, desc: !state.sort.desc }
            : { key: k, desc: false };
          act.redraw();
        },
      },
      k,
    );
  const body = sortedGroups(groups, state.sort).flatMap((g) => {
    const open = state.expanded.has(g.label);
    const row = h(
      "tr",
      {
        class: ["group", g.diverged ? "diverged" : ""].join(" ").trim(),
        "data-point": g.label,
      },
      h(
        "td",
        {},
        h("a", {
          href: "#",
          class: "expand",
          title: open ? "hide its seeds" : "show its seeds",
          onclick: (e: Event) => {
            e.preventDefault();
            if (open) state.expanded.delete(g.label);
            else state.expanded.add(g.label);
            act.redraw();
          },
        }, open ? "▾" : "▸"),
      ),
      h(
        "td",
        {},
        plotBox(!state.hidden.has(g.label), "draw its curve", (on) => {
          if (on) state.hidden.delete(g.label);
          else state.hidden.add(g.label);
          act.replot();
        }),
      ),
      h("td", {}, diffBox(g.label, act)),
      keys.map((k) => h("td", { class: k }, String(g.point[k] ?? "–"))),
      h("td", { class: "num n" }, String(g.rows.length)),
      METRICS.map((k) =>
        h("td", { class: `num ${k}` }, spreadText(k, g.metrics[k]))
      ),
      h("td", { class: "num diverged" }, `${g.diverged}/${g.rows.length}`),
    );
    const seeds = open
      ? g.rows.map((r) =>
        h(
          "tr",
          { class: "seed cell", "data-id": r._id },
          h("td", {}),
          h("td", {}),
          h("td", {}, diffBox(r._id, act)),
          h(
            "td",
            { colspan: columns.length },
            cellColumns.filter((k) => !keys.includes(k)).map((k) =>
              h(
                "span",
                { class: `kv ${k}` },
                `${k} `,
                k === "status" && !r._running
                  ? h("a", {
                    href: "#",
                    onclick: (e: Event) => {
                      e.preventDefault();
                      act.detail(r._id);
                    },
                  }, shown(r, k))
                  : shown(r, k),
              )
            ),
          ),
        )
      )
      : [];
    return [row, ...seeds];
  });
  return h(
    "table",
    { id: "cells", class: "grouped" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { title: "its seeds" }, ""),
        h("th", { title: "draw its curve" }, "plot"),
        h("th", { title: "tick two to diff them" }, "diff"),
        columns.map(header),
      ),
    ),
    h("tbody", {}, body),
  );
}

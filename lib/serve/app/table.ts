/// <reference lib="dom" />
/**
 * An experiment's table of cells: a row per stored cell and per running
 * one, sortable by any column, filtered by `key=value` terms or words,
 * each row's "plot" box picking the cells whose curves are drawn.
 *
 * @module
 */
import type { ExperimentView } from "../data.ts";
import { h, num, pointLabel, state } from "./dom.ts";

/** One row: its columns' values, and (under `_` names) what the charts and links need. */
export type Row = Record<string, unknown> & {
  _id: string;
  _label: string;
  _train: number[];
  _val: [number, number][];
  _running: boolean;
};

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
    computed_on: c.computed_on,
    _id: c.id,
    _label: `${pointLabel(c.point)} seed=${c.seed}`,
    _train: c.train,
    _val: c.val,
    _running: false,
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
    computed_on: null,
    _id: c.id,
    _label: `${pointLabel(c.point)} seed=${c.seed} (running)`,
    _train: c.train_ppl,
    _val: c.val_ppl.map((v) => [v.epoch, v.ppl]),
    _running: true,
  }));
  return [...stored, ...running];
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

/** The rows sorted by a column (missing values last). */
export function sorted(
  rows: Row[],
  { key, desc }: { key: string | null; desc: boolean },
): Row[] {
  if (!key) return rows;
  const sign = desc ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[key], y = b[key];
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return sign *
      (typeof x === "number" && typeof y === "number"
        ? x - y
        : String(x).localeCompare(String(y)));
  });
}

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
        h("input", {
          type: "checkbox",
          checked: state.picked.has(r._id),
          onchange: (e: Event) => {
            if ((e.target as HTMLInputElement).checked) {
              state.picked.add(r._id);
            } else state.picked.delete(r._id);
            act.replot();
          },
        }),
      ),
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

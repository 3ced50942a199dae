/// <reference lib="dom" />
/**
 * Parallel coordinates: one axis per key of the grid and one per metric,
 * a line per grid point (or per cell); dragging along an axis brushes a
 * range (or the categories it covers), and the table and the curves keep
 * only what every brush holds. A click on an axis without dragging clears
 * its brush. Drawn as plain SVG, so the exported report draws it offline.
 *
 * @module
 */
import type { ExperimentView } from "../data.ts";
import { state } from "./dom.ts";
import { type Group, groupRows, METRICS, palette } from "./groups.ts";
import {
  axisValue,
  brushed,
  filtered,
  pointKeys,
  type Row,
  rowsOf,
} from "./table.ts";

const SVG = "http://www.w3.org/2000/svg";
const W = 1100, H = 300, TOP = 36, BOTTOM = 24;

/** An SVG element with attributes. */
function s(
  tag: string,
  attrs: Record<string, string | number> = {},
): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** One axis: where it stands, and how a value maps to a height and back. */
interface Axis {
  name: string;
  x: number;
  /** Numbers (perplexities on a log scale) or categories. */
  kind: "log" | "linear" | "ordinal";
  categories: string[];
  lo: number;
  hi: number;
  /** Whether values above `hi` are drawn at the top (the axis stops). */
  stopped: boolean;
}

const y0 = TOP, y1 = H - BOTTOM;

/** The height of `v` on axis `a` (null: no value). */
function yOf(a: Axis, v: unknown): number | null {
  if (a.kind === "ordinal") {
    const i = a.categories.indexOf(String(v));
    if (i < 0) return null;
    return a.categories.length === 1
      ? (y0 + y1) / 2
      : y1 - (i / (a.categories.length - 1)) * (y1 - y0);
  }
  if (typeof v !== "number" || !Number.isFinite(v)) return null;
  const f = (x: number) => a.kind === "log" ? Math.log(x) : x;
  const span = f(a.hi) - f(a.lo);
  // Past the axis's top (a blow-up, when the axis stops there): at the top.
  return span === 0
    ? (y0 + y1) / 2
    : y1 - Math.min(1, (f(v) - f(a.lo)) / span) * (y1 - y0);
}

/** The value at height `y` on a numeric axis. */
function valueAt(a: Axis, y: number): number {
  const t = Math.min(1, Math.max(0, (y1 - y) / (y1 - y0)));
  return a.kind === "log"
    ? Math.exp(Math.log(a.lo) + t * (Math.log(a.hi) - Math.log(a.lo)))
    : a.lo + t * (a.hi - a.lo);
}

/** The axes for `items`: the keys, then the metrics. */
function axesOf(
  items: (Row | Group)[],
  keys: string[],
  ceiling: number | null,
): Axis[] {
  const names = [...keys, ...METRICS];
  const step = (W - 120) / Math.max(1, names.length - 1);
  return names.map((name, i) => {
    const values = items.map((it) => axisValue(it, name)).filter((v) =>
      v !== null && v !== undefined
    );
    const numbers = values.every((v) => typeof v === "number");
    const xs = (values as number[]).filter((v) =>
      Number.isFinite(v) && (!name.endsWith("_ppl") || v > 0)
    );
    const kind = !numbers || values.length === 0
      ? "ordinal"
      : name.endsWith("_ppl")
      ? "log"
      : "linear";
    return {
      name,
      x: 60 + i * step,
      kind,
      categories: kind === "ordinal"
        ? [...new Set(values.map(String))].sort((a, b) =>
          a.localeCompare(b, "en", { numeric: true })
        )
        : [],
      lo: xs.length ? Math.min(...xs) : 0,
      // Perplexities stop where the curves' axis does, so that a run that
      // blew up does not flatten the others.
      hi: xs.length
        ? Math.max(
          Math.min(...xs),
          Math.min(
            Math.max(...xs),
            name.endsWith("_ppl") && ceiling ? ceiling : Infinity,
          ),
        )
        : 1,
      stopped: name.endsWith("_ppl") && ceiling !== null &&
        xs.some((x) => x > ceiling),
    };
  });
}

const fmt = (x: number) =>
  Math.abs(x) >= 1e5 ? x.toExponential(1) : Number(x.toPrecision(3)).toString();

/**
 * Draws the parallel coordinates of what the filter keeps into `el`;
 * `changed` runs when a brush changes (the table and curves follow).
 */
export function renderParallel(
  view: ExperimentView,
  el: HTMLElement,
  changed: () => void,
): void {
  const keys = pointKeys(view);
  const rows = filtered(rowsOf(view), state.filter);
  const items: (Row | Group)[] = state.grouped
    ? groupRows(rows, keys, view.vocab_size)
    : rows;
  const axes = axesOf(
    items,
    keys,
    state.clamp && view.vocab_size ? 2 * view.vocab_size : null,
  );
  const svg = s("svg", {
    viewBox: `0 0 ${W} ${H}`,
    width: "100%",
    class: "parallel",
    role: "img",
    "aria-label": "parallel coordinates",
  });
  const colours = palette(items.length);
  items.forEach((it, i) => {
    const points = axes.map((a) => {
      const y = yOf(a, axisValue(it, a.name));
      return y === null ? null : `${a.x},${y.toFixed(1)}`;
    });
    const kept = brushed(it);
    const label = "_id" in it ? (it as Row)._label : (it as Group).label;
    const line = s("polyline", {
      points: points.filter(Boolean).join(" "),
      fill: "none",
      stroke: kept ? colours[i] : "#ccd",
      "stroke-width": kept ? 1.8 : 1,
      opacity: kept ? 0.9 : 0.35,
      class: kept ? "line kept" : "line",
    });
    const title = s("title");
    title.textContent = label;
    line.append(title);
    svg.append(line);
  });
  for (const a of axes) {
    const g = s("g", { class: "axis", "data-axis": a.name });
    g.append(s("line", { x1: a.x, x2: a.x, y1: y0, y2: y1, stroke: "#556" }));
    const name = s("text", {
      x: a.x,
      y: TOP - 14,
      "text-anchor": "middle",
      "font-size": 12,
      "font-weight": 600,
    });
    name.textContent = a.name;
    g.append(name);
    const ticks = a.kind === "ordinal"
      ? a.categories.map((c) => [c, yOf(a, c)!] as const)
      : [[
        `${fmt(a.hi)}${a.stopped ? "+" : ""}`,
        y0,
      ], [fmt(a.lo), y1]] as const;
    for (const [text, y] of ticks) {
      const t = s("text", {
        x: a.x + 5,
        y: y + 4,
        "font-size": 11,
        fill: "#445",
      });
      t.textContent = text;
      g.append(t);
    }
    const b = state.brush[a.name];
    if (b) {
      const ys = "values" in b
        ? b.values.map((v) => yOf(a, v)!).filter((y) => y !== null)
        : [yOf(a, b.hi)!, yOf(a, b.lo)!];
      if (ys.length) {
        g.append(s("rect", {
          x: a.x - 8,
          y: Math.min(...ys) - 4,
          width: 16,
          height: Math.max(...ys) - Math.min(...ys) + 8,
          fill: "#2456c8",
          opacity: 0.25,
          class: "brush",
        }));
      }
    }
    // The axis's hit area: drag to brush, click to clear.
    const hit = s("rect", {
      x: a.x - 12,
      y: y0 - 6,
      width: 24,
      height: y1 - y0 + 12,
      fill: "transparent",
      style: "cursor: ns-resize",
      class: "hit",
    });
    hit.addEventListener("pointerdown", (e) => {
      const start = svgY(svg, e as PointerEvent);
      (hit as SVGElement).setPointerCapture((e as PointerEvent).pointerId);
      const up = (u: Event) => {
        hit.removeEventListener("pointerup", up);
        const end = svgY(svg, u as PointerEvent);
        const [top, bottom] = [Math.min(start, end), Math.max(start, end)];
        if (bottom - top < 3) delete state.brush[a.name];
        else if (a.kind === "ordinal") {
          const values = a.categories.filter((c) => {
            const y = yOf(a, c)!;
            return y >= top - 4 && y <= bottom + 4;
          });
          if (values.length) state.brush[a.name] = { values };
          else delete state.brush[a.name];
        } else {
          state.brush[a.name] = { lo: valueAt(a, bottom), hi: valueAt(a, top) };
        }
        changed();
      };
      hit.addEventListener("pointerup", up);
    });
    g.append(hit);
    svg.append(g);
  }
  const kept = items.filter(brushed).length;
  const brushes = Object.keys(state.brush);
  const note = document.createElement("p");
  note.className = "meta";
  note.id = "brushed";
  note.textContent = brushes.length
    ? `${kept} of ${items.length} ${
      state.grouped ? "grid points" : "cells"
    } within the brushes on ${
      brushes.join(", ")
    } (click an axis to clear its brush)`
    : `${items.length} ${
      state.grouped ? "grid points" : "cells"
    }; drag along an axis to keep a range`;
  el.replaceChildren(svg, note);
}

/** The pointer's height in the SVG's coordinates. */
function svgY(svg: SVGElement, e: PointerEvent): number {
  const box = svg.getBoundingClientRect();
  return ((e.clientY - box.top) / box.height) * H;
}

/// <reference lib="dom" />
/**
 * The page's plumbing: elements from tags and attributes, views fetched
 * with the server's state they were read at, the one event stream a page
 * listens to, and the shared state of what is shown.
 *
 * @module
 */
import type { ExperimentView } from "../data.ts";

/** A brush on one axis: a range of numbers, or the categories it covers. */
export type Brush = { lo: number; hi: number } | { values: string[] };

/** What the page shows now. */
export const state = {
  events: null as EventSource | null,
  listening: null as string | null,
  /** Views asked for so far: a view loaded after a newer one was asked for is not drawn. */
  shown: 0,
  view: null as ExperimentView | null,
  dir: null as string | null,
  sort: { key: null as string | null, desc: false },
  filter: "",
  picked: new Set<string>(),
  /** One row and one line per grid point over its seeds (else per cell). */
  grouped: true,
  /** The key whose values colour the lines (null: a colour per grid point). */
  colour: null as string | null,
  /** The key whose values split the curves into small multiples (null: one figure). */
  facet: null as string | null,
  /** Grid points whose lines are not drawn. */
  hidden: new Set<string>(),
  /** Grid points whose seeds are shown in the table. */
  expanded: new Set<string>(),
  /** The parallel coordinates' brushes: an axis's range, or its categories. */
  brush: {} as Record<string, Brush>,
  /** The cells or grid points ticked to diff (at most two). */
  diff: [] as string[],
  /** A report opened from its file: the view is in the page, nothing is fetched. */
  offline: false,
  log: true,
  clamp: true,
  detail: null as string | null,
  here: null as AbortController | null,
};

/** The page's main element. */
export const main = document.getElementById("main")!;

type Child = Node | string | number | null | undefined | false | Child[];

/** An element with attributes and children (strings become text; `on…` attributes are listeners). */
export function h(
  tag: string,
  attrs: Record<string, unknown> = {},
  ...children: Child[]
): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v as EventListener);
    else if (k === "class") el.className = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of (children as unknown[]).flat(Infinity)) {
    if (c !== null && c !== undefined && c !== false) {
      el.append(c instanceof Node ? c : String(c));
    }
  }
  return el;
}

/** A view and the server's state it was read at (for {@linkcode listen}). */
export async function getView<T>(
  url: string,
): Promise<{ body: T; since: string | null }> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return { body: await res.json(), since: res.headers.get("rnnlab-state") };
}

/** A JSON view. */
export async function getJSON<T>(url: string): Promise<T> {
  return (await getView<T>(url)).body;
}

/**
 * Listens for changes of `dir` (or of every directory) since the state
 * `since` of the view shown: `onChange` runs on each. One stream per
 * page: a redraw of the same page keeps it.
 */
export function listen(
  dir: string | undefined,
  since: string | null,
  onChange: () => void,
): void {
  const key = dir === undefined ? "" : `dir=${encodeURIComponent(dir)}`;
  if (state.events && state.listening === key) return;
  state.events?.close();
  const params = [key, since ? `since=${since}` : ""].filter(Boolean);
  const es = new EventSource(`/api/events?${params.join("&")}`);
  es.addEventListener("change", () => onChange());
  state.events = es;
  state.listening = key;
}

/** A number as the tables show it. */
export const num = (x: number | null | undefined, digits = 2): string =>
  x === null || x === undefined
    ? "–"
    : Math.abs(x) >= 1e6
    ? x.toExponential(2)
    : x.toFixed(digits);

/** The page when a view cannot be loaded. */
export function showError(e: Error): void {
  main.replaceChildren(h("p", { class: "error" }, `Cannot load: ${e.message}`));
}

/** The "● live" mark in the header: a grid is running into what is shown. */
export function setLive(on: boolean): void {
  document.getElementById("live")!.hidden = !on;
}

/// <reference lib="dom" />
/**
 * The page of `deno task serve`: an index of the results directories, and
 * per directory a sortable, filterable table of its cells, their
 * perplexity curves (log or linear, picked cells overlaid), each cell's
 * generated text and environment, and the cells a runner trains into it
 * now, redrawn as the server says something changed (server-sent events).
 * Bundled for the browser as `app.js` (`deno task app`).
 *
 * @module
 */
import type { ExperimentView } from "../data.ts";
import { getView, h, listen, main, setLive, showError, state } from "./dom.ts";
import { showIndex } from "./home.ts";
import {
  pointKeys,
  renderGroupTable,
  renderTable,
  rowsOf,
  sorted,
  visibleGroups,
  visibleRows,
} from "./table.ts";
import { chartToggle, renderCharts } from "./charts.ts";
import { showDetail } from "./detail.ts";
import { renderParallel } from "./parallel.ts";
import { diffHref, renderDiff } from "./diff.ts";

/** The view embedded in an exported report (`deno task report NAME --html FILE`), if this page is one. */
const EMBEDDED = (globalThis as { RNNLAB_VIEW?: ExperimentView }).RNNLAB_VIEW;
state.offline = EMBEDDED !== undefined;

/** Draws the table, the parallel coordinates and the diff link again (sort, filter, brush or data changed). */
function renderExperiment(): void {
  const view = state.view!;
  const act = {
    redraw: renderExperiment,
    replot: () => renderCharts(view),
    detail: showDetail,
  };
  const table = document.getElementById("cells");
  const total = view.cells.length + view.running.length;
  let next: HTMLElement, count: string;
  if (state.grouped) {
    const groups = visibleGroups(view);
    next = renderGroupTable(view, groups, act);
    count = `${groups.length} grid points (${
      groups.reduce((n, g) => n + g.rows.length, 0)
    } of ${total} cells) shown`;
  } else {
    const rows = sorted(visibleRows(view), state.sort);
    next = renderTable(view, rows, act);
    count = `${rows.length} of ${total} cells shown`;
  }
  if (table) table.replaceWith(next);
  document.getElementById("count")!.textContent = count;
  const link = document.getElementById("diff-link")!;
  link.replaceChildren(
    state.diff.length === 2
      ? h(
        "a",
        { href: diffHref(view.dir, state.diff[0], state.diff[1]) },
        "diff the two ticked →",
      )
      : `tick “diff” on two rows to compare them (${state.diff.length} ticked)`,
  );
  const parallel = document.getElementById("parallel");
  if (parallel) {
    renderParallel(view, parallel, () => {
      renderExperiment();
      renderCharts(view);
    });
  }
}

/** A select of the view's keys for the charts' setting `state[key]`. */
function keySelect(
  view: ExperimentView,
  key: "colour" | "facet",
  none: string,
): HTMLElement {
  return h(
    "select",
    {
      id: key,
      onchange: (e: Event) => {
        const v = (e.target as HTMLSelectElement).value;
        state[key] = v === "" ? null : v;
        renderCharts(view);
      },
    },
    h("option", { value: "" }, none),
    pointKeys(view).map((k) =>
      h("option", { value: k, selected: state[key] === k }, k)
    ),
  );
}

/** Fetches directory `dir`'s view, or (an exported report) takes the one in the page. */
async function loadView(
  dir: string,
): Promise<{ body: ExperimentView; since: string | null }> {
  if (EMBEDDED) return { body: EMBEDDED, since: null };
  return await getView<ExperimentView>(
    `/api/experiment?dir=${encodeURIComponent(dir)}`,
  );
}

/** Draws the diff of `a` and `b` of directory `dir`. */
async function showDiff(dir: string, a: string, b: string): Promise<void> {
  const shown = ++state.shown;
  const { body: view } = await loadView(dir);
  if (shown !== state.shown) return;
  state.dir = null;
  document.title = `diff — ${dir} — rnnlab`;
  const panel = h("div", { id: "diff" });
  main.replaceChildren(
    h(
      "p",
      {},
      h("a", { href: `#/exp/${encodeURIComponent(dir)}` }, `← ${dir}`),
    ),
    h("h1", {}, "Diff"),
    h("p", { class: "meta" }, `A: ${a}`, h("br"), `B: ${b}`),
    panel,
  );
  await renderDiff(view, a, b, panel);
}

/** Draws results directory `dir`, and listens for its changes. */
async function showExperiment(dir: string): Promise<void> {
  const shown = ++state.shown;
  const { body: view, since } = await loadView(dir);
  if (shown !== state.shown) return;
  const fresh = state.dir !== dir;
  state.dir = dir;
  state.view = view;
  setLive(view.running.length > 0);
  if (!fresh) {
    // A change: cells that started since are drawn too, and only the
    // table and the curves are drawn again (the filter keeps its focus).
    for (const c of view.running) state.picked.add(c.id);
    renderExperiment();
    await renderCharts(view);
    return;
  }
  state.sort = { key: null, desc: false };
  state.filter = "";
  state.detail = null;
  state.brush = {};
  state.diff = [];
  state.hidden = new Set();
  state.expanded = new Set();
  // Every cell drawn, up to 24; pick others in the table.
  state.picked = new Set(rowsOf(view).slice(0, 24).map((r) => r._id));
  document.title = `${dir} — rnnlab`;
  const spec = view.spec;
  main.replaceChildren(
    ...[
      EMBEDDED ? null : h("p", {}, h("a", { href: "#/" }, "← all experiments")),
      h("h1", {}, dir),
      spec.exercises.map((e) => h("blockquote", {}, e)),
      h("p", {}, spec.description),
      h("pre", {}, view.command),
      spec.reading ? h("p", {}, h("b", {}, "Reading. "), spec.reading) : null,
      view.rejected.length
        ? h(
          "p",
          { class: "error" },
          view.rejected.map((r) => `${r.file} is not a valid cell: ${r.reason}`)
            .join("; "),
        )
        : null,
      h("h2", {}, "Perplexity"),
      h(
        "div",
        { class: "controls" },
        h(
          "label",
          { title: "one row and one line (mean ± std) per grid point" },
          h("input", {
            type: "checkbox",
            id: "grouped",
            checked: state.grouped,
            onchange: (e: Event) => {
              state.grouped = (e.target as HTMLInputElement).checked;
              state.sort = { key: null, desc: false };
              renderExperiment();
              renderCharts(view);
            },
          }),
          " group seeds",
        ),
        h("label", {}, "colour by ", keySelect(view, "colour", "grid point")),
        h("label", {}, "split by ", keySelect(view, "facet", "nothing")),
        chartToggle("log", " log scale"),
        view.vocab_size
          ? chartToggle(
            "clamp",
            ` stop the axis at ${2 * view.vocab_size} (twice the vocabulary)`,
            "runs that blow up leave the plot there, so they hide no other",
          )
          : null,
        h(
          "span",
          { class: "meta" },
          "hover a line for its values; tick “plot” to overlay cells",
        ),
      ),
      h(
        "div",
        { class: "charts" },
        h("div", { class: "chart", id: "chart-train" }),
        h("div", { class: "chart", id: "chart-val" }),
      ),
      h("h2", {}, "Parallel coordinates"),
      h("div", { id: "parallel" }),
      h("h2", {}, "Cells"),
      h(
        "div",
        { class: "controls" },
        h("input", {
          type: "search",
          id: "filter",
          placeholder: "filter: clip=off relu …",
          value: state.filter,
          oninput: (e: Event) => {
            state.filter = (e.target as HTMLInputElement).value;
            renderExperiment();
          },
        }),
        h("span", { class: "meta", id: "count" }),
        h("span", { class: "meta", id: "diff-link" }),
      ),
      h("table", { id: "cells" }),
      h(
        "div",
        { class: "detail", id: "detail" },
        h(
          "p",
          { class: "meta" },
          "Click a cell's status for its generated text and environment.",
        ),
      ),
    ].flat().filter((e) => e !== null),
  );
  renderExperiment();
  await renderCharts(view);
  if (state.detail) await showDetail(state.detail);
  if (shown === state.shown && !EMBEDDED) {
    listen(dir, since, () => showExperiment(dir).catch(showError));
  }
}

async function route(): Promise<void> {
  const hash = location.hash || "#/";
  try {
    if (hash.startsWith("#/diff/")) {
      const [dir, a, b] = hash.slice("#/diff/".length).split("/").map(
        decodeURIComponent,
      );
      await showDiff(dir, a, b);
    } else if (hash.startsWith("#/exp/")) {
      await showExperiment(decodeURIComponent(hash.slice("#/exp/".length)));
    } else if (EMBEDDED) {
      await showExperiment(EMBEDDED.dir);
    } else {
      await showIndex();
    }
  } catch (e) {
    showError(e as Error);
  }
}

globalThis.addEventListener("hashchange", () => {
  state.dir = null;
  route();
});
route();

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
import { filtered, renderTable, rowsOf, sorted } from "./table.ts";
import { chartToggle, renderCharts } from "./charts.ts";
import { showDetail } from "./detail.ts";

/** Draws the table of the experiment shown again (sort, filter or data changed). */
function renderExperiment(): void {
  const view = state.view!;
  const rows = sorted(filtered(rowsOf(view), state.filter), state.sort);
  const table = document.getElementById("cells");
  const next = renderTable(view, rows, {
    redraw: renderExperiment,
    replot: () => renderCharts(view),
    detail: showDetail,
  });
  if (table) table.replaceWith(next);
  document.getElementById("count")!.textContent = `${rows.length} of ${
    view.cells.length + view.running.length
  } cells shown`;
}

/** Draws results directory `dir`, and listens for its changes. */
async function showExperiment(dir: string): Promise<void> {
  const shown = ++state.shown;
  const { body: view, since } = await getView<ExperimentView>(
    `/api/experiment?dir=${encodeURIComponent(dir)}`,
  );
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
  // Every cell drawn, up to 24; pick others in the table.
  state.picked = new Set(rowsOf(view).slice(0, 24).map((r) => r._id));
  document.title = `${dir} — rnnlab`;
  const spec = view.spec;
  main.replaceChildren(
    ...[
      h("p", {}, h("a", { href: "#/" }, "← all experiments")),
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
  if (shown === state.shown) {
    listen(dir, since, () => showExperiment(dir).catch(showError));
  }
}

async function route(): Promise<void> {
  const hash = location.hash || "#/";
  try {
    if (hash.startsWith("#/exp/")) {
      await showExperiment(decodeURIComponent(hash.slice("#/exp/".length)));
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

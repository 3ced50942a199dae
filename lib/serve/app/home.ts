/// <reference lib="dom" />
/**
 * The index: every results directory, with its exercises, description,
 * reading, and how many of its cells are stored, running or not valid.
 *
 * @module
 */
import type { DirSummary } from "../data.ts";
import { getView, h, listen, main, setLive, showError, state } from "./dom.ts";

/** Draws the index, and listens for changes of any directory. */
export async function showIndex(): Promise<void> {
  const shown = ++state.shown;
  const { body: list, since } = await getView<DirSummary[]>(
    "/api/experiments",
  );
  if (shown !== state.shown) return;
  state.dir = null;
  document.title = "rnnlab results";
  setLive(list.some((d) => d.running > 0));
  main.replaceChildren(
    h("h1", {}, "Experiments"),
    h(
      "p",
      { class: "meta" },
      `${list.length} results directories; each answers exercises of the chapter with a grid of cells (runs).`,
    ),
    h(
      "div",
      { class: "cards", id: "experiments" },
      list.map((d) =>
        h(
          "div",
          { class: "card experiment", "data-dir": d.dir },
          h(
            "h2",
            {},
            h("a", { href: `#/exp/${encodeURIComponent(d.dir)}` }, d.dir),
          ),
          d.exercises.map((e) => h("blockquote", {}, e)),
          h("p", {}, d.description),
          h(
            "p",
            { class: "meta" },
            `${d.stored}${
              d.planned === null ? "" : ` of ${d.planned}`
            } cells stored `,
            d.running
              ? h("span", { class: "badge" }, `${d.running} running`)
              : null,
            d.rejected
              ? h("span", { class: "badge bad" }, `${d.rejected} not valid`)
              : null,
          ),
          d.reading ? h("p", {}, h("b", {}, "Reading. "), d.reading) : null,
        )
      ),
    ),
  );
  listen(undefined, since, () => showIndex().catch(showError));
}

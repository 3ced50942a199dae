/// <reference lib="dom" />
/**
 * One cell in full: its generated texts with their scores, the
 * environment it ran in, "train it again here", and its config.
 *
 * @module
 */
import type { CellRecord } from "../../experiment/cell.ts";
import { getJSON, h, state } from "./dom.ts";
import { pointLabel } from "./groups.ts";
import { herePanel } from "./here.ts";

/** Shows cell `id` of the experiment shown in the detail panel. */
export async function showDetail(id: string): Promise<void> {
  state.detail = id;
  const panel = document.getElementById("detail")!;
  if (state.offline) {
    panel.replaceChildren(
      h(
        "p",
        { class: "meta" },
        `Cell ${id}: its texts and environment are in its results directory (deno task serve); an exported report holds the numbers and curves.`,
      ),
    );
    return;
  }
  try {
    const c = await getJSON<CellRecord>(
      `/api/cell?dir=${encodeURIComponent(state.dir!)}&id=${
        encodeURIComponent(id)
      }`,
    );
    const env: Record<string, unknown> = { ...c.env };
    const adapter = c.env?.adapter;
    panel.replaceChildren(
      h("h2", {}, `Cell ${c.id}`),
      h(
        "p",
        { class: "meta" },
        `${
          pointLabel(c.point)
        } seed=${c.config.seed}, ${c.status}, ${c.engine}`,
      ),
      h("h3", {}, "Generated text"),
      c.samples.length
        ? h(
          "table",
          { id: "samples" },
          h(
            "tr",
            {},
            ["prefix", "decoding", "α", "mean log-prob", "text"].map((k) =>
              h("th", {}, k)
            ),
          ),
          c.samples.map((s) =>
            h(
              "tr",
              {},
              h("td", {}, s.prefix),
              h("td", {}, s.decoding),
              h("td", {}, s.alpha ?? "–"),
              h(
                "td",
                { class: "num" },
                s.mean_log_prob === undefined
                  ? "–"
                  : s.mean_log_prob.toFixed(3),
              ),
              h("td", {}, h("code", {}, s.text)),
            )
          ),
        )
        : h("p", { class: "meta" }, "none (it did not finish)"),
      h("h3", {}, "Environment"),
      h(
        "table",
        { id: "environment" },
        Object.entries({
          ...Object.fromEntries(
            Object.entries(env).filter(([k]) => k !== "adapter"),
          ),
          adapter: adapter ? (adapter.description || adapter.vendor) : null,
          corpus: `${c.corpus.name} (SHA-1 ${c.corpus.sha1})`,
          reused_from: c.reused_from ?? null,
        }).map(([k, v]) =>
          h(
            "tr",
            {},
            h("th", {}, k),
            h("td", {}, v === null || v === undefined ? "–" : String(v)),
          )
        ),
      ),
      ...herePanel(c),
      h("h3", {}, "Config"),
      h("pre", {}, JSON.stringify(c.config, null, 2)),
    );
    document.querySelectorAll<HTMLElement>("tr.cell").forEach((tr) =>
      tr.classList.toggle("selected", tr.dataset.id === id)
    );
  } catch (e) {
    panel.replaceChildren(
      h(
        "p",
        { class: "error" },
        `Cannot load cell ${id}: ${(e as Error).message}`,
      ),
    );
  }
}

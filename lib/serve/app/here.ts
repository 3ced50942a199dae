/// <reference lib="dom" />
/**
 * "Train it again here": a cell trained again in this browser by the
 * fused engine's kernels (`trainer.ts`, loaded only when asked for), its
 * first epochs drawn and tabled beside the stored ones.
 *
 * @module
 */
import type { CellRecord } from "../../experiment/cell.ts";
import type { EpochLog } from "../../train/result.ts";
import type * as Trainer from "./trainer.ts";
import { getJSON, h, num, state } from "./dom.ts";
import { draw } from "./charts.ts";

/** The panel's controls and where its curve and table go. */
export function herePanel(c: CellRecord): HTMLElement[] {
  return [
    h("h3", {}, "Train it again here"),
    h(
      "p",
      { class: "meta" },
      "The fused engine's kernels on this browser's WebGPU, from the cell's seed: its first epochs beside the stored ones (another adapter rounds differently, so expect small differences).",
    ),
    h(
      "div",
      { class: "controls" },
      h(
        "label",
        { title: "epochs to train (of the cell's num_epochs)" },
        "epochs ",
        h("input", {
          type: "number",
          id: "here-epochs",
          min: 1,
          max: c.config.num_epochs,
          value: Math.min(5, c.config.num_epochs),
        }),
      ),
      h(
        "button",
        { id: "train-here", onclick: () => trainInBrowser(c) },
        "train here",
      ),
      h(
        "button",
        { id: "stop-here", onclick: () => state.here?.abort() },
        "stop",
      ),
      h("span", { class: "meta", id: "here-status" }),
    ),
    h("div", { class: "chart", id: "here-chart" }),
    h("table", { id: "here-table" }),
  ];
}

/** The stored and the new curve, and a row per epoch with their relative difference. */
async function drawHere(c: CellRecord, adapter: string, rows: EpochLog[]) {
  const values = rows.flatMap((r) => [
    { run: "stored", epoch: r.epoch, ppl: c.train_ppl[r.epoch - 1] },
    { run: `here (${adapter})`, epoch: r.epoch, ppl: r.train_ppl },
  ]).filter((v) => Number.isFinite(v.ppl) && v.ppl > 0);
  await draw("#here-chart", {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Training perplexity: stored and trained here",
    width: 420,
    height: 200,
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: {
        field: "epoch",
        type: "quantitative",
        axis: { format: "d", values: rows.map((r) => r.epoch) },
      },
      y: {
        field: "ppl",
        type: "quantitative",
        scale: { type: "log" },
        title: "perplexity",
      },
      color: { field: "run", type: "nominal", title: null },
      tooltip: [{ field: "run" }, { field: "epoch" }, {
        field: "ppl",
        format: ".6f",
      }],
    },
  });
  document.getElementById("here-table")!.replaceChildren(
    h(
      "tr",
      {},
      ["epoch", "stored", "here", "relative difference", "tokens/s here"]
        .map((k) => h("th", {}, k)),
    ),
    ...rows.map((r) => {
      const stored = c.train_ppl[r.epoch - 1];
      return h(
        "tr",
        { class: "here-epoch" },
        h("td", { class: "num" }, r.epoch),
        h("td", { class: "num" }, num(stored, 6)),
        h("td", { class: "num here-ppl" }, num(r.train_ppl, 6)),
        h(
          "td",
          { class: "num here-rel" },
          stored
            ? (Math.abs(r.train_ppl - stored) / stored).toExponential(1)
            : "–",
        ),
        h(
          "td",
          { class: "num" },
          Math.round(r.tokens_per_sec).toLocaleString("en-US"),
        ),
      );
    }),
  );
}

/** Trains cell `c` again in this browser and draws its curve beside the stored one. */
async function trainInBrowser(c: CellRecord): Promise<void> {
  const status = document.getElementById("here-status")!;
  const say = (text: string) => (status.textContent = text);
  state.here?.abort();
  const ac = new AbortController();
  state.here = ac;
  try {
    // The bundle of trainer.ts, served beside this one.
    const url = "/assets/trainer.js";
    const trainer: typeof Trainer = await import(url);
    const adapter = await trainer.adapterHere();
    if (!adapter) {
      say("This browser exposes no WebGPU adapter.");
      return;
    }
    const corpus = await getJSON<Trainer.CorpusHere>(
      `/api/corpus?dir=${encodeURIComponent(state.dir!)}&id=${c.id}`,
    ).catch(() => null);
    if (!corpus) {
      say(
        "Its book is not here to train on (a book rnnlab knows by name, in the data directory).",
      );
      return;
    }
    const input = document.getElementById("here-epochs") as HTMLInputElement;
    const epochs = Math.max(
      1,
      Math.min(c.config.num_epochs, Number(input.value) || 1),
    );
    const rows: EpochLog[] = [];
    say(`training on ${adapter}…`);
    await trainer.trainHere(c.config, corpus, epochs, (e) => {
      rows.push(e);
      say(`epoch ${e.epoch} of ${epochs} on ${adapter}`);
      drawHere(c, adapter, rows);
    }, ac.signal);
    await drawHere(c, adapter, rows);
    say(
      `${rows.length} epochs trained on ${adapter}${
        ac.signal.aborted ? " (stopped)" : ""
      }`,
    );
  } catch (e) {
    say(`Training here failed: ${(e as Error).message}`);
  }
}
